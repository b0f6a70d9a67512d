"""Typed records shared by every layer: passages, hits, documents, tags, filters."""

from __future__ import annotations

from dataclasses import dataclass, field

KINDS = ("review", "inspection", "focused_visit", "coroner_report", "literature", "other")
LEVELS = ("latent", "active", "defence")
POLARITIES = ("negative", "positive")


@dataclass(frozen=True)
class Tag:
    """One taxonomy category found in a passage or sentence (contract: `latent tag --json`)."""

    category: str
    level: str  # latent | active | defence
    polarity: str  # negative (condition present, a weakness) | positive (a strength, or resolved)
    confidence: float  # 0..1

    def to_json(self) -> dict[str, object]:
        return {"category": self.category, "level": self.level, "polarity": self.polarity,
                "confidence": round(float(self.confidence), 3)}


@dataclass(frozen=True)
class DocumentInfo:
    """Metadata of one stored document, as found by the loaders (all dates ISO `YYYY-MM-DD` or None)."""

    id: str
    title: str
    source: str
    kind: str
    content_hash: str
    council: str | None = None
    published: str | None = None
    period_start: str | None = None
    period_end: str | None = None
    judgement: str | None = None
    child: str | None = None
    passages: int = 0
    status: str = "stored"
    ingested_at: str | None = None


@dataclass(frozen=True)
class Passage:
    """A quotable span of one document: at most 200 word-pieces, one numbered paragraph at most."""

    id: str
    doc_id: str
    text: str  # the quoted text exactly as it appears in the document (after whitespace normalisation)
    header: str  # contextual header (title, section) fed to the embedding and lexical index, never quoted
    page: int  # 1-based; 1 for formats without pages
    paragraph: str | None  # number as printed, without its trailing full stop ("3.20", "15")
    section: str | None
    char_start: int  # offsets of `text` within its page's normalised text
    char_end: int
    tags: tuple[Tag, ...] = ()
    date: str | None = None  # the period the passage describes, where it states one (ISO)
    page_end: int | None = None  # last page the passage runs onto, when it crosses a page break


@dataclass(frozen=True)
class Hit:
    """A passage found by search, with its document's metadata and a fused score (higher is better)."""

    passage: Passage
    document: DocumentInfo
    score: float
    boilerplate: bool = False  # text shared with many documents (addresses, templates): demoted in ranking

    @property
    def id(self) -> str:
        return self.passage.id

    @property
    def text(self) -> str:
        return self.passage.text


@dataclass(frozen=True)
class SearchFilters:
    """Explicit filters: every field narrows the search; None means no constraint."""

    kinds: tuple[str, ...] | None = None
    councils: tuple[str, ...] | None = None
    documents: tuple[str, ...] | None = None
    year_from: int | None = None
    year_to: int | None = None
    categories: tuple[str, ...] | None = None  # taxonomy ids; a passage must carry one of them

    def is_empty(self) -> bool:
        return all(v is None for v in (self.kinds, self.councils, self.documents, self.year_from,
                                       self.year_to, self.categories))


@dataclass(frozen=True)
class FailedFile:
    """An input file that could not be ingested, and why (one line, for people)."""

    file: str
    reason: str


@dataclass
class IngestReport:
    """What one ingest run did, file by file (contract: `latent ingest --json`)."""

    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    failed: list[FailedFile] = field(default_factory=list)
    passages: int = 0

    def to_json(self) -> dict[str, object]:
        return {"added": self.added, "updated": self.updated, "unchanged": self.unchanged,
                "failed": [{"file": f.file, "reason": f.reason} for f in self.failed]}
