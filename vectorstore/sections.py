"""What part of a document a passage comes from, as far as ranking evidence cares: a review's framing (introduction,
methodology, terms of reference…) and its recommendations state no finding. "The criteria for a serious case review
were met" repeats a latent question's words, and "the partnership should review its caseload policy" prescribes
what should change; neither says what the conditions were."""

from __future__ import annotations

import re
from typing import Protocol

__all__ = ["FRAMING", "PRESCRIBES", "prescribes_or_frames"]

PRESCRIBES = re.compile(r"^\s*(recommendations?\b|\d+(\.\d+)*\.?\s+recommendations?\b)", re.I)  # "7. Recommendations"
FRAMING = re.compile(r"\b(introduction|methodology|method|terms of reference|review process|about this|glossary|"
                     r"contents|acknowledg|references|purpose of the review)", re.I)


class _HasSection(Protocol):
    @property
    def text(self) -> str: ...

    @property
    def section(self) -> str | None: ...


def prescribes_or_frames(passage: _HasSection) -> bool:
    """A passage from a recommendations section or a framing one (introduction, methodology…), or one that opens
    as a recommendation."""
    section = passage.section or ""
    return bool(PRESCRIBES.search(section) or PRESCRIBES.search(passage.text) or FRAMING.search(section))
