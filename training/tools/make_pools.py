"""Sentence pools for the labellers: contiguous runs of sentences from documents outside the earlier labelled set,
so introductions, method notes, definitions and chronology rows come up as often as they occur.

    python training/tools/make_pools.py OUT_DIR [--pools 4] [--per-pool 600] [--overlap 200] [--seed 7]

Writes OUT_DIR/pool-<i>.jsonl ({"id", "source", "text", "position"}) and OUT_DIR/overlap.jsonl (sentences drawn
from every pool, for a second, independent labeller). A stand-alone reader of the shared texts: it does not use
the product's parser, so the labellers see plain sentences.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
from training.splits import split_of, was_tuned_on  # noqa: E402

SHARED = ROOT.parent / "shared" / "data"
_SENT = re.compile(r"(?<=[.!?])[\"”’)]?\s+(?=[A-Z0-9\"“‘(•])")


def body_of(path: Path) -> str:
    text = path.read_text(encoding="utf-8", errors="replace")
    if "-" * 72 in text:
        text = text.split("-" * 72, 1)[1]
    return text


def blocks_of(text: str) -> list[str]:
    """Paragraph-like blocks: blank lines or form feeds separate them; wrapped lines are joined."""
    out = []
    for block in re.split(r"\n\s*\n|\f", text):
        lines = [ln.strip() for ln in block.splitlines() if ln.strip()]
        # running footers and page numbers of the text extractions
        lines = [ln for ln in lines if not re.fullmatch(r"\d{1,3}|Page \d+ of \d+", ln)]
        if lines:
            out.append(" ".join(lines))
    return out


def sentences_of(path: Path) -> list[str]:
    out = []
    for block in blocks_of(body_of(path)):
        for s in _SENT.split(block):
            s = " ".join(s.split())
            if 2 <= len(s.split()) <= 90:
                out.append(s)
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--pools", type=int, default=4)
    ap.add_argument("--per-pool", type=int, default=600)
    ap.add_argument("--overlap", type=int, default=200)
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args()
    rng = random.Random(args.seed)
    ofsted = sorted(p for p in (SHARED / "ofsted" / "text").rglob("*.txt") if not was_tuned_on(p.name))
    pfd = sorted((SHARED / "pfd").glob("*.txt"))
    samples = sorted((ROOT / "assistant" / "samples" / "source").glob("*.md"))
    rng.shuffle(ofsted)
    rng.shuffle(pfd)
    # each pool: runs of 12 sentences; about 75 % Ofsted, 20 % coroners' reports, 5 % sample reviews
    sources = {i: [] for i in range(args.pools)}
    for j, p in enumerate(ofsted[: args.pools * 45]):
        sources[j % args.pools].append(p)
    for j, p in enumerate(pfd):
        sources[j % args.pools].append(p)
    for j, p in enumerate(samples):
        sources[j % args.pools].append(p)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    overlap = []
    used: set[str] = set()
    for i, paths in sources.items():
        pool: list[dict] = []
        rng.shuffle(paths)
        budget = {"ofsted": int(args.per_pool * 0.75), "pfd": int(args.per_pool * 0.2)}
        budget["samples"] = args.per_pool - sum(budget.values())
        for p in paths:
            family = "pfd" if p.parent.name == "pfd" else "samples" if p.suffix == ".md" else "ofsted"
            sents = sentences_of(p)
            if not sents or budget[family] <= 0:
                continue
            take = min(12 if family != "pfd" else 14, budget[family])
            # one run from the start (cover, introduction) in a quarter of the documents, else from anywhere
            start = 0 if rng.random() < 0.25 else rng.randrange(0, max(1, len(sents) - take))
            for pos in range(start, min(len(sents), start + take)):
                text = sents[pos]
                sid = "s-" + hashlib.sha256(f"{p.name}:{pos}:{text}".encode()).hexdigest()[:10]
                if sid in used:
                    continue
                used.add(sid)
                pool.append({"id": sid, "source": p.name, "text": text, "position": pos,
                             "split": split_of(p.name)})
                budget[family] -= 1
        (out / f"pool-{i + 1}.jsonl").write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in pool))
        overlap.extend(rng.sample(pool, min(len(pool), args.overlap // args.pools)))
        print(f"pool-{i + 1}: {len(pool)} sentences from {len({r['source'] for r in pool})} documents")
    rng.shuffle(overlap)
    (out / "overlap.jsonl").write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in overlap))
    print(f"overlap: {len(overlap)}")


if __name__ == "__main__":
    main()
