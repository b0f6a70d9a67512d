"""The default embedding backend (onnx: the bundled int8 model folder) against torch (fp32 sentence-transformers),
and the search cache's vectors (float16; sign bits then exact past `exact_rows`) against exact float32, in one run.

    .venv/bin/python scripts/compare_backends.py [--work DIR] [--out bench-results/backends.json] [--skip-ofsted]

1. SciFact through `latent eval --beir` per backend (each builds its own index): nDCG@10 and recall@100 of each
   method; the onnx index again with the two stages forced at every size (LATENT_SEARCH__EXACT_ROWS=0).
2. The two gold sets through `latent eval --gold`: the samples (assistant/samples/gold.jsonl) and the Ofsted PDFs
   (tests/gold/ofsted.jsonl over ../shared/data/ofsted/pdf), each ingested per backend; onnx again with the two
   stages forced.
3. float16 against float32: on the onnx SciFact index, each test query's dense top 10 and top 100 from the search
   cache (float16 vectors) against an exact product over the float32 vectors Chroma stores.
4. Mixed: each backend's SciFact index searched with the other backend's query vectors (what the index refuses).
5. Speed: passages/s encoding the same 1,000 SciFact passages in the pipeline's batches, the backends taking turns
   (two rounds each); single-query encode latency over 200 queries.
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
LATENT = str(Path(sys.executable).with_name("latent"))
BACKENDS = ("torch", "onnx")
TWO_STAGES = {"LATENT_SEARCH__EXACT_ROWS": "0"}  # sign bits then exact cosine, whatever the size
GOLD = {"samples": (ROOT / "assistant/samples/gold.jsonl", ROOT / "assistant/samples/docs"),
        "ofsted": (ROOT / "tests/gold/ofsted.jsonl", SHARED / "data/ofsted/pdf")}


def load() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def latent_json(args: list[str], backend: str, env: dict[str, str] | None = None) -> dict[str, Any]:
    full = dict(os.environ, LATENT_EMBEDDING__BACKEND=backend, **(env or {}))
    p = subprocess.run([LATENT, *args, "--json"], capture_output=True, text=True, env=full, check=False)
    if p.returncode not in (0, 1):  # 1: some file failed to ingest, reported in the JSON
        raise RuntimeError(f"latent {' '.join(args)} failed: {p.stderr[-2000:]}")
    out: dict[str, Any] = json.loads(p.stdout)
    return out


def settings_for(backend: str) -> Any:
    from vectorstore.settings import Settings

    return Settings(embedding={"backend": backend})  # type: ignore[arg-type]


def scifact(work: Path, data: Path) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, backend, env in (("torch", "torch", None), ("onnx", "onnx", None), ("onnx, two stages", "onnx",
                                                                                   TWO_STAGES)):
        folder = work / f"beir-{backend}"
        before = load()
        t0 = time.perf_counter()
        r = latent_json(["eval", "--beir", str(data), "--index", str(folder), "--run-dir",
                         str(work / f"runs-{name.replace(', ', '-').replace(' ', '-')}")], backend, env)
        out[name] = {"ndcg@10": {m["method"]: m["ndcg@10"] for m in r["methods"]},
                     "recall@100": {m["method"]: m["recall@100"] for m in r["methods"]},
                     "passages": r["corpus"]["passages"], "seconds": round(time.perf_counter() - t0, 1),
                     "load_before": before, "load_after": load()}
        print(f"scifact {name}: {out[name]}", file=sys.stderr, flush=True)
    return out


def gold(work: Path, which: tuple[str, ...]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name in which:
        gold_file, docs = GOLD[name]
        if not docs.exists():
            out[name] = f"skipped: {docs} is absent"
            continue
        for label, backend, env in (("torch", "torch", None), ("onnx", "onnx", None),
                                    ("onnx, two stages", "onnx", TWO_STAGES)):
            folder = work / f"gold-{name}-{backend}"
            before = load()
            if env is None:
                latent_json(["ingest", "--index", str(folder), str(docs)], backend)
            r = latent_json(["eval", "--index", str(folder), "--gold", str(gold_file)], backend, env)
            figures = {k: v for k, v in r.items() if not isinstance(v, dict | list)}
            out.setdefault(name, {})[label] = {**figures, "by_kind": r.get("by_kind"), "load_before": before,
                                               "load_after": load()}
            print(f"gold {name} {label}: {out[name][label]}", file=sys.stderr, flush=True)
    return out


def float16_against_float32(data: Path, work: Path) -> dict[str, Any]:
    """Dense top 10 / top 100 from the search cache (float16) against exact float32 products over Chroma's vectors."""
    import numpy as np

    from assistant.evaluation.beir import load_beir
    from vectorstore.index import open_index
    from vectorstore.ranking import RankRequest

    beir = load_beir(data)
    queries = [beir.queries[q] for q in beir.qrels["test"] if q in beir.queries]
    index = open_index(work / "beir-onnx", None, settings_for("onnx"))
    manifest = {d.id: d for d in index.documents()}
    passages, vectors, _ = index.store.read_documents(manifest)
    ids = [p.id for p in passages]
    keep10, keep100 = [], []
    for q in queries:
        v = index.embedder.encode_query(q)
        exact = [ids[i] for i in np.argsort(-(vectors @ v), kind="stable")[:100]]
        cached = [h.id for h in index.rank(RankRequest(q, 100, method="dense", vector=v)).hits]
        keep10.append(len(set(exact[:10]) & set(cached[:10])) / 10)
        keep100.append(len(set(exact) & set(cached)) / 100)
    index.close()
    return {"queries": len(queries), "passages": len(ids), "top10_same": round(statistics.mean(keep10), 4),
            "top100_same": round(statistics.mean(keep100), 4), "worst_top10": min(keep10)}


def mixed(data: Path, work: Path) -> dict[str, Any]:
    """Each backend's index with the other backend's query vectors."""
    from assistant.evaluation.beir import load_beir, run_methods, write_corpus
    from assistant.evaluation.metrics import evaluate
    from vectorstore.embedding import get_embedder
    from vectorstore.index import open_index

    beir = load_beir(data)
    test = beir.qrels["test"]
    asked = {q: beir.queries[q] for q in test if q in beir.queries}
    out: dict[str, Any] = {}
    for index_backend, query_backend in (("torch", "onnx"), ("onnx", "torch")):
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


def speed(work: Path, data: Path) -> dict[str, Any]:
    from ingest.pipeline import ENCODE_BATCH, embedding_text
    from vectorstore.embedding import get_embedder
    from vectorstore.index import open_index

    index = open_index(work / "beir-torch", None, settings_for("torch"))
    texts = [embedding_text(p) for p in index.passages()[:1000]]
    queries = [json.loads(line)["text"] for line in (data / "queries.jsonl").read_text().splitlines()[:200]]
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
        for q in queries:
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
    ap.add_argument("--skip-ofsted", action="store_true", help="the samples' gold set only")
    args = ap.parse_args()
    result: dict[str, Any] = {"started": time.strftime("%Y-%m-%d %H:%M:%S"), "load_before": load()}
    args.out.parent.mkdir(parents=True, exist_ok=True)

    def save() -> None:
        result["load_after"] = load()
        args.out.write_text(json.dumps(result, indent=2))

    with tempfile.TemporaryDirectory(prefix="latent-backends-") as tmp:
        work = args.work or Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        result["gold"] = gold(work, ("samples",) if args.skip_ofsted else ("samples", "ofsted"))
        save()
        result["scifact"] = scifact(work, args.scifact)
        save()
        result["float16_against_float32"] = float16_against_float32(args.scifact, work)
        save()
        result["mixed_scifact_ndcg@10"] = mixed(args.scifact, work)
        save()
        result["speed"] = speed(work, args.scifact)
        save()
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
