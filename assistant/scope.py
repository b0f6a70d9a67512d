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

from vectorstore.councils import councils_named
from vectorstore.people import TITLES, AskedName, asked_names, is_cited
from vectorstore.query import LATENT_QUESTION, QUESTION_YEAR
from vectorstore.records import DocumentInfo

_CHILD = re.compile(r"\b(Child|Baby|Young Person|Sibling)\s+([A-Z]{1,3}\d?)\b")
_NAME = re.compile(r"\b([A-Z][a-z’'-]+(?:\s+(?:[A-Z][a-z’'-]+|[A-Z]\.)){1,2})\b")
_PRECEDED = re.compile(r"\b(preced\w*|before|prior to|led (up )?to|leading (up )?to|in the run[- ]up|"
                       r"lead-up|build-up|contribut\w* to)\b", re.I)
_UNNAMED_DEATH = re.compile(r"\b(the|this|that) (child|baby|infant|young person|boy|girl)\b|"
                            r"\b(the|this) (death|incident|harm|case)\b", re.I)
# "How much" asks for a figure only about money ("how much did Wenmarsh spend"); "how much did care leavers shape
# their plans" asks how far.
_QUANTITY = re.compile(r"\b(how many|what (percentage|proportion|number|share|figure)|average|"
                       r"per cent|percent|ratio)\b", re.I)
# The verbs a yes/no question opens with (`assistant.answer` reads closed questions from the same list).
AUXILIARIES = "is|are|was|were|do|does|did|can|could|has|have|had|would|should"
# A yes/no question asks whether, not how many: "Could Slough say how many children were missing school?"
_CLOSED = re.compile(rf"^\W*(?:{AUXILIARIES}|will)\b", re.I)
_PERCENT = re.compile(r"\b(percentage|proportion|per cent|percent|share of|rate)\b", re.I)
_MONEY = re.compile(r"\b(spend|spent|budget|cost|costs|funding|money|invest\w*)\b", re.I)
_CAPITALISED_RUN = re.compile(r"\b[A-Z][\w'’-]*(?:\s+[A-Z][\w'’-]*)*")
_ACRONYM = re.compile(r"\b([A-Z]{3,6})\b")
_PLACE_SUFFIX = re.compile(r"-(based|led|wide|run|funded)$", re.I)
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


# Lower-case words that never start or end a person's name: question words, the domain's common words, and
# ordinary English that a question puts where a name could be ("the death of a child in care").
_NOT_NAMES = frozenset(_COMMON | {
    "a", "an", "the", "his", "her", "their", "my", "our", "this", "that", "young", "person", "people", "boy", "girl",
    "man", "woman", "infant", "teenager", "patient", "resident", "prisoner", "pupil", "student", "baby", "son",
    "daughter", "brother", "sister", "partner", "husband", "wife", "someone", "anyone", "everyone", "latent",
    "conditions", "condition", "organisational", "systemic", "problems", "failings", "concerns", "issues", "went",
    "wrong", "using", "as", "like", "following", "per", "in", "terms", "sense", "model", "were", "was", "staffing",
    "caseloads", "factor", "factors", "what", "preceded", "contributed", "led", "up", "summarise", "coroner's",
    "died", "death", "deaths", "inquest", "report", "reports", "case", "cases", "care", "family", "families",
    "mental", "discharge", "planning", "road", "safety", "hospital", "prison", "school", "home", "homes", "police",
    "officers", "staff", "nurses", "doctors", "ambulance", "services", "trust", "agency", "agencies", "them",
    "him", "someone's", "victim", "victims", "deceased", "adult", "adults", "older", "elderly", "mother's",
})


@dataclass(frozen=True)
class QuestionScope:
    """What the question names and asks for."""

    children: tuple[str, ...] = ()  # "Child R"
    names: tuple[str, ...] = ()  # single capitalised words and acronyms: places, services, a surname ("Ashdown")
    people: tuple[AskedName, ...] = ()  # people as named ("Rainer Wickens", "Mr Parkes"), matched by name tokens
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


def _is_service(word: str) -> bool:
    """An acronym or word that names a service ("LADO", "IROs"): the service check reads the evidence for any of
    its forms ("the designated officer"), so the word itself need not be in it."""
    return any(ask.fullmatch(word) or ask.fullmatch(word.lower()) for ask, _ in service_terms().values())


def _is_common(word: str) -> bool:
    w = word.lower()
    return w in _COMMON or w.removesuffix("'s").removesuffix("’s") in _COMMON


def read_scope(question: str) -> QuestionScope:
    children = tuple(dict.fromkeys(f"{a} {b}" for a, b in _CHILD.findall(question)))
    stripped = _CHILD.sub(lambda m: " " * len(m.group(0)), question)  # same offsets, children blanked
    councils_asked = [*_COUNCIL_PHRASE.findall(question), *councils_named(question)]
    # people: two or more capitalised words, or a title and a surname, that are not a council or a cited author
    cited: list[str] = []
    people = [n for n in asked_names(stripped, _NOT_NAMES, cited) if not councils_named(n.text)]
    people += [n for n in lowercase_names(stripped) if n.text.lower() not in {p.text.lower() for p in people}]
    in_people = " ".join(n.text for n in people).lower()
    # "James Sheffield" is a person, not the council: a council's name inside a person's is not a council named
    councils_asked = [c for c in councils_asked if c.lower() not in in_people]
    # "Cambridgeshire's Children in Care Council", "the Change Council in Sunderland": beside a council we know, a
    # "… Council" we do not know is a body the evidence must name, not a second place
    known = [c for c in councils_asked if councils_named(c)]
    bodies = [c for c in councils_asked if known and not councils_named(c)]
    councils_asked = [c for c in councils_asked if c not in bodies]
    names: list[str] = list(bodies)
    in_councils = " ".join([*councils_asked, *bodies]).lower()
    for start, w in _lone_capitalised_words(stripped):  # a place, a surname, a term
        w = _PLACE_SUFFIX.sub("", w)  # "the Grimsby-based hub": the evidence names Grimsby
        if start == 0 or stripped[:start].rstrip()[-1:] in ".?!" or len(w) < 3:
            continue
        if _is_common(w) or w.lower() in in_people or w.lower() in in_councils or w.lower() in TITLES or \
                _is_service(w):
            continue
        (cited if is_cited(stripped, start, start + len(w)) else names).append(w)
    for m in _ACRONYM.finditer(question):
        a = m.group(1)
        if a.lower() not in _COMMON and a not in names and a.lower() not in in_people and \
                a.lower() not in in_councils and not _is_service(a):
            (cited if is_cited(question, m.start(), m.end()) else names).append(a)
    years = tuple(sorted({int(y) for y in QUESTION_YEAR.findall(question)}))
    quantity = None
    if not _CLOSED.search(question) and (_QUANTITY.search(question) or (_MONEY.search(question) and
                                                                       re.search(r"\bhow much\b", question, re.I))):
        # "how many apprenticeships did the funding pay for" counts things; only "how much" asks for money
        money = _MONEY.search(question) and not re.search(r"\bhow many\b", question, re.I)
        quantity = "percent" if _PERCENT.search(question) else "money" if money else "number"
    if not (children or people):
        # an author, model or report the question cites is not who it is about; but with no one else named it is
        # what it is about ("How does the HFACS framework classify…"), so the evidence must mention it
        names += [c.split()[-1] for c in cited if c.split()[-1] not in names]
    named = bool(children or people or names)
    return QuestionScope(children=children, names=tuple(dict.fromkeys(names)), people=tuple(people), years=years,
                         preceded=bool(_PRECEDED.search(question)),
                         unnamed_death=not named and bool(_UNNAMED_DEATH.search(question)),
                         latent=bool(LATENT_QUESTION.search(question)), quantity=quantity,
                         councils=tuple(dict.fromkeys(councils_asked)),
                         terms=tuple(dict.fromkeys([*children, *(n.text for n in people), *names])),
                         services=tuple(n for n, (ask, _) in service_terms().items() if ask.search(question)))


def _lone_capitalised_words(text: str) -> list[tuple[int, str]]:
    """Capitalised words that stand alone, a possessive ending a run: 'Wenmarsh’s IT' gives Wenmarsh (and IT),
    'Milton Keynes' gives nothing."""
    out = []
    for m in _CAPITALISED_RUN.finditer(text):
        segment: list[re.Match[str]] = []
        for w in re.finditer(r"\S+", m.group(0)):
            segment.append(w)
            if re.search(r"['’]s?$", w.group(0)) or w.end() == len(m.group(0)):
                if len(segment) == 1:
                    out.append((m.start() + w.start(), re.sub(r"['’]s?$", "", w.group(0))))
                segment = []
    return out


# Where a question puts a person it asks about: "the death of jane smith", "jane smith's death", "before jane smith
# died", "what contributed to jane smith dying", "… for jane smith?". Lower-case names are only read in these places
# (anywhere else two ordinary words would be taken for a name).
_PERSON_SLOTS = (
    re.compile(r"\b(?:death|deaths|dying|care|case|killing|suicide|murder|loss|inquest|treatment) (?:of|into) "
               r"([a-z][\w'’-]+(?: [a-z][\w'’-]+){1,2})\b"),
    re.compile(r"\b([a-z][\w'’-]+(?: [a-z][\w'’-]+){1,2})['’]s? (?:death|care|case|inquest|treatment|suicide|"
               r"killing|murder)\b"),
    re.compile(r"\b(?:before|after|when|why|how|to) (?:did |had |was )?([a-z][\w'’-]+(?: [a-z][\w'’-]+){1,2}) "
               r"(?:die|died|dying|was killed|killed|took)\b"),
)
# "… for declan farrell?": a name closing a question, read only when the question is about a death or a case.
_CLOSING_NAME = re.compile(r"\b(?:for|about|of) ([a-z][\w'’-]+ [a-z][\w'’-]+)\s*\?*\s*$")
_ABOUT_A_DEATH = re.compile(r"\b(death|deaths|died|die|dying|coroner|inquest|killed|case|review)\b", re.I)


def lowercase_names(question: str) -> list[AskedName]:
    """Names typed in lower case, read only where a question puts the person it asks about; words the question
    vocabulary uses ('the child', 'young people') are not names."""
    out = []
    slots = [*_PERSON_SLOTS, *([_CLOSING_NAME] if _ABOUT_A_DEATH.search(question) else [])]
    for slot in slots:
        for m in slot.finditer(question):
            words = m.group(1).split()
            while words and words[0].lower() in _NOT_NAMES:
                words.pop(0)
            if len(words) < 2 or any(w.lower() in _NOT_NAMES or not w.islower() for w in words):
                continue
            out.append(AskedName(" ".join(words), words[0], words[-1].removesuffix("'s").removesuffix("’s"), False,
                                 guessed=True))
    return list({n.text: n for n in out}.values())


def incident_date(doc: DocumentInfo) -> str | None:
    """The date a review or coroner's report is about: the end of its review period, else its publication."""
    return doc.period_end or doc.published


def doc_date(doc: DocumentInfo) -> str | None:
    """When an inspection letter's findings were true: its visit dates, else its publication."""
    return doc.period_end or doc.published
