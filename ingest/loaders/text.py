"""Plain text and Markdown. Text in cp1252 or Latin-1 is decoded, not rejected; binary posing as text is."""

from __future__ import annotations

import re
from collections import Counter
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


_PAGE_MARK = re.compile(r"^\d{1,3}$")
_DIGITS = re.compile(r"\d+")
FOOTER_LINES = 4  # a running footer is at most this many lines above the page number


def split_printed_pages(lines: list[str]) -> list[list[str]] | None:
    """Pages of a text extraction that lost its form feeds, cut at its printed page numbers, with running footers
    removed; None when it has no such numbering.

    pdftotext output of an Ofsted report without form feeds ends each page with its footer: the report's title,
    the inspection dates and the page number on a line of its own before a blank line ("Inspection of Bedford
    Borough…", "15 to 26 November 2021", "", "2", ""). Without this the whole report is "page 1" and every
    paragraph that runs over a page carries the footer in the middle of its text (and so in quotations). Numbers
    count up by one from 1, 2 or 3; the text before the first one (usually the unnumbered cover page and the
    first numbered page) is page 1, and later pages keep their printed numbers."""
    marks: list[tuple[int, int]] = []
    expected: int | None = None
    for i, line in enumerate(lines):
        text = line.strip()
        if not _PAGE_MARK.match(text) or (i + 1 < len(lines) and lines[i + 1].strip()):
            continue  # (a letter's page number may follow its last line directly: only the blank after is sure)
        n = int(text)
        if (expected is None and 1 <= n <= 3) or n == expected:
            marks.append((i, n))
            expected = n + 1
    if len(marks) < 2:
        return None
    chunks, start = [], 0
    for i, _ in marks:
        chunks.append(lines[start:i])
        start = i + 1
    chunks.append(lines[start:])
    # The footer: lines just above each page number that recur on many pages (dates kept apart by digits).
    tails = [_tail(chunk) for chunk in chunks[:-1]] + [set()]  # the last page has no number, so no footer
    counts = Counter(key for chunk, tail in zip(chunks, tails, strict=True)
                     for key in {_DIGITS.sub("#", chunk[i].strip()) for i in tail})
    footer = {k for k, n in counts.items() if n >= max(2, 0.4 * len(marks))}
    pages: list[list[str]] = []
    for k, (chunk, tail) in enumerate(zip(chunks, tails, strict=True)):
        kept = [y for i, y in enumerate(chunk) if not (i in tail and _DIGITS.sub("#", y.strip()) in footer)]
        while kept and not kept[0].strip():
            kept.pop(0)
        pages.append(kept)
        if k == 0:
            pages.extend([] for _ in range(marks[0][1] - 1))  # pages 2..n-1 of the first stretch have no text
    return pages


def _tail(chunk: list[str]) -> set[int]:
    """Positions of the chunk's last FOOTER_LINES non-blank lines."""
    return set([i for i, y in enumerate(chunk) if y.strip()][-FOOTER_LINES:])


def load_text(path: Path) -> LoadedDocument:
    raw = read_text(path)
    pages_raw = raw.split("\f")  # pdftotext marks page breaks with form feeds
    first_lines = pages_raw[0].splitlines()
    declared, skip = _front_matter(first_lines)
    pages_raw[0] = "\n".join(first_lines[skip:])
    if len(pages_raw) == 1:
        printed = split_printed_pages(pages_raw[0].splitlines())
        if printed is not None:
            pages_raw = ["\n".join(p) for p in printed]
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
