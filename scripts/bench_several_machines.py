"""Several machines at full size: the README's recipe on all 842 shared Ofsted texts. One Chroma server (`chroma
run` on a free loopback port), two `latent ingest` processes writing the two folders of the texts at the same time
(focused visits, inspections), and two pages (`latent chat --server`, each with its own cache folder, as on two
machines) reading throughout. `tests/test_several_machines.py` (in `make test`) does the same with small folders;
this is its full-size run, too long for a test.

    .venv/bin/python scripts/bench_several_machines.py --reference INDEX --work DIR [--out FILE.json]

INDEX is one process's embedded index of the same texts (`latent ingest --index INDEX ../shared/data/ofsted/text`,
or `make bench`'s text index), built with the same model and backend. Checked afterwards, as the test does: the
server holds the same documents, passage ids, texts, metadata and vectors as INDEX, no passage twice, counts equal
to the manifest's. An INDEX built by an older version may carry older tags: the reference's tags are computed
again with this version's tagger from each passage's text and role, as ingest computes them. Timed (with the load
average): both writers, and for each page and document the seconds from the writer's "stored" line to the page
serving it.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.test_server import ChromaServer  # noqa: E402
from tests.test_several_machines import LATENT, Page, _env, start_page, store_contents, stored_lines  # noqa: E402

TEXTS = ROOT.parent / "shared" / "data" / "ofsted" / "text"


def load() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def watch(pages: list[Page], stored: dict[str, float], ids: dict[str, str], stop: threading.Event) -> None:
    """Ask each page for each document stored so far and not yet served by it."""
    while not stop.is_set():
        for path in list(stored):  # one C call under the GIL: a follower adding a key cannot break it
            for page in pages:
                doc_id = ids[path]
                if doc_id not in page.seen and page.serves(doc_id):
                    page.seen[doc_id] = time.monotonic()
        stop.wait(0.5)


def reference_contents(index: Any) -> tuple[dict[str, tuple[Any, ...]], dict[str, tuple[Any, ...]], np.ndarray]:
    """store_contents of the reference index, its tags computed again by this version's tagger."""
    from vectorstore.store import passage_from_metadata, passage_metadata
    from vectorstore.taxonomy.tagger import tag_passage

    docs, passages, vectors = store_contents(index)
    manifest = index.store.manifest()
    retagged = {}
    for pid, (text, *items) in passages.items():
        p = passage_from_metadata(pid, text, dict(items))
        p = replace(p, tags=tag_passage(p.text, p.role))
        retagged[pid] = (text, *sorted(passage_metadata(p, manifest[p.doc_id]).items()))
    return docs, retagged, vectors


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--reference", type=Path, required=True)
    ap.add_argument("--work", type=Path, required=True)
    ap.add_argument("--out", type=Path, default=ROOT / "bench-results" / "several-machines.json")
    ap.add_argument("--texts", type=Path, default=TEXTS, help="a folder whose subfolders each writer takes one of")
    args = ap.parse_args()
    from ingest.pipeline import document_id
    from vectorstore import open_index
    from vectorstore.index import RECHECK_SECONDS

    args.work.mkdir(parents=True, exist_ok=True)
    folders = sorted(p for p in args.texts.iterdir() if p.is_dir())
    paths = sorted(p.resolve() for f in folders for p in f.rglob("*") if p.is_file())
    ids = {str(p): document_id(p) for p in paths}
    result: dict[str, Any] = {"started": time.strftime("%Y-%m-%d %H:%M:%S"), "load_before": load(),
                              "folders": {f.name: len([p for p in f.rglob("*") if p.is_file()]) for f in folders}}
    server = ChromaServer(args.work / "chroma-server")
    server.start()
    pages = [start_page(server, args.work / f"page-{n}", free_port()) for n in (1, 2)]
    stored: dict[str, float] = {}
    stop = threading.Event()
    watcher = threading.Thread(target=watch, args=(pages, stored, ids, stop), daemon=True)
    watcher.start()
    t0 = time.monotonic()
    writers = [subprocess.Popen([LATENT, "ingest", "--json", "--server", server.url, "--index",
                                 str(args.work / f"writer-{f.name}"), str(f)], stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True, env=_env()) for f in folders]
    followers = [threading.Thread(target=stored_lines, args=(w, stored), daemon=True) for w in writers]
    try:
        for f in followers:
            f.start()
        reports = []
        for w in writers:
            assert w.stdout is not None
            reports.append(json.loads(w.stdout.read()))
            assert w.wait() == 0
        result["writers_s"] = round(time.monotonic() - t0, 1)
        result["load_after_writers"] = load()
        for f in followers:
            f.join(30)
        added = sorted(Path(p) for r in reports for p in r["added"])
        result["added"], result["failed"] = len(added), sum(len(r["failed"]) for r in reports)
        time.sleep(RECHECK_SECONDS + 0.1)
        result["pages_missing_after_recheck"] = {page.url: [d for d in ids.values() if not page.serves(d)]
                                                 for page in pages}
    finally:
        stop.set()
        watcher.join(60)
        for page in pages:
            page.process.terminate()
            page.process.wait(30)
    delays = [page.seen[ids[p]] - stored[p] for page in pages for p in stored if ids[p] in page.seen]
    delays.sort()
    result["stored_to_served_s"] = {
        "pairs": len(delays), "median": round(statistics.median(delays), 2),
        "p95": round(delays[max(0, round(0.95 * len(delays)) - 1)], 2), "max": round(delays[-1], 2)}

    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2))  # the timings are kept whatever the comparison does
    shared, reference = open_index(None, server=server.url), open_index(args.reference)
    try:
        docs_a, passages_a, vectors_a = store_contents(shared)
        docs_b, passages_b, vectors_b = reference_contents(reference)
        same_ids = sorted(passages_a) == sorted(passages_b)
        result["comparison"] = {
            "documents": len(docs_a), "reference_documents": len(docs_b),
            "documents_equal": docs_a == docs_b and set(docs_a) == set(ids.values()),
            "passages": len(passages_a), "reference_passages": len(passages_b), "passage_ids_equal": same_ids,
            "texts_and_metadata_equal": passages_a == passages_b,
            "passages_differing": sum(1 for k in passages_a if passages_a[k] != passages_b.get(k)),
            "vectors_max_abs_difference": float(np.abs(vectors_a - vectors_b).max()) if same_ids else None,
            "count_equals_manifest": shared.store.count() == len(passages_a) == sum(d[1] for d in docs_a.values()),
        }
    finally:
        shared.close()
        reference.close()
        server.close_clients()
        server.stop()
    result["load_after"] = load()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2))
    print(json.dumps(result, indent=2))
    ok = result["comparison"]["texts_and_metadata_equal"] and result["comparison"]["documents_equal"] and \
        not any(result["pages_missing_after_recheck"].values()) and not result["failed"]
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
