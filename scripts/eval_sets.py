"""Score the written dev sets (training/data/) through the CLI contract only, as a check from outside would:
`latent ingest/search/ask/tag --json`, never our internals. Every figure is given per part: `tune` (documents in
the train and dev splits, which rules and models may be tuned on) and `test` (scored once per change).

    python scripts/eval_sets.py index ofsted --index DIR        # ingest the documents the sets ask about (+ others)
    python scripts/eval_sets.py index pfd --index DIR
    python scripts/eval_sets.py questions training/data/questions-*.jsonl --index DIR [--no-ask]
    python scripts/eval_sets.py people training/data/pfd-people.jsonl --index DIR
    python scripts/eval_sets.py tagger training/data/sentences-*.jsonl
    python scripts/eval_sets.py agreement training/data/sentences-A.jsonl training/data/sentences-C-agreement.jsonl

Add --json for one JSON object on stdout; results also go to bench-results/eval-sets/<what>-<time>.json.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Iterable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from training.splits import document_key, split_of  # noqa: E402

SHARED = ROOT.parent / "shared" / "data"
LATENT = str(ROOT / ".venv" / "bin" / "latent")
ENV = dict(os.environ, HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", HF_HUB_DISABLE_TELEMETRY="1")
DISTRACTORS = 100  # Ofsted texts no question is about, so retrieval is not a choice among the right documents only


def norm(t: str) -> str:
    t = t.replace("’", "'").replace("‘", "'").replace("“", '"').replace("”", '"')
    t = t.replace("–", "-").replace("—", "-").replace("\u00ad", "").replace("\ufffe", "-")
    return " ".join(t.split()).lower()


def contains(text: str, evidence: str) -> bool:
    """Evidence in a passage; a long string may run over a passage boundary, so its first or last eight words
    count too."""
    t, e = norm(text), norm(evidence)
    if e in t:
        return True
    words = e.split()
    return len(words) > 10 and (" ".join(words[:8]) in t or " ".join(words[-8:]) in t)


def part_of(doc: str | None, row_id: str = "") -> str:
    """test or tune; a question with no document (unanswerable, invented person) is split by its id."""
    return "test" if split_of(doc or row_id) == "test" else "tune"


def read_lines(paths: Iterable[str]) -> list[dict[str, Any]]:
    rows = []
    for p in paths:
        rows += [json.loads(x) for x in Path(p).read_text(encoding="utf-8").splitlines() if x.strip()]
    return rows


def run_batch(args: list[str], rows: list[dict[str, Any]], flag: str) -> dict[str, dict[str, Any]]:
    """One batch call of the CLI (the model loads once); results by id."""
    with tempfile.NamedTemporaryFile("w", suffix=".jsonl", delete=False, encoding="utf-8") as fh:
        for r in rows:
            fh.write(json.dumps(r, ensure_ascii=False) + "\n")
    out = subprocess.run([LATENT, *args, "--json", flag, fh.name], capture_output=True, text=True, env=ENV,
                         check=False)
    os.unlink(fh.name)
    if out.returncode != 0:
        sys.exit(f"latent {' '.join(args)} failed ({out.returncode}): {out.stderr[-2000:]}")
    return {o["id"]: o for o in (json.loads(x) for x in out.stdout.splitlines() if x.strip())}


def relevant(hit: dict[str, Any], q: dict[str, Any]) -> bool:
    groups = [(q.get("doc"), q.get("evidence") or [])] + [(m["doc"], m["evidence"]) for m in q.get("more", [])]
    return any(doc and document_key(hit["source"]) == document_key(doc) and any(contains(hit["text"], e) for e in ev)
               for doc, ev in groups)


# -- questions ------------------------------------------------------------------------------------------------
def score_questions(args: argparse.Namespace) -> dict[str, Any]:
    rows = [r for r in read_lines(args.files) if r.get("kind") != "followup"]
    for r in rows:
        r["part"] = part_of(r.get("doc") or (r.get("more") or [{}])[0].get("doc"), r["id"])
    searched = run_batch(["search", "--index", args.index, "-k", "10"],
                         [{"id": r["id"], "query": r["question"]} for r in rows], "--queries")
    answered = {} if args.no_ask else run_batch(["ask", "--index", args.index],
                                               [{"id": r["id"], "question": r["question"]} for r in rows],
                                               "--questions")
    per: list[dict[str, Any]] = []
    for r in rows:
        hits = searched[r["id"]]["hits"]
        rank = next((i for i, h in enumerate(hits) if relevant(h, r)), None)
        a = answered.get(r["id"])
        per.append({"id": r["id"], "kind": r["kind"], "part": r["part"], "rank": rank,
                    "refused": a["refused"] if a else None,
                    "cited": any(relevant(c, r) for c in a["citations"]) if a else None})
    result = {"files": args.files, "index": args.index, "by_part": {}}
    for part in ("tune", "test"):
        result["by_part"][part] = {kind: _question_block([p for p in per if p["part"] == part and
                                                          (kind == "all" or p["kind"] == kind)])
                                   for kind in ("all", "fact", "paraphrase", "theme", "unanswerable")}
    result["rows"] = per
    return result


def _question_block(rows: list[dict[str, Any]]) -> dict[str, Any]:
    ans = [r for r in rows if r["kind"] != "unanswerable"]
    una = [r for r in rows if r["kind"] == "unanswerable"]
    out: dict[str, Any] = {"questions": len(rows)}
    if ans:
        for k in (1, 5, 10):
            out[f"recall@{k}"] = round(sum(r["rank"] is not None and r["rank"] < k for r in ans) / len(ans), 3)
        out["mrr"] = round(sum(1 / (r["rank"] + 1) for r in ans if r["rank"] is not None) / len(ans), 3)
        if ans[0]["refused"] is not None:
            out["cited_evidence"] = round(sum(bool(r["cited"]) for r in ans) / len(ans), 3)
            out["false_refusals"] = sum(bool(r["refused"]) for r in ans)
    if una and una[0]["refused"] is not None:
        out["unanswerable_refused"] = f"{sum(bool(r['refused']) for r in una)}/{len(una)}"
    return out


# -- person-named questions -----------------------------------------------------------------------------------
def score_people(args: argparse.Namespace) -> dict[str, Any]:
    rows = read_lines(args.files)
    answered = run_batch(["ask", "--index", args.index], [{"id": r["id"], "question": r["question"]} for r in rows],
                         "--questions")
    per = []
    for r in rows:
        a = answered[r["id"]]
        cited = a["citations"]
        row = {"id": r["id"], "kind": r["kind"], "part": part_of(r.get("doc"), r["id"]), "refused": a["refused"],
               "question": r["question"]}
        if r["kind"] == "person":
            concerns = r.get("evidence") or []
            row["concerns"] = len(concerns)
            row["covered"] = sum(any(contains(c["text"], e) and document_key(c["source"]) == document_key(r["doc"])
                                     for c in cited) for e in concerns)
            row["citations"] = len(cited)
            row["right_report"] = sum(document_key(c["source"]) == document_key(r["doc"]) for c in cited)
        per.append(row)
    result: dict[str, Any] = {"files": args.files, "index": args.index, "by_part": {}}
    for part in ("tune", "test", "all"):
        rs = [p for p in per if part == "all" or p["part"] == part]
        real = [p for p in rs if p["kind"] == "person"]
        ghosts = [p for p in rs if p["kind"] == "invented"]
        ok = [p for p in real if not p["refused"]]
        block: dict[str, Any] = {
            "questions": len(real),
            "refused": f"{sum(p['refused'] for p in real)}/{len(real)}",
            "concerns_cited": round(sum(p["covered"] for p in real) / max(1, sum(p["concerns"] for p in real)), 3),
            "concerns_cited_when_answered": round(sum(p["covered"] for p in ok) /
                                                  max(1, sum(p["concerns"] for p in ok)), 3),
            "citations_from_right_report": round(sum(p["right_report"] for p in ok) /
                                                 max(1, sum(p["citations"] for p in ok)), 3),
        }
        if ghosts:  # every invented person must be refused
            block["invented_refused"] = f"{sum(p['refused'] for p in ghosts)}/{len(ghosts)}"
        result["by_part"][part] = block
    # failures are listed for the tune part only: the test part is scored, never read while tuning
    result["refused_questions"] = [p["question"] for p in per if p["kind"] == "person" and p["refused"]
                                   and p["part"] == "tune"]
    result["answered_invented"] = [p["question"] for p in per if p["kind"] == "invented" and not p["refused"]
                                   and p["part"] == "tune"]
    result["rows"] = per
    return result


# -- tagger -----------------------------------------------------------------------------------------------------
def score_tagger(args: argparse.Namespace) -> dict[str, Any]:
    rows = read_lines(args.files)
    seen: set[str] = set()
    rows = [r for r in rows if not (r["id"] in seen or seen.add(r["id"]))]  # type: ignore[func-returns-value]
    tagged = run_batch(["tag"], [{"id": r["id"], "text": r["text"]} for r in rows], "--sentences")
    result: dict[str, Any] = {"files": args.files, "by_part": {}}
    for part in ("tune", "test"):
        rs = [r for r in rows if part_of(r["source"]) == part]
        result["by_part"][part] = tag_scores([({(x["category"], x["polarity"]) for x in r["labels"]},
                                               {(t["category"], t["polarity"]) for t in tagged[r["id"]]["tags"]})
                                              for r in rs])
    return result


def tag_scores(pairs: list[tuple[set[tuple[str, str]], set[tuple[str, str]]]]) -> dict[str, Any]:
    """Per category P/R/F1 on presence (polarity aside); macro-F1 over the categories the gold side labels;
    polarity accuracy over the (sentence, category) pairs both sides carry; no-tag accuracy."""
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    polarity = Counter()
    for gold, got in pairs:
        g, t = {c for c, _ in gold}, {c for c, _ in got}
        for c in g | t:
            counts[c]["tp" if c in g and c in t else "fn" if c in g else "fp"] += 1
        for c in g & t:
            polarity["right" if dict(gold)[c] == dict(got)[c] else "wrong"] += 1
    per = {}
    for c, n in sorted(counts.items()):
        p = n["tp"] / (n["tp"] + n["fp"]) if n["tp"] + n["fp"] else 0.0
        r = n["tp"] / (n["tp"] + n["fn"]) if n["tp"] + n["fn"] else 0.0
        per[c] = {"support": n["tp"] + n["fn"], "precision": round(p, 3), "recall": round(r, 3),
                  "f1": round(2 * p * r / (p + r), 3) if p + r else 0.0}
    scored = [v["f1"] for v in per.values() if v["support"] > 0]
    none_right = sum(1 for gold, got in pairs if not gold and not got)
    return {"sentences": len(pairs), "macro_f1": round(sum(scored) / len(scored), 3) if scored else None,
            "polarity_accuracy": round(polarity["right"] / max(1, sum(polarity.values())), 3),
            "no_tag_accuracy": round(none_right / max(1, sum(1 for gold, _ in pairs if not gold)), 3),
            "per_category": per}


def score_agreement(args: argparse.Namespace) -> dict[str, Any]:
    """Two labellers on the same sentences: the second scored against the first as if it were a tagger (F1 is
    symmetric in which side is gold), plus Cohen's kappa on 'any tag'."""
    a_rows = {r["id"]: r for r in read_lines([args.files[0]])}
    b_rows = {r["id"]: r for r in read_lines(args.files[1:])}
    both = sorted(set(a_rows) & set(b_rows))
    pairs = [({(x["category"], x["polarity"]) for x in a_rows[i]["labels"]},
              {(x["category"], x["polarity"]) for x in b_rows[i]["labels"]}) for i in both]
    out = tag_scores(pairs)
    ya = [bool(g) for g, _ in pairs]
    yb = [bool(t) for _, t in pairs]
    po = sum(x == y for x, y in zip(ya, yb, strict=True)) / max(1, len(pairs))
    pa, pb = sum(ya) / max(1, len(ya)), sum(yb) / max(1, len(yb))
    pe = pa * pb + (1 - pa) * (1 - pb)
    out["kappa_any_tag"] = round((po - pe) / (1 - pe), 3) if pe < 1 else None
    return out


# -- indexes ----------------------------------------------------------------------------------------------------
def build_index(args: argparse.Namespace) -> dict[str, Any]:
    if args.corpus == "pfd":
        files = sorted(str(p) for p in (SHARED / "pfd").glob("*.txt"))
    else:
        wanted = {document_key(d) for r in read_lines(sorted(str(p) for p in (ROOT / "training" / "data").glob(
            "questions-[0-9]*.jsonl"))) for d in [r.get("doc"), *(m["doc"] for m in r.get("more", []))] if d}
        texts = sorted((SHARED / "ofsted" / "text").rglob("*.txt"))
        asked = [p for p in texts if document_key(p.name) in wanted]
        others = [p for p in texts if document_key(p.name) not in wanted]
        random.Random(5).shuffle(others)
        files = [str(p) for p in asked + others[:DISTRACTORS]]
    start = time.time()
    out = subprocess.run([LATENT, "ingest", "--index", args.index, "--json", *files], capture_output=True, text=True,
                         env=ENV, check=False)
    report = json.loads(out.stdout) if out.stdout.strip() else {}
    return {"corpus": args.corpus, "files": len(files), "seconds": round(time.time() - start),
            **{k: len(v) for k, v in report.items()}, "failed_files": report.get("failed", [])}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("what", choices=["index", "questions", "people", "tagger", "agreement"])
    ap.add_argument("files", nargs="*")
    ap.add_argument("--index")
    ap.add_argument("--no-ask", action="store_true")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    if args.what == "index":
        args.corpus = args.files[0]
        result = build_index(args)
    else:
        result = {"questions": score_questions, "people": score_people, "tagger": score_tagger,
                  "agreement": score_agreement}[args.what](args)
    result["load_average"] = os.getloadavg()
    result["time"] = time.strftime("%Y-%m-%d %H:%M")
    out_dir = ROOT / "bench-results" / "eval-sets"
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / f"{args.what}-{time.strftime('%Y%m%d-%H%M%S')}.json").write_text(json.dumps(result, indent=1))
    shown = {k: v for k, v in result.items() if k != "rows"}
    print(json.dumps(shown, indent=None if args.json else 1))


if __name__ == "__main__":
    main()
