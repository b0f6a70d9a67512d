"""The conversation as files to keep: Markdown (for notes and slides) and a printable, self-contained HTML page
(for handouts). Both carry every answer with its full citations: title, kind, council, date, page, paragraph,
the source file and the whole passage."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

from assistant.records import Answer
from assistant.render import answer_as_markdown, distinct_nearest, nearest_label
from assistant.web.cards import answer_cards, answer_html, text_html
from prompts import NEAREST_INTRO

_PRINT_CSS = """
body{font:11pt/1.5 Georgia,'Times New Roman',serif;color:#111;background:#fff;max-width:46rem;margin:2rem auto;
padding:0 1rem}
h1{font-size:1.5rem;margin-bottom:.2rem}h2{font-size:1.15rem;margin-top:2rem;border-top:1px solid #999;
padding-top:1rem}h3{font-size:1rem}h4{font-size:.95rem;margin:.2rem 0}
.generated{color:#444;font-size:.9rem}.answer p{margin:.3rem 0}.answer-heading{margin-top:.8rem}
.read-as,.meta,.section,.open{color:#333;font-size:.9rem;margin:.1rem 0}
.source-card{border:1px solid #bbb;border-radius:4px;padding:.5rem .8rem;margin:.6rem 0;break-inside:avoid}
blockquote{margin:.4rem 0;padding-left:.7rem;border-left:3px solid #888}
mark{background:#fde68a;color:#111}a{color:#1a4f8b}
@media print{body{margin:0;max-width:none}a{color:#111;text-decoration:none}h2{break-before:auto}}
"""


def conversation_markdown(answers: Sequence[Answer], when: datetime | None = None) -> str:
    when = when or datetime.now()
    out = ["# Latent — questions and cited answers", "",
           f"Exported {when:%d %B %Y, %H:%M}. Every sentence of an answer is quoted from the numbered source "
           "after it.", ""]
    for a in answers:
        out.append(answer_as_markdown(a).rstrip())
        if a.refused and a.nearest:
            out += ["", f"*{NEAREST_INTRO}*", ""]
            for n, h in enumerate(distinct_nearest(a.nearest), start=1):
                quote = h.text.replace("\n", "\n> ")
                out += [f"**({n}) {h.document.title}** — {nearest_label(h)}",
                        f"Source file: `{h.document.source}`", "", f"> {quote}", ""]
        out.append("")
    return "\n".join(out).rstrip() + "\n"


def conversation_html(answers: Sequence[Answer], when: datetime | None = None) -> str:
    """A standalone page (no script, no external resource) that prints cleanly."""
    when = when or datetime.now()
    body = []
    for turn, a in enumerate(answers, start=1):
        anchor = f"q{turn}-source-"
        heading = "Nearest passages (none of them supports an answer)" if a.refused else "Sources"
        body.append(f'<section class="turn"><h2>{turn}. {text_html(a.question)}</h2>{answer_html(a, anchor)}'
                    f"<h3>{heading}</h3>{answer_cards(a, anchor, links=False)}</section>")
    return ('<!doctype html><html lang="en"><head><meta charset="utf-8">'
            '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; style-src \'unsafe-inline\'">'
            f"<title>Latent — questions and cited answers</title><style>{_PRINT_CSS}</style></head><body>"
            "<h1>Latent — questions and cited answers</h1>"
            f'<p class="generated">Exported {when:%d %B %Y, %H:%M}. Every sentence of an answer is quoted from the '
            f"numbered source after it.</p>{''.join(body)}</body></html>\n")


def write_exports(answers: Sequence[Answer], folder: Path) -> tuple[Path, Path]:
    """Both files, named by the time of export, in `folder` (a private temporary folder of the page)."""
    when = datetime.now()
    folder.mkdir(parents=True, exist_ok=True)
    stem = f"latent-conversation-{when:%Y%m%d-%H%M%S}"
    md, page = folder / f"{stem}.md", folder / f"{stem}.html"
    md.write_text(conversation_markdown(answers, when), encoding="utf-8")
    page.write_text(conversation_html(answers, when), encoding="utf-8")
    return md, page
