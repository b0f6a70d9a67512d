"""What part of a document a passage comes from, as far as ranking evidence cares: a review's framing (introduction,
methodology, terms of reference…) and its recommendations state no finding. "The criteria for a serious case review
were met" repeats a latent question's words, and "the partnership should review its caseload policy" prescribes
what should change; neither says what the conditions were."""

from __future__ import annotations

import re
from typing import Protocol

__all__ = ["FRAMING", "JUDGEMENT_ASKED", "PRESCRIBES", "prescribes_or_frames", "states_judgement"]

PRESCRIBES = re.compile(r"^\s*(recommendations?\b|\d+(\.\d+)*\.?\s+recommendations?\b)", re.I)  # "7. Recommendations"
FRAMING = re.compile(r"\b(introduction|methodology|method|terms of reference|review process|about this|glossary|"
                     r"contents|acknowledg|references|purpose of the review)", re.I)


class _HasSection(Protocol):
    @property
    def text(self) -> str: ...

    @property
    def section(self) -> str | None: ...

    @property
    def role(self) -> str: ...


def prescribes_or_frames(passage: _HasSection) -> bool:
    """A passage from a recommendations section or a framing one (introduction, methodology…), or one that opens
    as a recommendation."""
    section = passage.section or ""
    return bool(PRESCRIBES.search(section) or PRESCRIBES.search(passage.text) or FRAMING.search(section)
                or passage.role != "finding")


# -- what part of a document a passage is ---------------------------------------------------------------------
ROLES = ("finding", "framing", "cover", "back_matter")
# Back matter: what every Ofsted report and many reviews print after the text ends, or in a letter's head.
_BACK_MATTER = re.compile(
    r"crown copyright|open government licence|nationalarchives\.gov\.uk|large print or braille|"
    r"in (?:a different|an alternative|another) format|regulates and inspects to achieve excellence|"
    r"piccadilly gate|store street,? manchester|\b0300 123 \d{4}\b|enquiries@ofsted|www\.gov\.uk/ofsted|"
    r"you may reuse this information|interested in our work\?|subscribe to our monthly|reference no:? \d|"
    r"if you (?:would like|require) a copy of this|this publication is available at|"
    r"follow us on twitter|@ofstednews|all rights reserved|isbn\s*[\d-]{10,}", re.I)
# Framing: what the document is and how it was made, not what it found.
_FRAMING_TEXT = re.compile(
    r"\b(?:this is a )?fictional (?:case|letter|review|document|training)|written for (?:the latent sample corpus|"
    r"training and demonstration)|names have been changed|any resemblance|"
    r"\b(?:is|are) (?:defined|described) (?:as|by)\b|^\s*(?:latent conditions|active failures) (?:are|is)\b", re.I)
_FRAMING_SECTION = re.compile(r"\b(introduction|methodology|method|terms of reference|review process|about this|"
                              r"glossary|contents|acknowledg|references|bibliography|purpose of the review|"
                              r"definitions?|scope of the review|the review team|disclaimer|foreword|"
                              r"how (?:the|this) review was)", re.I)
_CONTENTS_LINE = re.compile(r"(?:\.{3,}|…{2,}|\s{2,})\s*\d{1,3}\s*$", re.M)


def passage_role(text: str, section: str | None, page: int, paragraph: str | None, kind: str,
                 opening: bool = True) -> str:
    """finding, framing (contents, introduction, method, definitions, a fictional-case note), cover (a review's
    title page) or back_matter (copyright, licence, address and contact blocks). Answers quote findings; framing
    only when asked about it; cover and back matter never, and neither is numbered as a paragraph.

    `opening`: the document runs past its first page, only cover or back matter comes before this passage, and more
    text follows it. A title page opens a document and has its text after it; a one-page text (an abstract, a note)
    has no cover, and the short end of an abstract is text (read as covers, 3,443 of SciFact's 11,225 passages were
    demoted like boilerplate and never quoted). Unknown (a passage read back from an index stored before roles had
    this rule): True, as then."""
    words = len(text.split())
    marks = len(_BACK_MATTER.findall(text))
    if marks >= 2 or (marks and words < 120):
        return "back_matter"
    if len(_CONTENTS_LINE.findall(text)) >= 3 or _FRAMING_TEXT.search(text) or \
            _FRAMING_SECTION.search(section or ""):
        return "framing"
    if opening and kind in ("review", "literature", "other") and page == 1 and paragraph is None and \
            not section and words < 80:
        return "cover"
    return "finding"


# The four grades, as a judgement table prints them.
_GRADE = r"(outstanding|good|inadequate|requires improvement(?: to be good)?)"
# An inspection's headline judgement: "Children's services in Wakefield Metropolitan District Council require
# improvement to be good.", "Overall effectiveness: Inadequate", "The Local Safeguarding Children Board is good".
# And the judgement table's lines: "Children looked after and achieving permanence Requires improvement to be good".
_JUDGEMENT_STATED = re.compile(
    r"\b(children[’']s services|overall effectiveness|(?:local )?safeguarding children board|services for children"
    r"[\w ,]{0,60}?)\b[^.:]{0,80}?(?:\b(?:are|is|requires?|were|was)\b|:)\s*(?:judged (?:to be |as )?)?"
    r"(outstanding|good|inadequate|improvement(?: to be good)?|requires improvement)\b|"
    r"\b(children who need help and protection|children looked after and achieving permanence|adoption performance|"
    r"(?:the )?experiences and progress of (?:care leavers|children[\w ]{0,60}?)|leadership,? management and "
    r"governance|(?:the )?impact of leaders on social work practice[\w ]{0,40}?)\W{0,5}" + _GRADE + r"\b", re.I)


# A question about an inspection's grade, not about a practitioner's "professional judgement".
JUDGEMENT_ASKED = re.compile(r"(?<!professional )(?<!clinical )(?<!sound )\b(judge?ments?|judged|rated|ratings?|"
                             r"graded|grades?|overall effectiveness)\b", re.I)


# A judgement table's grade, on a line of its own below the area it grades ("The experiences and progress of
# children who need help and protection" / "Requires improvement").
_GRADE_LINE = re.compile(r"\s*" + _GRADE + r"\s*", re.I)


def is_grade_line(text: str) -> bool:
    """Is the text a grade alone ("Requires improvement"), the second half of a judgement-table line?"""
    return bool(_GRADE_LINE.fullmatch(text))


def states_judgement(text: str) -> bool:
    """Does the passage state an inspection's judgement? Its opening words are the template's, shared by every
    report of that framework, yet it is the report's most-asked sentence: it is never demoted as boilerplate."""
    return bool(_JUDGEMENT_STATED.search(text))
