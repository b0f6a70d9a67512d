"""Real death reports: for each coroner's Prevention of Future Deaths report in ../shared/data/pfd, ask what
organisational problems preceded the named person's death and measure (1) the share of the report's matters of
concern cited and (2) the share of citations from that person's report; plus refusals for people in no report.

    .venv/bin/python scripts/eval_pfd.py [--pfd ../shared/data/pfd] [--index DIR] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import tempfile
from pathlib import Path

os.environ.update({"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"})
NAME = re.compile(r"(?:into the death of|death of)\s+((?:Mr|Mrs|Ms|Miss|Dr|Master|Baby)?\s*[A-Z][\w'’-]+"
                  r"(?:\s+[A-Z][\w'’-]+){1,3})")
GHOSTS = ["Eleanor Vantwright", "Jasper Quillfeather", "Marigold Ashcombe-Tull"]


def norm(t: str) -> str:
    return " ".join(t.split()).lower()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--pfd", default=str(Path(__file__).resolve().parents[2] / "shared/data/pfd"))
    ap.add_argument("--index")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    from assistant import ask
    from ingest import ingest_paths
    from vectorstore import open_index

    folder = args.index or tempfile.mkdtemp(prefix="pfd-")
    index = open_index(folder)
    ingest_paths(index, [args.pfd])
    rows, skipped = [], []
    for doc in index.documents():
        passages = index.passages(doc.id)
        concern_items = [p for p in passages if re.search(r"concern", p.section or "", re.I)]
        text = "\n".join(p.text for p in passages)
        m = NAME.search(text)
        if not m or not concern_items:
            skipped.append(Path(doc.source).name)
            continue
        name = " ".join(w for w in m.group(1).split() if w not in ("Mr", "Mrs", "Ms", "Miss", "Dr", "Master"))
        # the report's concerns: each numbered item, or each bullet/line of the section
        items = [x.strip() for p in concern_items for x in p.text.split("\n") if len(x.split()) >= 4]
        answer = ask(index, f"What organisational problems or latent conditions preceded the death of {name}?")
        cited = [c.hit for c in answer.citations]
        cited_text = norm(" ".join(h.text for h in cited))
        covered = sum(1 for it in items if norm(it)[:80] in cited_text)
        right = sum(1 for h in cited if h.document.id == doc.id)
        rows.append({"file": Path(doc.source).name, "name": name, "refused": answer.refused,
                     "concerns": len(items), "covered": covered, "citations": len(cited), "right_report": right})
    ghosts = [ask(index, f"What organisational problems preceded the death of {g}?").refused for g in GHOSTS]
    ok = [r for r in rows if not r["refused"]]
    result = {
        "reports": len(rows), "skipped_no_name_or_concerns": skipped, "refused": sum(r["refused"] for r in rows),
        "concerns_cited_share": round(sum(r["covered"] for r in rows) / max(1, sum(r["concerns"] for r in rows)), 3),
        "mean_per_report_concerns_cited": round(statistics.mean(r["covered"] / max(1, r["concerns"]) for r in rows), 3)
        if rows else None,
        "citations_from_right_report": round(
            sum(r["right_report"] for r in ok) / max(1, sum(r["citations"] for r in ok)), 3),
        "people_in_no_report_refused": f"{sum(ghosts)}/{len(ghosts)}",
    }
    if args.json:
        print(json.dumps({**result, "rows": rows}, indent=1))
    else:
        for k, v in result.items():
            print(f"{k}: {v}")
        for r in rows:
            if r["refused"] or r["covered"] < r["concerns"]:
                print("  ", r)


if __name__ == "__main__":
    main()
