"""The embedding backends: onnx-int8 agrees with torch, the setting chooses one, an index keeps the one that built
it, and the query cache returns what the model would."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
from pydantic import ValidationError

from ingest import ingest_paths
from vectorstore import BackendMismatchError, ModelMismatchError, open_index
from vectorstore.embedding import Embedder, get_embedder
from vectorstore.encoders import embedding_identity
from vectorstore.settings import EmbeddingSettings, Settings

PASSAGES = [
    "Caseloads were far above the local standard: in the Harrowfield team they ranged from 650 to 780 children "
    "for each full-time health visitor during 2021.",
    "Senior leaders have not ensured that management oversight and supervision are effective, so drift and "
    "delay for children in need went unnoticed.",
    "The child was not seen alone on any of the four home visits, and her wishes and feelings were not recorded.",
    "Information held by the police about the father's violence was not shared with children's social care.",
    # longer than the model's 256 word-pieces: both backends must truncate it at the same place
    " ".join(["The review found that agency staff turnover left the family with six social workers in a year."]
             * 30),
]
QUERIES = ["caseloads of health visitors", "management oversight and supervision", "child not seen alone",
           "police did not share information", "changes of social worker"]


@pytest.fixture(scope="module")
def both() -> tuple[Embedder, Embedder]:
    return get_embedder(backend="torch"), get_embedder(backend="onnx-int8")


def test_onnx_int8_vectors_agree_with_torch(both: tuple[Embedder, Embedder]) -> None:
    torch, onnx = both
    for texts, floor in ((PASSAGES, 0.99), (QUERIES, 0.98)):  # short queries move a little more than passages
        a, b = torch.encode(texts), onnx.encode(texts)
        assert a.dtype == b.dtype == np.float32 and a.shape == b.shape == (len(texts), 384)
        assert np.allclose(np.linalg.norm(b, axis=1), 1.0, atol=1e-5)
        cos = (a * b).sum(axis=1)
        assert cos.min() >= floor, cos
    # what matters for search: each query finds the same passage first
    assert ((onnx.encode(QUERIES) @ onnx.encode(PASSAGES).T).argmax(axis=1)
            == (torch.encode(QUERIES) @ torch.encode(PASSAGES).T).argmax(axis=1)).all()


def test_onnx_int8_tokenizes_and_truncates_like_torch(both: tuple[Embedder, Embedder]) -> None:
    torch, onnx = both
    for text in PASSAGES:
        ours = onnx._encoder.features(text)  # type: ignore[attr-defined]
        theirs = torch._encoder.tokenizer(text, truncation=True, max_length=256)  # type: ignore[attr-defined]
        for name in ("input_ids", "attention_mask", "token_type_ids"):
            assert ours[name][0].tolist() == theirs[name], name
    assert onnx._encoder.features(PASSAGES[-1])["input_ids"].shape == (1, 256)  # type: ignore[attr-defined]
    assert onnx.count_tokens(PASSAGES[0]) == torch.count_tokens(PASSAGES[0])


def test_a_text_gets_the_same_vector_whatever_its_batch(both: tuple[Embedder, Embedder]) -> None:
    _, onnx = both  # int8 activations are scaled per run: texts are run one at a time so neighbours cannot move them
    batch = onnx.encode(PASSAGES)
    single = np.stack([onnx.encode([t])[0] for t in PASSAGES])
    assert np.array_equal(batch, single)


def test_the_setting_chooses_the_backend(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("LATENT_EMBEDDING__BACKEND", "onnx-int8")
    settings = Settings()
    assert settings.embedding.backend == "onnx-int8"
    index = open_index(tmp_path / "index", settings=settings)
    assert index.embedder.backend == "onnx-int8" and index.embedding_id == "all-MiniLM-L6-v2 (onnx-int8 backend)"
    assert type(index.embedder._encoder).__name__ == "OnnxInt8Encoder"
    index.close()
    monkeypatch.setenv("LATENT_EMBEDDING__BACKEND", "tensorflow")
    with pytest.raises(ValidationError):
        Settings()
    assert EmbeddingSettings().backend == "torch"  # the default is unchanged
    assert embedding_identity("all-MiniLM-L6-v2", "torch") == "all-MiniLM-L6-v2"  # old indexes stay valid


def test_an_index_keeps_its_backend_and_refuses_the_other(small_index, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    onnx = Settings(embedding=EmbeddingSettings(backend="onnx-int8"))
    doc = tmp_path / "note.md"
    doc.write_text("# Supervision\n\nCaseloads of 40 children left no time for supervision of newly qualified "
                   "social workers.\n", encoding="utf-8")
    with open_index(tmp_path / "index", settings=onnx) as index:
        assert not ingest_paths(index, [doc]).failed
        (hit,) = index.search("supervision and caseloads", k=1)
        assert "supervision" in hit.text
    with pytest.raises(BackendMismatchError, match=r"made by the 'onnx-int8' embedding backend, not 'torch'.*"
                                                   r"LATENT_EMBEDDING__BACKEND=onnx-int8"):
        open_index(tmp_path / "index", settings=Settings())
    with pytest.raises(BackendMismatchError, match="made by the 'torch' embedding backend, not 'onnx-int8'"):
        open_index(small_index.path, settings=onnx)
    # another model altogether is still the plain model mismatch
    other = Settings(embedding=EmbeddingSettings(model="some/other-model", backend="onnx-int8"))
    with pytest.raises(ModelMismatchError) as info:
        open_index(tmp_path / "index", settings=other)
    assert not isinstance(info.value, BackendMismatchError)


def test_missing_onnxruntime_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    from vectorstore.encoders import onnx_encoder

    monkeypatch.setitem(sys.modules, "onnxruntime", None)  # as if it were not installed
    with pytest.raises(ImportError, match=r"pip install 'latent\[onnx\]'"):
        onnx_encoder.load("all-MiniLM-L6-v2", "unused")


def test_the_built_model_is_keyed_by_model_files_and_versions(monkeypatch: pytest.MonkeyPatch,
                                                              tmp_path: Path) -> None:
    from vectorstore.encoders import onnx_files

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    model = tmp_path / "model"
    model.mkdir()
    (model / "config.json").write_text("{}")
    first = onnx_files.model_folder("m", str(model))
    assert first == onnx_files.model_folder("m", str(model))  # the same inputs, the same folder
    assert first.parent == tmp_path / "cache" / "latent" / "onnx" and first.name.startswith("m-")
    (model / "config.json").write_text('{"changed": true}')
    assert onnx_files.model_folder("m", str(model)) != first
    changed = onnx_files.model_folder("m", str(model))
    monkeypatch.setattr(onnx_files, "library_version", lambda dist: "99" if dist == "onnxruntime" else "1")
    assert onnx_files.model_folder("m", str(model)) != changed


def test_query_vectors_are_remembered_not_changed() -> None:
    embedder = get_embedder()
    text = "how many children did each social worker hold"
    embedder.forget_queries()
    first = embedder.encode_query(text)
    assert np.array_equal(first, embedder.encode([text])[0])
    assert embedder.encode_query(text) is first  # the second time is a look-up
    assert not first.flags.writeable  # shared between callers, so nobody may change it in place
    embedder.forget_queries()
    assert embedder.encode_query(text) is not first
