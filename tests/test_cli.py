"""The real `latent` command in a subprocess: names, flags, JSON shapes and exit codes of the contract."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

LATENT = str(Path(sys.executable).with_name("latent"))


def latent(*args: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1")
    return subprocess.run([LATENT, *args], capture_output=True, text=True, timeout=timeout, env=env)


def test_help_lists_commands_and_imports_nothing_heavy() -> None:
    p = latent("--help")  # how fast: scripts/bench_cold.py (make bench), beside a bare `import onnxruntime`
    assert p.returncode == 0 and "ingest" in p.stdout and "search" in p.stdout
    code = ("import sys, assistant.cli; sys.exit(any(m in sys.modules for m in ('torch', 'chromadb', 'gradio', "
            "'onnxruntime')))")
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


SAMPLE_DOCS = Path(__file__).resolve().parents[1] / "assistant" / "samples" / "docs"


@pytest.mark.parametrize(("args", "message"), [
    (["eval", "--gold", "{missing}"], "--gold {missing}: no such file"),
    (["eval", "--gold", "{folder}"], "is a folder, not a file"),
    (["eval", "--gold", "{not_json}"], "line 1: not JSON"),
    (["eval", "--gold", "{gold}", "--details", "{folder}/no/details.jsonl"], "does not exist"),
    (["eval", "--beir", "{folder}", "--run-dir", "{gold}"], "is a file, not a folder"),
    (["ask", "--questions", "{missing}"], "--questions {missing}: no such file"),
    (["search", "--queries", "{missing}"], "--queries {missing}: no such file"),
    (["search", "--queries", "{not_utf8}"], "not UTF-8 text"),
    (["tag", "--sentences", "{missing}"], "--sentences {missing}: no such file"),
    (["tag", "--sentences", "{not_json}"], "line 1: expected a JSON object with 'text'"),
    (["themes", "--csv", "{folder}/no/matrix.csv"], "does not exist"),
])
def test_a_bad_input_file_is_a_usage_error_before_anything_starts(args: list[str], message: str,
                                                                   tmp_path: Path) -> None:
    files = {"missing": str(tmp_path / "missing.jsonl"), "folder": str(tmp_path / "folder"),
             "not_json": str(tmp_path / "not.jsonl"), "not_utf8": str(tmp_path / "latin1.jsonl"),
             "gold": str(tmp_path / "gold.jsonl")}
    Path(files["folder"]).mkdir()
    Path(files["not_json"]).write_text("{'id': 1, 'question': 'single quotes are not JSON'}\n")
    Path(files["not_utf8"]).write_bytes('{"id": 1, "query": "caf\u00e9"}\n'.encode("latin-1"))
    Path(files["gold"]).write_text('{"id": "g1", "question": "What went wrong?", "kind": "unanswerable"}\n')
    index = tmp_path / "index"
    p = latent("--index", str(index), *[a.format(**files) for a in args], timeout=120)
    assert p.returncode == 2, p.stderr
    assert "Traceback" not in p.stderr and message.format(**files) in p.stderr.splitlines()[-1], p.stderr
    assert not index.exists(), "the index was opened before the arguments were checked"


def _interruptible() -> None:
    """In the child before exec: Ctrl+C's default action. A shell starts background jobs (`make test &`, nohup)
    with SIGINT ignored, children inherit that, and Python then installs no KeyboardInterrupt handler."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def test_ctrl_c_exits_130_with_one_line(tmp_path: Path) -> None:
    """Interrupted while it reads its input (a FIFO nobody writes to: it waits there until the signal)."""
    fifo = tmp_path / "sentences.jsonl"
    os.mkfifo(fifo)
    p = subprocess.Popen([LATENT, "tag", "--sentences", str(fifo)], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True, preexec_fn=_interruptible)
    deadline = time.monotonic() + 60
    while True:  # opening the FIFO for writing succeeds only once `latent` has it open for reading
        try:
            writer = os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)
            break
        except OSError:
            assert p.poll() is None and time.monotonic() < deadline, p.stderr.read() if p.stderr else ""
            time.sleep(0.05)
    try:
        # Pressed again if need be: in one of three clean-clone CI runs the first SIGINT, sent the instant the
        # FIFO opened, left the process waiting on it for 60 s. The cause was not found and has not been
        # reproduced since; the exit code and the single line are still checked.
        for _ in range(30):
            p.send_signal(signal.SIGINT)
            try:
                out, err = p.communicate(timeout=2)
                break
            except subprocess.TimeoutExpired:
                continue
        else:
            p.kill()
            raise AssertionError("latent tag ignored 30 interrupts")
    finally:
        os.close(writer)
    assert p.returncode == 130 and err == "latent: interrupted\n" and out == ""


def test_ctrl_c_during_an_ingest_keeps_the_documents_already_stored(tmp_path: Path) -> None:
    """Ctrl+C in a terminal signals the whole process group (the file-reading worker too) while documents are
    being stored: exit 130 and one line, and the index holds exactly the documents stored before it."""
    docs = tmp_path / "docs"
    shutil.copytree(SAMPLE_DOCS, docs)
    index = tmp_path / "index"
    p = subprocess.Popen([LATENT, "ingest", "--index", str(index), str(docs)], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True, start_new_session=True, preexec_fn=_interruptible)
    stored: list[str] = []
    lines: list[str] = []
    try:
        assert p.stderr is not None
        for line in p.stderr:  # the first encode batch holds the letters and the primer; three reviews follow
            lines.append(line)
            if line.startswith("stored "):
                stored.append(Path(line.split()[1]).name)
                if len(stored) == 1:
                    os.killpg(p.pid, signal.SIGINT)
        p.wait(120)
    finally:
        if p.poll() is None:
            os.killpg(p.pid, signal.SIGKILL)
            p.wait(30)
    assert p.returncode == 130, "".join(lines)
    assert lines[-1] == "latent: interrupted\n" and not any("Traceback" in x for x in lines), "".join(lines)
    listed = {Path(d["source"]).name for d in json.loads(latent("list", "--json", "--index", str(index)).stdout)[
        "documents"]}
    assert stored and set(stored) <= listed and len(listed) < len(list(SAMPLE_DOCS.iterdir()))


def test_a_port_in_use_is_a_usage_error(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        port = str(busy.getsockname()[1])
        p = latent("chat", "--index", str(tmp_path / "index"), "--port", port, timeout=120)
    assert p.returncode == 2 and "Traceback" not in p.stderr, p.stderr
    assert f"--port {port}: cannot listen on 127.0.0.1:{port}" in p.stderr and not (tmp_path / "index").exists()
