"""Structure from lines of text: headings, numbered paragraphs as printed ("3.20", "12"), bullets, pages.

PDF text arrives as lines with no paragraph marks, so paragraphs are rebuilt from cues a reader uses: a printed
number that continues the document's numbering, a bullet, a short line that ends a sentence, a short line with no
full stop before a numbered paragraph (a heading). Markup formats (HTML, DOCX, Markdown) know their blocks and
only need `split_number`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

# A printed number, then a capitalised word that is not a month: "5 July 2016 Police…" is a date in a table.
# Some PDFs lose the space after the full stop ("10.The vast majority"), so after a stop or bracket none is needed.
_NUMBER = re.compile(r"^(?:\((\d{1,3})\)\s*|(\d{1,3}(?:\.\d{1,3}){0,3})(?:[.)]\s*|\s+))(?!(?:Jan|Feb|Mar|Apr|May|Jun|"
                     r"Jul|Aug|Sep|Oct|Nov|Dec)[a-z]*\.?\s+(?:\d|of\b))(?=[A-Z‘'\"“(\[])(.+)$")
# pdftotext sometimes sets a paragraph's number apart: "4." alone, then a blank line, then the paragraph.
_LONE_NUMBER = re.compile(r"^(\d{1,3}(?:\.\d{1,3}){0,3})\.$")
_BULLET = re.compile(r"^[◼■▪●•◦‣∙·\-–—*]\s+(.+)$")
_ADDRESS_LINE_WORDS = 6
# A line ending in contact details: an email, a web address, a phone number or a UK postcode.
_CONTACT_END = re.compile(r"(?:\S+@[\w-]+\.\S+|\bwww\.\S+|https?://\S+|\b0\d{3,4} ?\d{3} ?\d{3,4}|"
                          r"\b[A-Z]{1,2}\d[A-Z\d]? \d[A-Z]{2})$")
_END = re.compile(r"[.!?:;)\"”’]$")
_SENTENCE_END = re.compile(r"[.!?)\"”’]$")


@dataclass
class Span:
    """One line (or run of text) of a block, located on its page."""

    page: int
    start: int
    end: int
    text: str


@dataclass
class Block:
    """A heading, paragraph, bullet or table row; `number` is the paragraph number as printed."""

    kind: str  # heading | paragraph | bullet | row | address (not quoted)
    spans: list[Span] = field(default_factory=list)
    number: str | None = None
    level: int = 1  # heading level

    @property
    def text(self) -> str:
        return join_lines([s.text for s in self.spans])

    @property
    def page(self) -> int:
        return self.spans[0].page


def join_lines(lines: list[str]) -> str:
    """Join wrapped lines: a line ending in a hyphen before a lower-case word is one word ("multi-" "agency")."""
    out = ""
    for line in lines:
        line = line.strip()
        if not line:
            continue
        if not out:
            out = line
        elif out.endswith("-") and line[:1].islower() and not out.endswith(" -"):
            out += line
        else:
            out += " " + line
    return out


def split_number(text: str) -> tuple[str | None, str]:
    """'3.20 The team…' -> ('3.20', 'The team…'); '12. Leaders…' -> ('12', 'Leaders…'); else (None, text)."""
    m = _NUMBER.match(text.strip())
    if not m:
        return None, text.strip()
    number = m.group(1) or m.group(2)
    if number == text.strip()[:len(number)] and "." not in number and _DATE_AFTER.match(text.strip()[len(number):]):
        return None, text.strip()  # "21 November to 2 December 2022": a date (a running header), not paragraph 21
    return number, m.group(3)


_DATE_AFTER = re.compile(r"\s+(?:January|February|March|April|May|June|July|August|September|October|November|"
                         r"December)\b")


def _parts(number: str) -> list[int]:
    return [int(x) for x in number.split(".")]


def plausible_next(prev: str | None, new: str) -> bool:
    """Does `new` continue a document's numbering after `prev`? Rejects '40 additional posts' after '5'."""
    b = _parts(new)
    if prev is None:
        return b[-1] <= 3 or (len(b) > 1 and b[-1] <= 3)
    a = _parts(prev)
    if len(b) == len(a):
        return (b[:-1] == a[:-1] and 0 < b[-1] - a[-1] <= 3) or (
            len(b) > 1 and b[0] - a[0] in (1, 2) and b[-1] <= 2)
    if len(b) == len(a) + 1:  # 3 -> 3.1 (or a section heading "3." straight to an excerpted "3.20")
        return b[:-1] == a or (b[:-2] == a[:-1] and 0 < b[-2] - a[-1] <= 2 and b[-1] <= 2)
    if len(b) < len(a):  # 3.12 -> 4 or 3.12.2 -> 3.13
        return b[:-1] == a[:len(b) - 1] and 0 < b[-1] - a[len(b) - 1] <= 2
    return False


def parse_lines(pages: list[list[tuple[int, int, str]]]) -> list[Block]:
    """Blocks from pages of (start, end, line) triples; a paragraph may continue across a page break."""
    blocks: list[Block] = []
    last_number: str | None = None
    numbered: list[Block] = []  # the blocks whose printed number was taken, in order
    run_in: Block | None = None  # the last one-line heading found by `_run_in_heading`
    pending: str | None = None  # a paragraph number printed on a line of its own, for the next line
    for page_no, lines in enumerate(pages, start=1):
        widths = sorted(len(t) for _, _, t in lines)
        typical = widths[int(len(widths) * 0.9)] if widths else 80
        prev_text = ""
        for i, (start, end, text) in enumerate(lines):
            text = text.strip()
            span = Span(page_no, start, end, text)
            if not text:
                prev_text = ""  # a blank line ends a paragraph (text extractions keep them)
                continue
            cur = blocks[-1] if blocks else None
            # A line can start a new block only after one that ended: a full stop, a heading, or a short line
            # (a heading's last line has no full stop but stops well short of the margin).
            prev_ended = (not prev_text) or bool(_END.search(prev_text)) or (
                cur is not None and cur.kind == "heading") or len(prev_text) < 0.7 * typical
            lone = _LONE_NUMBER.match(text)
            if lone and prev_ended and plausible_next(last_number, lone.group(1)):
                pending, prev_text = lone.group(1), text  # "4." on a line of its own; its text follows
                continue
            if pending is not None:
                blocks.append(Block("paragraph", [span], number=pending))
                numbered.append(blocks[-1])
                last_number, pending, prev_text = pending, None, text
                continue
            number, _ = split_number(text)
            bullet = _BULLET.match(text)
            if number and prev_ended and len(numbered) == 1 and _bare(numbered[0]) and \
                    not plausible_next(last_number, number) and plausible_next(None, number):
                # the one number taken so far was not the numbering ("2 Bristol Avenue" in a letter's address)
                numbered[0].number, last_number, numbered = None, None, []
            if number and (prev_ended or (_successor(last_number, number) and not _continued(prev_text))) and \
                    plausible_next(last_number, number):
                # (the very next number also follows a heading that runs to the margin without a full stop:
                # "The experiences and progress of children in care: inadequate" then "18. Children in care…")
                blocks.append(Block("paragraph", [span], number=number))
                numbered.append(blocks[-1])
                last_number = number
            elif bullet and prev_ended:
                blocks.append(Block("bullet", [span]))
            elif (not prev_text or _SENTENCE_END.search(prev_text)) and _run_in_heading(text, lines, i, typical):
                # (after a finished sentence only: after "14 October 2021 Ravensmoor", "Academy" is a table cell)
                # "Main findings" alone on its line above a paragraph: a heading, not the paragraph's first words
                blocks.append(Block("heading", [span], level=2))
                run_in = blocks[-1]
            elif cur is None or cur is run_in or _starts_paragraph(cur, prev_text, text, i, typical, lines,
                                                                  last_number):
                blocks.append(Block("paragraph", [span]))
            else:
                cur.spans.append(span)
            prev_text = text
    if len(numbered) == 1 and _bare(numbered[0]):  # one bare number in a whole document is a house number or a
        numbered[0].number = None  # count, not a numbering ("(1)" or "1." alone still numbers a list of one)
    return _mark_headings(blocks)


def _bare(block: Block) -> bool:
    """Was the block's number printed without a full stop or bracket ("2 Bristol Avenue")?"""
    first = block.spans[0].text.strip()
    return block.number is not None and first.startswith(block.number) and \
        first[len(block.number):len(block.number) + 1].isspace()


_RUN_IN_MAX_WORDS = 5
# Words a wrapped line can end on mid-sentence; a number after one of them is part of the sentence.
_CONTINUING_WORDS = ("a an the and or of to in on at by for from with as than that which who is are was were be "
                     "been has have had their its his her our about between over under around nearly almost "
                     "approximately only some all")
_CONTINUING = frozenset(_CONTINUING_WORDS.split(" "))


def _successor(prev: str | None, new: str) -> bool:
    """`new` is the very next number after `prev`: 24 -> 25, 3.9 -> 3.10, 3 -> 3.1."""
    if prev is None:
        return False
    a, b = _parts(prev), _parts(new)
    return (len(a) == len(b) and a[:-1] == b[:-1] and b[-1] == a[-1] + 1) or (b[:-1] == a and b[-1] == 1)


def _continued(line: str) -> bool:
    words = line.split()
    return not words or line.endswith((",", "-", "–")) or words[-1].lower() in _CONTINUING


def _run_in_heading(text: str, lines: list[tuple[int, int, str]], i: int, typical: float) -> bool:
    """A short capitalised line without closing punctuation or digits, above a full-width line that starts with a
    capital: Ofsted letters set "Headline findings", "Main findings", "Overview" this way."""
    words = text.split()
    if not words or len(words) > _RUN_IN_MAX_WORDS or _END.search(text) or not text[:1].isupper() or \
            any(c.isdigit() for c in text) or len(text) > 0.5 * typical:
        return False
    nxt = lines[i + 1][2].strip() if i + 1 < len(lines) else ""
    return nxt[:1].isupper() and len(nxt) >= 0.6 * typical and not _BULLET.match(nxt)


def _starts_paragraph(cur: Block, prev_text: str, text: str, i: int, typical: float,
                      lines: list[tuple[int, int, str]], last_number: str | None) -> bool:
    """Does this unnumbered line begin a new paragraph rather than continue the current block?"""
    if text[:1].isupper() and len(text) >= 0.6 * typical and cur.spans and _CONTACT_END.search(cur.spans[-1].text):
        return True  # prose after an address block's "www.gov.uk/ofsted" (even over a page break) starts anew
    if not prev_text:  # after a blank line (text extractions keep them between paragraphs), or a page top
        if i > 0:
            return not (text[:1].islower() and not _SENTENCE_END.search(cur.spans[-1].text))
        return bool(_SENTENCE_END.search(cur.spans[-1].text)) or (text[:1].isupper() and cur.kind != "paragraph")
    ended = bool(_SENTENCE_END.search(prev_text))
    if ended and len(prev_text) < 0.8 * typical and (text[:1].isupper() or text[:1].isdigit()):
        return True  # the last line stopped short after a full stop: the paragraph ended there
    if ended and text[:1].isupper() and _heading_ahead(lines, i, last_number):
        return True
    return cur.kind == "heading" and text[:1].isupper() and len(cur.spans) >= 2


def _heading_ahead(lines: list[tuple[int, int, str]], i: int, last_number: str | None) -> bool:
    """Do lines i.. form a short unpunctuated run followed by a numbered paragraph or bullet (a heading)?"""
    words = 0
    for j in range(i, min(i + 3, len(lines))):
        text = lines[j][2].strip()
        words += len(text.split())
        if words > 22 or (_SENTENCE_END.search(text) and not text.endswith("?")):
            return False
        nxt = lines[j + 1][2].strip() if j + 1 < len(lines) else ""
        number = split_number(nxt)[0]
        if (number and plausible_next(last_number, number)) or _BULLET.match(nxt):
            return True
    return False


def _mark_headings(blocks: list[Block]) -> list[Block]:
    """Short blocks without a full stop, followed by a paragraph or bullet, are headings ('1. Introduction');
    short lines ending in contact details are an address (Ofsted's "Piccadilly Gate … www.gov.uk/ofsted")."""
    for i, b in enumerate(blocks):
        if b.kind == "paragraph" and b.number is None and _CONTACT_END.search(b.spans[-1].text) and \
                all(len(s.text.split()) <= _ADDRESS_LINE_WORDS for s in b.spans):
            b.kind = "address"
            continue
        text = b.text
        words = len(text.split())
        if b.kind == "bullet" or (_SENTENCE_END.search(text) and not text.endswith("?")) or words > 22 or words == 0:
            continue
        nxt = blocks[i + 1] if i + 1 < len(blocks) else None
        if b.number is not None and (words > 10 or nxt is None):
            continue
        if nxt is None or (nxt.kind in ("paragraph", "bullet", "heading") and (
                nxt.number is not None or nxt.kind == "bullet" or _SENTENCE_END.search(nxt.text))):
            b.kind = "heading"
            b.level = 1 if b.number is not None and "." not in b.number else 2
            if b.number is not None:  # a numbered section heading keeps its number in the text
                b.number = None
    return blocks
