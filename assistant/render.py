"""An answer as plain text for the terminal and as Markdown for export: the answer, then its numbered sources."""

from __future__ import annotations

from collections.abc import Sequence

from assistant.records import Answer, Citation
from vectorstore.records import Hit


def where(c: Citation) -> str:
    p, d = c.hit.passage, c.hit.document
    parts = [d.kind.replace("_", " "), d.council or "", d.published or "", f"page {p.page}"]
    if p.paragraph:
        parts.append(f"paragraph {p.paragraph}")
    return ", ".join(x for x in parts if x)


def distinct_nearest(hits: Sequence[Hit]) -> list[Hit]:
    """A refusal's nearest passages, each passage once (by id, and by text: a letter's paragraph repeated in its
    summary is one passage to a reader)."""
    seen: set[str] = set()
    out = []
    for h in hits:
        keys = {h.passage.id, " ".join(h.text.split()).lower()}
        if not keys & seen:
            seen |= keys
            out.append(h)
    return out


def nearest_label(h: Hit, words: int = 9) -> str:
    """'page 1, Findings: “Senior leaders accepted many of the weaknesses …”': five passages on a letter's one page
    must read as five different passages."""
    p = h.passage
    head = " ".join(h.text.split()[:words])
    more = " …" if len(h.text.split()) > words else ""
    return (f"page {p.page}" + (f", paragraph {p.paragraph}" if p.paragraph else "")
            + (f", {p.section}" if p.section and p.section != h.document.title else "") + f": “{head}{more}”")


def answer_as_text(answer: Answer) -> str:
    out = [answer.text, ""]
    if answer.citations:
        out.append("Sources")
        for c in answer.citations:
            out.append(f"[{c.n}] {c.hit.document.title} ({where(c)})")
            out.append("    " + c.hit.text.replace("\n", "\n    "))
    elif answer.nearest:
        out.append("Nearest passages")
        for h in distinct_nearest(answer.nearest):
            out.append(f"- {h.document.title}, {nearest_label(h)}")
            out.append("    " + h.text[:300].replace("\n", " "))
    return "\n".join(out).rstrip()


def answer_as_markdown(answer: Answer) -> str:
    out = [f"### {answer.question}", "", answer.text, ""]
    for c in answer.citations:
        quote = c.hit.text.replace("\n", "\n> ")
        out += [f"**[{c.n}] {c.hit.document.title}** — {where(c)}  ", f"Source file: `{c.hit.document.source}`",
                "", f"> {quote}", ""]
    return "\n".join(out)
