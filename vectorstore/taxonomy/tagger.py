"""Tag sentences and passages with taxonomy categories (latent conditions, active failures, defences) and polarity.

A deterministic, pattern-based tagger: it runs on every passage at ingest, so it must be fast (no model, no
download) and explainable. For each category, topic patterns (`patterns.TOPICS`) give evidence whose
weights combine as independent signals; a sentence carries every category whose evidence reaches `THRESHOLD`.
Polarity comes from cues in the sentence, weighted by clause: in "Although caseloads have reduced, they remain too
high" the concessive clause counts half and the main clause one and a half, so the mention is negative.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from vectorstore.records import Tag
from vectorstore.sentences import split_sentences
from vectorstore.taxonomy.categories import load_taxonomy
from vectorstore.taxonomy.patterns import (
    BURDENS,
    CUES,
    DEFINITION_OR_SCOPE,
    DIMINISHERS,
    EXCLUSIONS,
    IMPROVEMENT_ITEM,
    INCREASERS,
    METHOD_SENTENCE,
    NEGATORS,
    TOPICS,
    has_finite_verb,
)

__all__ = ["THRESHOLD", "is_framing_sentence", "pattern_tags", "tag_passage", "tag_sentence", "tag_sentences"]

# Evidence needed to tag: one strong pattern (0.55+) or two weak ones together (0.45 and 0.45 make 0.70).
THRESHOLD = 0.55
# When no cue speaks either way the mention is read as positive: findings stated plainly in inspection letters
# ("Strategy meetings are held when risks are identified") describe practice that is happening.
DEFAULT_POLARITY = 1

_CONTRAST = re.compile(
    r"(?P<concession>\b(?:although|though|even though|while|whilst|despite|notwithstanding|apart from)\b)"
    r"|(?P<turn>\b(?:but|however|(?<!not )(?<!as )yet(?! to)|nevertheless|nonetheless|whereas|except)\b)"
    r"|(?P<purpose>\b(?:(?:in order )?to (?:ensure|enable|achieve|secure|drive|keep|promote|deliver|make sure)"
    r"|so that)\b)"
    r"|(?P<stop>[;:—]|\s–\s)",
    re.IGNORECASE,
)
_WORD = re.compile(r"[\w’'-]+")


@dataclass(frozen=True)
class _Clause:
    start: int
    end: int
    weight: float


@lru_cache(maxsize=1)
def _levels() -> dict[str, str]:
    return {c.id: c.level for c in load_taxonomy()}


def _clauses(text: str) -> list[_Clause]:
    """Split at contrast markers; weight main clauses above concessions ("although X, Y": X 0.5, Y 1.5)."""
    cuts: list[tuple[int, str]] = [(0, "start")]
    for match in _CONTRAST.finditer(text):
        kind = match.lastgroup or "stop"
        cuts.append((match.start(), kind))
    spans = [(pos, kind, cuts[i + 1][0] if i + 1 < len(cuts) else len(text)) for i, (pos, kind) in enumerate(cuts)]
    clauses: list[_Clause] = []
    for i, (start, kind, end) in enumerate(spans):
        weight = 1.0
        if kind == "concession":
            weight = 0.5
            # A leading concession ends at its comma: the rest of the sentence is the main clause, weighted up.
            comma = text.find(",", start, end)
            if comma != -1 and end - comma > 12:
                clauses.append(_Clause(start, comma, 0.5))
                clauses.append(_Clause(comma, end, 1.5))
                continue
        elif kind == "purpose":
            # "... not subject to sufficient oversight to ensure the effective management of risk": what a purpose
            # clause hopes for is not a finding, so its cues barely count.
            weight = 0.25
        elif kind == "turn":
            weight = 1.5
            if clauses and clauses[-1].weight == 1.0:
                clauses[-1] = _Clause(clauses[-1].start, clauses[-1].end, 0.7)
        if i > 0 and spans[i - 1][1] == "concession" and kind == "start":
            weight = 1.5
        clauses.append(_Clause(start, end, weight))
    return clauses


def _clause_of(clauses: list[_Clause], offset: int) -> int:
    for i, clause in enumerate(clauses):
        if clause.start <= offset < clause.end:
            return i
    return len(clauses) - 1


def _negator_before(text: str, start: int, lower_bound: int) -> re.Match[str] | None:
    """The negator governing a word at `start`: at most three words back, with no comma in between."""
    window_start = max(lower_bound, start - 40)
    last: re.Match[str] | None = None
    for match in NEGATORS.finditer(text, window_start, start):
        last = match
    if last is None:
        return None
    between = text[last.end():start]
    if "," in between or len(_WORD.findall(between)) > 3:
        return None
    return last


def _clause_scores(text: str, clauses: list[_Clause], topic_hits: list[tuple[int, int, int, float]]) -> list[float]:
    """Net polarity evidence per clause: cues, negations, reductions of burdens, and topics' own polarity."""
    scores = [0.0] * len(clauses)
    consumed: set[int] = set()
    occupied: list[tuple[int, int]] = []

    def add(start: int, end: int, polarity: int, weight: float) -> None:
        i = _clause_of(clauses, start)
        negator = _negator_before(text, start, clauses[i].start)
        if negator is not None:
            polarity = -polarity
            consumed.add(negator.start())
        scores[i] += polarity * weight
        occupied.append((start, end))

    lowered = text.lower()
    for cue in CUES:
        if cue.anchors is not None and not any(a in lowered for a in cue.anchors):
            continue
        for match in cue.pattern.finditer(text):
            if cue.weight > 0 and not any(s <= match.start() < e for s, e in occupied):
                add(match.start(), match.end(), cue.polarity, cue.weight)
                # A cue that contains its own negator ("not ... enough") has counted it already.
                consumed.update(n.start() for n in NEGATORS.finditer(text, match.start(), match.end()))
    for start, end, polarity, weight in topic_hits:
        if polarity and not any(s <= start < e for s, e in occupied):
            add(start, end, polarity, weight)
    for burden in BURDENS.finditer(text):
        # "reduced caseloads", "caseloads have reduced", "turnover is lower": good news about a bad thing.
        i = _clause_of(clauses, burden.start())
        near = text[max(clauses[i].start, burden.start() - 35):min(clauses[i].end, burden.end() + 35)]
        if DIMINISHERS.search(near):
            scores[i] += 1.2
        elif INCREASERS.search(near):
            scores[i] -= 0.8
        negator = _negator_before(text, burden.start(), clauses[i].start)
        if negator is not None and negator.start() not in consumed:
            scores[i] += 1.8  # "no waiting list", "without delay": cancels the negator counted below
            consumed.add(negator.start())
    for negator in NEGATORS.finditer(text):
        if negator.start() not in consumed:
            scores[_clause_of(clauses, negator.start())] -= 0.8
    return scores


def pattern_tag(text: str) -> list[Tag]:
    """The tags of one sentence, strongest first; [] for a sentence about nothing in the taxonomy."""
    stripped = text.strip()
    if not stripped or METHOD_SENTENCE.match(stripped.lstrip("‘'\"“(")):
        return []
    evidence: dict[str, dict[str, float]] = {}
    where: dict[str, list[int]] = {}
    topic_hits: list[tuple[int, int, int, float]] = []
    lowered = stripped.lower()
    for topic in TOPICS:
        if topic.anchors is not None and not any(a in lowered for a in topic.anchors):
            continue
        match = topic.pattern.search(stripped)
        if match is None:
            continue
        per_category = evidence.setdefault(topic.category, {})
        per_category[topic.pattern.pattern] = topic.weight
        where.setdefault(topic.category, []).append(match.start())
        if topic.polarity:
            topic_hits.append((match.start(), match.end(), topic.polarity, 0.9 * topic.weight))
    if not evidence:
        return []
    clauses = _clauses(stripped)
    clause_scores = _clause_scores(stripped, clauses, topic_hits)
    # Agency names alone ("the health visitor", "police") are weak evidence of multi-agency *arrangements*; in a
    # sentence already about information not passed on in the case they are the case's actors, not the system.
    if "case_info_sharing" in evidence and "multiagency" in evidence and max(evidence["multiagency"].values()) < 0.6:
        del evidence["multiagency"]
    # An improvement item or recommendation names a weakness without a negative word in it.
    bias = -1.5 if IMPROVEMENT_ITEM.match(stripped) and (not has_finite_verb(stripped)
                                                       or stripped.lower().startswith("recommendation")) else 0.0
    levels = _levels()
    tags: list[Tag] = []
    for category, weights in evidence.items():
        missing = 1.0
        for weight in weights.values():
            missing *= 1.0 - weight
        confidence = 1.0 - missing
        exclusion = EXCLUSIONS.get(category)
        if exclusion is not None and max(weights.values()) < 0.9 and exclusion.search(stripped):
            continue
        if confidence < THRESHOLD:
            continue
        own = {_clause_of(clauses, pos) for pos in where[category]}
        score = bias + sum(c.weight * s * (1.0 if i in own else 0.5)
                           for i, (c, s) in enumerate(zip(clauses, clause_scores, strict=True)))
        polarity = DEFAULT_POLARITY if abs(score) < 1e-9 else (1 if score > 0 else -1)
        tags.append(Tag(category=category, level=levels.get(category, "latent"),
                        polarity="positive" if polarity > 0 else "negative",
                        confidence=round(min(confidence, 0.99), 3)))
    tags.sort(key=lambda t: (-t.confidence, t.category))
    return tags


def pattern_tags(texts: list[str]) -> list[list[Tag]]:
    """The hand-written patterns' tags for each text: the learned tagger's features, and the tagger itself when
    no trained model is shipped."""
    return [pattern_tag(text) for text in texts]


# A method or definition opening followed by a turn states a finding after all ("The aim was to bring help closer
# to families, but the new arrangements are not yet fully embedded"); "Section 47 enquiries…" is not a section.
_FINDING_AFTER_ALL = re.compile(r"\b(?:but|however|although|yet)\b|^section (?:17|20|31|47)\b", re.IGNORECASE)


def is_framing_sentence(text: str) -> bool:
    """Does this sentence describe the inspection or review itself, or define a term, rather than state a finding?
    Such sentences get no tags, even read alone (`latent tag`), where the passage's role is not known."""
    stripped = text.strip().lstrip("‘'\"“(")
    if not (METHOD_SENTENCE.match(stripped) or DEFINITION_OR_SCOPE.search(stripped)):
        return False
    return not _FINDING_AFTER_ALL.search(stripped)


def tag_sentences(texts: list[str]) -> list[list[Tag]]:
    """Tags for each text, one list per input in order (contract: `latent tag`; `ingest.tag_sentences` is this):
    the learned tagger (vectorstore/taxonomy/learned.py) over the patterns' votes; none for a framing sentence."""
    from vectorstore.taxonomy import learned

    votes = pattern_tags(texts)
    if not learned.available():
        return votes
    return [[] if is_framing_sentence(text) else tags
            for text, tags in zip(texts, learned.tag_sentences(texts, votes), strict=True)]


def tag_sentence(text: str) -> list[Tag]:
    return tag_sentences([text])[0]


# Sections whose sentences are never tagged: contents, introductions, method, definitions and fictional-case
# notes describe the review, not the case's conditions; cover pages and back matter are not findings at all.
ABSTAIN_ROLES = frozenset({"framing", "cover", "back_matter"})


def tag_passage(text: str, role: str = "finding") -> tuple[Tag, ...]:
    """The union of a passage's sentences' tags, keeping the highest confidence per (category, polarity);
    none for a passage whose role is not a finding."""
    if role in ABSTAIN_ROLES:
        return ()
    sentences = [" ".join(text[start:end].split()) for start, end in split_sentences(text)]
    best: dict[tuple[str, str], Tag] = {}
    for tags in tag_sentences(sentences):
        for tag in tags:
            key = (tag.category, tag.polarity)
            if key not in best or tag.confidence > best[key].confidence:
                best[key] = tag
    return tuple(sorted(best.values(), key=lambda t: (-t.confidence, t.category, t.polarity)))
