"""The real `latent` command in a subprocess: names, flags, JSON shapes and exit codes of the contract."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

LATENT = str(Path(sys.executable).with_name("latent"))


def latent(*args: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1")
    return subprocess.run([LATENT, *args], capture_output=True, text=True, timeout=timeout, env=env)


def test_help_is_instant_and_lists_commands() -> None:
    start = time.perf_counter()
    p = latent("--help")
    assert p.returncode == 0 and "ingest" in p.stdout and "search" in p.stdout
    assert time.perf_counter() - start < 5  # generous on a loaded machine; it imports nothing heavy
    code = "import sys, assistant.cli; sys.exit(any(m in sys.modules for m in ('torch', 'chromadb', 'gradio')))"
    assert subprocess.run([sys.executable, "-c", code]).returncode == 0


def test_ingest_search_list_remove_contract(small_docs: Path, tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    shutil.copytree(small_docs, docs / "sub")
    (docs / "notes.txt").write_text("Caseloads were too high, at 30 to 50 children each.\n")
    (docs / "broken.pdf").write_bytes(b"%PDF-1.4 not really")
    (docs / "picture.jpg").write_bytes(b"\xff\xd8\xff")
    index = str(tmp_path / "index")
    p = latent("ingest", "--index", index, "--json", str(docs))
    assert p.returncode == 1, p.stderr
    report = json.loads(p.stdout)
    assert len(report["added"]) == 4 and report["updated"] == [] and report["unchanged"] == []
    failed = {Path(f["file"]).name: f["reason"] for f in report["failed"]}
    assert set(failed) == {"broken.pdf", "picture.jpg"} and all(failed.values())
    again = json.loads(latent("--index", index, "ingest", "--json", str(docs)).stdout)
    assert len(again["unchanged"]) == 4 and not again["added"]

    listed = json.loads(latent("list", "--json", "--index", index).stdout)["documents"]
    assert len(listed) == 4 and all({"id", "title", "source", "kind", "passages"} <= set(d) for d in listed)

    p = latent("search", "--index", index, "--json", "-k", "3", "social workers caseloads")
    result = json.loads(p.stdout)
    assert p.returncode == 0 and len(result["hits"]) == 3 and isinstance(result["filters"], dict)
    for hit in result["hits"]:
        assert {"id", "text", "score", "title", "source", "page", "paragraph", "section", "kind", "council",
                "published", "tags"} <= set(hit)
        assert hit["page"] >= 1 and not (hit["paragraph"] or "").endswith(".")

    queries = tmp_path / "q.jsonl"
    queries.write_text('{"id": "a", "query": "caseloads", "x": 1}\n{"id": "b", "query": "oversight"}\n')
    rows = [json.loads(x) for x in latent("search", "--index", index, "--json", "-k", "2", "--queries",
                                          str(queries)).stdout.splitlines()]
    assert [r["id"] for r in rows] == ["a", "b"] and all(len(r["hits"]) == 2 for r in rows)

    filtered = json.loads(latent("search", "--index", index, "--json", "--kind", "focused_visit",
                                 "caseloads").stdout)
    assert filtered["hits"] and {h["kind"] for h in filtered["hits"]} == {"focused_visit"}
    assert filtered["filters"]["kinds"] == ["focused_visit"]

    p = latent("remove", "--index", index, "notes.txt")
    assert p.returncode == 0
    assert len(json.loads(latent("list", "--index", index, "--json").stdout)["documents"]) == 3
    assert latent("remove", "--index", index, "no-such-doc").returncode == 2


@pytest.mark.parametrize("args", [["search", "--no-such-flag", "x"], ["search"], ["frobnicate"],
                                  ["search", "-k", "0", "x"]])
def test_usage_errors_exit_2(args: list[str], tmp_path: Path) -> None:
    assert latent(*args, "--index", str(tmp_path / "i")).returncode == 2
