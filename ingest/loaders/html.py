"""HTML: headings, paragraphs, list items and table rows, in document order; scripts and navigation dropped."""

from __future__ import annotations

from pathlib import Path

from ingest.errors import EmptyFileError
from ingest.loaders.base import LoadedDocument, clean_line
from ingest.loaders.text import read_text
from ingest.structure import Block, Span, split_number

_BLOCKS = ("h1", "h2", "h3", "h4", "h5", "h6", "p", "li", "tr", "blockquote", "pre", "dt", "dd", "figcaption",
           "caption")


def load_html(path: Path) -> LoadedDocument:
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(read_text(path), "lxml")
    for tag in soup(["script", "style", "noscript", "template", "nav", "iframe", "svg", "form", "button"]):
        tag.decompose()
    declared: dict[str, str] = {}
    if soup.title and soup.title.get_text(strip=True):
        declared["title"] = clean_line(soup.title.get_text(" ", strip=True))
    for meta in soup.find_all("meta"):
        name = str(meta.get("name") or meta.get("property") or "").lower().removeprefix("dc.")
        if name in ("kind", "council", "published", "date", "author", "child", "period") and meta.get("content"):
            declared["published" if name == "date" else name] = clean_line(str(meta["content"]))
    root = soup.body or soup
    blocks: list[Block] = []
    lines: list[str] = []
    pos = 0
    for el in root.find_all(_BLOCKS):
        if el.find_parent(_BLOCKS) is not None and el.name not in ("li", "tr"):
            continue  # a <p> inside an <li> is read with its item
        if el.name == "tr":
            text = " | ".join(clean_line(c.get_text(" ", strip=True)) for c in el.find_all(["td", "th"]))
        else:
            text = clean_line(el.get_text(" ", strip=True))
        if not text or (el.name == "li" and el.find("li") is not None):
            continue
        span = Span(1, pos, pos + len(text), text)
        lines.append(text)
        pos += len(text) + 1
        if el.name[0] == "h" and el.name[1:].isdigit():
            blocks.append(Block("heading", [span], level=int(el.name[1])))
        elif el.name == "li":
            blocks.append(Block("bullet", [span]))
        elif el.name == "tr":
            blocks.append(Block("row", [span]))
        else:
            number, _ = split_number(text)
            blocks.append(Block("paragraph", [span], number=number))
    if not blocks:
        raise EmptyFileError("no text in the HTML body")
    return LoadedDocument(["\n".join(lines)], blocks, declared)
