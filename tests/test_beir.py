"""`latent eval --beir`: the metrics against hand-computed values, a tiny BEIR set through the real CLI, and
SciFact (slow: it embeds 5,183 abstracts) against the target of issue 7."""

from __future__ import annotations

import json
import math
import os
import subprocess
from pathlib import Path

import pytest

from assistant.evaluation.beir import load_beir, pool_by_document, read_qrels, write_run
from assistant.evaluation.metrics import evaluate, ndcg_at, ranked, recall_at
from tests.conftest import ROOT, need_shared, shared_dir

LATENT = str(ROOT / ".venv" / "bin" / "latent")


# -- metrics: each value worked by hand ----------------------------------------------------------------------------
def test_ndcg_graded_gains_are_linear_with_log2_discount() -> None:
    # DCG = 2/log2(2) + 0 + 1/log2(4) = 2.5; ideal = 2 + 1/log2(3) = 2.6309
    assert ndcg_at({"a": 2, "b": 1}, {"a": 3.0, "x": 2.0, "b": 1.0}, 10) == pytest.approx(2.5 / (2 + 1 / math.log2(3)))
    # worse order: DCG = 1 + 3/log2(3) = 2.8928; ideal = 3 + 1/log2(3) = 3.6309; 0.7967
    assert ndcg_at({"a": 3, "b": 1}, {"b": 2.0, "a": 1.0}, 10) == pytest.approx(0.79671, abs=1e-5)


def test_ndcg_ideal_comes_from_the_qrels_not_the_run() -> None:
    # three relevant documents, one retrieved at rank 1: DCG = 1; ideal = 1 + 1/log2(3) + 1/log2(4) = 2.1309
    assert ndcg_at({"a": 1, "b": 1, "c": 1}, {"a": 1.0}, 10) == pytest.approx(1 / 2.13093, abs=1e-5)


def test_ndcg_cut_at_k() -> None:
    run = {f"x{i:02d}": 100.0 - i for i in range(10)} | {"a": 1.0}  # a is 11th
    assert ndcg_at({"a": 1}, run, 10) == 0.0
    assert ndcg_at({"a": 1}, run, 11) == pytest.approx(1 / math.log2(12))


def test_ties_break_by_document_id_descending_like_trec_eval() -> None:
    assert ranked({"d1": 0.5, "d2": 0.5, "d0": 0.9}) == ["d0", "d2", "d1"]
    # d2 (not relevant) takes rank 1 on the tie, so d1 is discounted: 1/log2(3) = 0.6309
    assert ndcg_at({"d1": 1}, {"d1": 0.5, "d2": 0.5}, 10) == pytest.approx(0.63093, abs=1e-5)


def test_recall_counts_grades_above_zero() -> None:
    rels = {"a": 1, "b": 2, "c": 0}
    assert recall_at(rels, {"a": 3.0, "c": 2.0, "b": 1.0}, 2) == 0.5
    assert recall_at(rels, {"a": 3.0, "c": 2.0, "b": 1.0}, 3) == 1.0


def test_mean_skips_queries_without_relevant_documents_and_counts_empty_runs_as_zero() -> None:
    qrels = {"q1": {"a": 1}, "q2": {"b": 0}, "q3": {"c": 1}}
    run = {"q1": {"a": 1.0}, "q2": {"b": 1.0}}  # q3 retrieved nothing
    scores = evaluate(qrels, run)
    assert scores["queries"] == 2
    assert scores["ndcg@10"] == 0.5 and scores["recall@100"] == 0.5


def test_read_qrels_with_header_and_grades(tmp_path: Path) -> None:
    path = tmp_path / "test.tsv"
    path.write_text("query-id\tcorpus-id\tscore\n1\t184\t3\n1\t29\t2\n2\t7\t0\n")
    assert read_qrels(path) == {"1": {"184": 3, "29": 2}, "2": {"7": 0}}


def test_max_pooling_keeps_each_documents_best_passage() -> None:
    # the first two passages are document A's: A scores as its best (0.9)
    pooled = pool_by_document(["A", "A", "B", "C"], [0.9, 0.8, 0.7, 0.6], limit=10)
    assert pooled == {"A": 0.9, "B": 0.7, "C": 0.6}
    assert list(pool_by_document(["A", "A", "B", "C"], [0.9, 0.8, 0.7, 0.6], limit=2)) == ["A", "B"]


def test_run_file_rescored_gives_the_same_numbers(tmp_path: Path) -> None:
    run = {"q1": {"a": 0.5, "b": 0.5, "c": 0.1}, "q2": {"d": 2.0}}
    qrels = {"q1": {"a": 1, "c": 2}, "q2": {"d": 1}}
    write_run(tmp_path / "r.trec", run, "t")
    back: dict[str, dict[str, float]] = {}
    for line in (tmp_path / "r.trec").read_text().splitlines():
        qid, q0, doc, rank, score, tag = line.split()
        assert q0 == "Q0" and tag == "t" and int(rank) >= 1
        back.setdefault(qid, {})[doc] = float(score)
    assert evaluate(qrels, back) == evaluate(qrels, run)


# -- a tiny BEIR set through the real command ----------------------------------------------------------------------
TINY = ["Social work caseloads were too high in the assessment teams.", "The council cut its budget.",
        "Agency staff made up 40 percent of the workforce.", "Children were seen alone on every visit.",
        "Case records were held on two systems that did not talk to each other."]


def make_tiny_beir(folder: Path, titles: bool = False) -> Path:
    (folder / "qrels").mkdir(parents=True)
    corpus = [{"_id": f"d{i}", "title": f"Finding {i}" if titles else "", "text": t} for i, t in enumerate(TINY)]
    (folder / "corpus.jsonl").write_text("".join(json.dumps(d) + "\n" for d in corpus))
    (folder / "queries.jsonl").write_text(json.dumps({"_id": "q1", "text": "too many cases per social worker"})
                                          + "\n" + json.dumps({"_id": "q2", "text": "temporary staff"}) + "\n")
    (folder / "qrels" / "test.tsv").write_text("query-id\tcorpus-id\tscore\nq1\td0\t1\nq2\td2\t1\n")
    return folder


def run_latent(*args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1")
    return subprocess.run([LATENT, *args], capture_output=True, text=True, env=env, timeout=900)


def test_eval_beir_tiny_set_through_the_cli(tmp_path: Path) -> None:
    beir = make_tiny_beir(tmp_path / "tiny")  # untitled, as check-contract's
    runs = tmp_path / "runs"
    p = run_latent("eval", "--beir", str(beir), "--run-dir", str(runs), "--json", "--index", str(tmp_path / "ix"))
    assert p.returncode == 0, p.stderr
    result = json.loads(p.stdout)  # stdout is one JSON object, progress went to stderr
    assert result["dataset"] == "tiny" and result["split"] == "test" and isinstance(result["published"], dict)
    methods = {m["method"]: m for m in result["methods"]}
    assert {"lexical", "dense", "hybrid"} <= set(methods)
    qrels = load_beir(beir).qrels["test"]
    for name in ("lexical", "dense", "hybrid"):
        m = methods[name]
        assert 0 <= m["ndcg@10"] <= 1 and 0 <= m["recall@100"] <= 1
        rows = [line.split() for line in Path(m["run_file"]).read_text().splitlines()]
        assert Path(m["run_file"]) == (runs / f"{name}.trec").resolve()
        assert rows and all(len(r) == 6 and r[1] == "Q0" for r in rows)
        assert {r[2] for r in rows} <= {f"d{i}" for i in range(len(TINY))}
        run: dict[str, dict[str, float]] = {}
        for qid, _, doc, _, score, _ in rows:
            run.setdefault(qid, {})[doc] = float(score)
        assert evaluate(qrels, run)["ndcg@10"] == pytest.approx(m["ndcg@10"], abs=1e-4)  # standard tools agree
    assert methods["dense"]["ndcg@10"] == 1.0  # both answers are the nearest in meaning, with no shared words


def test_eval_beir_titled_set_reuses_its_index(tmp_path: Path) -> None:
    beir = make_tiny_beir(tmp_path / "tiny", titles=True)
    args = ("eval", "--beir", str(beir), "--run-dir", str(tmp_path / "runs"), "--index", str(tmp_path / "ix"))
    first = run_latent(*args)
    assert first.returncode == 0, first.stderr
    lines = (beir / "corpus.jsonl").read_text().splitlines()
    (beir / "corpus.jsonl").write_text("\n".join(lines[:-1]) + "\n")  # the corpus loses d4
    again = run_latent(*args)  # the table, not JSON; the other four are already in the index
    assert again.returncode == 0 and "4 unchanged" in again.stderr
    assert "hybrid" in again.stdout and "nDCG@10" in again.stdout
    assert not any(line.split()[2] == "d4" for line in (tmp_path / "runs" / "hybrid.trec").read_text().splitlines())


@pytest.mark.parametrize("args", [["--beir", "."], ["--run-dir", "x"], ["--beir", "/nonexistent", "--run-dir", "x"]],
                         ids=["no-run-dir", "no-source", "not-beir"])
def test_eval_usage_errors_exit_2(tmp_path: Path, args: list[str]) -> None:
    p = run_latent("eval", *args, "--json")
    assert p.returncode == 2 and not p.stdout.strip()


# -- SciFact: the target of issue 7 --------------------------------------------------------------------------------
@pytest.mark.slow
def test_scifact_hybrid_beats_both_baselines(tmp_path: Path) -> None:
    scifact = need_shared(shared_dir() / "data" / "beir" / "scifact")
    p = run_latent("eval", "--beir", str(scifact), "--run-dir", str(tmp_path / "runs"), "--json",
                   "--index", str(tmp_path / "ix"))
    assert p.returncode == 0, p.stderr
    m = {x["method"]: x["ndcg@10"] for x in json.loads(p.stdout)["methods"]}
    assert m["hybrid"] >= 0.70
    assert m["hybrid"] > m["lexical"] and m["hybrid"] > m["dense"]
