"""Check a file of written questions or labelled sentences before it joins the sets.

    python training/tools/check_data.py questions FILE.jsonl
    python training/tools/check_data.py sentences FILE.jsonl
    python training/tools/check_data.py people FILE.jsonl

Questions: every evidence string must occur in its document (whitespace, quotes and dashes normalised), `kind`
must be known, and the share of the question's content words found in the evidence is printed per kind (a
paraphrase should share few). Sentences: labels use the taxonomy's ids and a polarity. Prints one line per
problem and a summary; exit status 1 when there are problems.
"""

from __future__ import annotations

import json
import re
import sys
from collections import Counter
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SHARED = ROOT.parent / "shared" / "data"
KINDS = {"fact", "paraphrase", "theme", "unanswerable", "person", "invented", "followup"}
TAXONOMY = ROOT / "vectorstore" / "taxonomy" / "taxonomy.json"
CATEGORIES = {c["id"] for c in json.loads(TAXONOMY.read_text())["categories"]} if TAXONOMY.exists() else set()
STOP = set(re.findall(r"[a-z]+", """
a an the of to in on at for and or but by with from as is are was were be been being it its this
that these those there their they them he she his her him we our you your i me my what which who whom whose when
where why how did do does done had has have having not no can could should would will may might must about into
over after before during than then so such any all each other some more most very also only just"""))


def norm(t: str) -> str:
    t = t.replace("’", "'").replace("‘", "'").replace("“", '"').replace("”", '"')
    t = t.replace("–", "-").replace("—", "-").replace("\u00ad", "")
    return " ".join(t.split()).lower()


@cache
def find_doc(name: str) -> Path | None:
    for base in (SHARED / "ofsted" / "text", SHARED / "pfd", ROOT / "assistant" / "samples" / "source"):
        hits = list(base.rglob(name)) if base.exists() else []
        if hits:
            return hits[0]
    return None


@cache
def doc_text(name: str) -> str | None:
    path = find_doc(name)
    if path is None:
        return None
    text = path.read_text(encoding="utf-8", errors="replace")
    text = re.sub(r"-\n(?=[a-z])", "-", text)  # a hyphenated word broken over a line keeps its hyphen
    return norm(text)


def content(t: str) -> set[str]:
    return {w for w in re.findall(r"[a-z]+", t.lower()) if w not in STOP and len(w) > 2}


def check_questions(rows: list[dict]) -> list[str]:
    problems = []
    overlap: dict[str, list[float]] = {}
    for r in rows:
        rid = r.get("id", "?")
        for key in ("id", "question", "kind"):
            if not r.get(key):
                problems.append(f"{rid}: no {key}")
        kind = r.get("kind")
        if kind not in KINDS:
            problems.append(f"{rid}: kind {kind!r} is not one of {sorted(KINDS)}")
        groups = [(r.get("doc"), r.get("evidence") or [])] + [(m.get("doc"), m.get("evidence") or [])
                                                               for m in r.get("more", [])]
        if kind in ("unanswerable", "invented"):
            continue
        for doc, evidence in groups:
            text = doc_text(doc) if doc else None
            if text is None:
                problems.append(f"{rid}: document {doc!r} not found")
                continue
            if not evidence:
                problems.append(f"{rid}: no evidence for {doc}")
            for e in evidence:
                if norm(e) not in text:
                    problems.append(f"{rid}: evidence not verbatim in {doc}: {e[:70]!r}")
        q = content(r.get("question", ""))
        ev = content(" ".join(e for _, es in groups for e in es))
        if q:
            overlap.setdefault(kind or "?", []).append(len(q & ev) / len(q))
    for kind, shares in sorted(overlap.items()):
        print(f"{kind}: {len(shares)} questions, mean share of question words in the evidence "
              f"{sum(shares) / len(shares):.2f}")
    return problems


def check_sentences(rows: list[dict]) -> list[str]:
    problems = []
    for r in rows:
        rid = r.get("id", "?")
        if not isinstance(r.get("labels"), list):
            problems.append(f"{rid}: labels must be a list (empty for no tag)")
            continue
        for lab in r["labels"]:
            if lab.get("category") not in CATEGORIES:
                problems.append(f"{rid}: unknown category {lab.get('category')!r}")
            if lab.get("polarity") not in ("negative", "positive"):
                problems.append(f"{rid}: polarity must be negative or positive")
    counts = Counter(lab["category"] for r in rows for lab in r.get("labels") or [])
    print(f"{len(rows)} sentences, {sum(1 for r in rows if not r.get('labels'))} with no tag; {dict(counts)}")
    return problems


def main() -> None:
    what, path = sys.argv[1], Path(sys.argv[2])
    rows = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if line.strip():
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError as e:
                print(f"line {n}: not JSON ({e})")
                sys.exit(1)
    ids = Counter(r.get("id") for r in rows)
    problems = [f"{i}: id used {c} times" for i, c in ids.items() if c > 1]
    problems += check_sentences(rows) if what == "sentences" else check_questions(rows)
    for p in problems:
        print(p)
    print(f"{len(rows)} rows, {len(problems)} problems")
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
