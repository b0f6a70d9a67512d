"""The benchmark scripts of `make bench` run, on tiny inputs, and write what the README quotes. They time things;
these tests only check that they run and report (no figure is asserted: the machine is shared)."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from tests.conftest import need_shared, shared_dir

ROOT = Path(__file__).resolve().parents[1]


def script(name: str, *args: str) -> dict[str, object]:
    out = Path(args[args.index("--out") + 1])
    done = subprocess.run([sys.executable, str(ROOT / "scripts" / name), *args], capture_output=True, text=True,
                          timeout=900)
    assert done.returncode == 0, done.stderr[-3000:]
    result: dict[str, object] = json.loads(out.read_text())
    return result


def test_text_bench(tmp_path: Path) -> None:
    got = script("bench_text.py", "--ofsted-docs", "2", "--repeat", "1", "--model-sample", "5", "--out",
                 str(tmp_path / "text.json"), "--ofsted", str(shared_dir() / "data" / "ofsted" / "text"))
    assert {"model", "tagger", "splitter", "load_before"} <= set(got)


def test_cold_start_bench(sample_index_copy: Callable[[str], Path], tmp_path: Path) -> None:
    got = script("bench_cold.py", "--runs", "1", "--index", str(sample_index_copy("bench-cold")), "--out",
                 str(tmp_path / "cold.json"))
    commands = got["commands"]
    assert isinstance(commands, dict) and set(commands) == {"python -c 'import onnxruntime'", "latent --help",
                                                            "latent search", "latent ask"}


def test_small_documents_bench(tmp_path: Path) -> None:
    need_shared(shared_dir() / "data" / "beir" / "scifact")
    got = script("bench_small_docs.py", "--docs", "8", "--writes", "4", "--out", str(tmp_path / "small.json"))
    assert got["documents"] == 8 and "ingest_to_raw_encode" in got and "batched" in got["writes"]  # type: ignore[operator]


def test_scale_bench(sample_index_copy: Callable[[str], Path], tmp_path: Path) -> None:
    got = script("bench_scale.py", "--base", str(sample_index_copy("bench-scale")), "--work", str(tmp_path / "w"),
                 "--copies", "2", "--skip-page", "--out", str(tmp_path / "scale.json"))
    assert "vectors reused" in str(got["note"]) and "error" not in got["probe"]  # type: ignore[operator]
    assert (tmp_path / "scale.md").exists()
