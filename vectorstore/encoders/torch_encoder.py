"""The default backend: sentence-transformers on torch (fp32), on one intra-op thread."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np


class TorchEncoder:
    """A `SentenceTransformer` loaded by path on the CPU."""

    def __init__(self, path: str) -> None:
        import torch
        from sentence_transformers import SentenceTransformer

        # One intra-op thread: measured as fast as two on these 2-core machines, and it leaves a core for the
        # parser thread at ingest and for the web server while a query is encoded.
        torch.set_num_threads(int(os.environ.get("LATENT_TORCH_THREADS", "1")))
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()  # "Loading weights" bars on stderr are noise in a CLI
        model: Any = SentenceTransformer(path, device="cpu")
        self.model = model
        self.dimension = int(model.get_embedding_dimension())
        self.tokenizer: Any = model.tokenizer

    def encode(self, texts: list[str], batch_size: int) -> np.ndarray:
        import numpy as np

        vectors = self.model.encode(texts, batch_size=batch_size, normalize_embeddings=True, convert_to_numpy=True,
                                    show_progress_bar=False)
        return np.asarray(vectors, dtype=np.float32)


def load(model: str, path: str) -> TorchEncoder:
    return TorchEncoder(path)
