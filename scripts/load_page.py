"""`make load`: the page under concurrent users, then the same users while `latent ingest` adds documents to its index.

    .venv/bin/python scripts/load_page.py [--index DIR] [--users 20] [--questions 10] [--ingest-docs 20]

1. An index of the bundled sample documents (`latent ingest` into a temporary folder), or a copy of --index (the
   second phase adds documents to it, and a given index is never changed), served by the real page process,
   `latent chat --index DIR --host 127.0.0.1 --port P`.
2. Steady load: --users `gradio_client` users at once, each asking --questions questions one after another (no
   think time) through the page's `ask` endpoint: questions of assistant/samples/gold.jsonl, answerable and
   unanswerable mixed. Every reply is checked (the `latent ask --json` shape; a refusal starts with the refusal
   sentence; an answer cites what it uses), and the answers to one question must agree across users.
3. During an ingest: the same users ask, round after round (at least --questions each), for as long as a separate
   `latent ingest` process adds --ingest-docs Ofsted PDFs (../shared/data/ofsted/pdf) to the same index. Then
   the page must serve every new document and answer from it.
Recorded per phase: errors (exceptions, timeouts, malformed replies; must be 0), latency p50/p95/max, throughput,
the page process's memory (VmHWM and VmRSS sampled from /proc/PID/status), load average before and after.
Results: bench-results/load.json and load.md (git-ignored); the Markdown is printed. Exit status 1 when any
request failed or the new documents were not seen. The machine is shared: read the figures with the load.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from assistant.evaluation.replies import reply_problems

PRIVACY = {"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "HF_HUB_DISABLE_TELEMETRY": "1",
           "GRADIO_ANALYTICS_ENABLED": "False", "ANONYMIZED_TELEMETRY": "False", "TOKENIZERS_PARALLELISM": "false"}
os.environ.update(PRIVACY)

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("LATENT_SHARED") or ROOT.parent / "shared")
SAMPLES = ROOT / "assistant" / "samples"
LATENT = str(Path(sys.executable).with_name("latent"))
REQUEST_TIMEOUT_S = 300.0  # one question; far beyond any answer seen, so only a hung page reaches it
NEW_DOC_QUESTION = "What did inspectors find about the quality of social work practice?"


def load() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def percentile(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, round(q * (len(values) - 1)))]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def latent(*args: str, timeout: float = 900) -> subprocess.CompletedProcess[str]:
    return subprocess.run([LATENT, *args], capture_output=True, text=True, timeout=timeout,
                          env=dict(os.environ, **PRIVACY))


def documents(index: Path) -> dict[str, str]:
    """id → source file name of the stored documents, as `latent list --json` gives them (a separate process: this
    one never opens the index, so the page and the ingest are its only users)."""
    done = latent("list", "--json", "--index", str(index))
    if done.returncode != 0:
        raise SystemExit(f"latent list failed: {done.stderr}")
    return {d["id"]: Path(d["source"]).name for d in json.loads(done.stdout)["documents"]}


# -- the page process and its memory ----------------------------------------------------------------------------
def proc_status(pid: int) -> dict[str, float]:
    """VmHWM (the process's own peak resident memory) and VmRSS, in MB; {} once the process is gone."""
    out = {}
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(("VmHWM:", "VmRSS:")):
                out[line.split(":")[0]] = round(int(line.split()[1]) / 1024, 1)
    except (OSError, ValueError, IndexError):
        pass
    return out


class MemorySampler:
    """Samples /proc/PID/status every `every` seconds in a thread; `peak()` is the highest VmHWM and VmRSS seen
    since the last `reset()`."""

    def __init__(self, pid: int, every: float = 0.25) -> None:
        self.pid, self.every = pid, every
        self.samples = 0
        self._rss = self._hwm = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"memory-{pid}", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            status = proc_status(self.pid)
            if status:
                self.samples += 1
                self._rss = max(self._rss, status.get("VmRSS", 0.0))
                self._hwm = max(self._hwm, status.get("VmHWM", 0.0))
            self._stop.wait(self.every)

    def reset(self) -> None:
        self._rss = 0.0

    def peak(self) -> dict[str, float]:
        status = proc_status(self.pid)
        return {"vm_hwm_mb": max(self._hwm, status.get("VmHWM", 0.0)),
                "max_sampled_rss_mb": max(self._rss, status.get("VmRSS", 0.0))}

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(5)


class PageProcess:
    """`latent chat` on 127.0.0.1 in a subprocess, its output in a log file."""

    def __init__(self, index: Path, log: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/"
        self.log = log
        with open(log, "wb") as out:
            self.process = subprocess.Popen(
                [LATENT, "chat", "--index", str(index), "--host", "127.0.0.1", "--port", str(self.port)],
                stdout=out, stderr=subprocess.STDOUT, env=dict(os.environ, **PRIVACY))

    def wait_until_serving(self, timeout: float = 600) -> float:
        start = time.monotonic()
        while time.monotonic() - start < timeout:
            if self.process.poll() is not None:
                raise SystemExit(f"latent chat exited with {self.process.returncode}: see {self.log}")
            try:
                with urllib.request.urlopen(self.url, timeout=5) as reply:
                    if reply.status == 200:
                        return time.monotonic() - start
            except OSError:
                time.sleep(0.25)
        raise SystemExit(f"latent chat did not serve {self.url} in {timeout:g} s: see {self.log}")

    def tracebacks(self) -> int:
        return self.log.read_text(errors="replace").count("Traceback (most recent call last)")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)  # what Ctrl+C does: Gradio closes its server
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(30)


# -- users ------------------------------------------------------------------------------------------------------
@dataclass
class Request:
    """One question asked by one user: when, how long, and what was wrong with the reply (if anything)."""

    user: int
    qid: str
    kind: str
    start: float
    end: float
    refused: bool | None = None
    answer: str | None = None
    error: str | None = None


@dataclass
class Users:
    """The users' requests, and the moment they were all connected and started asking."""

    requests: list[Request] = field(default_factory=list)
    connect_s: list[float] = field(default_factory=list)
    started: float = 0.0
    ended: float = 0.0


def plans(gold: list[dict[str, Any]], users: int, per_user: int, seed: int) -> list[list[dict[str, Any]]]:
    """Each user's questions: about one in five unanswerable (the gold set's share is 9 of 71), the rest
    answerable, dealt round-robin from shuffled lists so that every question is asked by several users."""
    rng = random.Random(seed)
    answerable = [g for g in gold if g.get("kind") != "unanswerable"]
    unanswerable = [g for g in gold if g.get("kind") == "unanswerable"]
    rng.shuffle(answerable)
    rng.shuffle(unanswerable)
    n_un = max(1, round(per_user / 5)) if unanswerable else 0
    out = []
    for u in range(users):
        mine = [answerable[(u * (per_user - n_un) + j) % len(answerable)] for j in range(per_user - n_un)]
        mine += [unanswerable[(u * n_un + j) % len(unanswerable)] for j in range(n_un)]
        rng.shuffle(mine)
        out.append(mine)
    return out


def run_users(url: str, user_plans: list[list[dict[str, Any]]], keep_going: Any = None) -> Users:
    """Every user connects (its own `gradio_client.Client`), then all start together and ask their questions in
    turn; with `keep_going`, they go round again while it returns True."""
    from gradio_client import Client

    result = Users()
    lock = threading.Lock()
    ready = threading.Barrier(len(user_plans) + 1)

    def user(u: int, plan: list[dict[str, Any]]) -> None:
        t0 = time.monotonic()
        try:
            client = Client(url, verbose=False, download_files=False)
        except Exception as exc:
            with lock:
                result.requests.append(Request(u, "connect", "-", t0, time.monotonic(), error=repr(exc)[:300]))
            ready.wait()
            return
        with lock:
            result.connect_s.append(time.monotonic() - t0)
        ready.wait()
        done = 0
        while done < len(plan) or (keep_going is not None and keep_going()):
            g = plan[done % len(plan)]
            done += 1
            start = time.monotonic()
            req = Request(u, g["id"], g.get("kind", "fact"), start, start)
            try:
                got = client.submit(g["question"], api_name="/ask").result(timeout=REQUEST_TIMEOUT_S)
                req.end = time.monotonic()
                wrong = reply_problems(g["question"], got)
                if wrong:
                    req.error = "; ".join(wrong)
                else:
                    req.refused, req.answer = got["refused"], got["answer"]
            except Exception as exc:  # kept and counted: a load test reports failures, it does not stop at one
                req.end = time.monotonic()
                req.error = f"{type(exc).__name__}: {exc}"[:300]
            with lock:
                result.requests.append(req)
        client.close()

    threads = [threading.Thread(target=user, args=(u, p), name=f"user-{u}", daemon=True)
               for u, p in enumerate(user_plans)]
    for t in threads:
        t.start()
    ready.wait()
    result.started = time.monotonic()
    for t in threads:
        t.join()
    result.ended = time.monotonic()
    return result


def latency(requests: list[Request], wall_s: float | None = None) -> dict[str, Any]:
    ms = [(r.end - r.start) * 1000 for r in requests if r.error is None]
    out: dict[str, Any] = {"requests": len(requests), "errors": sum(r.error is not None for r in requests)}
    if ms:
        out.update({"p50_ms": round(statistics.median(ms), 1), "p95_ms": round(percentile(ms, 0.95), 1),
                    "max_ms": round(max(ms), 1), "mean_ms": round(statistics.fmean(ms), 1)})
    if wall_s:
        out["wall_s"] = round(wall_s, 1)
        out["throughput_rps"] = round(len(requests) / wall_s, 2)
    return out


def summary(users: Users, n_users: int) -> dict[str, Any]:
    reqs = [r for r in users.requests if r.qid != "connect"]
    wall = users.ended - users.started
    out = {"users": n_users, **latency(users.requests, wall),
           "connect_p50_s": round(statistics.median(users.connect_s), 2) if users.connect_s else None,
           "refused": {"answerable": sum(bool(r.refused) for r in reqs if r.kind != "unanswerable"),
                       "unanswerable": sum(bool(r.refused) for r in reqs if r.kind == "unanswerable"),
                       "unanswerable_asked": sum(r.kind == "unanswerable" for r in reqs)},
           "error_samples": sorted({r.error for r in users.requests if r.error})[:5]}
    return out


def consistency(requests: list[Request]) -> dict[str, int]:
    """Questions asked by several users whose answers differ: with no documents changing, none should."""
    by_q: dict[str, list[tuple[bool | None, str | None]]] = {}
    for r in requests:
        if r.error is None:
            by_q.setdefault(r.qid, []).append((r.refused, r.answer))
    return {"questions": len(by_q), "asked_more_than_once": sum(len(v) > 1 for v in by_q.values()),
            "with_differing_answers": sum(len(set(v)) > 1 for v in by_q.values())}


# -- phases -----------------------------------------------------------------------------------------------------
def phase_steady(page: PageProcess, memory: MemorySampler, user_plans: list[list[dict[str, Any]]]) -> dict[str, Any]:
    before = load()
    memory.reset()
    users = run_users(page.url, user_plans)
    out = summary(users, len(user_plans))
    out["consistency"] = consistency(users.requests)
    out.update({"page_memory": memory.peak(), "load_before": before, "load_after": load()})
    return out


def phase_ingest(page: PageProcess, memory: MemorySampler, user_plans: list[list[dict[str, Any]]], index: Path,
                 files: list[Path]) -> dict[str, Any]:
    from gradio_client import Client

    known = documents(index)
    before = load()
    memory.reset()
    stored: list[float] = []
    ingest = subprocess.Popen([LATENT, "ingest", "--index", str(index), "--json", *map(str, files)],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                              env=dict(os.environ, **PRIVACY))
    ingest_memory = MemorySampler(ingest.pid)
    t_start = time.monotonic()
    log: list[str] = []
    exited: list[float] = []
    done = threading.Event()

    def wait_for_exit() -> None:  # the users poll this event, not the process (Popen.poll is not for threads)
        ingest.wait()
        exited.append(time.monotonic())
        done.set()

    def read_progress() -> None:
        assert ingest.stderr is not None
        for line in ingest.stderr:
            log.append(line)
            if line.startswith("stored "):
                stored.append(time.monotonic())

    reader = threading.Thread(target=read_progress, daemon=True)
    reader.start()
    waiter = threading.Thread(target=wait_for_exit, daemon=True)
    waiter.start()
    users = run_users(page.url, user_plans, keep_going=lambda: not done.is_set())
    waiter.join()
    reader.join(10)
    ingest_memory.stop()
    assert ingest.stdout is not None
    report = json.loads(ingest.stdout.read() or "{}")  # one line of JSON: it fits the pipe while we wait
    code = ingest.returncode
    ingest_ended = exited[0]
    during = [r for r in users.requests if r.qid != "connect" and r.start >= t_start and r.end <= ingest_ended]
    after_first_store = [r for r in during if stored and r.end >= stored[0]]
    out = summary(users, len(user_plans))
    out["during_ingest"] = latency(during)
    out["during_ingest"]["while_storing"] = len(after_first_store)
    out["ingest"] = {"files": len(files), "exit": code, "added": len(report.get("added", [])),
                     "failed": [f["file"] for f in report.get("failed", [])],
                     "seconds": round(ingest_ended - t_start, 1), "peak_rss_mb": ingest_memory.peak()["vm_hwm_mb"],
                     "stderr_tail": [x.rstrip() for x in log if not x.startswith("stored ")][-5:]}
    out.update({"page_memory": memory.peak(), "load_before": before, "load_after": load()})

    # Afterwards: the page's cache catches up at its next manifest check (every 2 s); every new document must be
    # served, and questions scoped to a new document answered from it.
    time.sleep(2.5)
    new = {i: name for i, name in documents(index).items() if i not in known}
    served = 0
    import httpx

    with httpx.Client(base_url=page.url, timeout=120) as http:
        for doc_id in new:
            served += http.get(f"doc/{doc_id}/text").status_code == 200
    client = Client(page.url, verbose=False, download_files=False)
    from_it = []
    for _, name in sorted(new.items())[:5]:
        got = client.predict(NEW_DOC_QUESTION, documents=[name], api_name="/ask")
        # answered (citations) or, if the evidence is weak, refused with the nearest passages: from this document
        sources = {Path(h["source"]).name for h in got.get("citations") or got.get("nearest") or []}
        from_it.append(not reply_problems(NEW_DOC_QUESTION, got) and sources == {name})
    client.close()
    out["after_ingest"] = {"new_documents": len(new), "served_by_page": served, "asked": len(from_it),
                           "replies_from_the_new_document": sum(from_it)}
    return out


# -- report -----------------------------------------------------------------------------------------------------
def markdown(r: dict[str, Any]) -> str:
    m = r["machine"]
    lines = [f"# Page under load {r['started']}", "",
             f"Machine: {m['cpus']} CPUs, {m['platform']}; load average before {r['load_before']}, after "
             f"{r['load_after']}. Index: {r['index']['documents']} documents ({r['index']['source']}). Page: "
             f"serving after {r['page']['serves_s']} s, first answer after {r['page']['first_answer_s']} s.", "",
             "| phase | users | requests | errors | p50 ms | p95 ms | max ms | throughput req/s | page VmHWM MB "
             "| page max RSS MB | load before | load after |", "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    rows = [("steady", r.get("steady")), ("during ingest (all requests)", r.get("ingest")),
            ("during ingest (while it ran)", r.get("ingest", {}).get("during_ingest"))]
    for name, p in rows:
        if not p:
            continue
        mem = p.get("page_memory", {})
        lines.append(f"| {name} | {p.get('users', '')} | {p['requests']} | {p['errors']} | {p.get('p50_ms', '-')} | "
                     f"{p.get('p95_ms', '-')} | {p.get('max_ms', '-')} | {p.get('throughput_rps', '')} | "
                     f"{mem.get('vm_hwm_mb', '')} | {mem.get('max_sampled_rss_mb', '')} | "
                     f"{p.get('load_before', '')} | {p.get('load_after', '')} |")
    s = r.get("steady")
    if s:
        c = s["consistency"]
        lines += ["", f"Steady: {s['users']} users x {r['questions_per_user']} questions, back to back; "
                      f"refused {s['refused']['unanswerable']} of {s['refused']['unanswerable_asked']} unanswerable "
                      f"and {s['refused']['answerable']} answerable asks; {c['with_differing_answers']} of "
                      f"{c['questions']} questions got different answers from different users."]
    i = r.get("ingest")
    if i:
        g, a = i["ingest"], i["after_ingest"]
        lines += ["", f"During ingest: `latent ingest` of {g['files']} PDFs (exit {g['exit']}, {g['added']} added, "
                      f"{len(g['failed'])} failed) took {g['seconds']} s, peak RSS {g['peak_rss_mb']} MB; "
                      f"{i['during_ingest']['requests']} requests ran wholly while it ran, "
                      f"{i['during_ingest']['while_storing']} of them ending after its first stored document.",
                  f"After it: {a['new_documents']} new documents, {a['served_by_page']} served by the page, "
                  f"{a['replies_from_the_new_document']} of {a['asked']} questions scoped to one of them answered "
                  "from it."]
    errors = [e for p in (r.get("steady"), r.get("ingest")) if p for e in p["error_samples"]]
    if errors:
        lines += ["", "Errors (samples):", *[f"- {e}" for e in errors]]
    lines += ["", f"Tracebacks in the page's log: {r['page']['tracebacks']}.", ""]
    return "\n".join(lines)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--index", type=Path, help="an index to copy (default: the sample documents, ingested first)")
    ap.add_argument("--users", type=int, default=20)
    ap.add_argument("--questions", type=int, default=10, help="questions per user (per round in phase 2)")
    ap.add_argument("--ingest-from", type=Path, default=SHARED / "data/ofsted/pdf",
                    help="where phase 2's documents come from (the first --ingest-docs by name)")
    ap.add_argument("--ingest-docs", type=int, default=20, help="0 skips phase 2")
    ap.add_argument("--gold", type=Path, default=SAMPLES / "gold.jsonl")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--out", type=Path, default=ROOT / "bench-results")
    args = ap.parse_args()
    if args.users < 1 or args.questions < 1:
        ap.error("--users and --questions must be at least 1")
    gold = [json.loads(x) for x in args.gold.read_text(encoding="utf-8").splitlines() if x.strip()]
    files = sorted(p for p in args.ingest_from.glob("*") if p.is_file())[:args.ingest_docs] \
        if args.ingest_docs > 0 and args.ingest_from.is_dir() else []
    result: dict[str, Any] = {"started": time.strftime("%Y-%m-%d %H:%M:%S"), "load_before": load(),
                              "machine": {"cpus": os.cpu_count(), "platform": platform.platform()},
                              "questions_per_user": args.questions}
    args.out.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="latent-load-"))
    page: PageProcess | None = None
    memory: MemorySampler | None = None
    try:
        index = work / "index"
        if args.index:
            shutil.copytree(args.index, index)
            source = f"copy of {args.index}"
        else:
            t0 = time.monotonic()
            done = latent("ingest", "--index", str(index), str(SAMPLES / "docs"))
            if done.returncode != 0:
                raise SystemExit(f"building the sample index failed: {done.stderr}")
            source = f"bundled samples, ingested in {time.monotonic() - t0:.1f} s"
        result["index"] = {"source": source, "documents": len(documents(index))}
        print(f"index: {result['index']}", file=sys.stderr, flush=True)

        page = PageProcess(index, work / "page.log")
        memory = MemorySampler(page.process.pid)
        t0 = time.monotonic()
        serves = page.wait_until_serving()
        from gradio_client import Client

        Client(page.url, verbose=False, download_files=False).predict(gold[0]["question"], api_name="/ask")
        result["page"] = {"serves_s": round(serves, 1), "first_answer_s": round(time.monotonic() - t0, 1),
                          "memory_at_start": memory.peak()}
        print(f"page: {result['page']}", file=sys.stderr, flush=True)

        user_plans = plans(gold, args.users, args.questions, args.seed)
        result["steady"] = phase_steady(page, memory, user_plans)
        print(f"steady: {json.dumps({k: v for k, v in result['steady'].items() if k != 'error_samples'})}",
              file=sys.stderr, flush=True)
        if files:
            result["ingest"] = phase_ingest(page, memory, user_plans, index, files)
            print(f"during ingest: {json.dumps(result['ingest']['during_ingest'])}", file=sys.stderr, flush=True)
        else:
            result["ingest_skipped"] = f"no documents at {args.ingest_from}"
    finally:
        if memory is not None:
            memory.stop()
        if page is not None:
            page.stop()
            result.setdefault("page", {})["tracebacks"] = page.tracebacks()
            shutil.copy(page.log, args.out / "load-page.log")
        shutil.rmtree(work, ignore_errors=True)
    result.update({"finished": time.strftime("%Y-%m-%d %H:%M:%S"), "load_after": load()})
    (args.out / "load.json").write_text(json.dumps(result, indent=2))
    (args.out / "load.md").write_text(markdown(result))
    print(markdown(result))
    failed = result["steady"]["errors"] + (result["ingest"]["errors"] if "ingest" in result else 0)
    if "ingest" in result:
        a = result["ingest"]["after_ingest"]
        failed += a["new_documents"] - a["served_by_page"] + a["asked"] - a["replies_from_the_new_document"]
        failed += result["ingest"]["ingest"]["exit"] != 0
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
