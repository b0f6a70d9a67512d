"""Cold start: a new `latent search` and `latent ask` process on the sample index, from process start to its output,
beside `latent --help` and a bare `python -c "import onnxruntime"` in the same run (median of --runs each, the
commands taking turns so that each sees the same load; the load average is recorded at each measurement).

    .venv/bin/python scripts/bench_cold.py [--runs 5] [--index DIR] [--out bench-results/cold.json]

Without --index the bundled samples are ingested into a temporary index first (not timed). The files are in the
page cache (a second start, as a practitioner's every start after the first); the process is new each time.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
COMMANDS = {
    "python -c 'import onnxruntime'": [sys.executable, "-c", "import onnxruntime"],
    "latent --help": [str(BIN / "latent"), "--help"],
    "latent search": [str(BIN / "latent"), "search", "caseloads of social workers", "-k", "5"],
    "latent ask": [str(BIN / "latent"), "ask", "What latent conditions preceded Child R's death?"],
}


def load() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def run(index: Path, runs: int) -> dict[str, Any]:
    env = dict(os.environ, HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", LATENT_INDEX=str(index))
    env.pop("LATENT_EMBEDDING__BACKEND", None)
    for command in COMMANDS.values():  # once each, untimed: the page cache holds the files, as after any first use
        subprocess.run(command, env=env, capture_output=True, check=True, timeout=600)
    seconds: dict[str, list[float]] = {name: [] for name in COMMANDS}
    loads: dict[str, list[list[float]]] = {name: [] for name in COMMANDS}
    for _ in range(runs):
        for name, command in COMMANDS.items():
            loads[name].append(load())
            t0 = time.perf_counter()
            done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=600)
            seconds[name].append(round(time.perf_counter() - t0, 3))
            if done.returncode != 0:
                raise SystemExit(f"{name} failed: {done.stderr[-2000:]}")
    return {"runs": runs, "index": str(index), "commands": {
        name: {"median_s": round(statistics.median(s), 2), "all_s": s, "loads": loads[name]}
        for name, s in seconds.items()}}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--index", type=Path, help="an existing index (default: the samples, ingested first)")
    ap.add_argument("--out", type=Path, default=ROOT / "bench-results" / "cold.json")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="latent-bench-cold-") as tmp:
        index = args.index
        if index is None:
            index = Path(tmp) / "samples"
            subprocess.run([str(BIN / "latent"), "ingest", "--index", str(index),
                            str(ROOT / "assistant" / "samples" / "docs")], check=True, capture_output=True)
        result = {"started": time.strftime("%Y-%m-%d %H:%M:%S"), "load_before": load(), **run(index, args.runs),
                  "load_after": load()}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2))
    for name, r in result["commands"].items():
        print(f"{name:32s} median {r['median_s']:.2f} s  (runs {r['all_s']}, load {r['loads'][0][0]}"
              f"-{max(x[0] for x in r['loads'])})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
