"""The shape of one reply of the page's `ask` endpoint (the `latent ask --json` object), checked the same way by
the load script and the tests that drive the page."""

from __future__ import annotations

import re
from typing import Any

HIT_KEYS = {"id", "text", "score", "title", "source", "page", "paragraph", "section", "kind", "council", "published",
            "tags"}
CITATION_KEYS = {"n", "id", "text", "title", "source", "page", "paragraph", "tags"}


def reply_problems(question: str, got: Any) -> list[str]:
    """What is wrong with one reply to `question`; [] when nothing."""
    from prompts import REFUSAL

    if not isinstance(got, dict):
        return [f"not an object: {got!r:.200}"]
    out = []
    if got.get("question") != question:
        out.append(f"question {got.get('question')!r} is not the one asked")
    if not isinstance(got.get("answer"), str) or not isinstance(got.get("refused"), bool):
        return [*out, f"no answer text or refused flag: {sorted(got)}"]
    if got["refused"]:
        if not got["answer"].startswith(REFUSAL) or got.get("citations"):
            out.append("a refusal without the refusal sentence, or with citations")
        if not all(isinstance(h, dict) and set(h) >= HIT_KEYS for h in got.get("nearest") or []):
            out.append("nearest passages without the hit keys")
        return out
    citations = got.get("citations") or []
    if not citations:
        out.append("an answer without citations")
    for n, c in enumerate(citations, start=1):
        if not isinstance(c, dict) or not set(c) >= CITATION_KEYS or c["n"] != n or not c["text"]:
            out.append(f"citation {n} malformed: {sorted(c) if isinstance(c, dict) else c!r:.120}")
        elif not re.search(rf"\[[\d,\s]*\b{n}\b[\d,\s]*\]", got["answer"]):
            out.append(f"citation [{n}] is not used in the answer")
    return out
