"""Extractive answers: the best sentences of the best passages, de-duplicated, in a readable order, each ending
with its citation. Every sentence is a verbatim span of the passage it cites (spans come from
`vectorstore.sentences.split_sentences`, which never rewrites text).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from vectorstore.lexical import latent_question_stems, lexical_tokens
from vectorstore.records import Hit
from vectorstore.sections import (
    FRAMING,
    JUDGEMENT_ASKED,
    PRESCRIBES,
    is_grade_line,
    prescribes_or_frames,
    states_judgement,
)
from vectorstore.sentences import split_sentences

_NUMBER_WORDS = re.compile(r"\d|\b(one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|twenty|thirty|"
                           r"forty|fifty|sixty|hundred|half|quarter|third|majority|minority|most|all|none)\b", re.I)
OTHER_FINDINGS = "Other findings"  # the heading of sentences that evidence no latent condition


@dataclass(frozen=True)
class Candidate:
    """A sentence of a retrieved passage, scored for the question."""

    text: str
    hit: Hit
    rank: int  # the passage's rank in retrieval (0 = best)
    start: int  # offset in the passage, for reading order
    score: float
    category: str | None  # the latent-condition category it evidences (negative polarity), if any
    stems: frozenset[str]
    confidence: float = 0.0  # the tagger's confidence in `category`


# The best sentence of each of the top passages leads an answer (5 measured better than 3 on both gold sets:
# the expected passage was often 4th or 5th and went uncited); answers grouped by latent category keep 3, so
# that category evidence, not the review's framing paragraphs, fills them.
LEAD_PASSAGES = 5
LATENT_LEAD_PASSAGES = 5
# A letter's date, addressee and salutation run into its first sentence ("27 June 2025 Sandra Bruce Director…
# Dear Ms Bruce Focused visit to Bolton… This letter summarises…"): that is not a finding to quote.
_LETTER_HEAD = re.compile(r"\bDear (?:Mr|Mrs|Ms|Miss|Mx|Dr|Professor|Councillor|Sir|Madam|[A-Z][a-z]+)\b")
_ABOUT_THE_VISIT = re.compile(r"^\s*(?:(?:His|Her) Majesty[’']s Inspectors? for this (?:visit|inspection)|"
                              r"The lead inspector|Inspectors (?:looked|reviewed|considered|spoke|met|also)|"
                              r"This letter summarises|This visit was carried out)\b")

# A report's title block runs into the sentence the splitter reads from it ("London Borough of Islington Inspection
# of children's social care services Inspection dates: 9 March 2020 to 13 March 2020"): it is a finding only when
# the question asks when.
_TITLE_BLOCK = re.compile(r"\b(?:Inspection dates?|Report published|Dates? of (?:the )?(?:visit|inspection)|"
                          r"Lead inspector)\b\s*:?", re.I)
_WHEN_ASKED = re.compile(r"\b(?:when|dates?|how long ago)\b", re.I)


def closeness(h: Hit, latent: bool) -> float:
    """How close a hit's passage is to the question (cosine, from the ranking); for a latent-conditions question a
    passage close to the summary of a latent category it is tagged with counts as close too."""
    c = h.why.category_similarity
    return max(h.why.similarity, c) if latent and c is not None else h.why.similarity


def candidates(question: str, hits: list[Hit], latent: bool) -> list[Candidate]:
    """Every sentence of the hits, scored: how close its passage is to the question (`closeness`), words shared
    with the question, and (for why / latent-conditions questions) whether it states an organisational condition,
    with sentences from a review's framing sections (introduction, methodology) demoted."""
    spans: list[tuple[Hit, int, int, int]] = []
    for rank, h in enumerate(hits):
        if h.boilerplate:
            continue
        sentences = split_sentences(h.text)
        for i, (a, end) in enumerate(sentences):
            if is_grade_line(h.text[a:end]):
                continue  # read with the area it grades, just above
            if i + 1 < len(sentences) and is_grade_line(h.text[slice(*sentences[i + 1])]):
                # a judgement table's line: the area, then its grade below it, is one statement
                end = sentences[i + 1][1]
            if len(h.text[a:end].split()) >= 5 and not _LETTER_HEAD.search(h.text, a, end):
                spans.append((h, rank, a, end))
    if not spans:
        return []
    texts = [h.text[a:b] for h, _, a, b in spans]
    q = set(lexical_tokens([question])[0])
    if latent:
        # "What latent conditions preceded Child R's death?" asks for conditions, not for sentences that repeat
        # its words: those are the review's framing ("the circumstances of Child R's death…"). Only what the
        # question names as its topic ("management absence", "IT") is matched word for word.
        q -= latent_question_stems() | _name_stems(hits)
    tagged = _tags(texts) if latent else [(None, 0.0)] * len(texts)
    if latent:
        # what should or will need to happen ("...will need to check that they are sustained, particularly if
        # financial pressure returns") names a condition as a risk to come, not as one found before the event
        tagged = [(None, 0.0) if _OBLIGES.search(t) else tc for t, tc in zip(texts, tagged, strict=True)]
    sims = {h.id: closeness(h, latent) for h in hits}
    judgement = bool(JUDGEMENT_ASKED.search(question))
    when = bool(_WHEN_ASKED.search(question))
    out = []
    for (h, rank, a, _end), text, stems, (cat, conf) in zip(spans, texts, lexical_tokens(texts), tagged,
                                                            strict=True):
        s = frozenset(stems)
        overlap = len(q & s) / max(1, len(q))
        score = 1.5 * sims[h.id] + 0.5 / (1 + rank) + 0.8 * overlap
        if latent:
            score += 0.6 if cat else 0.0
            score -= 0.5 if FRAMING.search(h.passage.section or "") else 0.0
            # a recommendation prescribes what should change; it is not evidence of what the conditions were
            score -= 0.5 if PRESCRIBES.search(text) or PRESCRIBES.search(h.passage.section or "") else 0.0
        # asked how a council was judged, the sentences that state a judgement answer it, the judgement table's
        # lines too ("Leadership, management and governance Requires improvement")
        stated = judgement and states_judgement(text)
        if text.rstrip()[-1:] not in ".!?)\"”’" and not stated:
            score -= 0.3  # a heading or a fragment, not a statement
        if stated:
            score += 0.4
        if _ABOUT_THE_VISIT.search(text) or (not when and _TITLE_BLOCK.search(text)):
            score -= 1.0  # who inspected and how: a finding only when that is what is asked
        out.append(Candidate(text, h, rank, a, score, cat, s, conf))
    return out


_OBLIGES = re.compile(r"\b(?:should|must|ought to|(?:will|would) need to|needs to|is recommended|are recommended)\b",
                      re.I)


def _name_stems(hits: list[Hit]) -> set[str]:
    """The child and council of each retrieved document, as stems: every passage there shares them."""
    names = list(dict.fromkeys(" ".join(x for x in (h.document.child, h.document.council) if x) for h in hits))
    names = [n for n in names if n]
    return {t for tokens in lexical_tokens(names) for t in tokens} if names else set()


def _tags(texts: list[str]) -> list[tuple[str | None, float]]:
    """Each sentence's surest latent condition (negative) and the tagger's confidence in it."""
    from vectorstore.taxonomy import tag_sentences

    out: list[tuple[str | None, float]] = []
    for tags in tag_sentences(texts):
        latent = [t for t in tags if t.level == "latent" and t.polarity == "negative"]
        best = max(latent, key=lambda t: t.confidence) if latent else None
        out.append((best.category, best.confidence) if best else (None, 0.0))
    return out


def select(cands: list[Candidate], limit: int, per_category: int = 0, quantity: str | None = None,
           prefer: frozenset[str] = frozenset()) -> list[Candidate]:
    """Best first, skipping near-duplicates (Jaccard over stems ≥ 0.5); with `per_category`, first take the best
    sentence of each latent category so the answer spans the conditions, not one of them, from the documents in
    `prefer` (the review of the child the question names) before any other."""
    chosen: list[Candidate] = []

    def novel(c: Candidate) -> bool:
        return all(len(c.stems & o.stems) / max(1, len(c.stems | o.stems)) < 0.5 for o in chosen) and \
            all(c.text != o.text for o in chosen)

    ranked = sorted(cands, key=lambda c: -c.score)
    if ranked:
        # The best sentence of each of the top passages leads: retrieval's best evidence is always quoted.
        for rank in range(LEAD_PASSAGES if not per_category else LATENT_LEAD_PASSAGES):
            lead = [c for c in ranked if c.rank == rank and (not quantity or states_a_figure([c.text], quantity))
                    and not (per_category and prescribes_or_frames(c.hit.passage))][:1]
            if lead and novel(lead[0]) and lead[0].score >= 0.5 * ranked[0].score:
                chosen.extend(lead)
    if per_category:
        seen: dict[str, int] = {}
        floor = 0.6 * ranked[0].score  # a category earns a line only with evidence near the best's strength
        # per category, the sentence the tagger is surest states that condition (in steps of 0.05; then the
        # best scored): the question's own words say little about which sentence shows caseloads or cuts
        # ...except in the review the question names (`prefer`): its passages were probed per category to span
        # the conditions, and the surest statement of each is the evidence asked for, whatever its rank
        by_category = sorted((c for c in ranked if c.category and (c.score >= floor or c.hit.document.id in prefer)
                              and not prescribes_or_frames(c.hit.passage)),
                             key=lambda c: (c.hit.document.id not in prefer, -round(c.confidence * 20), -c.score))
        for c in by_category:
            if c.category and seen.get(c.category, 0) < per_category and novel(c) and len(chosen) < limit:
                chosen.append(c)
                seen[c.category] = seen.get(c.category, 0) + 1
    for c in ranked:
        if len(chosen) >= limit:
            break
        if quantity and not states_a_figure([c.text], quantity):
            continue
        if per_category and prescribes_or_frames(c.hit.passage):
            continue  # what a review recommends is not a condition it found
        if novel(c) and c.score > 0.6:
            chosen.append(c)
    return chosen


_DATES = re.compile(r"\b\d{1,2}(st|nd|rd|th)?\s+(January|February|March|April|May|June|July|August|September|"
                    r"October|November|December)\b|\b(19|20)\d\d\b|\b\d+\.\d+\b(?=\s+[A-Z])", re.I)
# Inspectors often count in words: "very few children have an independent visitor", "a small number of care
# leavers", "there have been no tenancy breakdowns". Not for a percentage: "a significant minority of children"
# does not say what share of social workers left (the Ofsted gold set's o-48); there a count and its total do.
_COUNT_WORDS = (r"\b(very |too )?few\b|\b(the )?(majority|minority)\b|\bnone\b|\bhandful\b|"
                r"\ba (very )?(small|large|high|low|significant|growing|increasing|reduced|reducing) "
                r"(number|proportion)\b|"
                r"\bno (\w+ ){0,2}(breakdowns?|children|young people|care leavers|vacancies|cases|referrals|"
                r"complaints|families|staff|social workers|members)\b")
_FIGURES = {
    "number": re.compile(r"\b\d+\b|\b(two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|fifteen|twenty|"
                         r"thirty|forty|fifty|sixty|hundred)\b|" + _COUNT_WORDS, re.I),
    "percent": re.compile(r"\d\s*%|\bper ?cent\b|\b(half|a third|a quarter|one in \w+|two in \w+)\b|"
                          r"\b\d+ (out )?of (the |its |their |these )?\d+\b", re.I),
    "money": re.compile(r"£\s?\d|\b\d+(\.\d+)? ?(million|m|bn|billion|thousand|k)\b|\bpounds\b", re.I),
}


def states_a_figure(texts: list[str], kind: str = "number") -> bool:
    """Does any text state the kind of figure asked for? Dates and years are not figures."""
    pattern = _FIGURES.get(kind, _FIGURES["number"])
    for t in (_DATES.sub(" ", t) for t in texts):
        # a proportion may be given as a count and its total: "of the 271 social workers, 45 are agency staff"
        if pattern.search(t) or (kind == "percent" and len(re.findall(r"\b\d+\b", t)) >= 2):
            return True
    return False


def category_label(category: str | None) -> str:
    """The taxonomy's label of a latent condition (`vectorstore/taxonomy/taxonomy.json`), or "Other findings"."""
    from vectorstore.taxonomy import category_labels

    return category_labels().get(category or "", OTHER_FINDINGS)
