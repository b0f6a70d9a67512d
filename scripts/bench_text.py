"""The text work done at ingest beside the model, each against the model on the same text in the same run: the
tagger (tests/labelled/sentences.jsonl, five times) and the sentence splitter (40 Ofsted texts). These were timing
assertions in the tests (1,500 tagged and 20,000 split sentences a second), which failed on a loaded machine for
no fault; here they are ratios, with the load average at each measurement.

    .venv/bin/python scripts/bench_text.py [--out bench-results/text.json] [--ofsted-docs 40] [--repeat 5]
A ratio is how many times faster than the model the step is (the model encoding the same sentences one by one,
as ingest does): tagging at 20x the model's rate costs ingest under 5%.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

os.environ.update({"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "HF_HUB_DISABLE_TELEMETRY": "1"})
ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("LATENT_SHARED") or ROOT.parent / "shared")
sys.path.insert(0, str(ROOT))


def load() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def timed(fn: Any, *args: Any) -> tuple[float, list[float], Any]:
    before = load()
    t0 = time.perf_counter()
    out = fn(*args)
    return time.perf_counter() - t0, before, out


def run(labelled: Path, ofsted: Path, docs: int, repeat: int, model_sample: int) -> dict[str, Any]:
    from vectorstore.embedding import get_embedder
    from vectorstore.sentences import split_sentences
    from vectorstore.taxonomy.tagger import tag_sentences

    sentences = [json.loads(line)["text"] for line in labelled.read_text(encoding="utf-8").splitlines()]
    texts = [p.read_text(encoding="utf-8") for p in sorted(ofsted.glob("*/*.txt"))[:docs]]
    embedder = get_embedder()
    embedder.encode(["warm up"])
    tag_sentences(sentences[:10])
    sample = sentences[:model_sample]
    model_s, model_load, _ = timed(embedder.encode, sample)
    model_rate = len(sample) / model_s
    tag_s, tag_load, _ = timed(tag_sentences, sentences * repeat)
    split_s, split_load, spans = timed(lambda: [split_sentences(t) for t in texts])
    split_count = sum(len(s) for s in spans)
    tag_rate = len(sentences) * repeat / tag_s
    split_rate = split_count / split_s
    return {"load_before": model_load,
            "model": {"sentences": len(sample), "per_s": round(model_rate, 1), "load": model_load},
            "tagger": {"sentences": len(sentences) * repeat, "per_s": round(tag_rate), "load": tag_load,
                       "times_model": round(tag_rate / model_rate, 1)},
            "splitter": {"texts": len(texts), "sentences": split_count, "per_s": round(split_rate),
                         "load": split_load, "times_model": round(split_rate / model_rate, 1)},
            "load_after": load()}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--labelled", type=Path, default=ROOT / "tests" / "labelled" / "sentences.jsonl")
    ap.add_argument("--ofsted", type=Path, default=SHARED / "data" / "ofsted" / "text")
    ap.add_argument("--ofsted-docs", type=int, default=40)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--model-sample", type=int, default=300, help="sentences the model encodes for the baseline")
    ap.add_argument("--out", type=Path, default=ROOT / "bench-results" / "text.json")
    args = ap.parse_args()
    result = run(args.labelled, args.ofsted, args.ofsted_docs, args.repeat, args.model_sample)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2))
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
