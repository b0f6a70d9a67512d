"""Rerankers: a second, costlier look at the fused candidates (a cross-encoder, a learned model). None ships yet;
this is where one plugs in. As with the embedding backends (`vectorstore.encoders`), each reranker is one module
with a `load() -> Reranker`, and `RERANKERS` maps the names `LATENT_SEARCH__RERANKER` accepts to those modules."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from vectorstore.records import Hit

RERANKERS: dict[str, str] = {}  # name -> module; "none", the default, keeps the fused order


class Reranker(Protocol):
    """The fused hits in, the same hits in a better order out (scores and explanations may change)."""

    def rerank(self, query: str, hits: list[Hit]) -> list[Hit]: ...


def load_reranker(name: str) -> Reranker:
    """The named reranker; an unknown name is an error naming the known ones."""
    if name not in RERANKERS:
        known = ", ".join(["none", *RERANKERS])
        raise ValueError(f"unknown reranker '{name}' (LATENT_SEARCH__RERANKER): choose one of {known}")
    reranker: Reranker = importlib.import_module(RERANKERS[name]).load()
    return reranker
