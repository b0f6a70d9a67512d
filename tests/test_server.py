"""The index against a real Chroma server (`chroma run` on 127.0.0.1, started here): the same store tests as
embedded, then the server stopped mid-session (a clear StoreUnavailableError, no traceback from the CLI) and
restarted on the same folder and port (the same Index object carries on, and an interrupted ingest resumes).
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path

import pytest

from ingest import ingest_paths
from tests.conftest import need_shared, ofsted_pdf_dir
from vectorstore import StoreUnavailableError, open_index
from vectorstore.index import RECHECK_SECONDS
from vectorstore.settings import Settings, get_settings

CHROMA = str(Path(sys.executable).with_name("chroma"))
LATENT = str(Path(sys.executable).with_name("latent"))
LETTERS = ("kent_80476_2024-02-27_focused-visit.pdf", "wigan_80579_2023-06-09_focused-visit.pdf")
UNAVAILABLE = r"the Chroma server at http://127\.0\.0\.1:\d+ did not answer .*check that it is running"


class ChromaServer:
    """`chroma run --path FOLDER --host 127.0.0.1 --port PORT`, stoppable and restartable on the same port."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen[bytes] | None = None
        self.starts = 0

    def close_clients(self) -> None:
        """Close every HTTP client of this server: chromadb's HttpClient has no close(), and keeps each one (even
        one whose first heartbeat failed) in a class-level registry, so its sockets would warn at exit."""
        from chromadb.api.shared_system_client import SharedSystemClient

        for system in SharedSystemClient._identifier_to_system.values():
            for component in system.components():
                session = getattr(component, "_session", None)
                if session is not None and f":{self.port}" in str(getattr(component, "_api_url", "")):
                    session.close()

    def start(self) -> None:
        log = open(self.folder.with_suffix(f".{self.starts}.log"), "wb")  # noqa: SIM115  closed by the process
        self.process = subprocess.Popen([CHROMA, "run", "--path", str(self.folder), "--host", "127.0.0.1",
                                         "--port", str(self.port)], stdout=log, stderr=subprocess.STDOUT)
        log.close()
        self.starts += 1
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            assert self.process.poll() is None, f"chroma run exited: see {log.name}"
            with contextlib.suppress(OSError), urllib.request.urlopen(f"{self.url}/api/v2/heartbeat",
                                                                         timeout=2) as reply:
                if reply.status == 200:
                    return
            time.sleep(0.2)
        raise AssertionError(f"chroma run did not answer its heartbeat in 60 s: see {log.name}")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
        self.process = None


@pytest.fixture
def letters(tmp_path: Path) -> Path:
    src = need_shared(ofsted_pdf_dir())
    docs = tmp_path / "docs"
    docs.mkdir()
    for name in LETTERS:
        shutil.copy(src / name, docs / name)
    return docs


def test_store_against_a_chroma_server(server: ChromaServer, letters: Path, tmp_path: Path) -> None:
    note = letters / "note.txt"
    note.write_text("Caseloads in the assessment team were too high, at 30 to 50 children each.\n")
    index = open_index(tmp_path / "cache", server=server.url)  # the search cache on disk
    assert index.server == server.url and index.path is not None
    first = ingest_paths(index, [letters])
    assert len(first.added) == 3 and not first.failed
    hits = index.search("how many children is each social worker responsible for", k=3)
    assert any("caseload" in h.text.lower() for h in hits)
    assert not list((tmp_path / "cache").glob("chroma")), "server mode must not create an embedded Chroma"
    again = ingest_paths(index, [letters])
    assert len(again.unchanged) == 3 and not again.added and not again.updated
    note.write_text("Agency social workers made up half of the workforce.\n")
    assert ingest_paths(index, [letters]).updated == [str(note)]
    doc = index.find_document("note.txt")
    assert [p.text for p in index.passages(doc.id)] == ["Agency social workers made up half of the workforce."]
    # another client of the same server (another process, another machine) sees the same documents
    other = open_index(None, server=server.url)
    assert {d.id for d in other.documents()} == {d.id for d in index.documents()}
    index.remove("note.txt")
    time.sleep(RECHECK_SECONDS)  # the other client notices the removal at its next manifest check
    assert all(d.id != doc.id for d in other.documents())
    assert not any("Agency social workers made up half" in h.text for h in other.search("agency workforce", k=50))
    assert other.store.count() == sum(d.passages for d in other.documents())


def test_server_restart_gives_a_clear_error_then_recovers(server: ChromaServer, letters: Path,
                                                           tmp_path: Path) -> None:
    index = open_index(tmp_path / "cache", server=server.url)
    ingest_paths(index, [letters / LETTERS[0]])
    before = [h.id for h in index.search("caseloads", k=5)]
    assert before
    server.stop()
    time.sleep(RECHECK_SECONDS + 0.1)  # past the cache's freshness window, so the next search asks Chroma
    with pytest.raises(StoreUnavailableError, match=UNAVAILABLE):
        index.search("caseloads", k=5)
    with pytest.raises(StoreUnavailableError, match=UNAVAILABLE):
        ingest_paths(index, [letters / LETTERS[1]])
    with pytest.raises(StoreUnavailableError, match="cannot reach the Chroma server"):
        open_index(None, server=server.url)
    for args in (["search", "caseloads"], ["list"], ["ingest", str(letters)]):
        cli = subprocess.run([LATENT, *args, "--server", server.url, "--index", str(tmp_path / "cli")],
                             capture_output=True, text=True, timeout=120)
        assert cli.returncode == 1, (args, cli.stderr)
        assert "Traceback" not in cli.stderr and cli.stderr.strip().count("\n") == 0, cli.stderr
        assert cli.stderr.startswith("latent: ") and "Chroma server" in cli.stderr
    server.start()  # same folder, same port
    assert [h.id for h in index.search("caseloads", k=5)] == before
    report = ingest_paths(index, [letters])
    assert report.unchanged == [str(letters / LETTERS[0])] and report.added == [str(letters / LETTERS[1])]
    assert index.store.count() == sum(d.passages for d in index.documents())


def test_server_stopped_mid_ingest_then_resumed(server: ChromaServer, letters: Path, tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    # one document per Chroma write (ingest batches small documents): the server stops between the two writes
    monkeypatch.setattr("ingest.pipeline.ENCODE_BATCH", 1)
    index = open_index(None, server=server.url)  # no folder: no search cache on disk
    events: list[str] = []

    def stop_after_first(event: str, data: dict[str, object]) -> None:
        if event == "stored" and not events:
            events.append(str(data["file"]))
            server.stop()

    with pytest.raises(StoreUnavailableError, match=UNAVAILABLE):
        ingest_paths(index, [letters], progress=stop_after_first)
    server.start()
    report = ingest_paths(index, [letters])
    assert report.unchanged == events and len(report.added) == len(LETTERS) - 1 and not report.failed
    docs = index.documents()
    assert len(docs) == len(LETTERS)
    assert index.store.count() == sum(d.passages for d in docs)
    assert len(set(index.store.passage_ids())) == index.store.count()


def within(seconds: float, work: Callable[[], object]) -> BaseException | None:
    """Run `work` in a thread and return what it raised (None if nothing), failing the test if it is still running
    after `seconds`: a hang must fail the test, not hang the suite."""
    raised: list[BaseException] = []

    def run() -> None:
        try:
            work()
        except BaseException as exc:
            raised.append(exc)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(seconds)
    assert not thread.is_alive(), f"still waiting after {seconds:g} s: the request has no timeout"
    return raised[0] if raised else None


def short_timeout(seconds: float) -> Settings:
    return get_settings().model_copy(update={"server_timeout_s": seconds})


def test_a_server_that_accepts_and_never_replies_is_a_clear_error(tmp_path: Path) -> None:
    with socket.socket() as silent:  # connections complete in the kernel's backlog; nothing ever answers them
        silent.bind(("127.0.0.1", 0))
        silent.listen(16)
        url = f"http://127.0.0.1:{silent.getsockname()[1]}"
        error = within(60, lambda: open_index(None, server=url, settings=short_timeout(1.0)))
        assert isinstance(error, StoreUnavailableError), error
        assert "no answer within 1 s" in str(error) and url in str(error)
        cli = subprocess.run([LATENT, "list", "--server", url, "--index", str(tmp_path / "cli")], capture_output=True,
                             text=True, timeout=120, env=dict(os.environ, LATENT_SERVER_TIMEOUT_S="1"))
        assert cli.returncode == 1 and cli.stderr.startswith("latent: ") and "no answer within 1 s" in cli.stderr
        assert "Traceback" not in cli.stderr and cli.stderr.strip().count("\n") == 0, cli.stderr


def test_a_server_that_hangs_mid_session_times_out_then_recovers(server: ChromaServer, letters: Path) -> None:
    """`chroma run` stopped (SIGSTOP): its sockets still accept, nothing answers. Each request gives up after the
    configured timeout with a clear error; once the server runs again (SIGCONT) the same Index carries on."""
    assert server.process is not None
    index = open_index(None, server=server.url, settings=short_timeout(2.0))
    ingest_paths(index, [letters / LETTERS[0]])
    before = [h.id for h in index.search("caseloads", k=5)]
    os.kill(server.process.pid, signal.SIGSTOP)
    try:
        time.sleep(RECHECK_SECONDS + 0.1)  # past the cache's freshness window, so the next search asks Chroma
        error = within(60, lambda: index.search("caseloads", k=5))
        assert isinstance(error, StoreUnavailableError), error
        assert re.search(UNAVAILABLE, str(error)) and "within 2 s (ReadTimeout)" in str(error), error
        error = within(60, lambda: ingest_paths(index, [letters / LETTERS[1]]))
        assert isinstance(error, StoreUnavailableError), error
    finally:
        os.kill(server.process.pid, signal.SIGCONT)
    assert [h.id for h in index.search("caseloads", k=5)] == before
    report = ingest_paths(index, [letters])
    assert report.added == [str(letters / LETTERS[1])] and not report.failed
    index.close()
