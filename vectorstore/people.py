"""People as practitioners name them: a name in a question matched against documents by its tokens.

A practitioner asks about "Jane Smith"; the coroner printed "Jane Elizabeth SMITH", "Elizabeth (Beth) Smith" or
"Mrs Smith-Jones". So a question's name is matched by its first and last tokens, in any case, with middle names,
initials and a bracketed other name allowed between them, a hyphenated part allowed on the surname, and titles
("Mr", "Dr") standing in for a first name. Authors and theorists a question cites ("in James Reason's sense",
"the Munro review") are not who it is about.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

TITLES = ("mr", "mrs", "ms", "miss", "mx", "dr", "prof", "professor", "sir", "dame", "lady", "lord", "master",
          "baby", "reverend", "rev", "pc", "ds", "dc", "sgt")
_TITLE = r"(?:Mr|Mrs|Ms|Miss|Mx|Dr|Prof|Professor|Sir|Dame|Master|Baby|Rev|Reverend|PC|DS|DC|Sgt)\.?"
# One word of a name as documents print it: "Leonard", "O'Neill", "SMITH", "J.", "Anne-Marie".
_WORD = r"[A-Za-z][\w'’]*(?:-[A-Za-z][\w'’]*)*\.?"
# A question's name in the form it is asked: two to four capitalised words, or a title and a surname.
_CAPITAL = r"[A-Z][\w'’]*(?:-[A-Z][\w'’]*)*"
_ASKED = re.compile(rf"\b(?:{_TITLE}\s+)?{_CAPITAL}(?:\s+(?:[A-Z]\.|{_CAPITAL})){{0,3}}(?:['’]s?)?")
# How a question cites an author or a report rather than asking about a person: "in James Reason's sense",
# "Reason's model", "the Munro review", "Laming's recommendations", "according to Vincent".
_CITED_AFTER = re.compile(r"^['’]s?\s+(?:\w+\s+){0,2}?(sense|terms?|model|theory|framework|approach|review|report|"
                          r"inquiry|enquiry|recommendations?|findings|work|concept|idea|classification|protocol|"
                          r"typology|swiss cheese|taxonomy|definition|analysis|argument|view|words)\b"
                          r"|^\s+(review|report|inquiry|enquiry|recommendations|framework|model|protocol)\b", re.I)
_CITED_BEFORE = re.compile(r"\b(according to|as|like|per|in the (?:words|sense|terms) of|described by|defined by|"
                           r"written by|developed by|proposed by|using|applying|through the lens of|in terms of|"
                           r"with reference to)\s+(?:the\s+)?$", re.I)
# A leading clause that compares with another case: "Like Laming found after Victoria Climbié, were agencies…".
_COMPARISON_CLAUSE = re.compile(r"^\s*(like|unlike|as with|just as|as in|similar to|as happened (?:to|with)|"
                                r"as (?:\w+ ){1,3}found|as (?:\w+ ){1,3}showed)\b[^,;?]*$", re.I)
_CITED_YEAR = re.compile(r"^\s*\(?\s*(19|20)\d\d\)?")


@dataclass(frozen=True)
class AskedName:
    """A person's name as a question gives it: its tokens in lower case, without a title."""

    text: str  # as written, without a possessive ("Jane Smith", "Mr Parkes")
    first: str | None  # None when only a title and a surname are given
    last: str
    titled: bool
    guessed: bool = False  # read from lower-case words in a person's place: refused only if unknown to the index

    @property
    def full(self) -> bool:
        return self.first is not None


def asked_names(question: str, not_names: set[str] | frozenset[str] = frozenset(),
                cited: list[str] | None = None) -> list[AskedName]:
    """People a question names, in order: capitalised runs that are not common words, places or cited authors.
    `not_names` holds lower-case words that never start or end a name (question words, councils…); the names it
    cites (authors, reports named after people) are appended to `cited` when given."""
    out: list[AskedName] = []
    for m in _ASKED.finditer(question):
        spans = [(w.start() + m.start(), w.end() + m.start()) for w in re.finditer(r"\S+", m.group(0))]
        # a possessive ends a name: "James Reason’s Swiss cheese model" names James Reason
        cut = next((i for i, (a, b) in enumerate(spans) if re.search(r"['’]s?$", question[a:b])), len(spans) - 1)
        spans = spans[:cut + 1]
        while spans and _plain(question, spans[0], not_names) and not _is_title(question, spans[0]):
            spans.pop(0)
        while spans and _plain(question, spans[-1], not_names):
            spans.pop()
        if not spans:
            continue
        words = [re.sub(r"['’]s?$", "", question[a:b]) for a, b in spans]
        titled = _is_title(question, spans[0])
        names = words[1:] if titled else words
        if not names or (not titled and len(names) < 2):
            continue  # one capitalised word is a place or a term as often as a person
        if names[-1].lower() in _CITED_NOUNS or is_cited(question, spans[0][0], spans[-1][1]):
            if cited is not None:  # "the Munro Review", "James Reason's sense"
                cited.append(" ".join(n for n in names if n.lower() not in _CITED_NOUNS) or names[0])
            continue
        out.append(AskedName(" ".join(words), None if titled and len(names) == 1 else names[0].lower(),
                             names[-1].lower(), titled))
    return out


_CITED_NOUNS = {"review", "report", "inquiry", "enquiry", "framework", "model", "protocol", "act", "principles",
                "standards", "guidance", "trust", "hospital", "council", "service", "services", "partnership"}


def _plain(question: str, span: tuple[int, int], not_names: set[str] | frozenset[str]) -> bool:
    return re.sub(r"['’]s?$", "", question[span[0]:span[1]]).lower().rstrip(".") in not_names


def _is_title(question: str, span: tuple[int, int]) -> bool:
    return question[span[0]:span[1]].lower().rstrip(".") in TITLES


def is_cited(question: str, start: int, end: int) -> bool:
    """Is the name at question[start:end] an author, a report or another case the question cites, not its
    subject?"""
    sentence_start = max(question.rfind(c, 0, start) for c in ".?!") + 1
    if _COMPARISON_CLAUSE.match(question[sentence_start:start]) and "," in question[end:]:
        return True
    after = question[end:]
    possessive = re.search(r"['’]s?$", question[start:end])
    if possessive:  # the possessive is part of what follows: "Reason's model"
        after = question[start + possessive.start():]
    return bool(_CITED_AFTER.match(after) or _CITED_BEFORE.search(question[:start]) or _CITED_YEAR.match(after))


# Everyday forms of first names: a practitioner says "Jim Francis" of the report's "James Francis".
_SAME_NAME = [
    {"james", "jim", "jimmy", "jamie"}, {"william", "bill", "billy", "will", "liam"}, {"robert", "bob", "rob", "bobby"},
    {"richard", "rick", "dick", "richie"}, {"elizabeth", "liz", "beth", "betty", "lizzie", "eliza", "bess"},
    {"katherine", "catherine", "kathryn", "kate", "katie", "cath", "kath", "kathy"}, {"thomas", "tom", "tommy"},
    {"michael", "mike", "mick", "micky"}, {"margaret", "maggie", "peggy", "meg", "margo"},
    {"edward", "ed", "eddie", "ted", "ned"}, {"anthony", "tony"}, {"christopher", "chris"}, {"daniel", "dan", "danny"},
    {"david", "dave", "davey"}, {"joseph", "joe", "joey"}, {"patricia", "pat", "trish", "patsy"},
    {"susan", "sue", "susie"}, {"alexander", "alex", "sandy", "alexandra"}, {"samuel", "sam", "samantha"},
    {"jennifer", "jen", "jenny"}, {"charles", "charlie", "chuck"}, {"matthew", "matt"}, {"andrew", "andy", "drew"},
    {"nicholas", "nick", "nicky"}, {"stephen", "steven", "steve"}, {"benjamin", "ben"}, {"jonathan", "jon", "jonny"},
    {"rebecca", "becky", "becca"}, {"deborah", "debbie", "deb"}, {"victoria", "vicky", "tori"},
    {"frederick", "fred", "freddie"}, {"henry", "harry", "hal"}, {"john", "jack", "johnny"}, {"peter", "pete"},
    {"gerald", "gerry"}, {"geoffrey", "geoffery", "geoff"}, {"kenneth", "ken", "kenny"}, {"ronald", "ron", "ronnie"},
    {"douglas", "doug"}, {"leonard", "len", "lenny"}, {"gillian", "gill", "jill"}, {"philip", "phillip", "phil"},
    {"terence", "terrence", "terance", "terry"}, {"tobias", "toby"}, {"albert", "bert", "bertie"}, {"herbert", "bert"},
    {"dorothy", "dot", "dotty"}, {"josephine", "jo", "josie"}, {"frances", "fran", "frankie"},
    {"francis", "frank", "frankie"}, {"lawrence", "laurence", "larry", "laurie"}, {"timothy", "tim", "timmy"},
    {"raymond", "ray"}, {"gregory", "greg"}, {"donald", "don", "donny"}, {"ernest", "ernie"},
    {"alfred", "alf", "alfie"}, {"walter", "wally", "walt"}, {"harold", "harry", "hal"}, {"nathaniel", "nathan", "nat"},
    {"jacqueline", "jackie", "jacqui"}, {"christine", "chris", "chrissie"}, {"christina", "tina", "chris"},
    {"valerie", "val"}, {"pamela", "pam"}, {"sandra", "sandy"}, {"theresa", "teresa", "tess", "tessa", "terri"},
    {"abigail", "abbie", "abby"}, {"joshua", "josh"}, {"zachary", "zach", "zack"}, {"oliver", "ollie"},
    {"nicola", "nicky", "nikki"}, {"rosemary", "rose", "rosie"}, {"barbara", "barb", "babs"}, {"maureen", "mo"},
    {"joanne", "jo", "joanna"}, {"gwendolen", "gwen"}, {"winifred", "winnie"}, {"florence", "flo", "florrie"},
]


def first_names(first: str) -> set[str]:
    """A first name and its everyday forms."""
    return {first}.union(*(group for group in _SAME_NAME if first in group))


def name_pattern(name: AskedName) -> re.Pattern[str]:
    """Where a document names that person: first name (or a bracketed other name, or a title), up to three middle
    words, then the surname, which may carry a hyphenated part: 'Jane Smith' finds 'Jane Elizabeth SMITH',
    'Elizabeth (Jane) Smith' and 'Jane Smith-Jones'."""
    last = rf"(?:[A-Za-z'’]+-)?{re.escape(name.last)}(?:-[A-Za-z'’]+)?"
    middle = rf"(?:\s+(?:{_WORD}|\([^()\n]{{1,30}}\))){{0,3}}"
    if name.first is None:
        return re.compile(rf"\b(?:{_TITLE}|[A-Z][\w'’]+){middle}\s+{last}\b", re.I)
    first = "(?:" + "|".join(sorted(map(re.escape, first_names(name.first)), key=len, reverse=True)) + ")"
    return re.compile(rf"(?:\b{first}|\(\s*{first}\s*\)){middle}\s+{last}\b", re.I)


def names_person(text: str, name: AskedName) -> bool:
    """Does `text` name this person? A title-and-surname question ('Mr Parkes') needs the surname printed with a
    capital after a title or a first name."""
    if name.last not in text.lower():
        return False  # the cheap test first: most documents do not contain the surname at all
    for m in name_pattern(name).finditer(text):
        if name.first is not None:
            return True
        surname = m.group(0).split()[-1]
        if surname[:1].isupper():
            return True
    return False


def slug_words(address: str) -> str:
    """The words of a web address's last part: '/prevention-of-future-death-reports/martin-leslie-brown/' ->
    'martin leslie brown' (a coroner's report may name the deceased only there)."""
    tail = [p for p in address.rstrip("/").split("/") if p][-1:] or [""]
    return " ".join(w for w in re.split(r"[-_]+", tail[0]) if w.isalpha())
