"""Sentence pools that favour the categories with few labels (active learning), for a further round of labellers.

    python training/tools/make_rare_pools.py OUT_DIR [--pools 3] [--anchors 60] [--seed 11]
        [--categories ID,ID] [--families ofsted,pfd,samples]

The learned tagger's test figure is held down by categories with few labelled examples (`case_info_sharing` had
28 train sentences). Random runs of sentences find few more of them, so this round picks, from `train`-split
documents only, the sentences the current tagger rates most likely for each rare category (below its threshold
too: the uncertain ones teach most), at most two per document and category, and gives each with the sentence
before and after it, so the labeller reads it in context and labels all three on every category. Sentences
already labelled are left out. `dev` and `test` documents are never drawn, so their figures stay comparable.
Writes OUT_DIR/pool-<i>.jsonl ({"id", "source", "text", "position", "split"}), as `make_pools.py` does.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
from training.splits import split_of  # noqa: E402
from training.tools.make_pools import SHARED, sentences_of  # noqa: E402
from vectorstore.taxonomy import learned  # noqa: E402
from vectorstore.taxonomy.tagger import pattern_tags  # noqa: E402

RARE = ("case_info_sharing", "case_escalation", "over_optimism", "culture", "staffing", "visits",
        "training_experience", "procedures_thresholds", "finance_change")


def labelled_ids() -> set[str]:
    out = set()
    for path in (ROOT / "training" / "data").glob("sentences-*.jsonl"):
        out |= {json.loads(line)["id"] for line in path.read_text(encoding="utf-8").splitlines() if line.strip()}
    return out


def confidences(texts: list[str]) -> dict[str, list[float]]:
    """Each category's calibrated confidence for each sentence, thresholds aside."""
    matrix, _ = learned.confidences(texts, pattern_tags(texts))
    return {c: matrix[:, j].tolist() for j, c in enumerate(learned.load_model().features.categories)}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--pools", type=int, default=3)
    ap.add_argument("--anchors", type=int, default=60, help="sentences chosen per rare category")
    ap.add_argument("--seed", type=int, default=11)
    ap.add_argument("--categories", default=",".join(RARE), help="the categories to favour, comma-separated")
    ap.add_argument("--families", default="ofsted,pfd,samples", help="which documents to draw from")
    args = ap.parse_args()
    families = set(args.families.split(","))
    rng = random.Random(args.seed)
    drawn = {"ofsted": sorted((SHARED / "ofsted" / "text").rglob("*.txt")),
             "pfd": sorted((SHARED / "pfd").glob("*.txt")),
             "samples": sorted((ROOT / "assistant" / "samples" / "source").glob("*.md"))}
    paths = [p for family in sorted(families) for p in drawn[family] if split_of(p.name) == "train"]
    done = labelled_ids()
    rows: list[dict] = []
    for p in paths:
        for pos, text in enumerate(sentences_of(p)):
            sid = "s-" + hashlib.sha256(f"{p.name}:{pos}:{text}".encode()).hexdigest()[:10]
            rows.append({"id": sid, "source": p.name, "text": text, "position": pos, "split": "train"})
    conf = confidences([r["text"] for r in rows])
    at = {(r["source"], r["position"]): i for i, r in enumerate(rows)}
    chosen: set[int] = set()
    for category in args.categories.split(","):
        per_doc: dict[str, int] = {}
        picked = 0
        for i in sorted(range(len(rows)), key=lambda i: -conf[category][i]):
            r = rows[i]
            if picked >= args.anchors or conf[category][i] <= 0.05:
                break
            if r["id"] in done or i in chosen or per_doc.get(r["source"], 0) >= 2:
                continue
            per_doc[r["source"]] = per_doc.get(r["source"], 0) + 1
            picked += 1
            chosen |= {j for j in (at.get((r["source"], r["position"] + d)) for d in (-1, 0, 1))
                       if j is not None and rows[j]["id"] not in done}
        print(f"{category}: {picked} sentences", file=sys.stderr)
    # whole documents go to one pool, in reading order, so each labeller sees every run's neighbours
    by_doc: dict[str, list[int]] = {}
    for i in sorted(chosen):
        by_doc.setdefault(rows[i]["source"], []).append(i)
    docs = sorted(by_doc)
    rng.shuffle(docs)
    pools: list[list[dict]] = [[] for _ in range(args.pools)]
    for doc in docs:
        min(pools, key=len).extend(rows[i] for i in by_doc[doc])
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    for k, pool in enumerate(pools):
        (out / f"pool-{k + 1}.jsonl").write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in pool),
                                                  encoding="utf-8")
        print(f"pool-{k + 1}: {len(pool)} sentences from {len({r['source'] for r in pool})} documents")


if __name__ == "__main__":
    main()
