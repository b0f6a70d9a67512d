"""Before and after on the written questions: the base and the tuned model, each with the old and the new fusion.

    python scripts/eval_fusion.py dev|test [--work build/fusion] [--out FILE]
    python scripts/eval_fusion.py dev --grid 60:1.5,20:1.0,10:0.75      # other fusions (rrf_k:lexical_weight)

Per split, indexes of the split's documents (the Ofsted texts its questions are about, 30 distractors, and all 73
coroners' reports, as `scripts/eval_embedder.py` chooses them) are built by this code with each model on the
product's backend (onnx), then the questions are ranked through `Index.rank`: hybrid with each fusion (the settings
before issue 14's tuning, rrf_k 60 and lexical weight 1.5, and today's defaults), and dense alone. Recall@1/5/10
and MRR per kind of question. Dev chose the fusion; test is scored once per change.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

for _k in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "HF_HUB_DISABLE_TELEMETRY"):
    os.environ[_k] = "1"

from training.mine import MINING_FUSION  # noqa: E402
from vectorstore.ranking import Method  # noqa: E402

MODELS = {"base": "all-MiniLM-L6-v2", "tuned": "latent-minilm-tuned"}


def _score(index: Any, rows: list[dict[str, Any]], method: Method, fusion: tuple[int, float] | None,
           ) -> dict[str, Any]:
    from eval_embedder import block, rank_of

    from vectorstore import RankRequest

    settings = None
    if fusion is not None:
        settings = index.settings.search.model_copy(update={"rrf_k": fusion[0], "lexical_weight": fusion[1]})
    ranks: dict[str, list[int | None]] = defaultdict(list)
    for r in rows:
        hits = index.rank(RankRequest(r["question"], k=10, method=method, settings=settings)).hits
        found = rank_of([{"source": h.document.source, "text": h.text} for h in hits], r)
        ranks["all"].append(found)
        ranks[r["kind"]].append(found)
    return {kind: block(v) for kind, v in sorted(ranks.items())}


def run(split: str, work: Path, fusions: list[tuple[int, float]]) -> dict[str, Any]:
    from eval_embedder import dev_documents, questions_for

    from training import corpus
    from vectorstore.settings import SearchSettings

    today = SearchSettings()
    out: dict[str, Any] = {"split": split, "fusion_now": {"rrf_k": today.rrf_k, "lexical_weight": today.lexical_weight}}
    for which in ("ofsted", "pfd"):
        docs = corpus.read_documents(dev_documents(which, split), work / "passages")
        rows = questions_for(which, {split})
        for name, model in MODELS.items():
            t0 = time.time()
            index = corpus.product_index(work / f"{name}-{split}-{which}", docs, model)
            part: dict[str, Any] = {"passages": index.passage_count(), "dense": _score(index, rows, "dense", None)}
            for rrf_k, lexical in fusions:
                part[f"hybrid rrf_k={rrf_k} lexical={lexical}"] = _score(index, rows, "hybrid", (rrf_k, lexical))
            part["seconds"] = round(time.time() - t0)
            part["load_average"] = [round(x, 1) for x in os.getloadavg()]
            index.close()
            out[f"{which}|{name}"] = part
            print(which, name, {k: {kind: v["recall@5"] for kind, v in r.items()} for k, r in part.items()
                                if isinstance(r, dict)}, flush=True)
    return out


def main() -> None:
    from vectorstore.settings import SearchSettings

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("split", choices=["dev", "test"])
    ap.add_argument("--work", type=Path, default=ROOT / "build" / "fusion")
    ap.add_argument("--grid", help="fusions to score, rrf_k:lexical_weight,... (default: the old and today's)")
    ap.add_argument("--out", type=Path)
    args = ap.parse_args()
    today = SearchSettings()
    old = (int(MINING_FUSION["rrf_k"]), float(MINING_FUSION["lexical_weight"]))  # the fusion before the tuned model's
    fusions = ([(int(k), float(w)) for k, w in (c.split(":") for c in args.grid.split(","))] if args.grid
               else list(dict.fromkeys([old, (today.rrf_k, today.lexical_weight)])))
    from eval_embedder import emit

    emit(run(args.split, args.work, fusions), args.out)


if __name__ == "__main__":
    main()
