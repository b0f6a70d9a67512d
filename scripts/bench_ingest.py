"""Ingest benchmark: the 60 Ofsted PDFs through the pipeline, against the raw `encode` rate of the same model on
the same texts in the same run (the ratio is our overhead); re-ingest time; search latency p50/p95; paragraph
numbers found in the full inspection reports, with a random sample checked against the printed page.

    .venv/bin/python scripts/bench_ingest.py [--pdfs ../shared/data/ofsted/pdf] [--out bench-results]
Results: bench-results/ingest.json and .md (git-ignored). The machine is shared: load averages are recorded.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import statistics
import tempfile
import time
from pathlib import Path

os.environ.update({"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "HF_HUB_DISABLE_TELEMETRY": "1"})

QUERIES = ["how many children is each social worker responsible for", "management oversight of the front door",
           "agency social workers and staff turnover", "quality of child protection plans",
           "care leavers accommodation", "strategy discussions delayed by police availability",
           "children missing from education", "life-story work for children in care",
           "caseloads are too high", "supervision is regular but of variable quality",
           "what did Ofsted find in Wigan in 2022", "early help thresholds", "domestic abuse response",
           "disabled children services", "private fostering arrangements", "exploitation and missing children",
           "permanence planning", "unregistered children's homes", "the impact of leaders", "COVID-19 pandemic"]


def percentile(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, round(q * (len(values) - 1)))]


def printed_number_before(page_text: str, start_words: str) -> str | None:
    """The paragraph number printed nearest before the passage's first words on its page (pypdf's text)."""
    flat = " ".join(page_text.split())
    at = flat.find(start_words)
    if at < 0:
        return "?"
    found = re.findall(r"(?:^|\s)(\d{1,3})\.\s+[A-Z]", flat[:at + 8])
    return found[-1] if found else None


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--pdfs", default=str(Path(__file__).resolve().parents[2] / "shared/data/ofsted/pdf"))
    ap.add_argument("--out", default="bench-results")
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args()
    from ingest import ingest_paths
    from ingest.pipeline import embedding_text
    from vectorstore import open_index

    out = Path(args.out)
    out.mkdir(exist_ok=True)
    result: dict[str, object] = {"load_before": os.getloadavg(), "cpus": os.cpu_count()}
    with tempfile.TemporaryDirectory() as tmp:
        index = open_index(Path(tmp) / "index")
        index.embedder.encode(["warm up the model so both timings exclude loading it"])
        t0 = time.perf_counter()
        report = ingest_paths(index, [args.pdfs])
        ingest_s = time.perf_counter() - t0
        passages = index.passages()
        texts = [embedding_text(p) for p in passages]
        t0 = time.perf_counter()
        for i in range(0, len(texts), 64):
            index.embedder.encode(texts[i:i + 64])
        encode_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        again = ingest_paths(index, [args.pdfs])
        reingest_s = time.perf_counter() - t0
        latencies = []
        index.search("warm", k=10)
        for _ in range(3):
            for q in QUERIES:
                t0 = time.perf_counter()
                index.search(q, k=10)
                latencies.append((time.perf_counter() - t0) * 1000)
        docs = {d.id: d for d in index.documents()}
        full = [p for p in passages if docs[p.doc_id].kind == "inspection"]
        numbered = [p for p in full if p.paragraph]
        from pypdf import PdfReader

        rng = random.Random(args.seed)
        sample = []
        for p in rng.sample(numbered, 10):
            page_text = PdfReader(docs[p.doc_id].source).pages[p.page - 1].extract_text()
            words = " ".join(p.text.split()[1:6]) if p.paragraph else " ".join(p.text.split()[:5])
            sample.append({"file": Path(docs[p.doc_id].source).name, "page": p.page, "stored": p.paragraph,
                           "printed": printed_number_before(page_text, words), "start": p.text[:60]})
        result.update({
            "files": len(report.added), "failed": [f.file for f in report.failed], "passages": len(passages),
            "ingest_seconds": round(ingest_s, 1), "ingest_passages_per_s": round(len(passages) / ingest_s, 1),
            "raw_encode_seconds": round(encode_s, 1), "raw_encode_passages_per_s": round(len(texts) / encode_s, 1),
            "pipeline_to_encode_ratio": round(encode_s / ingest_s, 3),
            "reingest_seconds": round(reingest_s, 2), "reingest_share": round(reingest_s / ingest_s, 4),
            "reingest_unchanged": len(again.unchanged),
            "search_ms_p50": round(statistics.median(latencies), 1),
            "search_ms_p95": round(percentile(latencies, .95), 1),
            "inspection_passages": len(full), "inspection_passages_numbered": len(numbered),
            "inspection_numbered_share": round(len(numbered) / max(1, len(full)), 3),
            "paragraph_sample": sample, "load_after": os.getloadavg(),
        })
    (out / "ingest.json").write_text(json.dumps(result, indent=2))
    lines = ["| measure | value |", "|---|---|"]
    lines += [f"| {k} | {v} |" for k, v in result.items() if k != "paragraph_sample"]
    lines += ["", "| file | page | stored | printed | passage starts |", "|---|---|---|---|---|"]
    lines += [f"| {s['file']} | {s['page']} | {s['stored']} | {s['printed']} | {s['start']} |" for s in sample]
    (out / "ingest.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
