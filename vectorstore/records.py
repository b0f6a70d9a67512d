"""Typed records shared by every layer: passages, hits, documents, tags, filters."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from vectorstore.query import council_key

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
    # What the file's own header says beyond its title (a coroner's report may name the deceased only in its web
    # address: '…/prevention-of-future-death-reports/martin-leslie-brown/' gives 'martin leslie brown').
    about: str | None = None


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
    # finding | framing (contents, introduction, method, definitions) | cover | back_matter (copyright, licence,
    # contact blocks): see vectorstore.sections.passage_role
    role: str = "finding"


@dataclass(frozen=True)
class Explanation:
    """Why a hit ranks where it does, and how close it is to the query (from `vectorstore.ranking`)."""

    lists: tuple[tuple[str, int], ...] = ()  # the ranked lists that found it, each with its 1-based rank there
    boost: float = 0.0  # added for matching what the query names (council, year, child, kind of document)
    probe: str | None = None  # the latent category whose probe added it (latent-conditions questions)
    similarity: float = 0.0  # cosine between the query and the passage
    # latent-conditions questions: the best cosine between the passage and the summary of a latent category it is
    # tagged with as a weakness (None when it carries no such tag)
    category_similarity: float | None = None


@dataclass(frozen=True)
class Hit:
    """A passage found by search, with its document's metadata and a fused score (higher is better)."""

    passage: Passage
    document: DocumentInfo
    score: float
    boilerplate: bool = False  # text shared with many documents (addresses, templates): demoted in ranking
    why: Explanation = field(default_factory=Explanation, compare=False)

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

    @classmethod
    def from_values(cls, kinds: Iterable[str] | str | None = None, councils: Iterable[str] | str | None = None,
                    documents: Iterable[str] | str | None = None, year_from: int | str | None = None,
                    year_to: int | str | None = None, categories: Iterable[str] | str | None = None,
                    ) -> SearchFilters:
        """Filters from loose values (the CLI's options, the page's controls, a LangChain retriever's dict): an
        empty list or a blank value means no constraint, a year is an int or its digits (the page's "Any" is no
        year), and years given the wrong way round are swapped."""
        def values(given: Iterable[str] | str | None) -> tuple[str, ...] | None:
            kept = tuple(str(v) for v in ((given,) if isinstance(given, str) else given or ()) if v)
            return kept or None

        def year(given: int | str | None) -> int | None:
            text = str(given).strip() if given is not None else ""
            return int(text) if text.isdigit() else None

        start, end = year(year_from), year(year_to)
        if start and end and start > end:
            start, end = end, start
        return cls(kinds=values(kinds), councils=values(councils), documents=values(documents), year_from=start,
                   year_to=end, categories=values(categories))

    def admits(self, d: DocumentInfo) -> bool:
        """Does the document pass every filter on documents (kind, council, document, published years)?"""
        year = int(d.published[:4]) if d.published else None
        if self.kinds and d.kind not in self.kinds:
            return False
        if self.councils and (not d.council or council_key(d.council) not in {council_key(c) for c in self.councils}):
            return False
        if self.documents and not ({d.id, d.source, d.source.rsplit("/", 1)[-1]} & set(self.documents)):
            return False
        if self.year_from is not None and (year is None or year < self.year_from):
            return False
        return not (self.year_to is not None and (year is None or year > self.year_to))


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
