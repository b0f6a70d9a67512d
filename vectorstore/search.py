"""Hybrid ranking: exact dense scores and BM25 scores, fused by reciprocal rank, with query-named boosts.

Reciprocal-rank fusion (Cormack, Clarke & Buettcher 2009) needs no score calibration between the two
retrievers: a passage ranked 1st by one and 30th by the other scores 1/61 + 1/90.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Container, Iterable
from typing import TYPE_CHECKING, Any

from vectorstore.cache import lexical_tokens
from vectorstore.dates import months_named, months_of
from vectorstore.query import (
    CONDITIONS_QUESTION,
    QueryHints,
    council_key,
    expand_for_lexical,
    read_query_hints,
    strip_named,
)
from vectorstore.records import DocumentInfo, SearchFilters

if TYPE_CHECKING:
    import numpy as np

    from vectorstore.cache import SearchCache
    from vectorstore.settings import SearchSettings
    from vectorstore.store import ChromaStore

# When a query names documents, the weight kept by its whole-query rankings against the named documents' own
# topic rankings (the names are shared by every passage there, so they only add noise to the order).
NAMED_GLOBAL_SHARE = 1.0
BOILERPLATE_WEIGHT = 0.25  # template text shared by many documents ranks below any finding of similar rank
# Weight of each named thing a passage's document matches: a council named in the query matters most.
# A kind named as the source ("what did Ofsted find") weighs like a council; a passing mention hardly at all.
_BOOST = {"council": 0.6, "child": 0.6, "year": 0.3, "kind": 0.1, "speaker": 0.6}


def filter_mask(cache: SearchCache, docs: dict[str, DocumentInfo], filters: SearchFilters) -> np.ndarray | None:
    """Rows that pass every explicit filter (None when nothing is filtered)."""
    if filters.is_empty():
        return None
    ok_docs = {d.id for d in docs.values() if passes_filters(d, filters)}
    mask = rows_of_documents(cache, ok_docs)
    if filters.categories:
        mask &= rows_tagged(cache, filters.categories)
    return mask


def passes_filters(d: DocumentInfo, f: SearchFilters) -> bool:
    """Does the document pass every explicit filter (kind, council, document, published years)?"""
    year = int(d.published[:4]) if d.published else None
    if f.kinds and d.kind not in f.kinds:
        return False
    if f.councils and (not d.council or council_key(d.council) not in {council_key(c) for c in f.councils}):
        return False
    if f.documents and not ({d.id, d.source, d.source.rsplit("/", 1)[-1]} & set(f.documents)):
        return False
    if f.year_from is not None and (year is None or year < f.year_from):
        return False
    return not (f.year_to is not None and (year is None or year > f.year_to))


def dense_ranking(cache: SearchCache, vector: np.ndarray, n: int, mask: np.ndarray | None) -> list[int]:
    import numpy as np

    with one_blas_thread():
        scores = cache.vectors @ vector
    if mask is not None:
        scores = np.where(mask, scores, -np.inf)
    n = min(n, int(mask.sum()) if mask is not None else len(scores))
    if n <= 0:
        return []
    top = np.argpartition(-scores, n - 1)[:n]
    return [int(i) for i in top[np.argsort(-scores[top])]]


def lexical_ranking(cache: SearchCache, query: str, n: int, mask: np.ndarray | None) -> list[int]:
    return [row for row, _ in lexical_scored(cache, query, n, mask)]


def lexical_scored(cache: SearchCache, query: str, n: int, mask: np.ndarray | None) -> list[tuple[int, float]]:
    """BM25's best rows with their scores, best first (rows scoring 0 are left out)."""
    if cache.bm25 is None:
        return []
    skip = _question_stems()
    tokens = [t for t in lexical_tokens([expand_for_lexical(query)])[0] if t in cache.bm25.vocab_dict and
              t not in skip]
    if not tokens:
        return []
    n = min(n, len(cache.passages))
    kwargs: dict[str, Any] = {"weight_mask": mask.astype("float32")} if mask is not None else {}
    rows, scores = cache.bm25.retrieve([tokens], k=n, show_progress=False, n_threads=0, **kwargs)
    return [(int(r), float(s)) for r, s in zip(rows[0], scores[0], strict=True) if s > 0]


# How questions are asked, not what they ask about: BM25 gives "say" in "what did Ofsted say about caseloads" a
# high weight because reports rarely use it, and passages quoting what someone said outrank the caseload ones;
# "what part did management absence play" ranked "seen … for part of a single visit" first.
# (bm25s's English stop list has 33 words and none of these.) Removed from queries only.
QUESTION_WORDS = ("what which who whom whose when where why how did do does doing say said says tell told find found "
                  "finds about describe described according mention mentioned me please part play played")


@functools.cache
def _question_stems() -> frozenset[str]:
    return frozenset(lexical_tokens([QUESTION_WORDS])[0])


def rank(cache: SearchCache, docs: dict[str, DocumentInfo], query: str, vector: np.ndarray, k: int,
         filters: SearchFilters, settings: SearchSettings, store: ChromaStore | None = None,
         embed: Callable[[str], np.ndarray] | None = None) -> tuple[list[tuple[int, float]], QueryHints]:
    """The k best rows with fused scores, and the hints read from the query. `embed` (the query encoder) lets
    the named documents be ranked by the question's topic alone: inside Bedford's 2025 report, "what did Ofsted
    say about caseloads in Bedford in 2025" is a question about caseloads, and its other words only add noise."""
    mask = filter_mask(cache, docs, filters)
    councils, years, children = named_values(cache, docs)
    hints = read_query_hints(query, set(councils), set(years), set(children))
    n = max(settings.candidates, k)
    lists = [(settings.dense_weight, _dense(cache, vector, n, mask, settings, store)),
             (settings.lexical_weight, lexical_ranking(cache, query, n, mask))]
    expanded = expand_for_lexical(query)
    if embed is not None and expanded != query:
        # the thesaurus's document words embedded too: "could care leavers get online" and "internet access for
        # young people" are far apart for the model, "… online? internet" less so (measured: recall@5 +0.02 on
        # the samples; the Ofsted set's "get online" question now cited)
        lists.append((settings.dense_weight, dense_ranking(cache, embed(expanded), n, mask)))
    bonus: dict[int, float] = {}
    named_rows: np.ndarray | None = None
    topic_vector = vector
    if not hints.is_empty():
        boost_mask, bonus = _boost(cache, docs, hints, mask)
        if bonus:  # only the documents matching most of what is named: "Ofsted" alone matches every letter
            top = max(bonus.values())
            boost_mask &= _rows_with(boost_mask, bonus, top)
        if boost_mask.any() and boost_mask.sum() < (mask.sum() if mask is not None else len(boost_mask)):
            # the named documents' own best passages join the candidates
            topic = strip_named(query, hints)
            topic_vector = embed(topic) if embed is not None and topic != query else vector
            # the whole-query lists still bring in other documents, but inside the named ones the topic decides
            lists = [(w * NAMED_GLOBAL_SHARE, rows) for w, rows in lists]
            lists.append((settings.dense_weight, dense_ranking(cache, topic_vector, n, boost_mask)))
            lists.append((settings.lexical_weight, lexical_ranking(cache, topic, n, boost_mask)))
            named_rows = boost_mask
    if named_rows is not None and CONDITIONS_QUESTION.search(query):
        # "what organisational factors contributed to Child M's death": inside the named documents, the passages
        # the tagger is surest state a latent condition join the candidates, surest first, then by topic
        lists.append((settings.dense_weight, latent_ranking(cache, topic_vector, n, named_rows)))
    months = months_named(query)
    if months:
        # "after the call in October 2017": the passages telling what happened that month join the candidates,
        # ranked by the topic (a review's chronology names dozens of months; the year boost cannot tell them apart)
        dated = rows_in_months(cache, months)
        for restrict in (mask, named_rows):
            if restrict is not None:
                dated &= restrict
        if dated.any():
            lists.append((settings.dense_weight, dense_ranking(cache, topic_vector, n, dated)))
    fused: dict[int, float] = {}
    for weight, rows in lists:
        for r, row in enumerate(rows):
            fused[row] = fused.get(row, 0.0) + weight / (settings.rrf_k + r + 1)
    for row in fused:
        if cache.boilerplate[row]:
            fused[row] *= BOILERPLATE_WEIGHT
    scored = sorted(((row, s + bonus.get(row, 0.0)) for row, s in fused.items()), key=lambda x: -x[1])
    return scored[:k], hints


def _rows_with(rows: np.ndarray, bonus: dict[int, float], value: float) -> np.ndarray:
    import numpy as np

    out = np.zeros_like(rows)
    out[[r for r, b in bonus.items() if b >= value - 1e-9]] = True
    return out


def _years_of(d: DocumentInfo) -> set[int]:
    """The year a document was published and the years its review period or visit covers."""
    years = {int(d.published[:4])} if d.published else set()
    if d.period_start and d.period_end:
        years |= set(range(int(d.period_start[:4]), int(d.period_end[:4]) + 1))
    return years


def _dense(cache: SearchCache, vector: np.ndarray, n: int, mask: np.ndarray | None, settings: SearchSettings,
           store: ChromaStore | None) -> list[int]:
    if settings.dense_backend == "chroma" and store is not None and mask is None:
        return [cache.row_of[i] for i, _ in store.query(vector, n, None) if i in cache.row_of]
    return dense_ranking(cache, vector, n, mask)


def _boost(cache: SearchCache, docs: dict[str, DocumentInfo], hints: QueryHints, mask: np.ndarray | None,
           ) -> tuple[np.ndarray, dict[int, float]]:
    """Rows of documents matching what the query names, and each row's bonus (tiers above any RRF score)."""
    import numpy as np

    weight = dict(_BOOST, kind=_BOOST["speaker"] if hints.speaker else _BOOST["kind"])
    total = sum(weight[name] for name, vals in (("council", hints.councils), ("year", hints.years),
                                                ("kind", hints.kinds), ("child", hints.children)) if vals)
    doc_bonus: dict[str, float] = {}
    for d in docs.values():
        b = 0.0
        if hints.councils and d.council and council_key(d.council) in {council_key(c) for c in hints.councils}:
            b += weight["council"]
        if hints.years and _years_of(d) & set(hints.years):
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
    bonus = dict(zip(picked.tolist(), by_code[codes[picked]].tolist(), strict=True))
    return rows, bonus


# -- precomputed per cache (speed only: each gives what the loop over every passage it replaced gave) -------------
# At 57k passages a Python loop over the passages costs ~10 ms, several per query; these cost microseconds. They
# live in `cache.views`, which dies with the cache (a rebuilt cache starts empty).
def document_codes(cache: SearchCache) -> tuple[list[str], np.ndarray]:
    """The distinct document ids in row order, and each row's position in that list."""
    import numpy as np

    got = cache.views.get("document_codes")
    if got is None:
        ids: dict[str, int] = {}
        codes = np.fromiter((ids.setdefault(p.doc_id, len(ids)) for p in cache.passages), dtype=np.int32,
                            count=len(cache.passages))
        got = cache.views["document_codes"] = (list(ids), codes)
    return got  # type: ignore[no-any-return]


def one_blas_thread() -> Any:
    """A context in which numpy's BLAS runs on one thread. The search's matrix-vector product takes 0.7 ms on one
    thread at 12k passages, 0.4 ms on two when both cores are free, but 8-12 ms on two when another process holds a
    core (the page's own model, an ingest, a neighbour on these shared machines): the second BLAS thread waits for a
    time slice. One thread gives the same bits (the rows are split between threads, not the sums)."""
    return _blas_controller().limit(limits=1, user_api="blas")


@functools.cache
def _blas_controller() -> Any:
    from threadpoolctl import ThreadpoolController

    return ThreadpoolController()  # finds the BLAS libraries loaded (~1 ms), once


def rows_of_documents(cache: SearchCache, doc_ids: Container[str]) -> np.ndarray:
    """Rows whose document is in `doc_ids` (a fresh array the caller may change)."""
    import numpy as np

    ids, codes = document_codes(cache)
    wanted = np.fromiter((d in doc_ids for d in ids), dtype=bool, count=len(ids))
    return wanted[codes]


def rows_tagged(cache: SearchCache, categories: Iterable[str]) -> np.ndarray:
    """Rows with a tag of any of `categories` (a fresh array)."""
    import numpy as np

    by_category: dict[str, np.ndarray] = cache.views.setdefault("rows_tagged", {})
    out = np.zeros(len(cache.passages), dtype=bool)
    for c in dict.fromkeys(categories):
        if c not in by_category:
            by_category[c] = np.fromiter((any(t.category == c for t in p.tags) for p in cache.passages),
                                         dtype=bool, count=len(cache.passages))
        out |= by_category[c]
    return out


def latent_ranking(cache: SearchCache, vector: np.ndarray, n: int, rows: np.ndarray) -> list[int]:
    """`rows` tagged with a latent condition as a weakness: surest tag first (in steps of 0.05), then by `vector`."""
    import numpy as np

    conf = cache.views.get("latent_confidence")
    if conf is None:
        conf = cache.views["latent_confidence"] = np.fromiter(
            (max((t.confidence for t in p.tags if t.level == "latent" and t.polarity == "negative"), default=0.0)
             for p in cache.passages), dtype=np.float64, count=len(cache.passages))
    picked = np.flatnonzero(rows & (conf > 0))
    if not len(picked):
        return []
    with one_blas_thread():
        sims = cache.vectors[picked] @ vector
    order = np.lexsort((-sims, -np.round(conf[picked] * 20)))
    return [int(picked[i]) for i in order[:n]]


def rows_in_months(cache: SearchCache, months: Iterable[str]) -> np.ndarray:
    """Rows dated in, or naming a day of, any of `months` ('YYYY-MM'; a fresh array)."""
    import numpy as np

    by_month: dict[str, list[int]] | None = cache.views.get("rows_by_month")
    if by_month is None:
        by_month = {}
        for row, p in enumerate(cache.passages):
            for month in months_of(p.text) | ({p.date[:7]} if p.date else set()):
                by_month.setdefault(month, []).append(row)
        cache.views["rows_by_month"] = by_month
    out = np.zeros(len(cache.passages), dtype=bool)
    for month in months:
        out[by_month.get(month, [])] = True
    return out


def named_values(cache: SearchCache, docs: dict[str, DocumentInfo]) -> tuple[frozenset[str], frozenset[int],
                                                                            frozenset[str]]:
    """The councils, years (published or covered) and child pseudonyms of `docs`, that a query may name."""
    got = cache.views.get("named_values")
    if got is None or got[0] is not docs:  # kept with the very dict it was read from
        values = (frozenset(d.council for d in docs.values() if d.council),
                  frozenset(set().union(*(_years_of(d) for d in docs.values())) if docs else set()),
                  frozenset(d.child for d in docs.values() if d.child))
        got = cache.views["named_values"] = (docs, values)
    return got[1]  # type: ignore[no-any-return]
