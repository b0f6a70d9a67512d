"""Fine-tune the bundled all-MiniLM-L6-v2 on the mined pairs, then interpolate it with the base (WiSE-FT).

    python training/train_embedder.py --work build/train --out build/train/tuned [--epochs 1 --lr 2e-5 ...]
    python training/train_embedder.py --work build/train --interpolate 0.6 --tuned DIR --out DIR

The loss is sentence-transformers' MultipleNegativesRankingLoss (InfoNCE with in-batch negatives, scale 20):
each question against its positive passage, every other pair's passages in the batch, and its own hard negative
(one per pair, drawn from the mined ones each epoch). A batch never holds two pairs from one document: two
questions about one Ofsted letter often share an answer, and the loss would push each one's answer away from
the other. The loop is written out (rather than SentenceTransformerTrainer) so training needs no `datasets` or
`accelerate`, and so the seed fixes every draw.

WiSE-FT (Wortsman et al. 2022): the shipped weights are (1 - alpha) * base + alpha * tuned, with alpha chosen on
dev, which keeps most of the domain gain and most of the general ability (SciFact) of the base.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import sys
import time
from collections import defaultdict
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from training import corpus  # noqa: E402

# WiSE-FT mix shipped: (1 - ALPHA) * base + ALPHA * tuned, chosen on dev (see training/README.md).
ALPHA = 1.0
CHUNK = 16  # texts per forward pass inside a batch (sorted by length, so padding is small)


@dataclass(frozen=True)
class TrainConfig:
    """What a training run is decided by (written beside the weights)."""

    epochs: int = 1
    lr: float = 2e-5
    batch_size: int = 32
    warmup: float = 0.1  # share of steps with a linear warm-up, then a linear decay to 0
    weight_decay: float = 0.01
    hard_negatives: bool = True
    scale: float = 20.0
    seed: int = 14
    threads: int = 2


def seed_everything(seed: int) -> None:
    import numpy as np
    import torch

    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def make_batches(pairs: list[dict[str, Any]], size: int, rng: random.Random) -> list[list[dict[str, Any]]]:
    """Shuffled batches in which no two pairs share a document or a question."""
    order = pairs[:]
    rng.shuffle(order)
    open_batches: list[list[dict[str, Any]]] = []
    keys: list[set[str]] = []
    done: list[list[dict[str, Any]]] = []
    for pair in order:
        mine = {"d:" + pair["doc"], "q:" + pair["qid"]}
        for i, batch in enumerate(open_batches):
            if not (keys[i] & mine):
                batch.append(pair)
                keys[i] |= mine
                if len(batch) == size:
                    done.append(batch)
                    del open_batches[i], keys[i]
                break
        else:
            open_batches.append([pair])
            keys.append(set(mine))
    done += [b for b in open_batches if len(b) > 1]  # a batch of one has no in-batch negative
    rng.shuffle(done)
    return done


def embed_columns(model: Any, columns: list[list[str]], chunk: int = CHUNK) -> list[Any]:
    """Each column's embeddings (with gradients), computed in chunks of texts of similar length: a batch padded
    to its longest passage (~220 word-pieces) costs nearly twice one padded per chunk (passages average 126)."""
    import torch

    texts = [t for c in columns for t in c]
    lengths = [len(x) for x in model.tokenizer(texts, add_special_tokens=True, truncation=True,
                                               max_length=model.max_seq_length)["input_ids"]]
    order = sorted(range(len(texts)), key=lambda i: lengths[i])
    parts = [model(model.preprocess([texts[i] for i in order[s:s + chunk]]))["sentence_embedding"]
             for s in range(0, len(order), chunk)]
    embeddings = torch.cat(parts)[torch.argsort(torch.tensor(order))]
    return list(torch.split(embeddings, [len(c) for c in columns]))


def train(pairs: list[dict[str, Any]], base: str, out: Path, cfg: TrainConfig, log: Any = print) -> dict[str, Any]:
    import torch
    from sentence_transformers.sentence_transformer.losses import MultipleNegativesRankingLoss

    torch.set_num_threads(cfg.threads)
    seed_everything(cfg.seed)
    rng = random.Random(cfg.seed)
    model = corpus.load_model(base)
    model.train()
    loss_fn = MultipleNegativesRankingLoss(model, scale=cfg.scale)
    # A pair with no mined negative gets another document's passage (an easy negative), so every batch has the
    # same three columns.
    by_doc: dict[str, list[str]] = defaultdict(list)
    for p in pairs:
        by_doc[p["doc"]].append(p["positive"])
    docs = sorted(by_doc)
    epochs = [make_batches(pairs, cfg.batch_size, random.Random(cfg.seed + e)) for e in range(cfg.epochs)]
    total = sum(len(b) for b in epochs)
    params = [p for p in model.parameters() if p.requires_grad]
    decay = [p for p in params if p.ndim > 1]
    no_decay = [p for p in params if p.ndim <= 1]
    optimizer = torch.optim.AdamW([{"params": decay, "weight_decay": cfg.weight_decay},
                                   {"params": no_decay, "weight_decay": 0.0}], lr=cfg.lr)
    warm = max(1, int(cfg.warmup * total))
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda s: (s + 1) / warm if s < warm else max(0.0, (total - s) / max(1, total - warm)))
    step, t0, losses = 0, time.time(), []
    for e, batches in enumerate(epochs):
        for batch in batches:
            columns = [[p["question"] for p in batch], [p["positive"] for p in batch]]
            if cfg.hard_negatives:
                columns.append([rng.choice(p["negatives"]) if p["negatives"] else
                                rng.choice(by_doc[rng.choice([d for d in docs if d != p["doc"]])]) for p in batch])
            loss = loss_fn.compute_loss_from_embeddings(embed_columns(model, columns), None)
            optimizer.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(params, 1.0)
            optimizer.step()
            schedule.step()
            step += 1
            losses.append(loss.item())
            if step % 10 == 0 or step == total:
                log(f"train: epoch {e + 1} step {step}/{total} loss {sum(losses[-10:]) / len(losses[-10:]):.3f} "
                    f"({(time.time() - t0) / step:.1f} s/step)")
    model.eval()
    shutil.rmtree(out, ignore_errors=True)
    model.save(str(out))
    record = {"config": asdict(cfg), "pairs": len(pairs), "steps": total, "seconds": round(time.time() - t0),
              "final_loss": round(sum(losses[-20:]) / max(1, len(losses[-20:])), 4)}
    (out / "latent-training.json").write_text(json.dumps(record, indent=1), encoding="utf-8")
    return record


def mix_state(base: dict[str, Any], tuned: dict[str, Any], alpha: float) -> dict[str, Any]:
    """(1 - alpha) * base + alpha * tuned for every float tensor; others (position ids) as tuned has them."""
    return {name: (1 - alpha) * base[name] + alpha * value if value.is_floating_point() else value
            for name, value in tuned.items()}


def interpolate(base: str, tuned: Path, alpha: float, out: Path) -> Path:
    """WiSE-FT: a model folder whose weights are (1 - alpha) * base + alpha * tuned (same architecture)."""
    import torch

    model = corpus.load_model(tuned)
    with torch.no_grad():
        model.load_state_dict(mix_state(corpus.load_model(base).state_dict(), model.state_dict(), alpha))
    shutil.rmtree(out, ignore_errors=True)
    model.save(str(out))
    record = json.loads((tuned / "latent-training.json").read_text()) if (tuned / "latent-training.json").exists() \
        else {}
    record["wise_ft_alpha"] = alpha
    (out / "latent-training.json").write_text(json.dumps(record, indent=1), encoding="utf-8")
    return out


def read_pairs(work: Path) -> list[dict[str, Any]]:
    return corpus.read_jsonl([work / "pairs.jsonl"])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--work", type=Path, default=ROOT / "build" / "train")
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--epochs", type=int, default=TrainConfig.epochs)
    ap.add_argument("--lr", type=float, default=TrainConfig.lr)
    ap.add_argument("--batch-size", type=int, default=TrainConfig.batch_size)
    ap.add_argument("--no-hard-negatives", action="store_true")
    ap.add_argument("--seed", type=int, default=TrainConfig.seed)
    ap.add_argument("--interpolate", type=float, help="write the WiSE-FT mix of --tuned and the base instead")
    ap.add_argument("--tuned", type=Path)
    args = ap.parse_args()
    os.environ.setdefault("LATENT_TORCH_THREADS", "2")
    if args.interpolate is not None:
        interpolate(corpus.base_model_path(), args.tuned, args.interpolate, args.out)
        return
    cfg = TrainConfig(epochs=args.epochs, lr=args.lr, batch_size=args.batch_size,
                      hard_negatives=not args.no_hard_negatives, seed=args.seed)
    print(json.dumps(train(read_pairs(args.work), corpus.base_model_path(), args.out, cfg)))


if __name__ == "__main__":
    main()


