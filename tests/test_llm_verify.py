"""LLM-mode post-processing with a scripted chat model (through LangChain's real interface): invented keys are
dropped, unsupported sentences flagged, citations renumbered, streaming delivered, refusals recognised."""

from __future__ import annotations

from pathlib import Path

import pytest
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage

from assistant import ask
from assistant.llm_answer import remote_notice
from ingest import ingest_paths
from prompts import REFUSAL, UNSUPPORTED_MARK
from vectorstore import open_index

SAMPLES = Path(__file__).resolve().parents[1] / "assistant" / "samples"


@pytest.fixture(scope="module")
def index(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    ix = open_index(tmp_path_factory.mktemp("llm-index"))
    ingest_paths(ix, [SAMPLES / "docs" / "focused-visit-wenmarsh-2017.html"])
    return ix


def scripted(text: str) -> GenericFakeChatModel:
    return GenericFakeChatModel(messages=iter([AIMessage(content=text)]))


def test_keys_checked_sentences_verified_and_streamed(index) -> None:  # type: ignore[no-untyped-def]
    hits = index.search("caseloads of social workers", k=6)
    from vectorstore.sentences import split_sentences

    quoted = next(hits[0].text[a:b] for a, b in split_sentences(hits[0].text) if len(hits[0].text[a:b].split()) > 6)
    script = (f"{quoted} [1] [9]\n"  # a real sentence, a real key and an invented key
              "The moon is made of green cheese and inspectors praised it. [2]\n"  # unsupported
              "Nothing cites this sentence at all.")
    tokens: list[str] = []
    answer = ask(index, "caseloads of social workers", llm=scripted(script), on_token=tokens.append)
    assert "".join(tokens).strip() == script.strip() and len(tokens) > 1  # streamed, not one block
    assert answer.mode == "llm" and not answer.refused
    lines = answer.text.splitlines()
    assert lines[0].endswith("[1]") and "[9]" not in answer.text
    assert lines[1].endswith(UNSUPPORTED_MARK) and lines[2].endswith(UNSUPPORTED_MARK)
    assert len(answer.citations) == 1 and answer.citations[0].hit.id == hits[0].id
    assert answer.supported_share == pytest.approx(1 / 3)


def test_model_refusal_is_a_refusal(index) -> None:  # type: ignore[no-untyped-def]
    answer = ask(index, "caseloads of social workers", llm=scripted(REFUSAL))
    assert answer.refused and answer.text.startswith(REFUSAL) and answer.nearest


def test_remote_notice_only_off_this_machine() -> None:
    assert remote_notice("http://127.0.0.1:8080/v1") is None
    assert remote_notice("http://localhost:11434") is None
    assert "example.org" in (remote_notice("https://example.org/v1") or "")
