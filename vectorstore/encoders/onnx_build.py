"""Builds the `onnx-int8` backend's model from the torch one: export to ONNX, then dynamic int8 quantization.

Takes ~15 s once per model and library versions. The recipe, each step measured on 512 Ofsted passages against
the torch backend (cosine of the two vectors of each passage):
- the legacy TorchScript exporter (`dynamo=False`): its graph runs about twice as fast under onnxruntime as
  the dynamo exporter's for this model, with the same numbers;
- int8 weights per output channel (`per_channel`): per-tensor scales gave cos 0.95 on average (0.90 at worst),
  per-channel 0.9935 (0.988);
- the feed-forward down-projections (`layer.N/output/dense`, whose inputs come out of GELU with the widest range)
  kept in float: cos 0.997 on average, 0.990 at worst, for a 34 MB file instead of 23 MB (fp32: 90 MB).
Quantization is deterministic, so the same inputs give the same file.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import re
import shutil
import warnings
from pathlib import Path
from typing import Any

from vectorstore.encoders.onnx_files import MISSING, MODEL_FILE, RECIPE, VERSIONED, library_version

_KEEP_FLOAT = re.compile(r"layer\.\d+/output/dense/MatMul$")  # BERT-family names of the FFN down-projection


class UnsupportedModelError(ValueError):
    """The model has layers the onnx-int8 backend does not reproduce (pooling other than mean or CLS, Dense…)."""


def build_int8(model: str, path: str, folder: Path) -> None:
    """Export and quantize `model` into `folder` (atomically; one builder at a time per folder)."""
    try:
        import onnx
        from onnxruntime.quantization import QuantType, quantize_dynamic
    except ImportError as exc:
        raise ImportError(MISSING) from exc
    folder.parent.mkdir(parents=True, exist_ok=True)
    with open(folder.with_name(folder.name + ".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if (folder / "config.json").exists():  # another process built it while this one waited
            return
        tmp = folder.with_name(f"{folder.name}.tmp{os.getpid()}")
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir()
        try:
            config = _export(model, path, tmp / "model-fp32.onnx")
            keep = [n.name for n in onnx.load(str(tmp / "model-fp32.onnx")).graph.node
                    if n.op_type == "MatMul" and _KEEP_FLOAT.search(n.name)]
            logging.disable(logging.WARNING)  # "consider pre-processing" on the root logger: advice for CNNs
            try:
                quantize_dynamic(str(tmp / "model-fp32.onnx"), str(tmp / MODEL_FILE), weight_type=QuantType.QInt8,
                                 per_channel=True, nodes_to_exclude=keep)
            finally:
                logging.disable(logging.NOTSET)
            (tmp / "model-fp32.onnx").unlink()
            config.update({"recipe": RECIPE, "kept_float": keep,
                           "versions": {d: library_version(d) for d in VERSIONED}})
            (tmp / "config.json").write_text(json.dumps(config, indent=2), encoding="utf-8")  # last: marks done
            shutil.rmtree(folder, ignore_errors=True)
            tmp.rename(folder)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)


def _export(model: str, path: str, target: Path) -> dict[str, Any]:
    """The transformer to ONNX (token embeddings out; pooling stays in numpy); returns what the runtime needs."""
    from vectorstore.embedding import set_offline_environment

    set_offline_environment()
    import torch
    from sentence_transformers import SentenceTransformer
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()  # "Loading weights" bars on stderr are noise in a CLI
    st: Any = SentenceTransformer(path, device="cpu")
    pooling = _pooling_of(model, st)
    tokenizer = st.tokenizer
    if not getattr(tokenizer, "is_fast", False):
        raise UnsupportedModelError(f"the onnx-int8 backend needs a model with a fast tokenizer; '{model}' has none")
    tokenizer.save_pretrained(str(target.parent))
    for extra in target.parent.iterdir():  # keep tokenizer.json only
        if extra.name != "tokenizer.json" and extra != target:
            extra.unlink()
    transformer = st[0].auto_model.eval()
    sample = tokenizer(["a short text", "a longer text, so that the batch needs padding"], padding=True,
                       return_tensors="pt")
    names = [n for n in ("input_ids", "attention_mask", "token_type_ids") if n in sample]

    class TokenEmbeddings(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.transformer = transformer

        def forward(self, *inputs: torch.Tensor) -> torch.Tensor:
            return self.transformer(**dict(zip(names, inputs, strict=True))).last_hidden_state

    axes = {n: {0: "batch", 1: "tokens"} for n in [*names, "token_embeddings"]}
    with warnings.catch_warnings(), torch.no_grad():
        # The tracer warns about Python conditions in transformers' attention code; they are constant for an
        # encoder given an attention mask, and the agreement test checks the result.
        warnings.simplefilter("ignore")
        torch.onnx.export(TokenEmbeddings(), tuple(sample[n] for n in names), str(target), input_names=names,
                          output_names=["token_embeddings"], dynamic_axes=axes, opset_version=17, dynamo=False)
    return {"model": model, "max_length": int(st.max_seq_length or tokenizer.model_max_length),
            "dimension": int(st.get_embedding_dimension()), "pooling": pooling,
            "pad_id": int(tokenizer.pad_token_id or 0), "pad_token": str(tokenizer.pad_token or "[PAD]"),
            "inputs": names}


def _pooling_of(model: str, st: Any) -> str:
    kinds = [type(m).__name__ for m in st]
    pooling = getattr(st[1], "pooling_mode", None) if len(kinds) > 1 else None
    if kinds[:2] != ["Transformer", "Pooling"] or any(k != "Normalize" for k in kinds[2:]) or \
            pooling not in ("mean", "cls"):
        raise UnsupportedModelError(f"the onnx-int8 backend reproduces a transformer with mean or CLS pooling; "
                                    f"'{model}' is {' + '.join(kinds)} (pooling {pooling}): use the torch backend")
    return str(pooling)
