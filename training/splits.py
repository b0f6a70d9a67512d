"""Which part of every dev and training set a document belongs to: train, dev or test, decided by the document.

Every set we write (questions, labelled sentences, person-named questions) is split by the document it is
written from, never by line, so no document's wording is both tuned on and scored. Documents we tuned the hand
rules on before these sets existed (the 60 Ofsted PDFs of tests/gold/ofsted.jsonl and the sources of
tests/labelled/sentences.jsonl, read from those files) are never in `test`.

    train  fits learned models                          (tune part, for rules)
    dev    chooses between models and thresholds         (tune part, for rules)
    test   scored once per change, never tuned on        (score-once part)
"""

from __future__ import annotations

import hashlib
import json
import re
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SPLITS = ("train", "dev", "test")


def document_key(name: str) -> str:
    """One key for a document in any of its forms: 'bedford_80428_2022-01-14.pdf', its text extraction
    'text/ilacs/bedford_80428_2022-01-14.txt', and '..._focused-visit.pdf' are one document."""
    stem = Path(name).name
    stem = re.sub(r"\.(pdf|txt|md|html|docx)$", "", stem, flags=re.I)
    return stem.removesuffix("_focused-visit").lower()


@cache
def _seen() -> frozenset[str]:
    keys: set[str] = set()
    gold = ROOT / "tests/gold/ofsted.jsonl"
    labelled = ROOT / "tests/labelled/sentences.jsonl"
    for path, field in ((gold, "doc"), (labelled, "source")):
        if path.exists():
            for line in path.read_text(encoding="utf-8").splitlines():
                if line.strip() and json.loads(line).get(field):
                    keys.add(document_key(json.loads(line)[field]))
    return frozenset(keys)


def was_tuned_on(name: str) -> bool:
    """Did the hand rules see this document before the split existed (the earlier gold and labelled sets)?"""
    return document_key(name) in _seen()


def split_of(name: str) -> str:
    """train (60 %), dev (20 %) or test (20 %), by a hash of the document key; seen documents are never test."""
    h = int(hashlib.sha256(document_key(name).encode()).hexdigest()[:8], 16) % 10
    split = "test" if h >= 8 else "dev" if h >= 6 else "train"
    if split == "test" and was_tuned_on(name):
        return "train"
    return split
