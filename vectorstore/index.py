"""The index: one folder (or one Chroma server) holding documents, passages, vectors and the lexical index.

Writes go to Chroma, a batch of documents at a time, bracketed by manifest rows ("storing" then "stored") so that a
crash leaves something `repair` can recognise; reads go through the `SearchCache` (`vectorstore.cache`), segments
derived from Chroma. When the stored manifest changes, the documents no segment holds yet are read from Chroma
document by document (each one's passage count checked against its manifest row, and read again if another
process changed it meanwhile) into one new small segment; small segments are merged later, in the background in a
long-lived process (the page) or at the end of an ingest. An embedded index whose Chroma nobody wrote to since
its cache was checked opens without a Chroma client at all (`store.chroma_generation`), which is most of a cold
`latent search`.
"""

from __future__ import annotations

import contextlib
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

from vectorstore.cache import CacheFolder, CacheState, SearchCache, choose_segments, fingerprint
from vectorstore.encoders import model_spec
from vectorstore.errors import DocumentNotFoundError, IndexUnusableError
from vectorstore.lexical import lexical_tokens
from vectorstore.people import AskedName, names_person
from vectorstore.query import Query
from vectorstore.ranking import Corpus, RankRequest, rank
from vectorstore.records import DocumentInfo, Hit, Passage, SearchFilters
from vectorstore.search import document_codes, lexical_scored, rows_of_documents
from vectorstore.segments import Segment
from vectorstore.settings import Settings, get_settings
from vectorstore.store import ChromaStore, as_stored, chroma_generation

log = logging.getLogger(__name__)

if TYPE_CHECKING:
    import numpy as np

    from vectorstore.embedding import Embedder

RECHECK_SECONDS = 2.0  # how stale a reader may be before it looks at the manifest again
# While another process holds the index folder's write lock (an ingest), a reader that sees Chroma change keeps its
# view for up to this long rather than reading the new documents from Chroma itself: the writer builds their
# segment and saves the cache state before it lets go of the lock, and loading that from disk is cheaper than a
# second Chroma client in the page (its first read loads the collection, hundreds of MB at 570,000 passages).
# A long ingest still shows its documents this often.
WRITER_GRACE_S = 10.0
_LOCKED_HERE: dict[Path, int] = {}  # index folders this process writes or waits to write (never wait for ourselves)
READ_ATTEMPTS = 3  # a document another process keeps rewriting is read again this often, then left to the next check
# A "storing" row older than this is a writer's crash: a Chroma server has no write lock, so `repair` leaves younger
# ones alone (another machine may be storing that document right now).
SERVER_REPAIR_AFTER_S = 600.0


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
    passages, list and remove documents; ingest writes through `store_documents`. Nothing outside vectorstore/
    reads the search cache behind it."""

    def __init__(self, path: Path | None, server: str | None, settings: Settings) -> None:
        self.path = path
        self.server = server
        self.settings = settings
        self.model = settings.embedding.model
        self.spec = model_spec(self.model, settings.embedding.backend)
        self.backend = self.spec.backend
        # What Chroma records as the maker of the vectors (the model, its backend, and which build of it).
        self.embedding_id = self.spec.identity
        self._store: ChromaStore | None = None
        self._folder = CacheFolder(path / "cache") if path is not None else None
        self._memory: dict[str, Segment] = {}  # segments of an index with no folder (a server, no --index)
        self._cache: SearchCache | None = None
        self._docs: dict[str, DocumentInfo] = {}
        self._checked = 0.0
        self._refreshes = 0
        self._merging = False
        self._waiting_since: float | None = None
        # While a thread of this process holds the folder's write lock through `writing()`, no one else can change
        # the embedded Chroma: `_known` is its manifest as that thread read it (`manifest_for_writing`) and then
        # wrote it, so the cache refresh that writer makes need not read it again (2 s at 11,000 documents).
        self._writer: int | None = None
        self._known: dict[str, DocumentInfo] | None = None
        self._closed = False
        self._lock = threading.RLock()
        state = self._fresh_state()
        if state is None or state.identity != self.embedding_id:
            self._open_store()  # checks the model that built the index now, as opening always did

    @property
    def store(self) -> ChromaStore:
        """The Chroma collections, opened at first use (a search on an unchanged embedded index never needs them)."""
        with self._lock:
            self._check_open()
            if self._store is None:
                self._open_store()
            assert self._store is not None
            return self._store

    def _open_store(self) -> None:
        self._store = ChromaStore(self.path, self.server, self.spec, self.settings.server_timeout_s)

    def close(self) -> None:
        """Release the Chroma client and the search cache; the index cannot be used afterwards. Long-lived
        processes (tests, benchmarks) that open many indexes call it so that files and sockets do not pile up."""
        with self._lock:
            self._closed = True
            if self._store is not None:
                self._store.close()
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
        return sorted(self._stored_manifest().values(), key=lambda d: (d.title.lower(), d.id))

    def _stored_manifest(self) -> dict[str, DocumentInfo]:
        """The stored documents now: the search cache's when it is fresh, else the cache folder's state when Chroma
        was not written since, else Chroma's manifest."""
        self._check_open()
        with self._lock:
            if self._cache is not None and time.monotonic() - self._checked < RECHECK_SECONDS:
                return dict(self._docs)
        state = self._fresh_state()
        if state is not None and state.identity == self.embedding_id:
            return dict(state.manifest)
        return {i: d for i, d in self.store.manifest().items() if d.status == "stored"}

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
        rows = cache.live_rows() if doc_id is None else rows_of_documents(cache, {doc_id}).nonzero()[0]
        return sorted((cache.passages[int(r)] for r in rows), key=lambda p: (p.doc_id, p.page, p.char_start))

    def passages_of(self, doc_ids: Iterable[str]) -> dict[str, list[Passage]]:
        """Each document's passages in reading order (as `passages(doc_id)`), for several documents at once."""
        return {doc_id: self.passages(doc_id) for doc_id in dict.fromkeys(doc_ids)}

    def passage_count(self) -> int:
        """Passages a search can find (those of fully stored documents)."""
        return self.cache().live_count

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
            out[name] = {cache.doc_ids[cache.doc_code[r]] for r in cache.rows_naming(name)
                         if pattern.search(cache.text(r))}
        return out

    def documents_naming_person(self, name: AskedName) -> set[str]:
        """Documents that name a person as practitioners name them: by first and last name where the document adds
        middle names, in any case, with titles, bracketed other names and hyphenated surnames (`vectorstore.people`);
        the document's title and header count too. The surname's rows are found through the lexical index first,
        so only the passages holding it are read."""
        corpus = self._corpus()
        out = {d.id for d in corpus.docs.values() if names_person(f"{d.title}\n{d.about or ''}", name)}
        surname = max(re.findall(r"[a-z]+", name.last), key=len, default="")
        cache = corpus.cache
        if len(surname) >= 3:
            rows = [row for row, _ in lexical_scored(cache, surname, cache.n_rows, None, expand=False)]
        else:  # "Mr X": too short for the lexical index, so every passage is read (a few ms at 57k)
            rows = [int(r) for r in cache.live_rows()]
        by_doc: dict[str, list[str]] = {}
        for row in rows:
            by_doc.setdefault(cache.doc_ids[cache.doc_code[row]], []).append(cache.text(row))
        out |= {d for d, texts in by_doc.items() if d in corpus.docs and names_person("\n".join(texts), name)}
        return out

    def unknown_words(self, words: Iterable[str]) -> set[str]:
        """The words no stored passage contains (after stemming): a name a question gives that the documents never
        use, as against ordinary words."""
        cache = self._corpus().cache
        return {w for w in words if not any(t in cache.lexical for t in lexical_tokens([w])[0])}

    def text_similarity(self, texts: list[str], passage_ids: list[str]) -> list[list[float]]:
        """Cosine between each text (embedded now) and each stored passage: [text][passage], 0.0 for a passage
        that is not stored."""
        if not texts:
            return []
        cache = self.cache()
        vectors = self.embedder.encode(texts)
        rows = [cache.row_of.get(i) for i in passage_ids]
        found = [r for r in rows if r is not None]
        stored = dict(zip(found, cache.vectors[found], strict=True)) if found else {}
        return [[float(stored[row] @ v) if row is not None else 0.0 for row in rows] for v in vectors]

    def cache(self) -> SearchCache:
        """The search cache, brought up to date when another write (here or in another process) changed the
        manifest. Only vectorstore/ reads it (tests/test_layers.py): everyone else asks `Index`'s other methods."""
        return self._corpus().cache

    def warm_up(self) -> None:
        """Build (or load) the search cache now, not at the first search."""
        self.cache()

    def _check_open(self) -> None:
        if self._closed:
            raise IndexUnusableError("this index was closed (or could not be reopened)")

    def _corpus(self) -> Corpus:
        self._check_open()
        with self._lock:
            now = time.monotonic()
            if self._cache is None or now - self._checked >= RECHECK_SECONDS:
                self._refresh(now)
            assert self._cache is not None
            store = self.store if self.settings.search.dense_backend == "chroma" else self._store
            return Corpus(self._cache, self._docs, self.settings.search, store, self.embedder.encode_query,
                          self.embedder.encode, self.embedding_id)

    # -- keeping the cache in step with Chroma ----------------------------------------------------------------------
    def _fresh_state(self) -> CacheState | None:
        """The cache folder's state when nothing was written to the embedded Chroma since it was checked."""
        if self._folder is None or self.server:
            return None
        generation = chroma_generation(self.path)  # type: ignore[arg-type]
        state = self._folder.read_state()
        return state if state is not None and generation is not None and state.generation == generation else None

    def _refresh(self, now: float) -> None:
        self._checked = now
        self._refreshes += 1
        generation = chroma_generation(self.path) if self.path is not None and not self.server else None
        if self._cache is not None and generation is not None and self._cache.generation == generation:
            return
        state = self._folder.read_state() if self._folder is not None else None
        fresh = state is not None and generation is not None and state.generation == generation
        if not fresh and self._cache is not None and self._wait_for_writer(now):
            return
        if state is not None and generation is not None and state.generation == generation and \
                state.identity == self.embedding_id and (self._cache is None or
                                                         set(state.segments) != self._segment_names()):
            try:
                segments = [self._folder.load(name) for name in state.segments]  # type: ignore[union-attr]
            except (OSError, ValueError, KeyError):  # a segment deleted or half-written: ask Chroma
                pass
            else:
                self._install(SearchCache(fingerprint(state.manifest, self.embedding_id), segments,
                                          dict(state.manifest), self.settings.search, generation))
                return
        known = self._known if self._writer == threading.get_ident() else None
        rows = known if known is not None else self.store.manifest()
        manifest = {i: d for i, d in rows.items() if d.status == "stored"}
        key = fingerprint(manifest, self.embedding_id)
        if self._cache is not None and self._cache.key == key:
            self._cache.generation = generation
            self._save_state(self._cache)
            return
        segments = self._cover(manifest)
        view = SearchCache(fingerprint(manifest, self.embedding_id), segments, manifest, self.settings.search,
                           generation)
        self._install(view)
        self._save_state(view)

    def _wait_for_writer(self, now: float) -> bool:
        """Whether to keep the current view a little longer: another process is writing this index folder (see
        WRITER_GRACE_S)."""
        if self.path is None or self.server or self.path in _LOCKED_HERE or not _write_locked(self.path):
            self._waiting_since = None
            return False
        if self._waiting_since is None:
            self._waiting_since = now
        return now - self._waiting_since < WRITER_GRACE_S

    def _segment_names(self) -> set[str]:
        return {s.name for s in self._cache.segments} if self._cache is not None else set()

    def _install(self, view: SearchCache) -> None:
        self._cache, self._docs = view, view.docs
        if self._refreshes > 1 and view.plan_merge() and not self._merging:
            # a long-lived process (the page) merges in the background; a one-shot command leaves it to the next
            # ingest, which merges when it ends (`compact`)
            self._merging = True
            threading.Thread(target=self._merge_quietly, args=(view,), name="latent-merge", daemon=True).start()

    def _save_state(self, view: SearchCache) -> None:
        if self._folder is None:
            return
        names = {s.name for s in view.segments}
        try:
            self._folder.write_state(CacheState(self.embedding_id, view.generation, view.docs,
                                                tuple(s.name for s in view.segments)))
            self._folder.collect_garbage(names)
        except OSError as e:  # the saved state only speeds up the next start; a search must not fail
            log.warning("could not save the search cache state in %s: %s", self._folder.folder, e)

    def _cover(self, manifest: dict[str, DocumentInfo]) -> list[Segment]:
        """Segments holding every stored document of `manifest` (which loses any document that vanished while it
        was read): those on disk or in memory, and one new segment read from Chroma for the rest."""
        available = {name: list(seg.docs) for name, seg in self._memory.items()}
        if self._folder is not None:
            available.update(self._folder.segment_docs())
        names, missing = choose_segments(available, manifest)
        segments = []
        for name in names:
            try:
                segments.append(self._memory.get(name) or self._folder.load(name))  # type: ignore[union-attr]
            except (OSError, ValueError, KeyError):
                held = {d.id for d in available[name]}
                missing |= {d for d in held if d in manifest} - {d.id for s in segments for d in s.docs}
        if missing:
            segment = self._read_segment(manifest, missing, segments)
            if segment is not None:
                segments.append(segment)
                if self._folder is not None:
                    try:
                        self._folder.save(segment)
                    except OSError as e:  # the saved copy only speeds up the next start
                        log.warning("could not save a search cache segment in %s: %s", self._folder.root, e)
                        self._memory[segment.name] = segment
                else:
                    self._memory[segment.name] = segment
        return sorted(segments, key=lambda s: -s.n)

    def _read_segment(self, manifest: dict[str, DocumentInfo], missing: set[str], others: list[Segment],
                      ) -> Segment | None:
        """A new segment of the `missing` documents, read from Chroma document by document; a document another
        process replaced meanwhile is read again, one it removed is dropped from `manifest`."""
        import numpy as np

        todo = {d: manifest[d] for d in manifest if d in missing}
        passages: list[Passage] = []
        vectors = []
        for attempt in range(READ_ATTEMPTS):
            got, got_vectors, changed = self.store.read_documents(todo)
            passages += got
            if len(got_vectors):
                vectors.append(got_vectors)
            if not changed:
                break
            rows = self.store.manifest_rows(sorted(changed))
            todo = {d: r for d, r in rows.items() if r.status == "stored"}
            for doc_id in changed:
                if doc_id in todo and attempt + 1 < READ_ATTEMPTS:
                    manifest[doc_id] = todo[doc_id]
                else:  # removed, half-stored, or still changing: the next check picks it up
                    manifest.pop(doc_id, None)
        if not passages:
            return None
        docs = {p.doc_id: manifest[p.doc_id] for p in passages}
        return Segment.build(passages, np.concatenate(vectors), docs, others, len(manifest))

    def compact(self) -> bool:
        """Merge the cache's segments now when they call for it (many small ones, or many rows of replaced or
        removed documents); True when it merged. `ingest_paths` calls it when it ends."""
        view = self.cache()
        if not view.plan_merge():
            return False
        self._merge(view)
        return True

    def _merge_quietly(self, view: SearchCache) -> None:
        try:
            self._merge(view)
        except Exception as exc:  # a failed merge leaves the segments as they were; searches go on
            log.warning("merging the search cache's segments failed: %s", exc)
        finally:
            self._merging = False

    def _merge(self, view: SearchCache) -> None:
        plan = view.plan_merge()
        if not plan:
            return
        merged = Segment.merge([(seg, view.live_rows_of(seg)) for seg in plan], len(view.docs))
        if self._folder is not None:
            self._folder.save(merged)
        else:
            self._memory[merged.name] = merged
            for seg in plan:
                self._memory.pop(seg.name, None)
        with self._lock:
            if self._cache is not view:  # the index changed meanwhile: the next check chooses the merged one
                return
            segments = sorted([merged, *(s for s in view.segments if s not in plan)], key=lambda s: -s.n)
            new = SearchCache(view.key, segments, view.docs, self.settings.search, view.generation)
            self._cache, self._docs = new, new.docs
            self._save_state(new)

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
        """One writer at a time per index folder (a Chroma server serialises each request itself; writers on
        several machines store different documents, and `repair` leaves their fresh "storing" rows alone)."""
        if self.path is None or self.server:
            yield
            return
        self.path.mkdir(parents=True, exist_ok=True)
        # marked from before the lock is taken until after it is released: no reader in this process ever mistakes
        # this writer for another process's
        _LOCKED_HERE[self.path] = _LOCKED_HERE.get(self.path, 0) + 1
        try:
            with open(self.path / ".write.lock", "w") as fh:
                fcntl.flock(fh, fcntl.LOCK_EX)
                outermost = self._writer is None
                if outermost:
                    self._writer = threading.get_ident()
                try:
                    yield
                finally:
                    if outermost:
                        self._writer, self._known = None, None
                    fcntl.flock(fh, fcntl.LOCK_UN)
        finally:
            _LOCKED_HERE[self.path] -= 1
            if not _LOCKED_HERE[self.path]:
                del _LOCKED_HERE[self.path]

    def manifest_for_writing(self) -> dict[str, DocumentInfo]:
        """Chroma's manifest, every row whatever its status, read by the writer inside `writing()`. Until the lock
        goes, this Index follows its own writes to it, so the cache refresh in the writer's thread (`warm_up`) need
        not read it again. On a Chroma server (no lock: other machines write too) it is only read."""
        manifest = self.store.manifest()
        if self._writer == threading.get_ident():
            self._known = dict(manifest)
        return manifest

    def prepare_to_store(self) -> None:
        """Before a run of writes: start Chroma's load of the passages collection in the background (see
        `ChromaStore.load_passages`); a failure there is left for the writes themselves to report."""
        store = self.store

        def load() -> None:
            with contextlib.suppress(Exception):
                store.load_passages()

        threading.Thread(target=load, name="latent-chroma-load", daemon=True).start()

    def store_document(self, doc: DocumentInfo, passages: list[Passage], vectors: np.ndarray) -> None:
        """Replace a document's passages as one unit: a crash part-way leaves a 'storing' row for `repair`."""
        self.store_documents([(doc, passages, vectors)])

    def store_documents(self, batch: list[tuple[DocumentInfo, list[Passage], np.ndarray]]) -> None:
        """Replace several documents' passages, each as one unit, in five requests for the whole batch instead of
        five per document (about 110 ms each for a small file): every document's row says "storing" before any of
        its passages is written and "stored" only after all of them are, so a crash at any point leaves each
        document either as it was stored before, or half-stored and invisible until `repair`.

        A writer that read the manifest under the write lock (`manifest_for_writing`) knows which documents have
        no row: a row is written before a document's first passage and deleted after its last, so those have no
        passages to replace and are not looked up (the lookup scans every passage's metadata: 3 s at 559,000)."""
        import numpy as np

        if not batch:
            return
        stamp = datetime.now(UTC).isoformat(timespec="seconds")
        storing = [replace(doc, status="storing", passages=len(ps), ingested_at=stamp) for doc, ps, _ in batch]
        stored = [replace(d, status="stored") for d in storing]
        try:
            self.store.put_documents(storing)
            known = self._known
            lookup = [doc.id for doc, _, _ in batch if known is None or doc.id in known]
            existing = self.store.passage_ids_of(lookup) if lookup else {}
            new_ids = {p.id for _, ps, _ in batch for p in ps}
            self.store.delete_passages([i for ids in existing.values() for i in ids if i not in new_ids])
            passages = [p for _, ps, _ in batch for p in ps]
            if passages:
                self.store.add_passages(passages, {d.id: d for d, _, _ in batch},
                                        np.concatenate([np.asarray(v) for _, ps, v in batch if ps]))
            self.store.put_documents(stored)
        except BaseException:
            self._known = None  # which rows were written is not known now: the next refresh reads them
            raise
        if self._known is not None:
            self._known.update((d.id, as_stored(d)) for d in stored)
        self._checked = 0.0

    def remove(self, doc_id: str) -> DocumentInfo:
        """Delete a document everywhere: its passages, its manifest row, and (through the cache) its terms."""
        doc = self.find_document(doc_id)
        with self.writing():
            self._known = None  # rows this Index does not follow: the next refresh reads them
            self.store.put_document(replace(doc, status="removing"))
            self.store.delete_passages(self.store.passage_ids(doc.id))
            self.store.delete_document(doc.id)
        self._checked = 0.0
        return doc

    def repair(self, manifest: dict[str, DocumentInfo] | None = None) -> list[str]:
        """Undo half-finished writes: drop documents not fully stored and passages no stored document owns. On a
        Chroma server other machines may be storing right now, so only rows older than SERVER_REPAIR_AFTER_S are
        repaired there, and no orphan scan is made (orphans only come from a crash inside a batch delete).
        `manifest`: Chroma's manifest as the caller just read it (under the write lock), to save a second read."""
        manifest = self.store.manifest() if manifest is None else manifest
        stored = {i for i, d in manifest.items() if d.status == "stored"}
        repaired = []
        for doc_id, doc in manifest.items():
            if doc.status != "stored" and (not self.server or _older_than(doc.ingested_at, SERVER_REPAIR_AFTER_S)):
                self._known = None  # rows this Index does not follow: the caller reads the manifest again
                self.store.delete_passages(self.store.passage_ids(doc_id))
                self.store.delete_document(doc_id)
                repaired.append(doc.source)
        expected = sum(manifest[i].passages for i in stored)
        # Orphans only come from a crash inside a batch delete, and such a crash leaves its document's row short
        # of "stored" until the repair that finishes it: so the count (3 s at 559,000 passages, most of adding one
        # document) is needed only when some row was not stored.
        if not self.server and len(stored) < len(manifest) and self.store.count() != expected:
            # orphans from a crash inside a batch delete; paging is consistent here: we hold the folder's write lock
            orphans = [i for ids, _, metas, _ in self.store.iter_passages(with_vectors=False)
                       for i, m in zip(ids, metas, strict=True) if m.get("doc_id") not in manifest]
            self.store.delete_passages(orphans)
        self._checked = 0.0
        return repaired


def _write_locked(path: Path) -> bool:
    """Whether another process holds the index folder's write lock now."""
    try:
        with open(path / ".write.lock", "a") as fh:
            try:
                fcntl.flock(fh, fcntl.LOCK_SH | fcntl.LOCK_NB)
            except BlockingIOError:
                return True
            fcntl.flock(fh, fcntl.LOCK_UN)
            return False
    except OSError:
        return False


def _older_than(stamp: str | None, seconds: float) -> bool:
    if not stamp:
        return True
    try:
        return (datetime.now(UTC) - datetime.fromisoformat(stamp)).total_seconds() > seconds
    except ValueError:
        return True


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
