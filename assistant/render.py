"""An answer as plain text for the terminal and as Markdown for export: the answer, then its numbered sources."""

from __future__ import annotations

from assistant.records import Answer, Citation


def where(c: Citation) -> str:
    p, d = c.hit.passage, c.hit.document
    parts = [d.kind.replace("_", " "), d.council or "", d.published or "", f"page {p.page}"]
    if p.paragraph:
        parts.append(f"paragraph {p.paragraph}")
    return ", ".join(x for x in parts if x)


def answer_as_text(answer: Answer) -> str:
    out = [answer.text, ""]
    if answer.citations:
        out.append("Sources")
        for c in answer.citations:
            out.append(f"[{c.n}] {c.hit.document.title} ({where(c)})")
            out.append("    " + c.hit.text.replace("\n", "\n    "))
    elif answer.nearest:
        out.append("Nearest passages")
        for h in answer.nearest:
            out.append(f"- {h.document.title}, page {h.passage.page}"
                       + (f", paragraph {h.passage.paragraph}" if h.passage.paragraph else ""))
            out.append("    " + h.text[:300].replace("\n", " "))
    return "\n".join(out).rstrip()


def answer_as_markdown(answer: Answer) -> str:
    out = [f"### {answer.question}", "", answer.text, ""]
    for c in answer.citations:
        quote = c.hit.text.replace("\n", "\n> ")
        out += [f"**[{c.n}] {c.hit.document.title}** — {where(c)}  ", f"Source file: `{c.hit.document.source}`",
                "", f"> {quote}", ""]
    return "\n".join(out)
