"""`make bench`: ingest throughput against raw `encode` of the same texts in the same run (the ratio is our
overhead), search (and ask) latency p50/p95 at about 1k, 10k and all passages of the Ofsted text corpus, with and
without filters, peak memory, index size on disk, and the machine's load around each step.

    .venv/bin/python scripts/bench.py [--text-docs 842] [--skip-pdfs] [--out bench-results]

1. The 60 Ofsted PDFs into a fresh index; then the raw model on exactly the texts the pipeline embedded.
2. The plain-text corpus (../shared/data/ofsted/text, 842 documents, shuffled with a fixed seed, the first
   --text-docs of them) into a second fresh index, in stages that end near 1k and 10k passages, then the rest.
   After each stage a separate process (the way the page would: a cold open of the index on disk) times searches
   and asks and reports its own peak memory. The raw encode is timed on the texts of the first two stages.
Results: bench-results/bench.json and bench.md (git-ignored). The machine is shared: load averages are recorded
before and after each step, so a slow figure can be read against them.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

os.environ.update({"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "HF_HUB_DISABLE_TELEMETRY": "1",
                   "ANONYMIZED_TELEMETRY": "False", "TOKENIZERS_PARALLELISM": "false"})
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_ingest import QUERIES, percentile  # the PDF bench's query set

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("LATENT_SHARED") or ROOT.parent / "shared")
STAGES = (1_000, 10_000)  # passage counts after which latency is measured (then once more at the end)
ROUNDS = 3  # each query is timed this many times


def load() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def peak_rss_mb() -> float:
    """This process's peak resident memory. Linux keeps ru_maxrss across exec, so a child started by a big parent
    would report the parent's peak; VmHWM belongs to the process's own address space."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        pass
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)  # KiB on Linux


def disk_mb(folder: Path) -> float:
    return round(sum(f.stat().st_size for f in folder.rglob("*") if f.is_file()) / 2**20, 1)


def summary(ms: list[float]) -> dict[str, float]:
    return {"p50_ms": round(statistics.median(ms), 1), "p95_ms": round(percentile(ms, 0.95), 1), "n": len(ms)}


# -- ingest against raw encode -----------------------------------------------------------------------------------
def ingest_timed(index: Any, files: list[Path]) -> dict[str, Any]:
    from ingest import ingest_paths

    before = load()
    t0 = time.perf_counter()
    report = ingest_paths(index, list[str | os.PathLike[str]](files))
    seconds = time.perf_counter() - t0
    return {"files": len(files), "added": len(report.added), "failed": [f.file for f in report.failed],
            "passages": report.passages, "seconds": round(seconds, 1),
            "passages_per_s": round(report.passages / seconds, 2) if seconds else None,
            "load_before": before, "load_after": load()}


def raw_encode_timed(index: Any, doc_ids: set[str] | None) -> dict[str, Any]:
    """The model alone on every text the pipeline embedded for these documents, in the pipeline's batches."""
    from ingest.pipeline import ENCODE_BATCH, embedding_text

    texts = [embedding_text(p) for p in index.passages() if doc_ids is None or p.doc_id in doc_ids]
    before = load()
    t0 = time.perf_counter()
    for i in range(0, len(texts), ENCODE_BATCH):
        index.embedder.encode(texts[i:i + ENCODE_BATCH])
    seconds = time.perf_counter() - t0
    return {"texts": len(texts), "seconds": round(seconds, 1),
            "passages_per_s": round(len(texts) / seconds, 2) if seconds else None,
            "load_before": before, "load_after": load()}


def overhead(ingest: dict[str, Any], encode: dict[str, Any]) -> float | None:
    """Pipeline throughput as a share of raw encode throughput (1.0 = no overhead; issue 7 asks >= 0.8)."""
    if not ingest["seconds"] or not encode["seconds"]:
        return None
    return round((ingest["passages"] / ingest["seconds"]) / (encode["texts"] / encode["seconds"]), 3)


# -- latency, in a fresh process like the page's ----------------------------------------------------------------------
def probe(index_dir: str) -> dict[str, Any]:
    """Open the index cold, then time searches (and asks, when the answer module exists) with and without
    filters; report this process's peak memory."""
    import importlib.util
    from collections import Counter

    from vectorstore import SearchFilters, open_index

    t0 = time.perf_counter()
    index = open_index(index_dir)
    index.embedder.encode(["warm the model"])
    open_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    index.search("first search builds or loads the cache", k=10)
    first_ms = (time.perf_counter() - t0) * 1000
    docs = index.documents()
    # Each query is asked ROUNDS times: without this the embedder's query cache would time a dictionary look-up.
    forget = getattr(index.embedder, "forget_queries", lambda: None)
    council = Counter(d.council for d in docs if d.council).most_common(1)
    filters: dict[str, SearchFilters | None] = {
        "none": None,
        "kind": SearchFilters(kinds=("focused_visit",)),
        "council+years": SearchFilters(councils=(council[0][0],) if council else None, year_from=2019),
    }
    out: dict[str, Any] = {"passages": index.passage_count(), "documents": len(docs),
                           "open_s": round(open_s, 2), "first_search_ms": round(first_ms, 1),
                           "filters": {k: _filters_json(v) for k, v in filters.items()}, "search": {}}
    for name, f in filters.items():
        ms = []
        for _ in range(ROUNDS):
            for q in QUERIES:
                forget()
                t0 = time.perf_counter()
                index.search(q, k=10, filters=f)
                ms.append((time.perf_counter() - t0) * 1000)
        out["search"][name] = summary(ms)
    # the same searches with the query already embedded: what ranking costs without the model
    vectors = {q: index.embedder.encode_query(q) for q in QUERIES}
    out["rank_only"] = {}
    for name, f in filters.items():
        ms = []
        for _ in range(ROUNDS):
            for q in QUERIES:
                t0 = time.perf_counter()
                index.search_with_info(q, 10, f, vector=vectors[q])
                ms.append((time.perf_counter() - t0) * 1000)
        out["rank_only"][name] = summary(ms)
    if importlib.util.find_spec("assistant.answer") is not None:
        from assistant import ask

        out["ask"] = {}
        ask(index, "warm up the answer path")
        for name, f in filters.items():
            ms = []
            for q in QUERIES:
                forget()
                t0 = time.perf_counter()
                ask(index, q, filters=f)
                ms.append((time.perf_counter() - t0) * 1000)
            out["ask"][name] = summary(ms)
    else:
        out["ask"] = "skipped: assistant.answer is not built yet"
    out["peak_rss_mb"] = peak_rss_mb()
    return out


def _filters_json(f: Any) -> dict[str, Any] | None:
    if f is None:
        return None
    return {k: v for k, v in vars(f).items() if v is not None}


def run_probe(index_dir: Path) -> dict[str, Any]:
    before = load()
    p = subprocess.run([sys.executable, __file__, "--probe", str(index_dir)], capture_output=True, text=True,
                       check=False)
    if p.returncode != 0:
        return {"error": (p.stderr.strip().splitlines() or ["?"])[-1]}
    result: dict[str, Any] = json.loads(p.stdout.strip().splitlines()[-1])
    result.update({"load_before": before, "load_after": load(), "index_mb": disk_mb(index_dir)})
    return result


# -- the stages ------------------------------------------------------------------------------------------------------
def bench_pdfs(pdfs: Path, work: Path) -> dict[str, Any]:
    from vectorstore import open_index

    index = open_index(work / "pdf-index")
    index.embedder.encode(["warm up the model so neither timing includes loading it"])
    files = sorted(pdfs.glob("*.pdf"))
    ingest = ingest_timed(index, files)
    encode = raw_encode_timed(index, None)
    t0 = time.perf_counter()
    from ingest import ingest_paths

    again = ingest_paths(index, list[str | os.PathLike[str]](files))
    words = sum(len(p.text.split()) for p in index.passages())
    return {"ingest": ingest, "raw_encode": encode, "pipeline_to_encode": overhead(ingest, encode),
            "reingest_unchanged_s": round(time.perf_counter() - t0, 2), "reingest_unchanged": len(again.unchanged),
            "index_mb": disk_mb(work / "pdf-index"), "words_per_passage": round(words / max(1, ingest["passages"]), 1),
            "latency": run_probe(work / "pdf-index"), "peak_rss_mb_so_far": peak_rss_mb()}


def stage_files(text_dir: Path, n_docs: int, seed: int, words_per_passage: float) -> list[list[Path]]:
    """The shuffled slice cut where the estimated passage count crosses each of STAGES (estimated from the
    manifest's word counts; the real counts are measured and reported)."""
    import csv

    words = {}
    manifest = text_dir.parent / "manifest.csv"
    if manifest.exists():
        with open(manifest, encoding="utf-8") as fh:
            words = {r["text_file"]: int(r["words"] or 0) for r in csv.DictReader(fh)}
    files = sorted(text_dir.rglob("*.txt"))
    random.Random(seed).shuffle(files)
    files = files[:n_docs]
    stages: list[list[Path]] = [[]]
    total = 0.0
    targets = list(STAGES)
    for f in files:
        stages[-1].append(f)
        total += words.get(str(f.relative_to(text_dir.parent)), 5400) / words_per_passage
        if targets and total >= targets[0]:
            targets.pop(0)
            stages.append([])
    return [s for s in stages if s]


def bench_text(text_dir: Path, work: Path, n_docs: int, seed: int, words_per_passage: float,
               out: dict[str, Any], save: Any) -> None:
    """Fill `out` stage by stage (calling `save` after each, so a long run that is stopped keeps what it did)."""
    from ingest.pipeline import document_id
    from vectorstore import open_index

    folder = work / "text-index"
    index = open_index(folder)
    index.embedder.encode(["warm up the model so neither timing includes loading it"])
    staged = stage_files(text_dir, n_docs, seed, words_per_passage)
    stages: list[dict[str, Any]] = []
    out.update({"documents": sum(len(f) for f in staged), "seed": seed, "stages": stages})
    for n, files in enumerate(staged, start=1):
        ingest = ingest_timed(index, files)
        total = index.passage_count()
        print(f"text stage {n}: {ingest['files']} files, {ingest['passages']} passages in {ingest['seconds']} s; "
              f"{total} in the index", file=sys.stderr, flush=True)
        stages.append({"ingest": ingest, "passages_total": total, "documents_total": len(index.documents()),
                       "index_mb": disk_mb(folder), "latency": run_probe(folder),
                       "peak_rss_mb_so_far": peak_rss_mb()})
        all_passages = sum(s["ingest"]["passages"] for s in stages)
        all_seconds = sum(s["ingest"]["seconds"] for s in stages)
        out["ingest_passages_per_s_all"] = round(all_passages / all_seconds, 2) if all_seconds else None
        save()
        if n == min(len(STAGES), len(staged)):
            # the raw model on the texts of the stages so far (up to ~10k passages), against their ingest
            head_docs = {document_id(f) for files in staged[:n] for f in files}
            encode = raw_encode_timed(index, head_docs)
            head = {"passages": sum(s["ingest"]["passages"] for s in stages),
                    "seconds": round(sum(s["ingest"]["seconds"] for s in stages), 1)}
            out.update({"raw_encode_first_stages": encode, "ingest_first_stages": head,
                        "pipeline_to_encode_first_stages": overhead(head, encode)})
            save()


# -- report ------------------------------------------------------------------------------------------------------------
def markdown(r: dict[str, Any]) -> str:
    lines = [f"# Benchmark {r['started']}", "",
             f"Machine: {r['machine']['cpus']} CPUs, {r['machine']['platform']}, torch threads "
             f"{r['machine']['torch_threads']}; load before {r['load_before']}, after {r['load_after']}.", ""]
    lines += ["## Ingest against raw encode (same texts, same run)", "",
              "| corpus | passages | ingest p/s | raw encode p/s | ratio (target >= 0.8) |", "|---|---|---|---|---|"]
    if "pdfs" in r:
        p = r["pdfs"]
        lines.append(f"| 60 PDFs | {p['ingest']['passages']} | {p['ingest']['passages_per_s']} | "
                     f"{p['raw_encode']['passages_per_s']} | {p['pipeline_to_encode']} |")
    if "text" in r and "ingest_first_stages" in r["text"]:
        t = r["text"]
        head = t["ingest_first_stages"]
        rate = round(head["passages"] / head["seconds"], 2) if head["seconds"] else None
        lines.append(f"| text, first stages | {head['passages']} | {rate} | "
                     f"{t['raw_encode_first_stages']['passages_per_s']} | {t['pipeline_to_encode_first_stages']} |")
    if "text" in r and r["text"].get("stages"):
        t = r["text"]
        done = sum(s["ingest"]["files"] for s in t["stages"])
        lines.append(f"| text, {done} of {t['documents']} documents | "
                     f"{sum(s['ingest']['passages'] for s in t['stages'])} | {t['ingest_passages_per_s_all']} | | |")
    lines += ["", "## Search and ask latency (fresh process, k=10; targets: search p95 <= 50 ms, ask p95 <= 300 ms)",
              "", "| index | passages | index MB | filter | search p50 | search p95 | rank-only p95 | ask p50 "
              "| ask p95 | RSS MB |", "|---|---|---|---|---|---|---|---|---|---|"]
    rows = ([("60 PDFs", r["pdfs"]["latency"])] if "pdfs" in r else []) + [
        (f"text stage {i + 1}", s["latency"]) for i, s in enumerate(r.get("text", {}).get("stages", []))]
    for name, lat in rows:
        if "error" in lat:
            lines.append(f"| {name} | | | error: {lat['error']} | | | | | | |")
            continue
        for f, s in lat["search"].items():
            a = lat["ask"].get(f, {}) if isinstance(lat["ask"], dict) else {}
            ranking = lat.get("rank_only", {}).get(f, {})
            lines.append(f"| {name} | {lat['passages']} | {lat['index_mb']} | {f} | {s['p50_ms']} | {s['p95_ms']} | "
                         f"{ranking.get('p95_ms', '-')} | {a.get('p50_ms', '-')} | {a.get('p95_ms', '-')} | "
                         f"{lat['peak_rss_mb']} |")
    asks = [lat["ask"] for _, lat in rows if isinstance(lat.get("ask"), str)]
    if asks:
        lines += ["", f"Ask: {asks[0]}"]
    lines += ["", f"Peak RSS of the benchmark process (ingest included): {r['peak_rss_mb']} MB.", ""]
    return "\n".join(lines)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--pdfs", type=Path, default=SHARED / "data/ofsted/pdf")
    ap.add_argument("--text", type=Path, default=SHARED / "data/ofsted/text")
    ap.add_argument("--text-docs", type=int, default=842, help="how many text documents (shuffled) to ingest")
    ap.add_argument("--skip-pdfs", action="store_true")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--out", type=Path, default=ROOT / "bench-results")
    ap.add_argument("--keep", type=Path, metavar="DIR",
                    help="build the indexes in DIR and keep them (for later probes: --probe DIR/text-index)")
    ap.add_argument("--probe", metavar="INDEX", help=argparse.SUPPRESS)  # internal: the latency process
    args = ap.parse_args()
    if args.probe:
        print(json.dumps(probe(args.probe)))
        return 0
    if not args.pdfs.exists() and not args.text.exists():
        print(f"no benchmark data at {args.pdfs} or {args.text} (set LATENT_SHARED)", file=sys.stderr)
        return 2
    import torch

    result: dict[str, Any] = {
        "started": time.strftime("%Y-%m-%d %H:%M:%S"), "load_before": load(),
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version(),
                    "torch": torch.__version__, "torch_threads": torch.get_num_threads()}}
    words_per_passage = 100.0
    args.out.mkdir(parents=True, exist_ok=True)

    def save() -> None:
        result["machine"]["torch_threads"] = torch.get_num_threads()  # as the embedder set it, once loaded
        result.update({"load_after": load(), "peak_rss_mb": peak_rss_mb()})
        (args.out / "bench.json").write_text(json.dumps(result, indent=2))
        (args.out / "bench.md").write_text(markdown(result))

    with tempfile.TemporaryDirectory(prefix="latent-bench-") as tmp:
        work = Path(tmp)
        if args.keep:
            work = args.keep
            work.mkdir(parents=True, exist_ok=True)
        if not args.skip_pdfs and args.pdfs.exists():
            result["pdfs"] = bench_pdfs(args.pdfs, work)
            words_per_passage = result["pdfs"]["words_per_passage"]
            save()
            print(f"pdfs: {json.dumps(result['pdfs']['ingest'])}", file=sys.stderr, flush=True)
        if args.text.exists() and args.text_docs > 0:
            result["text"] = {}
            bench_text(args.text, work, args.text_docs, args.seed, words_per_passage, result["text"], save)
    result["finished"] = time.strftime("%Y-%m-%d %H:%M:%S")
    save()
    print(markdown(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
