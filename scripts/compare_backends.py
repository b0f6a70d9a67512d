"""Issue 7's acceptance check for the onnx-int8 embedding backend: quality and speed against torch, in one run.

    .venv/bin/python scripts/compare_backends.py [--work DIR] [--out bench-results/backends.json]

1. SciFact through `latent eval --beir` once per backend (each builds its own index): nDCG@10 of every method.
2. The sample gold set through `latent eval --gold`, on the samples ingested by each backend.
3. Mixed: each backend's SciFact index searched with the other backend's query vectors (dense and hybrid), to
   see what mixing would cost (the index refuses it; this measures why).
4. Speed: passages/s encoding the same 1,000 SciFact passages in the pipeline's batches, the backends taking
   turns (two rounds each); single-query encode latency over 200 queries.
The machine is shared: load averages are recorded around each step. Results as JSON on stdout and in --out.
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
SHARED = Path(os.environ.get("LATENT_SHARED") or ROOT.parent / "shared")
LATENT = str(ROOT / ".venv" / "bin" / "latent")
BACKENDS = ("torch", "onnx-int8")


def load() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def latent_json(args: list[str], backend: str) -> dict[str, Any]:
    env = dict(os.environ, LATENT_EMBEDDING__BACKEND=backend)
    p = subprocess.run([LATENT, *args, "--json"], capture_output=True, text=True, env=env, check=False)
    if p.returncode != 0:
        raise RuntimeError(f"latent {' '.join(args)} failed: {p.stderr[-2000:]}")
    out: dict[str, Any] = json.loads(p.stdout)
    return out


def settings_for(backend: str) -> Any:
    from vectorstore.settings import Settings

    return Settings(embedding={"backend": backend})  # type: ignore[arg-type]


def mixed(scifact: Path, work: Path) -> dict[str, Any]:
    """Each backend's index with the other backend's query vectors."""
    from assistant.evaluation.beir import load_beir, run_methods, write_corpus
    from assistant.evaluation.metrics import evaluate
    from vectorstore.embedding import get_embedder
    from vectorstore.index import open_index

    beir = load_beir(scifact)
    test = beir.qrels["test"]
    asked = {q: beir.queries[q] for q in test if q in beir.queries}
    out: dict[str, Any] = {}
    for index_backend, query_backend in (("torch", "onnx-int8"), ("onnx-int8", "torch")):
        folder = work / f"beir-{index_backend}"
        index = open_index(folder, None, settings_for(index_backend))
        names = write_corpus(beir, folder / "beir-corpus")
        doc_of = {d.id: names[Path(d.source).stem] for d in index.documents() if Path(d.source).stem in names}
        embedder = get_embedder(index.model, query_backend)
        vectors = dict(zip(asked, embedder.encode(list(asked.values())), strict=True))
        runs = run_methods(index, doc_of, asked, index.settings.search, ("dense", "hybrid"), vectors)
        out[f"{index_backend} index, {query_backend} queries"] = {
            m: round(evaluate(test, run)["ndcg@10"], 4) for m, run in runs.items()}
        index.close()
    return out


def speed(work: Path) -> dict[str, Any]:
    from ingest.pipeline import ENCODE_BATCH, embedding_text
    from vectorstore.embedding import get_embedder
    from vectorstore.index import open_index

    index = open_index(work / "beir-torch", None, settings_for("torch"))
    texts = [embedding_text(p) for p in index.passages()[:1000]]
    beir_queries = [json.loads(line)["text"] for line in
                    (SHARED / "data/beir/scifact/queries.jsonl").read_text().splitlines()[:200]]
    index.close()
    embedders = {b: get_embedder("all-MiniLM-L6-v2", b) for b in BACKENDS}
    for e in embedders.values():
        e.encode(texts[:8])  # load and warm
    rounds: dict[str, list[float]] = {b: [] for b in BACKENDS}
    loads = [load()]
    for _ in range(2):
        for b, e in embedders.items():
            t0 = time.perf_counter()
            for i in range(0, len(texts), ENCODE_BATCH):
                e.encode(texts[i:i + ENCODE_BATCH])
            rounds[b].append(round(len(texts) / (time.perf_counter() - t0), 1))
            loads.append(load())
    query_ms: dict[str, dict[str, float]] = {}
    for b, e in embedders.items():
        ms = []
        for q in beir_queries:
            t0 = time.perf_counter()
            e.encode([q])  # not encode_query: its cache would time a dictionary look-up
            ms.append((time.perf_counter() - t0) * 1000)
        ms.sort()
        query_ms[b] = {"p50": round(statistics.median(ms), 2), "p95": round(ms[int(0.95 * (len(ms) - 1))], 2)}
    loads.append(load())
    return {"passages": len(texts), "passages_per_s": rounds, "query_encode_ms": query_ms, "loads": loads}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--work", type=Path, help="keep the indexes here (default: a temporary folder)")
    ap.add_argument("--out", type=Path, default=ROOT / "bench-results" / "backends.json")
    ap.add_argument("--scifact", type=Path, default=SHARED / "data/beir/scifact")
    args = ap.parse_args()
    result: dict[str, Any] = {"started": time.strftime("%Y-%m-%d %H:%M:%S"), "load_before": load()}
    with tempfile.TemporaryDirectory(prefix="latent-backends-") as tmp:
        work = args.work or Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        for b in BACKENDS:
            before = load()
            t0 = time.perf_counter()
            r = latent_json(["eval", "--beir", str(args.scifact), "--index", str(work / f"beir-{b}"),
                             "--run-dir", str(work / f"runs-{b}")], b)
            result.setdefault("scifact", {})[b] = {
                "ndcg@10": {m["method"]: m["ndcg@10"] for m in r["methods"]}, "passages": r["corpus"]["passages"],
                "seconds": round(time.perf_counter() - t0, 1), "index_s": r["seconds"].get("index"),
                "load_before": before, "load_after": load()}
            print(f"scifact {b}: {result['scifact'][b]}", file=sys.stderr, flush=True)
        for b in BACKENDS:
            folder = work / f"samples-{b}"
            latent_json(["ingest", "--index", str(folder), str(ROOT / "assistant/samples/docs")], b)
            r = latent_json(["eval", "--index", str(folder), "--gold", str(ROOT / "assistant/samples/gold.jsonl")], b)
            result.setdefault("gold", {})[b] = {k: r.get(k) for k in (
                "questions", "recall@1", "recall@5", "recall@10", "mrr", "ndcg@10", "cited_expected",
                "false_refusals", "refused_unanswerable")}
            print(f"gold {b}: {result['gold'][b]}", file=sys.stderr, flush=True)
        result["mixed_scifact_ndcg@10"] = mixed(args.scifact, work)
        result["speed"] = speed(work)
    result["load_after"] = load()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2))
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
