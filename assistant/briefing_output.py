"""A case briefing (`assistant.briefing.Briefing`) written out: a self-contained printable HTML page, or a PDF made
by fpdf2 (text, and the timeline plot embedded as vector SVG; no screenshot, no browser).

The plot is the Timeline tab's SVG (`assistant.web.timeline.plot_html`), made standalone: the page styles it by
class from its stylesheet, so here each class becomes presentation attributes, and the event links (to the page's
table) are unwrapped. All document text goes through `text_html` / `attr`.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

from assistant.briefing import Briefing, Quotation
from assistant.web.cards import KIND_LABELS, attr, long_date, text_html
from assistant.web.timeline import plot_html

if TYPE_CHECKING:
    from vectorstore.index import Index

# What the page's stylesheet gives each class of the plot (assistant/web/style.py), as SVG attributes on white.
_CLASS_STYLE = {
    "lane": 'fill="#000000" fill-opacity="0.05"',
    "lane-line": 'stroke="#000000" stroke-opacity="0.25"',
    "tick": 'stroke="#000000" stroke-opacity="0.25"',
    "tick minor": 'stroke="#000000" stroke-opacity="0.5"',
    "axis": 'stroke="#000000" stroke-opacity="0.7"',
    "tick-label": 'text-anchor="middle" font-size="13"',
    "tick-label top": 'text-anchor="middle" font-size="12"',
    "period": 'fill="#2563eb" fill-opacity="0.08"',
    "period-label": 'font-size="12" font-style="italic"',
    "swatch": 'stroke="#111111" stroke-width="0.8"',
    "lane-label": "",
}
_INCIDENT = "#b91c1c"
FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")  # Debian's fonts-dejavu-core; else PDF text is Latin-1


def plot_svg(briefing: Briefing, *, for_pdf: bool = False) -> str:
    """The chronology plot as a standalone SVG document (empty when the document has no dated events)."""
    html = plot_html(briefing.chronology)
    m = re.search(r"<svg\b.*?</svg>", html, re.S)
    if not m:
        return ""
    svg = m.group(0)
    svg = re.sub(r'<a class="event"[^>]*>(?:<title>.*?</title>)?(.*?)</a>', r"\1", svg, flags=re.S)
    svg = re.sub(r'<g class="incident">(.*?)</g>',
                 lambda g: g.group(1).replace("<line ", f'<line stroke="{_INCIDENT}" stroke-width="2.5" '
                                              'stroke-dasharray="7 4" ')
                 .replace("<text ", f'<text fill="{_INCIDENT}" font-weight="bold" '), svg, flags=re.S)
    svg = re.sub(r'class="([^"]+)"', lambda c: f'{c.group(0)} {_CLASS_STYLE.get(c.group(1), "")}'.rstrip(), svg)
    svg = svg.replace("<circle cx", '<circle stroke="#111111" stroke-width="1" cx')
    svg = re.sub(r"<text (?![^>]*\bfill=)", '<text fill="#111111" ', svg)
    svg = svg.replace('class="timeline-svg"', 'xmlns="http://www.w3.org/2000/svg" class="timeline-svg" '
                      'font-family="DejaVu Sans, Helvetica, Arial, sans-serif" font-size="14"', 1)
    if for_pdf:  # fpdf2 draws shapes and text; the accessible name is given to the PDF image as alt text
        svg = re.sub(r"<(title|desc)\b[^>]*>.*?</\1>", "", svg, flags=re.S)
        width, height = re.search(r'viewBox="0 0 ([\d.]+) ([\d.]+)"', svg).groups()  # type: ignore[union-attr]
        svg = svg.replace("<svg ", f'<svg width="{width}" height="{height}" ', 1)
    return svg


def _kind(kind: str) -> str:
    return KIND_LABELS.get(kind, kind)


def _letter_line(d: object) -> str:
    from vectorstore.records import DocumentInfo

    assert isinstance(d, DocumentInfo)
    visit = f"visit ended {long_date(d.period_end)}" if d.period_end else f"published {long_date(d.published)}"
    grade = f"; judgement: {d.judgement}" if d.judgement else ""
    return f"{d.title} ({_kind(d.kind)}, {visit}{grade})"


def _cite(b: Briefing, q: Quotation) -> str:
    return f"{b.document.title}, {q.where()}"


def _subtitle(b: Briefing) -> str:
    d = b.document
    bits = [_kind(d.kind), d.council or "", f"published {long_date(d.published)}" if d.published else "",
            f"date of the death or incident: {long_date(b.event_date)}" if b.event_date else ""]
    return " · ".join(x for x in bits if x)


_CSS = """body{font-family:"DejaVu Sans",Helvetica,Arial,sans-serif;color:#111;max-width:60rem;margin:1.5rem auto;
padding:0 1rem;line-height:1.45}h1{font-size:1.6rem;margin-bottom:.2rem}h2{font-size:1.25rem;margin-top:2rem;
border-bottom:2px solid #1e3a8a;padding-bottom:.2rem}h3{font-size:1.05rem;margin:1.2rem 0 .4rem}
.sub{color:#374151;margin-top:0}blockquote{margin:.4rem 0 .2rem;padding:.3rem .8rem;border-left:4px solid #1e3a8a;
background:#f3f4f6}cite{display:block;font-style:normal;font-size:.9rem;color:#374151;margin-bottom:.6rem}
figure{margin:0}svg{width:100%;height:auto}figcaption{font-size:.9rem;color:#374151}
ol.recs li{margin-bottom:.5rem}@media print{body{margin:0;max-width:none}h2{break-after:avoid}
blockquote,figure,li{break-inside:avoid}}"""


def briefing_html(b: Briefing) -> str:
    """A self-contained printable page: no script, no external stylesheet, font or image."""
    d = b.document
    out = ['<!DOCTYPE html><html lang="en-GB"><head><meta charset="utf-8">',
           '<meta name="viewport" content="width=device-width, initial-scale=1">',
           f"<title>Case briefing: {text_html(d.title)}</title><style>{_CSS}</style></head><body><main>",
           f"<h1>Case briefing: {text_html(d.title)}</h1>", f'<p class="sub">{text_html(_subtitle(b))}</p>',
           '<section aria-labelledby="conditions"><h2 id="conditions">Latent conditions, by category</h2>']
    if not b.conditions:
        out.append("<p>No passage of this document is tagged with a latent condition.</p>")
    for g in b.conditions:
        out.append(f'<h3 data-category="{attr(g.category)}">{text_html(g.label)}</h3>')
        for q in g.quotations:
            out.append(f'<blockquote data-passage="{attr(q.passage_id)}">{text_html(q.text)}</blockquote>'
                       f"<cite>{text_html(_cite(b, q))}</cite>")
    out.append('</section><section aria-labelledby="timeline"><h2 id="timeline">Timeline</h2>')
    svg = plot_svg(b)
    out.append(f'<figure class="plot">{svg}<figcaption>{len(b.chronology.events)} dated events, one row per '
               "agency; the review period shaded, the death or incident marked.</figcaption></figure>" if svg
               else "<p>This document has no dated events.</p>")
    out.append('</section><section aria-labelledby="letters"><h2 id="letters">Inspection letters about the '
               "council before the death or incident</h2>")
    if b.letters:
        out.append("<ul>" + "".join(f"<li>{text_html(_letter_line(x))}</li>" for x in b.letters) + "</ul>")
    else:
        out.append(f"<p>No indexed inspection letter about {text_html(d.council or 'this council')} is dated "
                   "before it.</p>")
    out.append('</section><section aria-labelledby="recs"><h2 id="recs">The document\'s own recommendations</h2>')
    if b.recommendations:
        out.append('<ol class="recs">' + "".join(
            f'<li data-passage="{attr(r.passage_id)}">{text_html(r.text)} <cite>{text_html(r.where())}</cite></li>'
            for r in b.recommendations) + "</ol>")
    else:
        out.append("<p>The document states no numbered recommendations.</p>")
    out.append("</section></main></body></html>")
    return "\n".join(out)


def write_briefing_pdf(b: Briefing, path: Path) -> None:
    """An A4 PDF made by fpdf2: headings, quotations with citations, the plot as vector graphics."""
    import io

    from fpdf import FPDF

    pdf = FPDF(format="A4")
    pdf.set_title(f"Case briefing: {b.document.title}")
    pdf.set_creator("Latent")
    pdf.set_auto_page_break(True, margin=15)
    family = _fonts(pdf)

    def text(s: str) -> str:  # the core fonts hold Latin-1 only; with DejaVu every character is kept
        return s if family == "DejaVu" else s.encode("latin-1", "replace").decode("latin-1")

    def para(s: str, size: float = 10, style: str = "", indent: float = 0, gap: float = 1.5) -> None:
        pdf.set_font(family, style, size)
        pdf.set_x(pdf.l_margin + indent)
        pdf.multi_cell(pdf.epw - indent, size * 0.5, text(s), new_x="LMARGIN", new_y="NEXT")
        pdf.ln(gap)

    def heading(s: str) -> None:
        if pdf.get_y() > pdf.h - 40:
            pdf.add_page()
        pdf.ln(3)
        para(s, 14, "B", gap=2)

    pdf.add_page()
    para(f"Case briefing: {b.document.title}", 17, "B", gap=1)
    para(_subtitle(b), 9.5, gap=3)
    heading("Latent conditions, by category")
    if not b.conditions:
        para("No passage of this document is tagged with a latent condition.")
    for g in b.conditions:
        para(g.label, 11.5, "B", gap=1)
        for q in g.quotations:
            para(f"“{q.text}”", 10, indent=4, gap=0.5)
            para(_cite(b, q), 8.5, "I" if family != "DejaVu" else "", indent=4, gap=2)
    heading("Timeline")
    svg = plot_svg(b, for_pdf=True)
    if svg:
        pdf.image(io.BytesIO(svg.encode("utf-8")), w=pdf.epw,
                  alt_text=f"Chronology of {b.document.title}: {len(b.chronology.events)} dated events")
        para(f"{len(b.chronology.events)} dated events, one row per agency; the review period shaded, the death "
             "or incident marked.", 8.5)
    else:
        para("This document has no dated events.")
    heading("Inspection letters about the council before the death or incident")
    for x in b.letters:
        para(f"• {_letter_line(x)}")
    if not b.letters:
        para(f"No indexed inspection letter about {b.document.council or 'this council'} is dated before it.")
    heading("The document's own recommendations")
    for r in b.recommendations:
        para(r.text, indent=0, gap=0.3)
        para(r.where(), 8.5, indent=4, gap=2)
    if not b.recommendations:
        para("The document states no numbered recommendations.")
    pdf.output(str(path))


def _fonts(pdf: object) -> str:
    """DejaVu Sans when the system has it (every character of a quotation kept), else the core Helvetica."""
    from fpdf import FPDF

    assert isinstance(pdf, FPDF)
    regular, bold = FONT_DIR / "DejaVuSans.ttf", FONT_DIR / "DejaVuSans-Bold.ttf"
    if not (regular.exists() and bold.exists()):
        return "Helvetica"
    pdf.add_font("DejaVu", "", str(regular))
    pdf.add_font("DejaVu", "B", str(bold))
    return "DejaVu"


def write_briefing(b: Briefing, path: Path) -> None:
    """HTML when the name ends in .html (or .htm), a PDF when it ends in .pdf."""
    if path.suffix.lower() == ".pdf":
        write_briefing_pdf(b, path)
    else:
        path.write_text(briefing_html(b), encoding="utf-8")


def write_briefings(index: Index, doc_id: str, folder: Path) -> list[Path]:
    """The case briefing (`latent brief`) of one case, as a PDF and a printable HTML page in a new folder."""
    from assistant.briefing import build_briefing

    made = build_briefing(index, doc_id)
    folder.mkdir(parents=True)
    stem = re.sub(r"[^a-z0-9]+", "-", (made.document.child or made.document.title).lower()).strip("-")
    paths = [folder / f"briefing-{stem or 'case'}.{suffix}" for suffix in ("pdf", "html")]
    for path in paths:
        write_briefing(made, path)
    return paths
