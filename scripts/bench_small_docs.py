"""Small documents at full speed: SciFact's 5,183 abstracts ingested (one Markdown file each, as `latent eval
--beir` writes them), against the model alone encoding the same passages in the same run (the ratio is what the
pipeline keeps of the model's rate; issue 15 asks at least 0.8). Also, on the first --writes documents, the Chroma
writes alone: one `store_documents` per encode batch against one per document (what each ingest did before).

    .venv/bin/python scripts/bench_small_docs.py [--docs 5183] [--writes 300] [--out bench-results/small-docs.json]
The load average is recorded at each measurement.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

os.environ.update({"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "HF_HUB_DISABLE_TELEMETRY": "1",
                   "ANONYMIZED_TELEMETRY": "False", "TOKENIZERS_PARALLELISM": "false"})
ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("LATENT_SHARED") or ROOT.parent / "shared")
sys.path.insert(0, str(ROOT))


def load() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def run(scifact: Path, work: Path, n_docs: int, writes: int) -> dict[str, Any]:
    from dataclasses import replace

    from assistant.evaluation.beir import load_beir, write_corpus
    from ingest import ingest_paths
    from ingest.pipeline import ENCODE_BATCH, embedding_text
    from vectorstore import open_index

    beir = load_beir(scifact)
    if n_docs < len(beir.corpus):
        beir = replace(beir, corpus=dict(list(beir.corpus.items())[:n_docs]))
    files = work / "corpus"
    write_corpus(beir, files)
    index = open_index(work / "index")
    index.embedder.encode(["warm up the model so neither timing includes loading it"])
    out: dict[str, Any] = {"documents": len(list(files.glob("*.md")))}
    before = load()
    t0 = time.perf_counter()
    report = ingest_paths(index, [files])
    seconds = time.perf_counter() - t0
    out["ingest"] = {"passages": report.passages, "failed": len(report.failed), "seconds": round(seconds, 1),
                     "passages_per_s": round(report.passages / seconds, 2), "load_before": before,
                     "load_after": load()}
    passages = index.passages()
    texts = [embedding_text(p) for p in passages]
    before = load()
    t0 = time.perf_counter()
    for i in range(0, len(texts), ENCODE_BATCH):
        index.embedder.encode(texts[i:i + ENCODE_BATCH])
    encode_s = time.perf_counter() - t0
    out["raw_encode"] = {"passages": len(texts), "seconds": round(encode_s, 1),
                         "passages_per_s": round(len(texts) / encode_s, 2), "load_before": before, "load_after": load()}
    out["ingest_to_raw_encode"] = round(out["ingest"]["passages_per_s"] / out["raw_encode"]["passages_per_s"], 3)
    out["writes"] = chroma_writes(index, passages, work, writes)
    index.close()
    return out


def chroma_writes(index: Any, passages: list[Any], work: Path, n_docs: int) -> dict[str, Any]:
    """The same documents (passages and vectors) stored into two fresh indexes: a document at a time, then in the
    ingest's batches."""
    import numpy as np

    from ingest.pipeline import ENCODE_BATCH
    from vectorstore import open_index

    docs = {d.id: d for d in index.documents()}
    by_doc: dict[str, list[Any]] = {}
    for p in passages:
        if p.doc_id in by_doc or len(by_doc) < n_docs:
            by_doc.setdefault(p.doc_id, []).append(p)
    vectors = index.embedder.encode([p.text for ps in by_doc.values() for p in ps])
    items, at = [], 0
    for doc_id, ps in by_doc.items():
        items.append((docs[doc_id], ps, np.asarray(vectors[at:at + len(ps)])))
        at += len(ps)
    out: dict[str, Any] = {"documents": len(items)}
    for name in ("one_at_a_time", "batched"):
        target = open_index(work / f"writes-{name}")
        before = load()
        t0 = time.perf_counter()
        if name == "one_at_a_time":
            for item in items:
                target.store_documents([item])
        else:
            batch: list[Any] = []
            for item in items:
                batch.append(item)
                if sum(len(b[1]) for b in batch) >= ENCODE_BATCH:
                    target.store_documents(batch)
                    batch = []
            target.store_documents(batch)
        seconds = time.perf_counter() - t0
        out[name] = {"seconds": round(seconds, 2), "ms_per_document": round(seconds / len(items) * 1000, 1),
                     "load_before": before, "load_after": load()}
        target.close()
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--scifact", type=Path, default=SHARED / "data" / "beir" / "scifact")
    ap.add_argument("--docs", type=int, default=10**9, help="the first N abstracts only")
    ap.add_argument("--writes", type=int, default=300, help="documents stored again to time the Chroma writes alone")
    ap.add_argument("--out", type=Path, default=ROOT / "bench-results" / "small-docs.json")
    args = ap.parse_args()
    if not args.scifact.exists():
        print(f"no SciFact at {args.scifact} (set LATENT_SHARED)", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="latent-bench-small-") as tmp:
        result = {"started": time.strftime("%Y-%m-%d %H:%M:%S"), "load_before": load(),
                  **run(args.scifact, Path(tmp), args.docs, args.writes), "load_after": load()}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2))
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
