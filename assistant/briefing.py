"""A case briefing for a training session (`latent brief DOC --out FILE`, and the Timeline tab's button): from one
review or coroner's report, the latent conditions by category (each a verbatim quotation with its citation), the
timeline plot, the inspection letters about that council dated before the death or incident, and the document's own
recommendations. This module gathers them; `assistant.briefing_output` writes them as printable HTML or a PDF.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from assistant.chronology import Chronology, chronology
from vectorstore.records import DocumentInfo, Passage
from vectorstore.sections import PRESCRIBES
from vectorstore.sentences import split_sentences

if TYPE_CHECKING:
    from vectorstore.index import Index

QUOTES_PER_CATEGORY = 3  # a trainer presents a few quotations per condition; the page's Findings tab has them all
LETTER_KINDS = ("inspection", "focused_visit")
# "7.2 Recommendation 1: The Partnership should…", "Recommendation 3." — a numbered recommendation of its own.
_RECOMMENDATION = re.compile(r"^\s*(?:\d+(?:\.\d+)*\.?\s+)?recommendation\s+\d+\b", re.I)


@dataclass(frozen=True)
class Quotation:
    """One sentence of the document that states a latent condition, verbatim (whitespace folded), with its place."""

    category: str
    text: str
    passage_id: str
    page: int
    paragraph: str | None
    confidence: float

    def where(self) -> str:
        """'page 7, paragraph 6.20'."""
        return f"page {self.page}" + (f", paragraph {self.paragraph}" if self.paragraph else "")


@dataclass(frozen=True)
class ConditionGroup:
    """A latent-condition category and the quotations that evidence it, surest first."""

    category: str
    label: str
    quotations: tuple[Quotation, ...]


@dataclass(frozen=True)
class Briefing:
    """Everything a case briefing shows, for one document (contract: `latent brief --json` summarises it)."""

    document: DocumentInfo
    event_date: str | None  # the death or incident, else the end of the review period
    conditions: tuple[ConditionGroup, ...]
    chronology: Chronology
    letters: tuple[DocumentInfo, ...]  # inspection letters about the council, dated before the event, oldest first
    recommendations: tuple[Quotation, ...]  # category "recommendation"

    @property
    def citations(self) -> int:
        """Quotations and recommendations, each printed with its page and paragraph."""
        return sum(len(g.quotations) for g in self.conditions) + len(self.recommendations)

    def to_json(self, path: str) -> dict[str, Any]:
        return {"document": self.document.id, "path": path, "categories": [g.category for g in self.conditions],
                "citations": self.citations}


def build_briefing(index: Index, doc_ref: str) -> Briefing:
    """The briefing of one document (id, path or file name; an unknown one raises DocumentNotFoundError)."""
    from vectorstore.taxonomy import load_taxonomy

    doc = index.find_document(doc_ref)
    passages = index.passages(doc.id)
    case = chronology(index, doc.id)
    event = case.incident_date or doc.period_end or doc.published
    quotes = _condition_quotes(passages)
    groups = tuple(ConditionGroup(c.id, c.label, tuple(quotes[c.id][:QUOTES_PER_CATEGORY]))
                   for c in load_taxonomy() if c.level == "latent" and quotes.get(c.id))
    return Briefing(doc, event, groups, case, _letters_before(index, doc, event), _recommendations(passages))


def _whole(text: str) -> str:
    return " ".join(text.split())


def _is_recommendation(p: Passage) -> bool:
    return bool(PRESCRIBES.search(p.section or "") or _RECOMMENDATION.match(p.text))


def _condition_quotes(passages: list[Passage]) -> dict[str, list[Quotation]]:
    """Per latent category, the sentences of findings that state it as present (negative polarity), surest first.
    Framing, cover, back matter and recommendations never give a quotation: they do not state what happened."""
    from vectorstore.taxonomy import tag_sentences

    out: dict[str, list[Quotation]] = {}
    seen: set[tuple[str, str]] = set()
    for p in passages:
        if p.role != "finding" or _is_recommendation(p):
            continue
        if not any(t.level == "latent" and t.polarity == "negative" for t in p.tags):
            continue
        # Whitespace folded as the tagger folds it at ingest (a PDF's hard-wrapped lines), so the tags agree.
        sentences = [_whole(p.text[a:b]) for a, b in split_sentences(p.text)]
        for text, tags in zip(sentences, tag_sentences(sentences), strict=True):
            for t in tags:
                if t.level != "latent" or t.polarity != "negative" or (t.category, text) in seen:
                    continue
                seen.add((t.category, text))
                out.setdefault(t.category, []).append(
                    Quotation(t.category, text, p.id, p.page, p.paragraph, t.confidence))
    for quotes in out.values():
        quotes.sort(key=lambda q: -q.confidence)  # stable: equal confidence keeps reading order
    return out


def _recommendations(passages: list[Passage]) -> tuple[Quotation, ...]:
    return tuple(Quotation("recommendation", _whole(p.text), p.id, p.page, p.paragraph, 1.0)
                 for p in passages if p.role in ("finding", "framing") and _is_recommendation(p))


def _letters_before(index: Index, doc: DocumentInfo, event: str | None) -> tuple[DocumentInfo, ...]:
    """Inspection letters about the document's council (one canonical name, however it is spelt) whose visit (else
    publication) is before the event, as design.md's "Dates" reads a letter."""
    from vectorstore.councils import council_key

    if not doc.council or not event:
        return ()
    key = council_key(doc.council)
    letters = [d for d in index.documents() if d.kind in LETTER_KINDS and d.council
               and council_key(d.council) == key and (d.period_end or d.published or "9999") < event]
    return tuple(sorted(letters, key=lambda d: d.period_end or d.published or ""))
