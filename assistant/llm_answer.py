"""LLM mode: any LangChain chat model answers from numbered, delimited passages; then every citation key is
checked against the passages and every sentence against what it cites.

Verification, not trust: keys that match no passage are dropped; a sentence is supported when its content words
are mostly in a passage it cites (lexical) or its embedding is close to that passage's (semantic); unsupported
sentences are flagged (or removed, `LATENT_LLM__UNSUPPORTED=remove`) and the supported share is reported.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any
from urllib.parse import urlparse

from assistant.records import Answer, CitationNumbers
from prompts import NEAREST_INTRO, REFUSAL, REMOTE_NOTICE, UNSUPPORTED_MARK, load_template
from vectorstore.records import Hit

if TYPE_CHECKING:
    from vectorstore.index import Index

MAX_PASSAGES = 6
LEXICAL_SUPPORT = 0.6  # share of a sentence's content words found in the passage it cites
SEMANTIC_SUPPORT = 0.62  # cosine between a sentence and the passage it cites (MiniLM, unit vectors)
_KEY = re.compile(r"\[(\d{1,3})\]")
_LOOPBACK = {"127.0.0.1", "localhost", "::1", "0.0.0.0"}


def chat_model(spec: str, base_url: str | None = None, streaming: bool = False) -> Any:
    """'openai:MODEL' (any OpenAI-compatible endpoint: llama.cpp server, vLLM, LM Studio, Ollama, OpenAI) or
    'ollama:MODEL' (Ollama's own API)."""
    from vectorstore.settings import get_settings

    settings = get_settings().llm
    provider, _, model = spec.partition(":")
    base_url = base_url or settings.base_url
    if provider == "openai":
        try:
            from langchain_openai import ChatOpenAI
        except ImportError as exc:
            raise ImportError("LLM mode needs the 'llm' extra: pip install 'latent[llm]'") from exc
        return ChatOpenAI(model=model, base_url=base_url, api_key=settings.api_key or "not-needed",  # type: ignore[arg-type]
                          temperature=settings.temperature, streaming=streaming, max_retries=1, timeout=120)
    if provider == "ollama":
        try:
            from langchain_ollama import ChatOllama
        except ImportError as exc:
            raise ImportError("LLM mode needs the 'llm' extra: pip install 'latent[llm]'") from exc
        return ChatOllama(model=model, base_url=base_url or "http://127.0.0.1:11434", temperature=settings.temperature)
    raise ValueError(f"unknown model spec '{spec}': use openai:MODEL or ollama:MODEL")


def remote_notice(base_url: str | None) -> str | None:
    """The privacy notice when passages would leave this machine (None for a loopback endpoint)."""
    host = urlparse(base_url).hostname if base_url else "api.openai.com"
    if host in _LOOPBACK or (host or "").startswith("127."):
        return None
    return REMOTE_NOTICE.format(host=host)


def format_passages(hits: list[Hit]) -> str:
    blocks = []
    for n, h in enumerate(hits, start=1):
        where = f"page {h.passage.page}" + (f", paragraph {h.passage.paragraph}" if h.passage.paragraph else "")
        body = h.text.replace("</passage>", "</ passage>")  # a document cannot close its own delimiter
        blocks.append(f'<passage n="{n}" source="{h.document.title}, {where}">\n{body}\n</passage>')
    return "\n\n".join(blocks)


def rewrite_followup(llm: Any, question: str, history: Any) -> str:
    from assistant.followup import previous_question

    if not previous_question(history):
        return question
    turns = []
    for turn in history or []:
        if isinstance(turn, dict):
            turns.append(f"{turn.get('role', 'user')}: {turn.get('content', '')}")
        else:
            turns.append(f"user: {turn[0]}\nassistant: {str(turn[1])[:500]}")
    prompt = load_template("rewrite_followup").format(history="\n".join(turns[-6:]), question=question)
    text = str(llm.invoke(prompt).content).strip().splitlines()
    return text[0].strip() if text and text[0].strip() else question


def answer_with_llm(llm: Any, question: str, standalone: str, hits: list[Hit], index: Index,
                    on_token: Callable[[str], None] | None = None, unsupported: str = "flag") -> Answer:
    from langchain_core.messages import HumanMessage, SystemMessage

    shown = hits[:MAX_PASSAGES]
    messages = [SystemMessage(load_template("answer_system").format(refusal=REFUSAL)),
                HumanMessage(load_template("answer_user").format(passages=format_passages(shown),
                                                                 question=standalone, max_sentences=6))]
    parts: list[str] = []
    for chunk in llm.stream(messages):
        token = str(chunk.content)
        parts.append(token)
        if on_token:
            on_token(token)
    raw = "".join(parts).strip()
    if not raw or raw.startswith(REFUSAL):
        return Answer(question, f"{REFUSAL}\n{NEAREST_INTRO}", True, [], hits, shown, standalone, mode="llm",
                      reason="the model found no answer in the passages")
    return verify(raw, question, standalone, shown, hits, index, unsupported)


def _units(line: str) -> list[tuple[str, str]]:
    """Split a line into (text, the citation keys that follow it): 'A [1]. B. [2][3]' -> ('A.', '[1]'), ('B.',
    '[2][3]'); punctuation written after a key belongs to the text before it."""
    pieces = re.split(r"((?:\s*\[\d{1,3}\])+)", line)
    units: list[list[str]] = []
    for i in range(0, len(pieces), 2):
        text = pieces[i]
        keys = pieces[i + 1] if i + 1 < len(pieces) else ""
        m = re.match(r"^\s*([.!?;:,])", text)
        if m and units:
            units[-1][0] += m.group(1)
            text = text[m.end():]
        if text.strip():
            units.append([text.strip(), keys])
        elif units and keys:
            units[-1][1] += keys
    return [(t, k) for t, k in units]


def verify(raw: str, question: str, standalone: str, shown: list[Hit], hits: list[Hit], index: Index,
           unsupported: str = "flag") -> Answer:
    """Map keys to passages, drop invented keys, check each sentence against what it cites, renumber."""
    from vectorstore.lexical import lexical_tokens
    from vectorstore.sentences import split_sentences

    sentences: list[tuple[str, list[int]]] = []
    for line in raw.splitlines():
        for text, key_text in _units(line):
            spans = split_sentences(text) or [(0, len(text))]
            for j, (x, y) in enumerate(spans):
                body = text[x:y].strip()
                if not re.search(r"[A-Za-z]{2}", body):
                    continue
                keys = [int(k) for k in _KEY.findall(key_text)] if j == len(spans) - 1 else []
                # invented keys (no such passage) are dropped here
                sentences.append((body, [k for k in dict.fromkeys(keys) if 1 <= k <= len(shown)]))
    bodies = [s for s, _ in sentences]
    semantic = index.text_similarity(bodies, [h.id for h in shown])  # [sentence][passage shown]
    stems = lexical_tokens(bodies) if bodies else []
    passage_stems = [set(t) for t in lexical_tokens([h.text for h in shown])]
    numbers = CitationNumbers()
    lines: list[str] = []
    supported = 0
    for i, (body, keys) in enumerate(sentences):
        ok_keys = []
        for k in keys:
            words = set(stems[i])
            lexical = len(words & passage_stems[k - 1]) / max(1, len(words))
            if lexical >= LEXICAL_SUPPORT or semantic[i][k - 1] >= SEMANTIC_SUPPORT:
                ok_keys.append(k)
        if ok_keys:
            supported += 1
            ns = [numbers.cite(shown[k - 1], body) for k in ok_keys]
            lines.append(f"{body} " + "".join(f"[{n}]" for n in ns))
        elif unsupported != "remove":
            lines.append(f"{body} {UNSUPPORTED_MARK}")
    citations = numbers.citations()
    share = supported / len(sentences) if sentences else 0.0
    if not supported:
        return Answer(question, f"{REFUSAL}\nNo sentence of the model's answer is supported by the passages.\n"
                      f"{NEAREST_INTRO}", True, [], hits, shown, standalone, mode="llm",
                      reason="no sentence of the model's answer is supported", supported_share=share)
    return Answer(question, "\n".join(lines), False, citations, hits, [], standalone, mode="llm",
                  supported_share=share)
