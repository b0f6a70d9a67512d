"""Dense retrieval over the search cache's vectors: float16 on disk (memory-mapped), exact cosine up to a size, two
stages past it.

Up to `exact_rows` passages (100,000 by default) the vectors are held as one float32 matrix and every query is an
exact matrix-vector product, as before segments: 57,000 passages take 15-30 ms on these loaded machines. Past it
that product is memory-bound (570,000 x 384 float32 is 876 MB to stream per query: 300 ms here), so the search
takes two stages:
1. every passage's vector as 384 sign bits (48 bytes; 27 MB at 570,000, held in memory), compared with the query's
   bits by Hamming distance (XOR and popcount, ~10 ms);
2. the `oversample` x n nearest by Hamming (at least 2,000) re-scored exactly, their float16 rows read from the
   memory-mapped file: the order returned is by true cosine.
scripts/bench_scale.py measures how many of the exact top 100 the two stages keep, and the gold sets' recall with
the two stages forced at any size (`LATENT_SEARCH__EXACT_ROWS=0`).
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np

MIN_CANDIDATES = 2000


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


def sign_codes(vectors: np.ndarray) -> np.ndarray:
    """Each row's signs as bits, packed: uint64 [words, rows] (one row of words per 64 dimensions, so a query's
    Hamming distances are a few passes over contiguous arrays)."""
    import numpy as np

    bits = np.packbits(np.asarray(vectors) > 0, axis=1)  # [rows, dims / 8]
    pad = (-bits.shape[1]) % 8
    if pad:
        bits = np.pad(bits, ((0, 0), (0, pad)))
    return np.ascontiguousarray(bits.view(np.uint64).T)


class Dense:
    """Nearest passages by cosine over segments' vectors laid end to end (`offsets`); rows `live` excludes never
    come back."""

    def __init__(self, vectors: list[np.ndarray], codes: list[np.ndarray], offsets: list[int],
                 live: np.ndarray | None, exact_rows: int, oversample: int, dimension: int) -> None:
        import numpy as np

        self.parts = vectors
        end = offsets[-1] + len(vectors[-1]) if vectors else 0
        self.offsets = np.asarray([*offsets, end], dtype=np.int64)
        self.n_rows = int(self.offsets[-1])
        self.live = live
        self.oversample = oversample
        self.dimension = dimension
        self.exact = self.n_rows <= exact_rows
        self.matrix: np.ndarray | None = None
        self.codes: np.ndarray | None = None
        if self.exact:
            self.matrix = np.concatenate([np.asarray(v, dtype=np.float32) for v in vectors]) if vectors else \
                np.zeros((0, dimension), dtype=np.float32)
        else:
            self.codes = np.concatenate([np.asarray(c) for c in codes], axis=1)

    @property
    def shape(self) -> tuple[int, int]:
        return (self.n_rows, self.dimension)

    def __getitem__(self, rows: object) -> np.ndarray:
        """float32 rows (one index: a vector; a list or array of indices: a matrix)."""
        import numpy as np

        if self.matrix is not None:
            return self.matrix[rows]  # type: ignore[call-overload,no-any-return]
        if isinstance(rows, int | np.integer):
            return self._gather(np.array([int(rows)]))[0]
        return self._gather(np.asarray(rows, dtype=np.int64).reshape(-1))

    def _gather(self, rows: np.ndarray) -> np.ndarray:
        import numpy as np

        out = np.empty((len(rows), self.dimension), dtype=np.float32)
        part = np.searchsorted(self.offsets, rows, side="right") - 1
        for p in np.unique(part):
            at = np.flatnonzero(part == p)
            local = rows[at] - self.offsets[p]
            order = np.argsort(local, kind="stable")  # reading a memory map in file order
            out[at[order]] = np.asarray(self.parts[p][local[order]], dtype=np.float32)
        return out

    def top(self, vector: np.ndarray, n: int, mask: np.ndarray | None) -> list[int]:
        """The n rows (of those `mask` admits) nearest to `vector`, nearest first."""
        import numpy as np

        allowed = mask if self.live is None else (self.live if mask is None else mask & self.live)
        count = self.n_rows if allowed is None else int(allowed.sum())
        n = min(n, count)
        if n <= 0:
            return []
        if self.matrix is not None:
            with one_blas_thread():
                scores = self.matrix @ vector
            if allowed is not None:
                scores = np.where(allowed, scores, -np.inf)
            top = np.argpartition(-scores, n - 1)[:n]
            return [int(i) for i in top[np.argsort(-scores[top])]]
        candidates = self._candidates(vector, max(MIN_CANDIDATES, self.oversample * n), allowed)
        with one_blas_thread():
            scores = self._gather(candidates) @ vector
        best = np.argsort(-scores, kind="stable")[:n]
        return [int(i) for i in candidates[best]]

    def _candidates(self, vector: np.ndarray, want: int, allowed: np.ndarray | None) -> np.ndarray:
        """The `want` allowed rows nearest to `vector` by Hamming distance of sign bits (ascending rows)."""
        import numpy as np

        assert self.codes is not None
        rows = None if allowed is None else np.flatnonzero(allowed)
        if rows is not None and len(rows) <= want:
            return rows
        codes = self.codes if rows is None else self.codes[:, rows]
        query = sign_codes(vector[None, :])[:, 0]
        distance = np.bitwise_count(codes[0] ^ query[0]).astype(np.uint16)
        word = np.empty(codes.shape[1], dtype=np.uint64)
        bits = np.empty(codes.shape[1], dtype=np.uint8)
        for w in range(1, codes.shape[0]):
            np.bitwise_xor(codes[w], query[w], out=word)
            np.bitwise_count(word, out=bits)
            distance += bits
        # the nearest `want` by a histogram of distances (0..dims): cheaper than a partition of 570,000 values
        cumulative = np.cumsum(np.bincount(distance, minlength=codes.shape[0] * 64 + 1))
        limit = int(np.searchsorted(cumulative, want))
        picked = np.flatnonzero(distance < limit)
        at_limit = np.flatnonzero(distance == limit)[:want - len(picked)]
        picked = np.sort(np.concatenate([picked, at_limit]))
        return picked if rows is None else rows[picked]
