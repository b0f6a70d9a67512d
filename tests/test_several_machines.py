"""Latent on several machines, as the README describes it: one Chroma server (`chroma run`, started here on a free
127.0.0.1 port), two `latent ingest` processes writing different folders at the same time, and two pages (`latent
chat`, each with its own cache folder, as on two machines) reading throughout.

Afterwards the server holds what one process ingesting both folders into an embedded index holds: the same
documents, passage ids, texts, metadata and vectors, no passage twice; and each page, asked once its manifest check
is due (RECHECK_SECONDS after the last write), serves every new document. How soon a page saw each document is
printed here (pytest -s); `make bench` times a page seeing a new document at scale (scripts/bench_scale.py). No
test asserts a time.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ingest.pipeline import document_id
from tests.test_server import ChromaServer
from vectorstore import open_index
from vectorstore.index import RECHECK_SECONDS

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "assistant" / "samples" / "docs"
LATENT = str(Path(sys.executable).with_name("latent"))
FOLDERS = {"a": ("focused-visit-brackenford-2021.docx", "focused-visit-ravensmoor-2023.html"),
           "b": ("focused-visit-wenmarsh-2017.html", "primer-safety-science.md")}
QUERIES = ("caseloads of social workers", "supervision of newly qualified staff", "the swiss cheese model",
           "strategy discussions with the police")


def _env() -> dict[str, str]:
    env = dict(os.environ, HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", ANONYMIZED_TELEMETRY="False",
               GRADIO_ANALYTICS_ENABLED="False", PYTHONUNBUFFERED="1")
    for key in ("LATENT_SERVER", "LATENT_INDEX", "LATENT_EMBEDDING__BACKEND", "LATENT_EMBEDDING__MODEL"):
        env.pop(key, None)
    return env


@dataclass
class Page:
    """A `latent chat` process on the server, and when it first served each document."""

    url: str
    process: subprocess.Popen[bytes]
    seen: dict[str, float] = field(default_factory=dict)

    def serves(self, doc_id: str) -> bool:
        try:
            with urllib.request.urlopen(f"{self.url}/doc/{doc_id}/text", timeout=30) as reply:
                return reply.status == 200
        except OSError:
            return False


def start_page(server: ChromaServer, folder: Path, port: int) -> Page:
    url = f"http://127.0.0.1:{port}"
    log = open(folder.with_suffix(".log"), "wb")  # noqa: SIM115  closed by the process
    process = subprocess.Popen([LATENT, "chat", "--server", server.url, "--index", str(folder), "--port", str(port)],
                               stdout=log, stderr=subprocess.STDOUT, env=_env())
    log.close()
    deadline = time.monotonic() + 300  # a hang guard: Gradio's import takes 10-60 s on a loaded machine
    while time.monotonic() < deadline:
        assert process.poll() is None, folder.with_suffix(".log").read_text()
        try:
            with urllib.request.urlopen(url, timeout=5) as reply:
                if reply.status == 200:
                    return Page(url, process)
        except OSError:
            time.sleep(0.5)
    raise AssertionError(f"the page did not start: {folder.with_suffix('.log').read_text()[-2000:]}")


def watch(pages: list[Page], doc_ids: list[str], stop: threading.Event) -> None:
    """Ask each page for each document in turn, noting when it first serves it (for the printed figures)."""
    while not stop.is_set():
        for page in pages:
            for doc_id in doc_ids:
                if doc_id not in page.seen and page.serves(doc_id):
                    page.seen[doc_id] = time.monotonic()
        stop.wait(0.25)


def stored_lines(process: subprocess.Popen[str], out: dict[str, float]) -> None:
    assert process.stderr is not None
    for line in process.stderr:
        if line.startswith("stored "):
            out[line.split()[1]] = time.monotonic()


def store_contents(index: Any) -> tuple[dict[str, tuple[Any, ...]], dict[str, tuple[Any, ...]], np.ndarray]:
    """(documents, passages by id, vectors in id order) as Chroma holds them."""
    docs = {d.id: (d.content_hash, d.passages, d.title, d.kind, d.source, d.council, d.published, d.status)
            for d in index.store.manifest().values()}
    passages: dict[str, tuple[Any, ...]] = {}
    for ids, texts, metas, _ in index.store.iter_passages(with_vectors=False):
        for i, text, meta in zip(ids, texts, metas, strict=True):
            assert i not in passages, f"passage {i} twice"
            passages[i] = (text, *sorted(meta.items()))
    ids = sorted(passages)
    by_id = {}
    for start in range(0, len(ids), 1000):  # a server's SQLite refuses one `get` of tens of thousands of ids
        got = index.store.passages.get(ids=ids[start:start + 1000], include=["embeddings"])
        by_id.update(zip(got["ids"], got["embeddings"], strict=True))
    return docs, passages, np.asarray([by_id[i] for i in ids])


def test_two_writers_and_two_pages_on_one_chroma_server(server: ChromaServer, tmp_path: Path,
                                                        free_port: Any) -> None:
    folders = {}
    for name, files in FOLDERS.items():
        folders[name] = tmp_path / f"docs-{name}"
        folders[name].mkdir()
        for f in files:
            shutil.copy(SAMPLES / f, folders[name] / f)
    paths = sorted(p.resolve() for folder in folders.values() for p in folder.iterdir())
    doc_ids = [document_id(p) for p in paths]
    pages = [start_page(server, tmp_path / f"page-{n}", free_port()) for n in (1, 2)]
    stop = threading.Event()
    watcher = threading.Thread(target=watch, args=(pages, doc_ids, stop), daemon=True)
    watcher.start()
    stored: dict[str, float] = {}
    writers = [subprocess.Popen([LATENT, "ingest", "--json", "--server", server.url, "--index",
                                 str(tmp_path / f"writer-{name}"), str(folder)], stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True, env=_env()) for name, folder in folders.items()]
    readers = [threading.Thread(target=stored_lines, args=(w, stored), daemon=True) for w in writers]
    try:
        for r in readers:
            r.start()
        reports = []
        for w in writers:
            assert w.stdout is not None
            reports.append(json.loads(w.stdout.read()))
            assert w.wait(600) == 0
        for r in readers:
            r.join(30)
        for w in writers:
            for stream in (w.stdout, w.stderr):
                if stream is not None:
                    stream.close()
        assert sorted(Path(p) for r in reports for p in r["added"]) == paths and not any(r["failed"] for r in reports)
        # Each page, asked once its manifest check is due, serves every document (and its passages)
        time.sleep(RECHECK_SECONDS + 0.1)
        for page in pages:
            missing = [d for d in doc_ids if not page.serves(d)]
            assert not missing, f"{page.url} does not serve {missing}"
    finally:
        stop.set()
        watcher.join(30)
        for page in pages:
            page.process.terminate()
            page.process.wait(30)
    delays = {page.url: {d: round(page.seen[d] - stored[str(p)], 2) for p, d in zip(paths, doc_ids, strict=True)
                         if d in page.seen and str(p) in stored} for page in pages}
    print(f"\nseconds from 'stored' to a page serving the document: {json.dumps(delays)}")

    # One process ingesting both folders into an embedded index holds the same
    single = tmp_path / "single"
    done = subprocess.run([LATENT, "ingest", "--json", "--index", str(single), *map(str, folders.values())],
                          capture_output=True, text=True, env=_env(), timeout=600)
    assert done.returncode == 0, done.stderr
    shared, alone = open_index(None, server=server.url), open_index(single)
    try:
        docs_a, passages_a, vectors_a = store_contents(shared)
        docs_b, passages_b, vectors_b = store_contents(alone)
        assert docs_a == docs_b and set(docs_a) == set(doc_ids)
        assert passages_a == passages_b, "passage ids, texts or metadata differ from a single-process build"
        # the same float32 vectors, up to what the server's JSON transport keeps of them
        assert np.allclose(vectors_a, vectors_b, rtol=0, atol=1e-6), np.abs(vectors_a - vectors_b).max()
        assert shared.store.count() == len(passages_a) == sum(d[1] for d in docs_a.values())
        for q in QUERIES:
            assert [h.id for h in shared.search(q, k=10)] == [h.id for h in alone.search(q, k=10)], q
    finally:
        shared.close()
        alone.close()
