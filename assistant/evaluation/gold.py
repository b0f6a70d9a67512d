"""`latent eval --gold FILE`: retrieval and answer quality on a gold question set, by question kind.

Retrieval (search, k=10): recall@1/5/10, MRR, nDCG@10, where a relevant passage is one of the gold document's
passages that contains an evidence string. Answers (`ask`): refusals of unanswerable questions, false refusals,
whether the expected passage is cited, `top5_and_cited` (in the top 5 of the evidence the answer drew on, which
is scoped to the person or review the question names, and cited), and citation precision (cited passages that
contain the evidence; low by design for theme questions, whose gold names one example of many).
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import sys
import time
from pathlib import Path
from typing import Any

KINDS = ("fact", "paraphrase", "filter", "theme", "unanswerable")


def norm(text: str) -> str:
    return " ".join(text.replace("\ufffe", "-").split())


class GoldFormatError(ValueError):
    """The gold file is not JSON lines of objects with a 'question' (the CLI reports it as a usage error)."""


def load_gold(path: str) -> list[dict[str, Any]]:
    from assistant.jsonlines import UnreadableFileError, numbered_lines

    rows = []
    try:
        for n, line in numbered_lines(path):
            try:
                row = json.loads(line)
            except json.JSONDecodeError as exc:
                raise GoldFormatError(f"{path} line {n}: not JSON ({exc})") from exc
            if not isinstance(row, dict) or not isinstance(row.get("question"), str):
                raise GoldFormatError(f"{path} line {n}: expected a JSON object with a 'question'")
            row.setdefault("id", f"line-{n}")
            rows.append(row)
    except UnreadableFileError as exc:
        raise GoldFormatError(str(exc)) from exc
    return rows


def relevant_ids(index: Any, gold: dict[str, Any]) -> set[str]:
    """Passages of the gold document containing any evidence string (whitespace-normalised)."""
    if not gold.get("doc") or not gold.get("evidence"):
        return set()
    try:
        doc = index.find_document(gold["doc"])
    except Exception:
        return set()
    evidence = [norm(e) for e in gold["evidence"]]
    return {p.id for p in index.passages(doc.id) if any(e in norm(p.text) for e in evidence)}


def score_question(index: Any, gold: dict[str, Any]) -> dict[str, Any]:
    from assistant.answer import ask

    relevant = relevant_ids(index, gold)
    hits = index.search(gold["question"], k=10)
    ranks = [i for i, h in enumerate(hits) if h.id in relevant]
    first = ranks[0] if ranks else None
    dcg = sum(1 / math.log2(i + 2) for i in ranks)
    ideal = sum(1 / math.log2(i + 2) for i in range(min(len(relevant), 10)))
    # the search above left the question's vector in the embedder's cache: time the model too, as a user meets it
    getattr(index.embedder, "forget_queries", lambda: None)()
    start = time.perf_counter()
    answer = ask(index, gold["question"])
    ms = (time.perf_counter() - start) * 1000
    cited = [c.hit.id for c in answer.citations]
    # where the expected passage stood in the evidence the answer drew on (scoped to the person or review named)
    evidence_ids = [h.id for h in (answer.hits if not answer.refused else answer.nearest)]
    answer_rank = next((i for i, pid in enumerate(evidence_ids) if pid in relevant), None)
    evidence = [norm(e) for e in gold.get("evidence") or []]
    with_evidence = sum(1 for c in answer.citations if any(e in norm(c.hit.text) for e in evidence))
    return {
        "id": gold["id"], "kind": gold.get("kind", "fact"), "question": gold["question"],
        "answerable": gold.get("kind") != "unanswerable", "found_relevant": bool(relevant),
        "rank": first, "ndcg@10": dcg / ideal if ideal else 0.0, "refused": answer.refused,
        "reason": answer.reason, "cited_expected": bool(relevant & set(cited)), "citations": len(cited),
        "answer_rank": answer_rank,
        "citations_with_evidence": with_evidence, "ask_ms": ms,
    }


def summarise(rows: list[dict[str, Any]]) -> dict[str, Any]:
    def block(rs: list[dict[str, Any]]) -> dict[str, Any]:
        ans = [r for r in rs if r["answerable"]]
        una = [r for r in rs if not r["answerable"]]
        out: dict[str, Any] = {"questions": len(rs)}
        if ans:
            for k in (1, 5, 10):
                out[f"recall@{k}"] = round(sum(r["rank"] is not None and r["rank"] < k for r in ans) / len(ans), 3)
            out["mrr"] = round(sum(1 / (r["rank"] + 1) for r in ans if r["rank"] is not None) / len(ans), 3)
            out["ndcg@10"] = round(sum(r["ndcg@10"] for r in ans) / len(ans), 3)
            out["cited_expected"] = round(sum(r["cited_expected"] for r in ans) / len(ans), 3)
            out["top5_and_cited"] = round(sum(r["cited_expected"] and r["answer_rank"] is not None
                                              and r["answer_rank"] < 5 for r in ans) / len(ans), 3)
            out["false_refusals"] = sum(r["refused"] for r in ans)
            cited = sum(r["citations"] for r in ans if not r["refused"])
            out["citation_precision"] = round(sum(r["citations_with_evidence"] for r in ans if not r["refused"])
                                              / cited, 3) if cited else None
        else:
            out.update({"recall@1": None, "recall@5": None, "recall@10": None, "mrr": None})
        out["refused_unanswerable"] = sum(r["refused"] for r in una)
        out["unanswerable"] = len(una)
        return out

    total = block(rows)
    refused = [r for r in rows if r["refused"]]
    una = [r for r in rows if not r["answerable"]]
    total["false_refusals"] = total.get("false_refusals", 0)
    total["refusal_precision"] = round(sum(not r["answerable"] for r in refused) / len(refused), 3) \
        if refused else None
    total["refusal_recall"] = round(sum(r["refused"] for r in una) / len(una), 3) if una else None
    latencies = sorted(r["ask_ms"] for r in rows)
    total["ask_ms_p50"] = round(statistics.median(latencies), 1) if latencies else None
    total["ask_ms_p95"] = round(latencies[min(len(latencies) - 1, int(0.95 * (len(latencies) - 1) + 0.5))], 1) \
        if latencies else None
    total["by_kind"] = {k: block([r for r in rows if r["kind"] == k]) for k in KINDS
                        if any(r["kind"] == k for r in rows)}
    return total


def run_gold(args: argparse.Namespace) -> int:
    from assistant.cli_common import emit_json, open_from_args

    gold = load_gold(args.gold)  # before the index and the model: a bad file fails at once
    index = open_from_args(args)
    rows = [score_question(index, g) for g in gold]
    missing = [r["id"] for r in rows if r["answerable"] and not r["found_relevant"]]
    if missing:
        print(f"warning: no passage holds the evidence of {', '.join(missing)} (is the document ingested?)",
              file=sys.stderr)
    result = summarise(rows)
    details = getattr(args, "details", None)
    if details:
        Path(details).write_text("".join(json.dumps(r) + "\n" for r in rows))
    if args.json:
        emit_json(result)
    else:
        print(table(result))
    return 0


def table(result: dict[str, Any]) -> str:
    cols = ["questions", "recall@1", "recall@5", "recall@10", "mrr", "ndcg@10", "top5_and_cited",
            "false_refusals", "refused_unanswerable", "citation_precision"]
    lines = ["| kind | " + " | ".join(cols) + " |", "|---" * (len(cols) + 1) + "|"]
    for name, block in [*result["by_kind"].items(), ("all", result)]:
        lines.append(f"| {name} | " + " | ".join(str(block.get(c, "")) for c in cols) + " |")
    lines.append(f"\nrefusal precision {result['refusal_precision']}, recall {result['refusal_recall']}; "
                 f"ask latency p50 {result['ask_ms_p50']} ms, p95 {result['ask_ms_p95']} ms")
    return "\n".join(lines)
