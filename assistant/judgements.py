"""Counting inspection judgements: "which councils were judged inadequate?" is a question about every report's
headline, not about the passages that best match its words.

The judgement comes from each report's metadata (read at ingest from "Overall effectiveness: Inadequate" or
"Children's services in Surrey are inadequate"); the answer quotes, for each report, the sentence of its own
that states it, so every line is cited like any other answer.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from assistant.extractive import Candidate
from vectorstore.records import Hit, SearchFilters

if TYPE_CHECKING:
    from vectorstore.index import Index
    from vectorstore.records import DocumentInfo, Passage

# "Which councils were judged inadequate?", "How many local authorities were rated outstanding in 2023?"
_ASKED = re.compile(
    r"\b(which|what|list|how many|name the)\b[^?]{0,60}\b(councils?|local authorit(?:y|ies)|authorities|areas?|"
    r"inspections?|reports?|children[’']s services)\b[^?]{0,60}\b(judged|rated|graded|found|received|given|got|"
    r"were|was|are)\b[^?]{0,30}?\b(inadequate|outstanding|good|requir\w* improvement)", re.I)
JUDGEMENTS = ("Outstanding", "Good", "Requires improvement to be good", "Inadequate")


def judgement_asked(question: str) -> str | None:
    """The judgement a "which councils were judged …" question counts, or None for any other question."""
    m = _ASKED.search(question)
    if not m:
        return None
    word = m.group(4).lower()
    return next(j for j in JUDGEMENTS if j.lower().startswith(word[:5]))


def judged_reports(index: Index, judgement: str, filters: SearchFilters,
                   years: tuple[int, ...]) -> tuple[list[tuple[DocumentInfo, Hit, int, int]], int]:
    """Each inspection report with that judgement (in the filters and years asked), with the passage and the
    sentence span stating it; and how many inspection reports there are to count from."""
    reports = [d for d in index.documents() if d.kind == "inspection" and filters.admits(d)
               and (not years or (d.published and int(d.published[:4]) in years))]
    judged = sorted((d for d in reports if d.judgement == judgement), key=lambda d: (d.council or d.title,
                                                                                   d.published or ""))
    passages = index.passages_of([d.id for d in judged])
    found = []
    for d in judged:
        stated = _statement(passages[d.id], d, judgement)
        if stated is not None:
            found.append(stated)
    return found, len(reports)


def _statement(passages: list[Passage], doc: DocumentInfo, judgement: str,
               ) -> tuple[DocumentInfo, Hit, int, int] | None:
    """The passage and the span of its text stating the report's judgement: the grade table's "Overall
    effectiveness Inadequate" or the summary's "Children's services in Surrey are inadequate". Only that span is
    quoted: the table's cells, and a cover page's lines before the summary, run together without full stops."""
    ri = judgement.startswith("Requires")
    cell = r"requires improvement(?: to be good)?" if ri else re.escape(judgement)
    summary = r"improvement to be good" if ri else re.escape(judgement)
    stated = re.compile(rf"overall effectiveness:?\s+{cell}\b|"
                        rf"children[’']s services in [A-Z][\w ,&’'-]{{1,60}}? (?:are|is|requires?)\s+{summary}\b", re.I)
    for p in passages[:40]:  # the headline is on the first pages
        m = stated.search(p.text)
        if m:
            return doc, Hit(p, doc, 1.0), m.start(), m.end()
    return None


def groups_for(found: list[tuple[DocumentInfo, Hit, int, int]]) -> list[tuple[str | None, list[Candidate]]]:
    """One group per report, headed by its council and date (the quoted cell does not name them)."""
    return [(f"{d.council or d.title} ({d.published or 'undated'})",
             [Candidate(h.text[a:b], h, rank, a, 1.0, None, frozenset())])
            for rank, (d, h, a, b) in enumerate(found)]
