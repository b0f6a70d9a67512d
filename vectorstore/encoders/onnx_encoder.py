"""The `onnx-int8` backend: the model exported to ONNX with int8 weights, run by onnxruntime.

The ONNX file is built on this machine from the model's own weights (nothing is downloaded) the first time it is
needed, by `onnx_build`, into a per-user cache folder named by the model and a key over the recipe, the library
versions and the model's files (`~/.cache/latent/onnx/all-MiniLM-L6-v2-<key>/`), so a new torch or a new model
file builds a new one and two processes never share a stale one. Loading it takes a fraction of a second and
imports neither torch nor sentence-transformers, which is most of the gain for a process that only searches.

Tokenizing and pooling are those of the torch backend: the model's own tokenizer truncating at its word-piece
limit (256 for all-MiniLM-L6-v2), mean pooling over the attention mask (or the [CLS] row when the model pools so),
then L2 normalisation.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from vectorstore.encoders.onnx_files import MISSING, MODEL_FILE, model_folder

if TYPE_CHECKING:
    import numpy as np

def _onnxruntime() -> Any:
    try:
        import onnxruntime
    except ImportError as exc:
        raise ImportError(MISSING) from exc
    return onnxruntime


class OnnxInt8Encoder:
    """An onnxruntime session over a built folder (model-int8.onnx, tokenizer.json, config.json)."""

    def __init__(self, folder: Path) -> None:
        ort = _onnxruntime()
        from tokenizers import Tokenizer

        self.folder = folder
        self.config: dict[str, Any] = json.loads((folder / "config.json").read_text(encoding="utf-8"))
        options = ort.SessionOptions()
        # The same thread budget as the torch backend (one intra-op thread; see torch_encoder).
        options.intra_op_num_threads = int(os.environ.get("LATENT_TORCH_THREADS", "1"))
        options.inter_op_num_threads = 1
        options.log_severity_level = 3  # warnings about unused initialisers are noise in a CLI
        self.session = ort.InferenceSession(str(folder / MODEL_FILE), options, providers=["CPUExecutionProvider"])
        self._inputs = {i.name for i in self.session.get_inputs()}
        truncating = Tokenizer.from_file(str(folder / "tokenizer.json"))
        truncating.enable_truncation(int(self.config["max_length"]))
        truncating.no_padding()
        self._truncating = truncating
        counting = Tokenizer.from_file(str(folder / "tokenizer.json"))
        counting.no_truncation()
        counting.no_padding()
        self.tokenizer: Any = counting
        self.dimension = int(self.config["dimension"])

    def features(self, text: str) -> dict[str, np.ndarray]:
        """The model's inputs for one text: its word-pieces, cut at the model's limit as sentence-transformers cuts."""
        import numpy as np

        enc = self._truncating.encode(text)
        feed = {"input_ids": np.array([enc.ids], dtype=np.int64),
                "attention_mask": np.array([enc.attention_mask], dtype=np.int64)}
        if "token_type_ids" in self._inputs:
            feed["token_type_ids"] = np.array([enc.type_ids], dtype=np.int64)
        return feed

    def encode(self, texts: list[str], batch_size: int) -> np.ndarray:
        """One text per run, whatever `batch_size` says. Activations are quantized with one scale per run, so in a
        batch a text's vector would move with its neighbours and their padding (cos 0.992-0.998 against the same
        text alone); alone, a text always gets the same vector, and without padding it is also faster: 23
        passages/s against 14 in batches of 32 (400 Ofsted passages of ~140 words, one thread)."""
        import numpy as np

        out = np.empty((len(texts), self.dimension), dtype=np.float32)
        for row, text in enumerate(texts):
            out[row] = self._encode_one(text)
        return out

    def _encode_one(self, text: str) -> np.ndarray:
        import numpy as np

        feed = self.features(text)
        hidden = self.session.run(None, feed)[0][0]
        if self.config["pooling"] == "cls":
            pooled = hidden[0]
        else:
            mask = feed["attention_mask"][0][:, None].astype(np.float32)
            pooled = (hidden * mask).sum(axis=0) / max(float(mask.sum()), 1e-9)
        return (pooled / max(float(np.linalg.norm(pooled)), 1e-12)).astype(np.float32)


def load(model: str, path: str) -> OnnxInt8Encoder:
    """The built model for `model`, building it first when this machine has none for these versions."""
    _onnxruntime()  # fail before a long build when the runtime is missing
    folder = model_folder(model, path)
    if not (folder / "config.json").exists():
        from vectorstore.encoders.onnx_build import build_int8

        build_int8(model, path, folder)
    return OnnxInt8Encoder(folder)
