"""Ten times the corpus: the 842 Ofsted texts replicated ten times with distinct ids (~570,000 passages), searched
and asked by a page, with one document added while it serves.

    .venv/bin/python scripts/bench_scale.py --base INDEX --work DIR [--copies 10] [--out bench-results/scale.json]

INDEX is an index of ../shared/data/ofsted/text (`latent ingest --index INDEX ../shared/data/ofsted/text`, or
`scripts/bench.py --keep DIR`, whose DIR/text-index it is). The copies REUSE THE BASE INDEX'S VECTORS: each
document's passages are written again under new document and passage ids (and a new source path), with the same
texts and vectors, not embedded again. Steps, each with the load average:
1. the copies written to a new index in WORK (Chroma, in batches of documents as an ingest writes them);
2. the search cache built from Chroma by a fresh process (read document by document, one segment);
3. a fresh process as the page would be (the cache loaded from disk): search p50/p95 unfiltered and filtered
   (kind; council and years), ranking alone, extractive ask p95, resident memory; and the dense search's two
   stages against the exact product (how many of the exact top 10 and top 100 they keep);
4. a real page (`latent chat`) on the index: resident memory after warming up and after ten questions; then one
   new document ingested by `latent ingest` in another process, and the time until the page serves it and until
   an answer cites it.
Results: --out (JSON) and the same name with .md.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
import urllib.request
from dataclasses import replace
from pathlib import Path
from typing import Any

os.environ.update({"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "HF_HUB_DISABLE_TELEMETRY": "1",
                   "ANONYMIZED_TELEMETRY": "False", "TOKENIZERS_PARALLELISM": "false"})
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench import load, peak_rss_mb, probe  # the latency probe of `make bench`
from bench_ingest import QUERIES
from load_page import MemorySampler, PageProcess, proc_status

ROOT = Path(__file__).resolve().parents[1]
LATENT = str(Path(sys.executable).with_name("latent"))
REUSED = ("vectors reused, not re-embedded: each copy holds the base index's passages (same texts and vectors) "
          "under new document and passage ids")
NEW_DOC = ("The fostering panel in Harrowfield met in the Quillon Room, and its chair told inspectors that "
           "caseloads of the supervising social workers had reached forty-two families each.")
NEW_QUESTION = "Where did the Harrowfield fostering panel meet?"


def copy_documents(base: Path, target: Path, copies: int, batch_docs: int = 40) -> dict[str, Any]:
    """Write `copies` copies of every document of `base` into the index `target` (copy 0 keeps nothing of the
    original ids either: every copy is new)."""
    from vectorstore import open_index

    source, dest = open_index(base), open_index(target)
    manifest = {d.id: d for d in source.documents()}
    done = {i for i, d in dest.store.manifest().items() if d.status == "stored"} if (target / "chroma").is_dir() \
        else set()
    # resumable, and able to follow a base index still being ingested or to add copies: each copy of a document
    # already stored is skipped
    ids = sorted(i for i in manifest if not all(f"{i}-copy{c}" in done for c in range(copies)))
    n_written = 0
    started, before = time.perf_counter(), load()
    written = 0
    with dest.writing():
        for start in range(0, len(ids), batch_docs):
            docs = {i: manifest[i] for i in ids[start:start + batch_docs]}
            passages, vectors, changed = source.store.read_documents(docs)
            assert not changed, f"the base index changed while it was copied: {sorted(changed)[:3]}"
            by_doc: dict[str, list[int]] = {}
            for row, p in enumerate(passages):
                by_doc.setdefault(p.doc_id, []).append(row)
            for copy in range(copies):
                batch = []
                for doc_id, rows in by_doc.items():
                    new_id = f"{doc_id}-copy{copy}"
                    if new_id in done:
                        continue
                    doc = replace(manifest[doc_id], id=new_id, source=f"{manifest[doc_id].source}#copy{copy}")
                    new = [replace(passages[r], id=f"{new_id}:{passages[r].id.split(':', 1)[1]}", doc_id=new_id)
                           for r in rows]
                    batch.append((doc, new, vectors[rows]))
                dest.store_documents(batch)
                written += sum(len(b[1]) for b in batch)
                n_written += len(batch)
            print(f"copied {start + len(docs)} of {len(ids)} documents x {copies} ({written} passages)",
                  file=sys.stderr, flush=True)
    seconds = time.perf_counter() - started
    source.close()
    dest.close()
    return {"documents": n_written, "passages": written, "base_documents": len(manifest), "seconds": round(seconds, 1),
            "passages_per_s": round(written / seconds, 1), "load_before": before, "load_after": load(),
            "note": REUSED}


def build_cache(index: Path) -> dict[str, Any]:
    """A fresh process builds the search cache from Chroma (what a first search after a lost cache does)."""
    before = load()
    t0 = time.perf_counter()
    done = subprocess.run([sys.executable, __file__, "--build-cache", str(index)], capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(done.stderr[-3000:])
    out: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return {**out, "process_s": round(time.perf_counter() - t0, 1), "load_before": before, "load_after": load()}


def _build_cache_here(index: str) -> dict[str, Any]:
    from vectorstore import open_index

    t0 = time.perf_counter()
    ix = open_index(index)
    ix.warm_up()
    cache_bytes = sum(f.stat().st_size for f in (Path(index) / "cache").rglob("*") if f.is_file())
    return {"passages": ix.passage_count(), "seconds": round(time.perf_counter() - t0, 1),
            "peak_rss_mb": peak_rss_mb(), "cache_mb": round(cache_bytes / 2**20, 1)}


def dense_agreement(index: str) -> dict[str, Any]:
    """The dense ranking's two stages against the exact product over every vector (one process holds both)."""
    from vectorstore import open_index
    from vectorstore.ranking import RankRequest
    from vectorstore.settings import get_settings

    settings = get_settings()
    exact = open_index(index, settings=settings.model_copy(
        update={"search": settings.search.model_copy(update={"exact_rows": 10**9})}))
    staged = open_index(index)
    keep10, keep100 = [], []
    for q in QUERIES:
        a = [h.id for h in exact.rank(RankRequest(q, 100, method="dense")).hits]
        b = [h.id for h in staged.rank(RankRequest(q, 100, method="dense")).hits]
        keep10.append(len(set(a[:10]) & set(b[:10])) / 10)
        keep100.append(len(set(a) & set(b)) / 100)
    return {"queries": len(QUERIES), "top10_kept": round(statistics.mean(keep10), 4),
            "top100_kept": round(statistics.mean(keep100), 4), "worst_top10": min(keep10)}


def in_fresh_process(flag: str, index: Path) -> dict[str, Any]:
    before = load()
    done = subprocess.run([sys.executable, __file__, flag, str(index)], capture_output=True, text=True)
    if done.returncode != 0:
        return {"error": (done.stderr.strip().splitlines() or ["?"])[-1]}
    out: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return {**out, "load_before": before, "load_after": load()}


def page_and_new_document(index: Path, work: Path) -> dict[str, Any]:
    from gradio_client import Client

    from ingest.pipeline import document_id

    page = PageProcess(index, work / "page.log")
    memory = MemorySampler(page.process.pid)
    out: dict[str, Any] = {"load_before": load()}
    try:
        out["serves_s"] = round(page.wait_until_serving(), 1)
        client = Client(page.url, verbose=False, download_files=False)
        t0 = time.perf_counter()
        client.predict("warm up the page", api_name="/ask")
        out["first_answer_s"] = round(time.perf_counter() - t0, 2)
        out["after_warm_up"] = proc_status(page.process.pid)
        asked = []
        for q in QUERIES[:10]:
            t0 = time.perf_counter()
            client.predict(q, api_name="/ask")
            asked.append((time.perf_counter() - t0) * 1000)
        out["ask_ms_p50_via_page"] = round(statistics.median(asked), 1)
        out["after_10_questions"] = proc_status(page.process.pid)
        # a new file each run: the same file again would be "unchanged", and served at once
        doc = work / f"new-document-{time.strftime('%Y%m%d-%H%M%S')}.txt"
        doc.write_text(f"Title: Harrowfield fostering panel note\n\n{NEW_DOC}\n", encoding="utf-8")
        doc_id = document_id(doc)
        out["load_before_add"] = load()
        t0 = time.perf_counter()
        ingest = subprocess.Popen([LATENT, "ingest", "--index", str(index), str(doc)], stdout=subprocess.DEVNULL,
                                  stderr=subprocess.DEVNULL)
        served = cited = finished = None
        while (cited is None or finished is None) and time.perf_counter() - t0 < 600:
            if finished is None and ingest.poll() is not None:
                finished = time.perf_counter() - t0
            if served is None:
                try:
                    with urllib.request.urlopen(f"{page.url}doc/{doc_id}/text", timeout=30) as reply:
                        if reply.status == 200:
                            served = time.perf_counter() - t0
                except OSError:
                    pass
            if served is not None and cited is None:
                got = client.predict(NEW_QUESTION, api_name="/ask")
                if any(c.get("source", "").endswith(doc.name) for c in got.get("citations", [])):
                    cited = time.perf_counter() - t0
            time.sleep(0.2)
        ingest.wait(600)
        # and out again, so that a later run finds the index as this one did (two copies of the note would
        # leave which one an answer cites to chance)
        subprocess.run([LATENT, "remove", "--index", str(index), str(doc)], capture_output=True, check=False)
        doc.unlink(missing_ok=True)
        out["add_one_document"] = {
            "ingest_process_s": round(finished, 1) if finished is not None else None,
            "served_by_page_s": round(served, 2) if served is not None else None,
            "cited_in_an_answer_s": round(cited, 2) if cited is not None else None, "load_after": load()}
        out["at_end"] = proc_status(page.process.pid)
        out["peak"] = memory.peak()
        out["tracebacks"] = page.tracebacks()
    finally:
        memory.stop()
        page.stop()
    out["load_after"] = load()
    return out


def markdown(r: dict[str, Any]) -> str:
    lines = [f"# Scale benchmark {r['started']}", "", f"{r['copy']['note']}.", ""]
    c, b, p = r["copy"], r["cache_build"], r["probe"]
    lines += [f"- copies: {c['documents']} documents, {c['passages']} passages written in {c['seconds']} s "
              f"({c['passages_per_s']}/s; load {c['load_before'][0]}-{c['load_after'][0]})"
              + (" (an earlier --copy-only run)" if c.get("earlier_run") else ""),
              f"- search cache built from Chroma by a fresh process: {b['seconds']} s, peak {b['peak_rss_mb']} MB, "
              f"{b['cache_mb']} MB on disk (load {b['load_before'][0]}-{b['load_after'][0]})"]
    if "error" not in p:
        start = p["open_s"] + p["first_search_ms"] / 1000
        lines.append(f"- cache load at start (open + first search, cache on disk): {start:.2f} s "
                     f"(load {p['load_before'][0]})")
        lines += ["", "| filter | search p50 | search p95 | rank-only p95 | ask p50 | ask p95 |",
                  "|---|---|---|---|---|---|"]
        for f, s in p["search"].items():
            a = p["ask"].get(f, {}) if isinstance(p["ask"], dict) else {}
            lines.append(f"| {f} | {s['p50_ms']} | {s['p95_ms']} | {p['rank_only'][f]['p95_ms']} | "
                         f"{a.get('p50_ms', '-')} | {a.get('p95_ms', '-')} |")
        lines += ["", f"probe process peak resident memory: {p['peak_rss_mb']} MB; load {p['load_before']} to "
                      f"{p['load_after']}"]
    d = r.get("dense", {})
    if d and "error" not in d:
        lines.append(f"- dense two stages against the exact product: top 10 kept {d['top10_kept']}, top 100 "
                     f"{d['top100_kept']} (worst query's top 10: {d['worst_top10']})")
    pg = r.get("page", {})
    if pg:
        lines.append(f"- page (`latent chat`): serves after {pg.get('serves_s')} s; RSS after warm-up "
                     f"{pg.get('after_warm_up')}, after 10 questions {pg.get('after_10_questions')}, peak "
                     f"{pg.get('peak')}")
        add = pg.get("add_one_document", {})
        lines.append(f"- one document added by `latent ingest` beside the page: the page serves it after "
                     f"{add.get('served_by_page_s')} s, an answer cites it after {add.get('cited_in_an_answer_s')} s "
                     f"(load {pg.get('load_before_add')} to {add.get('load_after')})")
    return "\n".join(lines) + "\n"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--base", type=Path, help="an index of the Ofsted texts")
    ap.add_argument("--work", type=Path, help="where the scaled index is built (kept)")
    ap.add_argument("--copies", type=int, default=10)
    ap.add_argument("--skip-copy", action="store_true", help="WORK/scale-index exists already (the copy's figures are "
                    "taken from --out when an earlier --copy-only run wrote them)")
    ap.add_argument("--copy-only", action="store_true", help="write the copies, save their figures, stop (the copy "
                    "takes most of the run and does not depend on the search code: the rest can follow later)")
    ap.add_argument("--skip-page", action="store_true")
    ap.add_argument("--page-only", action="store_true", help="only the page step, on WORK/scale-index, into --out")
    ap.add_argument("--out", type=Path, default=ROOT / "bench-results" / "scale.json")
    ap.add_argument("--build-cache", metavar="INDEX", help=argparse.SUPPRESS)
    ap.add_argument("--probe", metavar="INDEX", help=argparse.SUPPRESS)
    ap.add_argument("--dense", metavar="INDEX", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.build_cache:
        print(json.dumps(_build_cache_here(args.build_cache)))
        return 0
    if args.probe:
        result = probe(args.probe)
        result["rss_mb_at_end"] = proc_status(os.getpid()).get("VmRSS")
        print(json.dumps(result))
        return 0
    if args.dense:
        print(json.dumps(dense_agreement(args.dense)))
        return 0
    if args.base is None or args.work is None:
        ap.error("--base and --work are needed")
    if args.page_only:  # the page step again on the index an earlier run built (its other figures kept)
        result = json.loads(args.out.read_text())
        result["page"] = page_and_new_document(args.work / "scale-index", args.work)
        result["page"]["page_only_run"] = time.strftime("%Y-%m-%d %H:%M:%S")
        args.out.write_text(json.dumps(result, indent=2))
        args.out.with_suffix(".md").write_text(markdown(result))
        print(markdown(result))
        return 0
    index = args.work / "scale-index"
    result: dict[str, Any] = {"started": time.strftime("%Y-%m-%d %H:%M:%S"), "load_before": load(),
                              "note": REUSED}
    args.out.parent.mkdir(parents=True, exist_ok=True)

    def save() -> None:
        result["load_after"] = load()
        args.out.write_text(json.dumps(result, indent=2))
        if {"copy", "cache_build", "probe"} <= set(result):
            args.out.with_suffix(".md").write_text(markdown(result))

    print(REUSED, file=sys.stderr)
    earlier = json.loads(args.out.read_text()).get("copy") if args.skip_copy and args.out.is_file() else None
    if earlier:
        earlier["earlier_run"] = True
    result["copy"] = copy_documents(args.base, index, args.copies) if not args.skip_copy else earlier or \
        {"note": REUSED, "documents": "-", "passages": "-", "seconds": "-", "passages_per_s": "-",
         "load_before": [0], "load_after": [0]}
    save()
    if args.copy_only:
        print(json.dumps(result["copy"]))
        return 0
    result["cache_build"] = build_cache(index)
    save()
    result["probe"] = in_fresh_process("--probe", index)
    save()
    result["dense"] = in_fresh_process("--dense", index)
    save()
    if not args.skip_page:
        result["page"] = page_and_new_document(index, args.work)
        save()
    print(markdown(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
