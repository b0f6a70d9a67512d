"""Hybrid ranking: exact dense scores and BM25 scores, fused by reciprocal rank, with query-named boosts.

Reciprocal-rank fusion (Cormack, Clarke & Buettcher 2009) needs no score calibration between the two
retrievers: a passage ranked 1st by one and 30th by the other scores 1/61 + 1/90.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from vectorstore.cache import lexical_tokens
from vectorstore.query import QueryHints, council_key, read_query_hints
from vectorstore.records import DocumentInfo, SearchFilters

if TYPE_CHECKING:
    import numpy as np

    from vectorstore.cache import SearchCache
    from vectorstore.settings import SearchSettings
    from vectorstore.store import ChromaStore

BOILERPLATE_WEIGHT = 0.25  # template text shared by many documents ranks below any finding of similar rank
# Weight of each named thing a passage's document matches: a council named in the query matters most.
_BOOST = {"council": 0.6, "child": 0.6, "year": 0.3, "kind": 0.1}


def filter_mask(cache: SearchCache, docs: dict[str, DocumentInfo], filters: SearchFilters) -> np.ndarray | None:
    """Rows that pass every explicit filter (None when nothing is filtered)."""
    import numpy as np

    if filters.is_empty():
        return None
    ok_docs = {d.id for d in docs.values() if _doc_passes(d, filters)}
    mask = np.fromiter((p.doc_id in ok_docs for p in cache.passages), dtype=bool, count=len(cache.passages))
    if filters.categories:
        wanted = set(filters.categories)
        mask &= np.fromiter((any(t.category in wanted for t in p.tags) for p in cache.passages), dtype=bool,
                            count=len(cache.passages))
    return mask


def _doc_passes(d: DocumentInfo, f: SearchFilters) -> bool:
    year = int(d.published[:4]) if d.published else None
    if f.kinds and d.kind not in f.kinds:
        return False
    if f.councils and (not d.council or council_key(d.council) not in {council_key(c) for c in f.councils}):
        return False
    if f.documents and not ({d.id, d.source, d.source.rsplit("/", 1)[-1]} & set(f.documents)):
        return False
    if f.year_from is not None and (year is None or year < f.year_from):
        return False
    return not (f.year_to is not None and (year is None or year > f.year_to))


def dense_ranking(cache: SearchCache, vector: np.ndarray, n: int, mask: np.ndarray | None) -> list[int]:
    import numpy as np

    scores = cache.vectors @ vector
    if mask is not None:
        scores = np.where(mask, scores, -np.inf)
    n = min(n, int(mask.sum()) if mask is not None else len(scores))
    if n <= 0:
        return []
    top = np.argpartition(-scores, n - 1)[:n]
    return [int(i) for i in top[np.argsort(-scores[top])]]


def lexical_ranking(cache: SearchCache, query: str, n: int, mask: np.ndarray | None) -> list[int]:
    if cache.bm25 is None:
        return []
    from vectorstore.query import expand_for_lexical

    tokens = [t for t in lexical_tokens([expand_for_lexical(query)])[0] if t in cache.bm25.vocab_dict]
    if not tokens:
        return []
    n = min(n, len(cache.passages))
    kwargs: dict[str, Any] = {"weight_mask": mask.astype("float32")} if mask is not None else {}
    rows, scores = cache.bm25.retrieve([tokens], k=n, show_progress=False, n_threads=0, **kwargs)
    return [int(r) for r, s in zip(rows[0], scores[0], strict=True) if s > 0]


def rank(cache: SearchCache, docs: dict[str, DocumentInfo], query: str, vector: np.ndarray, k: int,
         filters: SearchFilters, settings: SearchSettings, store: ChromaStore | None = None,
         ) -> tuple[list[tuple[int, float]], QueryHints]:
    """The k best rows with fused scores, and the hints read from the query."""
    mask = filter_mask(cache, docs, filters)
    councils = {d.council for d in docs.values() if d.council}
    years = set().union(*(_years_of(d) for d in docs.values())) if docs else set()
    hints = read_query_hints(query, councils, years, {d.child for d in docs.values() if d.child})
    n = max(settings.candidates, k)
    lists = [(settings.dense_weight, _dense(cache, vector, n, mask, settings, store)),
             (settings.lexical_weight, lexical_ranking(cache, query, n, mask))]
    bonus: dict[int, float] = {}
    if not hints.is_empty():
        boost_mask, bonus = _boost(cache, docs, hints, mask)
        if boost_mask.any():  # the named documents' own best passages join the candidates
            lists.append((settings.dense_weight, dense_ranking(cache, vector, n, boost_mask)))
            lists.append((settings.lexical_weight, lexical_ranking(cache, query, n, boost_mask)))
    fused: dict[int, float] = {}
    for weight, rows in lists:
        for r, row in enumerate(rows):
            fused[row] = fused.get(row, 0.0) + weight / (settings.rrf_k + r + 1)
    for row in fused:
        if cache.boilerplate[row]:
            fused[row] *= BOILERPLATE_WEIGHT
    scored = sorted(((row, s + bonus.get(row, 0.0)) for row, s in fused.items()), key=lambda x: -x[1])
    return scored[:k], hints


def _years_of(d: DocumentInfo) -> set[int]:
    """The year a document was published and the years its review period or visit covers."""
    years = {int(d.published[:4])} if d.published else set()
    if d.period_start and d.period_end:
        years |= set(range(int(d.period_start[:4]), int(d.period_end[:4]) + 1))
    return years


def _dense(cache: SearchCache, vector: np.ndarray, n: int, mask: np.ndarray | None, settings: SearchSettings,
           store: ChromaStore | None) -> list[int]:
    if settings.dense_backend == "chroma" and store is not None and mask is None:
        return [cache.row_of[i] for i, _ in store.query(vector, n, None) if i in cache.row_of]
    return dense_ranking(cache, vector, n, mask)


def _boost(cache: SearchCache, docs: dict[str, DocumentInfo], hints: QueryHints, mask: np.ndarray | None,
           ) -> tuple[np.ndarray, dict[int, float]]:
    """Rows of documents matching what the query names, and each row's bonus (tiers above any RRF score)."""
    import numpy as np

    total = sum(_BOOST[name] for name, vals in (("council", hints.councils), ("year", hints.years),
                                                 ("kind", hints.kinds), ("child", hints.children)) if vals)
    doc_bonus: dict[str, float] = {}
    for d in docs.values():
        b = 0.0
        if hints.councils and d.council and council_key(d.council) in {council_key(c) for c in hints.councils}:
            b += _BOOST["council"]
        if hints.years and _years_of(d) & set(hints.years):
            b += _BOOST["year"]
        if hints.children and d.child in hints.children:
            b += _BOOST["child"]
        if hints.kinds and d.kind in hints.kinds:
            b += _BOOST["kind"]
        if b:
            doc_bonus[d.id] = b / total
    rows = np.fromiter((p.doc_id in doc_bonus for p in cache.passages), dtype=bool, count=len(cache.passages))
    if mask is not None:
        rows &= mask
    bonus = {int(i): doc_bonus[cache.passages[int(i)].doc_id] for i in np.flatnonzero(rows)}
    return rows, bonus
