"""Split text into sentences, as character spans, for reports and reviews extracted from PDFs, DOCX and Markdown.

The text is what `pdftotext` and friends give us: hard-wrapped lines, headings without full stops, bullets drawn
with private-use glyphs (U+F06E), paragraph numbers such as `3.20` at the start of a line, and abbreviations
(`e.g.`, `Mr`, `para.`) that a naive split on ". " breaks. Pure Python and regex, so it runs on every passage.
"""

from __future__ import annotations

import itertools
import re

__all__ = ["split_sentences"]

# Bullet glyphs seen in Ofsted PDFs and in Word/Markdown lists. The private-use ones (U+F06E, U+F02D, U+F0A7,
# U+F0B7, U+F0BE, U+F0D8, U+F0FC) are Symbol/Wingdings bullets that pdftotext passes through unchanged.
_BULLET_CHARS = "◼•▪●○◦■□▸►➢➤✓✔·\uf06e\uf02d\uf0a7\uf0b7\uf0be\uf0d8\uf0fc\uf076\uf0a8"
# Dashes and asterisks are bullets only at the start of a line ("- item"); inline they are hyphens or emphasis.
_LINE_BULLET = re.compile(rf"[ \t]*(?:[{_BULLET_CHARS}]|[-–—*+](?=\s))[ \t]*")
_INLINE_BULLET = re.compile(rf"(?<=\s)[{_BULLET_CHARS}][ \t]+")
# A paragraph or list number opening a line: "3.20 The", "15. The", "(a) The", "ii) The", "1) The".
# One or two digits before the first dot, so a year ("2018 saw") is never taken for a number; the next word must
# start like a sentence, so a wrapped line such as "30 to 50 children" is not either.
_LINE_NUMBER = re.compile(
    r"[ \t]*(?:\d{1,2}(?:\.\d{1,3})*\.?|\(?[a-z]\)|\(?[ivx]{1,4}[.)])[ \t]+"
    r"(?!(?:January|February|March|April|May|June|July|August|September|October|November|December)\b)"
    r"(?=[A-Z‘“\"'(\[])"
)
_MD_HEADING = re.compile(r"[ \t]*#{1,6}[ \t]+")
# A sentence ends at . ! ? or an ellipsis, perhaps closed by quotes or brackets, when whitespace and something
# that can open a sentence follow.
_END = re.compile(r"(?:[.!?]+|…)['\"’”)\]]*(?=\s+['\"‘“(\[]*[A-Z0-9])")
_WORD_BEFORE = re.compile(r"([A-Za-z][A-Za-z.]*)$")
_NEXT_TOKEN = re.compile(r"\s+['\"‘“(\[]*(\S+)")

# Abbreviations that never end a sentence however the next word starts (case-sensitive on purpose: "no." and
# "No." differ, and "Dr. Smith" is a title while "dr." is nothing in these documents).
_ALWAYS_ABBREV = frozenset({
    "e.g", "i.e", "eg", "ie", "cf", "viz", "approx", "incl", "Mr", "Mrs", "Ms", "Mx", "Dr", "Prof", "Sgt", "Insp",
    "Supt", "Cllr", "Rev", "St", "Jr", "Sr", "DC", "PC", "DS", "DI", "Fig", "fig", "vs", "v", "Hon", "Rt", "Det",
})
# Abbreviations that do not end a sentence when a number follows ("No. 5", "para. 3.20", "Jan. 2019").
_NUMBER_ABBREV = frozenset({
    "No", "Nos", "no", "para", "paras", "Para", "Paras", "p", "pp", "vol", "Vol", "Ref", "ref", "Art", "art", "Reg",
    "reg", "s", "ss", "Sch", "ch", "Ch", "Jan", "Feb", "Mar", "Apr", "Jun", "Jul", "Aug", "Sep", "Sept", "Oct",
    "Nov", "Dec", "Appx", "App",
})
# "Child A. The mother..." ends a sentence, though "Brenda J. McInerney" does not: a single capital after one
# of these words is a pseudonym or label, not an initial.
_LABEL_WORDS = frozenset({
    "Child", "Children", "Baby", "Sibling", "Adult", "Family", "Mother", "Father", "Person", "Appendix", "Annex",
    "Section", "Part", "Plan", "Grade", "Category", "Tier", "Level", "Stage", "Option", "Group", "Team", "School",
    "Schedule", "Mum", "Dad", "Man", "Woman", "Carer", "Parent", "Practitioner", "Worker", "Officer", "Agency",
})
# Words that cannot end a heading: a short line ending in one of these is a wrapped sentence, not a title.
_CONTINUING_WORDS = frozenset({
    "a", "an", "the", "and", "or", "nor", "but", "of", "to", "in", "on", "at", "by", "for", "from", "with", "as",
    "that", "which", "who", "whom", "whose", "is", "are", "was", "were", "be", "been", "being", "has", "have",
    "had", "their", "its", "his", "her", "our", "your", "than", "into", "onto", "so", "when", "where", "while",
    "whether", "including", "such", "between", "about", "not", "very", "more", "most", "less", "this", "these",
    "those", "all", "any", "some", "if", "because", "although", "though", "within", "across", "through", "per",
})
# The lines of a medical cause of death in a coroner's report, "1a. Brain stem herniation 1b. Hydrocephalus" (Part I's
# 1a-1c, also written Ia-Ic; Part II is "2."): labels inside one statement, not sentence ends, when a cause is
# named just before or the label opens a line ("risk level 1a. A plan followed." still ends there).
_CAUSE_LINE = re.compile(r"(?<![\w.])(?:[1-3]|I{1,3})[a-d]$")
_TERMINAL = ".!?…:;"
_SALUTATION = re.compile(r"\s*(?:Dear|Yours)\b[^.]{0,60},$")
_OPENS_SENTENCE = re.compile(r"['\"‘“(\[]*[A-Z0-9#]")
_LETTER = re.compile(r"[^\W\d_]")
_LINE = re.compile(r"[^\n]*\n?")


def split_sentences(text: str) -> list[tuple[int, int]]:
    """(start, end) character spans of the sentences in `text`, in order, stripped of surrounding whitespace.

    Bullets and headings are sentences of their own; a leading bullet glyph or paragraph number ("◼ ", "3.20 ")
    is left out of the span; spans without a letter (page numbers, a lone "5.") are dropped.
    """
    spans: list[tuple[int, int]] = []
    for block_start, block_end in _split_blocks(text):
        for start, end in _split_block(text, block_start, block_end):
            start, end = _strip(text, start, end)
            if end > start and _LETTER.search(text, start, end):
                spans.append((start, end))
    return spans


def _lines(text: str) -> list[tuple[int, int]]:
    """(start, end) of each line's content, without its newline."""
    out: list[tuple[int, int]] = []
    for match in _LINE.finditer(text):
        if match.start() == match.end():
            break
        end = match.end() - 1 if match.group().endswith("\n") else match.end()
        if end > match.start() and text[end - 1] == "\r":
            end -= 1
        out.append((match.start(), end))
    return out


def _wrap_width(text: str, lines: list[tuple[int, int]]) -> int:
    """The width the text was hard-wrapped at (90th percentile of line lengths), or 0 when it was not wrapped."""
    lengths = sorted(len(text[s:e].strip()) for s, e in lines if e > s and text[s:e].strip())
    if len(lengths) < 3:
        return 0
    width = lengths[int(len(lengths) * 0.9)]
    # Unwrapped text (Markdown, DOCX, HTML) has one paragraph a line: every newline is a boundary. Only
    # pdftotext-style wrapping (about 70–110 characters) makes a newline mean "same sentence continues".
    return width if width <= 140 else 0


def _split_blocks(text: str) -> list[tuple[int, int]]:
    """Runs of lines that belong together: cut at blank lines, bullets, numbered paragraphs and headings."""
    lines = _lines(text)
    width = _wrap_width(text, lines)
    blocks: list[tuple[int, int]] = []
    block_start: int | None = None
    previous: tuple[int, int] | None = None
    for start, end in lines:
        content = text[start:end].strip()
        if not content:
            if block_start is not None and previous is not None:
                blocks.append((block_start, previous[1]))
            block_start, previous = None, None
            continue
        if block_start is not None and previous is not None and _starts_new_block(text, previous, (start, end),
                                                                                  width):
            blocks.append((block_start, previous[1]))
            block_start = None
        if block_start is None:
            block_start = start
        previous = (start, end)
    if block_start is not None and previous is not None:
        blocks.append((block_start, previous[1]))
    return blocks


def _starts_new_block(text: str, previous: tuple[int, int], line: tuple[int, int], width: int) -> bool:
    if width == 0:
        return True
    if _LINE_BULLET.match(text, line[0], line[1]) or _MD_HEADING.match(text, line[0], line[1]):
        return True
    if _LINE_BULLET.match(text, previous[0], previous[1]) is None and _MD_HEADING.match(text, previous[0],
                                                                                       previous[1]):
        return True
    content = text[line[0]:line[1]].lstrip()
    number = _LINE_NUMBER.match(text, line[0], line[1])
    prev = text[previous[0]:previous[1]].rstrip()
    ends_sentence = prev.rstrip("'\"’”)]").endswith(tuple(_TERMINAL))
    if number and ends_sentence:
        return True
    if _SALUTATION.match(prev) and _OPENS_SENTENCE.match(content):
        return True  # "Dear Mr Foster," ends its line though it ends with a comma
    if ends_sentence or not _OPENS_SENTENCE.match(content):
        return False
    # A line that stops short of the wrap width, without final punctuation or a word that must continue, and
    # is followed by a capitalised line, is a heading or an unpunctuated list item ("Overview", "Findings").
    if prev.endswith((",", "-", "–", "—", "/", "&", "(", "+")):
        return False
    last_word = prev.rsplit(None, 1)[-1].lower() if prev.split() else ""
    if last_word in _CONTINUING_WORDS:
        return False
    return len(prev.strip()) < 0.65 * width


def _split_block(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """Sentence spans within one block (a paragraph, a bullet or a heading)."""
    cuts = [start]
    for match in _INLINE_BULLET.finditer(text, start, end):
        cuts.append(match.start())
    for match in _END.finditer(text, start, end):
        if not _is_abbreviation(text, match.start(), match.end(), start, end):
            cuts.append(match.end())
    cuts = sorted(set(cuts))
    cuts.append(end)
    return [(a, b) for a, b in itertools.pairwise(cuts) if b > a]


def _is_abbreviation(text: str, dot: int, after: int, block_start: int, block_end: int) -> bool:
    if text[dot] != ".":
        return False
    label = _CAUSE_LINE.search(text, max(block_start, dot - 4), dot)
    if label and ("cause" in text[max(block_start, dot - 120):dot].lower()
                  or not text[block_start:label.start()].strip()):
        return True  # a cause named just before, or the label opens its own line ("1a. Brain stem herniation")
    before = _WORD_BEFORE.search(text, max(block_start, dot - 20), dot)
    if before is None:
        return False
    word = before.group(1)
    if word in _ALWAYS_ABBREV or word.rstrip(".") in _ALWAYS_ABBREV:
        return True
    following = _NEXT_TOKEN.match(text, after, block_end)
    next_token = following.group(1) if following else ""
    if word in _NUMBER_ABBREV and next_token[:1].isdigit():
        return True
    if len(word) == 1 and word.isupper():
        preceding = _WORD_BEFORE.search(text, max(block_start, before.start() - 20), before.start() - 1) \
            if before.start() > block_start else None
        if preceding is not None and preceding.group(1) in _LABEL_WORDS:
            return False
        # An initial before a capitalised name ("J. Smith"); a lone capital before a number is a label ("A. 3").
        return next_token[:1].isupper()
    # Dotted initialisms (U.K., a.m.) end a sentence only when what follows cannot continue it.
    if "." in word and len(word) <= 6 and all(len(p) <= 2 for p in word.split(".") if p):
        return not next_token[:1].isupper() or word.lower() in ("e.g", "i.e")
    return False


def _strip(text: str, start: int, end: int) -> tuple[int, int]:
    """Trim whitespace, a leading bullet glyph, Markdown heading marks or paragraph number from a span."""
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    for pattern in (_LINE_BULLET, _MD_HEADING, _LINE_NUMBER):
        match = pattern.match(text, start, end)
        if match and match.end() < end:
            start = match.end()
    while start < end and text[start].isspace():
        start += 1
    return start, end
