"""Build the bundled FICTIONAL sample corpus from its plain-text sources.

    python -m assistant.samples.build            # every source with an `output:` field
    python assistant/samples/build.py FILE.md    # only the given sources

Each `source/*.md` has a front matter block (`key: value` lines between `---` lines) and a body. Front matter:
title, kind, output (pdf | docx | html | md), and optionally council, partnership, author, published
(YYYY-MM-DD), child, period, short_title (running header), notice (replaces the default fictional notice), and, for
letters, addressee (lines separated by ` | `) and salutation. Body: one paragraph per line, blank lines ignored;
`# 1. Heading`, `## Subheading`, `1.1 Text` (numbered paragraph), plain line (paragraph), `- item` (bullet),
GitHub pipe tables. Output goes to `docs/<stem>.<ext>`; dates and metadata are fixed so that a rebuild gives the
same bytes.
"""

from __future__ import annotations

import datetime as dt
import html
import json
import re
import sys
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
SOURCE_DIR, DOCS_DIR = HERE / "source", HERE / "docs"
FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")
OUTPUTS = ("pdf", "docx", "html", "md")
DEFAULT_NOTICE = "FICTIONAL CASE – written for training and demonstration. All names, places and events are invented."
GENERATOR = "Latent sample corpus generator"
MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
          "November", "December")
_NUM = re.compile(r"^(\d+(?:\.\d+)*\.?)\s+(\S.*)$")


@dataclass
class Source:
    path: Path
    meta: dict[str, str]
    blocks: list[tuple] = field(default_factory=list)

    def get(self, key: str, default: str = "") -> str:
        return self.meta.get(key) or default

    def __post_init__(self) -> None:
        self.stem = self.path.stem
        d = dt.date.fromisoformat(self.get("published")) if self.get("published") else None
        self.published, self.published_text = d, f"{d.day} {d:%B %Y}" if d else ""
        d = d or dt.date(2020, 1, 1)
        self.stamp = dt.datetime(d.year, d.month, d.day, 9, 0, 0, tzinfo=dt.UTC)
        self.notice = self.get("notice", DEFAULT_NOTICE)
        self.addressee = [p.strip() for p in self.get("addressee").split("|") if p.strip()]
        title = self.get("short_title") or self.get("title")
        self.short_title = title if len(title) <= 70 else title[:70].rsplit(" ", 1)[0] + "…"


def _split_row(line: str) -> list[str]:
    return [c.strip() for c in line.strip().removeprefix("|").removesuffix("|").split("|")]


def numbered(line: str) -> tuple[str, str] | None:
    """`3.20 Text` -> ("3.20", "Text"); years and day-of-month dates are not paragraph numbers."""
    m = _NUM.match(line)
    if not m:
        return None
    num, text = m.group(1), m.group(2)
    if "." not in num.rstrip(".") and (int(num.rstrip(".")) >= 1000 or text.split()[0].strip(",") in MONTHS):
        return None
    return num, text


def parse_source(path: Path) -> Source:
    text = path.read_text(encoding="utf-8").replace("\r\n", "\n")
    meta: dict[str, str] = {}
    lines = text.split("\n")
    if lines and lines[0].strip() == "---":
        end = next(i for i in range(1, len(lines)) if lines[i].strip() == "---")
        for raw in lines[1:end]:
            if ":" in raw and not raw.lstrip().startswith("#"):
                key, value = raw.split(":", 1)
                meta[key.strip()] = re.sub(r"^([\"'])(.*)\1$", r"\2", value.strip())
        lines = lines[end + 1:]
    src = Source(path, meta)
    blocks = src.blocks
    for line in filter(None, (raw.strip() for raw in lines)):
        if line.startswith("|"):
            cells = _split_row(line)
            if blocks and blocks[-1][0] == "table":
                if not all(re.fullmatch(r":?-{2,}:?", c) for c in cells):
                    blocks[-1][2].append(cells)
            else:
                blocks.append(("table", cells, []))
        elif line.startswith("#"):
            level = len(line) - len(line.lstrip("#"))
            blocks.append(("h1" if level == 1 else "h2", line.lstrip("#").strip()))
        elif line.startswith(("- ", "* ")):
            if blocks and blocks[-1][0] == "bullets":
                blocks[-1][1].append(line[2:].strip())
            else:
                blocks.append(("bullets", [line[2:].strip()]))
        else:
            num = numbered(line)
            blocks.append(("para", num[0], num[1]) if num else ("para", None, line))
    return src


# ----------------------------------------------------------------------------------------------------------- PDF
def build_pdf(src: Source, out: Path) -> None:
    from fpdf import FPDF
    from fpdf.fonts import FontFace

    class ReviewPDF(FPDF):
        def header(self) -> None:  # running short title on every page after the cover
            if self.page_no() > 1:
                self.set_font("DejaVu", "", 8)
                self.set_text_color(90)
                self.cell(0, 5, src.short_title, align="R", new_x="LMARGIN", new_y="NEXT")
                self.line(self.l_margin, self.get_y() + 1, self.w - self.r_margin, self.get_y() + 1)
                self.set_text_color(0)
                self.ln(6)

        def footer(self) -> None:
            if self.page_no() > 1:
                self.set_y(-15)
                self.set_font("DejaVu", "", 8)
                self.cell(0, 8, f"Page {self.page_no()} of {{nb}}", align="C")

    pdf = ReviewPDF(format="A4")
    pdf.set_margins(22, 20, 22)
    pdf.set_auto_page_break(True, margin=22)
    for style, name in (("", "DejaVuSans.ttf"), ("B", "DejaVuSans-Bold.ttf")):
        pdf.add_font("DejaVu", style, str(FONT_DIR / name))
    pdf.set_creation_date(src.stamp)
    pdf.set_title(src.get("title"))
    pdf.set_author(src.get("author") or src.get("partnership") or src.get("council"))
    pdf.set_subject(src.get("partnership") or src.get("council") or src.get("kind"))
    pdf.set_keywords(", ".join(v for v in (src.get("kind"), src.get("council"), src.get("child")) if v))
    pdf.set_creator(GENERATOR)
    width = pdf.w - pdf.l_margin - pdf.r_margin
    left = pdf.l_margin

    def lines(height: float, text: str, size: float, style: str = "", **kw) -> None:
        pdf.set_font("DejaVu", style, size)
        pdf.multi_cell(0, height, text, align="L", new_x="LMARGIN", new_y="NEXT", **kw)

    pdf.add_page()  # the cover
    lines(7, src.get("partnership") or src.get("council"), 13, "B")
    pdf.ln(45)
    lines(11, src.get("title"), 22, "B")
    pdf.ln(6)
    if src.get("child"):
        lines(9, src.get("child"), 16, "B")
        pdf.ln(4)
    for label, value in (("Review period", src.get("period")), ("Published", src.published_text),
                         ("Author", src.get("author"))):
        if value:
            lines(7, f"{label}: {value}", 12)
    pdf.set_y(max(pdf.get_y() + 20, 220))
    pdf.set_fill_color(255, 244, 204)
    lines(7, src.notice, 11, "B", border=1, fill=True, padding=4)
    pdf.set_fill_color(255, 255, 255)

    pdf.add_page()
    line_h = 5.6

    def flow(text: str, lead: str | None, indent: float) -> None:
        """A paragraph; `lead` (number or bullet) starts the first line, the text hangs at `indent`."""
        pdf.set_font("DejaVu", "", 10.5)
        if pdf.get_y() > pdf.page_break_trigger - 2 * line_h:
            pdf.add_page()
        pdf.set_left_margin(left + indent)
        pdf.set_x(left if lead and lead != "•" else left + indent - 5 if lead else left + indent)
        if lead:
            pdf.write(line_h, lead + " ")
            if pdf.get_x() < left + indent:
                pdf.set_x(left + indent)
        pdf.write(line_h, text)
        pdf.ln(line_h)
        pdf.set_left_margin(left)
        pdf.ln(2.4)

    def heading(text: str, size: float) -> None:
        if pdf.get_y() > pdf.page_break_trigger - 30:
            pdf.add_page()
        pdf.ln(3)
        lines(size * 0.55, text, size, "B")
        pdf.ln(2.5)

    def table(header: list[str], rows: list[list[str]]) -> None:
        pdf.set_font("DejaVu", "", 9)
        ncol = len(header)
        rows = [(r + [""] * ncol)[:ncol] for r in rows]
        cols = [[header[c]] + [r[c] for r in rows] for c in range(ncol)]
        natural = [max(pdf.get_string_width(s) for s in col) + 4 for col in cols]
        minimum = [max(pdf.get_string_width(w) for s in col for w in (s.split() or [""])) + 4 for col in cols]
        widths = _fit_widths(natural, minimum, width)
        pdf.ln(1)
        style = FontFace(emphasis="BOLD", fill_color=(230, 230, 230))
        with pdf.table(col_widths=widths, width=sum(widths), align="LEFT", text_align="LEFT", line_height=4.6,
                       first_row_as_headings=True, headings_style=style, borders_layout="ALL",
                       padding=1.2, v_align="TOP", cell_fill_mode="NONE") as tbl:
            for values in [header, *rows]:
                row = tbl.row()
                for value in values:
                    row.cell(value)
        pdf.ln(4)

    if src.addressee or src.get("salutation"):
        for text in [src.published_text, "", *src.addressee, "", src.get("salutation")]:
            lines(line_h, text, 10.5)
        heading(src.get("title"), 12)
    for block in src.blocks:
        kind = block[0]
        if kind == "h1":
            heading(block[1], 14)
        elif kind == "h2":
            heading(block[1], 12)
        elif kind == "para":
            flow(block[2], block[1], 14 if block[1] else 0)
        elif kind == "bullets":
            for item in block[1]:
                flow(item, "•", 9)
        elif kind == "table":
            table(block[1], block[2])
    pdf.output(str(out))


def _fit_widths(natural: list[float], minimum: list[float], total: float) -> list[float]:
    """Column widths sized to content: short columns (dates) keep one line, the others share the rest between
    their longest word and their full length, as browsers lay out automatic tables."""
    if sum(natural) <= total:
        return [w * total / sum(natural) for w in natural]
    fixed = {i: w for i, w in enumerate(natural) if w <= 0.22 * total}
    if sum(fixed.values()) >= total or len(fixed) == len(natural):
        fixed = {}
    free = [i for i in range(len(natural)) if i not in fixed]
    rest = total - sum(fixed.values())
    lo, hi = sum(minimum[i] for i in free), sum(natural[i] for i in free)
    widths = dict(fixed)
    for i in free:
        if lo >= rest:
            widths[i] = rest * minimum[i] / lo
        else:
            widths[i] = minimum[i] + (natural[i] - minimum[i]) * (rest - lo) / max(hi - lo, 1e-6)
    return [widths[i] for i in range(len(natural))]


def meta_lines(src: Source) -> list[str]:
    """The lines printed under a review's title (partnership, child, period, published date, author)."""
    pairs = (("", src.get("partnership") or src.get("council")), ("", src.get("child")), ("Review period: ",
             src.get("period")), ("Published: ", src.published_text), ("Author: ", src.get("author")))
    return [label + value for label, value in pairs if value]


# ---------------------------------------------------------------------------------------------------------- DOCX
def build_docx(src: Source, out: Path) -> None:
    from docx import Document
    from docx.shared import Pt, RGBColor

    doc = Document()
    doc.styles["Normal"].font.name = "Arial"
    doc.styles["Normal"].font.size = Pt(11)
    notice = doc.add_paragraph()
    run = notice.add_run(src.notice)
    run.bold = True
    run.font.color.rgb = RGBColor(0x9C, 0x3D, 0x00)
    if src.addressee or src.get("salutation"):
        doc.add_paragraph(src.published_text)
        doc.add_paragraph().add_run("\n".join(src.addressee))  # python-docx turns \n into line breaks
        doc.add_paragraph(src.get("salutation"))
    doc.add_heading(src.get("title"), 0)
    if not (src.addressee or src.get("salutation")):
        for line in meta_lines(src):
            doc.add_paragraph(line)
    for block in src.blocks:
        if block[0] in ("h1", "h2"):
            doc.add_heading(block[1], 1 if block[0] == "h1" else 2)
        elif block[0] == "para":
            doc.add_paragraph(f"{block[1]} {block[2]}" if block[1] else block[2])
        elif block[0] == "bullets":
            for item in block[1]:
                doc.add_paragraph(item, style="List Bullet")
        elif block[0] == "table":
            header, rows = block[1], block[2]
            tbl = doc.add_table(rows=1 + len(rows), cols=len(header))
            tbl.style = "Table Grid"
            for r, values in enumerate([header, *rows]):
                for c in range(len(header)):
                    cell = tbl.cell(r, c)
                    cell.text = values[c] if c < len(values) else ""
                    for run in cell.paragraphs[0].runs if r == 0 else ():
                        run.bold = True
            doc.add_paragraph()
    props = doc.core_properties
    props.title = src.get("title")
    props.author = src.get("author") or src.get("partnership") or src.get("council")
    props.subject = src.get("council") or src.get("partnership")
    props.category = src.get("kind")
    props.keywords = ", ".join(v for v in (src.get("kind"), src.get("council"), src.get("child")) if v)
    props.comments = src.notice
    props.last_modified_by = GENERATOR
    props.revision = 1
    stamp = src.stamp.replace(tzinfo=None)
    props.created = props.modified = props.last_printed = stamp
    doc.save(str(out))
    _normalise_zip(out, stamp.timetuple()[:6])


def _normalise_zip(path: Path, date_time: tuple) -> None:
    """Rewrite a zip with fixed member timestamps so that rebuilds give identical bytes."""
    with zipfile.ZipFile(path) as zin:
        members = [(info.filename, zin.read(info)) for info in zin.infolist()]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zout:
        for name, data in members:
            info = zipfile.ZipInfo(name, date_time=date_time)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            zout.writestr(info, data)


# ---------------------------------------------------------------------------------------------------------- HTML
CSS = """
body{font-family:Arial,Helvetica,sans-serif;color:#0b0c0c;background:#f3f2f1;margin:0;line-height:1.5}
main{max-width:46em;margin:2em auto;background:#fff;padding:2.5em 3em;border-top:10px solid #1d70b8}
.notice{background:#fff4cc;border-left:6px solid #ffdd00;padding:.8em 1em;font-weight:bold;margin-bottom:1.5em}
.letterhead{text-align:right;color:#505a5f;font-size:.9em}.date{margin-top:1.5em}address{font-style:normal;margin:1em 0}
h1{font-size:1.6em;margin:1em 0 .6em}h2{font-size:1.3em;margin-top:1.6em}h3{font-size:1.1em}.meta{color:#505a5f}
table{border-collapse:collapse;width:100%;margin:1em 0;font-size:.95em}
th,td{border:1px solid #b1b4b6;padding:.35em .5em;text-align:left;vertical-align:top}th{background:#f3f2f1}
.num{font-weight:bold;margin-right:.3em}
"""


def build_html(src: Source, out: Path) -> None:
    e = html.escape
    head = [f'<meta name="{k}" content="{e(v)}">' for k, v in (
        ("author", src.get("author")), ("dcterms.created", src.get("published")), ("latent:kind", src.get("kind")),
        ("latent:council", src.get("council")), ("latent:partnership", src.get("partnership")),
        ("latent:child", src.get("child")), ("latent:period", src.get("period")), ("generator", GENERATOR)) if v]
    body = [f'<p class="notice" role="note">{e(src.notice)}</p>']
    if src.addressee or src.get("salutation"):
        if src.get("kind") in ("focused_visit", "inspection"):
            body.append('<p class="letterhead">Ofsted (fictional sample letter)</p>')
        body += [f'<p class="date">{e(src.published_text)}</p>', "<address>" + "<br>\n".join(map(e, src.addressee))
                 + "</address>", f"<p>{e(src.get('salutation'))}</p>", f"<h1>{e(src.get('title'))}</h1>"]
    else:
        body.append(f"<h1>{e(src.get('title'))}</h1>")
        body += [f'<p class="meta">{e(line)}</p>' for line in meta_lines(src)]
    for block in src.blocks:
        if block[0] in ("h1", "h2"):
            tag = "h2" if block[0] == "h1" else "h3"
            body.append(f"<{tag}>{e(block[1])}</{tag}>")
        elif block[0] == "para":
            num = f'<span class="num">{e(block[1])}</span> ' if block[1] else ""
            ident = f' id="para-{e(block[1].rstrip("."))}"' if block[1] else ""
            body.append(f"<p{ident}>{num}{e(block[2])}</p>")
        elif block[0] == "bullets":
            body.append("<ul>\n" + "\n".join(f"<li>{e(x)}</li>" for x in block[1]) + "\n</ul>")
        elif block[0] == "table":
            header, rows = block[1], block[2]
            lines = ["<table>", "<thead><tr>" + "".join(f"<th>{e(h)}</th>" for h in header) + "</tr></thead>",
                     "<tbody>"]
            lines += ["<tr>" + "".join(f"<td>{e(c)}</td>" for c in r) + "</tr>" for r in rows]
            body.append("\n".join([*lines, "</tbody>", "</table>"]))
    page = ["<!DOCTYPE html>", '<html lang="en-GB">', "<head>", '<meta charset="utf-8">',
            '<meta name="viewport" content="width=device-width, initial-scale=1">',
            f"<title>{e(src.get('title'))}</title>", *head, f"<style>{CSS}</style>", "</head>", "<body>", "<main>",
            *body, "</main>", "</body>", "</html>", ""]
    out.write_text("\n".join(page), encoding="utf-8")


# ------------------------------------------------------------------------------------------------------------ MD
def build_md(src: Source, out: Path) -> None:
    def scalar(v: str) -> str:  # valid YAML: quote anything that is not a plain word, number or date
        return v if re.fullmatch(r"[\w][\w .,()/–-]*", v) and ": " not in v else json.dumps(v, ensure_ascii=False)

    lines = ["---"] + [f"{k}: {scalar(v)}" for k, v in src.meta.items() if k != "output"]
    lines += ["---", "", f"# {src.get('title')}", "", f"> {src.notice}", ""]
    for block in src.blocks:
        if block[0] in ("h1", "h2"):
            lines += [("## " if block[0] == "h1" else "### ") + block[1], ""]
        elif block[0] == "para":
            num = block[1].replace(".", "\\.") if block[1] and block[1].endswith(".") else block[1]
            lines += [f"{num} {block[2]}" if num else block[2], ""]
        elif block[0] == "bullets":
            lines += [f"- {x}" for x in block[1]] + [""]
        elif block[0] == "table":
            header, rows = block[1], block[2]
            lines += ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
            lines += ["| " + " | ".join(r) + " |" for r in rows] + [""]
    out.write_text("\n".join(lines).rstrip("\n") + "\n", encoding="utf-8")


BUILDERS = {"pdf": build_pdf, "docx": build_docx, "html": build_html, "md": build_md}


def build(paths: list[Path] | None = None, out_dir: Path = DOCS_DIR) -> list[Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    built = []
    for path in paths or sorted(SOURCE_DIR.glob("*.md")):
        src = parse_source(Path(path))
        fmt = src.get("output").lower()
        if fmt in OUTPUTS and not src.get("title"):
            raise ValueError(f"{path}: front matter has no title")
        if fmt not in OUTPUTS:
            continue
        out = out_dir / f"{src.stem}.{fmt}"
        BUILDERS[fmt](src, out)
        built.append(out)
        print(f"built {out.relative_to(out_dir.parent)} ({out.stat().st_size:,} bytes)", file=sys.stderr)
    return built


if __name__ == "__main__":
    build([Path(p) for p in sys.argv[1:]] or None)
