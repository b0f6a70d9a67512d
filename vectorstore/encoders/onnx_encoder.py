"""The `onnx` backend (the default): onnxruntime and tokenizers run a model folder; torch is never imported.

The bundled all-MiniLM-L6-v2 (`vectorstore/models/minilm-l6-int8`, built by `python -m
vectorstore.encoders.onnx_build`) loads in a fraction of a second: a process that only searches imports neither
torch nor transformers, which is most of a cold `latent search`. A model folder given by path (the tuned model)
is loaded the same way. A sentence-transformers model given by name or path is converted on first use, once per
machine, into a cache folder (`onnx_build`, which needs torch; `~/.cache/latent/onnx/`).

Tokenizing and pooling are those of sentence-transformers: the model's own tokenizer truncating at its word-piece
limit (256 for all-MiniLM-L6-v2), mean pooling over the attention mask (or the [CLS] row when the model pools so),
then L2 normalisation.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from vectorstore.encoders import ModelSpec
from vectorstore.encoders.onnx_files import (
    MANIFEST_FILE,
    MISSING,
    MODEL_FILE,
    RECIPE,
    TOKENIZER_FILE,
    model_folder,
    model_folder_of,
    optimized_file,
    read_manifest,
)

if TYPE_CHECKING:
    import numpy as np


def _onnxruntime() -> Any:
    try:
        import onnxruntime
    except ImportError as exc:
        raise ImportError(MISSING) from exc
    return onnxruntime


def resolve(model: str) -> ModelSpec:
    """A model folder (bundled or by path) as it is, or a sentence-transformers model to convert on first use."""
    folder = model_folder_of(model)
    if folder is not None:
        manifest = read_manifest(folder)
        # The digest names this very file: a retrained model in a folder of the same name is another model.
        detail = f"{folder.name} sha256:{manifest['sha256'][:12]}"
        return ModelSpec(model, "onnx", str(folder), str(manifest["name"]), detail, folder / TOKENIZER_FILE)
    from vectorstore.encoders.torch_encoder import sentence_transformers_path

    source = sentence_transformers_path(model)
    tokenizer = Path(source) / TOKENIZER_FILE
    return ModelSpec(model, "onnx", str(model_folder(model, source)), model, f"converted here, recipe {RECIPE}",
                     tokenizer if tokenizer.is_file() else None, source=source)


class OnnxEncoder:
    """An onnxruntime session over a model folder (model.onnx, tokenizer.json, manifest.json)."""

    def __init__(self, folder: Path) -> None:
        ort = _onnxruntime()
        from tokenizers import Tokenizer

        self.folder = folder
        self.manifest: dict[str, Any] = read_manifest(folder)
        self.session = _session(ort, folder, self.manifest)
        self._inputs = {i.name for i in self.session.get_inputs()}
        truncating = Tokenizer.from_file(str(folder / TOKENIZER_FILE))
        truncating.enable_truncation(int(self.manifest["max_length"]))
        truncating.no_padding()
        self._truncating = truncating
        counting = Tokenizer.from_file(str(folder / TOKENIZER_FILE))
        counting.no_truncation()
        counting.no_padding()
        self.tokenizer: Any = counting
        self.dimension = int(self.manifest["dimension"])

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
        if self.manifest["pooling"] == "cls":
            pooled = hidden[0]
        else:
            mask = feed["attention_mask"][0][:, None].astype(np.float32)
            pooled = (hidden * mask).sum(axis=0) / max(float(mask.sum()), 1e-9)
        return (pooled / max(float(np.linalg.norm(pooled)), 1e-12)).astype(np.float32)


def _session(ort: Any, folder: Path, manifest: dict[str, Any]) -> Any:
    """An onnxruntime session on the model's graph as onnxruntime optimizes it ("extended": fusions that hold on
    any CPU), kept in the per-user cache after the first start: optimizing takes 0.3-0.5 s of every cold start,
    loading the optimized file 0.2 s, and both run the same graph (the same vectors, to the bit)."""
    def options(level: Any) -> Any:
        opts = ort.SessionOptions()
        # One intra-op thread, as the torch backend: as fast as two on these 2-core machines for one text at a
        # time, and it leaves a core for the file reader at ingest and for the web server while a query is encoded.
        opts.intra_op_num_threads = int(os.environ.get("LATENT_TORCH_THREADS", "1"))
        opts.inter_op_num_threads = 1
        opts.log_severity_level = 3  # warnings about unused initialisers are noise in a CLI
        opts.graph_optimization_level = level
        return opts

    levels = ort.GraphOptimizationLevel
    cached = optimized_file(manifest, ort.__version__)
    if cached.is_file():
        try:
            return ort.InferenceSession(str(cached), options(levels.ORT_DISABLE_ALL),
                                        providers=["CPUExecutionProvider"])
        except Exception:  # a damaged or foreign file: optimize again
            cached.unlink(missing_ok=True)
    opts = options(levels.ORT_ENABLE_EXTENDED)
    tmp = cached.with_name(f".{cached.name}.tmp-{os.getpid()}")
    try:
        cached.parent.mkdir(parents=True, exist_ok=True)
        opts.optimized_model_filepath = str(tmp)
    except OSError:  # no writable cache: optimize at every start
        pass
    session = ort.InferenceSession(str(folder / MODEL_FILE), opts, providers=["CPUExecutionProvider"])
    with contextlib.suppress(OSError):
        tmp.replace(cached)
    return session


def load(spec: ModelSpec) -> OnnxEncoder:
    """The model folder's encoder, converting a sentence-transformers model first when this machine has none."""
    _onnxruntime()  # fail before a long build when the runtime is missing
    folder = Path(spec.path)
    if spec.source and not (folder / MANIFEST_FILE).exists():
        from vectorstore.encoders.onnx_build import build_model_folder

        build_model_folder(spec.name, spec.source, folder)
    return OnnxEncoder(folder)
