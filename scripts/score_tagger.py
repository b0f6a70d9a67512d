"""Score the tagger against the labelled sentences: per-category precision/recall/F1, macro-F1, polarity accuracy.

    python scripts/score_tagger.py                 # the held-out test split, as a table
    python scripts/score_tagger.py --split dev     # the split the tagger was tuned on
    python scripts/score_tagger.py --split all --json

A (sentence, category) pair is a true positive when both the labels and the tagger carry the category; polarity
accuracy is measured over those matched pairs only. Macro-F1 averages over the categories present in the split's
labels (a category the split never labels cannot be scored for recall).
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from vectorstore.taxonomy import load_taxonomy, tag_sentences  # noqa: E402

DEFAULT_LABELS = ROOT / "tests" / "labelled" / "sentences.jsonl"


@dataclass(frozen=True)
class Score:
    """Counts and rates for one category."""

    category: str
    tp: int
    fp: int
    fn: int

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 0.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 0.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


@dataclass(frozen=True)
class LabelledSentence:
    """One line of the labelled set: a quoted sentence, where it came from, and its (category, polarity) labels."""

    id: str
    text: str
    source: str
    labels: tuple[tuple[str, str], ...]
    split: str


def load_labelled(path: Path, split: str) -> list[LabelledSentence]:
    """The labelled sentences of one split ("dev", "test" or "all")."""
    rows: list[LabelledSentence] = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        raw = json.loads(line)
        row = LabelledSentence(id=str(raw["id"]), text=str(raw["text"]), source=str(raw["source"]),
                               labels=tuple((str(lab["category"]), str(lab["polarity"])) for lab in raw["labels"]),
                               split=str(raw["split"]))
        if split == "all" or row.split == split:
            rows.append(row)
    return rows


def score(rows: list[LabelledSentence]) -> dict[str, object]:
    """Run the tagger on `rows` and compare with their labels."""
    predicted = tag_sentences([r.text for r in rows])
    counts: dict[str, list[int]] = {c.id: [0, 0, 0] for c in load_taxonomy()}  # tp, fp, fn
    matched = polarity_right = 0
    for row, tags in zip(rows, predicted, strict=True):
        gold = dict(row.labels)
        got = {t.category: t.polarity for t in tags}
        for category in set(gold) | set(got):
            tally = counts.setdefault(category, [0, 0, 0])
            if category in gold and category in got:
                tally[0] += 1
                matched += 1
                polarity_right += int(gold[category] == got[category])
            elif category in got:
                tally[1] += 1
            else:
                tally[2] += 1
    scores = [Score(c, *counts[c]) for c in counts]
    present = [s for s in scores if s.tp + s.fn > 0]
    macro = sum(s.f1 for s in present) / len(present) if present else 0.0
    return {
        "sentences": len(rows),
        "unlabelled_sentences": sum(1 for r in rows if not r.labels),
        "labels": sum(len(r.labels) for r in rows),
        "macro_f1": round(macro, 4),
        "micro_f1": round(_micro(scores), 4),
        "polarity_accuracy": round(polarity_right / matched, 4) if matched else None,
        "matched": matched,
        "categories": [{"category": s.category, "support": s.tp + s.fn, "tp": s.tp, "fp": s.fp, "fn": s.fn,
                        "precision": round(s.precision, 4), "recall": round(s.recall, 4), "f1": round(s.f1, 4)}
                       for s in scores],
    }


def _micro(scores: list[Score]) -> float:
    return Score("all", sum(s.tp for s in scores), sum(s.fp for s in scores), sum(s.fn for s in scores)).f1


def format_table(result: dict[str, object], split: str) -> str:
    lines = [f"split={split}  sentences={result['sentences']}  unlabelled={result['unlabelled_sentences']}  "
             f"labels={result['labels']}", "",
             f"{'category':<24}{'support':>8}{'P':>8}{'R':>8}{'F1':>8}"]
    categories: list[dict[str, Any]] = result["categories"]  # type: ignore[assignment]  # built by score()
    for row in categories:
        lines.append(f"{row['category']:<24}{row['support']:>8}{row['precision']:>8.2f}{row['recall']:>8.2f}"
                     f"{row['f1']:>8.2f}")
    polarity = result["polarity_accuracy"]
    lines += ["", f"macro-F1 (categories present): {result['macro_f1']:.3f}",
              f"micro-F1: {result['micro_f1']:.3f}",
              f"polarity accuracy over {result['matched']} matched tags: "
              + ("n/a" if polarity is None else f"{polarity:.3f}")]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--split", choices=("dev", "test", "all"), default="test")
    parser.add_argument("--labels", type=Path, default=DEFAULT_LABELS, help="labelled JSON lines file")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    args = parser.parse_args(argv)
    rows = load_labelled(args.labels, args.split)
    if not rows:
        print(f"no labelled sentences in split {args.split!r} of {args.labels}", file=sys.stderr)
        return 2
    result = score(rows)
    result["split"] = args.split
    print(json.dumps(result, indent=2) if args.json else format_table(result, args.split))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
