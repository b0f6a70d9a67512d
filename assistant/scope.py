"""What a question is about before any search: a named person, "the child's death", "what preceded", and the
terms (places, years, names, figures) that evidence must cover for an answer not to be refused.

A similarity threshold alone cannot refuse well: a question about a council, year or person that the documents
do not cover looks on-topic and scores as high as an answerable one. So the names it contains are checked against
the evidence itself.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from functools import cache
from importlib import resources

from vectorstore.query import LATENT_QUESTION, QUESTION_YEAR
from vectorstore.records import DocumentInfo

_CHILD = re.compile(r"\b(Child|Baby|Young Person|Sibling)\s+([A-Z]{1,3}\d?)\b")
_NAME = re.compile(r"\b([A-Z][a-z’'-]+(?:\s+(?:[A-Z][a-z’'-]+|[A-Z]\.)){1,2})\b")
_PRECEDED = re.compile(r"\b(preced\w*|before|prior to|led (up )?to|leading (up )?to|in the run[- ]up|"
                       r"lead-up|build-up|contribut\w* to)\b", re.I)
_UNNAMED_DEATH = re.compile(r"\b(the|this|that) (child|baby|infant|young person|boy|girl)\b|"
                            r"\b(the|this) (death|incident|harm|case)\b", re.I)
_QUANTITY = re.compile(r"\b(how many|how much|what (percentage|proportion|number|share|figure)|average|"
                       r"per cent|percent|ratio)\b", re.I)
_PERCENT = re.compile(r"\b(percentage|proportion|per cent|percent|share of|rate)\b", re.I)
_MONEY = re.compile(r"\b(spend|spent|budget|cost|costs|funding|money|how much did)\b", re.I)
_ACRONYM = re.compile(r"\b([A-Z]{3,6})\b")
_COUNCIL_PHRASE = re.compile(r"\b((?:London Borough of |Royal Borough of )?[A-Z][\w'’-]+(?: [A-Z][\w'’-]+){0,2}"
                             r"(?: (?:City|County|Borough|District|Metropolitan Borough))? Council)\b")
# Capitalised words that are not names of anything the documents must contain.
_COMMON = {
    "what", "which", "who", "whom", "whose", "why", "how", "when", "where", "did", "does", "do", "is", "are",
    "was", "were", "has", "have", "had", "can", "could", "should", "would", "will", "in", "on", "at", "for",
    "and", "or", "the", "a", "an", "of", "to", "from", "by", "with", "about", "after", "before", "during",
    "ofsted", "child", "children", "baby", "council", "county", "city", "borough", "review", "reviews", "serious",
    "case", "local", "safeguarding", "practice", "partnership", "inspection", "inspectors", "inspector",
    "focused", "visit", "report", "reports", "letter", "coroner", "coroners", "prevention", "future", "deaths",
    "mash", "dcs", "lscb", "scr", "lcspr", "camhs", "gp", "nhs", "police", "health", "social", "care",
    "services", "service", "director", "according", "tell", "me", "list", "summarise", "summarize", "describe",
    "explain", "give", "show", "find", "compare", "across", "all", "any", "there", "this", "that", "these",
    "those", "it", "its", "their", "they", "swiss", "cheese", "reason", "reason's", "vincent", "scie",
    "learning", "together", "london", "protocol", "january", "february", "march", "april", "may", "june",
    "july", "august", "september", "october", "november", "december", "mr", "mrs", "ms", "dr", "mother",
    "father", "covid", "covid-19", "english", "england", "uk", "hm", "his", "her", "majesty's", "ilacs", "sif",
    "nspcc", "ofsted's", "dfe", "pfd", "nrm", "pru", "send", "ehcp", "yot", "yjs", "mace", "mappa", "marac",
}


@dataclass(frozen=True)
class QuestionScope:
    """What the question names and asks for."""

    children: tuple[str, ...] = ()  # "Child R"
    names: tuple[str, ...] = ()  # other capitalised names: people or places ("Rainer Wickens", "Ashdown")
    years: tuple[int, ...] = ()
    preceded: bool = False  # "what preceded…": evidence from other documents must be dated before the event
    unnamed_death: bool = False  # "the child's death" with no child named: answer per review
    latent: bool = False  # why / what went wrong / latent conditions: prefer organisational sentences
    quantity: str | None = None  # asks for a figure ("number", "percent", "money"): the evidence must state one
    councils: tuple[str, ...] = ()  # "Manchester City Council": the documents must be about that council
    terms: tuple[str, ...] = field(default=())  # every name and year the evidence must cover
    services: tuple[str, ...] = ()  # services it names ("private fostering"): the evidence must mention them


@cache
def service_terms() -> dict[str, tuple[re.Pattern[str], re.Pattern[str]]]:
    """Name → (how a question names the service, how documents do), from service_terms.json."""
    data = json.loads(resources.files("assistant").joinpath("service_terms.json").read_text(encoding="utf-8"))
    return {name: (re.compile(v["ask"], re.I), re.compile(v["evidence"], re.I))
            for name, v in data.items() if not name.startswith("_")}


def _is_common(word: str) -> bool:
    w = word.lower()
    return w in _COMMON or w.removesuffix("'s").removesuffix("’s") in _COMMON


def read_scope(question: str) -> QuestionScope:
    children = tuple(dict.fromkeys(f"{a} {b}" for a, b in _CHILD.findall(question)))
    stripped = _CHILD.sub(" ", question)
    names: list[str] = []
    for m in _NAME.finditer(stripped):
        words = m.group(1).split()
        # trim common words at the edges only: "Elsie May Treece" keeps its "May", "What Wigan" loses "What"
        while words and _is_common(words[0]):
            words.pop(0)
        while words and _is_common(words[-1]):
            words.pop()
        if words:
            names.append(" ".join(words))
    for m in re.finditer(r"(?<![.?!]\s)(?<!^)\b([A-Z][a-z’'-]{2,})\b", stripped):  # single capitalised words
        w = m.group(1)
        if w.lower().removesuffix("'s").removesuffix("’s") not in _COMMON and not any(w in n for n in names):
            names.append(w)
    for a in _ACRONYM.findall(question):
        if a.lower() not in _COMMON and a not in names:
            names.append(a)
    years = tuple(sorted({int(y) for y in QUESTION_YEAR.findall(question)}))
    quantity = None
    if _QUANTITY.search(question) or (_MONEY.search(question) and re.search(r"\bhow much\b", question, re.I)):
        # "how many apprenticeships did the funding pay for" counts things; only "how much" asks for money
        money = _MONEY.search(question) and not re.search(r"\bhow many\b", question, re.I)
        quantity = "percent" if _PERCENT.search(question) else "money" if money else "number"
    names = [n.removesuffix("'s").removesuffix("’s") for n in names]
    return QuestionScope(children=children, names=tuple(dict.fromkeys(names)), years=years,
                         preceded=bool(_PRECEDED.search(question)),
                         unnamed_death=not children and not names and bool(_UNNAMED_DEATH.search(question)),
                         latent=bool(LATENT_QUESTION.search(question)), quantity=quantity,
                         councils=tuple(dict.fromkeys(_COUNCIL_PHRASE.findall(question))),
                         terms=tuple(dict.fromkeys([*children, *names])),
                         services=tuple(n for n, (ask, _) in service_terms().items() if ask.search(question)))


def incident_date(doc: DocumentInfo) -> str | None:
    """The date a review or coroner's report is about: the end of its review period, else its publication."""
    return doc.period_end or doc.published


def doc_date(doc: DocumentInfo) -> str | None:
    """When an inspection letter's findings were true: its visit dates, else its publication."""
    return doc.period_end or doc.published
