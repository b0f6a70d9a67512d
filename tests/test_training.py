"""The embedding model's training code (training/) and the shipped tuned model folder.

Training itself runs only in `make train`; these check the pieces it relies on: pairs come from the train split
only, batches never hold two pairs of one document, the WiSE-FT mix, the documents match what
scripts/eval_sets.py indexes, and the shipped ONNX folder is what its manifest says.
"""

from __future__ import annotations

import hashlib
import json
import random
from pathlib import Path

import pytest

from training import corpus
from training.splits import document_key, split_of
from training.train_embedder import make_batches, mix_state

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = ROOT / "vectorstore" / "models" / "latent-minilm-tuned"
needs_shared = pytest.mark.skipif(not (corpus.SHARED / "ofsted" / "text").is_dir(), reason="needs ../shared/data")


def test_batches_never_share_a_document_or_question() -> None:
    rng = random.Random(0)
    pairs = [{"qid": f"q{i // 3}", "doc": f"d{rng.randrange(40)}", "question": "", "positive": ""}
             for i in range(600)]
    batches = make_batches(pairs, 32, random.Random(1))
    for batch in batches:
        assert len({p["doc"] for p in batch}) == len(batch)
        assert len({p["qid"] for p in batch}) == len(batch)
        assert 1 < len(batch) <= 32
    assert sum(len(b) for b in batches) >= 0.95 * len(pairs)  # only leftovers with no partner are dropped


def test_batches_are_fixed_by_the_seed() -> None:
    pairs = [{"qid": f"q{i}", "doc": f"d{i % 50}"} for i in range(300)]
    one = [[p["qid"] for p in b] for b in make_batches(pairs, 16, random.Random(7))]
    two = [[p["qid"] for p in b] for b in make_batches(pairs, 16, random.Random(7))]
    assert one == two


def test_wise_ft_mixes_floats_and_keeps_integers() -> None:
    import torch

    base = {"w": torch.zeros(3), "ids": torch.tensor([1, 2])}
    tuned = {"w": torch.ones(3), "ids": torch.tensor([5, 6])}
    mixed = mix_state(base, tuned, 0.25)
    assert torch.allclose(mixed["w"], torch.full((3,), 0.25))
    assert mixed["ids"].tolist() == [5, 6]


def test_questions_name_their_parts_as_eval_sets_does() -> None:
    row = {"id": "x", "doc": None, "more": [{"doc": "bedford_80428_2022-01-14.txt", "evidence": []}]}
    assert corpus.split_of_question(row) == split_of("bedford_80428_2022-01-14.txt")
    assert corpus.split_of_question({"id": "q9", "doc": None}) == split_of("q9")


@needs_shared
def test_training_documents_are_train_split_and_never_scored() -> None:
    from training.mine import train_documents, train_questions

    questions = train_questions()
    assert questions and all(corpus.split_of_question(r) == "train" for r in questions)
    paths = train_documents(questions)
    assert all(split_of(p.name) == "train" for p in paths)
    scored = {document_key(p.name) for p in corpus.eval_distractors()}
    assert not scored & {document_key(p.name) for p in corpus.train_distractors()}


@needs_shared
def test_eval_corpus_is_what_eval_sets_indexes(monkeypatch: pytest.MonkeyPatch) -> None:
    """scripts/eval_sets.py picks its distractors inline; the training code must pick the same ones to keep
    them out of training."""
    import argparse
    import subprocess

    ev = corpus.eval_sets()
    seen: list[list[str]] = []

    def fake_run(args: list[str], **_: object) -> subprocess.CompletedProcess[str]:
        seen.append(args)
        return subprocess.CompletedProcess(args, 0, "{}", "")

    monkeypatch.setattr(ev.subprocess, "run", fake_run)
    ev.build_index(argparse.Namespace(corpus="ofsted", index="unused"))
    files = [a for a in seen[0] if a.endswith(".txt")]
    assert files == [str(p) for p in corpus.eval_corpus("ofsted")]


@pytest.mark.slow
def test_passages_are_those_ingest_stores(tmp_path: Path) -> None:
    """The pairs train on the text ingest embeds: same passages, same header + text."""
    import vectorstore
    from ingest import ingest_paths
    from ingest.pipeline import embedding_text

    sample = ROOT / "assistant" / "samples" / "docs" / "focused-visit-wenmarsh-2017.html"
    docs = corpus.read_documents([sample], tmp_path / "cache")
    index = vectorstore.open_index(tmp_path / "index")
    ingest_paths(index, [sample])
    stored = index.passages()
    assert [embedding_text(p) for p in stored] == corpus.passage_texts(docs)
    index.close()


def test_shipped_model_folder_fits_the_repository() -> None:
    manifest = json.loads((SHIPPED / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["pooling"] == "mean" and manifest["dimension"] == 384 and manifest["torch_model"] == ""
    assert hashlib.sha256((SHIPPED / "model.onnx").read_bytes()).hexdigest() == manifest["sha256"]
    assert sum(f.stat().st_size for f in SHIPPED.rglob("*") if f.is_file()) <= 60 * 1024 * 1024


def test_shipped_model_reads_a_paraphrase() -> None:
    """The issue's example through the product's own encoder: the passage nearer its paraphrase than a neighbour,
    unit vectors. (The base model passes this too; the tuned model's gain is measured on the test split, see
    training/README.md.) A broken or mismatched model file fails here."""
    from vectorstore.embedding import get_embedder

    q, right, other = get_embedder("latent-minilm-tuned", "onnx").encode([
        "Which professional stayed alongside the teenager for the entire period?",
        "The youth offending worker was the only practitioner who knew him throughout.",
        "The school nurse saw him twice in the spring term.",
    ])
    assert float(q @ right) > float(q @ other)
    assert abs(float(q @ q) - 1) < 1e-4
