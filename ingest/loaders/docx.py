"""Word .docx: heading styles, list styles, paragraphs and tables in body order."""

from __future__ import annotations

import zipfile
from pathlib import Path

from ingest.errors import CorruptFileError, EmptyFileError
from ingest.loaders.base import LoadedDocument, clean_line
from ingest.structure import Block, Span, split_number


def load_docx(path: Path) -> LoadedDocument:
    import docx
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    if path.stat().st_size == 0:
        raise EmptyFileError("empty file (0 bytes)")
    if not zipfile.is_zipfile(path):
        raise CorruptFileError("not a readable .docx (it is not a Word zip package)")
    try:
        document = docx.Document(str(path))
    except Exception as exc:  # python-docx raises KeyError, ValueError, lxml errors… for damaged packages
        raise CorruptFileError(f"not a readable .docx ({type(exc).__name__}: {exc})") from exc
    declared: dict[str, str] = {}
    props = document.core_properties
    if props.title:
        declared["title"] = clean_line(props.title)
    blocks: list[Block] = []
    lines: list[str] = []
    pos = 0

    def add(kind: str, text: str, level: int = 1) -> None:
        nonlocal pos
        text = clean_line(text)
        if not text:
            return
        span = Span(1, pos, pos + len(text), text)
        lines.append(text)
        pos += len(text) + 1
        number = split_number(text)[0] if kind == "paragraph" else None
        blocks.append(Block(kind, [span], number=number, level=level))

    for item in document.iter_inner_content():
        if isinstance(item, Paragraph):
            style = (item.style.name if item.style is not None else "") or ""
            if style.startswith("Heading") or style == "Title":
                level = int(style.split()[-1]) if style.split()[-1].isdigit() else 1
                add("heading", item.text, level)
            elif "List" in style:
                add("bullet", item.text)
            else:
                add("paragraph", item.text)
        elif isinstance(item, Table):
            for row in item.rows:
                cells: list[str] = []
                for cell in row.cells:  # merged cells repeat; keep each text once per row
                    text = clean_line(cell.text)
                    if text and (not cells or cells[-1] != text):
                        cells.append(text)
                add("row", " | ".join(cells))
    if not blocks:
        raise EmptyFileError("no text in the document body")
    return LoadedDocument(["\n".join(lines)], blocks, declared)
