"""No egress: `latent ingest`, `search`, `list`, `ask` and the page run with every network attempt recorded, and
none leaves loopback.

Two independent witnesses watch the same real CLI processes (and their file-reader children):
- a Python audit hook, installed through `sitecustomize` on PYTHONPATH, logs every `socket.connect`,
  `socket.getaddrinfo`, `socket.gethostbyname`, `socket.sendto` and `socket.sendmsg` with its address;
- `strace -f` (when the machine allows ptrace) logs every connect/sendto/sendmsg system call, which also
  catches native code (Chroma's Rust core, tokenizers) that the audit hook cannot see.
The privacy variables (HF_HUB_OFFLINE, ANONYMIZED_TELEMETRY, GRADIO_ANALYTICS_ENABLED…) are removed from the
environment first: the product must be private by default, not because the test suite says so.
"""

from __future__ import annotations

import ipaddress
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import textwrap
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
LATENT = str(Path(sys.executable).with_name("latent"))
SAMPLES = ROOT / "assistant" / "samples" / "docs"
PRIVACY_VARS = ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "HF_HUB_DISABLE_TELEMETRY", "GRADIO_ANALYTICS_ENABLED",
                "ANONYMIZED_TELEMETRY", "DO_NOT_TRACK", "HF_DATASETS_OFFLINE", "LATENT_SERVER", "LATENT_INDEX")

# Long runs are opt-in: `make test` selects by marker (-m "not llm"), so these skip unless `-m slow` is given.
only_with_m_slow = pytest.mark.skipif("'slow' not in config.getoption('markexpr')",
                                      reason="a long run: select it with -m slow")

AUDIT_HOOK = '''
import json, os, sys

_LOG = os.environ.get("LATENT_EGRESS_LOG")
_EVENTS = {"socket.connect", "socket.getaddrinfo", "socket.gethostbyname", "socket.gethostbyaddr",
           "socket.sendto", "socket.sendmsg"}


def _plain(value):
    if isinstance(value, (str, int, float, type(None))):
        return value
    if isinstance(value, bytes):
        return value.decode("latin-1")
    if isinstance(value, (tuple, list)):
        return [_plain(v) for v in value]
    return repr(value)


def _hook(event, args):
    if event not in _EVENTS:
        return
    family = getattr(args[0], "family", None) if args else None
    rest = list(args[1:]) if event in ("socket.connect", "socket.sendto", "socket.sendmsg") else list(args)
    row = {"pid": os.getpid(), "argv": sys.orig_argv[1:4], "event": event,
           "family": int(family) if family is not None else None, "args": _plain(rest)}
    with open(_LOG, "a") as fh:
        fh.write(json.dumps(row) + "\\n")


if _LOG:
    sys.addaudithook(_hook)
    with open(_LOG, "a") as fh:  # proof that this process is watched
        fh.write(json.dumps({"pid": os.getpid(), "argv": sys.orig_argv[1:4], "event": "watching"}) + "\\n")
'''


def _is_loopback_host(host: Any) -> bool:
    if host in (None, "", "localhost", "localhost.localdomain", "ip6-localhost"):
        return True
    try:
        return ipaddress.ip_address(str(host).split("%")[0]).is_loopback
    except ValueError:
        return False


def outside_loopback(row: dict[str, Any]) -> bool:
    """An attempt that could leave the machine: anything but AF_UNIX, 127.0.0.0/8, ::1 or a local name."""
    if row["family"] == socket.AF_UNIX:
        return False
    args = row["args"]
    if row["event"] in ("socket.getaddrinfo", "socket.gethostbyname", "socket.gethostbyaddr"):
        return not _is_loopback_host(args[0] if args else None)
    address = args[0] if args else None
    if isinstance(address, str):  # an AF_UNIX path
        return False
    if isinstance(address, list) and address:
        return not _is_loopback_host(address[0])
    return address is not None


_STRACE_ADDRESS = re.compile(r'sa_family=(AF_INET6?)\b.*?(?:inet_addr\("([^"]+)"\)|inet_pton\(AF_INET6, "([^"]+)")')


def strace_outside_loopback(lines: list[str]) -> list[str]:
    bad = []
    for line in lines:
        m = _STRACE_ADDRESS.search(line)
        if m and not _is_loopback_host(m.group(2) or m.group(3)):
            bad.append(line.strip())
    return bad


def _strace_command() -> list[str] | None:
    """strace, stopping only at the traced calls (seccomp-bpf) where the kernel allows it; None without ptrace."""
    if shutil.which("strace") is None:
        return None
    for command in (["strace", "-f", "--seccomp-bpf", "-qq"], ["strace", "-f", "-qq"]):
        probe = subprocess.run([*command, "-e", "trace=connect", "true"], capture_output=True, timeout=30)
        if probe.returncode == 0:
            return command
    return None


class Witness:
    """Runs commands with the audit hook (and strace when possible); collects what they tried."""

    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        site = tmp / "site"
        site.mkdir()
        (site / "sitecustomize.py").write_text(textwrap.dedent(AUDIT_HOOK))
        self.log = tmp / "egress.jsonl"
        self.log.touch()
        self.strace_command = _strace_command()
        self.strace = self.strace_command is not None
        self.strace_logs: list[Path] = []
        self.env = {k: v for k, v in os.environ.items() if k not in PRIVACY_VARS}
        self.env.update(PYTHONPATH=str(site), LATENT_EGRESS_LOG=str(self.log), HOME=str(tmp / "home"),
                        XDG_DATA_HOME=str(tmp / "data"), XDG_CACHE_HOME=str(tmp / "cache"))
        self.commands: list[str] = []

    def command(self, args: list[str]) -> list[str]:
        self.commands.append(" ".join(args[:2]))
        if self.strace_command is None:
            return [LATENT, *args]
        out = self.tmp / f"strace-{len(self.strace_logs)}.txt"
        self.strace_logs.append(out)
        return [*self.strace_command, "-o", str(out), "-e", "trace=connect,sendto,sendmsg", LATENT, *args]

    def run(self, args: list[str], timeout: float = 300) -> subprocess.CompletedProcess[str]:
        return subprocess.run(self.command(args), capture_output=True, text=True, env=self.env, timeout=timeout)

    def popen(self, args: list[str], log: Path) -> subprocess.Popen[bytes]:
        with open(log, "wb") as out:  # a session of its own: stopping strace alone would leave the page running
            return subprocess.Popen(self.command(args), stdout=out, stderr=subprocess.STDOUT, env=self.env,
                                    start_new_session=True)

    def rows(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.log.read_text().splitlines() if line.strip()]

    def attempts(self) -> list[dict[str, Any]]:
        return [r for r in self.rows() if r["event"] != "watching"]

    def check(self) -> dict[str, Any]:
        rows = self.attempts()
        bad = [r for r in rows if outside_loopback(r)]
        strace_lines = [line for f in self.strace_logs if f.exists() for line in f.read_text().splitlines()]
        strace_bad = strace_outside_loopback(strace_lines)
        watched = [r for r in self.rows() if r["event"] == "watching"]
        summary = {"commands": self.commands, "processes_watched": len(watched),
                   "file_reader_processes": sum("ingest.worker" in " ".join(r["argv"]) for r in watched),
                   "network_events": len(rows), "outside_loopback": len(bad),
                   "strace": self.strace, "strace_calls": len([x for x in strace_lines if "(" in x]),
                   "strace_outside_loopback": len(strace_bad)}
        print(f"\nno-egress: {json.dumps(summary)}")
        assert not bad, f"connection attempts outside loopback: {bad[:10]}"
        assert not strace_bad, f"system calls to non-loopback addresses: {strace_bad[:10]}"
        return summary


@pytest.fixture
def witness(tmp_path: Path) -> Witness:
    return Witness(tmp_path)


def test_the_hook_sees_an_outside_attempt(witness: Witness) -> None:
    """The witness works: a deliberate attempt (to a TEST-NET address, which goes nowhere) is recorded."""
    code = ("import socket; s = socket.socket(); s.settimeout(0.01)\n"
            "try: s.connect(('192.0.2.1', 9))\nexcept OSError: pass\n"
            "try: socket.getaddrinfo('example.invalid', 443)\nexcept OSError: pass")
    subprocess.run([sys.executable, "-c", code], env=witness.env, timeout=60, check=True)
    bad = [r for r in witness.attempts() if outside_loopback(r)]
    assert {r["event"] for r in bad} == {"socket.connect", "socket.getaddrinfo"}


def test_ingest_search_list_ask_stay_on_the_machine(witness: Witness, tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    for name in ("focused-visit-brackenford-2021.docx", "focused-visit-ravensmoor-2023.html"):
        shutil.copy(SAMPLES / name, docs / name)  # small samples: the model, not the loaders, takes the time
    (docs / "notes.md").write_text("# Notes\n\nCaseloads of social workers were too high, at 30 to 50 each.\n")
    _small_pdf(docs / "letter.pdf")  # PDF, DOCX, HTML and Markdown: every loader runs
    index = ["--index", str(tmp_path / "index")]
    ingest = witness.run(["ingest", "--json", *index, str(docs)])
    assert ingest.returncode == 0, ingest.stderr
    assert len(json.loads(ingest.stdout)["added"]) == 4
    search = witness.run(["search", "--json", "-k", "3", *index, "caseloads of social workers"])
    assert search.returncode == 0 and json.loads(search.stdout)["hits"], search.stderr
    listed = witness.run(["list", "--json", *index])
    assert listed.returncode == 0 and json.loads(listed.stdout)["documents"], listed.stderr
    ask = witness.run(["ask", "--json", *index, "What latent conditions preceded Child R's death?"])
    assert ask.returncode == 0, ask.stderr
    assert "answer" in json.loads(ask.stdout)
    summary = witness.check()
    assert summary["processes_watched"] >= 5 and summary["file_reader_processes"] >= 1  # the hook was there


def _small_pdf(path: Path) -> None:
    from fpdf import FPDF

    pdf = FPDF()
    pdf.set_font("helvetica", size=11)
    pdf.add_page()
    for line in ("Focused visit letter", "1. Management oversight of the front door was not consistent.",
                 "2. Supervision was regular but did not challenge drift in children's plans."):
        pdf.multi_cell(0, 6, line, new_x="LMARGIN", new_y="NEXT")
    pdf.output(str(path))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.slow
@only_with_m_slow
def test_the_page_stays_on_the_machine(witness: Witness, tmp_path: Path) -> None:
    """`latent chat` started, loaded and asked one question through its API, then stopped."""
    port = _free_port()
    log = tmp_path / "page.log"
    page = witness.popen(["chat", "--index", str(tmp_path / "index"), "--port", str(port), "--samples"], log)
    try:
        deadline = time.monotonic() + 240
        while True:
            assert page.poll() is None, log.read_text()
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5) as reply:
                    if reply.status == 200:
                        break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(1)
        from gradio_client import Client

        client = Client(f"http://127.0.0.1:{port}/", verbose=False)
        endpoints = client.view_api(print_info=False, return_format="dict")["named_endpoints"]
        api_name = "/ask" if "/ask" in endpoints else "/search"  # "/ask" arrives with the answers issue
        client.predict("What went wrong with supervision?", api_name=api_name)
        client.close()
    finally:
        os.killpg(page.pid, signal.SIGTERM)
        try:
            page.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(page.pid, signal.SIGKILL)
            page.wait(10)
        for _ in range(100):  # the page itself, not only strace, must be gone before the next test
            if not _session_alive(page.pid):
                break
            time.sleep(0.1)
        else:
            os.killpg(page.pid, signal.SIGKILL)
    witness.check()


def _session_alive(sid: int) -> bool:
    try:
        os.killpg(sid, 0)
    except ProcessLookupError:
        return False
    return True
