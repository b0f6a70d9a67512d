"""The rankings that fusion combines, and the rows they are drawn from: exact dense scores, BM25 scores, the rows a
filter admits, of a document, tagged with a category, dated in a month, and the latent-condition order ("surest tag
first, then closest vector"). `vectorstore.ranking` fuses them; nothing here decides what a query needs.

Everything here reads the search cache's arrays (`vectorstore.cache`: per-row document codes, the tags and months
each segment precomputed, the dense and BM25 indexes), never a Python loop over the passages: at 570,000 passages
such a loop costs a second.
"""

from __future__ import annotations

import functools
from collections.abc import Container, Iterable, Iterator, Mapping
from typing import TYPE_CHECKING

from vectorstore.dense import one_blas_thread
from vectorstore.lexical import lexical_tokens, question_stems
from vectorstore.query import expand_for_lexical
from vectorstore.records import LEVELS, POLARITIES, DocumentInfo, SearchFilters

if TYPE_CHECKING:
    import numpy as np

    from vectorstore.cache import SearchCache
    from vectorstore.segments import Segment

__all__ = [
    "RowValues",
    "category_confidence",
    "dense_ranking",
    "document_codes",
    "filter_mask",
    "latent_confidence",
    "lexical_ranking",
    "lexical_scored",
    "named_values",
    "one_blas_thread",
    "reading_order",
    "rows_in_months",
    "rows_of_documents",
    "rows_tagged",
    "surest_first",
    "years_of",
]


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
    """The n rows nearest to `vector` by cosine (of those `mask` admits), nearest first (`vectorstore.dense`)."""
    return cache.vectors.top(vector, n, mask)


def lexical_ranking(cache: SearchCache, query: str, n: int, mask: np.ndarray | None) -> list[int]:
    return [row for row, _ in lexical_scored(cache, query, n, mask)]


def lexical_scored(cache: SearchCache, query: str, n: int, mask: np.ndarray | None,
                   expand: bool = True) -> list[tuple[int, float]]:
    """BM25's best rows with their scores, best first (rows scoring 0 are left out)."""
    skip = question_stems() if expand else frozenset()  # how the question is asked, not what it asks
    text = expand_for_lexical(query) if expand else query
    tokens = [t for t in lexical_tokens([text])[0] if t not in skip and t in cache.lexical]
    if not tokens:
        return []
    return cache.lexical.top(tokens, n, mask)


def years_of(d: DocumentInfo) -> frozenset[int]:
    """The year a document was published and the years its review period or visit covers."""
    return _years(d.published, d.period_start, d.period_end)


@functools.lru_cache(maxsize=1 << 16)
def _years(published: str | None, start: str | None, end: str | None) -> frozenset[int]:
    # read once per distinct date triple: a query naming a year reads every document's years (8,400 at 570,000
    # passages; building the sets each time was 5-10 ms a query)
    years = {int(published[:4])} if published else set()
    if start and end:
        years |= set(range(int(start[:4]), int(end[:4]) + 1))
    return frozenset(years)


class RowValues(Mapping[int, float]):
    """A value for each of some rows (ascending `rows`), as a read-only mapping row -> value backed by arrays: a
    query naming "Ofsted" or a year boosts most of the index, and a dict of 300,000 rows took 100+ ms to build."""

    def __init__(self, rows: np.ndarray, values: np.ndarray) -> None:
        self.rows = rows
        self.array = values

    def __getitem__(self, row: int) -> float:
        import numpy as np

        at = int(np.searchsorted(self.rows, row))
        if at < len(self.rows) and self.rows[at] == row:
            return float(self.array[at])
        raise KeyError(row)

    def __len__(self) -> int:
        return len(self.rows)

    def __iter__(self) -> Iterator[int]:
        return iter(self.rows.tolist())

    def max(self) -> float:
        return float(self.array.max()) if len(self.array) else 0.0

    def rows_at_least(self, value: float) -> np.ndarray:
        return self.rows[self.array >= value]


# -- arrays derived per cache from the segments' columns (each gives what a loop over the passages would give) -------
# They live in `cache.views`, which dies with the cache (a new view of the index starts empty).
def document_codes(cache: SearchCache) -> tuple[list[str], np.ndarray]:
    """The distinct document ids in row order, and each row's position in that list. Dead rows (a document since
    replaced or removed) point at a last id that no filter names."""
    return cache.doc_ids, cache.doc_code


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
    out = np.zeros(cache.n_rows, dtype=bool)
    for c in dict.fromkeys(categories):
        if c not in by_category:
            by_category[c] = cache.per_segment(f"rows_tagged:{c}", lambda seg, c=c: _segment_tagged(seg, c), bool)
        out |= by_category[c]
    return out


def _segment_tagged(seg: Segment, category: str) -> np.ndarray:
    import numpy as np

    found = np.zeros(seg.n, dtype=bool)
    if category in seg.categories:
        found[seg.tag_row[seg.tag_category == seg.categories.index(category)]] = True
    return found


def _tag_maximum(cache: SearchCache, category: str | None, level: str | None) -> np.ndarray:
    """Per row, the highest confidence of its negative tags (of `category`, or of `level`); 0 where none."""
    import numpy as np

    return cache.per_segment(f"tag_maximum:{category}:{level}",
                             lambda seg: _segment_tag_maximum(seg, category, level), np.float64)


def _segment_tag_maximum(seg: Segment, category: str | None, level: str | None) -> np.ndarray:
    import numpy as np

    out = np.zeros(seg.n, dtype=np.float64)
    pick = seg.tag_polarity == POLARITIES.index("negative")
    if category is not None:
        if category not in seg.categories:
            return out
        pick &= seg.tag_category == seg.categories.index(category)
    if level is not None:
        pick &= seg.tag_level == LEVELS.index(level)
    np.maximum.at(out, seg.tag_row[pick].astype(np.int64), seg.tag_confidence[pick])
    return out


def latent_confidence(cache: SearchCache) -> np.ndarray:
    """Per row, the tagger's confidence that the passage states some latent condition as a weakness (0: none)."""
    conf = cache.views.get("latent_confidence")
    if conf is None:
        conf = cache.views["latent_confidence"] = _tag_maximum(cache, None, "latent")
    return conf  # type: ignore[no-any-return]


def category_confidence(cache: SearchCache, category: str) -> np.ndarray:
    """Per row, the tagger's confidence that the passage states `category` as a weakness (0: not tagged so)."""
    by_category: dict[str, np.ndarray] = cache.views.setdefault("category_confidence", {})
    if category not in by_category:
        by_category[category] = _tag_maximum(cache, category, None)
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
    import numpy as np

    rows = rows_of_documents(cache, {doc_id}).nonzero()[0]
    order = np.lexsort((cache.column("char_start")[rows], cache.column("page")[rows]))
    return [int(r) for r in rows[order]]


def rows_in_months(cache: SearchCache, months: Iterable[str]) -> np.ndarray:
    """Rows dated in, or naming a day of, any of `months` ('YYYY-MM'; a fresh array)."""
    import numpy as np

    out = np.zeros(cache.n_rows, dtype=bool)
    wanted = np.array([int(m[:4]) * 100 + int(m[5:7]) for m in months], dtype=np.int32)
    for seg, offset in zip(cache.segments, cache.offsets, strict=True):
        hit = np.isin(seg.month_code, wanted)
        if hit.any():
            rows = np.repeat(np.arange(seg.n), np.diff(seg.month_ptr))[hit]
            out[offset + rows] = True
    if cache.live is not None:
        out &= cache.live
    return out


def rows_stating_judgement(cache: SearchCache, among: np.ndarray) -> np.ndarray:
    """Rows of `among` whose text states an inspection's judgement (`vectorstore.sections.states_judgement`; a
    fresh array). Only those rows are read: a council's documents, a few hundred passages."""
    import numpy as np

    out = np.zeros(cache.n_rows, dtype=bool)
    for seg, offset in zip(cache.segments, cache.offsets, strict=True):
        part = among[offset:offset + seg.n]
        if part.any():
            out[offset:offset + seg.n] = seg.states_judgement(part)
    return out if cache.live is None else out & cache.live


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
