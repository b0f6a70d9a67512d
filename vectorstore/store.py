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

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any

from vectorstore.councils import canonical_council
from vectorstore.errors import IndexUnusableError, ModelMismatchError, StoreUnavailableError
from vectorstore.records import DocumentInfo, Passage, Tag
from vectorstore.sections import passage_role

if TYPE_CHECKING:
    import numpy as np

PASSAGES = "latent_passages"
DOCUMENTS = "latent_documents"
SCHEMA = 1
_BATCH = 500  # Chroma caps one add at a few thousand records; 500 keeps memory flat
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


def passage_metadata(p: Passage, doc: DocumentInfo) -> dict[str, Any]:
    """Flat metadata for Chroma (scalars only; None values are left out because Chroma rejects them)."""
    year = int(doc.published[:4]) if doc.published else None
    meta: dict[str, Any] = {
        "doc_id": p.doc_id, "title": doc.title, "source": doc.source, "kind": doc.kind, "council": doc.council,
        "published": doc.published, "year": year, "child": doc.child, "page": p.page, "paragraph": p.paragraph,
        "section": p.section, "char_start": p.char_start, "char_end": p.char_end, "header": p.header,
        "date": p.date, "page_end": p.page_end, "tags": json.dumps([t.to_json() for t in p.tags]), "role": p.role,
    }
    for tag in p.tags:  # one boolean per category, so `where` can filter on tags
        meta[f"tag_{tag.category}"] = True
    return {k: v for k, v in meta.items() if v is not None}


def passage_from_metadata(pid: str, text: str, meta: dict[str, Any]) -> Passage:
    tags = tuple(Tag(**t) for t in json.loads(meta.get("tags") or "[]"))
    page, paragraph, section = int(meta.get("page", 1)), meta.get("paragraph"), meta.get("section")
    # an index stored before passages had roles: read the role from the passage as ingest now does
    role = meta.get("role") or passage_role(text, section, page, paragraph, meta.get("kind", "other"))
    if role in ("cover", "back_matter"):
        paragraph = None
    return Passage(id=pid, doc_id=meta["doc_id"], text=text, header=meta.get("header", ""), page=page,
                   paragraph=paragraph, section=section, char_start=int(meta.get("char_start", 0)),
                   char_end=int(meta.get("char_end", 0)), tags=tags, date=meta.get("date"),
                   page_end=meta.get("page_end"), role=role)


def _doc_metadata(doc: DocumentInfo) -> dict[str, Any]:
    return {k: v for k, v in asdict(doc).items() if v is not None and k != "id"}


def _doc_from_metadata(doc_id: str, meta: dict[str, Any]) -> DocumentInfo:
    known = {f.name for f in fields(DocumentInfo)}
    values = {k: v for k, v in meta.items() if k in known and k != "id"}
    if values.get("council"):  # an index built before councils had one name each shows them as they are now
        values["council"] = canonical_council(values["council"])
    return DocumentInfo(id=doc_id, **values)


class ChromaStore:
    """The two Chroma collections and the few operations Latent needs on them."""

    def __init__(self, path: Path | None, server: str | None, model: str,
                 timeout_s: float = DEFAULT_TIMEOUT_S) -> None:
        self.path = path
        self.server = server
        self.timeout_s = timeout_s
        self.model = model
        self._gate = _Gate()
        self._opened = 0  # how many times the client was (re)opened: several threads that fail at once reopen once
        self._open()

    def _open(self) -> None:
        self._client = connect(self.path, self.server, self.timeout_s)
        self._opened += 1
        try:
            self.passages = self._client.get_or_create_collection(
                PASSAGES, embedding_function=None,
                metadata={"hnsw:space": "cosine", "embedding_model": self.model, "schema": SCHEMA})
            # The manifest holds no vectors of meaning; Chroma requires one, so each row gets a 1-d zero.
            self.documents = self._client.get_or_create_collection(DOCUMENTS, embedding_function=None)
        except Exception as exc:
            if self.server:
                raise StoreUnavailableError(f"the Chroma server at {self.server} did not answer: {exc}") from exc
            raise
        built_with = (self.passages.metadata or {}).get("embedding_model")
        if built_with and built_with != self.model:
            self._release()  # nobody will get this store to close it
            raise ModelMismatchError(
                f"this index was built with the embedding model '{built_with}', not '{self.model}'. "
                f"Use --model {built_with} (or LATENT_EMBEDDING__MODEL), or build a new index with "
                f"--index NEW_DIR and ingest the documents again.")

    # -- manifest --------------------------------------------------------------------------------------------
    def manifest(self) -> dict[str, DocumentInfo]:
        got = self._call("documents", "get", include=["metadatas"])
        return {i: _doc_from_metadata(i, m or {}) for i, m in zip(got["ids"], got["metadatas"], strict=True)}

    def put_document(self, doc: DocumentInfo) -> None:
        self._call("documents", "upsert", ids=[doc.id], embeddings=[[0.0]], metadatas=[_doc_metadata(doc)],
                   documents=[doc.title])

    def delete_document(self, doc_id: str) -> None:
        self._call("documents", "delete", ids=[doc_id])

    # -- passages --------------------------------------------------------------------------------------------
    def add_passages(self, passages: list[Passage], doc: DocumentInfo, vectors: np.ndarray) -> None:
        for start in range(0, len(passages), _BATCH):
            batch = passages[start:start + _BATCH]
            self._call("passages", "upsert", ids=[p.id for p in batch],
                       embeddings=vectors[start:start + len(batch)],
                       documents=[p.text for p in batch],
                       metadatas=[passage_metadata(p, doc) for p in batch])

    def passage_ids(self, doc_id: str | None = None) -> list[str]:
        where = {"doc_id": doc_id} if doc_id else None
        return list(self._call("passages", "get", where=where, include=[])["ids"])

    def delete_passages(self, ids: list[str]) -> None:
        for start in range(0, len(ids), _BATCH):
            self._call("passages", "delete", ids=ids[start:start + _BATCH])

    def count(self) -> int:
        return int(self._call("passages", "count"))

    def iter_passages(self, with_vectors: bool = True, page: int = 2000) -> Iterator[tuple[
            list[str], list[str], list[dict[str, Any]], Any]]:
        """Every passage, a page at a time: (ids, texts, metadatas, vectors or None)."""
        include = ["documents", "metadatas"] + (["embeddings"] if with_vectors else [])
        offset = 0
        while True:
            got = self._call("passages", "get", include=include, limit=page, offset=offset)
            if not got["ids"]:
                return
            yield got["ids"], got["documents"], got["metadatas"], got.get("embeddings") if with_vectors else None
            offset += len(got["ids"])

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
