"""What every loader returns, and the text clean-up they share."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

from ingest.structure import Block

_SPACES = re.compile(r"[ \t\u00a0\u2000-\u200b\u202f\u3000]+")


@dataclass
class LoadedDocument:
    """Pages of clean text, the blocks found in them, and metadata the file itself declares."""

    pages: list[str]
    blocks: list[Block]
    declared: dict[str, str] = field(default_factory=dict)  # title, kind, council, published… from the file


def clean_line(text: str) -> str:
    """NFC, one space for any run of spaces, and pdfium's U+FFFE line-break hyphen as a plain hyphen."""
    text = unicodedata.normalize("NFC", text.replace("\ufffe", "-").replace("\u00ad", ""))
    text = "".join(ch for ch in text if ch in "\t\n" or unicodedata.category(ch)[0] != "C")
    return _SPACES.sub(" ", text).strip()


def lines_with_offsets(lines: list[str]) -> tuple[str, list[tuple[int, int, str]]]:
    """Join lines into a page text and give each line's (start, end, text) in it."""
    out, pos = [], 0
    for line in lines:
        out.append((pos, pos + len(line), line))
        pos += len(line) + 1
    return "\n".join(lines), out
