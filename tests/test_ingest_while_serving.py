"""The page keeps answering while another process ingests into its index, and sees the new documents afterwards.

A real page (in this process, on a free 127.0.0.1 port) over an index of one sample document; a real `latent ingest`
subprocess adds four more (two encode batches, so Chroma is written while questions are being answered); two
`gradio_client` users ask questions throughout, with a short pause between questions so as not to starve the
ingest of CPU. Every answer must be
well-formed, several must complete between the ingest's first stored document and its exit, and afterwards the
page must answer from, and serve, the new documents. No latency is asserted: the machine is shared.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from assistant.evaluation.replies import reply_problems
from tests.test_page_api import close_idle_event_loops

ROOT = Path(__file__).resolve().parents[1]
SAMPLE_DOCS = ROOT / "assistant" / "samples" / "docs"
LATENT = str(Path(sys.executable).with_name("latent"))
FIRST = ("focused-visit-wenmarsh-2017.html",)
# In walk order: the two letters and the primer fill the first encode batch (72 passages of 64 or more), Child
# R's review a second; so documents are stored, and the index changes, while the second batch is encoded.
ADDED = ("focused-visit-brackenford-2021.docx", "focused-visit-ravensmoor-2023.html", "primer-safety-science.md",
         "review-child-r.pdf")
QUESTIONS = ("How many children was each social worker in Wenmarsh responsible for at the 2017 focused visit?",
             "What was the average caseload of Ravensmoor social workers at the June 2023 focused visit?",
             "Why does knowing how a case ended make the earlier warning signs look obvious?",
             "How old was Child M when she died, and where?",
             "What latent conditions preceded Child R's death?",
             "What did the 2012 Ofsted inspection of Wenmarsh say about adoption?")
PAUSE_S = 0.3
CHILD_R = "What threshold decision did the MASH make after the nursery referred Child R's bruising?"


@dataclass
class Call:
    """One question through the page's API: when it started and ended, and what came back (or was raised)."""

    question: str
    start: float
    end: float
    result: Any = None
    error: BaseException | None = None


def ask_until(url: str, stop: threading.Event, calls: list[Call], offset: int) -> None:
    """One user: questions in turn until told to stop; every reply or exception is kept."""
    from gradio_client import Client

    client = Client(url, verbose=False, download_files=False)
    n = offset
    while not stop.is_set():
        question = QUESTIONS[n % len(QUESTIONS)]
        n += 1
        start = time.monotonic()
        try:
            got = client.predict(question, api_name="/ask")
            calls.append(Call(question, start, time.monotonic(), result=got))
        except Exception as exc:  # kept and reported: the test fails on any of them
            calls.append(Call(question, start, time.monotonic(), error=exc))
        stop.wait(PAUSE_S)


@pytest.fixture
def page_over_one_document(tmp_path: Path, free_port: Callable[[], int]) -> Iterator[Any]:
    from assistant.app import start_page
    from ingest import ingest_paths
    from vectorstore import open_index

    first = tmp_path / "first"
    first.mkdir()
    for name in FIRST:
        shutil.copy(SAMPLE_DOCS / name, first / name)
    index = open_index(tmp_path / "index")
    assert len(ingest_paths(index, [first]).added) == len(FIRST)
    running = start_page(index, port=free_port(), llm_spec="", base_url="")  # no model, whatever the env
    close_idle_event_loops()
    try:
        yield running
    finally:
        running.close()
        close_idle_event_loops()
        index.close()


def test_the_page_answers_during_an_ingest_and_then_sees_the_new_documents(page_over_one_document: Any,
                                                                          tmp_path: Path) -> None:
    from gradio_client import Client

    from vectorstore.index import RECHECK_SECONDS

    running = page_over_one_document
    index = running.context.index
    before = {d.id for d in index.documents()}
    added = tmp_path / "added"
    added.mkdir()
    for name in ADDED:
        shutil.copy(SAMPLE_DOCS / name, added / name)

    calls: list[Call] = []
    stop = threading.Event()
    users = [threading.Thread(target=ask_until, args=(running.url, stop, calls, i * 3), daemon=True)
             for i in range(2)]
    for user in users:
        user.start()
    stored: list[tuple[float, str]] = []
    ingest = subprocess.Popen([LATENT, "ingest", "--index", str(index.path), "--json", str(added)],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert ingest.stderr is not None and ingest.stdout is not None
        log = []
        for line in ingest.stderr:  # one line per stored document, as each is stored
            log.append(line)
            if line.startswith("stored "):
                stored.append((time.monotonic(), line.strip()))
        report = ingest.stdout.read()
        code = ingest.wait(300)
        ended = time.monotonic()
    finally:
        if ingest.poll() is None:
            ingest.kill()
            ingest.wait(30)
        stop.set()
        for user in users:
            user.join(120)
    assert code == 0, "".join(log)
    assert all(Path(p).name in report for p in ADDED), report
    assert len(stored) == len(ADDED), log
    assert not any(user.is_alive() for user in users), "a question never returned"

    failures = [f"{c.question}: {type(c.error).__name__}: {c.error}" for c in calls if c.error is not None]
    failures += [f"{c.question}: {p}" for c in calls if c.error is None for p in reply_problems(c.question, c.result)]
    assert not failures, "\n".join(failures[:10])
    first_stored = stored[0][0]
    during = [c for c in calls if c.end > first_stored and c.start < ended]
    assert len(during) >= 3, (f"only {len(during)} answers while the ingest was storing documents "
                              f"({len(calls)} in all)")

    # Afterwards the page's own cache has caught up (it looks at the manifest every RECHECK_SECONDS).
    time.sleep(RECHECK_SECONDS + 0.1)
    new = {d.id for d in index.documents()} - before
    assert len(new) == len(ADDED)
    with httpx.Client(base_url=running.url, timeout=60) as http:
        for doc_id in new:
            assert http.get(f"/doc/{doc_id}/text").status_code == 200, doc_id
    got = Client(running.url, verbose=False, download_files=False).predict(CHILD_R, api_name="/ask")
    assert not reply_problems(CHILD_R, got) and got["refused"] is False
    assert any(Path(c["source"]).name == "review-child-r.pdf" for c in got["citations"]), got["answer"]
