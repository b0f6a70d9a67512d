"""The bundled fictional samples and their gold set: every evidence string is found once, where the gold says."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from ingest import ingest_paths
from vectorstore import open_index

SAMPLES = Path(__file__).resolve().parents[1] / "assistant" / "samples"
GOLD = [json.loads(x) for x in (SAMPLES / "gold.jsonl").read_text().splitlines() if x.strip()]


def norm(text: str) -> str:
    return " ".join(text.split())


@pytest.fixture(scope="module")
def sample_index(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    index = open_index(tmp_path_factory.mktemp("samples-index"))
    report = ingest_paths(index, [SAMPLES / "docs"])
    assert not report.failed, report.failed
    return index


def test_gold_set_shape() -> None:
    kinds = [g["kind"] for g in GOLD]
    assert len(GOLD) >= 60 and len({g["id"] for g in GOLD}) == len(GOLD)
    assert kinds.count("paraphrase") >= 10 and kinds.count("theme") >= 10
    assert kinds.count("filter") >= 8 and kinds.count("unanswerable") >= 8
    for g in GOLD:
        if g["kind"] == "unanswerable":
            assert g["doc"] is None and g["evidence"] is None
        else:
            assert (SAMPLES / "docs" / g["doc"]).exists() and g["evidence"]


def test_samples_are_small_and_marked_fictional() -> None:
    docs = list((SAMPLES / "docs").iterdir())
    assert sum(p.stat().st_size for p in docs) < 5 * 1024 * 1024
    for src in (SAMPLES / "source").glob("*.md"):
        if "kind: literature" in src.read_text():
            continue  # the primer is our own account of real literature, not a fictional case
        assert re.search(r"fictional", src.read_text(), re.I), src


@pytest.mark.parametrize("gold", [g for g in GOLD if g["kind"] != "unanswerable"], ids=lambda g: g["id"])
def test_evidence_found_once_at_stated_page_and_paragraph(sample_index, gold: dict) -> None:  # type: ignore[no-untyped-def]
    doc = sample_index.find_document(gold["doc"])
    passages = sample_index.passages(doc.id)
    for n, evidence in enumerate(gold["evidence"]):
        containing = [p for p in passages if norm(evidence) in norm(p.text)]
        assert len(containing) == 1, f"{evidence!r} in {len(containing)} passages of {gold['doc']}"
        if n == 0:
            found = containing[0]
            assert found.page <= (gold["page"] or 1) <= (found.page_end or found.page)
            assert containing[0].paragraph == gold["paragraph"]
