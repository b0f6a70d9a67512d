"""Ranking has one home: every ranked list of passages (`latent search`, the evidence of an answer, `eval --beir`)
comes from `rank` here, through `Index.rank`. In order:

1. Retrieval: exact dense scores and BM25 over the rows the filters admit (`vectorstore.search`), plus the
   thesaurus's document words embedded.
2. What the query names (a council, a year, a child, a kind of document) is a boost, never an exclusion, and inside
   the named documents the topic alone ranks their passages again (the names say nothing there). For a conditions
   question the named documents' latent-tagged passages join, surest tag first; a month named brings forward the
   passages dated in it.
3. Fusion by reciprocal rank (Cormack, Clarke & Buettcher 2009 need no score calibration between retrievers: a
   passage ranked 1st by one and 30th by the other scores 1/21 + 1/50 with our constant of 20); boilerplate
   demoted; the boosts added.
4. The reranker slot (`SearchSettings.reranker`; none yet).
5. For a latent-conditions question, each latent category is probed, so the evidence spans caseloads, turnover,
   oversight, systems… rather than the one condition the question's words favour.
6. Each hit is explained (`Hit.why`: the lists that found it, its boost, its probe) and measured against the query
   (cosine; for latent questions also against the summary of a latent category it is tagged with).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Literal

from vectorstore.councils import council_matches
from vectorstore.dates import months_named
from vectorstore.query import (
    CONDITIONS_QUESTION,
    Query,
    QueryHints,
    council_key,
    expand_for_lexical,
    read_query,
    read_query_hints,
    strip_named,
)
from vectorstore.records import DocumentInfo, Explanation, Hit, SearchFilters
from vectorstore.search import (
    RowValues,
    category_confidence,
    dense_ranking,
    document_codes,
    filter_mask,
    latent_confidence,
    lexical_ranking,
    lexical_scored,
    named_values,
    one_blas_thread,
    reading_order,
    rows_in_months,
    rows_of_documents,
    rows_stating_judgement,
    surest_first,
    years_of,
)
from vectorstore.sections import JUDGEMENT_ASKED, prescribes_or_frames
from vectorstore.taxonomy import Category, latent_categories

if TYPE_CHECKING:
    import numpy as np

    from vectorstore.cache import SearchCache
    from vectorstore.settings import SearchSettings
    from vectorstore.store import ChromaStore

# When a query names documents, the weight kept by its whole-query rankings against the named documents' own
# topic rankings (the names are shared by every passage there, so they only add noise to the order).
NAMED_GLOBAL_SHARE = 1.0
BOILERPLATE_WEIGHT = 0.25  # template text shared by many documents ranks below any finding of similar rank
# Asked what contributed to a death, the introduction ("the post-mortem gave the cause of death…", "the police
# investigation following Child M's death…") shares the question's words but states no condition: framing text
# ranks below findings of similar rank. (The tuned model ranked four such paragraphs of Child M's review above
# its ¶5.42 on restructure and budget cuts.)
FRAMING_WEIGHT = 0.5
# Weight of each named thing a passage's document matches: a council named in the query matters most.
# A kind named as the source ("what did Ofsted find") weighs like a council; a passing mention hardly at all.
BOOST = {"council": 0.6, "child": 0.6, "year": 0.3, "kind": 0.1, "speaker": 0.6}
PROBE_TAKE = 2  # passages per latent category (per document, when the filters name a few)
# With at most this many documents in scope (a review and the letters before it), each one's own passages are
# probed per category, surest tag first: a category's words find the passage that says "caseloads", while the
# tagger also knows "held between 30 and 50 children each". With more, each category is searched for.
PROBE_DOCUMENTS = 3

Method = Literal["hybrid", "dense", "lexical"]


@dataclass(frozen=True)
class RankRequest:
    """What to rank and how: the query, the filters, how many, and the options that change the ranking."""

    query: str | Query  # a str is read here (`read_query`); a `Query` the caller has read is not read again
    k: int = 10
    filters: SearchFilters = field(default_factory=SearchFilters)
    latent: bool = False  # a latent-conditions question: each latent category is probed, after the k best
    method: Method = "hybrid"  # "dense" and "lexical" alone are what `eval --beir` compares the hybrid with
    vector: np.ndarray | None = None  # the query's embedding, when the caller has it (a batch of queries)
    settings: SearchSettings | None = None  # other fusion settings (`eval --beir` tunes them); None: the index's


@dataclass(frozen=True)
class Corpus:
    """What ranking reads, as `Index` holds it at one moment: the search cache, the stored documents, the search
    settings, the Chroma store (for its own dense queries), and the model's encoders and identity."""

    cache: SearchCache
    docs: dict[str, DocumentInfo]
    settings: SearchSettings
    store: ChromaStore | None
    encode_query: Callable[[str], np.ndarray]
    encode: Callable[[list[str]], np.ndarray]
    embedding_id: str


# A ranked row before it becomes a Hit: (row, score, the lists that found it with its rank in each, its boost).
Ranked = tuple[int, float, tuple[tuple[str, int], ...], float]


def rank(corpus: Corpus, request: RankRequest) -> tuple[list[Hit], QueryHints | None]:
    """The ranked, explained hits for a request (best first; for a latent question, the probes follow the k
    best), and what the query named (None for a single retriever)."""
    query = request.query if isinstance(request.query, Query) else read_query(request.query)
    if not corpus.cache.passages:
        return [], None
    vector = request.vector if request.vector is not None and query.text == query.asked else \
        corpus.encode_query(query.text)
    ranked, hints = _ranked(corpus, query.text, vector, request)
    probes = category_probes(corpus) if request.latent else {}
    hits = _explained(corpus, vector, probes, ranked)
    settings = request.settings or corpus.settings
    if request.method == "hybrid" and settings.reranker != "none":
        from vectorstore.rerank import load_reranker

        hits = load_reranker(settings.reranker).rerank(query.text, hits)
    if request.latent:
        extra = _probes(corpus, request.filters, {r[0] for r in ranked})
        hits += _explained(corpus, vector, probes, [r for _, r in extra], [category for category, _ in extra])
    return hits, hints


def _ranked(corpus: Corpus, text: str, vector: np.ndarray, request: RankRequest,
            ) -> tuple[list[Ranked], QueryHints | None]:
    cache, docs = corpus.cache, corpus.docs
    if request.method == "dense":
        rows = dense_ranking(cache, vector, request.k, filter_mask(cache, docs, request.filters))
        with one_blas_thread():
            scores = [float(s) for s in cache.vectors[rows] @ vector] if rows else []
        return [(row, score, (("dense", r + 1),), 0.0) for r, (row, score) in enumerate(zip(rows, scores,
                                                                                          strict=True))], None
    if request.method == "lexical":
        scored = lexical_scored(cache, text, request.k, filter_mask(cache, docs, request.filters))
        return [(row, score, (("lexical", r + 1),), 0.0) for r, (row, score) in enumerate(scored)], None
    settings = request.settings or corpus.settings
    ranked, found, bonus, hints = _fused(corpus, text, vector, request.k, request.filters, settings)
    return [(row, score, tuple(found[row]), bonus.get(row, 0.0)) for row, score in ranked], hints


def _explained(corpus: Corpus, vector: np.ndarray, probes: dict[str, tuple[Category, np.ndarray]],
               ranked: list[Ranked], probe: list[str] | None = None) -> list[Hit]:
    """Ranked rows as Hits, each with its cosine to the query and (latent questions, `probes` given) to the summary
    of each latent category it is tagged with as a weakness: a passage close to "Workload and capacity: caseload,
    …" is evidence too. `probe` names the category that brought in each row, when a probe did."""
    cache, docs = corpus.cache, corpus.docs
    rows = [r[0] for r in ranked]
    with one_blas_thread():
        similarities = (cache.vectors[rows] @ vector).tolist() if rows else []
    hits = []
    for i, (row, score, lists, boost) in enumerate(ranked):
        p = cache.passages[row]
        category_similarity = None
        for t in p.tags if probes else ():
            if t.category in probes and t.polarity == "negative":
                s = float(cache.vectors[row] @ probes[t.category][1])
                category_similarity = s if category_similarity is None else max(category_similarity, s)
        hits.append(Hit(p, docs[p.doc_id], score, bool(cache.boilerplate[row]),
                        Explanation(lists, boost, probe[i] if probe else None, similarities[i], category_similarity)))
    return hits


def _fused(corpus: Corpus, query: str, vector: np.ndarray, k: int, filters: SearchFilters,
           settings: SearchSettings) -> tuple[list[tuple[int, float]], dict[int, list[tuple[str, int]]],
                                              RowValues | dict[int, float], QueryHints]:
    """The k best rows with fused scores, the lists each row was found in, the boosts, and the query's hints."""
    cache, docs, embed = corpus.cache, corpus.docs, corpus.encode_query
    mask = filter_mask(cache, docs, filters)
    councils, years, children = named_values(cache, docs)
    hints = read_query_hints(query, set(councils), set(years), set(children))
    n = max(settings.candidates, k)
    lists: list[tuple[str, float, list[int]]] = [
        ("dense", settings.dense_weight, _dense(corpus, vector, n, mask, settings)),
        ("lexical", settings.lexical_weight, lexical_ranking(cache, query, n, mask))]
    expanded = expand_for_lexical(query)
    if expanded != query:
        # the thesaurus's document words embedded too: "could care leavers get online" and "internet access for
        # young people" are far apart for the model, "… online? internet" less so (measured: recall@5 +0.02 on
        # the samples; the Ofsted set's "get online" question now cited)
        lists.append(("dense:thesaurus", settings.dense_weight, dense_ranking(cache, embed(expanded), n, mask)))
    bonus: RowValues | dict[int, float] = {}
    named_rows: np.ndarray | None = None
    topic_vector = vector
    if not hints.is_empty():
        boost_mask, boosted = _boosts(cache, docs, hints, mask)
        bonus = boosted
        if boosted:  # only the documents matching most of what is named: "Ofsted" alone matches every letter
            boost_mask &= _rows_with(boost_mask, boosted, boosted.max())
        if boost_mask.any() and boost_mask.sum() < (mask.sum() if mask is not None else len(boost_mask)):
            # the named documents' own best passages join the candidates
            topic = strip_named(query, hints)
            topic_vector = embed(topic) if topic != query else vector
            # the whole-query lists still bring in other documents, but inside the named ones the topic decides
            lists = [(name, w * NAMED_GLOBAL_SHARE, rows) for name, w, rows in lists]
            lists.append(("named:dense", settings.dense_weight, dense_ranking(cache, topic_vector, n, boost_mask)))
            lists.append(("named:lexical", settings.lexical_weight, lexical_ranking(cache, topic, n, boost_mask)))
            named_rows = boost_mask
    conditions = bool(CONDITIONS_QUESTION.search(query))
    if named_rows is not None and conditions:
        # "what organisational factors contributed to Child M's death": inside the named documents, the passages
        # the tagger is surest state a latent condition join the candidates, surest first, then by topic
        import numpy as np

        surest = surest_first(cache, np.flatnonzero(named_rows), latent_confidence(cache), topic_vector)[:n]
        lists.append(("named:latent", settings.dense_weight, surest))
    asked = (mask, named_rows)
    if JUDGEMENT_ASKED.search(query) and any(r is not None for r in asked):
        # "how was Shropshire judged in 2017?": inside the documents named or filtered, the passages that state a
        # judgement (the headline, the judgement table) join the candidates, ranked by the topic; their words are
        # the template's ("Children's services in … are good"), far from the question's for both rankings
        import numpy as np

        among = np.ones(cache.n_rows, dtype=bool)
        for restrict in asked:
            if restrict is not None:
                among &= restrict
        if among.sum() <= JUDGEMENT_ROWS_READ:
            stated = rows_stating_judgement(cache, among)
            if stated.any():
                lists.append(("judgement", settings.dense_weight, dense_ranking(cache, topic_vector, n, stated)))
    months = months_named(query)
    if months:
        # "after the call in October 2017": the passages telling what happened that month join the candidates,
        # ranked by the topic (a review's chronology names dozens of months; the year boost cannot tell them apart)
        dated = rows_in_months(cache, months)
        for restrict in (mask, named_rows):
            if restrict is not None:
                dated &= restrict
        if dated.any():
            lists.append(("month", settings.dense_weight, dense_ranking(cache, topic_vector, n, dated)))
    fused: dict[int, float] = {}
    found: dict[int, list[tuple[str, int]]] = {}
    for name, weight, rows in lists:
        for r, row in enumerate(rows):
            fused[row] = fused.get(row, 0.0) + weight / (settings.rrf_k + r + 1)
            found.setdefault(row, []).append((name, r + 1))
    framing = cache.framing() if conditions else None
    for row in fused:
        if cache.boilerplate[row]:
            fused[row] *= BOILERPLATE_WEIGHT
        if framing is not None and framing[row]:
            fused[row] *= FRAMING_WEIGHT
    scored = sorted(((row, s + bonus.get(row, 0.0)) for row, s in fused.items()), key=lambda x: -x[1])
    return scored[:k], found, bonus, hints


# The most passages read for a judgement (a regular expression each): one council's reports are a few hundred; a
# filter on the kind of document alone leaves tens of thousands, and then the list is not made.
JUDGEMENT_ROWS_READ = 5000


def _dense(corpus: Corpus, vector: np.ndarray, n: int, mask: np.ndarray | None, settings: SearchSettings,
           ) -> list[int]:
    cache = corpus.cache
    if settings.dense_backend == "chroma" and corpus.store is not None and mask is None:
        return [cache.row_of[i] for i, _ in corpus.store.query(vector, n, None) if i in cache.row_of]
    return dense_ranking(cache, vector, n, mask)


def _rows_with(rows: np.ndarray, bonus: RowValues, value: float) -> np.ndarray:
    import numpy as np

    out = np.zeros_like(rows)
    out[bonus.rows_at_least(value - 1e-9)] = True
    return out


def _council_dated(d: DocumentInfo, hints: QueryHints) -> bool:
    """A council the question names by a former or a later name counts only for documents of its time: asked
    about Northamptonshire, North Northamptonshire's reports count from 2021-04-01 on."""
    if not hints.asked_councils:
        return True
    when = d.period_end or d.published
    return any(council_matches(d.council, when, named) for named in hints.asked_councils)


def _boosts(cache: SearchCache, docs: dict[str, DocumentInfo], hints: QueryHints, mask: np.ndarray | None,
            ) -> tuple[np.ndarray, RowValues]:
    """Rows of documents matching what the query names, and each row's bonus (tiers above any RRF score)."""
    import numpy as np

    weight = dict(BOOST, kind=BOOST["speaker"] if hints.speaker else BOOST["kind"])
    total = sum(weight[name] for name, vals in (("council", hints.councils), ("year", hints.years),
                                                ("kind", hints.kinds), ("child", hints.children)) if vals)
    doc_bonus: dict[str, float] = {}
    held = {council_key(c) for c in hints.councils}
    for d in docs.values():
        b = 0.0
        if hints.councils and d.council and council_key(d.council) in held and _council_dated(d, hints):
            b += weight["council"]
        if hints.years and years_of(d) & set(hints.years):
            b += weight["year"]
        if hints.children and d.child in hints.children:
            b += weight["child"]
        if hints.kinds and d.kind in hints.kinds:
            b += weight["kind"]
        if b:
            doc_bonus[d.id] = b / total
    rows = rows_of_documents(cache, doc_bonus)
    if mask is not None:
        rows &= mask
    ids, codes = document_codes(cache)
    by_code = np.array([doc_bonus.get(d, 0.0) for d in ids], dtype=np.float64)
    picked = np.flatnonzero(rows)
    return rows, RowValues(picked, by_code[codes[picked]])


# -- latent-conditions questions -----------------------------------------------------------------------------------
_PROBES: dict[str, dict[str, tuple[Category, np.ndarray]]] = {}


def category_probes(corpus: Corpus) -> dict[str, tuple[Category, np.ndarray]]:
    """Per latent category: the category and the embedding of its summary, computed once per model and backend
    per process (in one batch, so each vector is the same whichever question asks first)."""
    if corpus.embedding_id not in _PROBES:
        categories = latent_categories()
        vectors = corpus.encode([c.summary for c in categories])
        _PROBES[corpus.embedding_id] = {c.id: (c, v) for c, v in zip(categories, vectors, strict=True)}
    return _PROBES[corpus.embedding_id]


def _probes(corpus: Corpus, filters: SearchFilters, taken: set[int]) -> list[tuple[str, Ranked]]:
    """The best rows tagged with each latent category (and not already `taken`), each with its category."""
    cache = corpus.cache
    seen = set(taken)
    extra: list[tuple[str, Ranked]] = []

    def add(found: list[Ranked], category: str) -> None:
        for r in found[:PROBE_TAKE]:
            if r[0] not in seen:
                seen.add(r[0])
                extra.append((category, r))

    probes = category_probes(corpus)
    if filters.documents and len(filters.documents) <= PROBE_DOCUMENTS:
        for doc_id in filters.documents:
            if doc_id not in corpus.docs:
                continue
            rows = reading_order(cache, doc_id)
            for cat_id, (_category, cat_vector) in probes.items():
                ordered = surest_first(cache, rows, category_confidence(cache, cat_id), cat_vector)
                add([(r, 0.0, (), 0.0) for r in ordered
                     if not prescribes_or_frames(cache.passages[r]) and not cache.boilerplate[r]], cat_id)
        return extra
    for cat_id, (category, cat_vector) in probes.items():
        # the category's summary is the query, among the passages tagged with it
        query = read_query(category.summary)
        vector = cat_vector if query.text == query.asked else corpus.encode_query(query.text)
        request = RankRequest(query, PROBE_TAKE, replace(filters, categories=(cat_id,)))
        add(_ranked(corpus, query.text, vector, request)[0], cat_id)
    return extra
