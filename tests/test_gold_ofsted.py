"""Checks the real-document gold set tests/gold/ofsted.jsonl against the shared Ofsted PDFs."""

from __future__ import annotations

import json
import os
import re
from functools import cache
from pathlib import Path

import pytest

GOLD_PATH = Path(__file__).resolve().parent / "gold" / "ofsted.jsonl"
# Default: <repo>/../shared/data/ofsted/pdf, i.e. the shared folder beside the project checkout.
DEFAULT_PDF_DIR = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "ofsted" / "pdf"
KINDS = {"fact", "paraphrase", "filter", "theme", "unanswerable"}
KEYS = {"id", "question", "doc", "evidence", "page", "paragraph", "kind"}
# A printed paragraph number without its trailing full stop: "12", "3.20".
PARAGRAPH_RE = re.compile(r"^\d+(\.\d+)*$")


def _load_gold() -> list[dict]:
    with GOLD_PATH.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


GOLD = _load_gold()
ANSWERABLE = [item for item in GOLD if item["kind"] != "unanswerable"]


def _find_pdf_dir() -> Path | None:
    """LATENT_SHARED names the shared folder (holding data/); the PDF folder itself is accepted too."""
    override = os.environ.get("LATENT_SHARED")
    if override:
        root = Path(override)
        candidates = [root / "data" / "ofsted" / "pdf", root / "ofsted" / "pdf", root]
    else:
        candidates = [DEFAULT_PDF_DIR]
    for candidate in candidates:
        if candidate.is_dir() and any(candidate.glob("*.pdf")):
            return candidate
    return None


@pytest.fixture(scope="module")
def pdf_dir() -> Path:
    found = _find_pdf_dir()
    if found is None:
        pytest.skip(
            f"shared Ofsted PDFs not found (looked in {DEFAULT_PDF_DIR}, or set LATENT_SHARED "
            "to the shared folder); the gold evidence cannot be checked on this machine"
        )
    return found


def normalise(text: str) -> str:
    """pdfium marks a hyphen at a line break with U+FFFE; lines are joined with one space."""
    text = text.replace("\ufffe", "-").replace("\r\n", " ").replace("\n", " ")
    return re.sub(r"\s+", " ", text).strip()


@cache
def page_texts(path: Path) -> tuple[str, ...]:
    import pypdfium2 as pdfium

    pdf = pdfium.PdfDocument(str(path))
    try:
        texts = []
        for index in range(len(pdf)):
            page = pdf[index]
            textpage = page.get_textpage()
            texts.append(normalise(textpage.get_text_range()))
            textpage.close()
            page.close()
        return tuple(texts)
    finally:
        pdf.close()


def test_gold_shape() -> None:
    assert len(GOLD) >= 40
    ids = [item["id"] for item in GOLD]
    assert len(ids) == len(set(ids)), "gold ids must be unique"
    for item in GOLD:
        assert set(item) == KEYS, item["id"]
        assert item["kind"] in KINDS, item["id"]
        assert isinstance(item["question"], str) and item["question"].strip(), item["id"]
    assert sum(item["kind"] == "unanswerable" for item in GOLD) >= 5


def test_unanswerable_lines_are_null() -> None:
    for item in GOLD:
        if item["kind"] == "unanswerable":
            assert item["doc"] is None, item["id"]
            assert item["evidence"] is None, item["id"]
            assert item["page"] is None, item["id"]
            assert item["paragraph"] is None, item["id"]


def test_answerable_lines_are_complete() -> None:
    for item in ANSWERABLE:
        assert isinstance(item["doc"], str) and item["doc"].endswith(".pdf"), item["id"]
        assert isinstance(item["evidence"], list) and item["evidence"], item["id"]
        for evidence in item["evidence"]:
            assert isinstance(evidence, str), item["id"]
            assert 6 <= len(evidence.split()) <= 25, (item["id"], evidence)
        assert isinstance(item["page"], int) and item["page"] >= 1, item["id"]
        paragraph = item["paragraph"]
        assert paragraph is None or PARAGRAPH_RE.match(paragraph), (item["id"], paragraph)


@pytest.mark.parametrize("item", ANSWERABLE, ids=[item["id"] for item in ANSWERABLE])
def test_evidence_is_verbatim(item: dict, pdf_dir: Path) -> None:
    path = pdf_dir / item["doc"]
    assert path.is_file(), f"{item['id']}: {item['doc']} is not among the shared PDFs"
    pages = page_texts(path)
    assert 1 <= item["page"] <= len(pages), item["id"]
    first, *others = item["evidence"]
    assert first in pages[item["page"] - 1], f"{item['id']}: first evidence not on page {item['page']}"
    for evidence in others:
        # Each string lies within one page: quotations never span a page break.
        assert any(evidence in text for text in pages), f"{item['id']}: not in {item['doc']}: {evidence!r}"
