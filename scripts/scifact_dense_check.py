"""SciFact test (300 queries over 5,183 abstracts), dense ranking only, each abstract one text (title + abstract,
cut at the model's 256 word-pieces): a quick check of the embedding itself, without ingest's passages or the
hybrid search (`latent eval --beir` scores those, in about 40 minutes here).

    .venv/bin/python scripts/scifact_dense_check.py backends
    .venv/bin/python scripts/scifact_dense_check.py float16

`backends`: all-MiniLM-L6-v2 through the bundled int8 ONNX folder against fp32 torch. `float16`: the default model,
its vectors as float16 (as the search cache keeps them) against float32.

nDCG@10 (and recall@100 for float16), encode seconds and the load average, as JSON on stdout.
"""

from __future__ import annotations

import json
import math
import os
import sys
import time
from pathlib import Path
from typing import Any

os.environ.update({"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "HF_HUB_DISABLE_TELEMETRY": "1",
                   "TOKENIZERS_PARALLELISM": "false"})
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
SCIFACT = ROOT.parent / "shared" / "data" / "beir" / "scifact"

import numpy as np  # noqa: E402


def load_scifact() -> tuple[list[str], list[str], list[str], list[str], dict[str, dict[str, int]]]:
    corpus = [json.loads(line) for line in (SCIFACT / "corpus.jsonl").open(encoding="utf-8")]
    queries = {q["_id"]: q["text"] for q in map(json.loads, (SCIFACT / "queries.jsonl").open(encoding="utf-8"))}
    qrels: dict[str, dict[str, int]] = {}
    for line in (SCIFACT / "qrels" / "test.tsv").read_text(encoding="utf-8").splitlines()[1:]:
        q, d, s = line.split("\t")
        qrels.setdefault(q, {})[d] = int(s)
    qids = sorted(qrels)
    texts = [(c.get("title", "") + ". " + c["text"]).strip() for c in corpus]
    return texts, [c["_id"] for c in corpus], qids, [queries[q] for q in qids], qrels


def scores(sim: np.ndarray, ids: list[str], qids: list[str], qrels: dict[str, dict[str, int]]) -> dict[str, float]:
    ndcg, recall = [], []
    for row, q in zip(sim, qids, strict=True):
        order = np.argsort(-row, kind="stable")
        dcg = sum((2 ** qrels[q].get(ids[i], 0) - 1) / math.log2(r + 2) for r, i in enumerate(order[:10]))
        ideal = sorted(qrels[q].values(), reverse=True)[:10]
        ndcg.append(dcg / sum((2 ** g - 1) / math.log2(r + 2) for r, g in enumerate(ideal)))
        recall.append(len({ids[i] for i in order[:100]} & set(qrels[q])) / len(qrels[q]))
    return {"ndcg10": round(float(np.mean(ndcg)), 4), "recall100": round(float(np.mean(recall)), 4)}


def main() -> int:
    from vectorstore.embedding import get_embedder

    what = sys.argv[1] if len(sys.argv) > 1 else "backends"
    texts, ids, qids, queries, qrels = load_scifact()
    out: dict[str, Any] = {"check": what}
    if what == "backends":
        vectors = {}
        for backend in ("onnx", "torch"):
            embedder = get_embedder(model="all-MiniLM-L6-v2", backend=backend)
            before, t0 = list(os.getloadavg()), time.perf_counter()
            vectors[backend] = embedder.encode(texts)
            seconds = time.perf_counter() - t0
            qv = np.stack([embedder.encode_query(q) for q in queries])
            out[backend] = {**scores(qv @ vectors[backend].T, ids, qids, qrels), "encode_s": round(seconds, 1),
                            "load": [before, list(os.getloadavg())]}
        out["mean_cosine_onnx_torch"] = round(float(np.mean(np.sum(vectors["onnx"] * vectors["torch"], axis=1))), 4)
    elif what == "float16":
        embedder = get_embedder()
        dv = embedder.encode(texts)
        qv = np.stack([embedder.encode_query(q) for q in queries]).astype(np.float32)
        out["float32"] = scores(qv @ dv.T, ids, qids, qrels)
        out["float16"] = scores(qv @ dv.astype(np.float16).astype(np.float32).T, ids, qids, qrels)
        out["load"] = list(os.getloadavg())
    else:
        raise SystemExit("usage: scifact_dense_check.py backends|float16")
    print(json.dumps(out, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
