"""Each hand-written search rule turned off in turn, on the written questions' dev and test parts and on SciFact.

    python scripts/ablate_rules.py dev|test [--work build/ablate] [--out FILE]
    python scripts/ablate_rules.py scifact INDEX_DIR            # an index `latent eval --beir --index` built

Issue 14 asks that the thesaurus, stop lists and boosts stay only where they still add with the learned model. The
product has no switch for each rule (a switch nobody should turn), so this script turns one off at a time by
replacing the module attribute the ranking reads, then puts it back; `RULES` says what each replacement does.

`dev|test` builds, once per split, an index of the split's documents (the Ofsted texts its questions are about, 30
distractors and all 73 coroners' reports, as `scripts/eval_embedder.py` chooses them) embedded by the default
model, then scores hybrid recall@5 per kind of question through `Index.rank`. Dev decides; test is scored once.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

for _k in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "HF_HUB_DISABLE_TELEMETRY"):
    os.environ[_k] = "1"

import vectorstore.query as query_module  # noqa: E402
import vectorstore.ranking as ranking  # noqa: E402
import vectorstore.search as search  # noqa: E402


def _attr(module: Any, name: str, value: Any) -> Callable[[], AbstractContextManager[None]]:
    @contextmanager
    def patched() -> Iterator[None]:
        old = getattr(module, name)
        setattr(module, name, value)
        try:
            yield
        finally:
            setattr(module, name, old)
    return patched


@contextmanager
def _both(*patches: Callable[[], Any]) -> Iterator[None]:
    from contextlib import ExitStack

    with ExitStack() as stack:
        for p in patches:
            stack.enter_context(p())
        yield


def _unchanged(q: str) -> str:
    return q


# rule -> what turning it off does
RULES: dict[str, tuple[str, Callable[[], Any]]] = {
    "thesaurus": ("no thesaurus words added to the lexical query, no 'dense:thesaurus' list",
                  lambda: _both(_attr(search, "expand_for_lexical", _unchanged),
                                _attr(ranking, "expand_for_lexical", _unchanged))),
    "question_words": ("question words ('what', 'say', 'find'...) kept in the lexical query",
                       _attr(search, "question_stems", lambda: frozenset())),
    "boosts": ("what the query names (council, year, kind, child) neither boosts nor adds the named lists",
               _attr(ranking, "read_query_hints", lambda *a, **k: query_module.QueryHints())),
    "boilerplate": ("template text shared by many documents not demoted", _attr(ranking, "BOILERPLATE_WEIGHT", 1.0)),
    "framing": ("introduction/method text not demoted for conditions questions",
                _attr(ranking, "FRAMING_WEIGHT", 1.0)),
    "months": ("a month named adds no list", _attr(ranking, "months_named", lambda q: [])),
}


# -- the written question sets --------------------------------------------------------------------------------
def _recall(index: Any, rows: list[dict[str, Any]]) -> dict[str, Any]:
    from eval_embedder import block, rank_of

    from vectorstore import RankRequest

    ranks: dict[str, list[int | None]] = defaultdict(list)
    for r in rows:
        hits = index.rank(RankRequest(r["question"], k=10)).hits
        found = rank_of([{"source": h.document.source, "text": h.text} for h in hits], r)
        ranks["all"].append(found)
        ranks[r["kind"]].append(found)
    return {kind: block(v)["recall@5"] for kind, v in sorted(ranks.items())}


def cmd_split(split: str, work: Path) -> dict[str, Any]:
    from eval_embedder import dev_documents, questions_for

    from training import corpus

    out: dict[str, Any] = {"split": split}
    for which in ("ofsted", "pfd"):
        docs = corpus.read_documents(dev_documents(which, split), work / "passages")
        index = corpus.product_index(work / f"{split}-{which}", docs)
        rows = questions_for(which, {split})
        t0 = time.time()
        table = {"as shipped": _recall(index, rows)}
        for rule, (_, off) in RULES.items():
            with off():
                table[f"without {rule}"] = _recall(index, rows)
        out[which] = {"questions": len(rows), "passages": index.passage_count(), "recall@5": table,
                      "seconds": round(time.time() - t0)}
        index.close()
    return out


# -- SciFact ------------------------------------------------------------------------------------------------------
def cmd_scifact(index_dir: Path) -> dict[str, Any]:
    import tempfile

    from assistant.evaluation import beir
    from assistant.evaluation.metrics import evaluate
    from vectorstore.index import open_index
    from vectorstore.settings import get_settings

    data = beir.load_beir(ROOT.parent / "shared" / "data" / "beir" / "scifact")
    qrels = data.qrels["test"]
    index = open_index(index_dir, settings=get_settings())
    with tempfile.TemporaryDirectory() as tmp:
        names = beir.write_corpus(data, Path(tmp))  # file stem -> corpus _id, as `eval --beir` named them
    doc_of = {d.id: names[Path(d.source).stem] for d in index.documents() if Path(d.source).stem in names}
    asked = {q: data.queries[q] for q in qrels if q in data.queries}
    vectors = beir.encode_queries(index, asked)
    settings = get_settings().search

    def ndcg() -> float:
        run = beir.run_methods(index, doc_of, asked, settings, ("hybrid",), vectors)["hybrid"]
        return round(evaluate(qrels, run)["ndcg@10"], 4)

    table = {"as shipped": ndcg()}
    for rule, (_, off) in RULES.items():
        with off():
            table[f"without {rule}"] = ndcg()
    return {"split": "scifact test", "ndcg@10": table}


def main() -> None:
    from eval_embedder import emit

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("what", choices=["dev", "test", "scifact"])
    ap.add_argument("index", nargs="?", type=Path, help="scifact: the index `latent eval --beir --index` built")
    ap.add_argument("--work", type=Path, default=ROOT / "build" / "ablate")
    ap.add_argument("--out", type=Path)
    args = ap.parse_args()
    if args.what == "scifact":
        if args.index is None:
            ap.error("scifact needs INDEX_DIR")
        result = cmd_scifact(args.index)
    else:
        result = cmd_split(args.what, args.work)
    result["rules"] = {rule: what for rule, (what, _) in RULES.items()}
    emit(result, args.out)


if __name__ == "__main__":
    main()
