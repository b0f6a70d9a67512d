"""What is said to a model, and the fixed phrases tests assert on. Data, not logic: templates are text files.

`REFUSAL` opens every refusal, word for word, in every mode.
"""

from __future__ import annotations

from functools import cache
from importlib import resources

REFUSAL = "The indexed documents do not answer this question."
NEAREST_INTRO = "The nearest passages are shown below; none of them supports an answer."
UNSUPPORTED_MARK = "[unsupported]"  # LLM mode: a sentence no cited passage supports is flagged with this
CITATION_FORMAT = "[{n}]"
REMOTE_NOTICE = ("The configured model is not on this machine: the question and the retrieved passages will be "
                 "sent to {host}.")

__all__ = ["CITATION_FORMAT", "NEAREST_INTRO", "REFUSAL", "REMOTE_NOTICE", "UNSUPPORTED_MARK", "load_template"]


@cache
def load_template(name: str) -> str:
    """A named template from this package (`answer_system`, `answer_user`, `rewrite_followup`)."""
    return resources.files(__name__).joinpath(f"{name}.txt").read_text(encoding="utf-8")
