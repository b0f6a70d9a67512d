"""'Which agencies were involved with Child R?': the agencies a review's own account names, each with the first
dated sentence that shows its involvement, from the review's agency-involvement section or chronology first.

Agencies are read against a short list of the services English reviews name (police, children's social care,
probation, health visiting…), so the answer lists kinds of agency, in the order they first appear in the case.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from vectorstore.dates import find_dates
from vectorstore.sentences import split_sentences

if TYPE_CHECKING:
    from vectorstore.index import Index
    from vectorstore.records import DocumentInfo, Passage

AGENCIES_ASKED = re.compile(
    r"\b(which|what) (other )?(agencies|organi[sz]ations|services|professionals|bodies|partners|teams)\b"
    r".{0,40}\b(involved|worked with|knew|were in contact|had contact|saw|came into contact)\b|"
    r"\bwho (was|were) involved\b|\bagencies involved\b", re.I)

# (label, how documents name it): the services English case reviews name most.
_AGENCIES: tuple[tuple[str, re.Pattern[str]], ...] = tuple((label, re.compile(pattern, re.I)) for label, pattern in (
    ("Children's social care", r"children['’]s social care|\bsocial workers?\b|\bMASH\b|front door|"
                               r"assessment team|children['’]s services"),
    ("Police", r"\bpolice\b|constabulary|\bofficers? attended"),
    ("Probation", r"probation|community rehabilitation company|\bCRC\b"),
    ("Health visiting", r"health visit"),
    ("Midwifery", r"midwi"),
    ("GP", r"\bGPs?\b|general practi"),
    ("Hospital and emergency department", r"hospital|emergency department|\bA&E\b|paediatric"),
    ("Ambulance service", r"ambulance"),
    ("Nursery and early years", r"nursery|early years|childminder"),
    ("School", r"\bschools?\b|teacher|pupil referral"),
    ("Early help", r"early help"),
    ("Housing", r"housing"),
    ("Mental health services", r"\bCAMHS\b|mental health (service|team|trust)|psychiatri"),
    ("Youth justice", r"youth justice|youth offending|\bYOT\b"),
    ("Substance misuse services", r"drug (and|&) alcohol|substance misuse|addiction service"),
    ("Domestic abuse services", r"\bMARAC\b|\bIDVA\b|refuge|domestic abuse (service|advisor|adviser)"),
))
_INVOLVEMENT_SECTION = re.compile(r"agenc\w* (involvement|contact)|chronolog|summary of (the )?(case|involvement)|"
                                  r"background|key (practice )?episodes?", re.I)


@dataclass(frozen=True)
class Involvement:
    """One agency and the sentence that first shows it at work in the case."""

    agency: str
    passage: Passage
    start: int
    end: int
    date: str | None


def agencies_involved(index: Index, doc: DocumentInfo) -> list[Involvement]:
    """Each agency the review names in dated sentences, earliest first: the involvement section's sentences are
    read before the rest, and the framing (introduction, method: 'the panel's members came from…') never."""
    passages = [p for p in index.passages(doc.id) if p.role == "finding"]
    preferred = [p for p in passages if _INVOLVEMENT_SECTION.search(p.section or "")]
    found: dict[str, Involvement] = {}
    for group in (preferred, passages):
        for p in group:
            for a, b in _units(p.text):
                text = p.text[a:b]
                dates = find_dates(text)
                if not dates or len(_DAY.sub(" ", text).split()) < 6:  # a row cut at a page break: no contact
                    continue
                for label, pattern in _AGENCIES:
                    if label not in found and pattern.search(text):
                        found[label] = Involvement(label, p, a, b, dates[0])
        if len(found) >= 3:
            break  # the review's own account of involvement is enough
    return sorted(found.values(), key=lambda i: (i.date or "9999", i.passage.page, i.start))


_DAY = re.compile(r"\b\d{1,2}(st|nd|rd|th)? (January|February|March|April|May|June|July|August|September|October|"
                  r"November|December) \d{4}\b")
_TABLE_HEAD = re.compile(r"\btable \d+\b|\bdate\s+agency\b", re.I)


def _units(text: str) -> list[tuple[int, int]]:
    """Sentences, and each line of a table flattened into the text ('20 June 2017 Probation (CRC) Mr X …'): a
    row cut short by its wrapped cell ('12 June 2017 Children's social care (MASH)') runs on to the next line, and
    a row under the table's heading starts at its date."""
    lines: list[tuple[int, int]] = []
    for a, b in split_sentences(text):
        cursor = a
        for line in text[a:b].split("\n"):
            if line.strip():
                start = text.index(line, cursor)
                lines.append((start, start + len(line)))
                cursor = start + len(line)
    out = []
    for i, (a, b) in enumerate(lines):
        day = _DAY.search(text, a, b)
        if day and day.start() > a and _TABLE_HEAD.search(text, a, day.start()):
            a = day.start()
        if day and len(text[a:b].split()) < 8 and i + 1 < len(lines) and not _DAY.match(text, lines[i + 1][0]):
            b = lines[i + 1][1]
        out.append((a, b))
    return out
