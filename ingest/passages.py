"""Split a document's blocks into passages of at most 200 word-pieces, aligned to its paragraphs.

Rules (in order of importance): numbered paragraphs never share a passage; a paragraph is split only when it
alone is too long (at sentence ends, else at word ends); unnumbered text that continues a numbered paragraph
(same section, no heading between) belongs to it; short unnumbered neighbours in one section merge.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass

from ingest.structure import Block, Span
from vectorstore.dates import find_dates
from vectorstore.records import Passage

MAX_TOKENS = 200
MERGE_TOKENS = 120  # unnumbered neighbours merge up to this size: small enough to quote, big enough to mean
HEADER_TOKENS = 48  # the header shares the model's 256-piece window with the passage
_SENTENCE = re.compile(r"(?<=[.!?])[\"”’)]?\s+(?=[A-Z‘\"“(\d])")


@dataclass
class _Unit:
    """Blocks that will become one passage (or be split into several if too long)."""

    blocks: list[Block]
    section: str | None
    number: str | None

    @property
    def text(self) -> str:
        return "\n".join(b.text for b in self.blocks)


def group_blocks(blocks: list[Block]) -> list[_Unit]:
    """Group blocks into passage-sized units by the rules above (before any length split)."""
    units: list[_Unit] = []
    section: str | None = None
    for b in blocks:
        if b.kind == "address":
            continue  # a sender's address and phone numbers are not text to quote or search
        if b.kind == "heading":
            section = b.text
            units.append(_Unit([], section, None))  # a barrier: nothing merges across a heading
            continue
        last = units[-1] if units else None
        if b.number is not None or last is None:
            units.append(_Unit([b], section, b.number))
        elif last.number is not None and b.kind in ("paragraph", "bullet") and last.blocks:
            last.blocks.append(b)  # continues the numbered paragraph (checked for length below)
        elif (last.blocks and last.number is None and last.blocks[-1].kind == b.kind) or (
                last.blocks and last.number is None and {last.blocks[-1].kind, b.kind} <= {"paragraph", "bullet"}):
            last.blocks.append(b)
        else:
            units.append(_Unit([b], section, None))
    return [u for u in units if u.blocks]


def split_into_passages(blocks: list[Block], doc_id: str, header: str, count: Callable[[str], int],
                        max_tokens: int = MAX_TOKENS) -> list[Passage]:
    """Passages in reading order; `count` gives the word-pieces of a text (the embedding model's tokenizer)."""
    passages: list[Passage] = []
    for unit in group_blocks(blocks):
        for piece in _fit(unit, count, max_tokens):
            passages.append(_passage(piece, unit, doc_id, header))
    return passages


def _fit(unit: _Unit, count: Callable[[str], int], max_tokens: int) -> list[list[Span]]:
    """Pieces of the unit (as lists of spans) each within the limit. Unnumbered units split between blocks
    first, so merged neighbours separate before any paragraph is cut."""
    pieces: list[list[Span]] = []
    current: list[Span] = []
    current_tokens = 0
    limit = max_tokens if unit.number is not None else min(max_tokens, MERGE_TOKENS)
    for block in unit.blocks:
        tokens = count(block.text)
        if current and current_tokens + tokens > limit:
            pieces.append(current)
            current, current_tokens = [], 0
        if tokens > max_tokens:
            pieces.extend(_split_block(block, count, max_tokens))
            continue
        current.extend(block.spans if not current else [Span(-1, 0, 0, "\n")] + block.spans)
        current_tokens += tokens
    if current:
        pieces.append(current)
    return pieces


def _split_block(block: Block, count: Callable[[str], int], max_tokens: int) -> list[list[Span]]:
    """Cut one long paragraph at sentence ends (or word ends for a run-on sentence), keeping each span's page."""
    words: list[Span] = []
    for s in block.spans:  # word-level spans keep page and offsets through the cut
        for m in re.finditer(r"\S+", s.text):
            words.append(Span(s.page, s.start + m.start(), s.start + m.end(), m.group()))
    # Word-pieces never cross a space (the tokenizer splits on whitespace first), so a run of words counts the sum
    # of its words' pieces: one count per distinct word instead of one of the whole growing run per word (a
    # 300-word abstract was 300 counts of up to 300 words, most of a small document's ingest outside the model).
    # The sum only decides when to look: each cut is confirmed by counting the run itself, as before.
    sizes: dict[str, int] = {}
    pieces: list[list[Span]] = []
    current: list[Span] = []
    tokens = 0
    for w in words:
        size = sizes.get(w.text)
        if size is None:
            size = sizes[w.text] = count(w.text)
        if current and tokens + size > max_tokens:
            exact = count(" ".join(x.text for x in [*current, w]))
            if exact > max_tokens:
                cut = _last_sentence_end(current)
                pieces.append(current[:cut])
                current = current[cut:]
                tokens = sum(sizes[x.text] for x in current)
            else:  # a tokenizer whose pieces do cross spaces: keep the exact count of this run
                tokens = exact - size
        current.append(w)
        tokens += size
    if current:
        pieces.append(current)
    return pieces


def _last_sentence_end(words: list[Span]) -> int:
    for i in range(len(words) - 1, len(words) // 3, -1):  # don't leave a tiny fragment behind
        if re.search(r"[.!?][\"”’)]?$", words[i].text):
            return i + 1
    return len(words)


def _passage(spans: list[Span], unit: _Unit, doc_id: str, header: str) -> Passage:
    real = [s for s in spans if s.page > 0]
    text = _join(spans)
    first = real[0]
    on_first_page = [s for s in real if s.page == first.page]
    section_header = f"{header}\n{unit.section}" if unit.section else header
    digest = hashlib.sha256(f"{doc_id}|{first.page}|{first.start}|{text}".encode()).hexdigest()[:20]
    dates = find_dates(text)
    return Passage(id=f"{doc_id}:{digest}", doc_id=doc_id, text=text, header=section_header, page=first.page,
                   paragraph=unit.number, section=unit.section, char_start=first.start,
                   char_end=on_first_page[-1].end, date=dates[0] if dates else None,
                   page_end=real[-1].page if real[-1].page != first.page else None)


def _join(spans: list[Span]) -> str:
    from ingest.structure import join_lines

    parts: list[list[str]] = [[]]
    for s in spans:
        if s.page < 0:
            parts.append([])
        else:
            parts[-1].append(s.text)
    return "\n".join(join_lines(p) for p in parts if p)
