"""The rankings that fusion combines, and the rows they are drawn from: exact dense scores, BM25 scores, the rows a
filter admits, of a document, tagged with a category, dated in a month, and the latent-condition order ("surest tag
first, then closest vector"). `vectorstore.ranking` fuses them; nothing here decides what a query needs.
"""

from __future__ import annotations

import functools
from collections.abc import Container, Iterable
from typing import TYPE_CHECKING, Any

from vectorstore.dates import months_of
from vectorstore.lexical import lexical_tokens, question_stems
from vectorstore.query import expand_for_lexical
from vectorstore.records import DocumentInfo, SearchFilters

if TYPE_CHECKING:
    import numpy as np

    from vectorstore.cache import SearchCache


def filter_mask(cache: SearchCache, docs: dict[str, DocumentInfo], filters: SearchFilters) -> np.ndarray | None:
    """Rows that pass every explicit filter (None when nothing is filtered)."""
    if filters.is_empty():
        return None
    ok_docs = {d.id for d in docs.values() if filters.admits(d)}
    mask = rows_of_documents(cache, ok_docs)
    if filters.categories:
        mask &= rows_tagged(cache, filters.categories)
    return mask


def dense_ranking(cache: SearchCache, vector: np.ndarray, n: int, mask: np.ndarray | None) -> list[int]:
    import numpy as np

    with one_blas_thread():
        scores = cache.vectors @ vector
    if mask is not None:
        scores = np.where(mask, scores, -np.inf)
    n = min(n, int(mask.sum()) if mask is not None else len(scores))
    if n <= 0:
        return []
    top = np.argpartition(-scores, n - 1)[:n]
    return [int(i) for i in top[np.argsort(-scores[top])]]


def lexical_ranking(cache: SearchCache, query: str, n: int, mask: np.ndarray | None) -> list[int]:
    return [row for row, _ in lexical_scored(cache, query, n, mask)]


def lexical_scored(cache: SearchCache, query: str, n: int, mask: np.ndarray | None,
                   expand: bool = True) -> list[tuple[int, float]]:
    """BM25's best rows with their scores, best first (rows scoring 0 are left out)."""
    if cache.bm25 is None:
        return []
    skip = question_stems() if expand else frozenset()  # how the question is asked, not what it asks
    text = expand_for_lexical(query) if expand else query
    tokens = [t for t in lexical_tokens([text])[0] if t in cache.bm25.vocab_dict and t not in skip]
    if not tokens:
        return []
    n = min(n, len(cache.passages))
    kwargs: dict[str, Any] = {"weight_mask": mask.astype("float32")} if mask is not None else {}
    rows, scores = cache.bm25.retrieve([tokens], k=n, show_progress=False, n_threads=0, **kwargs)
    return [(int(r), float(s)) for r, s in zip(rows[0], scores[0], strict=True) if s > 0]


def years_of(d: DocumentInfo) -> set[int]:
    """The year a document was published and the years its review period or visit covers."""
    years = {int(d.published[:4])} if d.published else set()
    if d.period_start and d.period_end:
        years |= set(range(int(d.period_start[:4]), int(d.period_end[:4]) + 1))
    return years


# -- precomputed per cache (speed only: each gives what the loop over every passage it replaced gave) -------------
# At 57k passages a Python loop over the passages costs ~10 ms, several per query; these cost microseconds. They
# live in `cache.views`, which dies with the cache (a rebuilt cache starts empty).
def document_codes(cache: SearchCache) -> tuple[list[str], np.ndarray]:
    """The distinct document ids in row order, and each row's position in that list."""
    import numpy as np

    got = cache.views.get("document_codes")
    if got is None:
        ids: dict[str, int] = {}
        codes = np.fromiter((ids.setdefault(p.doc_id, len(ids)) for p in cache.passages), dtype=np.int32,
                            count=len(cache.passages))
        got = cache.views["document_codes"] = (list(ids), codes)
    return got  # type: ignore[no-any-return]


def one_blas_thread() -> Any:
    """A context in which numpy's BLAS runs on one thread. The search's matrix-vector product takes 0.7 ms on one
    thread at 12k passages, 0.4 ms on two when both cores are free, but 8-12 ms on two when another process holds a
    core (the page's own model, an ingest, a neighbour on these shared machines): the second BLAS thread waits for a
    time slice. One thread gives the same bits (the rows are split between threads, not the sums)."""
    return _blas_controller().limit(limits=1, user_api="blas")


@functools.cache
def _blas_controller() -> Any:
    from threadpoolctl import ThreadpoolController

    return ThreadpoolController()  # finds the BLAS libraries loaded (~1 ms), once


def rows_of_documents(cache: SearchCache, doc_ids: Container[str]) -> np.ndarray:
    """Rows whose document is in `doc_ids` (a fresh array the caller may change)."""
    import numpy as np

    ids, codes = document_codes(cache)
    wanted = np.fromiter((d in doc_ids for d in ids), dtype=bool, count=len(ids))
    return wanted[codes]


def rows_tagged(cache: SearchCache, categories: Iterable[str]) -> np.ndarray:
    """Rows with a tag of any of `categories` (a fresh array)."""
    import numpy as np

    by_category: dict[str, np.ndarray] = cache.views.setdefault("rows_tagged", {})
    out = np.zeros(len(cache.passages), dtype=bool)
    for c in dict.fromkeys(categories):
        if c not in by_category:
            by_category[c] = np.fromiter((any(t.category == c for t in p.tags) for p in cache.passages),
                                         dtype=bool, count=len(cache.passages))
        out |= by_category[c]
    return out


def latent_confidence(cache: SearchCache) -> np.ndarray:
    """Per row, the tagger's confidence that the passage states some latent condition as a weakness (0: none)."""
    import numpy as np

    conf = cache.views.get("latent_confidence")
    if conf is None:
        conf = cache.views["latent_confidence"] = np.fromiter(
            (max((t.confidence for t in p.tags if t.level == "latent" and t.polarity == "negative"), default=0.0)
             for p in cache.passages), dtype=np.float64, count=len(cache.passages))
    return conf  # type: ignore[no-any-return]


def category_confidence(cache: SearchCache, category: str) -> np.ndarray:
    """Per row, the tagger's confidence that the passage states `category` as a weakness (0: not tagged so)."""
    import numpy as np

    by_category: dict[str, np.ndarray] = cache.views.setdefault("category_confidence", {})
    if category not in by_category:
        by_category[category] = np.fromiter(
            (max((t.confidence for t in p.tags if t.category == category and t.polarity == "negative"), default=0.0)
             for p in cache.passages), dtype=np.float64, count=len(cache.passages))
    return by_category[category]


def surest_first(cache: SearchCache, rows: Iterable[int], confidence: np.ndarray, vector: np.ndarray) -> list[int]:
    """The latent-condition order: `rows` with a confidence above 0, surest tag first (in steps of 0.05, so that
    0.93 and 0.95 count as equally sure), then closest to `vector`; ties keep the order `rows` came in."""
    import numpy as np

    picked = np.fromiter((r for r in rows if confidence[r] > 0), dtype=np.int64)
    if not len(picked):
        return []
    with one_blas_thread():
        sims = cache.vectors[picked] @ vector
    order = np.lexsort((-sims, -np.round(confidence[picked] * 20)))
    return [int(picked[i]) for i in order]


def reading_order(cache: SearchCache, doc_id: str) -> list[int]:
    """A document's rows by page, then position on the page."""
    rows = rows_of_documents(cache, {doc_id}).nonzero()[0]
    return sorted((int(r) for r in rows), key=lambda r: (cache.passages[r].page, cache.passages[r].char_start))


def rows_in_months(cache: SearchCache, months: Iterable[str]) -> np.ndarray:
    """Rows dated in, or naming a day of, any of `months` ('YYYY-MM'; a fresh array)."""
    import numpy as np

    by_month: dict[str, list[int]] | None = cache.views.get("rows_by_month")
    if by_month is None:
        by_month = {}
        for row, p in enumerate(cache.passages):
            for month in months_of(p.text) | ({p.date[:7]} if p.date else set()):
                by_month.setdefault(month, []).append(row)
        cache.views["rows_by_month"] = by_month
    out = np.zeros(len(cache.passages), dtype=bool)
    for month in months:
        out[by_month.get(month, [])] = True
    return out


def named_values(cache: SearchCache, docs: dict[str, DocumentInfo]) -> tuple[frozenset[str], frozenset[int],
                                                                            frozenset[str]]:
    """The councils, years (published or covered) and child pseudonyms of `docs`, that a query may name."""
    got = cache.views.get("named_values")
    if got is None or got[0] is not docs:  # kept with the very dict it was read from
        values = (frozenset(d.council for d in docs.values() if d.council),
                  frozenset(set().union(*(years_of(d) for d in docs.values())) if docs else set()),
                  frozenset(d.child for d in docs.values() if d.child))
        got = cache.views["named_values"] = (docs, values)
    return got[1]  # type: ignore[no-any-return]
