"""Question–passage pairs with hard negatives, mined at training time from the train split only.

    python training/mine.py --work build/train          # writes build/train/pairs.jsonl and mine-stats.json

1. The train-split documents the questions are about (Ofsted texts, coroners' reports, the bundled samples) and 40
   train-split Ofsted texts no question is about go into a scratch index, read and split by the product's own
   reader and embedded with the current model (the bundled all-MiniLM-L6-v2).
2. Positives: for each train question (fact, paraphrase, theme, and the person-named questions, whose evidence is
   the coroner's concerns), the passages of its train-split documents that hold one of its evidence strings, by
   the rule scripts/eval_sets.py scores with. A theme question's passages in every listed document are positive.
   At most MAX_POSITIVES per question, so a six-passage theme does not outweigh six fact questions.
3. Hard negatives: what the product's hybrid search ranks in its top NEGATIVE_DEPTH for the question and holds no
   evidence, skipping near-copies of a positive (boilerplate repeated across letters) and passages that carry
   most of an evidence string's content words (the same finding restated: likely right though unlisted). The
   usual false-negative guard, dropping candidates the current model scores near the positive (NV-Retriever's
   "TopK-PercPos"), does not fit here: on paraphrases the current model scores the positive low (cos 0.3), so it
   dropped nearly every candidate of exactly the questions the tuning is for. Theme questions take their
   negatives from documents they do not list: an unlisted passage of a listed document often answers a theme too.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from training import corpus  # noqa: E402
from training.splits import document_key, split_of  # noqa: E402

KINDS = ("fact", "paraphrase", "theme", "person")
MAX_POSITIVES = 3
NEGATIVE_DEPTH = 30  # hybrid ranks searched for negatives
# The fusion the shipped weights' negatives were mined with (the product's until the evening of 2026-12-04, when the
# tuned model got its own): pinned, so that `make train-embedder` reproduces those weights.
MINING_FUSION = {"rrf_k": 60, "lexical_weight": 1.5}
NEGATIVES_KEPT = 4  # per question; training draws one per pair
EVIDENCE_OVERLAP = 0.6  # a candidate holding this share of an evidence string's content words restates it
NEAR_COPY = 0.6  # word-set Jaccard with a positive at or above which a candidate is a copy, not a negative
SEED = 14


def train_questions() -> list[dict[str, Any]]:
    rows = corpus.read_jsonl([*corpus.ofsted_question_files(), *corpus.pfd_question_files(), corpus.people_file()])
    return [r for r in rows if r.get("kind") in KINDS and corpus.split_of_question(r) == "train"]


def train_documents(questions: list[dict[str, Any]]) -> list[Path]:
    """Every train-split document a train question lists (a theme's other documents may be dev or test: those
    stay out), then the train-split distractors."""
    names = sorted({d for r in questions for d, _ in corpus.groups_of(r) if split_of(d) == "train"})
    paths = list(dict.fromkeys(corpus.find_document(n) for n in names))
    return paths + [p for p in corpus.train_distractors() if p not in paths]


def words(text: str) -> set[str]:
    return set(re.findall(r"[a-z0-9]+", text.lower()))


def jaccard(a: set[str], b: set[str]) -> float:
    return len(a & b) / max(1, len(a | b))


def search_candidates(work: Path, questions: list[dict[str, Any]], docs: list[corpus.Document], vectors: Any,
                      model: Any, log: Any = print) -> dict[str, list[str]]:
    """The hybrid search's top NEGATIVE_DEPTH passage ids per question, on the scratch index (kept on disk:
    searching is the slow part of mining, filtering is not)."""
    import hashlib

    key = hashlib.sha256(json.dumps([[r["id"], r["question"]] for r in questions] +
                                    [d.info.id for d in docs]).encode()).hexdigest()[:16]
    path = work / f"candidates-{key}.json"
    if path.exists():
        return dict(json.loads(path.read_text(encoding="utf-8")))
    from vectorstore.settings import SearchSettings

    index = corpus.build_index(work / "scratch-index", corpus.base_model_path(), docs, vectors,
                               SearchSettings(**MINING_FUSION))
    qvec = corpus.encode(model, [r["question"] for r in questions])
    out: dict[str, list[str]] = {}
    t0 = time.time()
    for i, (r, qv) in enumerate(zip(questions, qvec, strict=True)):
        # The question's vector is given (encoded in one batch above); the search still encodes the topic of a
        # question that names documents, as `latent search` does.
        hits = index.search_with_info(r["question"], k=NEGATIVE_DEPTH, vector=qv).hits
        out[r["id"]] = [h.passage.id for h in hits]
        if (i + 1) % 200 == 0:
            log(f"mine: searched {i + 1}/{len(questions)} ({(time.time() - t0) / (i + 1):.2f} s each)")
    index.close()
    path.write_text(json.dumps(out), encoding="utf-8")
    return out


def restates_evidence(text: str, evidence: list[str]) -> bool:
    """Does the passage carry most of one evidence string's content words (the same finding in other words
    nearby, a summary repeating a paragraph)? Such a passage is likely right though unlisted."""
    have = words(text)
    for e in evidence:
        content = {w for w in words(e) if len(w) > 3}
        if content and len(content & have) >= EVIDENCE_OVERLAP * len(content):
            return True
    return False


def mine(work: Path, log: Any = print) -> dict[str, Any]:
    os.environ.setdefault("LATENT_TORCH_THREADS", "1")
    questions = train_questions()
    paths = train_documents(questions)
    docs = corpus.read_documents(paths, work / "passages")
    by_key = {document_key(d.path.name): d for d in docs}
    texts = corpus.passage_texts(docs)
    log(f"mine: {len(questions)} train questions, {len(docs)} documents, {len(texts)} passages")
    model = corpus.load_model(corpus.base_model_path())
    t0 = time.time()
    vectors = corpus.encode_cached(model, "base", texts, work / "vectors")
    log(f"mine: passages embedded in {time.time() - t0:.0f} s")
    candidates = search_candidates(work, questions, docs, vectors, model, log)
    passage = {p.id: p for _, p in corpus.iter_passages(docs)}
    ev = corpus.eval_sets()
    rng = random.Random(SEED)
    stats: Counter[str] = Counter()
    out = []
    for r in questions:
        positives = []
        listed = set()
        for name, evidence in corpus.groups_of(r):
            d = by_key.get(document_key(name))
            if d is None:
                continue
            listed.add(d.info.id)
            positives += [p for p in d.passages if any(ev.contains(p.text, e) for e in evidence)]
        positives = list({p.id: p for p in positives}.values())
        if not positives:
            stats["questions without a positive passage"] += 1
            continue
        evidence_all = [e for _, es in corpus.groups_of(r) for e in es]
        pos_ids = {p.id for p in positives}
        pos_words = [words(p.text) for p in positives]
        negatives = []
        for pid in candidates[r["id"]]:
            p = passage[pid]
            if pid in pos_ids or any(ev.contains(p.text, e) for e in evidence_all):
                continue
            if r["kind"] == "theme" and p.doc_id in listed:
                stats["candidates skipped: theme's own document"] += 1
                continue
            if any(jaccard(words(p.text), w) >= NEAR_COPY for w in pos_words):
                stats["candidates skipped: near-copy of a positive"] += 1
                continue
            if restates_evidence(p.text, evidence_all):
                stats["candidates skipped: restates the evidence"] += 1
                continue
            negatives.append(p)
            if len(negatives) == NEGATIVES_KEPT:
                break
        if len(positives) > MAX_POSITIVES:  # a seeded draw, in reading order
            positives = sorted(rng.sample(positives, MAX_POSITIVES), key=lambda p: (p.doc_id, p.page, p.char_start))
        for p in positives:
            out.append({"qid": r["id"], "kind": r["kind"], "question": r["question"], "doc": p.doc_id,
                        "positive": _text(p), "negatives": [_text(n) for n in negatives]})
        stats[f"pairs: {r['kind']}"] += len(positives)
        stats[f"questions: {r['kind']}"] += 1
        stats["hard negatives"] += len(negatives)
        stats["questions without a hard negative"] += not negatives
    (work / "pairs.jsonl").write_text("".join(json.dumps(x, ensure_ascii=False) + "\n" for x in out),
                                      encoding="utf-8")
    summary = {"questions": len(questions), "documents": len(docs), "passages": len(texts), "pairs": len(out),
               "counts": dict(sorted(stats.items()))}
    (work / "mine-stats.json").write_text(json.dumps(summary, indent=1), encoding="utf-8")
    log(f"mine: {json.dumps(summary)}")
    return summary


def _text(p: Any) -> str:
    from ingest.pipeline import embedding_text

    return embedding_text(p)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--work", type=Path, default=ROOT / "build" / "train", help="work folder (git-ignored)")
    args = ap.parse_args()
    import torch

    torch.set_num_threads(1)  # short texts on a shared 2-core machine: a second thread mostly waits
    mine(args.work)


if __name__ == "__main__":
    main()
