"""Chroma, the store of record: passages (vectors, text, metadata) and the manifest of documents.

Embedded (`PersistentClient`) by default, or a Chroma server (`HttpClient`) when a URL is given; the rest of the
code cannot tell the two apart. We always pass our own vectors: Chroma's default embedding function downloads a
model at first use, so every collection is opened with `embedding_function=None`.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import asdict, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any

from vectorstore.errors import ModelMismatchError, StoreUnavailableError
from vectorstore.records import DocumentInfo, Passage, Tag

if TYPE_CHECKING:
    import numpy as np

PASSAGES = "latent_passages"
DOCUMENTS = "latent_documents"
SCHEMA = 1
_BATCH = 500  # Chroma caps one add at a few thousand records; 500 keeps memory flat


def _chroma_settings() -> Any:
    from chromadb.config import Settings

    return Settings(anonymized_telemetry=False, allow_reset=False)


def connect(path: Path | None, server: str | None) -> Any:
    """A Chroma client: a server when `server` is a URL, else the folder `path/chroma`."""
    import chromadb

    if server:
        from urllib.parse import urlparse

        url = urlparse(server if "://" in server else f"http://{server}")
        try:
            return chromadb.HttpClient(host=url.hostname or "127.0.0.1", port=url.port or 8000,
                                       ssl=url.scheme == "https", settings=_chroma_settings())
        except Exception as exc:
            raise StoreUnavailableError(f"cannot reach the Chroma server at {server}: {exc}") from exc
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
        "date": p.date, "page_end": p.page_end, "tags": json.dumps([t.to_json() for t in p.tags]),
    }
    for tag in p.tags:  # one boolean per category, so `where` can filter on tags
        meta[f"tag_{tag.category}"] = True
    return {k: v for k, v in meta.items() if v is not None}


def passage_from_metadata(pid: str, text: str, meta: dict[str, Any]) -> Passage:
    tags = tuple(Tag(**t) for t in json.loads(meta.get("tags") or "[]"))
    return Passage(id=pid, doc_id=meta["doc_id"], text=text, header=meta.get("header", ""),
                   page=int(meta.get("page", 1)), paragraph=meta.get("paragraph"), section=meta.get("section"),
                   char_start=int(meta.get("char_start", 0)), char_end=int(meta.get("char_end", 0)),
                   tags=tags, date=meta.get("date"), page_end=meta.get("page_end"))


def _doc_metadata(doc: DocumentInfo) -> dict[str, Any]:
    return {k: v for k, v in asdict(doc).items() if v is not None and k != "id"}


def _doc_from_metadata(doc_id: str, meta: dict[str, Any]) -> DocumentInfo:
    known = {f.name for f in fields(DocumentInfo)}
    return DocumentInfo(id=doc_id, **{k: v for k, v in meta.items() if k in known and k != "id"})


class ChromaStore:
    """The two Chroma collections and the few operations Latent needs on them."""

    def __init__(self, path: Path | None, server: str | None, model: str) -> None:
        self.server = server
        self._client = connect(path, server)
        self.model = model
        try:
            self.passages = self._client.get_or_create_collection(
                PASSAGES, embedding_function=None,
                metadata={"hnsw:space": "cosine", "embedding_model": model, "schema": SCHEMA})
            # The manifest holds no vectors of meaning; Chroma requires one, so each row gets a 1-d zero.
            self.documents = self._client.get_or_create_collection(DOCUMENTS, embedding_function=None)
        except Exception as exc:
            if server:
                raise StoreUnavailableError(f"the Chroma server at {server} did not answer: {exc}") from exc
            raise
        built_with = (self.passages.metadata or {}).get("embedding_model")
        if built_with and built_with != model:
            raise ModelMismatchError(
                f"this index was built with the embedding model '{built_with}', not '{model}'. "
                f"Use --model {built_with} (or LATENT_EMBEDDING__MODEL), or build a new index with "
                f"--index NEW_DIR and ingest the documents again.")

    # -- manifest --------------------------------------------------------------------------------------------
    def manifest(self) -> dict[str, DocumentInfo]:
        got = self._call(self.documents.get, include=["metadatas"])
        return {i: _doc_from_metadata(i, m or {}) for i, m in zip(got["ids"], got["metadatas"], strict=True)}

    def put_document(self, doc: DocumentInfo) -> None:
        self._call(self.documents.upsert, ids=[doc.id], embeddings=[[0.0]], metadatas=[_doc_metadata(doc)],
                   documents=[doc.title])

    def delete_document(self, doc_id: str) -> None:
        self._call(self.documents.delete, ids=[doc_id])

    # -- passages --------------------------------------------------------------------------------------------
    def add_passages(self, passages: list[Passage], doc: DocumentInfo, vectors: np.ndarray) -> None:
        for start in range(0, len(passages), _BATCH):
            batch = passages[start:start + _BATCH]
            self._call(self.passages.upsert, ids=[p.id for p in batch],
                       embeddings=vectors[start:start + len(batch)],
                       documents=[p.text for p in batch],
                       metadatas=[passage_metadata(p, doc) for p in batch])

    def passage_ids(self, doc_id: str | None = None) -> list[str]:
        where = {"doc_id": doc_id} if doc_id else None
        return list(self._call(self.passages.get, where=where, include=[])["ids"])

    def delete_passages(self, ids: list[str]) -> None:
        for start in range(0, len(ids), _BATCH):
            self._call(self.passages.delete, ids=ids[start:start + _BATCH])

    def count(self) -> int:
        return int(self._call(self.passages.count))

    def iter_passages(self, with_vectors: bool = True, page: int = 2000) -> Iterator[tuple[
            list[str], list[str], list[dict[str, Any]], Any]]:
        """Every passage, a page at a time: (ids, texts, metadatas, vectors or None)."""
        include = ["documents", "metadatas"] + (["embeddings"] if with_vectors else [])
        offset = 0
        while True:
            got = self._call(self.passages.get, include=include, limit=page, offset=offset)
            if not got["ids"]:
                return
            yield got["ids"], got["documents"], got["metadatas"], got.get("embeddings") if with_vectors else None
            offset += len(got["ids"])

    def get_passages(self, ids: list[str]) -> list[Passage]:
        got = self._call(self.passages.get, ids=ids, include=["documents", "metadatas"])
        by_id = {i: passage_from_metadata(i, t, m) for i, t, m in
                 zip(got["ids"], got["documents"], got["metadatas"], strict=True)}
        return [by_id[i] for i in ids if i in by_id]

    def query(self, vector: np.ndarray, n: int, where: dict[str, Any] | None) -> list[tuple[str, float]]:
        """Chroma's own nearest neighbours (HNSW): (id, cosine similarity)."""
        got = self._call(self.passages.query, query_embeddings=[vector], n_results=n, where=where,
                         include=["distances"])
        return [(i, 1.0 - d) for i, d in zip(got["ids"][0], got["distances"][0], strict=True)]

    def _call(self, fn: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except Exception as exc:
            if self.server and _is_connection_error(exc):
                raise StoreUnavailableError(
                    f"the Chroma server at {self.server} did not answer ({type(exc).__name__}); "
                    "check that it is running, then try again") from exc
            raise


def _is_connection_error(exc: BaseException) -> bool:
    names = {type(e).__name__ for e in (exc, exc.__cause__, exc.__context__) if e is not None}
    return bool(names & {"ConnectError", "ConnectionError", "ConnectTimeout", "ReadTimeout", "RemoteProtocolError",
                         "ConnectionRefusedError", "ReadError"}) or "connect" in str(exc).lower()
