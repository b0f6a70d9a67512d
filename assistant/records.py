"""Typed records of an answer: numbered citations over search hits, and the answer itself."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from vectorstore.index import hit_to_json
from vectorstore.records import Hit


@dataclass(frozen=True)
class Citation:
    """Source [n] of an answer: a whole passage, and the sentences of it the answer quotes."""

    n: int
    hit: Hit
    quotes: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        h = hit_to_json(self.hit)
        return {"n": self.n, "id": h["id"], "text": h["text"], "title": h["title"], "source": h["source"],
                "page": h["page"], "paragraph": h["paragraph"], "tags": h["tags"], "kind": h["kind"],
                "council": h["council"], "published": h["published"], "section": h["section"],
                "doc_id": h["doc_id"], "quotes": list(self.quotes)}


class CitationNumbers:
    """Citation numbers in order of first use, and the sentences the answer quotes from each source: extractive
    and LLM answers number their sources the same way."""

    def __init__(self) -> None:
        self._numbers: dict[str, int] = {}
        self._hits: dict[str, Hit] = {}
        self._quotes: dict[str, list[str]] = {}

    def cite(self, hit: Hit, quote: str) -> int:
        """The number of `hit` (a new one the first time it is cited), with `quote` added to what it is cited for."""
        n = self._numbers.setdefault(hit.id, len(self._numbers) + 1)
        self._hits[hit.id] = hit
        self._quotes.setdefault(hit.id, []).append(quote)
        return n

    def citations(self) -> list[Citation]:
        return [Citation(n, self._hits[i], tuple(self._quotes[i])) for i, n in self._numbers.items()]


@dataclass
class Answer:
    """A cited answer, or a refusal with the nearest passages (design.md: `latent ask --json`)."""

    question: str
    text: str
    refused: bool
    citations: list[Citation] = field(default_factory=list)
    hits: list[Hit] = field(default_factory=list)  # what retrieval found (the evidence considered)
    nearest: list[Hit] = field(default_factory=list)  # shown with a refusal
    standalone_question: str | None = None  # the follow-up rewritten, when it was one
    mode: str = "extractive"
    reason: str | None = None  # why it refused (for people, not parsed)
    supported_share: float | None = None  # LLM mode: share of answer sentences a cited passage supports
    notices: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"question": self.question, "answer": self.text, "refused": self.refused,
                               "citations": [c.to_json() for c in self.citations], "mode": self.mode}
        if self.refused:
            out["nearest"] = [hit_to_json(h) for h in self.nearest]
            out["reason"] = self.reason
        if self.standalone_question and self.standalone_question != self.question:
            out["standalone_question"] = self.standalone_question
        if self.supported_share is not None:
            out["supported_share"] = round(self.supported_share, 3)
        if self.notices:
            out["notices"] = self.notices
        return out
