"""What a reranker of our model's size would cost at question time, before anyone trains one.

    .venv/bin/python scripts/bench_rerank_cost.py [--index DIR] [--repeats 3] [--out bench-results/rerank-cost.json]

A cross-encoder from the same base (all-MiniLM-L6-v2's six layers) reads "question + passage" for each candidate,
the same tokens the bi-encoder reads for a passage. So encoding "question + passage" for the top 10, 20 and 30
candidates with the shipped ONNX model is the least such a reranker costs on this machine (its output layer aside).
The issue's budget is an ask p95 of 300 ms in all. Without --index the bundled samples are ingested into a
temporary index first (not timed). Results with the load average: --out (JSON).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

os.environ.update({"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "HF_HUB_DISABLE_TELEMETRY": "1",
                   "ANONYMIZED_TELEMETRY": "False", "TOKENIZERS_PARALLELISM": "false"})
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
QUESTIONS = ("What latent conditions preceded Child R's death?", "How high were social workers' caseloads?",
             "Were managers overseeing the work with the family?",
             "Did agencies share what they knew about the mother?", "What did the review find about staff turnover?")


def measure(index: Path, repeats: int) -> dict[str, Any]:
    from vectorstore import open_index
    from vectorstore.embedding import get_embedder

    ix, embedder = open_index(index), get_embedder()
    embedder.encode(["warm up"] * 4)
    before = list(os.getloadavg())
    out: dict[str, Any] = {}
    for k in (10, 20, 30):
        times = []
        for _ in range(repeats):
            for q in QUESTIONS:
                pairs = [f"{q} {hit.text}" for hit in ix.search(q, k=k)]
                t0 = time.perf_counter()
                embedder.encode(pairs)
                times.append(time.perf_counter() - t0)
        times.sort()
        out[f"top_{k}"] = {"candidates": k, "median_ms": round(statistics.median(times) * 1000, 1),
                           "p95_ms": round(times[max(0, round(0.95 * len(times)) - 1)] * 1000, 1), "n": len(times)}
    return {**out, "load_before": before, "load_after": list(os.getloadavg()), "budget_ask_p95_ms": 300}


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--index", type=Path, help="an existing index (default: the samples, ingested first)")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--out", type=Path, default=ROOT / "bench-results" / "rerank-cost.json")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        index = args.index
        if index is None:
            index = Path(tmp) / "samples"
            subprocess.run([str(Path(sys.executable).with_name("latent")), "--index", str(index), "ingest",
                            str(ROOT / "assistant" / "samples" / "docs")], check=True, capture_output=True)
        result = measure(index, args.repeats)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2))
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
