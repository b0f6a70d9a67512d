"""The Timeline tab: one case's chronology (`assistant.chronology.Chronology`, what `latent timeline` shows)
as an inline SVG plot, the same events as a table, and the passage behind one event.

The plot is markup we write, so it needs no script library, font or image from anywhere. Each event on it is a
link to its row of the table (which works without script); on the page a click is also sent to the server,
which answers with the event's passage (`event_html`). All document text goes through `text_html` / `attr`.
Nothing here imports Gradio.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Mapping, Sequence
from datetime import date, timedelta
from typing import TYPE_CHECKING

from assistant.chronology import Chronology, Event, chronology
from assistant.web.cards import KIND_LABELS, attr, long_date, source_card, text_html
from vectorstore.records import Hit
from vectorstore.taxonomy import category_labels

if TYPE_CHECKING:
    from vectorstore.index import Index

CASE_KINDS = ("review", "coroner_report")  # documents about one child's death or harm
GROUPINGS = [("Agency", "agency"), ("Category", "category")]
# The chronology's agency keys are the phrases it matched; a reader wants the service's name.
AGENCY_LABELS = {"police": "Police", "health visit": "Health visiting", "midwi": "Midwifery", "gp": "GP",
                 "hospital": "Hospital", "emergency department": "Emergency department", "school": "School",
                 "nursery": "Nursery", "social care": "Children's social care", "mash": "MASH / front door",
                 "front door": "MASH / front door", "early help": "Early help", "probation": "Probation",
                 "housing": "Housing", "camhs": "CAMHS", "youth justice": "Youth justice",
                 "pupil referral": "Pupil referral unit", "ambulance": "Ambulance service", "coroner": "Coroner",
                 "children's services": "Children's social care"}
NO_AGENCY, NO_CATEGORY = "Agency not stated", "Not tagged"
# Okabe–Ito, then Tol's muted colours: told apart with the common colour-vision deficiencies. Colour is never
# the only cue: each colour is also a row of the plot, named at its left.
PALETTE = ("#0072b2", "#e69f00", "#009e73", "#cc79a7", "#d55e00", "#56b4e9", "#332288", "#882255", "#117733",
           "#aa4499", "#44aa99", "#999933", "#661100", "#6699cc")
GREY = "#8a8f98"
INCIDENT_COLOUR = "#b91c1c"
_DEATH = re.compile(r"\b(died|death|killed|found dead|fatal)\b", re.I)

# On the page (Gradio's `js_on_load` for the plot and the table): a click on anything carrying `data-event`
# sends that event's number to the server instead of following the link.
SELECT_JS = """element.addEventListener('click', (e) => {
  const hit = e.target.closest('[data-event]');
  if (!hit || !element.contains(hit)) return;
  e.preventDefault();
  const n = hit.dataset.event;
  document.querySelectorAll('#timeline-plot [data-event], #timeline-table [data-event]')
    .forEach((x) => x.classList.toggle('selected', x.dataset.event === n));
  const wrap = document.querySelector('#timeline-table .timeline-table-wrap');
  const row = document.getElementById('timeline-row-' + n);
  const folded = row && row.closest('details');
  if (folded) folded.open = true;  // an event whose agency is not stated sits in the folded rows
  if (wrap && row && !wrap.contains(hit)) {  // from the plot: bring its row into the table's view
    wrap.scrollTop += row.getBoundingClientRect().top - wrap.getBoundingClientRect().top - wrap.clientHeight / 3;
  }
  trigger('click', {event: Number(n)});
});"""

# Plot geometry, in SVG user units (the drawing scales to the width of the page).
_W, _LEFT, _RIGHT, _TOP, _BOTTOM = 1000, 215, 20, 76, 44
_R, _STEP = 6.5, 9.0  # marker radius; vertical step between markers that would overlap in one row
_LABEL_CHARS = 25


class Chronologies:
    """The chronologies of one index, each worked out once per stored version of its document."""

    def __init__(self, index: Index) -> None:
        self.index = index
        self._cache: dict[tuple[str, str, str | None], Chronology] = {}
        self._lock = threading.Lock()

    def case(self, doc_id: str | None) -> Chronology | None:
        doc = self.index.document_info(doc_id) if doc_id else None
        if doc is None:
            return None
        key = (doc.id, doc.content_hash, doc.ingested_at)
        with self._lock:
            found = self._cache.get(key)
        if found is None:
            found = chronology(self.index, doc.id)
            with self._lock:
                self._cache[key] = found
        return found

    def preferred(self, choices: Sequence[tuple[str, str]], text: str) -> str | None:
        """The case a text (the page's first example question) asks about: the one whose child it names, else the
        first case."""
        for _, doc_id in choices:
            d = self.index.document_info(doc_id)
            if d and d.child and re.search(rf"\b{re.escape(d.child)}\b", text):
                return doc_id
        return choices[0][1] if choices else None

    def choices(self) -> list[tuple[str, str]]:
        """(label, id) of the reviews and coroners' reports that have at least one dated event."""
        out = []
        for d in self.index.documents():
            if d.kind not in CASE_KINDS:
                continue
            case = self.case(d.id)
            if case and case.events:
                child = f" ({d.child})" if d.child and d.child not in d.title else ""
                out.append((f"{d.title}{child}", d.id))
        return out


def agency_label(key: str | None) -> str:
    return AGENCY_LABELS.get(key, key.capitalize()) if key else NO_AGENCY


def _groups_of(event: Event, group_by: str, labels: Mapping[str, str]) -> list[str]:
    if group_by == "category":
        return [labels.get(c, c) for c in event.categories] or [NO_CATEGORY]
    return [agency_label(event.agency)]


def _lanes(events: Sequence[Event], group_by: str, labels: Mapping[str, str]) -> list[str]:
    """Rows of the plot: categories in the taxonomy's order (latent, active, defence); agencies in the order they
    first appear, so the chart reads as the case unfolded. The catch-all row comes last."""
    seen: list[str] = []
    for e in events:
        for g in _groups_of(e, group_by, labels):
            if g not in seen:
                seen.append(g)
    if group_by == "category":
        order = list(labels.values())
        seen.sort(key=lambda g: order.index(g) if g in order else len(order))
    return [g for g in seen if g not in (NO_AGENCY, NO_CATEGORY)] + [g for g in seen if g in (NO_AGENCY,
                                                                                          NO_CATEGORY)]


def lane_colours(lanes: list[str]) -> dict[str, str]:
    named = [g for g in lanes if g not in (NO_AGENCY, NO_CATEGORY)]
    out = {g: PALETTE[i % len(PALETTE)] for i, g in enumerate(named)}
    out.update({g: GREY for g in lanes if g in (NO_AGENCY, NO_CATEGORY)})
    return out


def incident_label(case: Chronology) -> tuple[str, str] | None:
    """(the line's label, its date) for the incident date: 'Death' or 'Incident' when a sentence states it on that
    date, else the end of the review period (the chronology falls back to it), said as such."""
    day = case.incident_date
    if not day:
        return None
    stated = [e for e in case.events if e.incident and e.date == day]
    if not stated:
        return f"Review period ends {long_date(day)} (incident date not stated)", day
    kind = "Death" if any(_DEATH.search(e.text) for e in stated) else "Incident"
    return f"{kind}: {long_date(day)}", day


def where(event: Event) -> str:
    """'page 7, paragraph 4.2'."""
    return f"page {event.page}" + (f", paragraph {event.paragraph}" if event.paragraph else "")


def _one_line(text: str, limit: int = 0) -> str:
    flat = " ".join(str(text).split())
    return flat if not limit or len(flat) <= limit else flat[:limit - 1].rstrip() + "…"


def _wrap(label: str, width: int = _LABEL_CHARS) -> list[str]:
    """A row label on at most two lines."""
    words, lines = label.split(), [""]
    for w in words:
        if lines[-1] and len(lines[-1]) + 1 + len(w) > width:
            lines.append("")
        lines[-1] = f"{lines[-1]} {w}".strip()
    return lines if len(lines) <= 2 else [lines[0], _one_line(" ".join(lines[1:]), width)]


def _ticks(start: date, end: date) -> tuple[list[tuple[date, str]], list[date]]:
    """Labelled ticks (years; months when the span is short) and minor ticks (months or quarters)."""
    span = (end - start).days
    months = [date(y, m, 1) for y in range(start.year, end.year + 1) for m in range(1, 13)
              if start <= date(y, m, 1) <= end]
    if span < 500:
        every = 1 if span < 200 else 3
        major = [(d, d.strftime("%b %Y")) for d in months if (d.month - 1) % every == 0]
        return major, [d for d in months if (d.month - 1) % every]
    years = [d for d in months if d.month == 1]
    step = max(1, len(years) // 10)
    return [(d, str(d.year)) for d in years[::step]], [d for d in months if d.month in ((4, 7, 10) if span < 3000
                                                                                       else (7,))]


def plot_html(case: Chronology | None, group_by: str = "agency") -> str:
    """The chronology as an SVG figure: time across, one row per agency (or category) in its own colour, the review
    period shaded and the incident date marked; each event a link to its row of the table."""
    if case is None:
        return '<p class="timeline-empty">Choose a case to see its chronology.</p>'
    events = case.events
    if not events:
        return '<p class="timeline-empty">This document has no dated events.</p>'
    labels = category_labels()
    lanes = _lanes(events, group_by, labels)
    colours = lane_colours(lanes)
    days = [date.fromisoformat(e.date) for e in events]
    doc = case.document
    bounds = [*days, *(date.fromisoformat(d) for d in (doc.period_start, doc.period_end,
                                                       case.incident_date) if d)]
    pad = timedelta(days=max(15, (max(bounds) - min(bounds)).days // 40))
    t0, t1 = min(bounds) - pad, max(bounds) + pad
    scale = (_W - _LEFT - _RIGHT) / max(1, (t1 - t0).days)

    def x(d: date) -> float:
        return _LEFT + (d - t0).days * scale

    # Markers that would overlap in one row step up and down from its centre line (0, -9, +9, -18, +18…).
    placed: dict[str, list[tuple[float, float, int]]] = {g: [] for g in lanes}
    for i, (e, d) in enumerate(zip(events, days, strict=True)):
        for g in _groups_of(e, group_by, labels):
            row = placed[g]
            for k in range(9):
                dy = (k + 1) // 2 * _STEP * (-1 if k % 2 else 1)
                if all(abs(px - x(d)) >= 2 * _R - 2 or pdy != dy for px, pdy, _ in row):
                    break
            row.append((x(d), dy, i))
    heights = {g: max(34.0, 2 * max(abs(dy) for _, dy, _ in placed[g]) + 2 * _R + 12, 16.0 * len(_wrap(g)) + 10)
               for g in lanes}
    height = _TOP + sum(heights.values()) + _BOTTOM
    bottom = height - _BOTTOM
    title = f"Chronology of {doc.title}"
    first, last = long_date(min(days).isoformat()), long_date(max(days).isoformat())
    by = "agency" if group_by != "category" else "category"
    desc = (f"{len(events)} dated events from {first} to {last}, one row per {by}. "
            "The table below the plot lists the same events.")
    parts = [f'<figure class="timeline-figure"><svg class="timeline-svg" viewBox="0 0 {_W} {height:.0f}" '
             f'role="group" aria-labelledby="timeline-svg-title timeline-svg-desc" preserveAspectRatio="xMinYMin">'
             f'<title id="timeline-svg-title">{text_html(title)}</title>'
             f'<desc id="timeline-svg-desc">{text_html(desc)}</desc>']
    if doc.period_start and doc.period_end:
        a, b = x(date.fromisoformat(doc.period_start)), x(date.fromisoformat(doc.period_end))
        parts.append(f'<rect class="period" x="{a:.1f}" y="{_TOP - 6}" width="{max(b - a, 1):.1f}" '
                     f'height="{bottom - _TOP + 6:.1f}"><title>Review period: {text_html(long_date(doc.period_start))}'
                     f" to {text_html(long_date(doc.period_end))}</title></rect>"
                     f'<text class="period-label" x="{a + 4:.1f}" y="{_TOP - 28}">Review period</text>')
    y, marks = float(_TOP), []  # markers go last, over the lines, so each one can be clicked
    for n, g in enumerate(lanes):
        h = heights[g]
        mid = y + h / 2
        if n % 2 == 0:
            parts.append(f'<rect class="lane" x="0" y="{y:.1f}" width="{_W}" height="{h:.1f}"/>')
        parts.append(f'<line class="lane-line" x1="{_LEFT}" x2="{_W - _RIGHT}" y1="{mid:.1f}" y2="{mid:.1f}"/>')
        lines = _wrap(g)
        parts.append(f'<circle class="swatch" cx="12" cy="{mid:.1f}" r="{_R - 1}" fill="{colours[g]}"/>')
        top_line = mid - (len(lines) - 1) * 8 + 5
        parts.append(f'<text class="lane-label" x="24" y="{top_line:.1f}">' + "".join(
            f'<tspan x="24" dy="{0 if k == 0 else 16}">{text_html(t)}</tspan>' for k, t in enumerate(lines))
            + "</text>")
        for px, off, i in placed[g]:
            e = events[i]
            name = (f"Event {i + 1}, {long_date(e.date)}, {agency_label(e.agency)}: "
                    f"{_one_line(e.text, 160)} ({where(e)})")
            marks.append(f'<a class="event" href="#timeline-row-{i}" data-event="{i}" aria-label="{attr(name)}">'
                         f"<title>{text_html(name)}</title>"
                         f'<circle cx="{px:.1f}" cy="{mid + off:.1f}" r="{_R}" fill="{colours[g]}"/></a>')
        y += h
    parts.append(f'<line class="axis" x1="{_LEFT}" x2="{_W - _RIGHT}" y1="{bottom:.1f}" y2="{bottom:.1f}"/>')
    major, minor = _ticks(t0, t1)
    for d in minor:
        parts.append(f'<line class="tick minor" x1="{x(d):.1f}" x2="{x(d):.1f}" y1="{bottom:.1f}" '
                     f'y2="{bottom + 4:.1f}"/>')
    for d, label in major:
        # Labelled above the rows as well as below: a long chronology is taller than the screen.
        parts.append(f'<text class="tick-label top" x="{x(d):.1f}" y="{_TOP - 10:.1f}">{text_html(label)}</text>')
        parts.append(f'<line class="tick" x1="{x(d):.1f}" x2="{x(d):.1f}" y1="{_TOP - 6:.1f}" y2="{bottom + 7:.1f}"/>'
                     f'<text class="tick-label" x="{x(d):.1f}" y="{bottom + 24:.1f}">{text_html(label)}</text>')
    marked = incident_label(case)
    if marked:
        label, day = marked
        ix = x(date.fromisoformat(day))
        anchor = "end" if ix > _LEFT + 0.6 * (_W - _LEFT - _RIGHT) else "start"
        shift = -6 if anchor == "end" else 6
        parts.append(f'<g class="incident"><line x1="{ix:.1f}" x2="{ix:.1f}" y1="{_TOP - 62}" y2="{bottom:.1f}"/>'
                     f'<text x="{ix + shift:.1f}" y="{_TOP - 56}" text-anchor="{anchor}">{text_html(label)}</text>'
                     "</g>")
    parts.extend(marks)
    parts.append("</svg>")
    parts.append(f'<figcaption>{text_html(desc)} Select an event to read its paragraph.</figcaption></figure>')
    return "".join(parts)


def table_html(case: Chronology | None) -> str:
    """The events as an accessible table (date, agency, categories, event, citation), each with a button that
    shows its passage."""
    if case is None or not case.events:
        return ""
    labels = category_labels()
    incident = (case.incident_date, True)
    rows: list[str] = []
    unstated: list[str] = []
    for i, e in enumerate(case.events):
        cats = ", ".join(labels.get(c, c) for c in e.categories) or "—"
        cls = ' class="incident"' if (e.date, e.incident) == incident else ""
        short = f"p. {e.page}" + (f", para {e.paragraph}" if e.paragraph else "")
        button = (f'<button type="button" class="timeline-show" data-event="{i}" aria-label="{attr(short)}: show '
                  f'the paragraph of event {i + 1}">{text_html(short)}</button>')
        (rows if e.agency or cls else unstated).append(f'<tr id="timeline-row-{i}"{cls}><td class="num">{i + 1}</td>'
                    f'<td class="date">{text_html(long_date(e.date))}</td>'
                    f"<td>{text_html(agency_label(e.agency))}</td><td>{text_html(cats)}</td>"
                    f'<td class="text">{text_html(_one_line(e.text))}</td>'
                    f"<td>{button}</td></tr>")
    kind = KIND_LABELS.get(case.document.kind, case.document.kind)
    head = ('<thead><tr><th scope="col">No.</th><th scope="col">Date</th><th scope="col">Agency</th>'
            '<th scope="col">Categories (of its passage)</th>'
            '<th scope="col">Event, as the review records it</th><th scope="col">Citation</th></tr></thead>')
    # Events whose sentence names no agency are many and say least about who knew what: one folded row.
    folded = (f'<details class="timeline-unstated"><summary>Agency not stated: {len(unstated)} more event'
              f'{"s" if len(unstated) != 1 else ""}</summary><table class="documents timeline-table">'
              f'<caption>Dated events whose agency is not stated</caption>{head}<tbody>{"".join(unstated)}'
              "</tbody></table></details>" if unstated else "")
    return ('<div class="timeline-table-wrap" tabindex="0" role="region" aria-label="Dated events (scrolls)">'
            '<table class="documents timeline-table"><caption>Dated events in '
            f"{text_html(case.document.title)} ({text_html(kind)}), in date order</caption>{head}"
            f"<tbody>{''.join(rows)}</tbody></table>{folded}</div>")


def summary_markdown(case: Chronology | None) -> str:
    if case is None:
        return "No indexed review has a chronology yet: add a case review on the Documents tab."
    marked = incident_label(case)
    return (f"**{len(case.events)} dated events** in *{text_html(_one_line(case.document.title))}*. "
            + (f"{marked[0]}." if marked else "The review does not state the date of the incident."))


def event_html(index: Index, case: Chronology | None, number: int | None) -> str:
    """The passage behind one event, as a source card with the event's sentence marked and a link that opens the
    document at its page."""
    if case is None or number is None or not 0 <= number < len(case.events):
        return ('<section class="timeline-event" aria-live="polite"><p>Select an event on the plot or a citation in '
                "the table to read the paragraph it comes from.</p></section>")
    e = case.events[number]
    passage = next((p for p in index.passages(case.document.id) if p.id == e.passage_id), None)
    head = (f"<h3>Event {number + 1}: {text_html(long_date(e.date))} — "
            f"{text_html(agency_label(e.agency))}</h3>")
    cats = [category_labels().get(c, c) for c in e.categories]
    tagged = f'<p class="tagged">Tagged: {text_html(", ".join(cats))}</p>' if cats else ""
    if passage is None:
        body = (f"<blockquote>{text_html(e.text)}</blockquote><p>{text_html(where(e))}: this passage "
                "is no longer in the index.</p>")
    else:
        body = source_card(number + 1, Hit(passage, case.document, 0.0), [e.text], anchor="timeline-event-")
    return f'<section class="timeline-event" aria-live="polite">{head}{tagged}{body}</section>'
