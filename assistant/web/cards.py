"""Answers and passages as HTML for the page: the answer with `[n]` links, and the source cards they point to.

Everything that came from a document or a user goes through `text_html`, which turns every character HTML or
Markdown could read as syntax into a numeric character reference. So `<img src=x onerror=…>` in a passage is
shown, never run, and it stays inert inside the chat, whose Markdown renderer would otherwise re-read `*`,
`[x](javascript:…)` or `$…$` in document text as markup. Nothing here imports Gradio.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from urllib.parse import quote

from assistant.records import Answer
from assistant.render import distinct_nearest, nearest_label
from prompts import NEAREST_INTRO
from vectorstore.records import DocumentInfo, Hit

KIND_LABELS = {"review": "Case review", "inspection": "Ofsted inspection", "focused_visit": "Ofsted focused visit",
               "coroner_report": "Coroner's report (PFD)", "literature": "Literature", "other": "Other document"}
_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
           "November", "December")
# HTML's five specials, plus Markdown, LaTeX ($) and template ({}) syntax: as references they are plain text to
# every renderer on the way ("&#42;" is a literal "*" to Markdown, never emphasis).
_ESCAPES = str.maketrans({c: f"&#{ord(c)};" for c in "&<>\"'\\`*_[](){}!|~$#^="})
_KEY = re.compile(r"\[(\d{1,3})\]")
_HEADING = re.compile(r"^\s*(?:\*\*(?P<bold>.+?)\*\*|#{1,6}\s+(?P<hash>.+?))\s*$")


def text_html(text: str) -> str:
    """Plain text as inert HTML (newlines become <br>, so a chat message never holds a blank line that would end
    its HTML block and hand the rest to Markdown)."""
    return text.translate(_ESCAPES).replace("\r\n", "\n").replace("\n", "<br>")


def attr(text: str) -> str:
    """A value for a double-quoted HTML attribute."""
    return text.translate(_ESCAPES)


def long_date(iso: str | None) -> str:
    """'2022-09-28' → '28 September 2022'; partial or odd dates are shown as they are."""
    if not iso:
        return ""
    m = re.fullmatch(r"(\d{4})-(\d{2})(?:-(\d{2}))?", iso)
    if not m or not 1 <= int(m.group(2)) <= 12:
        return iso
    month = _MONTHS[int(m.group(2)) - 1]
    return f"{int(m.group(3))} {month} {m.group(1)}" if m.group(3) else f"{month} {m.group(1)}"


def where(hit: Hit) -> str:
    """'pages 4–5, paragraph 3.20'."""
    p = hit.passage
    pages = f"pages {p.page}–{p.page_end}" if p.page_end and p.page_end != p.page else f"page {p.page}"
    return pages + (f", paragraph {p.paragraph}" if p.paragraph else "")


def document_href(doc: DocumentInfo, hit: Hit | None = None) -> str:
    """Where the page serves a document (`assistant.web.routes`): PDFs open at the page, everything else as the
    stored passages, scrolled to the one cited. Relative, so the page also works behind a proxy's path prefix."""
    base = f"doc/{quote(doc.id, safe='')}"
    if doc.source.lower().endswith(".pdf"):
        return base + (f"#page={hit.passage.page}" if hit else "")
    return base + "/text" + (f"#passage-{quote(hit.id, safe=':')}" if hit else "")


def highlight(text: str, quotes: Iterable[str]) -> str:
    """The passage with each quoted sentence in <mark> (quotes are verbatim in extractive mode; a quote that is
    not found, as an LLM's paraphrase may be, is simply not marked)."""
    spans: list[tuple[int, int]] = []
    for q in quotes:
        q = q.strip()
        start = text.find(q) if q else -1
        if start >= 0:
            spans.append((start, start + len(q)))
    merged: list[tuple[int, int]] = []
    for s, e in sorted(spans):
        if merged and s <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(e, merged[-1][1]))
        else:
            merged.append((s, e))
    out, pos = [], 0
    for s, e in merged:
        out += [text_html(text[pos:s]), f"<mark>{text_html(text[s:e])}</mark>"]
        pos = e
    out.append(text_html(text[pos:]))
    return "".join(out)


def meta_line(doc: DocumentInfo) -> str:
    parts = [KIND_LABELS.get(doc.kind, doc.kind), doc.council or "", long_date(doc.published)]
    if doc.child and doc.child not in doc.title:
        parts.append(doc.child)
    return " · ".join(text_html(p) for p in parts if p)


def source_card(n: int, hit: Hit, quotes: Sequence[str] = (), anchor: str = "source-", links: bool = True) -> str:
    """One numbered source: title, kind, council, date, page, paragraph, section, the whole passage with the
    quoted sentences marked, and a link that opens the document at this page."""
    d = hit.document
    card_id = f"{anchor}{n}"
    section = f'<p class="section">Section: {text_html(hit.passage.section)}</p>' if hit.passage.section else ""
    link = (f'<p class="open"><a href="{attr(document_href(d, hit))}" target="_blank" rel="noopener" '
            f'aria-label="Open the document at this page: {attr(d.title)}, {attr(where(hit))} (new tab)">'
            "Open the document at this page</a></p>"
            if links else f'<p class="open">File: {text_html(d.source)}</p>')
    return (f'<article class="source-card" id="{attr(card_id)}" aria-labelledby="{attr(card_id)}-title">'
            f'<h4 id="{attr(card_id)}-title"><span class="n">[{n}]</span> {text_html(d.title)}</h4>'
            f'<p class="meta">{meta_line(d)} — {text_html(where(hit))}</p>{section}'
            f'<blockquote class="passage">{highlight(hit.text, quotes)}</blockquote>{link}</article>')


def _line_html(line: str, known: set[int], anchor: str) -> str:
    """One answer line: text escaped, each `[n]` a link to its source card (unknown keys stay plain text)."""
    out, pos = [], 0
    for m in _KEY.finditer(line):
        out.append(text_html(line[pos:m.start()]))
        n = int(m.group(1))
        out.append(f'<a class="cite" href="#{anchor}{n}" aria-label="source {n}">&#91;{n}&#93;</a>' if n in known
                   else text_html(m.group(0)))
        pos = m.end()
    out.append(text_html(line[pos:]))
    return "".join(out)


def answer_html(answer: Answer, anchor: str = "source-") -> str:
    """A chat message: headings and sentences on lines of their own, `[n]` linked to `#{anchor}n`; a refusal
    says so plainly and links the nearest passages. One line of HTML: no blank line may end the block."""
    known = {c.n for c in answer.citations}
    parts = [f'<div class="answer{" refused" if answer.refused else ""}">']
    if answer.standalone_question and answer.standalone_question.strip() != answer.question.strip():
        parts.append(f'<p class="read-as">Read as: “{text_html(answer.standalone_question)}”</p>')
    for notice in answer.notices:
        parts.append(f'<p class="notice">{text_html(notice)}</p>')
    for line in answer.text.split("\n"):
        if not line.strip() or (answer.refused and line.strip() == NEAREST_INTRO):
            continue
        m = _HEADING.match(line)
        if m:
            parts.append(f'<p class="answer-heading"><strong>{text_html(m.group("bold") or m.group("hash"))}'
                         "</strong></p>")
        else:
            parts.append(f"<p>{_line_html(line, known, anchor)}</p>")
    if answer.refused and answer.nearest:
        links = "".join(f'<li><a href="#{anchor}{n}">&#91;{n}&#93; {text_html(h.document.title)}, '
                        f"{text_html(nearest_label(h))}</a></li>"
                        for n, h in enumerate(distinct_nearest(answer.nearest), start=1))
        parts.append(f'<p>The nearest passages (none of them supports an answer):</p><ul class="nearest">{links}</ul>')
    parts.append("</div>")
    return "".join(parts)


def streaming_html(text: str) -> str:
    """An LLM answer while it is being written: plain escaped text; links come once it is verified."""
    return f'<div class="answer streaming"><p>{text_html(text)}</p><p class="hint">Writing…</p></div>'


def anchor_for(turn: int, turns: int) -> str:
    """Card ids: the latest answer's are `source-n` (what its `[n]` link to); earlier answers keep theirs apart
    as `source-<turn>-n`."""
    return "source-" if turn == turns - 1 else f"source-{turn + 1}-"


def answer_cards(answer: Answer, anchor: str, links: bool = True) -> str:
    if answer.citations:
        return "".join(source_card(c.n, c.hit, c.quotes, anchor, links) for c in answer.citations)
    return "".join(source_card(n, h, (), anchor, links)
                   for n, h in enumerate(distinct_nearest(answer.nearest), start=1))


def sources_html(answers: Sequence[Answer]) -> str:
    """The Sources panel: the latest answer's cards first, then earlier answers' (newest first)."""
    if not answers:
        return ('<section class="sources" aria-label="Sources"><p class="empty">Ask a question: the passages its '
                "answer cites appear here, each with a link to the document.</p></section>")
    blocks = []
    for turn in range(len(answers) - 1, -1, -1):
        a = answers[turn]
        title = ("Nearest passages — none of them supports an answer" if a.refused else "Sources") + \
            f" for “{text_html(a.question)}”"
        cards = answer_cards(a, anchor_for(turn, len(answers)))
        blocks.append(f'<section class="turn-sources"><h3>{title}</h3>{cards or "<p>No passages.</p>"}</section>')
    return f'<section class="sources" aria-label="Sources">{"".join(blocks)}</section>'


PHONE_PREFIX = "phone-"  # the in-message copy of card `source-n` is `phone-source-n`


def phone_sources_html(answer: Answer, anchor: str) -> str:
    """The answer's source cards inside its own chat message, folded. A phone stacks the Sources panel below the
    whole chat column, far from the answer, so on a narrow screen the page shows these instead of the panel (the
    CSS decides; a `[n]` there opens and scrolls to its card here, see PAGE_JS)."""
    cards = answer_cards(answer, PHONE_PREFIX + anchor)
    if not cards:
        return ""
    label = "Nearest passages" if answer.refused else "Sources"
    count = len(answer.citations) or len(distinct_nearest(answer.nearest))
    return (f'<details class="phone-sources"><summary>{label} for this answer ({count})</summary>'
            f"{cards}</details>")


def user_html(question: str) -> str:
    return text_html(question)


def messages(answers: Sequence[Answer], pending: str | None = None, partial: str | None = None) -> list[dict[str, str]]:
    """The chat as Gradio messages; `pending` is a question still being answered (with `partial` text so far)."""
    out: list[dict[str, str]] = []
    for turn, a in enumerate(answers):
        anchor = anchor_for(turn, len(answers))
        out.append({"role": "user", "content": user_html(a.question)})
        out.append({"role": "assistant", "content": answer_html(a, anchor) + phone_sources_html(a, anchor)})
    if pending is not None:
        out.append({"role": "user", "content": user_html(pending)})
        out.append({"role": "assistant", "content": streaming_html(partial) if partial else
                    '<div class="answer streaming"><p class="hint">Searching the documents…</p></div>'})
    return out


def documents_table(docs: Sequence[DocumentInfo]) -> str:
    """The Documents tab's list: one row per stored document, with a link to open it."""
    if not docs:
        return "<p>No documents yet. Add some above, or start with <code>latent chat --samples</code>.</p>"
    rows = "".join(
        f'<tr><td><a href="{attr(document_href(d))}" target="_blank" rel="noopener">{text_html(d.title)}</a></td>'
        f"<td>{text_html(KIND_LABELS.get(d.kind, d.kind))}</td><td>{text_html(d.council or '—')}</td>"
        f"<td>{text_html(long_date(d.published) or '—')}</td><td class='num'>{d.passages}</td>"
        f"<td><code>{text_html(d.id)}</code></td></tr>" for d in docs)
    return ('<table class="documents"><caption>Documents in the index</caption><thead><tr><th scope="col">Title</th>'
            '<th scope="col">Kind</th><th scope="col">Council</th><th scope="col">Published</th>'
            f'<th scope="col">Passages</th><th scope="col">Id</th></tr></thead><tbody>{rows}</tbody></table>')
