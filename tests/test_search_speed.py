"""The search speed-ups change nothing: rankings on the sample index are the same with the precomputed row sets as
with the per-passage loops they replaced, for queries that name councils, years and children, and every filter."""

from __future__ import annotations

from collections.abc import Callable, Container, Iterable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from vectorstore import SearchFilters, open_index
from vectorstore import ranking as ranking_module
from vectorstore import search as search_module
from vectorstore.ranking import RankRequest
from vectorstore.search import document_codes, years_of

QUERIES = [
    "caseloads of health visitors", "what did Ofsted find in Ravensmoor in 2023", "management oversight",
    "What latent conditions preceded Child R's death?", "focused visit letters about children in care",
    "information sharing between police and children's social care", "Brackenford 2021 supervision",
    "swiss cheese model", "the child was not seen alone",
]


@pytest.fixture(scope="module")
def index(sample_index_copy: Callable[[str], Path]) -> Iterator[Any]:
    with open_index(sample_index_copy("search-speed")) as ix:
        yield ix


# -- the per-passage loops the speed-ups replaced -----------------------------------------------------------------
def loop_rows_of_documents(cache: Any, doc_ids: Container[str]) -> np.ndarray:
    return np.fromiter((p.doc_id in doc_ids for p in cache.passages), dtype=bool, count=len(cache.passages))


def loop_rows_tagged(cache: Any, categories: Iterable[str]) -> np.ndarray:
    wanted = set(categories)
    return np.fromiter((any(t.category in wanted for t in p.tags) for p in cache.passages), dtype=bool,
                       count=len(cache.passages))


def loop_named_values(cache: Any, docs: dict[str, Any]) -> tuple[frozenset[str], frozenset[int], frozenset[str]]:
    return (frozenset(d.council for d in docs.values() if d.council),
            frozenset(set().union(*(years_of(d) for d in docs.values()))),
            frozenset(d.child for d in docs.values() if d.child))


def loop_document_codes(cache: Any) -> tuple[list[str], np.ndarray]:
    ids = list(dict.fromkeys(p.doc_id for p in cache.passages))
    return ids, np.array([ids.index(p.doc_id) for p in cache.passages], dtype=np.int32)


def filters_for(index: Any) -> list[SearchFilters]:
    docs = index.documents()
    council = next(d.council for d in docs if d.council)
    return [SearchFilters(), SearchFilters(kinds=("focused_visit",)), SearchFilters(kinds=("review", "literature")),
            SearchFilters(councils=(council,), year_from=2019), SearchFilters(year_to=2020),
            SearchFilters(categories=("workload",)), SearchFilters(categories=("staffing", "culture")),
            SearchFilters(documents=(Path(docs[0].source).name,)),
            SearchFilters(kinds=("review",), categories=("multiagency",))]


def rankings(index: Any) -> list[list[tuple[str, float]]]:
    return [[(h.id, h.score) for h in index.rank(RankRequest(q, 10, f)).hits]
            for q in QUERIES for f in filters_for(index)]


def test_rankings_are_the_same_as_with_the_per_passage_loops(index: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    fast = rankings(index)
    fast_again = rankings(index)  # now from the row sets cached on the first pass
    for name, loop in (("rows_of_documents", loop_rows_of_documents), ("rows_tagged", loop_rows_tagged),
                       ("named_values", loop_named_values), ("document_codes", loop_document_codes)):
        for module in (search_module, ranking_module):  # ranking imports some of them by name
            if hasattr(module, name):
                monkeypatch.setattr(module, name, loop)
    slow = rankings(index)
    assert fast == fast_again == slow
    assert sum(1 for r in slow if r) > len(slow) // 2  # the filters left something to rank


def test_row_sets_match_the_passages(index: Any) -> None:
    cache = index.cache()
    ids, codes = document_codes(cache)
    assert [ids[c] for c in codes] == [p.doc_id for p in cache.passages]
    some = set(ids[:2])
    assert (search_module.rows_of_documents(cache, some) == loop_rows_of_documents(cache, some)).all()
    for cats in (["workload"], ["staffing", "culture"], ["no-such-category"]):
        assert (search_module.rows_tagged(cache, cats) == loop_rows_tagged(cache, cats)).all()
    # callers change the masks they get (`mask &= ...`): that must not reach the cached sets
    mask = search_module.rows_tagged(cache, ["workload"])
    mask[:] = False
    assert (search_module.rows_tagged(cache, ["workload"]) == loop_rows_tagged(cache, ["workload"])).all()
