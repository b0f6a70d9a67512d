"""What reading files in a child process costs: the 60 Ofsted PDFs read in-process and through `FileReader`
(prepare only, no model), then whole ingests with the time limit on and off (`file_timeout_s=0`).

    .venv/bin/python scripts/bench_reader.py [--pdfs ../shared/data/ofsted/pdf] [--no-ingest]
The machine is shared: load averages are printed, and each measurement is the best of --repeat runs.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

os.environ.update({"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "HF_HUB_DISABLE_TELEMETRY": "1",
                   "ANONYMIZED_TELEMETRY": "False", "TOKENIZERS_PARALLELISM": "false"})


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--pdfs", default=str(Path(__file__).resolve().parents[2] / "shared/data/ofsted/pdf"))
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--no-ingest", action="store_true", help="only the read-only comparison")
    args = ap.parse_args()
    from ingest.pipeline import ReadOptions, file_hash, prepare
    from ingest.worker import FileReader
    from vectorstore.settings import DEFAULT_MODEL

    files = sorted(Path(args.pdfs).glob("*.pdf"))
    jobs = [(f, file_hash(f)) for f in files]
    options = ReadOptions(DEFAULT_MODEL, 200, 500)
    print(f"{len(files)} files; load {os.getloadavg()}")

    def in_process() -> float:
        t = time.perf_counter()
        for f, h in jobs:
            prepare(f, h, None, options, False)
        return time.perf_counter() - t

    def in_child() -> tuple[float, float, float]:
        """(steady 60 files, worker start to ready, its first file: tokenizer and tagger caches cold)."""
        t = time.perf_counter()
        with FileReader(2048) as reader:
            reader.call(60, len, "")
            started = time.perf_counter() - t
            t = time.perf_counter()
            reader.call(60, prepare, *jobs[0], None, options, False)
            first = time.perf_counter() - t
            t = time.perf_counter()
            for f, h in jobs:
                reader.call(60, prepare, f, h, None, options, False)
            return time.perf_counter() - t, started, first

    in_process()  # warm the tokenizer, the tagger and the page cache
    a, b, start, first = [], [], [], []
    for _ in range(args.repeat):  # interleaved, so both see the same load
        a.append(in_process())
        steady, s0, f0 = in_child()
        b.append(steady)
        start.append(s0)
        first.append(f0)
    print(f"prepare 60 files in-process {min(a):.2f} s; in the child {min(b):.2f} s: "
          f"{(min(b) - min(a)) / len(files) * 1000:+.1f} ms a file. Once per process: worker start "
          f"{min(start):.2f} s, first file {min(first):.2f} s. Load {os.getloadavg()[0]:.2f}")
    if args.no_ingest:
        return
    from ingest import ingest_paths
    from vectorstore import open_index
    from vectorstore.settings import IngestSettings, Settings

    for timeout in (0.0, 60.0, 0.0, 60.0):
        settings = Settings(ingest=IngestSettings(file_timeout_s=timeout))
        with tempfile.TemporaryDirectory() as tmp:
            index = open_index(tmp, settings=settings)
            t = time.perf_counter()
            report = ingest_paths(index, [args.pdfs])
            took = time.perf_counter() - t
        mode = "child process" if timeout else "in-process"
        print(f"ingest ({mode}): {took:.1f} s, {report.passages} passages, {len(report.failed)} failed; "
              f"load {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
