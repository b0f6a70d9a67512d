"""Follow-up questions ("and the police?") made standalone from the conversation, by rules (extractive mode).

The rule: a short question that leans on what came before (starts with "and", "what about", "how about", or
has no subject of its own) inherits the previous standalone question, with the new focus replacing the old.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

# Earlier turns: (question, answer) pairs, or chat messages {"role", "content"} as Gradio gives them.
History = Sequence[tuple[str, str] | dict[str, str]]

_LEANS = re.compile(r"^\s*(and|also|what about|how about|and what about|what of|same for|or)\b[\s,]*", re.I)
_PRONOUNS = re.compile(r"\b(they|them|their|it|its|this|that|these|those|he|she|his|her)\b", re.I)


def previous_question(history: History | None) -> str | None:
    """The last user question in a history of (question, answer) pairs or chat messages."""
    if not history:
        return None
    for turn in reversed(history):
        if isinstance(turn, dict):
            if turn.get("role") == "user" and turn.get("content"):
                return str(turn["content"])
        elif turn and turn[0]:
            return str(turn[0])
    return None


def make_standalone(question: str, history: History | None) -> str:
    """'and the police?' after 'What did the review say about information sharing by health?' becomes
    'What did the review say about information sharing by the police?'."""
    before = previous_question(history)
    q = question.strip()
    if not before:
        return q
    lean = _LEANS.match(q)
    words = re.findall(r"\w+", q)
    if not lean and (len(words) > 6 or not _PRONOUNS.search(q)) and len(words) > 3:
        return q
    focus = _LEANS.sub("", q).rstrip("?. ").strip()
    if lean and focus:
        # Replace a short closing "about/by/of X" phrase of the previous question with the new focus;
        # otherwise keep the whole previous question and add the focus, so retrieval sees both.
        base = before.rstrip("?. ")
        matches = list(re.finditer(r"\b(about|by|of|from|for|in|on|with)\s+", base, re.I))
        if matches and len(base[matches[-1].end():].split()) <= 3:
            return f"{base[:matches[-1].end()]}{focus}?"
        return f"{base} — {focus}?"
    return f"{before.rstrip('?. ')}: {q}"
