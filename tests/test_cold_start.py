"""Searching and asking never import torch or transformers (nor chromadb, when nothing was written since the search
cache was checked): the real `latent` command and the Python API, each in a fresh process, with `python -X
importtime` listing every module the process imported. How long a cold start takes is `make bench`'s business
(scripts/bench_cold.py), never a test's."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

LATENT = str(Path(sys.executable).with_name("latent"))
HEAVY = ("torch", "transformers", "sentence_transformers")


def imported(args: list[str]) -> set[str]:
    """The top-level modules a fresh process imported (from `-X importtime` on stderr), after checking it ran."""
    env = dict(os.environ, HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1")
    env.pop("LATENT_EMBEDDING__BACKEND", None)
    done = subprocess.run([sys.executable, "-X", "importtime", *args], capture_output=True, text=True, env=env,
                          timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    names = set()
    for line in done.stderr.splitlines():
        if line.startswith("import time:") and "|" in line:
            names.add(line.rsplit("|", 1)[1].strip().split(".")[0])
    return names


@pytest.fixture(scope="module")
def sample_index(sample_index_copy: Callable[[str], Path]) -> Path:
    index = sample_index_copy("cold-start")
    subprocess.run([LATENT, "search", "--index", str(index), "warm the cache"], check=True, capture_output=True,
                   timeout=300)  # the copy's first search checks Chroma once; later ones need not
    return index


@pytest.mark.parametrize("command", [
    ["search", "caseloads of social workers", "-k", "3"],
    ["ask", "What latent conditions preceded Child R's death?"],
    ["search", "--json", "supervision", "--kind", "focused_visit"],
])
def test_search_and_ask_never_import_torch(sample_index: Path, command: list[str]) -> None:
    modules = imported([LATENT, *command, "--index", str(sample_index)])
    assert not modules & set(HEAVY), sorted(modules & set(HEAVY))
    assert "onnxruntime" in modules  # the query was embedded: by the onnx backend
    assert "chromadb" not in modules, "an unchanged embedded index is searched without a Chroma client"


def test_help_imports_nothing_heavy() -> None:
    modules = imported([LATENT, "--help"])
    assert not modules & {*HEAVY, "onnxruntime", "chromadb", "gradio", "numpy"}


def test_the_python_api_searches_without_torch(sample_index: Path) -> None:
    code = ("import vectorstore, sys; hits = vectorstore.open_index(sys.argv[1]).search('caseloads', k=3); "
            "assert hits, 'no hits'")
    modules = imported(["-c", code, str(sample_index)])
    assert not modules & set(HEAVY), sorted(modules & set(HEAVY))


def test_a_changed_index_is_checked_against_chroma(sample_index: Path, tmp_path: Path) -> None:
    """The saved state is trusted only while Chroma's write log has not moved: here another process ingested and
    its cache state was then put back as it was before (a writer killed before it updated the cache), and the next
    search opens Chroma and finds the new document."""
    note = tmp_path / "note.txt"
    note.write_text("The fostering panel met in the Orchard Room every second Tuesday. " * 8 + "\n")
    state = sample_index / "cache" / "state.json"
    before = state.read_bytes()
    subprocess.run([LATENT, "ingest", "--index", str(sample_index), str(note)], check=True, capture_output=True,
                   timeout=300)
    state.write_bytes(before)
    code = ("import vectorstore, sys; hits = vectorstore.open_index(sys.argv[1]).search('Orchard Room panel', k=1); "
            "assert 'Orchard Room' in hits[0].text, hits[0].text")
    modules = imported(["-c", code, str(sample_index)])
    assert "chromadb" in modules and not modules & set(HEAVY)
    subprocess.run([LATENT, "remove", "--index", str(sample_index), "note.txt"], check=True, capture_output=True,
                   timeout=300)
