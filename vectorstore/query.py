"""What a query names by itself: a council, a year, a kind of document — read against the values the index holds.

These become a boost, never an exclusion: "what did Ofsted find in Wigan in 2022" ranks Wigan's 2022 documents
first but still returns the rest, because a wrong guess must not hide the answer.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache, lru_cache
from importlib import resources

from vectorstore import councils

_KIND_PHRASES: tuple[tuple[str, tuple[str, ...]], ...] = (
    (r"\bfocused[- ]visits?\b", ("focused_visit",)),
    (r"\b(ilacs|full inspection|inspection reports?|judgement|overall effectiveness)\b", ("inspection",)),
    (r"\bofsted\b", ("inspection", "focused_visit")),
    (r"\b(coroners?|prevention of future deaths?|pfd|regulation 28|inquest)\b", ("coroner_report",)),
    (r"\b(serious case reviews?|safeguarding practice reviews?|case reviews?|scrs?|lcsprs?|the review)\b",
     ("review",)),
    (r"\b(literature|primer|swiss cheese|reason's model|safety science)\b", ("literature",)),
)
# A year named in a question, 1950-2049: the assistant checks that the evidence covers any year a question names,
# so "what happened in 1975?" must be read as a year (and refused when nothing covers it), while the search only
# boosts the years the index's documents hold, so the wider range costs nothing there. (It was 1980-2049 here and
# 1950-2049 in the assistant's scope.) Dates in documents are read by `vectorstore.dates`.
QUESTION_YEAR = re.compile(r"\b(19[5-9]\d|20[0-4]\d)\b")
# "What did Ofsted find…", "what did the review say…": the kind of document is the source asked for.
_SPEAKER = re.compile(r"\b(ofsted|inspectors?|inspections?|focused visits?|the (\w+ )?review|reviewers?|coroners?|"
                      r"the (\w+ )?letter|the (\w+ )?report)\W+(\w+\W+){0,2}?(find|found|say|said|judge|judged|"
                      r"report|reported|conclude|concluded|note|noted|tell|told|describe|described|recommend\w*|"
                      r"highlight\w*|identif\w*)\b")


# Why / what went wrong / latent conditions: the question asks for organisational conditions (the assistant
# prefers sentences that state them).
LATENT_QUESTION = re.compile(r"\b(why|latent|what went wrong|contribut\w*|factors?|underlying|organi[sz]ational|"
                             r"systemic|system conditions?|conditions|root causes?|went wrong|problems?|"
                             r"pressures?|recurr\w*|themes?|concerns?|failings?|shortcomings?|lessons)\b", re.I)
# The narrower form the search acts on: "why was the case closed" asks about one decision, not about conditions.
CONDITIONS_QUESTION = re.compile(r"\b(latent|contribut\w*|factors?|underlying|organi[sz]ational|systemic|"
                                 r"system conditions?|root causes?)\b", re.I)


@cache
def _thesaurus() -> tuple[tuple[re.Pattern[str], str], ...]:
    data = json.loads(resources.files("vectorstore").joinpath("thesaurus.json").read_text(encoding="utf-8"))
    return tuple((re.compile(rf"\b{re.escape(k)}\b", 0 if k.isupper() else re.I), v)
                 for k, v in sorted(data.items(), key=lambda kv: -len(kv[0])) if not k.startswith("_"))


def expand_for_lexical(query: str) -> str:
    """The query plus the documents' words for its everyday words ("family doctor" adds "gp"), so BM25 can match
    a paraphrase; the dense side embeds the query as asked."""
    extra = [v for pattern, v in _thesaurus() if pattern.search(query)]
    return f"{query} {' '.join(extra)}" if extra else query


@cache
def _place_aliases() -> tuple[tuple[re.Pattern[str], str], ...]:
    data = json.loads(resources.files("vectorstore").joinpath("place_aliases.json").read_text(encoding="utf-8"))
    names = sorted((k for k in data if not k.startswith("_")), key=len, reverse=True)  # longest first
    return tuple((re.compile(rf"(?<![\w&]){re.escape(k)}(?![\w&])"), data[k]) for k in names)


def with_formal_place_names(query: str) -> str:
    """'the Square Mile' → 'the City of London': reports use the formal names (vectorstore/place_aliases.json)."""
    for pattern, formal in _place_aliases():
        if formal not in query:
            query = pattern.sub(formal, query)
    return query


@dataclass(frozen=True)
class Query:
    """A query as asked, and as it is searched: other names of places read as the formal names."""

    asked: str
    text: str


def read_query(asked: str) -> Query:
    """Read a query once: the search and the assistant's scope checks both work on `text`, and a `Query` handed
    to `Index.rank` is not read again."""
    return Query(asked, with_formal_place_names(asked))


@lru_cache(maxsize=4096)  # called per document per query (800 documents x a few checks): ~5 us each
def council_key(name: str) -> str:
    """One key per council, whatever the spelling: 'BCP Council' and 'Bournemouth, Christchurch & Poole' ->
    'bournemouth christchurch and poole' (vectorstore/councils.json; an unknown council by its own words)."""
    return councils.council_key(councils.canonical_council(name) or name)


@dataclass(frozen=True)
class QueryHints:
    """Councils, years and kinds that a query names, as values the index holds."""

    councils: tuple[str, ...] = ()
    years: tuple[int, ...] = ()
    kinds: tuple[str, ...] = ()
    children: tuple[str, ...] = ()  # "Child M": the review about that child
    speaker: bool = False  # the kind is who said it ("what did Ofsted find…"), not a passing mention
    asked_councils: tuple[str, ...] = ()  # the councils as named (canonical), before former/successor councils

    def is_empty(self) -> bool:
        return not (self.councils or self.years or self.kinds or self.children)

    def to_json(self) -> dict[str, object]:
        out: dict[str, object] = {}
        if self.councils:
            out["council"] = list(self.councils)
        if self.years:
            out["year"] = list(self.years)
        if self.kinds:
            out["kind"] = list(self.kinds)
        if self.children:
            out["child"] = list(self.children)
        return out


def read_query_hints(query: str, councils_held: set[str], years: set[int],
                     children: set[str] | None = None) -> QueryHints:
    """Match the query's words against the index's councils (any spelling; a former council also names the ones
    that replaced it, and the reverse), years its documents are published in or cover, and the child pseudonyms
    its reviews use."""
    norm = " " + " ".join(re.sub(r"[^a-z0-9' ]+", " ", query.lower().replace("&", " and ")
                                 .replace("-", " ").replace("’", "'")).split()) + " "
    # every spelling of a known council ("BCP", "Hull City Council", "the City of London Corporation"), and a
    # former council for the councils that replaced it: the index's own name for each is what is boosted
    named = councils.councils_named(query)
    meant = {c for n in named for c, _, _ in councils.councils_meant(n)}
    found = [c for c in sorted(councils_held) if councils.canonical_council(c) in meant]
    others = []
    for council in sorted(councils_held):
        key = council_key(council)
        if key and (f" {key} " in norm or f" {key}'s " in norm) and council not in found:  # "Wenmarsh’s IT"
            others.append(council)
    # a council not in the list: "North Wenmarsh" also contains "wenmarsh", so only the longest of overlapping names
    found += [c for c in others if not any(council_key(c) != council_key(o) and council_key(c) in council_key(o)
                                           for o in [*found, *others])]
    named_years = tuple(sorted({int(y) for y in QUESTION_YEAR.findall(query)} & years))
    kinds: list[str] = []
    low = query.lower()
    for pattern, ks in _KIND_PHRASES:
        if re.search(pattern, low):
            kinds.extend(k for k in ks if k not in kinds)
    named_children = tuple(sorted(c for c in (children or set()) if re.search(rf"\b{re.escape(c)}\b", query)))
    asked = tuple(dict.fromkeys([*named, *(councils.canonical_council(c) or c for c in found
                                            if not councils.find_council(c))]))
    return QueryHints(tuple(found), named_years, tuple(kinds), named_children,
                      speaker=bool(kinds and _SPEAKER.search(low)), asked_councils=asked)


def strip_named(query: str, hints: QueryHints) -> str:
    """The query without the councils, years, kinds of document and children it names: what it asks about them.
    Returns the query unchanged when nothing would be left."""
    text = councils.without_councils(query, set(hints.councils))
    for council in hints.councils:
        words = council_key(council).split()
        if words:
            text = re.sub(r"\b" + r"[\W_]+".join(map(re.escape, words)) + r"\b(['’]s)?", " ", text, flags=re.I)
    for year in hints.years:
        text = re.sub(rf"\b{year}\b", " ", text)
    for child in hints.children:
        text = re.sub(rf"\b{re.escape(child)}\b(['’]s)?", " ", text)
    if hints.kinds:
        for pattern, _ in _KIND_PHRASES:
            text = re.sub(pattern, " ", text, flags=re.I)
    text = re.sub(r"\s+([?.,;:])", r"\1", " ".join(text.split()))
    return text if len(re.findall(r"[a-z]{3,}", text, re.I)) >= 2 else query
