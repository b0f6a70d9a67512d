"""`ask`: a question in, a cited answer (or a refusal with the nearest passages) out.

Order of work: make a follow-up standalone → read what the question names → scope to the documents that name
the person it asks about (refuse when none does) → retrieve → check the evidence covers what the question names
and is close enough → choose sentences → number citations in order of first use.
"""

from __future__ import annotations

import functools
import re
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from assistant.extractive import Candidate, candidates, category_label, prescribes_or_frames, select, states_a_figure
from assistant.followup import make_standalone
from assistant.judgements import groups_for, judged_reports, judgement_asked
from assistant.records import Answer, Citation
from assistant.scope import QuestionScope, doc_date, incident_date, read_scope
from prompts import NEAREST_INTRO, REFUSAL
from vectorstore.query import with_formal_place_names
from vectorstore.records import DocumentInfo, Hit, Passage, SearchFilters
from vectorstore.search import passes_filters

if TYPE_CHECKING:
    import numpy as np

    from vectorstore.index import Index

# Calibrated on the two gold sets with `latent eval` (see README "Answers"): below this cosine similarity between
# the question and its best passage, nothing retrieved is about the question.
MIN_SIMILARITY = 0.25
RETRIEVE_K = 12
MAX_SENTENCES = 7
LATENT_SENTENCES = 10
PER_REVIEW_SENTENCES = 4
MAX_REVIEWS = 6
NAMED_IN_FEW = 3  # a single name (a surname, a place) held by at most this many documents scopes the question
CONCERN_SENTENCES = 16
_REVIEW_KINDS = ("review", "coroner_report")


def ask(index: Index, question: str, history: Any = None, filters: SearchFilters | None = None,
        llm: Any = None, on_token: Callable[[str], None] | None = None) -> Answer:
    """Answer from the indexed documents; `llm` (a LangChain chat model) switches to LLM mode, and `on_token`
    receives its answer as it streams."""
    standalone = make_standalone(question, history) if llm is None else _llm_standalone(llm, question, history)
    standalone = with_formal_place_names(standalone)
    scope = read_scope(standalone)
    filters = filters or SearchFilters()
    vector = index.embedder.encode_query(standalone)
    cache = index.cache()
    docs = {d.id: d for d in (index.document_info(i) for i in {p.doc_id for p in cache.passages}) if d}

    scoped, refusal = _scope_to_named(index, scope, docs, filters)
    if refusal:
        return _refuse(index, question, standalone, refusal, filters, vector)
    judgement = judgement_asked(standalone) if llm is None else None
    if judgement:  # "which councils were judged inadequate?": every report's headline, counted and cited
        found, total = judged_reports(index, judgement, scoped, scope.years)
        if found:
            lines, citations = render([(f"{judgement}: {len(found)} of the {total} inspection reports indexed", []),
                                       *groups_for(found)])
            return Answer(question, "\n".join(lines), False, citations, [h for _, h, _, _ in found], [],
                          standalone)
    if scope.unnamed_death and not scoped.documents:
        reviews = [d for d in docs.values() if d.kind in _REVIEW_KINDS and passes_filters(d, scoped)]
        if len(reviews) > 1:
            return _per_review(index, question, standalone, scope, scoped, reviews, docs, vector, llm)
        if reviews:
            scoped = _with_documents(scoped, _preceding(reviews[0], docs, scope))
    hits = index.search_with_info(standalone, RETRIEVE_K, scoped, vector=vector).hits
    if scope.latent:
        hits = _with_category_probes(index, standalone, scoped, vector, hits)
    reason = _weak_evidence(index, scope, hits, vector)
    if reason:
        return _refuse(index, question, standalone, reason, filters, vector, hits)
    concerns = _coroner_concerns(index, scope, scoped, docs)
    if concerns and llm is None:
        return _compose_concerns(question, standalone, concerns, hits)
    if llm is not None:
        from assistant.llm_answer import answer_with_llm

        return answer_with_llm(llm, question, standalone, hits, index, on_token)
    return _compose(question, standalone, scope, hits, _similarities(index, hits, vector, scope.latent))


# -- scoping ---------------------------------------------------------------------------------------------------
def _scope_to_named(index: Index, scope: QuestionScope, docs: dict[str, DocumentInfo],
                    filters: SearchFilters) -> tuple[SearchFilters, str | None]:
    """Restrict to documents naming the child or person asked about; a name no document holds is a refusal."""
    cache = index.cache()
    naming: set[str] = set()
    for person in [*scope.children, *(n for n in scope.names if not _is_council(n, docs))]:
        pattern = re.compile(rf"\b{re.escape(person)}\b")
        found = {d.id for d in docs.values() if d.child == person} | {
            p.doc_id for p in cache.passages if person in p.text and pattern.search(p.text)}
        if not found:
            if person in scope.children or len(person.split()) >= 2:
                return filters, f"no indexed document names {person}"
            continue  # a single unknown word: the coverage check decides
        if person in scope.children or len(person.split()) >= 2 or len(found) <= NAMED_IN_FEW:
            naming |= found  # a name few documents hold is who or what the question is about
    if not naming:
        return filters, None
    if scope.preceded:
        for doc_id in list(naming):
            if docs[doc_id].kind in _REVIEW_KINDS:
                naming |= _preceding(docs[doc_id], docs, scope)
    return _with_documents(filters, naming), None


def _preceding(review: DocumentInfo, docs: dict[str, DocumentInfo], scope: QuestionScope) -> set[str]:
    """The review itself, and (for "what preceded") inspection letters about its council dated before the event."""
    out = {review.id}
    event = incident_date(review)
    if scope.preceded and review.council and event:
        from vectorstore.query import council_key

        for d in docs.values():
            when = doc_date(d)
            if d.kind in ("inspection", "focused_visit") and d.council and when and when < event and \
                    council_key(d.council) == council_key(review.council):
                out.add(d.id)
    return out


def _with_documents(filters: SearchFilters, ids: set[str]) -> SearchFilters:
    if filters.documents:
        ids = {i for i in ids if i in set(filters.documents)} or ids
    return replace(filters, documents=tuple(sorted(ids)))


def _is_council(name: str, docs: dict[str, DocumentInfo]) -> bool:
    from vectorstore.query import council_key

    key = council_key(name)
    return any(d.council and (key in council_key(d.council) or council_key(d.council) in key) for d in docs.values())


def _with_category_probes(index: Index, question: str, filters: SearchFilters, vector: np.ndarray,
                          hits: list[Hit]) -> list[Hit]:
    """For why/latent questions, the best passages tagged with each latent category join the evidence, so an
    answer can span caseloads, turnover, oversight, systems… rather than the one the question's words favour.

    With the question scoped to a few documents (a review and the letters before it), each document's own passages
    per category, surest tag first: a category's words find the passage that says "caseloads", while the tagger
    also knows "held between 30 and 50 children each". Otherwise each category is searched with its own
    description (label and indicative phrases), not the question."""
    seen = {h.id for h in hits}
    extra: list[Hit] = []

    def add(found: list[Hit]) -> None:
        for h in found[:PROBE_TAKE]:
            if h.id not in seen:
                seen.add(h.id)
                extra.append(h)

    queries = _category_queries(index)
    if filters.documents and len(filters.documents) <= NAMED_IN_FEW:
        cache = index.cache()
        for doc_id in filters.documents:
            doc = index.document_info(doc_id)
            if doc is None:
                continue
            rows = [cache.row_of[p.id] for p in index.passages(doc_id)]
            for cat_id, (_text, cat_vector) in queries.items():
                tagged = [r for r in rows if _confidence(cache.passages[r], cat_id) > 0]
                # surest tag first, in steps of 0.05; then the passage closest to the category's description
                tagged.sort(key=lambda r: (-round(_confidence(cache.passages[r], cat_id) * 20),
                                           -float(cache.vectors[r] @ cat_vector)))
                found = [Hit(cache.passages[r], doc, 0.0, bool(cache.boilerplate[r])) for r in tagged]
                add([h for h in found if not prescribes_or_frames(h) and not h.boilerplate])
        return hits + extra
    for cat_id, (text, cat_vector) in queries.items():
        add(index.search_with_info(text, PROBE_TAKE, replace(filters, categories=(cat_id,)), vector=cat_vector).hits)
    return hits + extra


PROBE_TAKE = 2  # passages per latent category (per document, when the question names a few)


def _confidence(p: Passage, category: str) -> float:
    """The tag's confidence that the passage shows `category` as a weakness (0 when it is not tagged so)."""
    return max((t.confidence for t in p.tags if t.category == category and t.polarity == "negative"), default=0.0)


_CATEGORY_QUERIES: dict[str, dict[str, tuple[str, Any]]] = {}


def _category_queries(index: Index) -> dict[str, tuple[str, Any]]:
    """Per latent category: a query text and its embedding, computed once per model and backend per process."""
    from vectorstore.taxonomy import load_taxonomy

    if index.embedding_id not in _CATEGORY_QUERIES:
        cats = [c for c in load_taxonomy() if c.level == "latent"]
        texts = [f"{c.label}: {', '.join(c.phrases[:10])}" for c in cats]
        vectors = index.embedder.encode(texts)
        _CATEGORY_QUERIES[index.embedding_id] = {c.id: (t, v) for c, t, v in zip(cats, texts, vectors, strict=True)}
    return _CATEGORY_QUERIES[index.embedding_id]


def _similarities(index: Index, hits: list[Hit], vector: np.ndarray, latent: bool) -> dict[str, float]:
    """Question similarity per hit; for latent questions, a passage also counts as close when it is close to the
    description of a latent category it is tagged with."""
    sims = {h.id: similarity(index, h, vector) for h in hits}
    if latent:
        queries = _category_queries(index)
        for h in hits:
            for t in h.passage.tags:
                if t.category in queries and t.polarity == "negative":
                    sims[h.id] = max(sims[h.id], similarity(index, h, queries[t.category][1]))
    return sims


def _coroner_concerns(index: Index, scope: QuestionScope, filters: SearchFilters,
                      docs: dict[str, DocumentInfo]) -> list[Hit]:
    """A question about what preceded a named person's death, scoped to coroners' reports: the reports'
    "Matters of concern" passages, in order — the coroner's own list of what must change."""
    if not (scope.latent and filters.documents and (scope.names or scope.children)):
        return []
    reports = [docs[i] for i in filters.documents if i in docs and docs[i].kind == "coroner_report"]
    if not reports or len(reports) > NAMED_IN_FEW:
        return []
    out: list[Hit] = []
    for d in reports:
        passages = index.passages(d.id)
        start = next((i for i, p in enumerate(passages) if re.search(r"concern", p.section or "", re.I)), None)
        if start is None:
            continue
        out.extend(Hit(p, d, 1.0) for p in passages[start:] if re.search(r"concern", p.section or "", re.I))
    return out


def _compose_concerns(question: str, standalone: str, concerns: list[Hit], hits: list[Hit]) -> Answer:
    from vectorstore.sentences import split_sentences

    chosen: list[Candidate] = []
    for rank, h in enumerate(concerns):
        for a, b in split_sentences(h.text)[:2]:  # each concern's opening sentences state it
            if len(chosen) < CONCERN_SENTENCES and len(h.text[a:b].split()) >= 3:
                chosen.append(Candidate(h.text[a:b], h, rank, a, 1.0, None, frozenset()))
    if not chosen:
        return Answer(question, f"{REFUSAL}\nThe coroner's report has no matters of concern.", True, [], hits,
                      hits[:5], standalone, reason="no matters of concern")
    title = f"Matters of concern: {concerns[0].document.title}"
    lines, citations = render([(title, chosen)])
    return Answer(question, "\n".join(lines), False, citations, concerns + hits, [], standalone)


# -- refusal ---------------------------------------------------------------------------------------------------
def similarity(index: Index, hit: Hit, vector: np.ndarray) -> float:
    cache = index.cache()
    row = cache.row_of.get(hit.id)
    return float(cache.vectors[row] @ vector) if row is not None else 0.0


def _weak_evidence(index: Index, scope: QuestionScope, hits: list[Hit], vector: np.ndarray) -> str | None:
    """Why the evidence does not answer the question, or None when it may."""
    hits = [h for h in hits if not h.boilerplate]  # an address block naming Manchester is not about Manchester
    if not hits:
        return "no passage matches the question and its filters"
    best = max(similarity(index, h, vector) for h in hits[:5])
    if best < MIN_SIMILARITY:
        return f"no passage is close to the question (best similarity {best:.2f})"
    top = hits[:8]
    for council in scope.councils:
        from vectorstore.query import council_key

        if not any(h.document.council and council_key(h.document.council) == council_key(council) for h in top):
            return f"no document found is about {council}"
    haystack = " ".join(f"{h.text} {h.passage.header} {h.document.council or ''} {h.document.title}"
                        for h in top).lower()
    for name in scope.names:
        if name.lower() not in haystack:
            return f"the passages found do not mention {name}"
    if scope.services:
        from assistant.scope import service_terms

        raw = " ".join(f"{h.text} {h.passage.header}" for h in top)
        for service in scope.services:
            if not service_terms()[service][1].search(raw):
                return f"the passages found do not mention {service}"
    for year in scope.years:
        if not any(_covers_year(h, year) for h in top):
            return f"the passages found are not about {year}"
    return None


def _covers_year(hit: Hit, year: int) -> bool:
    d = hit.document
    if str(year) in hit.text or (d.published or "").startswith(str(year)):
        return True
    start, end = (d.period_start or "")[:4], (d.period_end or "")[:4]
    return bool(start and end and start <= str(year) <= end)


def _refuse(index: Index, question: str, standalone: str, reason: str, filters: SearchFilters,
            vector: np.ndarray, hits: list[Hit] | None = None) -> Answer:
    nearest = hits[:5] if hits else index.search_with_info(standalone, 5, filters, vector=vector).hits
    text = f"{REFUSAL}\n{reason[0].upper()}{reason[1:]}.\n{NEAREST_INTRO if nearest else ''}".strip()
    return Answer(question, text, True, [], hits or [], nearest, standalone, reason=reason)


# -- composing -------------------------------------------------------------------------------------------------
def _compose(question: str, standalone: str, scope: QuestionScope, hits: list[Hit],
             sims: dict[str, float]) -> Answer:
    cands = candidates(standalone, hits, scope.latent, sims)
    limit = LATENT_SENTENCES if scope.latent else MAX_SENTENCES
    chosen = select(cands, limit, per_category=1 if scope.latent else 0, quantity=scope.quantity)
    if not chosen or (scope.quantity and not _figure_on_topic(standalone, chosen, scope.quantity)):
        reason = "the passages found state no figure" if chosen else "no sentence of the passages found answers it"
        text = f"{REFUSAL}\n{reason[0].upper()}{reason[1:]}.\n{NEAREST_INTRO}"
        return Answer(question, text, True, [], hits, hits[:5], standalone, reason=reason)
    lines, citations = render(_group(chosen, scope.latent))
    return Answer(question, "\n".join(lines), False, citations, hits, [], standalone)


# Words too common in children's-services documents to show that a sentence is about what a figure question asks.
_COMMON_TOPIC = ("child children young people person social work worker workers council local authority service "
                 "services family families care staff practitioners team teams year years focused visit visits "
                 "inspection inspections inspectors ofsted report reports review reviews letter")


@functools.cache
def _common_stems() -> frozenset[str]:
    """Stemmed once per process: this runs on every figure question."""
    from vectorstore.cache import lexical_tokens
    from vectorstore.search import _question_stems

    return frozenset(lexical_tokens([_COMMON_TOPIC])[0]) | _question_stems()


def _figure_on_topic(question: str, chosen: list[Candidate], quantity: str) -> bool:
    """A figure question needs a sentence that states a figure *and* shares what the question counts: "16 and
    17-year-old homeless children" does not answer "the average number of children on a caseload"."""
    from vectorstore.cache import lexical_tokens

    common = _common_stems()
    # names and numbers are covered by other checks; here only what is counted matters
    plain = " ".join(w for w in question.split() if not w[:1].isupper() and not any(ch.isdigit() for ch in w))
    topic = set(lexical_tokens([plain])[0]) - common
    return any(states_a_figure([c.text], quantity) and (not topic or topic & c.stems) for c in chosen)


def _group(chosen: list[Candidate], latent: bool) -> list[tuple[str | None, list[Candidate]]]:
    """Latent questions: by category, each in date order. Others: by document in order of relevance, each in
    reading order (page, then position)."""
    groups: OrderedDict[str, list[Candidate]] = OrderedDict()
    for c in sorted(chosen, key=lambda c: c.rank) if not latent else chosen:
        key = category_label(c.category) if latent else c.hit.document.id
        groups.setdefault(key, []).append(c)
    out: list[tuple[str | None, list[Candidate]]] = []
    for key, items in groups.items():
        if latent:
            items.sort(key=lambda c: (c.hit.passage.date or c.hit.document.period_end or "9999", c.hit.passage.page,
                                      c.start))
            out.append((key, items))
        else:
            items.sort(key=lambda c: (c.hit.passage.page, c.hit.passage.char_start, c.start))
            out.append((items[0].hit.document.title if len(groups) > 1 else None, items))
    if latent:  # categories with evidence first, "Other findings" last
        out.sort(key=lambda g: g[0] == category_label(None))
    return out


def render(groups: list[tuple[str | None, list[Candidate]]]) -> tuple[list[str], list[Citation]]:
    """Lines of text (headings on their own line, each sentence on one line ending with [n]) and citations
    numbered in order of first use."""
    numbers: OrderedDict[str, int] = OrderedDict()
    quotes: dict[str, list[str]] = {}
    hit_of: dict[str, Hit] = {}
    lines: list[str] = []
    for heading, items in groups:
        if heading:
            if lines:
                lines.append("")
            lines.append(f"**{heading}**")
        for c in items:
            n = numbers.setdefault(c.hit.id, len(numbers) + 1)
            hit_of[c.hit.id] = c.hit
            quotes.setdefault(c.hit.id, []).append(c.text)
            lines.append(f"{' '.join(c.text.split())} [{n}]")  # a table row's cells may span lines
    citations = [Citation(n, hit_of[i], tuple(quotes[i])) for i, n in numbers.items()]
    return lines, citations


def _per_review(index: Index, question: str, standalone: str, scope: QuestionScope, filters: SearchFilters,
                reviews: list[DocumentInfo], docs: dict[str, DocumentInfo], vector: np.ndarray, llm: Any) -> Answer:
    """'What went wrong before the child died?' with several reviews in scope: an answer for each review."""
    groups: list[tuple[str | None, list[Candidate]]] = []
    all_hits: list[Hit] = []
    ranked = sorted(reviews, key=lambda d: -max((similarity(index, h, vector) for h in index.search_with_info(
        standalone, 3, _with_documents(filters, {d.id}), vector=vector).hits), default=0.0))
    for review in ranked[:MAX_REVIEWS]:
        scoped = _with_documents(filters, _preceding(review, docs, scope))
        hits = index.search_with_info(standalone, 8, scoped, vector=vector).hits
        if scope.latent:
            hits = _with_category_probes(index, standalone, scoped, vector, hits)
        if _weak_evidence(index, replace(scope, names=(), years=()), hits, vector):
            continue
        sims = _similarities(index, hits, vector, scope.latent)
        chosen = select(candidates(standalone, hits, scope.latent, sims), PER_REVIEW_SENTENCES,
                        per_category=1 if scope.latent else 0)
        if chosen:
            label = review.title + (f" ({review.child})" if review.child and review.child not in review.title else "")
            groups.append((label, sorted(chosen, key=lambda c: (c.hit.passage.page, c.start))))
            all_hits.extend(hits)
    if not groups:
        return _refuse(index, question, standalone, "no review in scope has passages that answer it", filters,
                       vector)
    lines, citations = render(groups)
    return Answer(question, "\n".join(lines), False, citations, all_hits, [], standalone)


def _llm_standalone(llm: Any, question: str, history: Any) -> str:
    from assistant.llm_answer import rewrite_followup

    return rewrite_followup(llm, question, history)
