"""Document metadata detected from content: kind, title, council, dates, judgement, child pseudonym.

Declared values (front matter, HTML meta, `--kind`) win; otherwise we read the first pages the way a reader
would. Every rule here was written against the real Ofsted letters and reports in ../shared/data/ofsted.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

from ingest.loaders.base import LoadedDocument
from vectorstore.councils import canonical_council, councils_named, find_council, shared_services
from vectorstore.dates import find_dates, find_range, parse_date
from vectorstore.people import slug_words

_KIND_RULES: tuple[tuple[str, str, int], ...] = (
    ("coroner_report", r"prevention of future deaths|regulation 28|matters? of concern|coroner", 3),
    ("focused_visit", r"focused (assurance )?visit", 4),
    ("inspection", r"inspection of [\w ,&'’-]+ (local authority )?children[’']s services|overall effectiveness|"
                   r"inspection of services for children in need|inspection dates?:|judgement", 2),
    ("review", r"serious case review|safeguarding practice review|case review|\bscr\b|\blcspr\b|"
               r"terms of reference|key practice episodes?|review period", 2),
    ("literature", r"\breferences\b|et al\.|\bdoi\b|\bjournal\b|swiss cheese", 1),
)
_COUNCIL_PATTERNS = (
    r"(?i:focused (?:assurance )?visit to|inspection of) (?:the )?([A-Z][\w ,&'’-]+?)(?:'s|’s)? (?:local authority )?"
    r"children[’']s services",
    r"\b([A-Z][\w'’-]+(?: [A-Z][\w'’-]+){0,3}) Safeguarding Children(?:'s)? (?:Partnership|Board)",
    r"\b([A-Z][\w'’-]+(?: (?:of )?[A-Z][\w'’-]+){0,2} (?:County |City |Borough |District |Metropolitan Borough )?"
    r"Council)\b",
    r"\b((?:London|Royal) Borough of [A-Z][\w'’-]+(?: (?:and )?[A-Z][\w'’-]+){0,2})",
    r"^Area:\s*(.+)$",
)
_NOT_COUNCILS = {"Local", "The", "This", "National", "Each", "Safeguarding", "Inspection", "Children", "County",
                 "City", "Borough", "Council", "Ofsted", "Our", "A"}
# (SIF reports of 2014-18 state it as "Children’s services in Surrey are inadequate")
_JUDGEMENT = re.compile(r"overall effectiveness:?\s*(outstanding|good|requires improvement(?: to be good)?|"
                        r"inadequate)|overall judgement is:?\s*(outstanding|good|requires improvement|inadequate)|"
                        r"children[’']s services in [A-Z][\w ,&’'-]{1,60}? (?:are|is|requires?) "
                        r"(outstanding|good|inadequate|improvement to be good)\b", re.I)
_CHILD = re.compile(r"\b(Child|Baby|Young Person|Sibling)\s+([A-Z]{1,3}\d?)\b")


@dataclass(frozen=True)
class Metadata:
    """What we know about a document before it is stored."""

    title: str
    kind: str
    council: str | None
    published: str | None
    period_start: str | None
    period_end: str | None
    judgement: str | None
    child: str | None
    about: str | None = None


# A text that calls itself an article, chapter, paper or blog post (or prints an ISBN, editors, keywords, a
# byline) is literature, however often it names serious case reviews: the cue counts below would call a blog post
# about reviews a review.
_LITERATURE_SELF = re.compile(
    r"(?i:\b(?:this|the present|in this|our) (?:article|paper|chapter|blog(?: post)?|essay|book)\b|\bblog\b|"
    r"\bISBN\b|\(eds?\.?\)|\bedited by\b|\bkeywords?:)|\b(?i:posted) (?:by [A-Z]|on \d|on [A-Z][a-z]+ \d)")
_CHAPTER_TITLE = re.compile(r"^\s*chapter \d+\b", re.I)


def detect_kind(text: str, title: str = "") -> str:
    """From the title when it says ('Focused visit to…', 'Inspection of…'), else literature when the text calls
    itself an article, chapter or blog post near its start, else by weighted cue counts."""
    if _CHAPTER_TITLE.match(title):
        return "literature"
    t = title.lower()
    for kind, cue in (("focused_visit", "focused visit"), ("focused_visit", "focused assurance visit"),
                      ("inspection", "inspection of"), ("coroner_report", "prevention of future deaths"),
                      ("review", "practice review"), ("review", "serious case review")):
        if cue in t:
            return kind
    if _LITERATURE_SELF.search(title) or _LITERATURE_SELF.search(text[:3000]):
        return "literature"
    low = text.lower()
    scores = {kind: len(re.findall(pattern, low)) * weight for kind, pattern, weight in _KIND_RULES}
    best = max(scores, key=lambda k: scores[k])
    return best if scores[best] > 0 else "other"


def detect_council(text: str, title: str = "", file_name: str = "") -> str | None:
    """The council a document is about, by its canonical name (vectorstore/councils.json). In order: a council the
    title names (an inspection belongs to the council its title inspects, whatever partners a bi-borough letter
    names), one the file name names, one a council-naming phrase of the text names ("Focused visit to … children's
    services", "… Safeguarding Children Partnership"), the council the opening pages name most; else, for a council
    not in the list (the bundled samples' invented ones), the phrase as printed, without generic words."""
    for source in (title, _words_of(file_name)):
        found = _known_councils(source)
        if found:
            return found[0]
    phrase = _council_phrase(text)
    if phrase and find_council(phrase):
        return canonical_council(phrase)
    mentioned = Counter(c for m in _known_mentions(text) for c in m)
    if mentioned:
        return mentioned.most_common(1)[0][0]
    return canonical_council(phrase) if phrase else None


def _words_of(file_name: str) -> str:
    """'london-corporation_80450_2022-12-13.txt' -> 'London Corporation': capitals, so that 'bury' in a file name
    counts as Bury while 'bury' in prose does not."""
    stem = re.sub(r"\.[a-z]{2,5}$", "", file_name, flags=re.I)
    return " ".join(w.capitalize() for w in re.split(r"[-_ ]+", stem) if w.isalpha())


def _known_councils(text: str) -> list[str]:
    """Councils a text names, and the councils of a trust or shared service it names (first of them)."""
    found = councils_named(text)
    if not found:
        for service, councils in shared_services().items():
            if re.search(rf"\b{re.escape(service)}\b", text):
                return list(councils[:1])
    return found


def _known_mentions(text: str) -> list[list[str]]:
    return [councils_named(line) for line in re.split(r"(?<=[.!?])\s+", text)]


def _council_phrase(text: str) -> str | None:
    for pattern in _COUNCIL_PATTERNS:
        found = Counter(m.strip(" ,") for m in re.findall(pattern, text, re.M)
                        if m.split()[0] not in _NOT_COUNCILS)
        if found:
            name = found.most_common(1)[0][0]
            return re.sub(r"\s+(Inspection|Report)$", "", re.sub(r"\s+", " ", name))
    return None


def detect_child(text: str) -> str | None:
    found = Counter(f"{a} {b}" for a, b in _CHILD.findall(text) if b not in ("A", "I") or a != "Child")
    if not found:
        return None
    name, count = found.most_common(1)[0]
    return name if count >= 2 else None


_TITLE_START = re.compile(r"^(inspection of|focused (assurance )?visit to|(local )?child safeguarding practice review|"
                          r"serious case review|prevention of future deaths|.{0,60}\b(serious case review|"
                          r"safeguarding practice review)\b)", re.I)


_BYLINE = re.compile(r"(?i:posted|published|written|updated|by|keywords?|abstract)\b")


def detect_title(doc: LoadedDocument) -> str | None:
    """A title-like line of page 1 ('Inspection of Wigan local authority children's services'), joined with its
    wrapped second line; else the first heading; else the first line(s) up to a field line."""
    lines = [x.strip() for x in doc.pages[0].splitlines() if x.strip()] if doc.pages else []
    for i, line in enumerate(lines[:40]):
        if _TITLE_START.match(line) and _title_like(line) and not _BYLINE.match(line):
            title = line
            nxt = lines[i + 1] if i + 1 < len(lines) else ""
            if nxt and (nxt[:1].islower() or title.endswith(("authority", "of", "and", "to"))) and len(nxt) < 60:
                title += " " + nxt
            return title[:200]
    first_heading = next((b for b in doc.blocks[:5] if b.kind == "heading" and len(b.text.split()) >= 3
                          and not _BYLINE.match(b.text)), None)
    if first_heading is not None:
        return first_heading.text[:200]
    lines = [x for x in doc.pages[0].splitlines() if x.strip()] if doc.pages else []
    opening: list[str] = []
    for line in lines[:4]:
        if ":" in line or re.search(r"\d{4}", line) or len(" ".join(opening + [line])) > 140:
            break
        opening.append(line.strip())
    title = " ".join(opening)
    return title if title and _title_like(title) else None


def _title_like(line: str) -> bool:
    """A title is a short line, not a sentence: text that opens straight into its first paragraph has none."""
    words = len(line.split())
    return words <= 25 and not (line.rstrip().endswith(".") and words > 8)


def detect_metadata(doc: LoadedDocument, file_name: str, kind: str | None = None) -> Metadata:
    declared = doc.declared
    head = "\n".join(doc.pages[:3])[:12000]
    flat = re.sub(r"\s*\n\s*", " ", head)  # names and phrases wrap across lines
    found_title = detect_title(doc)
    declared_title = declared.get("title")
    if declared_title and _TITLE_START.match(declared_title):
        title = declared_title  # the file's own title, when it reads like one ('Child Safeguarding Practice Review…')
    elif found_title and _TITLE_START.match(found_title):
        title = found_title  # PDF Info titles are often junk ('LA NAME - standard-short inspection report')
    else:
        title = declared_title or found_title or title_from_file_name(file_name)
    kind = kind or declared.get("kind") or detect_kind(flat, title)
    council = canonical_council(declared["council"]) if declared.get("council") else None
    if not council and declared.get("area"):  # a coroner's area ("Birmingham and Solihull") is not a council
        council = next(iter(councils_named(declared["area"])), None)
    council = council or detect_council(flat, title, file_name)
    period = None
    if declared.get("period"):
        period = find_range(declared["period"]) or _two_dates(declared["period"])
    period = period or _labelled_range(flat)
    published = (parse_date(declared.get("published", "")) or parse_date(declared.get("date", ""))
                 or _labelled_date(head) or _letter_date(doc) or _file_name_date(file_name)
                 or (period[1] if period else None))
    m = _JUDGEMENT.search(flat)
    found = next((g for g in m.groups() if g), None) if m else None
    judgement = ("Requires " + found if found.lower().startswith("improvement") else found).capitalize() \
        if found else None
    child = declared.get("child") or detect_child("\n".join(doc.pages)[:60000])
    return Metadata(title=title.strip(), kind=kind, council=council, published=published, about=_about(declared),
                    period_start=period[0] if period else None, period_end=period[1] if period else None,
                    judgement=judgement, child=child)


def title_from_file_name(file_name: str) -> str:
    """A short title from the file's name when the text has no title line: 'blog_on-caseloads.txt' reads
    'Blog on caseloads'."""
    stem = re.sub(r"\.[A-Za-z0-9]{1,5}$", "", file_name.rsplit("/", 1)[-1])
    words = re.sub(r"[_\-]+", " ", stem).split()
    return " ".join(words)[:1].upper() + " ".join(words)[1:] if words else file_name


def _about(declared: dict[str, str]) -> str | None:
    """The header's other fields, web addresses as their words: a coroner's report may name the deceased only in
    its address ('…/martin-leslie-brown/')."""
    values = [slug_words(v) if v.startswith(("http://", "https://")) else v
              for k, v in declared.items() if k not in ("title", "kind") and v]
    return "; ".join(values)[:1000] or None


def _two_dates(text: str) -> tuple[str, str] | None:
    dates = find_dates(text)
    return (dates[0], dates[-1]) if len(dates) >= 2 else None


def _labelled_range(text: str) -> tuple[str, str] | None:
    for label in re.finditer(r"(inspection dates?|visit dates?|review period|period under review|dates? of (?:the )?"
                             r"visit|the period from|scope of the review)[:\s]+(.{0,80})", text, re.I):
        found = find_range(label.group(2)) or _two_dates(label.group(2))
        if found:
            return found
        single = parse_date(label.group(2))
        if single:
            return single, single
    visit = re.search(r"focused (?:assurance )?visit to .{0,120}? on (.{0,60})", text, re.I | re.S)
    if visit:
        found = find_range(visit.group(1))
        if found:
            return found
    return None


def _labelled_date(text: str) -> str | None:
    m = re.search(r"(report published|date of publication|published|publication date)[:\s]+(.{0,40})", text, re.I)
    return parse_date(m.group(2)) if m else None


def _letter_date(doc: LoadedDocument) -> str | None:
    """A letter's date: a line of page 1 that is a date and nothing else."""
    for line in (doc.pages[0].splitlines() if doc.pages else [])[:30]:
        line = line.strip()
        dates = find_dates(line)
        if dates and len(line) <= 20:
            return dates[0]
    return None


def _file_name_date(name: str) -> str | None:
    m = re.search(r"((?:19|20)\d\d)-(\d\d)-(\d\d)", name)
    return f"{m.group(1)}-{m.group(2)}-{m.group(3)}" if m else None
