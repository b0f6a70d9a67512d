"""`make train`: the tuned embedding model from the data, end to end, with its dev and test figures.

    python training/run.py [--work build/train] [--ship]

1. mine        training/mine.py: scratch index of the train split, pairs and hard negatives (build/train/pairs.jsonl)
2. train       training/train_embedder.py: MultipleNegativesRankingLoss from the bundled MiniLM (TrainConfig)
3. interpolate WiSE-FT with the base at ALPHA (chosen on dev)
4. dev         scripts/eval_embedder.py dev: dense and hybrid figures on the dev split
5. export      training/export_onnx.py: build/train/latent-minilm-tuned (int8 ONNX), checked against torch;
               with --ship it replaces vectorstore/models/latent-minilm-tuned
6. test        scripts/eval_sets.py through the CLI (indexes built by `latent ingest` with the new model, torch
               backend, LATENT_EMBEDDING__MODEL=<the interpolated folder>), then dense figures from those indexes;
               compared with the shipped model's figures in training/results/embedder.json

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
TRAINED_ON = ("training/data questions-{1..5}, questions-pfd and pfd-people, train split only (training/splits.py): "
              "question -> passages holding its evidence, hard negatives from the hybrid search "
              "(training/mine.py)")


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


def cli_test(work: Path, model: Path) -> dict[str, Any]:
    """Both evaluation indexes built by the CLI with `model`, scored through the CLI (hybrid) and from the stored
    vectors (dense)."""
    env = dict(ENV, LATENT_EMBEDDING__MODEL=str(model), LATENT_EMBEDDING__BACKEND="torch")
    out: dict[str, Any] = {}
    for which, files in (("ofsted", [str(p) for p in corpus.ofsted_question_files()]),
                         ("pfd", [str(p) for p in corpus.pfd_question_files()])):
        index = work / "eval-index" / which
        if not (work / f"eval-index-{which}.json").exists():
            shutil.rmtree(index, ignore_errors=True)
            run([PY, ROOT / "scripts" / "eval_sets.py", "index", which, "--index", index, "--json"],
                work / f"eval-index-{which}.json", env)
        cli = work / f"cli-{which}.json"
        if not cli.exists():
            run([PY, ROOT / "scripts" / "eval_sets.py", "questions", *files, "--index", index, "--no-ask", "--json"],
                cli, env)
        scores = work / f"index-scores-{which}.json"
        if not scores.exists():
            run([PY, ROOT / "scripts" / "eval_embedder.py", "index-scores", index, model, "--corpus", which,
                 "--work", work, "--out", scores], None, env)
        out[which] = {"cli_hybrid": json.loads(cli.read_text())["by_part"],
                       "dense": json.loads(scores.read_text())["dense"]}
    return out


def compare(fresh: dict[str, Any]) -> list[str]:
    """Test recall@5 per corpus and kind, fresh against shipped: the differences above one point."""
    if not RESULTS.exists():
        return ["no shipped figures to compare with"]
    shipped = json.loads(RESULTS.read_text())["tuned"]["test"]
    lines = []
    for which, parts in fresh.items():
        for kind, got in parts["cli_hybrid"]["test"].items():
            want = shipped.get(which, {}).get("cli_hybrid", {}).get("test", {}).get(kind, {})
            if "recall@5" in got and "recall@5" in want:
                diff = got["recall@5"] - want["recall@5"]
                lines.append(f"{which} {kind}: test recall@5 {got['recall@5']:.3f}, shipped {want['recall@5']:.3f} "
                             f"({diff:+.3f}){'  <- more than a point' if abs(diff) > 0.01 else ''}")
    return lines


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
    dev = work / "dev.json"
    if not dev.exists():
        run([PY, ROOT / "scripts" / "eval_embedder.py", "dev", mixed, "--work", work, "--out", dev])
    folder = work / "latent-minilm-tuned"
    if not (folder / "latent-model.json").exists():
        run([PY, ROOT / "training" / "export_onnx.py", mixed, "--out", folder, "--work", work,
             "--trained-on", TRAINED_ON], work / "export.json")
    test = cli_test(work, mixed)
    (work / "test.json").write_text(json.dumps(test, indent=1), encoding="utf-8")
    if args.ship:
        shutil.rmtree(SHIPPED, ignore_errors=True)
        shutil.copytree(folder, SHIPPED)
        log(f"shipped {folder} as {SHIPPED}")
    print(json.dumps({"dev": {c: {m: json.loads(dev.read_text())[c][m]["dev"] for m in ("dense", "hybrid")}
                              for c in ("ofsted", "pfd")},
                      "test": {c: {"cli_hybrid": t["cli_hybrid"]["test"], "dense": t["dense"].get("test")}
                               for c, t in test.items()},
                      "export": json.loads((work / "export.json").read_text())}, indent=1))
    for line in compare(test):
        print(line)


if __name__ == "__main__":
    main()
