"""LangChain adapters: `LatentRetriever` (a `BaseRetriever` over an index) and `LatentEmbeddings` (the bundled
model as an `Embeddings`), so Latent's search drops into any LangChain pipeline.

    from vectorstore.langchain import LatentRetriever
    retriever = LatentRetriever(index_path="~/latent-index", k=5, filters={"councils": ["Wigan"]})
    docs = retriever.invoke("caseloads of social workers")
"""

from __future__ import annotations

from typing import Any

from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.embeddings import Embeddings
from langchain_core.retrievers import BaseRetriever
from pydantic import BaseModel, ConfigDict, PrivateAttr

from vectorstore.settings import DEFAULT_MODEL


class LatentEmbeddings(BaseModel, Embeddings):
    """The index's embedding model (default: the bundled all-MiniLM-L6-v2, offline)."""

    model_config = ConfigDict(extra="forbid")
    model: str = DEFAULT_MODEL
    backend: str | None = None  # 'torch' or 'onnx-int8'; None: the configured one (LATENT_EMBEDDING__BACKEND)

    def _embedder(self) -> Any:
        from vectorstore.embedding import get_embedder
        from vectorstore.settings import get_settings

        return get_embedder(self.model, self.backend or get_settings().embedding.backend)

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return [[float(x) for x in row] for row in self._embedder().encode(list(texts))]

    def embed_query(self, text: str) -> list[float]:
        return [float(x) for x in self._embedder().encode_query(text)]


class LatentRetriever(BaseRetriever):
    """Hybrid search over a Latent index; each Document carries its citation in `metadata`."""

    model_config = ConfigDict(arbitrary_types_allowed=True)
    index_path: str | None = None
    server: str | None = None
    k: int = 4
    filters: dict[str, Any] | None = None  # SearchFilters fields: kinds, councils, documents, year_from…
    index: Any = None  # an already open `vectorstore.Index`, instead of index_path/server
    _opened: Any = PrivateAttr(default=None)

    def _index(self) -> Any:
        if self.index is not None:
            return self.index
        if self._opened is None:
            from vectorstore.index import open_index

            self._opened = open_index(self.index_path, self.server)
        return self._opened

    def _get_relevant_documents(self, query: str, *, run_manager: CallbackManagerForRetrieverRun,
                                k: int | None = None, **kwargs: Any) -> list[Document]:
        from vectorstore.index import hit_to_json
        from vectorstore.records import SearchFilters

        filters = SearchFilters.from_values(**dict(self.filters or {}, **kwargs.get("filters", {}) or {}))
        hits = self._index().search(query, k=k or self.k, filters=filters)
        docs = []
        for h in hits:
            meta = hit_to_json(h)
            text = meta.pop("text")
            meta["tags"] = [t["category"] for t in meta["tags"]]  # flat, so vector stores can take it
            meta["citation"] = citation(h)
            docs.append(Document(page_content=text, metadata=meta, id=h.id))
        return docs


def citation(hit: Any) -> str:
    """'Title, page 4, paragraph 3.20' — how practitioners cite a review."""
    p = hit.passage
    return f"{hit.document.title}, page {p.page}" + (f", paragraph {p.paragraph}" if p.paragraph else "")
