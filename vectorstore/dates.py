"""Dates as printed in reviews and letters ("3 October 2017", "12 and 13 September 2017", "May 2021")."""

from __future__ import annotations

import re
from datetime import date

MONTHS = {m: i for i, m in enumerate(["january", "february", "march", "april", "may", "june", "july", "august",
                                      "september", "october", "november", "december"], start=1)}
_MONTH = r"(January|February|March|April|May|June|July|August|September|October|November|December|" \
         r"Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec)"
FULL_DATE = re.compile(rf"\b(\d{{1,2}})(?:st|nd|rd|th)?\s+{_MONTH}\.?,?\s+((?:19|20)\d\d)\b", re.I)
ISO_DATE = re.compile(r"\b((?:19|20)\d\d)-(\d\d)-(\d\d)\b")
# "9 May to 20 May 2022", "12 and 13 September 2017", "29 April – 22 May 2014"
DATE_RANGE = re.compile(rf"\b(\d{{1,2}})(?:\s+{_MONTH})?(?:\s+((?:19|20)\d\d))?\s*(?:to|and|-|–|—)\s*"
                        rf"(\d{{1,2}})\s+{_MONTH}\s+((?:19|20)\d\d)\b", re.I)


def _month(name: str) -> int:
    name = name.lower().rstrip(".")
    for full, number in MONTHS.items():
        if full.startswith(name[:3]):
            return number
    raise ValueError(name)


def to_iso(day: int, month: int, year: int) -> str | None:
    try:
        return date(year, month, day).isoformat()
    except ValueError:
        return None


def find_dates(text: str) -> list[str]:
    """Every full date in the text, ISO, in order of appearance."""
    found: list[tuple[int, str]] = []
    for m in FULL_DATE.finditer(text):
        iso = to_iso(int(m.group(1)), _month(m.group(2)), int(m.group(3)))
        if iso:
            found.append((m.start(), iso))
    for m in ISO_DATE.finditer(text):
        iso = to_iso(int(m.group(3)), int(m.group(2)), int(m.group(1)))
        if iso:
            found.append((m.start(), iso))
    return [iso for _, iso in sorted(found)]


def find_range(text: str) -> tuple[str, str] | None:
    """The first date range in the text as (start, end) ISO dates."""
    m = DATE_RANGE.search(text)
    if not m:
        return None
    end_month, end_year = _month(m.group(5)), int(m.group(6))
    start_month = _month(m.group(2)) if m.group(2) else end_month
    start_year = int(m.group(3)) if m.group(3) else end_year
    start, end = to_iso(int(m.group(1)), start_month, start_year), to_iso(int(m.group(4)), end_month, end_year)
    return (start, end) if start and end else None


def parse_date(text: str) -> str | None:
    """A single date in any form we print or declare (ISO or '14 June 2019')."""
    dates = find_dates(text)
    return dates[0] if dates else None


# "October 2017", "19 October 2017", "Sept. 2021": a month of a year, with or without its day.
MONTH_YEAR = re.compile(rf"\b(?:\d{{1,2}}(?:st|nd|rd|th)?\s+)?{_MONTH}\.?,?\s+((?:19|20)\d\d)\b", re.I)


def months_named(text: str) -> list[str]:
    """The months of a year the text names, as 'YYYY-MM', in order and without repeats ("in October 2017")."""
    out: dict[str, None] = {}
    for m in MONTH_YEAR.finditer(text):
        out[f"{int(m.group(2)):04d}-{_month(m.group(1)):02d}"] = None
    return list(out)


def months_of(text: str) -> set[str]:
    """The months ('YYYY-MM') a passage names (cheap test first: most passages name no month)."""
    return set(months_named(text)) if _ANY_YEAR.search(text) else set()


_ANY_YEAR = re.compile(r"(?:19|20)\d\d")
