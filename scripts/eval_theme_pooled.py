"""Theme questions against pooled judgements: how many of their right passages each system finds.

    python scripts/eval_theme_pooled.py [--work build/fusion] [--out FILE]

A theme question ("Which inspections found that partner agencies did not understand thresholds?") has many right
passages, in many reports, and its writer quoted those of one report. The hit rate the other scripts report
(`recall@5`: is any quoted passage in the top 5) then counts another report's right passage as a miss. So the top 5
of the test part's theme questions from the two systems compared in issue 14 (before: the bundled model with the
fusion of the time, rrf_k 60 and lexical weight 1.5; after: the tuned model with today's settings) were pooled,
shuffled, and judged passage by passage by two readers who saw neither our code nor which system found what
(`training/data/theme-judgements.jsonl`: question, document, the passage's first twelve words, relevant or not).
A third reader judged 150 of them again, for agreement.

Per system: the writers' hit rate, the hit rate with the judgements, precision@5, and recall@5 in its plain sense
(the question's judged-right passages found in the top 5, over all its judged-right passages in the pool). The
indexes are `scripts/eval_fusion.py`'s (the same folders; built here when missing). A passage of the top 5 that no
one judged counts as not right and is reported: for these two systems there is none; for another, the pool is
incomplete.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

for _k in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "HF_HUB_DISABLE_TELEMETRY"):
    os.environ[_k] = "1"

JUDGEMENTS = ROOT / "training" / "data" / "theme-judgements.jsonl"
SYSTEMS = {"before": ("all-MiniLM-L6-v2", "base", True), "after": ("latent-minilm-tuned", "tuned", False)}


def score(tops: dict[str, list[dict[str, str]]], rows: list[dict[str, Any]],
          judged: list[dict[str, Any]]) -> dict[str, Any]:
    """The four figures for one system's top 5 of each question."""
    from eval_sets import contains, relevant

    from training.splits import document_key

    by_question: dict[str, list[dict[str, Any]]] = {}
    for j in judged:
        by_question.setdefault(j["id"], []).append(j)

    def same(j: dict[str, Any], hit: dict[str, str]) -> bool:  # the judged passage is this hit
        return document_key(j["doc"]) == document_key(hit["source"]) and contains(hit["text"], j["quote"])

    n = len(rows)
    writers = pooled = unjudged = 0
    precision, recall = [], []
    for r in rows:
        top, mine = tops[r["id"]], by_question.get(r["id"], [])
        verdicts = [[j["relevant"] for j in mine if same(j, h)] for h in top]
        unjudged += sum(not v for v in verdicts)
        by_writer = [relevant(h, r) for h in top]
        right = [any(v) or w for v, w in zip(verdicts, by_writer, strict=True)]
        writers += any(by_writer)
        pooled += any(right)
        precision.append(sum(right) / 5)
        wanted = [j for j in mine if j["relevant"]]
        if wanted:
            recall.append(sum(any(same(j, h) for h in top) for j in wanted) / len(wanted))
    return {"questions": n, "hit_rate_writers": round(writers / n, 3), "hit_rate_pooled": round(pooled / n, 3),
            "precision@5": round(sum(precision) / n, 3), "recall@5": round(sum(recall) / max(1, len(recall)), 3),
            "questions_with_judged_right_passages": len(recall), "unjudged_in_top5": unjudged}


def main() -> None:
    from eval_embedder import dev_documents, emit, questions_for

    from training import corpus
    from training.mine import MINING_FUSION
    from vectorstore import RankRequest

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--work", type=Path, default=ROOT / "build" / "fusion")
    ap.add_argument("--out", type=Path)
    args = ap.parse_args()
    judged = [j for j in corpus.read_jsonl([JUDGEMENTS]) if j["judge"] != "judge-3"]
    rows = [r for r in questions_for("ofsted", {"test"}) if r["kind"] == "theme"]
    docs = corpus.read_documents(dev_documents("ofsted", "test"), args.work / "passages")
    out: dict[str, Any] = {}
    for system, (model, name, old_fusion) in SYSTEMS.items():
        index = corpus.product_index(args.work / f"{name}-test-ofsted", docs, model)
        settings = index.settings.search.model_copy(update=dict(MINING_FUSION)) if old_fusion else None
        tops = {r["id"]: [{"source": h.document.source, "text": h.text}
                          for h in index.rank(RankRequest(r["question"], k=5, settings=settings)).hits] for r in rows}
        index.close()
        out[system] = score(tops, rows, judged)
        print(system, out[system], flush=True)
    out["agreement"] = agreement(corpus.read_jsonl([JUDGEMENTS]))
    emit(out, args.out)


def agreement(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """The third reader's verdicts against the first two's on the passages judged twice: raw agreement and
    Cohen's kappa."""
    first = {(j["id"], j["doc"], j["quote"]): j["relevant"] for j in rows if j["judge"] != "judge-3"}
    pairs = [(first[k], j["relevant"]) for j in rows if j["judge"] == "judge-3"
             and (k := (j["id"], j["doc"], j["quote"])) in first]
    if not pairs:
        return {"passages": 0}
    n = len(pairs)
    observed = sum(a == b for a, b in pairs) / n
    pa, pb = sum(a for a, _ in pairs) / n, sum(b for _, b in pairs) / n
    expected = pa * pb + (1 - pa) * (1 - pb)
    return {"passages": n, "agreement": round(observed, 3),
            "kappa": round((observed - expected) / (1 - expected), 3) if expected < 1 else 1.0}


if __name__ == "__main__":
    main()
