"""nDCG@k and Recall@k exactly as trec_eval computes them (and so pytrec_eval, and so BEIR).

The semantics, each of which moves the numbers:
- A run is `{qid: {docid: score}}`; the rank column of a TREC file is ignored and each query's documents are
  re-sorted by score descending, ties broken by document id in *descending* string order (trec_eval's
  `comp_sim_docno` is `strcmp(ptr2->docno, ptr1->docno)`). Two documents tied at 0.5, "d1" and "d2", rank d2 first.
- Gains are the qrels grades (linear, not 2^rel - 1); the discount of rank r (1-based) is log2(r + 1); the ideal
  ranking is every judged document of the query sorted by grade, cut at k. Grades <= 0 count as not relevant.
- Recall@k counts documents graded >= 1 among the first k, over all documents graded >= 1.
- A query is scored only if its qrels hold at least one relevant document; a scored query with nothing retrieved
  scores 0 (trec_eval -c). pytrec_eval instead leaves out queries absent from the run, which flatters a method
  that returns nothing for hard queries, so we do not follow it there.

Worked value: relevant {a: 2, b: 1}, run a > x > b: DCG@10 = 2/log2(2) + 1/log2(4) = 2.5; ideal = 2 + 1/log2(3)
= 2.6309; nDCG@10 = 0.9502.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

Qrels = Mapping[str, Mapping[str, int]]
Run = Mapping[str, Mapping[str, float]]


def ranked(scores: Mapping[str, float]) -> list[str]:
    """Document ids in trec_eval's order: score descending, then id descending."""
    return [d for d, _ in sorted(scores.items(), key=lambda x: (x[1], x[0]), reverse=True)]


def ndcg_at(rels: Mapping[str, int], scores: Mapping[str, float], k: int) -> float:
    """nDCG@k of one query (rels: its judged documents and grades)."""
    ideal_gains = sorted((g for g in rels.values() if g > 0), reverse=True)[:k]
    ideal = sum(g / math.log2(r + 2) for r, g in enumerate(ideal_gains))
    if ideal == 0:
        return 0.0
    dcg = sum(max(rels.get(d, 0), 0) / math.log2(r + 2) for r, d in enumerate(ranked(scores)[:k]))
    return dcg / ideal


def recall_at(rels: Mapping[str, int], scores: Mapping[str, float], k: int) -> float:
    """Recall@k of one query."""
    relevant = {d for d, g in rels.items() if g > 0}
    if not relevant:
        return 0.0
    return len(relevant.intersection(ranked(scores)[:k])) / len(relevant)


def scored_queries(qrels: Qrels) -> list[str]:
    """Queries with at least one relevant document: the ones a mean is taken over."""
    return sorted(q for q, rels in qrels.items() if any(g > 0 for g in rels.values()))


def evaluate(qrels: Qrels, run: Run, ndcg_k: int = 10, recall_k: int = 100) -> dict[str, float]:
    """Mean nDCG@ndcg_k and Recall@recall_k over the scored queries, with their count."""
    queries = scored_queries(qrels)
    if not queries:
        return {f"ndcg@{ndcg_k}": 0.0, f"recall@{recall_k}": 0.0, "queries": 0}
    ndcg = sum(ndcg_at(qrels[q], run.get(q, {}), ndcg_k) for q in queries) / len(queries)
    recall = sum(recall_at(qrels[q], run.get(q, {}), recall_k) for q in queries) / len(queries)
    return {f"ndcg@{ndcg_k}": ndcg, f"recall@{recall_k}": recall, "queries": len(queries)}
