"""Chroma, the store of record: passages (vectors, text, metadata) and the manifest of documents.

Embedded (`PersistentClient`) by default, or a Chroma server (`HttpClient`) when a URL is given; the rest of the
code cannot tell the two apart. We always pass our own vectors: Chroma's default embedding function downloads a
model at first use, so every collection is opened with `embedding_function=None`.

Two things chromadb 1.5 does not do for us: bound a request to a server (its HTTP session has no timeout), and
notice another process's writes to an embedded folder (the client keeps its own copy of the vectors, so after
`latent ingest` in another process, reading vectors fails with "Error finding id"). `connect` adds the timeout;
`ChromaStore._call` reopens a client that fell behind and makes the call again.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from vectorstore.columns import from_metadata, to_metadata
from vectorstore.councils import canonical_council
from vectorstore.errors import BackendMismatchError, IndexUnusableError, ModelMismatchError, StoreUnavailableError
from vectorstore.records import DocumentInfo, Passage
from vectorstore.sections import passage_role

if TYPE_CHECKING:
    import numpy as np

    from vectorstore.encoders import ModelSpec

PASSAGES = "latent_passages"
DOCUMENTS = "latent_documents"
SCHEMA = 1
_BATCH = 500  # Chroma caps one add at a few thousand records; 500 keeps memory flat
_DOCS_PER_READ = 50  # documents per consistent read: ~3,500 Ofsted passages (5 MB of vectors) a request
DEFAULT_TIMEOUT_S = 60.0  # a Chroma server request; see Settings.server_timeout_s
_CONNECT_TIMEOUT_S = 10.0  # opening a TCP connection on a LAN takes milliseconds; 10 s means it is not there


def _timeout(timeout_s: float) -> Any:
    import httpx

    return httpx.Timeout(timeout_s, connect=min(timeout_s, _CONNECT_TIMEOUT_S))


def _probe(base_url: str, server: str, timeout_s: float) -> None:
    """One bounded heartbeat before chromadb's client is built: its constructor already sends requests, with no
    timeout (chromadb 1.5 hard-codes `httpx.Client(timeout=None)` and offers no setting), so a server that
    accepts connections and never replies would hang it for good. Any HTTP reply will do: chromadb itself then
    judges the API version, authentication and so on."""
    import httpx

    try:
        httpx.get(f"{base_url}/api/v2/heartbeat", timeout=_timeout(timeout_s))
    except httpx.TimeoutException as exc:
        raise StoreUnavailableError(f"cannot reach the Chroma server at {server}: no answer within "
                                    f"{timeout_s:g} s ({type(exc).__name__})") from exc
    except httpx.TransportError as exc:
        raise StoreUnavailableError(f"cannot reach the Chroma server at {server}: {exc}") from exc


def _bound_requests(client: Any, timeout_s: float) -> None:
    """Give the client's HTTP session a timeout, so a server that hangs mid-session raises (ReadTimeout, turned
    into StoreUnavailableError by `ChromaStore._call`) instead of blocking a search or an ingest forever. The
    session belongs to chromadb's shared `System` for this host and port, so clients of one server share it."""
    session = getattr(getattr(client, "_server", None), "_session", None)
    if session is not None:
        session.timeout = _timeout(timeout_s)


def _chroma_settings() -> Any:
    from chromadb.config import Settings

    return Settings(anonymized_telemetry=False, allow_reset=False)


def connect(path: Path | None, server: str | None, timeout_s: float = DEFAULT_TIMEOUT_S) -> Any:
    """A Chroma client: a server when `server` is a URL (each request bounded by `timeout_s`), else the folder
    `path/chroma`."""
    import chromadb

    if server:
        from urllib.parse import urlparse

        url = urlparse(server if "://" in server else f"http://{server}")
        host, port, ssl = url.hostname or "127.0.0.1", url.port or 8000, url.scheme == "https"
        _probe(f"{'https' if ssl else 'http'}://{host}:{port}", server, timeout_s)
        try:
            client = chromadb.HttpClient(host=host, port=port, ssl=ssl, settings=_chroma_settings())
        except Exception as exc:
            raise StoreUnavailableError(f"cannot reach the Chroma server at {server}: {exc}") from exc
        _bound_requests(client, timeout_s)
        return client
    assert path is not None
    (path / "chroma").mkdir(parents=True, exist_ok=True)
    return chromadb.PersistentClient(path=str(path / "chroma"), settings=_chroma_settings())


def _doc_ids_where(doc_ids: list[str]) -> dict[str, Any]:
    return {"doc_id": doc_ids[0]} if len(doc_ids) == 1 else {"doc_id": {"$in": list(doc_ids)}}


def mismatch_error(recorded: dict[str, Any], ours: ModelSpec) -> ModelMismatchError:
    """The one-line refusal for an index whose vectors another model or backend made: what made them, the setting
    that would use it, and how to rebuild. Indexes from before backends were recorded name only the model: a bare
    name is torch's, '… (onnx-int8 backend)' the first ONNX backend's."""
    from vectorstore.encoders import ALIASES

    built = str(recorded.get("embedding_model"))
    backend = recorded.get("embedding_backend") or ("onnx-int8" if built.endswith("(onnx-int8 backend)") else "torch")
    name = recorded.get("embedding_name") or built.removesuffix(" (onnx-int8 backend)")
    rebuild = ("or build a new index with the current model: --index NEW_DIR (or LATENT_INDEX) and `latent ingest` "
               "the documents again")
    if ALIASES.get(backend, backend) == ours.backend and name == ours.name:  # another build of the same model
        return ModelMismatchError(
            f"this index's vectors were made by another build of '{name}' ({built}), not this one "
            f"({ours.identity}): build a new index: --index NEW_DIR (or LATENT_INDEX) and `latent ingest` the "
            f"documents again (or search it with the Latent version that built it).")
    if backend != ours.backend and name == ours.name:
        setting = "torch" if backend == "torch" else "onnx"
        return BackendMismatchError(
            f"this index's vectors were made by the '{backend}' embedding backend ({built}), not '{ours.backend}' "
            f"({ours.identity}): set LATENT_EMBEDDING__BACKEND={setting} to use it, {rebuild}.")
    model = recorded.get("embedding_setting") or name
    backend_hint = "" if backend == ours.backend else f" and LATENT_EMBEDDING__BACKEND={backend}"
    return ModelMismatchError(
        f"this index was built with the embedding model '{name}' ({built}), not '{ours.name}' ({ours.identity}): "
        f"use --model {model} (or LATENT_EMBEDDING__MODEL={model}){backend_hint} to search it, {rebuild}.")


def chroma_generation(path: Path) -> str | None:
    """A token that changes whenever anything is written to the embedded Chroma folder `path/chroma`, read without
    importing chromadb (2-3 s of a cold `latent search`): the newest entry of Chroma's write log and the
    collections' ids, from its SQLite file opened read-only. Opening a client rewrites the file (its mtime is no
    use), but only writes add to the log. None when it cannot be read (no folder yet, a writer holding the file,
    another Chroma schema): then the caller asks Chroma itself."""
    import sqlite3

    db = path / "chroma" / "chroma.sqlite3"
    if not db.is_file():
        return None
    try:
        with contextlib.closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=0.2)) as conn:
            (last,) = conn.execute("SELECT MAX(seq_id) FROM embeddings_queue").fetchone()
            collections = [r[0] for r in conn.execute("SELECT id FROM collections ORDER BY id")]
    except sqlite3.Error:
        return None
    return f"{last}:{','.join(collections)}"


def passage_metadata(p: Passage, doc: DocumentInfo) -> dict[str, Any]:
    """Flat metadata for Chroma: every field of the passage but its id and text (scalars as they are, the tags as
    JSON), the document fields a `where` filter needs, and one flag per tag category. None values are left out
    because Chroma rejects them."""
    year = int(doc.published[:4]) if doc.published else None
    meta: dict[str, Any] = {"title": doc.title, "source": doc.source, "kind": doc.kind, "council": doc.council,
                            "published": doc.published, "year": year, "child": doc.child}
    meta.update(to_metadata(p, skip=("id", "text")))
    for tag in p.tags:  # one boolean per category, so `where` can filter on tags
        meta[f"tag_{tag.category}"] = True
    return {k: v for k, v in meta.items() if v is not None}


def passage_from_metadata(pid: str, text: str, meta: dict[str, Any]) -> Passage:
    """A passage from Chroma; a field an older version did not write reads back as its default, but the role: an
    index stored before passages had roles reads it from the passage as ingest now does."""
    passage: Passage = from_metadata(Passage, meta, id=pid, text=text)
    role = meta.get("role") or passage_role(text, passage.section, passage.page, passage.paragraph,
                                            meta.get("kind", "other"))
    if role != passage.role or (role in ("cover", "back_matter") and passage.paragraph is not None):
        passage = replace(passage, role=role, paragraph=None if role in ("cover", "back_matter") else passage.paragraph)
    return passage


def _doc_metadata(doc: DocumentInfo) -> dict[str, Any]:
    return to_metadata(doc, skip=("id",))


def _doc_from_metadata(doc_id: str, meta: dict[str, Any]) -> DocumentInfo:
    doc: DocumentInfo = from_metadata(DocumentInfo, meta, id=doc_id)
    if doc.council:  # an index built before councils had one name each shows them as they are now
        doc = replace(doc, council=canonical_council(doc.council))
    return doc


def as_stored(doc: DocumentInfo) -> DocumentInfo:
    """A manifest row as `ChromaStore.manifest` will read it back after `put_documents` wrote it."""
    return _doc_from_metadata(doc.id, _doc_metadata(doc))


class ChromaStore:
    """The two Chroma collections and the few operations Latent needs on them."""

    def __init__(self, path: Path | None, server: str | None, spec: ModelSpec,
                 timeout_s: float = DEFAULT_TIMEOUT_S) -> None:
        self.path = path
        self.server = server
        self.timeout_s = timeout_s
        self.spec = spec
        self.model = spec.identity
        self._gate = _Gate()
        self._opened = 0  # how many times the client was (re)opened: several threads that fail at once reopen once
        self._open()

    def _open(self) -> None:
        self._client = connect(self.path, self.server, self.timeout_s)
        self._opened += 1
        try:
            # The model's name and backend beside its identity: only read to word a refusal (`mismatch_error`).
            self.passages = self._client.get_or_create_collection(
                PASSAGES, embedding_function=None,
                metadata={"hnsw:space": "cosine", "embedding_model": self.model, "schema": SCHEMA,
                          "embedding_backend": self.spec.backend, "embedding_name": self.spec.name,
                          "embedding_setting": self.spec.setting})
            # The manifest holds no vectors of meaning; Chroma requires one, so each row gets a 1-d zero.
            self.documents = self._client.get_or_create_collection(DOCUMENTS, embedding_function=None)
        except Exception as exc:
            if self.server:
                raise StoreUnavailableError(f"the Chroma server at {self.server} did not answer: {exc}") from exc
            raise
        recorded = dict(self.passages.metadata or {})
        if recorded.get("embedding_model") and recorded["embedding_model"] != self.model:
            self._release()  # nobody will get this store to close it
            raise mismatch_error(recorded, self.spec)

    # -- manifest --------------------------------------------------------------------------------------------
    def manifest(self) -> dict[str, DocumentInfo]:
        got = self._call("documents", "get", include=["metadatas"])
        return {i: _doc_from_metadata(i, m or {}) for i, m in zip(got["ids"], got["metadatas"], strict=True)}

    def load_passages(self) -> None:
        """Have Chroma load the passages collection now: its first request pays for that, whatever it asks (1.7 s
        at 559,000 passages), and a writer can spend the time reading and encoding its first files instead."""
        self._call("passages", "get", ids=["-"], include=[])

    def manifest_rows(self, doc_ids: list[str]) -> dict[str, DocumentInfo]:
        """The manifest rows of these documents (those that have one)."""
        got = self._call("documents", "get", ids=list(doc_ids), include=["metadatas"])
        return {i: _doc_from_metadata(i, m or {}) for i, m in zip(got["ids"], got["metadatas"], strict=True)}

    def put_document(self, doc: DocumentInfo) -> None:
        self.put_documents([doc])

    def put_documents(self, docs: list[DocumentInfo]) -> None:
        """Several manifest rows in one request (an ingest of many small files marks a batch at once)."""
        for start in range(0, len(docs), _BATCH):
            batch = docs[start:start + _BATCH]
            self._call("documents", "upsert", ids=[d.id for d in batch], embeddings=[[0.0]] * len(batch),
                       metadatas=[_doc_metadata(d) for d in batch], documents=[d.title for d in batch])

    def delete_document(self, doc_id: str) -> None:
        self._call("documents", "delete", ids=[doc_id])

    # -- passages --------------------------------------------------------------------------------------------
    def add_passages(self, passages: list[Passage], doc: DocumentInfo | dict[str, DocumentInfo],
                     vectors: np.ndarray) -> None:
        """Upsert passages with their vectors; `doc` is their document, or the documents by id."""
        docs = doc if isinstance(doc, dict) else {doc.id: doc}
        for start in range(0, len(passages), _BATCH):
            batch = passages[start:start + _BATCH]
            self._call("passages", "upsert", ids=[p.id for p in batch],
                       embeddings=vectors[start:start + len(batch)],
                       documents=[p.text for p in batch],
                       metadatas=[passage_metadata(p, docs[p.doc_id]) for p in batch])

    def passage_ids(self, doc_id: str | None = None) -> list[str]:
        where = {"doc_id": doc_id} if doc_id else None
        return list(self._call("passages", "get", where=where, include=[])["ids"])

    def passage_ids_of(self, doc_ids: list[str]) -> dict[str, list[str]]:
        """The stored passage ids of each document, in requests of a few hundred documents."""
        out: dict[str, list[str]] = {d: [] for d in doc_ids}
        for start in range(0, len(doc_ids), _DOCS_PER_READ):
            batch = doc_ids[start:start + _DOCS_PER_READ]
            got = self._call("passages", "get", where=_doc_ids_where(batch), include=["metadatas"])
            for pid, meta in zip(got["ids"], got["metadatas"], strict=True):
                out.setdefault(meta["doc_id"], []).append(pid)
        return out

    def delete_passages(self, ids: list[str]) -> None:
        for start in range(0, len(ids), _BATCH):
            self._call("passages", "delete", ids=ids[start:start + _BATCH])

    def count(self) -> int:
        return int(self._call("passages", "count"))

    def iter_passages(self, with_vectors: bool = True, page: int = 2000) -> Iterator[tuple[
            list[str], list[str], list[dict[str, Any]], Any]]:
        """Every passage, a page at a time: (ids, texts, metadatas, vectors or None). Paging by offset is only
        consistent while nobody writes: the search cache reads by document instead (`read_documents`); this is for
        `repair` under the index folder's write lock, and for tests."""
        include = ["documents", "metadatas"] + (["embeddings"] if with_vectors else [])
        offset = 0
        while True:
            got = self._call("passages", "get", include=include, limit=page, offset=offset)
            if not got["ids"]:
                return
            yield got["ids"], got["documents"], got["metadatas"], got.get("embeddings") if with_vectors else None
            offset += len(got["ids"])

    def read_documents(self, docs: dict[str, DocumentInfo]) -> tuple[list[Passage], np.ndarray, set[str]]:
        """The passages and vectors of these stored documents, read document by document, with each document's
        passage count checked against its manifest row, and its row read again afterwards: a document another
        process replaced or removed meanwhile is left out (returned in the set) for the caller to read again."""
        import numpy as np

        passages: list[Passage] = []
        chunks: list[np.ndarray] = []
        changed: set[str] = set()
        ids = list(docs)
        for start in range(0, len(ids), _DOCS_PER_READ):
            batch = ids[start:start + _DOCS_PER_READ]
            got = self._call("passages", "get", where=_doc_ids_where(batch),
                             include=["documents", "metadatas", "embeddings"])
            rows: dict[str, list[int]] = {d: [] for d in batch}
            for j, meta in enumerate(got["metadatas"]):
                rows.setdefault(meta["doc_id"], []).append(j)
            after = self.manifest_rows(batch)
            for doc_id in batch:
                if after.get(doc_id) != docs[doc_id] or len(rows[doc_id]) != docs[doc_id].passages:
                    changed.add(doc_id)
                    continue
                keep = rows[doc_id]
                passages.extend(passage_from_metadata(got["ids"][j], got["documents"][j], got["metadatas"][j])
                                for j in keep)
                chunks.append(np.asarray(got["embeddings"], dtype=np.float32)[keep] if keep else
                              np.zeros((0, 0), np.float32))
        chunks = [c for c in chunks if c.size]
        vectors = np.concatenate(chunks) if chunks else np.zeros((0, 0), dtype=np.float32)
        return passages, vectors, changed

    def get_passages(self, ids: list[str]) -> list[Passage]:
        got = self._call("passages", "get", ids=ids, include=["documents", "metadatas"])
        by_id = {i: passage_from_metadata(i, t, m) for i, t, m in
                 zip(got["ids"], got["documents"], got["metadatas"], strict=True)}
        return [by_id[i] for i in ids if i in by_id]

    def query(self, vector: np.ndarray, n: int, where: dict[str, Any] | None) -> list[tuple[str, float]]:
        """Chroma's own nearest neighbours (HNSW): (id, cosine similarity)."""
        got = self._call("passages", "query", query_embeddings=[vector], n_results=n, where=where,
                         include=["distances"])
        return [(i, 1.0 - d) for i, d in zip(got["ids"][0], got["distances"][0], strict=True)]

    def close(self) -> None:
        """Release the client: embedded Chroma stops (files closed) once no other client in this process uses
        the folder; a server client's connections are closed once no other client of that server is open."""
        with self._gate.alone():
            self._release()

    def _release(self) -> None:
        client, self._client = self._client, None
        if client is None:
            return
        from chromadb.api.shared_system_client import SharedSystemClient

        session = getattr(getattr(client, "_server", None), "_session", None)
        client.close()
        if session is not None and getattr(client, "_identifier", None) not in \
                SharedSystemClient._identifier_to_system:  # the shared System was stopped: nobody else uses it
            session.close()

    def _call(self, collection: str, method: str, *args: Any, **kwargs: Any) -> Any:
        """`self.<collection>.<method>(...)`, with Chroma's failures made ours (a server that does not answer),
        and an embedded client that another process's writes left behind reopened, and the call made again."""
        for attempt in (1, 2):
            with self._gate.shared():
                if self._client is None:
                    raise IndexUnusableError("this index was closed (or could not be reopened)")
                opened = self._opened
                try:
                    return getattr(getattr(self, collection), method)(*args, **kwargs)
                except Exception as exc:
                    if self.server and _is_connection_error(exc):
                        waited = f" within {self.timeout_s:g} s" if _is_timeout(exc) else ""
                        raise StoreUnavailableError(
                            f"the Chroma server at {self.server} did not answer{waited} ({type(exc).__name__}); "
                            "check that it is running, then try again") from exc
                    if self.server or attempt == 2 or not _is_behind_other_writers(exc):
                        raise
            self._reopen(opened)
        raise AssertionError("unreachable")

    def _reopen(self, opened: int) -> None:
        """A fresh embedded client, reading the folder as it is now. Chroma's embedded client keeps its own copy
        of the vector segment in memory and never reloads it, so once another process (`latent ingest` beside
        the page) has added passages, `get(include=["embeddings"])` here fails with "Error finding id" for
        good. Reopening waits for calls in flight (closing stops the client under them) and holds new ones.
        Two clients of one folder in one process share chromadb's `System`, which closing one leaves running:
        then the reopened client is the same one, and the second attempt's error is raised as it is."""
        with self._gate.alone():
            if self._opened == opened and self._client is not None:
                self._release()
                self._open()


class _Gate:
    """Calls share the client; closing or reopening it waits until none is in flight, and holds new ones."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._users = 0
        self._closing = False

    @contextmanager
    def shared(self) -> Iterator[None]:
        with self._cond:
            while self._closing:
                self._cond.wait()
            self._users += 1
        try:
            yield
        finally:
            with self._cond:
                self._users -= 1
                self._cond.notify_all()

    @contextmanager
    def alone(self) -> Iterator[None]:
        with self._cond:
            while self._closing:
                self._cond.wait()
            self._closing = True
            while self._users:
                self._cond.wait()
        try:
            yield
        finally:
            with self._cond:
                self._closing = False
                self._cond.notify_all()


def _is_behind_other_writers(exc: BaseException) -> bool:
    """chromadb 1.5's embedded client asked for a record its stale in-memory segment does not have."""
    return type(exc).__name__ == "InternalError" and "Error finding id" in str(exc)


def _is_connection_error(exc: BaseException) -> bool:
    names = {type(e).__name__ for e in (exc, exc.__cause__, exc.__context__) if e is not None}
    return bool(names & {"ConnectError", "ConnectionError", "ConnectTimeout", "ReadTimeout", "WriteTimeout",
                         "PoolTimeout", "RemoteProtocolError", "ConnectionRefusedError", "ReadError"}) \
        or "connect" in str(exc).lower()


def _is_timeout(exc: BaseException) -> bool:
    return any(type(e).__name__.endswith("Timeout") for e in (exc, exc.__cause__, exc.__context__) if e is not None)
