"""`latent brief` on Child R's review (the real command on a copy of the sample index): the HTML and the PDF are
opened (BeautifulSoup, pypdf) and checked: the latent-condition categories present, every quotation verbatim in
the passage it cites (page and paragraph too), the timeline plot present, the earlier Wenmarsh letter listed and
no other council's, the review's own recommendations; an unknown document or a bad file name is a usage error."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

LATENT = str(Path(sys.executable).with_name("latent"))
CHILD_R = "review-child-r.pdf"
# Child R's review sets out caseloads, turnover and agency staff, absent managers, the budget cut to the legal
# minimum, a case record that hid the history, the MASH inbox, thresholds, induction and a front-door culture.
EXPECTED = {"workload", "staffing", "leadership_management", "finance_change", "systems_tools",
            "procedures_thresholds", "multiagency", "training_experience", "culture"}


def latent(*args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1")
    return subprocess.run([LATENT, *args], capture_output=True, text=True, timeout=600, env=env)


def fold(text: str) -> str:
    return " ".join(text.split())


@pytest.fixture(scope="module")
def index_dir(sample_index_copy: Callable[[str], Path]) -> Path:
    return sample_index_copy("briefing")


@pytest.fixture(scope="module")
def passages(index_dir: Path) -> dict[str, Any]:
    """Child R's stored passages by id, read through the index's own door (after the CLI runs have finished)."""
    from vectorstore import open_index

    index = open_index(index_dir)
    doc = index.find_document(CHILD_R)
    found = {p.id: p for p in index.passages(doc.id)}
    index.close()
    return found


@pytest.fixture(scope="module")
def briefs(index_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    out = tmp_path_factory.mktemp("briefs")
    made: dict[str, Any] = {}
    for suffix in ("html", "pdf"):
        target = out / f"child-r.{suffix}"
        p = latent("brief", CHILD_R, "--index", str(index_dir), "--out", str(target), "--json")
        assert p.returncode == 0, p.stderr
        made[suffix] = (target, json.loads(p.stdout))
    return made


def test_the_json_is_the_contracts_shape(briefs: dict[str, Any]) -> None:
    for suffix, (target, summary) in briefs.items():
        assert set(summary) == {"document", "path", "categories", "citations"}
        assert summary["document"].startswith("review-child-r") and summary["path"] == str(target)
        assert set(summary["categories"]) == EXPECTED, suffix
        assert summary["citations"] >= len(EXPECTED) + 11  # a quotation per category, and 7.1 to 7.12


def test_the_html_briefing_quotes_verbatim_and_holds_the_plot(briefs: dict[str, Any],
                                                              passages: dict[str, Any]) -> None:
    from bs4 import BeautifulSoup

    target, summary = briefs["html"]
    soup = BeautifulSoup(target.read_text(encoding="utf-8"), "html.parser")
    assert not soup.find("script") and not soup.find("link")  # self-contained: nothing to fetch
    assert [h["data-category"] for h in soup.select("h3[data-category]")] == summary["categories"]
    quotes = soup.select("blockquote[data-passage]")
    assert len(quotes) >= len(EXPECTED)
    for q in quotes:
        passage = passages[q["data-passage"]]
        assert passage.role == "finding"  # never the cover, the introduction or the fictional-case note
        assert fold(q.get_text()) in fold(passage.text)
        cite = q.find_next_sibling("cite").get_text()
        assert f"page {passage.page}" in cite and f"paragraph {passage.paragraph}" in cite
    svg = soup.select_one("figure.plot svg")
    assert svg is not None and len(svg.select("circle")) >= 40
    assert "Death: 14 March 2018" in svg.get_text()
    letters = [li.get_text() for li in soup.select("#letters ~ ul li")]
    assert len(letters) == 1 and "Wenmarsh" in letters[0] and "September 2017" in letters[0]
    recs = soup.select("ol.recs li")
    assert len(recs) == 12 and "Recommendation 11" in recs[-1].get_text()
    for r in recs:
        assert fold(r.get_text()).startswith(fold(passages[r["data-passage"]].text))


def test_the_pdf_briefing_is_made_by_a_library_and_quotes_verbatim(briefs: dict[str, Any],
                                                                  passages: dict[str, Any]) -> None:
    from bs4 import BeautifulSoup
    from pypdf import PdfReader

    from vectorstore.taxonomy import category_labels

    target, summary = briefs["pdf"]
    reader = PdfReader(target)
    assert reader.metadata.get("/Creator") == "Latent"
    text = fold(" ".join(page.extract_text() for page in reader.pages))
    labels = category_labels()
    for category in summary["categories"]:
        assert labels[category] in text
    # The same quotations as the HTML (one builder makes both), each found whole in the PDF's text.
    html = BeautifulSoup(briefs["html"][0].read_text(encoding="utf-8"), "html.parser")
    for q in html.select("blockquote[data-passage]"):
        assert fold(q.get_text()) in text
        assert fold(q.get_text()) in fold(passages[q["data-passage"]].text)
    # The plot is drawn as vectors: its row labels, axis years and the death marker are PDF text on a page that
    # also holds drawn paths (no raster image anywhere in the file).
    plot_page = next(p for p in reader.pages if "Death: 14 March 2018" in p.extract_text())
    for label in ("Children's social care", "Probation", "Review period", "2017"):
        assert label in plot_page.extract_text()
    curves = re.findall(rb"(?:-?[\d.]+ ){6}c\b", plot_page.get_contents().get_data())
    assert len(curves) >= 4 * 40  # each event marker is a circle drawn as four Bézier curves
    assert all(not page.images for page in reader.pages)
    assert "Recommendation 11" in text and "Focused visit to Wenmarsh" in text


@pytest.mark.parametrize("doc, name, message", [("no-such-review.pdf", "x.pdf", "no stored document"),
                                                 (CHILD_R, "x.docx", "name a .pdf or an .html file")])
def test_an_unknown_document_or_file_type_is_a_usage_error(doc: str, name: str, message: str, index_dir: Path,
                                                           tmp_path: Path) -> None:
    p = latent("brief", "--index", str(index_dir), doc, "--out", str(tmp_path / name))
    assert p.returncode == 2 and message in p.stderr and p.stdout == ""
    assert not list(tmp_path.iterdir())
