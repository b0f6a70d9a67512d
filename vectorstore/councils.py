"""English councils as one canonical name each, read from `councils.json`: every spelling a document or a question
uses ("Bedford Borough Council", "BCP", "the City of London Corporation") and former councils with the ones that
replaced them (Northamptonshire became North and West Northamptonshire on 2021-04-01).

The index, its filters, the themes and the page all show `canonical_council(name)`, so one council is one entry.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache
from importlib import resources

# Words that say what kind of body a council is, not which one: "Calderdale Metropolitan Borough Council" is
# Calderdale. "City of" is not among them, because "City of London" is a council's name and "London" is not.
_PREFIX = re.compile(r"^(the |london borough of |royal borough of |metropolitan borough of |borough of |"
                     r"county of |city and county of )+")
_SUFFIX = re.compile(r"( (metropolitan borough|metropolitan district|borough|city|county|district|unitary))?"
                     r" (council|local authority|mbc|cc)( children'?s services)?$|'s$"
                     r"| (metropolitan borough|metropolitan district|borough|city|county)$")
# Single words that are also ordinary English: matched only when capitalised ("reading the file", "bury").
_ORDINARY = {"reading", "bury", "brent", "poole", "sutton", "halton", "kingston", "richmond", "stoke", "telford",
             "newcastle", "derby", "york", "hull", "bradford", "durham", "lincoln", "darlington", "essex", "kent"}


@dataclass(frozen=True)
class Council:
    """One English local authority with children's services, current or former."""

    name: str  # canonical: the short form practitioners use ("Bedford", "Kingston upon Hull")
    kind: str  # county, unitary, metropolitan_borough, london_borough
    aliases: tuple[str, ...] = ()
    since: str | None = None  # first day of a council created by a reorganisation (ISO date)
    until: str | None = None  # first day it no longer existed: its successors' `since`
    replaced_by: tuple[str, ...] = ()
    replaced: tuple[str, ...] = ()  # the former councils it (partly) took over


def council_key(name: str) -> str:
    """A spelling reduced to what tells councils apart: 'Bedford Borough Council' -> 'bedford',
    'Bournemouth, Christchurch & Poole Council' -> 'bournemouth christchurch and poole'."""
    text = name.lower().replace("&", " and ").replace("’", "'").replace("‘", "'")
    text = re.sub(r"[^a-z0-9' ]+", " ", text.replace("-", " "))
    text = " ".join(text.split())
    previous = None
    while previous != text:
        previous = text
        text = _SUFFIX.sub("", _PREFIX.sub("", text)).strip()
    return text


@cache
def all_councils() -> tuple[Council, ...]:
    data = json.loads(resources.files("vectorstore").joinpath("councils.json").read_text(encoding="utf-8"))
    replaced: dict[str, list[str]] = {}
    for c in data["councils"]:
        for successor in c.get("replaced_by", ()):
            replaced.setdefault(successor, []).append(c["name"])
    return tuple(Council(c["name"], c["type"], tuple(c.get("aliases", ())), c.get("from"), c.get("until"),
                         tuple(c.get("replaced_by", ())), tuple(replaced.get(c["name"], ())))
                 for c in data["councils"])


@cache
def shared_services() -> dict[str, tuple[str, ...]]:
    """Name of a trust or shared service ('Achieving for Children', 'bi-borough') -> the councils it serves."""
    data = json.loads(resources.files("vectorstore").joinpath("councils.json").read_text(encoding="utf-8"))
    out: dict[str, tuple[str, ...]] = {}
    for s in data.get("services", ()):
        for name in (s["name"], *s.get("aliases", ())):
            out[name] = tuple(s["councils"])
    return out


@cache
def _by_key() -> dict[str, Council]:
    out: dict[str, Council] = {}
    for c in all_councils():
        for spelling in (c.name, *c.aliases):
            out.setdefault(council_key(spelling), c)
    return out


def find_council(name: str | None) -> Council | None:
    """The council a spelling names, or None when it is not an English council we know."""
    if not name:
        return None
    return _by_key().get(council_key(name))


def canonical_council(name: str | None) -> str | None:
    """The canonical name of a council in any spelling; an unknown name comes back tidied (generic words and
    surrounding punctuation dropped, original capitals kept), so it still groups with its own other spellings."""
    if not name or not name.strip():
        return None
    found = find_council(name)
    if found is not None:
        return found.name
    key = council_key(name)
    if not key:
        return None
    # keep the document's capitals for an unknown council: "Brackenford City Council" -> "Brackenford"
    words = name.replace("&", "and").split()
    kept = [w for w in words if council_key(w) and w.lower().strip(",.") in key.split()]
    return " ".join(kept).strip(" ,.") or name.strip()


def related_councils(name: str) -> tuple[tuple[str, str, str], ...]:
    """(council, relation, date) for the councils that replaced this one or that it replaced: a question about
    Northamptonshire also concerns North and West Northamptonshire from 2021-04-01, and the reverse."""
    c = find_council(name)
    if c is None:
        return ()
    index = {x.name: x for x in all_councils()}
    out = [(s, "successor", c.until or "") for s in c.replaced_by]
    out += [(p, "predecessor", index[p].until or "") for p in c.replaced if p in index]
    return tuple(out)


# A spelling's generic words around it, taken with it: "the London Borough of Barnet", "Bedford Borough Council's".
_PREFIX_WORDS = r"(?i:(?:the\s+)?(?:(?:london|royal)\s+borough\s+of\s+)?)"
_SUFFIX_WORDS = (r"(?i:(?:\s+(?:(?:metropolitan\s+)?(?:borough|city|county|district)\s+)?council|\s+mbc)?"
                 r"(?:['’]s)?)")


@cache
def _patterns() -> tuple[tuple[re.Pattern[str], str], ...]:
    """Every spelling as a whole-word pattern, longest first, so 'North Northamptonshire' wins over
    'Northamptonshire'. Acronyms and ordinary words must be written with their capitals."""
    return tuple((pattern, name) for pattern, name, _ in _keyed_patterns())


_LETTERS = re.compile(r"[^\W\d_]+")


def _first_letters(spelling: str) -> str:
    found = _LETTERS.search(spelling.lower())
    return found.group() if found else ""


@cache
def _keyed_patterns() -> tuple[tuple[re.Pattern[str], str, str], ...]:
    """`_patterns` with each spelling's first run of letters (lower case): a text without that word cannot
    match the pattern, so `councils_named` tries only the few patterns whose word the text holds (one sentence
    against 400 patterns was 3 ms, most of a small document's ingest outside the model)."""
    spellings: list[tuple[str, str]] = []
    for c in all_councils():
        for s in (c.name, *c.aliases):
            spellings.append((s, c.name))
    out = []
    for s, name in sorted(spellings, key=lambda x: -len(x[0])):
        words = [re.escape(w) for w in s.replace("&", " & ").split()]
        body = r"[\s,-]+".join(w if w != "&" else r"(?:&|and)" for w in words)
        body = body.replace(r"\-", r"[\s-]")
        exact = s.isupper() or (any(ch.isupper() for ch in s[1:]) and " " not in s) or s.lower() in _ORDINARY
        out.append((re.compile(rf"(?<![\w-]){_PREFIX_WORDS}{body}{_SUFFIX_WORDS}(?![\w-])", 0 if exact else re.I),
                    name, _first_letters(s)))
    return tuple(out)


_GREATER = re.compile(r"\bGreater\s+$", re.I)
_POSTCODE_AFTER = re.compile(r",?\s+[A-Z]{1,2}\d[A-Z\d]?\s?\d[A-Z]{2}\b")


def councils_named(text: str) -> list[str]:
    """The councils a text names (canonical, in order of first mention), former ones included. A spelling inside
    a longer one counts once: 'West Northamptonshire' is not also 'Northamptonshire'."""
    taken: list[tuple[int, int]] = []
    found: list[tuple[int, str]] = []
    words = set(_LETTERS.findall(text.lower()))
    for pattern, name, first in _keyed_patterns():
        if first not in words:
            continue
        for m in pattern.finditer(text):
            if any(a < m.end() and m.start() < b for a, b in taken):
                continue
            if _GREATER.search(text, 0, m.start()):
                continue  # Greater Manchester (its police, its coroners' areas) is a region, not Manchester's council
            if _POSTCODE_AFTER.match(text, m.end()):
                continue  # a post town: a letter to Trafford is posted to "Stretford Manchester M32 0TH"
            taken.append((m.start(), m.end()))
            found.append((m.start(), name))
    return list(dict.fromkeys(name for _, name in sorted(found)))


def councils_meant(named: str) -> tuple[tuple[str, str | None, str | None], ...]:
    """The councils a question naming `named` is about, each with the dates its documents must fall in
    (from, before): the council itself at any date; the councils that replaced it from the change on; the
    councils it replaced before the change. "Northamptonshire in 2023" is North and West Northamptonshire."""
    c = find_council(named)
    name = c.name if c else canonical_council(named) or named
    out: list[tuple[str, str | None, str | None]] = [(name, None, None)]
    for other, relation, date in related_councils(name):
        out.append((other, date, None) if relation == "successor" else (other, None, date))
    return tuple(out)


def council_matches(doc_council: str | None, doc_date: str | None, named: str) -> bool:
    """Is a document about `council`, dated `doc_date`, one a question naming `named` is about?"""
    if not doc_council:
        return False
    mine = canonical_council(doc_council)
    for council, since, before in councils_meant(named):
        if mine != council:
            continue
        if since and (not doc_date or doc_date < since):
            continue
        if before and (not doc_date or doc_date >= before):
            continue
        return True
    return False


def without_councils(text: str, names: set[str]) -> str:
    """The text with every spelling of the named councils (and of the councils they mean) taken out: what a
    question asks about them ('what did Ofsted say about caseloads in BCP' -> '… caseloads in')."""
    meant = {c for n in names for c, _, _ in councils_meant(n)}
    for pattern, name in _patterns():
        if name in meant:
            text = pattern.sub(" ", text)
    return text
