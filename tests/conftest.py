"""Shared fixtures: the shared data folder, real indexes (real model, real Chroma on disk) built once, and copies
of the sample index for the page's tests."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "assistant" / "samples"
LATENT = str(Path(sys.executable).with_name("latent"))
os.environ.update({"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "HF_HUB_DISABLE_TELEMETRY": "1",
                   "GRADIO_ANALYTICS_ENABLED": "False", "ANONYMIZED_TELEMETRY": "False",
                   "TOKENIZERS_PARALLELISM": "false"})


def shared_dir() -> Path:
    override = os.environ.get("LATENT_SHARED")
    return Path(override) if override else ROOT.parent / "shared"


def ofsted_pdf_dir() -> Path:
    return shared_dir() / "data" / "ofsted" / "pdf"


def need_shared(path: Path) -> Path:
    if not path.exists():
        pytest.skip(f"{path} is absent: these tests read ../shared/data at run time (set LATENT_SHARED)")
    return path


# A small, varied set: an ILACS report with numbered paragraphs, a focused-visit letter, an older SIF report.
SMALL_SET = ("wigan_80579_2022-07-05.pdf", "kent_80476_2024-02-27_focused-visit.pdf",
             "wigan_80579_2023-06-09_focused-visit.pdf")


@pytest.fixture(scope="session")
def small_docs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    src = need_shared(ofsted_pdf_dir())
    folder = tmp_path_factory.mktemp("docs")
    for name in SMALL_SET:
        shutil.copy(src / name, folder / name)
    return folder


@pytest.fixture(scope="session")
def small_index(small_docs: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    """A real index of three real Ofsted PDFs, built once per test session."""
    from ingest import ingest_paths
    from vectorstore import open_index

    index = open_index(tmp_path_factory.mktemp("index"))
    report = ingest_paths(index, [small_docs])
    assert not report.failed and len(report.added) == len(SMALL_SET)
    yield index


@pytest.fixture(scope="session")
def sample_index_copy(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], Path]:
    """`copy(name)`: a fresh copy of the sample index. The index is built once per session by the real CLI (a
    finished process, so the Chroma folder is complete when copied); each caller gets its own copy to change."""
    def copy(name: str) -> Path:
        base = tmp_path_factory.getbasetemp() / "page-sample-index"
        if not (base / ".built").exists():
            shutil.rmtree(base, ignore_errors=True)
            done = subprocess.run([LATENT, "ingest", "--index", str(base), str(SAMPLES / "docs")],
                                  capture_output=True, text=True, timeout=600)
            assert done.returncode == 0, done.stderr
            (base / ".built").touch()
        target = tmp_path_factory.mktemp(name) / "index"
        shutil.copytree(base, target)
        return target

    return copy


@pytest.fixture(scope="session")
def free_port() -> Callable[[], int]:
    """`free_port()`: a TCP port on 127.0.0.1 that nothing is listening on now."""
    def pick() -> int:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            return int(s.getsockname()[1])

    return pick


@pytest.fixture
def server(tmp_path: Path) -> Iterator[object]:
    """A real `chroma run` on a free loopback port (tests/test_server.py's ChromaServer), stopped after the test."""
    from tests.test_server import ChromaServer

    srv = ChromaServer(tmp_path / "chroma-server")
    srv.start()
    try:
        yield srv
    finally:
        srv.close_clients()
        srv.stop()
