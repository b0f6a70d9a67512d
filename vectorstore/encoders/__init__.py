"""Embedding backends: the same model run by different engines, chosen by name (`LATENT_EMBEDDING__BACKEND`).

Each backend is one module with a `load(model, path) -> Encoder`; `BACKENDS` maps names to modules, so adding
one is a file and a line here. Every backend returns unit-length float32 rows (mean pooling, L2 normalised, the
model's own tokenizer and word-piece limit), so an index built by one can be compared with another's figures.
The vectors are close, not equal (int8 weights move a vector by about cos 0.997), so the index records which
backend made them and refuses the other (see `embedding_identity`).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    import numpy as np

BACKENDS: dict[str, str] = {
    "torch": "vectorstore.encoders.torch_encoder",     # sentence-transformers on torch, fp32 (the default)
    "onnx-int8": "vectorstore.encoders.onnx_encoder",  # onnxruntime, int8 weights exported from the same model
}
DEFAULT_BACKEND = "torch"


class Encoder(Protocol):
    """Texts in, unit-length float32 vectors out (one row per text)."""

    dimension: int
    tokenizer: Any  # counts word-pieces when the model folder has no tokenizer.json

    def encode(self, texts: list[str], batch_size: int) -> np.ndarray: ...


def load_encoder(backend: str, model: str, path: str) -> Encoder:
    """The named backend's encoder for `model` (whose weights are at `path`, a folder or a hub name)."""
    if backend not in BACKENDS:
        raise ValueError(f"unknown embedding backend '{backend}': choose one of {', '.join(BACKENDS)}")
    module = importlib.import_module(BACKENDS[backend])
    encoder: Encoder = module.load(model, path)
    return encoder


def embedding_identity(model: str, backend: str) -> str:
    """What the index records as the maker of its vectors. The torch backend keeps the bare model name, so
    indexes built before backends existed stay valid; any other backend is named beside the model."""
    return model if backend == DEFAULT_BACKEND else f"{model} ({backend} backend)"
