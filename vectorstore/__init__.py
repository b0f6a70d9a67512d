"""Where passages live and how they are found: Chroma plus a lexical index, fused hybrid search."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from vectorstore.errors import (
        BackendMismatchError,
        DocumentNotFoundError,
        LatentError,
        ModelMismatchError,
        StoreUnavailableError,
    )
    from vectorstore.index import Index, SearchResult, open_index
    from vectorstore.ranking import RankRequest
    from vectorstore.records import DocumentInfo, Explanation, Hit, IngestReport, Passage, SearchFilters, Tag

__all__ = ["BackendMismatchError", "DocumentInfo", "DocumentNotFoundError", "Explanation", "Hit", "Index",
           "IngestReport", "LatentError", "ModelMismatchError", "Passage", "RankRequest", "SearchFilters",
           "SearchResult", "StoreUnavailableError", "Tag", "open_index"]

_WHERE = {"Index": "index", "SearchResult": "index", "open_index": "index", "RankRequest": "ranking",
          "DocumentInfo": "records", "Explanation": "records", "Hit": "records", "IngestReport": "records",
          "Passage": "records", "SearchFilters": "records", "Tag": "records", "DocumentNotFoundError": "errors",
          "LatentError": "errors", "ModelMismatchError": "errors", "StoreUnavailableError": "errors",
          "BackendMismatchError": "errors"}


def __getattr__(name: str) -> Any:
    # Lazy, so importing the package does not pull in chromadb or torch.
    if name in _WHERE:
        import importlib

        return getattr(importlib.import_module(f"vectorstore.{_WHERE[name]}"), name)
    raise AttributeError(name)
