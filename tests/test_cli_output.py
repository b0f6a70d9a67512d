"""What a reader sees from the real `latent` command (and the page's upload) on a copy of the sample index: each
error once, on stderr; a re-ingest says "unchanged: N documents"; `latent search` gives rank and why a passage
was found instead of a fused score (the JSON keeps `score`); a refusal's nearest passages read as distinct
passages; Markdown sections carry no paragraph number the document does not print; a failed upload keeps no copy.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "assistant" / "samples" / "docs"
LATENT = str(Path(sys.executable).with_name("latent"))


def latent(*args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1")
    return subprocess.run([LATENT, *args], capture_output=True, text=True, timeout=600, env=env)


@pytest.fixture(scope="module")
def index_dir(sample_index_copy: Callable[[str], Path]) -> Path:
    return sample_index_copy("cli-output")


def test_a_reingest_says_unchanged_and_a_missing_file_is_reported_once(index_dir: Path, tmp_path: Path) -> None:
    missing = tmp_path / "no-such-review.pdf"
    p = latent("ingest", "--index", str(index_dir), str(SAMPLES), str(missing))
    assert p.returncode == 1
    assert (p.stdout + p.stderr).count("no-such-review.pdf") == 1 and "no such file" in p.stderr
    assert "unchanged: 7 documents" in p.stdout and "failed: 1 file" in p.stdout
    assert "0 passages stored" not in p.stdout and re.search(r"the index holds \d{3} passages", p.stdout)


def test_search_shows_rank_and_why_not_a_fused_score(index_dir: Path) -> None:
    p = latent("search", "--index", str(index_dir), "-k", "3", "social work caseloads")
    assert p.returncode == 0, p.stderr
    lines = p.stdout.splitlines()
    assert [line[:3] for line in lines if line.startswith("[")] == ["[1]", "[2]", "[3]"]
    assert not re.search(r"\b0\.0\d+\b", p.stdout)  # the fused score (~0.04) means nothing to a reader
    assert sum("found by meaning and by the words: social, work, caseloads" in line for line in lines) >= 1
    hits = json.loads(latent("search", "--index", str(index_dir), "--json", "-k", "3", "caseloads").stdout)["hits"]
    assert all(isinstance(h["score"], float) for h in hits)


def test_a_refusal_lists_distinct_passages(index_dir: Path) -> None:
    p = latent("ask", "--index", str(index_dir), "What did Ofsted say about private fostering in Wenmarsh?")
    assert p.returncode == 0 and p.stdout.startswith("The indexed documents do not answer this question.")
    listed = [line for line in p.stdout.splitlines() if line.startswith("- ")]
    assert len(listed) >= 2 and len(set(listed)) == len(listed)
    assert all("“" in line for line in listed)  # each names its opening words, not only "page 1"


def test_markdown_sections_carry_only_printed_paragraph_numbers(index_dir: Path) -> None:
    from vectorstore import open_index

    index = open_index(index_dir)
    try:
        primer = index.find_document("primer-safety-science.md")
        passages = index.passages(primer.id)
    finally:
        index.close()
    assert passages and any(p.paragraph for p in passages)
    for p in passages:
        if p.paragraph:
            assert p.text.lstrip().startswith(p.paragraph), (p.paragraph, p.text[:60])


def test_a_failed_upload_keeps_nothing(sample_index_copy: Callable[[str], Path], tmp_path: Path) -> None:
    from assistant.web.session import discard_failed_uploads, ingest_with_events, save_uploads
    from vectorstore import open_index

    broken, good = tmp_path / "broken.pdf", tmp_path / "note.txt"
    broken.write_bytes(b"%PDF-1.4 not really a PDF")
    good.write_text("The Harbourside duty team adopted the quokka protocol in March 2024.\n")
    index = open_index(sample_index_copy("upload-fails"))
    uploads = tmp_path / "uploads"
    try:
        saved, refused = save_uploads([broken, good], uploads)
        assert not refused and len(saved) == 2
        events = list(ingest_with_events(index, saved))
        report = events[-1][1]["report"]
        assert [Path(f.file).name for f in report.failed] == ["broken.pdf"]
        assert discard_failed_uploads(index, saved, report) == [uploads / "broken.pdf"]
    finally:
        index.close()
    assert sorted(x.name for x in uploads.iterdir()) == ["note.txt"]
