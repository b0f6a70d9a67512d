"""A case chronology: dated events from a review (dates in its text and in its chronology table), normalised,
each linked to its passage; and the date of the death or incident where the review states it."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from vectorstore.dates import find_dates
from vectorstore.records import DocumentInfo
from vectorstore.sentences import split_sentences

if TYPE_CHECKING:
    from vectorstore.index import Index

_INCIDENT = re.compile(r"\b(died|death|was killed|was found dead|stabbed|seriously (harmed|injured)|"
                       r"life-changing injuries|fatal)\b", re.I)
_AGENCIES = ("police", "health visit", "midwi", "gp", "hospital", "emergency department", "school", "nursery",
             "social care", "mash", "front door", "early help", "probation", "housing", "camhs", "youth justice",
             "pupil referral", "ambulance", "coroner", "children's services")


@dataclass(frozen=True)
class Event:
    """Something that happened on a date, as a review records it."""

    date: str  # ISO
    text: str  # the sentence (or table row) that dates it, verbatim
    passage_id: str
    page: int
    paragraph: str | None
    agency: str | None
    categories: tuple[str, ...]  # latent/active categories tagged on its passage (negative polarity)
    incident: bool = False

    def to_json(self) -> dict[str, Any]:
        return {"date": self.date, "text": self.text, "passage": self.passage_id, "page": self.page,
                "paragraph": self.paragraph, "agency": self.agency, "categories": list(self.categories),
                "incident": self.incident}


@dataclass(frozen=True)
class Chronology:
    """One document's dated events in date order, and the incident date (contract: `latent timeline --json`)."""

    document: DocumentInfo
    incident_date: str | None  # the death or harm, where stated; else the end of the review period
    events: tuple[Event, ...]

    def to_json(self) -> dict[str, Any]:
        d = self.document
        return {"document": {"id": d.id, "title": d.title, "child": d.child, "council": d.council},
                "incident_date": self.incident_date, "events": [e.to_json() for e in self.events]}


def chronology(index: Index, doc_id: str) -> Chronology:
    """Events of one document in date order, and the incident date (the death or harm) where stated."""
    doc = index.find_document(doc_id)
    events: list[Event] = []
    for p in index.passages(doc.id):
        if p.role in ("cover", "back_matter"):
            continue
        categories = tuple(sorted({t.category for t in p.tags if t.polarity == "negative"}))
        units = [(0, len(p.text))] if " | " in p.text else split_sentences(p.text)  # a table row is one event
        for a, b in units:
            text = p.text[a:b]
            dates = find_dates(text)
            if not dates or not _is_event(text, p.role, p.page):
                continue
            low = text.lower()
            agency = next((ag for ag in _AGENCIES if ag in low), None)
            events.append(Event(dates[0], text, p.id, p.page, p.paragraph, agency, categories,
                                bool(_INCIDENT.search(text))))
    events.sort(key=lambda e: (e.date, e.page))
    incident = _incident_date(events, doc.period_end)
    return Chronology(doc, incident, tuple(_dedupe(events)))


_DATE_WORDS = re.compile(r"\b(\d{1,2}(st|nd|rd|th)?|\d{4}|january|february|march|april|may|june|july|august|"
                         r"september|october|november|december|jan|feb|mar|apr|jun|jul|aug|sep|sept|oct|nov|dec)\b",
                         re.I)


def _is_event(text: str, role: str, page: int) -> bool:
    """Something that happened in the case. Framing (the title page, the introduction, how the review was made:
    "a learning event was held on 22 January 2019") gives only the death or incident it states; a date with no
    more than an agency's name beside it ("Police", a table's lone cell) is not an event."""
    if len(_DATE_WORDS.sub(" ", text).split()) < 4:
        return False
    return role == "finding" or (page > 1 and bool(_INCIDENT.search(text)))


def _incident_date(events: list[Event], period_end: str | None) -> str | None:
    """The latest dated incident sentence within the review period (a review's period ends at the event)."""
    candidates = [e.date for e in events if e.incident and (period_end is None or e.date <= period_end)]
    if period_end and period_end in candidates:
        return period_end
    return max(candidates) if candidates else period_end


def _dedupe(events: list[Event]) -> list[Event]:
    seen: set[tuple[str, str]] = set()
    out = []
    for e in events:
        key = (e.date, e.text[:60])
        if key not in seen:
            seen.add(key)
            out.append(e)
    return out
