"""The documents the question sets are about, their passages, and indexes built from them for training and scoring.

Nothing here is copied from `../shared`: documents are found by the file names the sets give and read at run time.
Passages are made by the product's own reader (`ingest.pipeline.prepare`: load, metadata, split at 200
word-pieces, tag), and the text the model sees is `ingest.pipeline.embedding_text` (header, newline, passage), so a
pair trains on exactly what ingest embeds. Passages depend on the tokenizer only, which tuning does not change, so
one reading serves every model; it is kept in a pickle beside the work files.
"""

from __future__ import annotations

import hashlib
import json
import pickle
import random
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from training.splits import document_key, split_of  # noqa: E402

if TYPE_CHECKING:
    import numpy as np

    from vectorstore.index import Index
    from vectorstore.records import DocumentInfo, Passage
    from vectorstore.settings import SearchSettings

SHARED = ROOT.parent / "shared" / "data"
DATA = ROOT / "training" / "data"
SAMPLE_DOCS = ROOT / "assistant" / "samples" / "docs"
# scripts/eval_sets.py adds this many Ofsted texts no question is about to its index, chosen by this seed; the
# training index takes its own distractors from the train split and never one of these.
EVAL_DISTRACTORS, EVAL_SEED = 100, 5
TRAIN_DISTRACTORS, TRAIN_SEED = 40, 14  # 40: each costs ~76 passages to encode (8 s on a busy 2-core machine)


@dataclass(frozen=True)
class Document:
    """One document as ingest reads it: its metadata and its passages."""

    path: Path
    info: DocumentInfo
    passages: list[Passage]


def read_jsonl(paths: Iterable[Path | str]) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for p in paths:
        rows += [json.loads(x) for x in Path(p).read_text(encoding="utf-8").splitlines() if x.strip()]
    return rows


def ofsted_question_files() -> list[Path]:
    return sorted(DATA.glob("questions-[0-9]*.jsonl"))


def pfd_question_files() -> list[Path]:
    return [DATA / "questions-pfd.jsonl"]


def people_file() -> Path:
    return DATA / "pfd-people.jsonl"


def groups_of(row: dict[str, Any]) -> list[tuple[str, list[str]]]:
    """(document, evidence strings) for the question's own document and each of its `more` documents."""
    groups = [(row["doc"], row.get("evidence") or [])] if row.get("doc") else []
    return groups + [(m["doc"], m.get("evidence") or []) for m in row.get("more", []) if m.get("doc")]


def split_of_question(row: dict[str, Any]) -> str:
    """The question's part, as scripts/eval_sets.py decides it: by its first document, else by its id."""
    doc = row.get("doc") or (row.get("more") or [{}])[0].get("doc")
    return split_of(doc or row["id"])


@cache
def _ofsted_texts() -> dict[str, Path]:
    return {document_key(p.name): p for p in sorted((SHARED / "ofsted" / "text").rglob("*.txt"))}


def find_document(name: str) -> Path:
    """The file a set's `doc` names: an Ofsted text, a coroner's report, or a bundled sample (its built file)."""
    key = document_key(name)
    if key in _ofsted_texts():
        return _ofsted_texts()[key]
    pfd = SHARED / "pfd" / Path(name).name
    if pfd.exists():
        return pfd
    built = [p for p in sorted(SAMPLE_DOCS.iterdir()) if document_key(p.name) == key]
    if built:
        return built[0]
    raise FileNotFoundError(f"no document for '{name}' in {SHARED} or {SAMPLE_DOCS}")


def asked_keys(rows: Iterable[dict[str, Any]]) -> set[str]:
    return {document_key(d) for r in rows for d, _ in groups_of(r)}


def eval_distractors() -> list[Path]:
    """The Ofsted texts scripts/eval_sets.py adds to its `index ofsted` (its `build_index`, reproduced)."""
    wanted = asked_keys(read_jsonl(ofsted_question_files()))
    others = [p for k, p in _ofsted_texts().items() if k not in wanted]
    others.sort()
    random.Random(EVAL_SEED).shuffle(others)
    return others[:EVAL_DISTRACTORS]


def train_distractors() -> list[Path]:
    """Train-split Ofsted texts no question is about and that no evaluation index holds."""
    wanted = asked_keys(read_jsonl([*ofsted_question_files(), *pfd_question_files()]))
    taken = set(eval_distractors())
    pool = sorted(p for k, p in _ofsted_texts().items()
                  if k not in wanted and p not in taken and split_of(p.name) == "train")
    random.Random(TRAIN_SEED).shuffle(pool)
    return pool[:TRAIN_DISTRACTORS]


def eval_corpus(which: str) -> list[Path]:
    """The files of scripts/eval_sets.py's index: `ofsted` (asked texts + 100 distractors) or `pfd` (all 73)."""
    if which == "pfd":
        return sorted((SHARED / "pfd").glob("*.txt"))
    wanted = asked_keys(read_jsonl(ofsted_question_files()))
    return [p for k, p in _ofsted_texts().items() if k in wanted] + eval_distractors()


# -- reading ---------------------------------------------------------------------------------------------------
def read_documents(paths: list[Path], cache_dir: Path) -> list[Document]:
    """Each file read and split as ingest does, without the model (the tokenizer counts word-pieces)."""
    from ingest.pipeline import ReadOptions, file_hash, prepare
    from vectorstore.settings import DEFAULT_MODEL

    cache_dir.mkdir(parents=True, exist_ok=True)
    options = ReadOptions(DEFAULT_MODEL, 200, 500.0)
    out = []
    for path in paths:
        digest = file_hash(path)
        tag = hashlib.sha256(f"{path.resolve()}|{digest}".encode()).hexdigest()[:16]
        cached = cache_dir / f"{path.stem[:60]}-{tag}.pickle"
        if cached.exists():
            out.append(pickle.loads(cached.read_bytes()))
            continue
        prepared = prepare(path, digest, None, options, existed=False)
        doc = Document(path, prepared.doc, prepared.passages)
        cached.write_bytes(pickle.dumps(doc))
        out.append(doc)
    return out


def passage_texts(docs: list[Document]) -> list[str]:
    """What the model sees for every passage, in document then reading order."""
    from ingest.pipeline import embedding_text

    return [embedding_text(p) for d in docs for p in d.passages]


def iter_passages(docs: list[Document]) -> Iterator[tuple[Document, Passage]]:
    for d in docs:
        for p in d.passages:
            yield d, p


# -- models and indexes -----------------------------------------------------------------------------------------
def load_model(path: str | Path) -> Any:
    """A sentence-transformers model by path, offline, on the CPU."""
    import os

    for k in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "HF_HUB_DISABLE_TELEMETRY"):
        os.environ[k] = "1"
    from sentence_transformers import SentenceTransformer
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    return SentenceTransformer(str(path), device="cpu")


def base_model_path() -> str:
    from vectorstore.encoders.torch_encoder import sentence_transformers_path
    from vectorstore.settings import BASE_MODEL

    return sentence_transformers_path(BASE_MODEL)


def encode(model: Any, texts: list[str], batch_size: int = 32) -> np.ndarray:
    """Unit-length float32 rows, as the product's torch backend makes them."""
    import numpy as np

    vectors = model.encode(texts, batch_size=batch_size, normalize_embeddings=True, convert_to_numpy=True,
                           show_progress_bar=False)
    return np.asarray(vectors, dtype=np.float32)


def encode_cached(model: Any, model_id: str, texts: list[str], cache_dir: Path) -> np.ndarray:
    """`encode`, remembered on disk by model identity and texts (an evaluation encodes one corpus per model)."""
    import numpy as np

    key = hashlib.sha256(("\x00".join([model_id, *texts])).encode()).hexdigest()[:20]
    path = cache_dir / f"vectors-{key}.npy"
    if path.exists():
        return np.load(path)
    cache_dir.mkdir(parents=True, exist_ok=True)
    vectors = encode(model, texts)
    np.save(path, vectors)
    return vectors


def build_index(folder: Path, model_path: str, docs: list[Document], vectors: np.ndarray,
                search: SearchSettings | None = None) -> Index:
    """An index of `docs` whose passage vectors are given: the steps of `ingest_paths` after reading (the store
    records `model_path` as the model, so searching it encodes queries with that model). `search`: other fusion
    settings than the product's."""
    import shutil

    from vectorstore.index import open_index
    from vectorstore.settings import EmbeddingSettings, Settings

    shutil.rmtree(folder, ignore_errors=True)
    settings = Settings(index=folder, embedding=EmbeddingSettings(model=str(model_path), backend="torch"))
    if search is not None:
        settings = settings.model_copy(update={"search": search})
    index = open_index(folder, settings=settings)
    store_documents(index, docs, vectors)
    index.cache()
    return index


def store_documents(index: Index, docs: list[Document], vectors: np.ndarray) -> None:
    """`docs` written to `index` with their passages' vectors (in document, then reading, order)."""
    row = 0
    with index.writing():
        for d in docs:
            n = len(d.passages)
            index.store_document(d.info, d.passages, vectors[row:row + n])
            row += n


def product_index(folder: Path, docs: list[Document], model: str | None = None) -> Index:
    """An index of `docs` as the product builds one: the default settings, `model` (a name or folder; None: the
    default) on the default backend. Built once: a `built` file marks a finished one, which later calls open."""
    import shutil

    import numpy as np

    from vectorstore.index import open_index
    from vectorstore.settings import get_settings

    defaults = get_settings()
    settings = defaults.model_copy(update={"index": folder})
    if model is not None:
        settings = settings.model_copy(update={"embedding": defaults.embedding.model_copy(update={"model": model})})
    done = folder / "built"
    if done.exists():
        return open_index(folder, settings=settings)
    shutil.rmtree(folder, ignore_errors=True)
    index = open_index(folder, settings=settings)
    texts = passage_texts(docs)
    store_documents(index, docs, np.asarray(index.embedder.encode(texts), dtype=np.float32))
    index.warm_up()  # the search cache built now, not at the first question
    done.write_text(f"{len(texts)} passages\n")
    return index


def open_scratch_index(folder: Path, model_path: str) -> Index:
    from vectorstore.index import open_index
    from vectorstore.settings import EmbeddingSettings, Settings

    settings = Settings(index=folder, embedding=EmbeddingSettings(model=str(model_path), backend="torch"))
    return open_index(folder, settings=settings)


@cache
def eval_sets() -> Any:
    """scripts/eval_sets.py as a module: its `contains` and `relevant` decide what a right passage is, for the
    pairs as for the scores."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("eval_sets", ROOT / "scripts" / "eval_sets.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
