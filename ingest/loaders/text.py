"""Plain text and Markdown. Text in cp1252 or Latin-1 is decoded, not rejected; binary posing as text is."""

from __future__ import annotations

import re
from pathlib import Path

from ingest.errors import CorruptFileError, EmptyFileError
from ingest.loaders.base import LoadedDocument, clean_line, lines_with_offsets
from ingest.structure import Block, Span, parse_lines, split_number

_HEADER_FIELD = re.compile(r"^([A-Z][A-Za-z ]{1,30}):\s*(.*)$")
_RULE = re.compile(r"^[-=_]{20,}$")


def read_text(path: Path) -> str:
    """Decode UTF-8 (with or without BOM), else cp1252, else Latin-1; refuse binary content."""
    data = path.read_bytes()
    if not data.strip():
        raise EmptyFileError("empty file" if not data else "empty file (only whitespace)")
    sample = data[:65536]
    controls = sum(1 for b in sample if b < 32 and b not in (9, 10, 12, 13))
    if b"\x00" in sample or controls > len(sample) * 0.02:
        raise CorruptFileError(f"not text: binary content in a {path.suffix or 'text'} file")
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    return data.decode("latin-1")


def _front_matter(lines: list[str]) -> tuple[dict[str, str], int]:
    """`Key: value` lines ended by a rule (our text extractions), or YAML front matter between `---` lines."""
    declared: dict[str, str] = {}
    if lines and lines[0].strip() == "---":
        for i, line in enumerate(lines[1:], start=1):
            if line.strip() == "---":
                return declared, i + 1
            m = re.match(r"^(\w+):\s*(.*)$", line.strip())
            if m:
                declared[m.group(1).lower()] = m.group(2).strip().strip('"')
        return {}, 0
    for i, line in enumerate(lines[:15]):
        if _RULE.match(line.strip()) and i > 0:
            fields = [_HEADER_FIELD.match(x.strip()) for x in lines[:i] if x.strip()]
            if fields and all(fields):
                return {m.group(1).lower(): m.group(2).strip() for m in fields if m}, i + 1
    return {}, 0


def load_text(path: Path) -> LoadedDocument:
    raw = read_text(path)
    pages_raw = raw.split("\f")  # pdftotext marks page breaks with form feeds
    first_lines = pages_raw[0].splitlines()
    declared, skip = _front_matter(first_lines)
    pages_raw[0] = "\n".join(first_lines[skip:])
    texts, located = [], []
    for page in pages_raw:
        text, spans = lines_with_offsets([clean_line(x) for x in page.splitlines()])
        texts.append(text)
        located.append(spans)
    if not any(t.strip() for t in texts):
        raise EmptyFileError("empty file (no text after the header)")
    while len(texts) > 1 and not texts[-1].strip():
        texts.pop()
        located.pop()
    return LoadedDocument(texts, parse_lines(located), declared)


def load_markdown(path: Path) -> LoadedDocument:
    raw = read_text(path)
    lines = raw.splitlines()
    declared, skip = _front_matter(lines)
    body = [clean_line(x) for x in lines[skip:]]
    text, spans = lines_with_offsets(body)
    if not text.strip():
        raise EmptyFileError("empty file (no text after the front matter)")
    blocks: list[Block] = []
    para: list[Span] = []

    def flush() -> None:
        if para:
            number, _ = split_number(para[0].text)
            blocks.append(Block("paragraph", list(para), number=number))
            para.clear()

    for start, end, line in spans:
        span = Span(1, start, end, line)
        heading = re.match(r"^(#{1,6})\s+(.*)$", line)
        bullet = re.match(r"^([-*+]|\d+[.)])\s+(.*)$", line)
        if not line or re.match(r"^\|?\s*:?-{3,}", line):
            flush()
        elif heading:
            flush()
            hs = Span(1, start + len(heading.group(1)) + 1, end, heading.group(2).strip("# "))
            blocks.append(Block("heading", [hs], level=len(heading.group(1))))
        elif line.startswith("|"):
            flush()
            cells = [c.strip() for c in line.strip("|").split("|")]
            blocks.append(Block("row", [Span(1, start, end, " | ".join(cells))]))
        elif bullet and not split_number(line)[0]:
            flush()
            blocks.append(Block("bullet", [Span(1, start + len(bullet.group(1)) + 1, end, bullet.group(2))]))
        elif split_number(line)[0] and para:
            flush()
            para.append(span)
        else:
            para.append(span)
    flush()
    if "title" not in declared:
        first = next((b for b in blocks if b.kind == "heading"), None)
        if first is not None:
            declared["title"] = first.text
    return LoadedDocument([text], blocks, declared)
