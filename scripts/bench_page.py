"""Cold start of the page: from `latent chat` being started to the page serving and answering one question.

    .venv/bin/python scripts/bench_page.py                 # on a sample index built first (not timed)
    .venv/bin/python scripts/bench_page.py --index DIR     # on an existing index
    .venv/bin/python scripts/bench_page.py --first-run     # an empty index: includes ingesting the samples

Prints one JSON object: seconds to the page serving (`serves_s`) and to the first answer (`answers_s`), the median
over --runs. The question goes through the page's `ask` endpoint with gradio_client, as a program would.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LATENT = str(Path(sys.executable).with_name("latent"))
QUESTION = "What latent conditions preceded Child R's death?"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def one_start(index: Path, first_run: bool) -> dict[str, float]:
    from gradio_client import Client

    port = free_port()
    url = f"http://127.0.0.1:{port}/"
    cmd = [LATENT, "chat", "--index", str(index), "--port", str(port)] + (["--samples"] if first_run else [])
    start = time.monotonic()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        while True:
            if proc.poll() is not None:
                raise SystemExit(f"latent chat exited with {proc.returncode}")
            try:
                with urllib.request.urlopen(url, timeout=5) as reply:
                    if reply.status == 200:
                        break
            except OSError:
                time.sleep(0.1)
        serves = time.monotonic() - start
        answer = Client(url, verbose=False, download_files=False).predict(QUESTION, api_name="/ask")
        answers = time.monotonic() - start
        assert answer["citations"], answer
    finally:
        proc.terminate()
        proc.wait(30)
    return {"serves_s": round(serves, 2), "answers_s": round(answers, 2)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--index", type=Path, help="an existing index folder (default: the samples, built first)")
    parser.add_argument("--first-run", action="store_true", help="start from an empty index with --samples")
    parser.add_argument("--runs", type=int, default=1)
    args = parser.parse_args()
    for key in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE"):
        os.environ.setdefault(key, "1")
    work = Path(tempfile.mkdtemp(prefix="latent-bench-page-"))
    try:
        base = args.index
        if base is None and not args.first_run:
            base = work / "samples"
            subprocess.run([LATENT, "ingest", "--index", str(base), str(ROOT / "assistant" / "samples" / "docs")],
                           check=True, capture_output=True)
        results = []
        for n in range(args.runs):
            index = work / f"empty-{n}" if args.first_run else base
            results.append(one_start(index, args.first_run))
        summary = {"index": "empty, samples ingested at start" if args.first_run else str(args.index or "samples"),
                   "runs": results, "serves_s": statistics.median(r["serves_s"] for r in results),
                   "answers_s": statistics.median(r["answers_s"] for r in results)}
        print(json.dumps(summary))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
