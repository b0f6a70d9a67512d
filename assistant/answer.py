"""`ask`: a question in, a cited answer (or a refusal with the nearest passages) out.

Order of work: make a follow-up standalone → read what the question names → scope to the documents that name
the person it asks about (refuse when none does) → rank (`Index.rank`: retrieval, fusion, the named documents,
the latent-condition probes, all in vectorstore) → check the evidence covers what the question names and is close
enough → choose sentences → number citations in order of first use. Nothing here re-ranks the hits.
"""

from __future__ import annotations

import re
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from assistant.agencies import AGENCIES_ASKED, agencies_involved
from assistant.extractive import Candidate, candidates, category_label, select, states_a_figure
from assistant.followup import make_standalone
from assistant.judgements import groups_for, judged_reports, judgement_asked
from assistant.records import Answer, Citation, CitationNumbers
from assistant.scope import AUXILIARIES, QuestionScope, doc_date, incident_date, read_scope
from prompts import NEAREST_INTRO, REFUSAL
from vectorstore.councils import canonical_council, council_matches, councils_named
from vectorstore.query import Query, council_key, read_query
from vectorstore.ranking import RankRequest
from vectorstore.records import DocumentInfo, Hit, Passage, SearchFilters

if TYPE_CHECKING:
    from vectorstore.index import Index

# Below this cosine similarity between the question and its best passage, nothing retrieved is about the question.
# The floor belongs to the embedding model: 0.25 was calibrated for all-MiniLM-L6-v2 on the two gold sets; the tuned
# model's cosines run lower ("What did Ofsted find about caseloads?" meets its best focused-visit passage at 0.22
# against the base model's 0.46), and on the dev part of the written questions its 0.20 refuses none of 651
# answerable Ofsted questions (0.25: one) and 2 of 70 unanswerable ones on this ground alone (0.25: 10).
MIN_SIMILARITY = {"all-MiniLM-L6-v2": 0.25, "latent-minilm-tuned": 0.20}
OTHER_MODEL_MIN_SIMILARITY = 0.25
RETRIEVE_K = 12
MAX_SENTENCES = 7
LATENT_SENTENCES = 10
PER_REVIEW_SENTENCES = 4
MAX_REVIEWS = 6
DIRECT_SENTENCES = 2  # sentences answering a closed question about a named person, before the concerns
NAMED_IN_FEW = 3  # a single name (a surname, a place) held by at most this many documents scopes the question
_REVIEW_KINDS = ("review", "coroner_report")


def ask(index: Index, question: str, history: Any = None, filters: SearchFilters | None = None,
        llm: Any = None, on_token: Callable[[str], None] | None = None) -> Answer:
    """Answer from the indexed documents; `llm` (a LangChain chat model) switches to LLM mode, and `on_token`
    receives its answer as it streams."""
    asked = make_standalone(question, history) if llm is None else _llm_standalone(llm, question, history)
    query = read_query(asked)  # other names of places read as the formal ones, once for every step below
    standalone = query.text
    scope = read_scope(standalone)
    filters = filters or SearchFilters()
    docs = index.searchable_documents()

    scoped, refusal, subjects = _scope_to_named(index, scope, docs, filters)
    if refusal:
        return _refuse(index, question, query, refusal, filters)
    judgement = judgement_asked(standalone) if llm is None else None
    if judgement:  # "which councils were judged inadequate?": every report's headline, counted and cited
        found, total = judged_reports(index, judgement, scoped, scope.years)
        if found:
            lines, citations = render([(f"{judgement}: {len(found)} of the {total} inspection reports indexed", []),
                                       *groups_for(found)])
            return Answer(question, "\n".join(lines), False, citations, [h for _, h, _, _ in found], [],
                          standalone)
    reviews_named = [docs[i] for i in sorted(subjects) if docs[i].kind == "review" and scoped.admits(docs[i])]
    if reviews_named and llm is None and AGENCIES_ASKED.search(standalone):
        answer = _compose_agencies(index, question, standalone, reviews_named[:NAMED_IN_FEW])
        if answer is not None:
            return answer
    if scope.unnamed_death and not scoped.documents:
        reviews = [d for d in docs.values() if d.kind in _REVIEW_KINDS and scoped.admits(d)]
        if len(reviews) > 1:
            return _per_review(index, question, query, scope, scoped, reviews, docs)
        if reviews:
            scoped = _with_documents(scoped, _preceding(reviews[0], docs, scope))
    # the k best, then (for a latent question) each latent category's own best passages
    hits = index.rank(RankRequest(query, RETRIEVE_K, scoped, latent=scope.latent)).hits
    # a question about a named person is about their report: a council it also names is context, not scope
    reason = _weak_evidence(replace(scope, councils=()) if subjects else scope, hits, _floor(index))
    if reason:
        return _refuse(index, question, query, reason, filters, hits)
    reports = [docs[i] for i in sorted(subjects) if docs[i].kind == "coroner_report" and scoped.admits(docs[i])]
    concerns = _coroner_concerns(index, reports) if llm is None and 0 < len(reports) <= NAMED_IN_FEW else {}
    if concerns:
        cause = _cause_of_death(hits, reports) if _asks_cause(query.text) and len(reports) == 1 else []
        lead = ("Cause of death", cause) if cause else \
            ("From the report", _direct_answer(standalone, scope, hits, concerns))
        return _compose_concerns(question, standalone, concerns, hits, lead)
    if llm is not None:
        from assistant.llm_answer import answer_with_llm

        return answer_with_llm(llm, question, standalone, hits, index, on_token)
    return _compose(question, standalone, scope, hits)


# -- scoping ---------------------------------------------------------------------------------------------------
def _scope_to_named(index: Index, scope: QuestionScope, docs: dict[str, DocumentInfo],
                    filters: SearchFilters) -> tuple[SearchFilters, str | None, set[str]]:
    """Restrict to documents naming the child or person asked about; a person no document names is a refusal.
    Also returns the documents that name them (the review or report about them), without the letters added.
    People are matched by name tokens (`Index.documents_naming_person`): "Jane Smith" finds "Jane Elizabeth
    SMITH". A lower-case name read from a person's place in the question ("after niamh doherty's death") is
    refused only when the documents do not even use its words; otherwise it may be ordinary words."""
    plain = [*scope.children, *(n for n in scope.names if not _is_council(n, docs))]
    named_in = index.documents_naming(plain) if plain else {}
    naming: set[str] = set()
    for child in scope.children:
        found = {d.id for d in docs.values() if d.child == child} | named_in[child]
        if not found:
            return filters, f"no indexed document names {child}", set()
        naming |= found
    for person in scope.people:
        if _is_council(person.text, docs):
            continue
        found = index.documents_naming_person(person) & set(docs)
        if found:
            naming |= found
        elif not person.guessed or index.unknown_words([w for w in (person.first, person.last) if w]):
            return filters, f"no indexed document names {person.text}", set()
    for name in scope.names:
        found = named_in.get(name, set())
        if found and len(found) <= NAMED_IN_FEW:
            naming |= found  # a name few documents hold is who or what the question is about
    if not naming:
        return filters, None, set()
    subjects = set(naming)
    if scope.preceded:
        for doc_id in list(naming):
            if docs[doc_id].kind in _REVIEW_KINDS:
                naming |= _preceding(docs[doc_id], docs, scope)
    return _with_documents(filters, naming), None, subjects


def _preceding(review: DocumentInfo, docs: dict[str, DocumentInfo], scope: QuestionScope) -> set[str]:
    """The review itself, and (for "what preceded") inspection letters about its council dated before the event."""
    out = {review.id}
    event = incident_date(review)
    if scope.preceded and review.council and event:
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
    key = council_key(name)
    return any(d.council and (key in council_key(d.council) or council_key(d.council) in key) for d in docs.values())


def _compose_agencies(index: Index, question: str, standalone: str, reviews: list[DocumentInfo]) -> Answer | None:
    """The agencies each named review shows at work, each under its own heading with the first dated sentence
    of its involvement, in the order they came into the case."""
    groups: list[tuple[str | None, list[Candidate]]] = []
    hits: list[Hit] = []
    for review in reviews:
        found = agencies_involved(index, review)
        if not found:
            continue
        groups.append((f"Agencies involved: {review.title}", []))
        for rank, inv in enumerate(found):
            hit = Hit(inv.passage, review, 1.0)
            hits.append(hit)
            text = inv.passage.text[inv.start:inv.end]
            groups.append((inv.agency, [Candidate(text, hit, rank, inv.start, 1.0, None, frozenset())]))
    if not hits:
        return None
    lines, citations = render(groups)
    return Answer(question, "\n".join(lines), False, citations, hits, [], standalone)


def _coroner_concerns(index: Index, reports: list[DocumentInfo]) -> dict[str, list[Hit]]:
    """The "Matters of concern" passages of each coroner's report about the person asked about, in order: the
    coroner's own list of what must change, which an answer covers in full."""
    out: dict[str, list[Hit]] = {}
    passages_of = index.passages_of([d.id for d in reports])
    for d in reports:
        passages = passages_of[d.id]
        start = next((i for i, p in enumerate(passages)
                      if _CONCERNS.search(p.section or "") or _CONCERNS_HEADING.search(p.text)), None)
        if start is None:  # the heading had no passage: it stood straight above its items' own headings
            start = _first_item_after_circumstances(passages)
        if start is None:
            continue
        found: list[Hit] = []
        # from the heading to the report's next part: the concerns' own sub-headings ("1) Staff training") are
        # sections of their own, and a heading read as text has none
        for p in passages[start:]:
            if found and (_AFTER_CONCERNS.match(p.section or "") or _AFTER_CONCERNS.match(p.text)):
                break
            found.append(Hit(p, d, 1.0))
        out[d.id] = found
    return out


def _first_item_after_circumstances(passages: list[Passage]) -> int | None:
    """The first passage under a numbered or lettered heading ("1) Effectiveness of shift handover meetings") after
    the report's circumstances of the death: in the template the concerns come next."""
    seen = False
    for i, p in enumerate(passages):
        section = p.section or ""
        seen = seen or bool(_CIRCUMSTANCES.search(section))
        if seen and _ITEM_HEADING.match(section):
            return i
    return None


# A list item's marker at the start of a line: a bullet, a dash, "(a)", "b)", "3.", "(ii)".
_LIST_ITEM = re.compile(r"(?m)^[ \t]*(?:[•●▪◦·*–-]|\(?(?:\d{1,2}|[a-z]|[ivx]{1,4})[.)])[ \t]+", re.I)


def _list_items(text: str, spans: list[tuple[int, int]]) -> list[list[tuple[int, int]]]:
    """The sentences (`spans`, in order) grouped by the list item they stand in: one group when the text is not a
    list of two or more items."""
    starts = [m.start() for m in _LIST_ITEM.finditer(text)]
    if len(starts) < 2:
        return [spans] if spans else []
    groups: dict[int, list[tuple[int, int]]] = {}
    for a, b in spans:
        groups.setdefault(sum(s <= a for s in starts), []).append((a, b))
    return list(groups.values())


def _concerns_offset(text: str) -> int:
    """Where the concerns begin in a passage that holds their heading as a line of text (0 when it holds none): a
    report's circumstances can share the passage the heading stands in."""
    m = _CONCERNS_HEADING.search(text)
    return m.end() if m else 0


_CONCERNS = re.compile(r"concern", re.I)
# The template's heading when the reader kept it as a line of text ("Matters of concern", "CORONER'S CONCERNS",
# "5 Coroner's concerns"), and the template's parts after the concerns.
_CONCERNS_HEADING = re.compile(r"(?im)^[ \t]*(?:\d+\.?[ \t]*)?(?:matters? of concern|coroner['’]?s concerns)\b:?")
_CIRCUMSTANCES = re.compile(r"circumstances", re.I)
_ITEM_HEADING = re.compile(r"\W*(?:\d{1,2}|[a-z]|[ivx]{1,4})[.)]\s", re.I)
_AFTER_CONCERNS = re.compile(r"(?i)[ \t]*(?:\d+\.?[ \t]*)?(?:action should be taken|your response|copies and "
                             r"publication)\b")
# "What caused Dean Griffiths' death?", "How did she die?": the finding of the inquest answers that before the
# concerns do; "root causes" and "contributing factors" ask for the conditions, which the concerns are.
_CAUSE_ASKED = re.compile(r"\bcaus(?:e|ed|es)\b|\bhow did\b.*\bdie\b", re.I)
_CAUSE_STATED = re.compile(r"\bcause of\b.*\bdeath\b", re.I)


def _asks_cause(question: str) -> bool:
    from vectorstore.query import CONDITIONS_QUESTION

    return bool(_CAUSE_ASKED.search(question)) and not CONDITIONS_QUESTION.search(question)


def _direct_answer(standalone: str, scope: QuestionScope, hits: list[Hit],
                   concerns: dict[str, list[Hit]]) -> list[Candidate]:
    """For a closed question about the person ("Were neurological observations carried out on Lucy Goulding?",
    "How long did he wait?"), the report's sentences that answer it, from outside its concerns: the concerns
    alone answer what went wrong, not what happened."""
    if scope.preceded or not _CLOSED_QUESTION.search(standalone):
        return []
    from vectorstore.lexical import common_topic_stems, lexical_tokens

    listed = {h.id for found in concerns.values() for h in found}
    own = [h for h in hits if h.document.id in concerns and h.id not in listed]
    # a sentence answers only if it shares what the question asks about, not just the person's name: "How long
    # did Rainer Wickens remain untreated for clot formation in A&E?" is not answered by "… opened an inquest
    # into the death of Rainer Wickens"
    named = " ".join(p.text for p in scope.people)
    topic = set(lexical_tokens([standalone])[0]) - common_topic_stems() - set(lexical_tokens([named])[0])
    cands = [c for c in candidates(standalone, own, scope.latent) if not topic or c.stems & topic]
    return select(cands, DIRECT_SENTENCES)


# A question a fact answers (yes or no, when, who, how long) rather than "what went wrong".
_CLOSED_QUESTION = re.compile(rf"^\W*(?:{AUXILIARIES}|when|where|who|whom|how (?:many|much|long|old|often|soon|did))\b",
                              re.I)


def _cause_of_death(hits: list[Hit], reports: list[DocumentInfo]) -> list[Candidate]:
    """The sentence of the report that states the cause of death, from the best-ranked of its passages that has
    one ("The jury found that the cause of Dean's death was: 1a. Hypovolaemic shock 1b. Gunshot wound…")."""
    from vectorstore.sentences import split_sentences

    ids = {d.id for d in reports}
    for rank, h in enumerate(hits):
        if h.document.id in ids:
            for a, b in split_sentences(h.text):
                if _CAUSE_STATED.search(h.text[a:b]):
                    return [Candidate(h.text[a:b], h, rank, a, 1.0, None, frozenset())]
    return []
# The statutory wording around the concerns, which states none: "In my opinion there is a risk that future deaths
# will occur unless action is taken", "The MATTERS OF CONCERN are as follows".
_STATUTORY = re.compile(r"\b(risk that future deaths (will|could) occur|matters of concern are as follows|"
                        r"in the circumstances it is my statutory duty|you are under a duty|action should be taken)\b",
                        re.I)


def _compose_concerns(question: str, standalone: str, concerns: dict[str, list[Hit]], hits: list[Hit],
                      lead: tuple[str, list[Candidate]]) -> Answer:
    """Every concern the coroner raised, each by the sentence that states it best, grouped by latent-condition
    category (conditions first, then the failures at the sharp end, then the rest of the narrative), one heading
    per report when the name matches more than one; `lead` (a heading and its sentences: the cause of death when
    it was asked, or those that answer a closed question) first, when it has any."""
    from vectorstore.sentences import split_sentences
    from vectorstore.taxonomy import category_labels, load_taxonomy, tag_sentences

    order = {c.id: i for i, c in enumerate(load_taxonomy())}
    levels = {c.id: c.level for c in load_taxonomy()}
    labels = category_labels()
    groups: list[tuple[str | None, list[Candidate]]] = []
    several = len(concerns) > 1
    for found in concerns.values():
        chosen: list[tuple[tuple[int, int], str, Candidate]] = []
        for rank, h in enumerate(found):
            begin = _concerns_offset(h.text)
            spans = [(a, b) for a, b in split_sentences(h.text) if a >= begin
                     and len(h.text[a:b].split()) >= 3 and not _STATUTORY.search(h.text[a:b])]
            # a passage is one concern, or a list of them ("• Gaps in the medical notes • Poor verbal
            # communication at handovers…"): then each item is one, and each is quoted
            for item in _list_items(h.text, spans):
                texts = [h.text[a:b] for a, b in item]
                tags = tag_sentences(texts)
                # the sentence that states a condition most surely; else the concern's opening sentence
                scored = [(max((t.confidence for t in ts if t.polarity == "negative"), default=0.0), i, ts)
                          for i, ts in enumerate(tags)]
                conf, i, ts = max(scored, key=lambda x: (x[0], -x[1]))
                a, b = item[i if conf > 0 else 0]
                negative = [t for t in (ts if conf > 0 else tags[0]) if t.polarity == "negative"]
                best = max(negative, key=lambda t: (levels[t.category] == "latent", t.confidence), default=None)
                category = best.category if best else None
                key = (0 if category and levels[category] == "latent" else 1 if category else 2,
                       order.get(category or "", 99))
                chosen.append((key, category or "", Candidate(h.text[a:b], h, rank, a, 1.0, category, frozenset())))
        by_category: OrderedDict[str, list[Candidate]] = OrderedDict()
        for _key, category, c in sorted(chosen, key=lambda x: (x[0], x[2].rank)):
            by_category.setdefault(labels.get(category, "Other concerns"), []).append(c)
        title = found[0].document.title
        if several:
            groups.append((title, []))
        for label, items in by_category.items():
            groups.append((label if not several else f"{label} ({title})", items))
    if not any(items for _, items in groups):
        return Answer(question, f"{REFUSAL}\nThe coroner's report has no matters of concern.", True, [], hits,
                      hits[:5], standalone, reason="no matters of concern")
    first = next(iter(concerns.values()))[0].document.title
    intro: list[tuple[str | None, list[Candidate]]] = [] if several else [(f"Matters of concern: {first}", [])]
    if lead[1]:
        intro = [lead, *intro]
    lines, citations = render([*intro, *groups])
    every = [h for found in concerns.values() for h in found]
    return Answer(question, "\n".join(lines), False, citations, every + hits, [], standalone)


# -- refusal ---------------------------------------------------------------------------------------------------
def _floor(index: Index) -> float:
    return MIN_SIMILARITY.get(index.embedder.name, OTHER_MODEL_MIN_SIMILARITY)


def _weak_evidence(scope: QuestionScope, hits: list[Hit], floor: float) -> str | None:
    """Why the evidence does not answer the question, or None when it may (`floor`: the model's least similarity
    of a passage about the question)."""
    hits = [h for h in hits if not h.boilerplate]  # an address block naming Manchester is not about Manchester
    if not hits:
        return "no passage matches the question and its filters"
    best = max(h.why.similarity for h in hits[:5])
    if best < floor:
        return f"no passage is close to the question (best similarity {best:.2f})"
    top = hits[:8]
    for council in scope.councils:  # any spelling; a former council's successors count from the change on
        if not any(council_matches(h.document.council, h.document.period_end or h.document.published, council)
                   for h in top) and not _names_council(top, council):
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


def _names_council(hits: list[Hit], council: str) -> bool:
    """Does the evidence itself name the council (in its text, title or header)? A coroner's report sent to
    Bedford Borough Council is about a death, not about Bedford, but it does answer what was said to Bedford."""
    wanted = canonical_council(council)
    return any(wanted in councils_named(f"{h.text}\n{h.document.title}\n{h.document.about or ''}") for h in hits)


def _covers_year(hit: Hit, year: int) -> bool:
    d = hit.document
    if str(year) in hit.text or (d.published or "").startswith(str(year)):
        return True
    start, end = (d.period_start or "")[:4], (d.period_end or "")[:4]
    return bool(start and end and start <= str(year) <= end)


def _refuse(index: Index, question: str, query: Query, reason: str, filters: SearchFilters,
            hits: list[Hit] | None = None) -> Answer:
    nearest = hits[:5] if hits else index.rank(RankRequest(query, 5, filters)).hits
    text = f"{REFUSAL}\n{reason[0].upper()}{reason[1:]}.\n{NEAREST_INTRO if nearest else ''}".strip()
    return Answer(question, text, True, [], hits or [], nearest, query.text, reason=reason)


# -- composing -------------------------------------------------------------------------------------------------
def _compose(question: str, standalone: str, scope: QuestionScope, hits: list[Hit]) -> Answer:
    cands = candidates(standalone, hits, scope.latent)
    limit = LATENT_SENTENCES if scope.latent else MAX_SENTENCES
    # A question about Child R's death is answered from Child R's review first; letters about the council add
    # only the conditions the review does not state.
    prefer = frozenset(h.document.id for h in hits if h.document.child and h.document.child in scope.children)
    chosen = select(cands, limit, per_category=1 if scope.latent else 0, quantity=scope.quantity, prefer=prefer)
    if not chosen or (scope.quantity and not _figure_on_topic(standalone, chosen, scope.quantity)):
        reason = "the passages found state no figure" if chosen else "no sentence of the passages found answers it"
        text = f"{REFUSAL}\n{reason[0].upper()}{reason[1:]}.\n{NEAREST_INTRO}"
        return Answer(question, text, True, [], hits, hits[:5], standalone, reason=reason)
    lines, citations = render(_group(chosen, scope.latent))
    return Answer(question, "\n".join(lines), False, citations, hits, [], standalone)


def _figure_on_topic(question: str, chosen: list[Candidate], quantity: str) -> bool:
    """A figure question needs a sentence that states a figure *and* shares what the question counts: "16 and
    17-year-old homeless children" does not answer "the average number of children on a caseload"."""
    from vectorstore.lexical import common_topic_stems, lexical_tokens

    common = common_topic_stems()
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
    numbers = CitationNumbers()
    lines: list[str] = []
    for heading, items in groups:
        if heading:
            if lines:
                lines.append("")
            lines.append(f"**{heading}**")
        for c in items:
            n = numbers.cite(c.hit, c.text)
            lines.append(f"{' '.join(c.text.split())} [{n}]")  # a table row's cells may span lines
    return lines, numbers.citations()


def _per_review(index: Index, question: str, query: Query, scope: QuestionScope, filters: SearchFilters,
                reviews: list[DocumentInfo], docs: dict[str, DocumentInfo]) -> Answer:
    """'What went wrong before the child died?' with several reviews in scope: an answer for each review, the
    reviews closest to the question first."""
    groups: list[tuple[str | None, list[Candidate]]] = []
    all_hits: list[Hit] = []
    best = index.rank_each([RankRequest(query, 3, _with_documents(filters, {d.id})) for d in reviews])
    closeness = {d.id: max((h.why.similarity for h in found.hits), default=0.0) for d, found in zip(
        reviews, best, strict=True)}
    ranked = sorted(reviews, key=lambda d: -closeness[d.id])[:MAX_REVIEWS]
    scopes = [_with_documents(filters, _preceding(review, docs, scope)) for review in ranked]
    found = index.rank_each([RankRequest(query, 8, scoped, latent=scope.latent) for scoped in scopes])
    for review, result in zip(ranked, found, strict=True):
        hits = result.hits
        if _weak_evidence(replace(scope, names=(), years=()), hits, _floor(index)):
            continue
        chosen = select(candidates(query.text, hits, scope.latent), PER_REVIEW_SENTENCES,
                        per_category=1 if scope.latent else 0)
        if chosen:
            label = review.title + (f" ({review.child})" if review.child and review.child not in review.title else "")
            groups.append((label, sorted(chosen, key=lambda c: (c.hit.passage.page, c.start))))
            all_hits.extend(hits)
    if not groups:
        return _refuse(index, question, query, "no review in scope has passages that answer it", filters)
    lines, citations = render(groups)
    return Answer(question, "\n".join(lines), False, citations, all_hits, [], query.text)


def _llm_standalone(llm: Any, question: str, history: Any) -> str:
    from assistant.llm_answer import rewrite_followup

    return rewrite_followup(llm, question, history)
