"""Score an embedding model on the written question sets, dense and hybrid, per split and kind; and on SciFact.

    python scripts/eval_embedder.py dev MODEL [--work build/train]            # choose on dev (small index)
    python scripts/eval_embedder.py test MODEL [--work build/train]           # the same on the test split (once)
    python scripts/eval_embedder.py index-scores INDEX_DIR MODEL --corpus ofsted|pfd   # an index built by the CLI
    python scripts/eval_embedder.py scifact MODEL [--full]                    # dense nDCG@10, quick direct figure

`dev` builds, per model, an index of the dev-split documents the Ofsted questions are about, 30 of the
distractors scripts/eval_sets.py uses, and all 73 coroners' reports (read by the product's reader, embedded by
MODEL), then scores the dev questions on it: `dense` is the cosine ranking alone, `hybrid` the product's
`Index.search` (fusion, boosts). `index-scores` gives the same two figures on an index `scripts/eval_sets.py index`
built through the CLI (dense from its stored vectors, so nothing is embedded again), for every split: the figures of
the before/after table. Right passages are decided by scripts/eval_sets.py's own rule. MODEL is a
sentence-transformers folder, or `base` for the bundled all-MiniLM-L6-v2.

`scifact` encodes SciFact's test-judged abstracts and 1,500 others (all 5,183 with --full) as title + text and
reports dense nDCG@10 over the 300 test queries: a quick check of general ability while iterating; the product's
hybrid figure comes from `latent eval --beir`.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from training import corpus  # noqa: E402
from training.splits import split_of  # noqa: E402

DEV_DISTRACTORS = 30
SCIFACT = corpus.SHARED / "beir" / "scifact"
SCIFACT_OTHERS = 1500
KINDS = ("fact", "paraphrase", "theme", "person")


def model_path(name: str) -> str:
    return corpus.base_model_path() if name == "base" else str(Path(name).resolve())


def model_id(path: str) -> str:
    """Identity for the vector cache: the folder and its weights' time of change."""
    weights = [p for p in Path(path).glob("*.safetensors")] + [p for p in Path(path).glob("*.bin")]
    return f"{path}|{max((p.stat().st_mtime_ns for p in weights), default=0)}"


def questions_for(which: str, splits: set[str]) -> list[dict[str, Any]]:
    files = corpus.ofsted_question_files() if which == "ofsted" else [*corpus.pfd_question_files(),
                                                                       corpus.people_file()]
    return [r for r in corpus.read_jsonl(files) if r.get("kind") in KINDS and corpus.split_of_question(r) in splits]


def dev_documents(which: str, split: str = "dev") -> list[Path]:
    if which == "pfd":
        return corpus.eval_corpus("pfd")
    rows = questions_for("ofsted", {split})
    names = sorted({d for r in rows for d, _ in corpus.groups_of(r) if split_of(d) == split})
    return list(dict.fromkeys(corpus.find_document(n) for n in names)) + corpus.eval_distractors()[:DEV_DISTRACTORS]


def rank_of(hits: list[dict[str, Any]], row: dict[str, Any]) -> int | None:
    ev = corpus.eval_sets()
    return next((i for i, h in enumerate(hits) if ev.relevant(h, row)), None)


def block(ranks: list[int | None]) -> dict[str, Any]:
    n = max(1, len(ranks))
    out: dict[str, Any] = {"questions": len(ranks)}
    for k in (1, 5, 10):
        out[f"recall@{k}"] = round(sum(r is not None and r < k for r in ranks) / n, 3)
    out["mrr"] = round(sum(1 / (r + 1) for r in ranks if r is not None) / n, 3)
    return out


def score_index(index: Any, rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Dense (the index's cosine ranking alone) and hybrid (`Index.search`) ranks of each question, through the
    index's public ranking (it encodes the questions itself); figures per split and kind."""
    from vectorstore import RankRequest

    per: dict[str, dict[str, list[int | None]]] = defaultdict(lambda: defaultdict(list))
    for r in rows:
        ranks = {}
        for method in ("dense", "hybrid"):
            hits = index.rank(RankRequest(r["question"], k=10, method=method)).hits
            ranks[method] = rank_of([{"source": h.document.source, "text": h.text} for h in hits], r)
        split = corpus.split_of_question(r)
        for kind in ("all", r["kind"]):
            for method, found in ranks.items():
                per[f"{method}|{split}|{kind}"]["r"].append(found)
    out: dict[str, Any] = {}
    for key in sorted(per):
        method, split, kind = key.split("|")
        out.setdefault(method, {}).setdefault(split, {})[kind] = block(per[key]["r"])
    return out


def cmd_dev(args: argparse.Namespace, split: str = "dev") -> dict[str, Any]:
    path = model_path(args.model)
    model = corpus.load_model(path)
    result: dict[str, Any] = {"model": args.model, "split": split}
    for which in ("ofsted", "pfd"):
        docs = corpus.read_documents(dev_documents(which, split), args.work / "passages")
        t0 = time.time()
        vectors = corpus.encode_cached(model, model_id(path), corpus.passage_texts(docs), args.work / "vectors")
        index = corpus.build_index(args.work / f"{split}-index" / which, path, docs, vectors)
        result[which] = score_index(index, questions_for(which, {split}))
        result[which]["passages"] = len(vectors)
        result[which]["seconds"] = round(time.time() - t0)
        index.close()
    return result


def cmd_index_scores(args: argparse.Namespace) -> dict[str, Any]:
    from vectorstore.index import open_index
    from vectorstore.settings import EmbeddingSettings, Settings

    path = model_path(args.model)
    settings = Settings(index=args.index, embedding=EmbeddingSettings(model=path, backend="torch"))
    index = open_index(args.index, settings=settings)
    result = {"model": args.model, "index": str(args.index), "corpus": args.corpus,
              **score_index(index, questions_for(args.corpus, {"train", "dev", "test"}))}
    index.close()
    return result


# -- SciFact ----------------------------------------------------------------------------------------------------
def scifact_docs(full: bool) -> tuple[dict[str, str], dict[str, str], dict[str, dict[str, int]]]:
    from assistant.evaluation.beir import load_beir

    beir = load_beir(SCIFACT)
    qrels = beir.qrels["test"]
    judged = {d for rel in qrels.values() for d in rel}
    ids = sorted(beir.corpus)
    if not full:
        others = [d for d in ids if d not in judged]
        random.Random(14).shuffle(others)
        ids = sorted(judged | set(others[:SCIFACT_OTHERS]))
    texts = {d: f"{beir.corpus[d][0]}\n{beir.corpus[d][1]}" for d in ids}
    queries = {q: beir.queries[q] for q in qrels if q in beir.queries}
    return texts, queries, qrels


def cmd_scifact(args: argparse.Namespace) -> dict[str, Any]:
    import numpy as np

    from assistant.evaluation.metrics import ndcg_at

    path = model_path(args.model)
    model = corpus.load_model(path)
    texts, queries, qrels = scifact_docs(args.full)
    ids = list(texts)
    vectors = corpus.encode_cached(model, model_id(path), [texts[d] for d in ids], args.work / "vectors")
    qids = list(queries)
    qv = corpus.encode(model, [queries[q] for q in qids])
    sims = vectors @ qv.T
    values = []
    for j, q in enumerate(qids):
        top = np.argsort(-sims[:, j])[:100]
        values.append(ndcg_at(qrels[q], {ids[i]: float(sims[i, j]) for i in top}, 10))
    return {"model": args.model, "documents": len(ids), "queries": len(qids),
            "dense_ndcg@10": round(float(np.mean(values)), 4)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("what", choices=["dev", "test", "index-scores", "scifact"])
    ap.add_argument("args", nargs="+")
    ap.add_argument("--work", type=Path, default=ROOT / "build" / "train")
    ap.add_argument("--corpus", choices=["ofsted", "pfd"], default="ofsted")
    ap.add_argument("--full", action="store_true")
    ap.add_argument("--out", type=Path, help="also write the result here (JSON)")
    args = ap.parse_args()
    os.environ.setdefault("LATENT_TORCH_THREADS", "2")
    import torch

    torch.set_num_threads(2)
    if args.what == "index-scores":
        args.index, args.model = Path(args.args[0]).resolve(), args.args[1]
    else:
        args.model = args.args[0]
    commands = {"dev": cmd_dev, "test": lambda a: cmd_dev(a, "test"), "index-scores": cmd_index_scores,
                "scifact": cmd_scifact}
    emit(commands[args.what](args), args.out)


def emit(result: dict[str, Any], out: Path | None) -> None:
    """The result with the load average, printed as JSON (and written to `out`)."""
    result["load_average"] = [round(x, 1) for x in os.getloadavg()]
    text = json.dumps(result, indent=1)
    if out:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text, encoding="utf-8")
    print(text)


if __name__ == "__main__":
    main()
