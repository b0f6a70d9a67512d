"""Our own BM25: per-segment postings over numpy arrays, scored with statistics of the whole index.

A segment of the search cache (`vectorstore.segments`) keeps, for its passages, which terms each holds and how
often (term-major postings: `indptr`, `rows`, `tf`) and each passage's length in terms. Nothing in a segment
depends on the others, so a new document is a new small segment, not a rebuilt index. The statistics BM25 needs
from the whole corpus (the number of live passages, each term's document frequency, the average length) are taken
across every segment at query time (`Lexical`): a term's IDF is the same whichever segment holds a passage, and a
passage scores exactly as it would in one index built from scratch.

The scores are bm25s's (0.3, method "lucene", k1 1.5, b 0.75), which this index replaced, to the bit: idf =
log(1 + (N - df + 0.5) / (df + 0.5)) in float32, tfc = tf / (k1 (1 - b + b len / avglen) + tf) in float64, their
product stored as float32 and summed in float32 in the query's term order (tests/test_bm25.py compares them).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from vectorstore.lexical import lexical_tokens

if TYPE_CHECKING:
    import numpy as np

K1 = 1.5
B = 0.75


@dataclass
class Postings:
    """One segment's lexical index: term -> (rows holding it, how often), and each row's length in terms."""

    terms: dict[str, int]
    indptr: np.ndarray  # int64 [terms + 1]: term t's postings are rows[indptr[t]:indptr[t + 1]]
    rows: np.ndarray  # int32, ascending within a term
    tf: np.ndarray  # uint16
    lengths: np.ndarray  # int32 [rows]

    @classmethod
    def build(cls, texts: list[str]) -> Postings:
        """Postings of `texts` (each passage's header and text), analysed as `lexical.lexical_tokens`."""
        import numpy as np

        tokens = lexical_tokens(texts)
        terms: dict[str, int] = {}
        ids = [[terms.setdefault(t, len(terms)) for t in doc] for doc in tokens]
        lengths = np.fromiter((len(doc) for doc in ids), dtype=np.int32, count=len(ids))
        flat = np.fromiter((t for doc in ids for t in doc), dtype=np.int64, count=int(lengths.sum()))
        owner = np.repeat(np.arange(len(ids), dtype=np.int64), lengths)
        pairs, counts = np.unique(flat * max(1, len(ids)) + owner, return_counts=True)  # sorted by term, then row
        return cls._from_pairs(terms, pairs // max(1, len(ids)), pairs % max(1, len(ids)), counts, lengths)

    @classmethod
    def _from_pairs(cls, terms: dict[str, int], term: np.ndarray, row: np.ndarray, tf: np.ndarray,
                    lengths: np.ndarray) -> Postings:
        import numpy as np

        indptr = np.zeros(len(terms) + 1, dtype=np.int64)
        np.cumsum(np.bincount(term, minlength=len(terms)), out=indptr[1:])
        return cls(terms, indptr, row.astype(np.int32), np.minimum(tf, 65535).astype(np.uint16),
                   lengths.astype(np.int32))

    def span(self, term: str) -> tuple[int, int]:
        t = self.terms.get(term)
        return (0, 0) if t is None else (int(self.indptr[t]), int(self.indptr[t + 1]))

    @staticmethod
    def merge(parts: list[tuple[Postings, np.ndarray]]) -> Postings:
        """One index of the given rows (ascending) of several segments, in that order: a merge of segments."""
        import numpy as np

        terms: dict[str, int] = {}
        term_parts, row_parts, tf_parts, length_parts = [], [], [], []
        base = 0
        for postings, keep in parts:
            local_to_merged = np.array([terms.setdefault(t, len(terms)) for t in postings.terms], dtype=np.int64)
            new_row = np.full(len(postings.lengths), -1, dtype=np.int64)
            new_row[keep] = np.arange(base, base + len(keep))
            term_of = np.repeat(np.arange(len(postings.terms), dtype=np.int64), np.diff(postings.indptr))
            moved = new_row[np.asarray(postings.rows)]
            kept = moved >= 0
            term_parts.append(local_to_merged[term_of[kept]])
            row_parts.append(moved[kept])
            tf_parts.append(np.asarray(postings.tf)[kept])
            length_parts.append(np.asarray(postings.lengths)[keep])
            base += len(keep)
        term = np.concatenate(term_parts) if term_parts else np.zeros(0, np.int64)
        row = np.concatenate(row_parts) if row_parts else np.zeros(0, np.int64)
        order = np.lexsort((row, term))
        lengths = np.concatenate(length_parts) if length_parts else np.zeros(0, np.int32)
        return Postings._from_pairs(terms, term[order], row[order], np.concatenate(tf_parts)[order], lengths)

    def save(self, folder: Path) -> None:
        import numpy as np

        (folder / "bm25.terms").write_text("\n".join(self.terms), encoding="utf-8")
        for name in ("indptr", "rows", "tf", "lengths"):
            np.save(folder / f"bm25.{name}.npy", getattr(self, name))

    @classmethod
    def load(cls, folder: Path) -> Postings:
        import numpy as np

        text = (folder / "bm25.terms").read_text(encoding="utf-8")
        terms = {t: i for i, t in enumerate(text.split("\n"))} if text else {}
        arrays = {name: np.load(folder / f"bm25.{name}.npy", mmap_mode="r") for name in ("indptr", "rows", "tf")}
        return cls(terms, lengths=np.load(folder / "bm25.lengths.npy"), **arrays)


class Lexical:
    """BM25 over several segments' postings laid end to end (`offsets`), with statistics of the live rows only."""

    def __init__(self, parts: list[Postings], offsets: list[int], live: np.ndarray | None) -> None:
        import numpy as np

        self.parts = parts
        self.offsets = offsets
        self.live = live
        lengths = np.concatenate([np.asarray(p.lengths) for p in parts]) if parts else np.zeros(0, np.int32)
        self.n_rows = len(lengths)
        self.n_live = int(live.sum()) if live is not None else self.n_rows
        total = int(lengths[live].sum()) if live is not None else int(lengths.sum())
        self.avg_length = total / self.n_live if self.n_live else 1.0  # bm25s: mean of the lengths (float64)
        # bm25s's k1 * ((1 - b) + b * len / avglen), row by row, in the same float64 operations
        self._norm = K1 * ((1 - B) + B * lengths / self.avg_length)
        self._df: dict[str, int] = {}

    def df(self, term: str) -> int:
        """Live passages holding `term`."""
        got = self._df.get(term)
        if got is None:
            got = 0
            for part, offset in zip(self.parts, self.offsets, strict=True):
                start, end = part.span(term)
                if end > start:
                    got += end - start if self.live is None else \
                        int(self.live[offset + part.rows[start:end]].sum())
            self._df[term] = got
        return got

    def __contains__(self, term: str) -> bool:
        return self.df(term) > 0

    def scores(self, terms: list[str], mask: np.ndarray | None = None) -> np.ndarray:
        """BM25 score of every row for `terms` (repeats count again, as in bm25s); 0 for rows `mask` excludes."""
        import numpy as np

        scores = np.zeros(self.n_rows, dtype=np.float32)
        for term in terms:
            df = self.df(term)
            if not df:
                continue
            idf = np.float32(math.log(1 + (self.n_live - df + 0.5) / (df + 0.5)))
            for part, offset in zip(self.parts, self.offsets, strict=True):
                start, end = part.span(term)
                if end == start:
                    continue
                rows = np.asarray(part.rows[start:end])  # int32 indexes as well: no int64 copy of a long list
                if offset:
                    rows = rows + offset
                tf = np.asarray(part.tf[start:end], dtype=np.float64)
                # idf * (tf / (norm + tf)) in the same float64 operations, in place: a common word's list is a
                # third of 570,000 rows, and each temporary array was a pass over it
                weight = self._norm[rows]
                weight += tf
                np.divide(tf, weight, out=weight)
                weight *= np.float64(idf)
                scores[rows] += weight.astype(np.float32)  # a term's rows are distinct, so no np.add.at is needed
        if self.live is not None:
            scores *= self.live
        if mask is not None:
            scores *= mask
        return scores

    def top(self, terms: list[str], n: int, mask: np.ndarray | None = None) -> list[tuple[int, float]]:
        """The n best rows with a score above 0, best first (ties: the earlier row first)."""
        import numpy as np

        scores = self.scores(terms, mask)
        rows = np.flatnonzero(scores > 0)
        if len(rows) > n:
            rows = rows[np.argpartition(-scores[rows], n - 1)[:n]]
        order = np.lexsort((rows, -scores[rows]))
        return [(int(r), float(scores[r])) for r in rows[order]]
