"""Follow-up questions ("and the police?") made standalone from the conversation, by rules (extractive mode).

The rules: a short question that leans on what came before (starts with "and", "what about", "how about", or
has no subject of its own) inherits the previous standalone question, with the new focus replacing the old; and a
question that names no child, person or council is about the subject of the latest earlier question that did.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

# Earlier turns: (question, answer) pairs, or chat messages {"role", "content"} as Gradio gives them.
History = Sequence[tuple[str, str] | dict[str, str]]

_LEANS = re.compile(r"^\s*(and|also|what about|how about|and what about|what of|same for|or)\b[\s,]*", re.I)
# Questions about ideas, not cases: "What is a latent condition?", "What does 'disguised compliance' mean?"
_GENERAL = re.compile(r"^\s*(what (is|are) (a|an|the)?\s*\w+( \w+)?\s*\??$|define\b|what does .* mean\b|"
                      r"what is meant by\b|explain (the )?(term|idea|concept|model)\b)", re.I)
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
        return with_subject(q, history)  # a question of its own, but perhaps about the same child or council
    focus = _LEANS.sub("", q).rstrip("?. ").strip()
    if lean and focus:
        # Replace a short closing "about/by/of X" phrase of the previous question with the new focus;
        # otherwise keep the whole previous question and add the focus, so retrieval sees both.
        base = before.rstrip("?. ")
        matches = list(re.finditer(r"\b(about|by|of|from|for|in|on|with)\s+", base, re.I))
        if matches and len(base[matches[-1].end():].split()) <= 3:
            return with_subject(f"{base[:matches[-1].end()]}{focus}?", history)
        return with_subject(f"{base} — {focus}?", history)
    return with_subject(f"{before.rstrip('?. ')}: {q}", history)


def user_questions(history: History | None) -> list[str]:
    """Every user question of the history, oldest first."""
    out: list[str] = []
    for turn in history or ():
        if isinstance(turn, dict):
            if turn.get("role") == "user" and turn.get("content"):
                out.append(str(turn["content"]))
        elif turn and turn[0]:
            out.append(str(turn[0]))
    return out


def subject_of(question: str) -> str | None:
    """Who or what a question is about, as the question names it: a child, a person, a council, a place."""
    from assistant.scope import read_scope

    scope = read_scope(question)
    named = [*scope.children, *(p.text for p in scope.people), *scope.councils]
    return named[0] if named else None


def with_subject(question: str, history: History | None) -> str:
    """A follow-up that names no child, person or council ("Which agencies were involved?", "What about the
    police?") is about the subject of the latest earlier question that named one: "Which agencies were involved
    with Child R?"."""
    if subject_of(question) is not None or _GENERAL.search(question):
        return question
    from assistant.scope import read_scope

    if read_scope(question).names:  # a place or service of its own ("What about Ashdown?")
        return question
    for earlier in reversed(user_questions(history)):
        subject = subject_of(earlier)
        if subject:
            return f"{question.rstrip(' ?.')} — {subject}?"
    return question
