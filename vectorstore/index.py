"""The index: one folder (or one Chroma server) holding documents, passages, vectors and the lexical index.

Writes go to Chroma, document by document, bracketed by manifest rows ("storing" then "stored") so that a crash
leaves something `repair` can recognise; reads go through the in-memory `SearchCache`, rebuilt from Chroma
whenever the manifest's fingerprint changes.
"""

from __future__ import annotations

import fcntl
import logging
import os
import re
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from vectorstore.cache import SearchCache, fingerprint
from vectorstore.encoders import BACKENDS, embedding_identity
from vectorstore.errors import BackendMismatchError, DocumentNotFoundError, ModelMismatchError
from vectorstore.lexical import lexical_tokens
from vectorstore.people import AskedName, names_person
from vectorstore.query import Query
from vectorstore.ranking import Corpus, RankRequest, rank
from vectorstore.records import DocumentInfo, Hit, Passage, SearchFilters
from vectorstore.search import document_codes, lexical_scored, rows_of_documents
from vectorstore.settings import Settings, get_settings
from vectorstore.store import ChromaStore

log = logging.getLogger(__name__)

if TYPE_CHECKING:
    import numpy as np

    from vectorstore.embedding import Embedder

RECHECK_SECONDS = 2.0  # how stale a reader may be before it looks at the manifest again


@dataclass
class SearchResult:
    """Hits best first, with the filters applied and what the query itself named (a boost)."""

    query: str
    hits: list[Hit]
    filters: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {"query": self.query, "filters": self.filters, "hits": [hit_to_json(h) for h in self.hits]}


def hit_to_json(h: Hit) -> dict[str, Any]:
    """The contract shape of a hit (design.md, `latent search --json`)."""
    p, d = h.passage, h.document
    return {"id": p.id, "text": p.text, "score": round(float(h.score), 6), "title": d.title, "source": d.source,
            "page": p.page, "paragraph": p.paragraph, "section": p.section, "kind": d.kind, "council": d.council,
            "published": d.published, "tags": [t.to_json() for t in p.tags], "doc_id": d.id, "child": d.child,
            "date": p.date, "page_end": p.page_end, "char_start": p.char_start, "char_end": p.char_end}


class Index:
    """The one door to an index: open with `open_index`; search and rank (`rank`, `search`), read documents and
    passages, list and remove documents; ingest writes through `store_document`. Nothing outside vectorstore/
    reads the search cache behind it."""

    def __init__(self, path: Path | None, server: str | None, settings: Settings) -> None:
        self.path = path
        self.server = server
        self.settings = settings
        self.model = settings.embedding.model
        self.backend = settings.embedding.backend
        # What Chroma records as the maker of the vectors: the model, and the backend unless it is torch.
        self.embedding_id = embedding_identity(self.model, self.backend)
        self.store = _open_store(path, server, settings, self.model, self.backend)
        self._cache: SearchCache | None = None
        self._docs: dict[str, DocumentInfo] = {}
        self._checked = 0.0
        self._lock = threading.RLock()

    def close(self) -> None:
        """Release the Chroma client and the search cache; the index cannot be used afterwards. Long-lived
        processes (tests, benchmarks) that open many indexes call it so that files and sockets do not pile up."""
        with self._lock:
            self.store.close()
            self._cache, self._docs = None, {}

    def __enter__(self) -> Index:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- reading ---------------------------------------------------------------------------------------------
    @property
    def embedder(self) -> Embedder:
        from vectorstore.embedding import get_embedder

        embedder = get_embedder(self.model, self.backend)
        embedder.batch_size = self.settings.embedding.batch_size
        return embedder

    def documents(self) -> list[DocumentInfo]:
        """Stored documents (files that failed, or half-stored ones, are not listed), by title."""
        return sorted((d for d in self.store.manifest().values() if d.status == "stored"),
                      key=lambda d: (d.title.lower(), d.id))

    def find_document(self, ref: str) -> DocumentInfo:
        """A stored document by id, by source path, or by file name."""
        docs = self.documents()
        for test in (lambda d: d.id == ref, lambda d: d.source == str(Path(ref).resolve()),
                     lambda d: Path(d.source).name == ref, lambda d: Path(d.source).stem == ref):
            found = [d for d in docs if test(d)]
            if len(found) == 1:
                return found[0]
        raise DocumentNotFoundError(f"no stored document matches '{ref}' (try `latent list`)")

    def passages(self, doc_id: str | None = None) -> list[Passage]:
        """Passages in reading order (page, then offset), of one document or of all."""
        cache = self.cache()
        rows = cache.passages if doc_id is None else [
            cache.passages[r] for r in rows_of_documents(cache, {doc_id}).nonzero()[0]]  # precomputed per cache
        return sorted(rows, key=lambda p: (p.doc_id, p.page, p.char_start))

    def passages_of(self, doc_ids: Iterable[str]) -> dict[str, list[Passage]]:
        """Each document's passages in reading order (as `passages(doc_id)`), for several documents at once."""
        return {doc_id: self.passages(doc_id) for doc_id in dict.fromkeys(doc_ids)}

    def passage_count(self) -> int:
        """Passages a search can find (those of fully stored documents)."""
        return len(self.cache().passages)

    def document_info(self, doc_id: str) -> DocumentInfo | None:
        self.cache()
        return self._docs.get(doc_id)

    def searchable_documents(self) -> dict[str, DocumentInfo]:
        """The stored documents that have passages to find, by id, in the search's row order."""
        corpus = self._corpus()
        return {d: corpus.docs[d] for d in document_codes(corpus.cache)[0] if d in corpus.docs}

    def documents_naming(self, names: Iterable[str]) -> dict[str, set[str]]:
        """For each name (a person, a place), the documents with a passage naming it as a whole word."""
        cache = self.cache()
        out: dict[str, set[str]] = {}
        for name in dict.fromkeys(names):
            pattern = re.compile(rf"\b{re.escape(name)}\b")
            out[name] = {p.doc_id for p in cache.passages if name in p.text and pattern.search(p.text)}
        return out

    def documents_naming_person(self, name: AskedName) -> set[str]:
        """Documents that name a person as practitioners name them: by first and last name where the document adds
        middle names, in any case, with titles, bracketed other names and hyphenated surnames (`vectorstore.people`);
        the document's title and header count too. The surname's rows are found through the lexical index first,
        so only the passages holding it are read."""
        corpus = self._corpus()
        out = {d.id for d in corpus.docs.values() if names_person(f"{d.title}\n{d.about or ''}", name)}
        surname = max(re.findall(r"[a-z]+", name.last), key=len, default="")
        if len(surname) >= 3:
            rows = [row for row, _ in lexical_scored(corpus.cache, surname, len(corpus.cache.passages), None,
                                                     expand=False)]
        else:  # "Mr X": too short for the lexical index, so every passage is read (a few ms at 57k)
            rows = list(range(len(corpus.cache.passages)))
        by_doc: dict[str, list[str]] = {}
        for row in rows:
            p = corpus.cache.passages[row]
            by_doc.setdefault(p.doc_id, []).append(p.text)
        out |= {d for d, texts in by_doc.items() if d in corpus.docs and names_person("\n".join(texts), name)}
        return out

    def unknown_words(self, words: Iterable[str]) -> set[str]:
        """The words no stored passage contains (after stemming): a name a question gives that the documents never
        use, as against ordinary words."""
        cache = self._corpus().cache
        vocab = cache.bm25.vocab_dict if cache.bm25 is not None else {}
        return {w for w in words if not any(t in vocab for t in lexical_tokens([w])[0])}

    def text_similarity(self, texts: list[str], passage_ids: list[str]) -> list[list[float]]:
        """Cosine between each text (embedded now) and each stored passage: [text][passage], 0.0 for a passage
        that is not stored."""
        if not texts:
            return []
        cache = self.cache()
        vectors = self.embedder.encode(texts)
        rows = [cache.row_of.get(i) for i in passage_ids]
        return [[float(cache.vectors[row] @ v) if row is not None else 0.0 for row in rows] for v in vectors]

    def cache(self) -> SearchCache:
        """The search cache, rebuilt when another write (here or in another process) changed the manifest. Only
        vectorstore/ reads it (tests/test_layers.py): everyone else asks `Index`'s other methods."""
        return self._corpus().cache

    def warm_up(self) -> None:
        """Build (or load) the search cache now, not at the first search."""
        self.cache()

    def _corpus(self) -> Corpus:
        with self._lock:
            now = time.monotonic()
            if self._cache is None or now - self._checked >= RECHECK_SECONDS:
                self._refresh(now)
            assert self._cache is not None
            return Corpus(self._cache, self._docs, self.settings.search, self.store, self.embedder.encode_query,
                          self.embedder.encode, self.embedding_id)

    def _refresh(self, now: float) -> None:
        manifest = {i: d for i, d in self.store.manifest().items() if d.status == "stored"}
        key = fingerprint(manifest, self.embedding_id)
        self._checked = now
        if self._cache is not None and self._cache.key == key:
            return
        folder = self.path / "cache" if self.path else None
        cache = SearchCache.load(folder, key) if folder else None
        if cache is None:
            cache = SearchCache.build(self.store, key, set(manifest))
            if folder:
                try:
                    cache.save(folder)
                except OSError as e:  # the saved copy only speeds up the next start; a search must not fail
                    log.warning("could not save the search cache in %s: %s", folder, e)
        self._cache, self._docs = cache, manifest

    # -- ranking (vectorstore.ranking) ------------------------------------------------------------------------
    def rank(self, request: RankRequest) -> SearchResult:
        """Ranked, explained hits for a request: the one way to a ranked list (see `vectorstore.ranking`)."""
        hits, hints = rank(self._corpus(), request)
        asked = request.query.asked if isinstance(request.query, Query) else request.query
        return SearchResult(asked, hits, _filters_json(request.filters, hints))

    def rank_each(self, requests: Sequence[RankRequest]) -> list[SearchResult]:
        """`rank` for each request, against the same state of the index."""
        corpus = self._corpus()
        out = []
        for request in requests:
            hits, hints = rank(corpus, request)
            asked = request.query.asked if isinstance(request.query, Query) else request.query
            out.append(SearchResult(asked, hits, _filters_json(request.filters, hints)))
        return out

    def search(self, query: str, k: int = 10, filters: SearchFilters | None = None) -> list[Hit]:
        """Dense and lexical results fused by reciprocal rank; see `search_with_info` for what was applied."""
        return self.search_with_info(query, k, filters).hits

    def search_with_info(self, query: str, k: int = 10, filters: SearchFilters | None = None,
                         vector: np.ndarray | None = None) -> SearchResult:
        """The `latent search` result: the hits, the filters applied and what the query named (a boost)."""
        return self.rank(RankRequest(query, k, filters or SearchFilters(), vector=vector))

    # -- writing ---------------------------------------------------------------------------------------------
    @contextmanager
    def writing(self) -> Iterator[None]:
        """One writer at a time per index folder (a Chroma server serialises writes itself)."""
        if self.path is None:
            yield
            return
        self.path.mkdir(parents=True, exist_ok=True)
        with open(self.path / ".write.lock", "w") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)

    def store_document(self, doc: DocumentInfo, passages: list[Passage], vectors: np.ndarray) -> None:
        """Replace a document's passages as one unit: a crash part-way leaves a 'storing' row for `repair`."""
        new_ids = {p.id for p in passages}
        stamp = datetime.now(UTC).isoformat(timespec="seconds")
        self.store.put_document(replace(doc, status="storing", passages=len(passages), ingested_at=stamp))
        stale = [i for i in self.store.passage_ids(doc.id) if i not in new_ids]
        self.store.delete_passages(stale)
        self.store.add_passages(passages, doc, vectors)
        self.store.put_document(replace(doc, status="stored", passages=len(passages), ingested_at=stamp))
        self._checked = 0.0

    def remove(self, doc_id: str) -> DocumentInfo:
        """Delete a document everywhere: its passages, its manifest row, and (through the cache) its terms."""
        doc = self.find_document(doc_id)
        with self.writing():
            self.store.put_document(replace(doc, status="removing"))
            self.store.delete_passages(self.store.passage_ids(doc.id))
            self.store.delete_document(doc.id)
        self._checked = 0.0
        return doc

    def repair(self) -> list[str]:
        """Undo half-finished writes: drop documents not fully stored and passages no stored document owns."""
        manifest = self.store.manifest()
        stored = {i for i, d in manifest.items() if d.status == "stored"}
        repaired = []
        for doc_id, doc in manifest.items():
            if doc.status != "stored":
                self.store.delete_passages(self.store.passage_ids(doc_id))
                self.store.delete_document(doc_id)
                repaired.append(doc.source)
        expected = sum(manifest[i].passages for i in stored)
        if self.store.count() != expected:  # orphans from a crash before the first manifest write
            orphans = [i for ids, _, metas, _ in self.store.iter_passages(with_vectors=False)
                       for i, m in zip(ids, metas, strict=True) if m.get("doc_id") not in stored]
            self.store.delete_passages(orphans)
        self._checked = 0.0
        return repaired


def _open_store(path: Path | None, server: str | None, settings: Settings, model: str, backend: str) -> ChromaStore:
    """Chroma, refusing an index whose vectors another model or another backend made. int8 and fp32 vectors of
    one text differ by about cos 0.997: close enough for one search, but an index whose rows came from two
    backends would rank by which engine embedded a passage, so neither ingest nor search mixes them."""
    try:
        return ChromaStore(path, server, embedding_identity(model, backend), settings.server_timeout_s)
    except ModelMismatchError:
        for other in BACKENDS:
            if other == backend:
                continue
            try:
                probe = ChromaStore(path, server, embedding_identity(model, other), settings.server_timeout_s)
            except ModelMismatchError:
                continue
            probe.close()
            raise BackendMismatchError(
                f"this index's vectors were made by the '{other}' embedding backend, not '{backend}': set "
                f"LATENT_EMBEDDING__BACKEND={other} to use it, or build a new index with --index NEW_DIR and "
                f"ingest the documents again.") from None
        raise


def _filters_json(filters: SearchFilters | None, hints: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if filters is not None:
        for name in ("kinds", "councils", "documents", "year_from", "year_to", "categories"):
            value = getattr(filters, name)
            if value is not None:
                out[name] = list(value) if isinstance(value, tuple) else value
    if hints is not None and not hints.is_empty():
        out["boost"] = hints.to_json()
    return out


def open_index(path: str | os.PathLike[str] | None = None, server: str | None = None,
               settings: Settings | None = None) -> Index:
    """Open (or create) an index folder, or connect to a Chroma server when `server` is a URL."""
    settings = settings or get_settings()
    server = server or settings.server
    folder = Path(path).expanduser().resolve() if path is not None else (
        None if server else settings.index.expanduser().resolve())
    return Index(folder, server, settings)
