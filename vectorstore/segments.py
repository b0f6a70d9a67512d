"""A segment of the search cache: the passages of some documents, column by column, with everything a search reads
from them precomputed: float16 vectors and their sign bits, BM25 postings, tags, the months passages name, the
5-word runs that find boilerplate, and a lookup from passage id to row.

A segment never changes once written (a folder renamed into place whole): a new ingest adds a small segment, a
merge writes one big segment from several and the small ones are deleted later. `vectorstore.cache` lays the
chosen segments end to end and takes statistics across them. Loaded, the big arrays are memory-mapped: the texts,
the vectors and the postings stay in the page cache, not in the process (a 570,000-passage segment is ~1.5 GB on
disk; a process reads what its searches touch).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from vectorstore.bm25 import Postings
from vectorstore.columns import Table, from_metadata, to_metadata
from vectorstore.dates import months_of
from vectorstore.dense import sign_codes
from vectorstore.records import LEVELS, POLARITIES, DocumentInfo, Passage, Tag

if TYPE_CHECKING:
    import numpy as np

SEGMENT_VERSION = 2  # 2: passages have a role
# Boilerplate (`boilerplate_flags`): the first HEAD_WORDS words of a passage as runs of SHINGLE words.
SHINGLE = 5
HEAD_WORDS = 60
NOT_QUOTED = ("cover", "back_matter")  # passage roles never quoted
_HASH_BITS = 40  # a run's hash as counted across documents: 40 bits leave room for the document in one uint64


def stable_hash(text: str) -> int:
    """The same 64-bit hash in every process (Python's own `hash` of a str changes with each interpreter)."""
    return int.from_bytes(hashlib.blake2b(text.encode("utf-8"), digest_size=8).digest(), "little")


@dataclass
class Segment:
    """Rows of passages of `docs`, aligned across every array; `doc_code[i]` is row i's index into `docs`."""

    name: str
    docs: list[DocumentInfo]
    doc_code: np.ndarray  # int32 [n]
    table: Table  # every Passage field, one column each (text included)
    vectors: np.ndarray  # float16 [n, dims]
    codes: np.ndarray  # uint64 [dims / 64, n]: sign bits (vectorstore.dense)
    postings: Postings
    categories: list[str]  # the tag categories met, indexed by tag_category
    tag_row: np.ndarray  # one entry per tag of a passage: its row, category, level, polarity and confidence
    tag_category: np.ndarray
    tag_level: np.ndarray
    tag_polarity: np.ndarray
    tag_confidence: np.ndarray
    month_ptr: np.ndarray  # int64 [n + 1]: row i names the months month_code[month_ptr[i]:month_ptr[i + 1]]
    month_code: np.ndarray  # int32, year * 100 + month
    run_ptr: np.ndarray  # int64 [n + 1]: row i's 5-word runs are run_hash[run_ptr[i]:run_ptr[i + 1]]
    run_hash: np.ndarray  # uint64
    run_values: np.ndarray  # uint64, sorted: the distinct runs (40-bit) of this segment ...
    run_docs: np.ndarray  # int32: ... and in how many of its documents each occurs
    boilerplate: np.ndarray  # bool [n], as judged when the segment was written
    id_hash: np.ndarray  # uint64, sorted: each passage id's stable hash ...
    id_order: np.ndarray  # int32: ... and its row
    created: float = field(default_factory=time.time)
    _not_quoted: np.ndarray | None = field(default=None, repr=False, compare=False)
    # Derived per segment and kept while it lives (a segment never changes): boilerplate flags by the common runs
    # they were judged against, live run counts by the documents since replaced, and arrays searches derive from
    # the columns (`derived`), so a new view of the index after one more document recomputes only the new segment.
    _flags: dict[bytes, np.ndarray] = field(default_factory=dict, repr=False, compare=False)
    _live_runs: dict[frozenset[int], tuple[np.ndarray, np.ndarray]] = field(default_factory=dict, repr=False,
                                                                            compare=False)
    derived: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @property
    def n(self) -> int:
        return self.table.n

    def passage(self, row: int) -> Passage:
        passage: Passage = self.table.record(row)
        return passage

    def text(self, row: int) -> str:
        return str(self.table.value("text", row))

    def not_quoted(self) -> np.ndarray:
        """Rows whose role is cover or back matter (`vectorstore.sections.passage_role`): never quoted."""
        if self._not_quoted is None:
            self._not_quoted = self.table.equals("role", NOT_QUOTED)
        return self._not_quoted

    def states_judgement(self, among: np.ndarray) -> np.ndarray:
        """Rows of `among` (a boolean mask) whose text states an inspection's judgement
        (`vectorstore.sections.states_judgement`); only those rows are read, each once while the segment lives."""
        import numpy as np

        from vectorstore.sections import states_judgement

        seen: dict[int, bool] = self.derived.setdefault("states_judgement", {})
        out = np.zeros(len(among), dtype=bool)
        for i in np.flatnonzero(among).tolist():
            if i not in seen:
                seen[i] = states_judgement(self.table.value("text", i))
            out[i] = seen[i]
        return out

    def live_runs(self, dead: frozenset[int]) -> tuple[np.ndarray, np.ndarray]:
        """This segment's distinct runs and in how many of its documents each occurs, leaving out the documents
        `dead` (by position in `docs`: since replaced or removed)."""
        import numpy as np

        if not dead:
            return self.run_values, self.run_docs
        got = self._live_runs.get(dead)
        if got is None:
            row_of_run = np.repeat(np.arange(self.n, dtype=np.int64), np.diff(self.run_ptr))
            doc_of_run = self.doc_code[row_of_run]
            keep = ~_is_member(np.array(sorted(dead), dtype=doc_of_run.dtype), doc_of_run)
            got = self._live_runs[dead] = _distinct_runs(np.asarray(self.run_hash)[keep], None, doc_of_run[keep])
        return got

    def boilerplate_against(self, common: np.ndarray) -> np.ndarray:
        """Each row's boilerplate flag when the runs `common` (sorted, 40-bit) are the common ones across the
        index. A row's flag depends only on which of this segment's own runs are common, so the flags are kept by
        that subset: a new document elsewhere rarely changes it, and then nothing here is judged again."""
        import numpy as np

        own = self.run_values[_is_member(common, self.run_values)]
        key = _runs_key(own)
        got = self._flags.get(key)
        if got is None:
            got = self._flags[key] = rows_with_common_runs(np.asarray(self.run_hash), self.run_ptr, own)
        return got

    def row_of(self, passage_id: str) -> int | None:
        import numpy as np

        h = np.uint64(stable_hash(passage_id))
        at = int(np.searchsorted(self.id_hash, h))
        while at < len(self.id_hash) and self.id_hash[at] == h:
            row = int(self.id_order[at])
            if self.table.value("id", row) == passage_id:
                return row
            at += 1
        return None

    # -- building ----------------------------------------------------------------------------------------------------
    @classmethod
    def build(cls, passages: list[Passage], vectors: np.ndarray, docs: dict[str, DocumentInfo],
              others: list[Segment], n_docs: int) -> Segment:
        """A segment of these passages (grouped by document) and their vectors. `others` and `n_docs` (documents in
        the whole index) judge boilerplate: see `boilerplate_flags`."""
        import numpy as np

        rank = {d: i for i, d in enumerate(docs)}
        order = sorted(range(len(passages)), key=lambda i: rank[passages[i].doc_id])  # stable: a document's own order
        passages = [passages[i] for i in order]
        vectors = np.asarray(vectors, dtype=np.float32)[order] if len(order) else \
            np.zeros((0, vectors.shape[1] if vectors.ndim == 2 else 0), dtype=np.float32)
        doc_list = [docs[d] for d in dict.fromkeys(p.doc_id for p in passages)]
        position = {d.id: i for i, d in enumerate(doc_list)}
        doc_code = np.fromiter((position[p.doc_id] for p in passages), dtype=np.int32, count=len(passages))
        categories: dict[str, int] = {}
        tags = [(row, t) for row, p in enumerate(passages) for t in p.tags]
        months = [sorted(_month_codes(p)) for p in passages]
        run_ptr, run_hash = run_hashes([p.text for p in passages])
        run_values, run_docs = _distinct_runs(run_hash, run_ptr, doc_code)
        ids = np.fromiter((stable_hash(p.id) for p in passages), dtype=np.uint64, count=len(passages))
        id_order = np.argsort(ids, kind="stable").astype(np.int32)
        segment = cls(
            name=f"seg-{uuid.uuid4().hex[:12]}", docs=doc_list, doc_code=doc_code, table=Table.of(Passage, passages),
            vectors=vectors.astype(np.float16), codes=sign_codes(vectors) if len(vectors) else
            np.zeros((vectors.shape[1] // 64 if vectors.ndim == 2 else 0, 0), np.uint64),
            postings=Postings.build([f"{p.header}\n{p.text}" for p in passages]),
            categories=[],
            tag_row=np.array([r for r, _ in tags], dtype=np.int32),
            tag_category=np.array([categories.setdefault(t.category, len(categories)) for _, t in tags],
                                  dtype=np.int16),
            tag_level=np.array([_index(LEVELS, t.level) for _, t in tags], dtype=np.int8),
            tag_polarity=np.array([_index(POLARITIES, t.polarity) for _, t in tags], dtype=np.int8),
            tag_confidence=np.array([t.confidence for _, t in tags], dtype=np.float64),
            month_ptr=_pointers([len(m) for m in months]),
            month_code=np.fromiter((c for m in months for c in m), dtype=np.int32,
                                   count=sum(len(m) for m in months)),
            run_ptr=run_ptr, run_hash=run_hash, run_values=run_values, run_docs=run_docs,
            boilerplate=np.zeros(len(passages), dtype=bool), id_hash=ids[id_order], id_order=id_order)
        segment.categories = list(categories)
        segment._judge(common_runs(*_run_counts(run_values, run_docs, others), n_docs))
        return segment

    def _judge(self, common: np.ndarray) -> None:
        """Set `boilerplate` against these common runs (a subset of this segment's own), and remember it."""
        self.boilerplate = rows_with_common_runs(self.run_hash, self.run_ptr, common)
        self._flags[_runs_key(common)] = self.boilerplate

    @classmethod
    def merge(cls, parts: list[tuple[Segment, np.ndarray]], n_docs: int) -> Segment:
        """One segment of the given rows (ascending) of several segments, in order: what a merge writes. Its
        boilerplate is judged over all the rows it holds (exact when it holds the whole index)."""
        import numpy as np

        doc_list: list[DocumentInfo] = []
        doc_codes, tables, vectors, codes = [], [], [], []
        categories: dict[str, int] = {}
        tag_parts: list[tuple[np.ndarray, ...]] = []
        month_counts: list[np.ndarray] = []
        month_codes: list[np.ndarray] = []
        run_counts: list[np.ndarray] = []
        run_hashes_: list[np.ndarray] = []
        base = 0
        for seg, rows in parts:
            rows = np.asarray(rows, dtype=np.int64)
            kept_docs = np.unique(seg.doc_code[rows])
            remap = np.full(len(seg.docs), -1, dtype=np.int32)
            remap[kept_docs] = np.arange(len(doc_list), len(doc_list) + len(kept_docs))
            doc_list += [seg.docs[i] for i in kept_docs]
            doc_codes.append(remap[seg.doc_code[rows]])
            tables.append(seg.table.take(rows))
            vectors.append(np.asarray(seg.vectors[rows]))
            codes.append(np.asarray(seg.codes[:, rows]))
            new_row = np.full(seg.n, -1, dtype=np.int64)
            new_row[rows] = np.arange(base, base + len(rows))
            keep = new_row[seg.tag_row] >= 0
            category_map = np.array([categories.setdefault(c, len(categories)) for c in seg.categories],
                                    dtype=np.int16)
            tag_parts.append((new_row[seg.tag_row][keep], category_map[seg.tag_category[keep]] if len(category_map)
                              else seg.tag_category[keep], seg.tag_level[keep], seg.tag_polarity[keep],
                              seg.tag_confidence[keep]))
            for ptr, values, counts, out in ((seg.month_ptr, seg.month_code, month_counts, month_codes),
                                             (seg.run_ptr, seg.run_hash, run_counts, run_hashes_)):
                counts.append(ptr[rows + 1] - ptr[rows])
                out.append(_take_ranges(values, ptr, rows))
            base += len(rows)
        doc_code = np.concatenate(doc_codes)
        run_ptr = _pointers(np.concatenate(run_counts))
        run_hash = np.concatenate(run_hashes_)
        run_values, run_docs = _distinct_runs(run_hash, run_ptr, doc_code)
        table = Table.concat(tables)
        ids = np.fromiter((stable_hash(table.value("id", i)) for i in range(table.n)), dtype=np.uint64,
                          count=table.n)
        id_order = np.argsort(ids, kind="stable").astype(np.int32)
        merged = cls(
            name=f"seg-{uuid.uuid4().hex[:12]}", docs=doc_list, doc_code=doc_code, table=table,
            vectors=np.concatenate(vectors), codes=np.concatenate(codes, axis=1),
            postings=Postings.merge([(seg.postings, np.asarray(rows)) for seg, rows in parts]),
            categories=list(categories),
            tag_row=np.concatenate([t[0] for t in tag_parts]).astype(np.int32),
            tag_category=np.concatenate([t[1] for t in tag_parts]).astype(np.int16),
            tag_level=np.concatenate([t[2] for t in tag_parts]), tag_polarity=np.concatenate([t[3] for t in tag_parts]),
            tag_confidence=np.concatenate([t[4] for t in tag_parts]),
            month_ptr=_pointers(np.concatenate(month_counts)), month_code=np.concatenate(month_codes),
            run_ptr=run_ptr, run_hash=run_hash, run_values=run_values, run_docs=run_docs,
            boilerplate=np.zeros(table.n, dtype=bool), id_hash=ids[id_order], id_order=id_order)
        merged._judge(common_runs(run_values, run_docs, n_docs))
        return merged

    # -- on disk -----------------------------------------------------------------------------------------------------
    _ARRAYS = ("doc_code", "vectors", "codes", "tag_row", "tag_category", "tag_level", "tag_polarity",
               "tag_confidence", "month_ptr", "month_code", "run_ptr", "run_hash", "run_values", "run_docs",
               "boilerplate", "id_hash", "id_order")

    def save(self, root: Path) -> Path:
        """Write into `root/<name>` whole (a temporary folder renamed into place): readers never see half of it."""
        import numpy as np

        root.mkdir(parents=True, exist_ok=True)
        tmp = root / f".{self.name}.tmp-{os.getpid()}"
        tmp.mkdir()
        try:
            for name in self._ARRAYS:
                np.save(tmp / f"{name}.npy", getattr(self, name))
            self.postings.save(tmp)
            kinds = self.table.save(tmp, "passage")
            meta = {"version": SEGMENT_VERSION, "name": self.name, "rows": self.n, "created": self.created,
                    "categories": self.categories, "columns": kinds,
                    "boilerplate_key": next((k.hex() for k, v in self._flags.items() if v is self.boilerplate), None),
                    "docs": [to_metadata(d) for d in self.docs]}
            (tmp / "meta.json").write_text(json.dumps(meta, ensure_ascii=False), encoding="utf-8")  # last
            tmp.rename(root / self.name)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        return root / self.name

    @classmethod
    def load(cls, folder: Path) -> Segment:
        """A saved segment, its big arrays memory-mapped. Raises OSError or ValueError when it is incomplete or
        of another version (the caller rebuilds what it needs from Chroma)."""
        import numpy as np

        meta = json.loads((folder / "meta.json").read_text(encoding="utf-8"))
        if meta.get("version") != SEGMENT_VERSION:
            raise ValueError(f"segment {folder.name} has version {meta.get('version')}")
        arrays: dict[str, Any] = {name: np.load(folder / f"{name}.npy", mmap_mode="r") for name in cls._ARRAYS}
        for small in ("doc_code", "boilerplate", "run_values", "run_docs", "id_hash", "id_order", "codes"):
            arrays[small] = np.array(arrays[small])  # read on every search or state change: held in memory
        docs = [from_metadata(DocumentInfo, d) for d in meta["docs"]]
        segment = cls(name=meta["name"], docs=docs, table=Table.load(Passage, folder, "passage", meta["columns"],
                                                                     meta["rows"]),
                      postings=Postings.load(folder), categories=list(meta["categories"]), created=meta["created"],
                      **arrays)
        if meta.get("boilerplate_key"):  # judged when written: a view with the same common runs need not judge again
            segment._flags[bytes.fromhex(meta["boilerplate_key"])] = segment.boilerplate
        return segment


def read_segment_docs(folder: Path) -> list[DocumentInfo] | None:
    """The documents a saved segment holds (its meta.json only), or None when it is incomplete or another version."""
    try:
        meta = json.loads((folder / "meta.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if meta.get("version") != SEGMENT_VERSION:
        return None
    return [from_metadata(DocumentInfo, d) for d in meta["docs"]]


# -- boilerplate -----------------------------------------------------------------------------------------------------
_WORD_HASH: dict[str, int] = {}


def run_hashes(texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Stable hashes of the 5-word runs of each text's first 60 words (lower-case letters only), as pointers per
    text and one array of hashes: each word hashed once per process, each run a polynomial of its five words."""
    import numpy as np

    words = [re.findall(r"[a-z]+", text.lower())[:HEAD_WORDS] for text in texts]
    for w in {w for ws in words for w in ws if w not in _WORD_HASH}:
        _WORD_HASH[w] = stable_hash(w)
    counts = np.fromiter((len(ws) for ws in words), dtype=np.int64, count=len(words))
    flat = np.fromiter((_WORD_HASH[w] for ws in words for w in ws), dtype=np.uint64, count=int(counts.sum()))
    runs = np.maximum(counts - SHINGLE + 1, 0)
    ptr = _pointers(runs)
    word_start = np.concatenate([[0], np.cumsum(counts)[:-1]]).astype(np.int64) if len(counts) else counts
    first = np.repeat(word_start - ptr[:-1], runs) + np.arange(int(ptr[-1]))  # each run's first word in `flat`
    prime = np.uint64(1000003)
    hashes = flat[first] if len(first) else np.zeros(0, dtype=np.uint64)
    for k in range(1, SHINGLE):  # uint64 arithmetic wraps, as a hash should
        hashes = (hashes * prime) ^ flat[first + k]
    return ptr, hashes


def boilerplate_flags(run_hash: np.ndarray, run_ptr: np.ndarray, doc_code: np.ndarray, live: np.ndarray | None,
                      n_docs: int, counts: tuple[np.ndarray, np.ndarray] | None = None) -> np.ndarray:
    """Passages whose opening words are mostly 5-word runs found in many other documents: Ofsted's address block,
    "If you would like a copy of this document in a different format…", template method paragraphs. They are kept
    (a user may search for them) but must not crowd findings out of the top hits.

    A run is common when it occurs in at least max(3, 10% of) the `n_docs` documents; a passage is boilerplate when
    60% of the runs in its first 60 words are common. `counts` (distinct runs, and in how many documents each
    occurs) defaults to these rows' own; a new segment passes the whole index's. Counting uses numpy on hashed runs
    (40 bits, so that a run and its document pack into one integer): 57,000 passages take ~1 s."""
    import numpy as np

    n = len(run_ptr) - 1
    flags = np.zeros(n, dtype=bool)
    if n_docs < 4 or not len(run_hash):
        return flags
    row_of_run = np.repeat(np.arange(n, dtype=np.int64), np.diff(run_ptr))
    if live is not None:
        keep = live[row_of_run]
        run_hash, row_of_run = run_hash[keep], row_of_run[keep]
    values, docs = counts if counts is not None else _distinct_runs(run_hash, None, doc_code[row_of_run])
    return rows_with_common_runs(run_hash, run_ptr, common_runs(values, docs, n_docs), row_of_run)


def common_runs(values: np.ndarray, docs: np.ndarray, n_docs: int) -> np.ndarray:
    """The runs (sorted, 40-bit) found in at least max(3, 10% of) the `n_docs` documents."""
    return values[docs >= max(3, int(0.1 * n_docs))] if n_docs >= 4 else values[:0]


def rows_with_common_runs(run_hash: np.ndarray, run_ptr: np.ndarray, common: np.ndarray,
                          row_of_run: np.ndarray | None = None) -> np.ndarray:
    """Rows with at least 4 runs, 60% of them `common`: boilerplate (`row_of_run` defaults to every run's row)."""
    import numpy as np

    n = len(run_ptr) - 1
    if row_of_run is None:
        row_of_run = np.repeat(np.arange(n, dtype=np.int64), np.diff(run_ptr))
    is_common = _is_member(common, run_hash >> np.uint64(64 - _HASH_BITS))
    total = np.bincount(row_of_run, minlength=n)
    shared = np.bincount(row_of_run, weights=is_common.astype(np.float64), minlength=n)
    return (total >= 4) & (shared >= 0.6 * np.maximum(total, 1))


def sum_run_counts(parts: list[tuple[np.ndarray, np.ndarray]]) -> tuple[np.ndarray, np.ndarray]:
    """Distinct runs and document counts of several segments added up (each document is live in one segment, so
    the sums are the counts over the whole index)."""
    import numpy as np

    if not parts:
        return np.zeros(0, np.uint64), np.zeros(0, np.int32)
    values = np.concatenate([v for v, _ in parts])
    docs = np.concatenate([d for _, d in parts]).astype(np.int64)
    order = np.argsort(values, kind="stable")
    values, docs = values[order], docs[order]
    starts = np.flatnonzero(np.concatenate([[True], values[1:] != values[:-1]])) if len(values) else \
        np.zeros(0, np.int64)
    return values[starts], np.add.reduceat(docs, starts).astype(np.int32) if len(starts) else docs.astype(np.int32)


def _runs_key(runs: np.ndarray) -> bytes:
    import numpy as np

    return hashlib.blake2b(np.ascontiguousarray(runs, dtype=np.uint64).tobytes(), digest_size=16).digest()


def _sorted_unique(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """np.unique(values, return_counts=True) by sorting: numpy 2.4's np.unique takes a hash path for integers that
    is ~20x slower here (1.9 s against 0.09 s for 1.5M uint64), and this runs on every new view of the index."""
    import numpy as np

    s = np.sort(values)
    if not len(s):
        return s, np.zeros(0, np.int64)
    starts = np.flatnonzero(np.concatenate([[True], s[1:] != s[:-1]]))
    return s[starts], np.diff(np.append(starts, len(s)))


def _is_member(sorted_values: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Whether each of `x` is in `sorted_values` (binary search: no sort of `x`, unlike np.isin)."""
    import numpy as np

    if not len(sorted_values):
        return np.zeros(len(x), dtype=bool)
    at = np.searchsorted(sorted_values, x)
    at[at == len(sorted_values)] = 0
    return sorted_values[at] == x


def _distinct_runs(run_hash: np.ndarray, run_ptr: np.ndarray | None, doc_of: np.ndarray,
                   ) -> tuple[np.ndarray, np.ndarray]:
    """The distinct runs (top 40 bits of their hashes, sorted) and the number of documents holding each. `doc_of`
    is each run's document, or (with `run_ptr`) each row's."""
    import numpy as np

    if run_ptr is not None:
        doc_of = np.repeat(np.asarray(doc_of, dtype=np.int64), np.diff(run_ptr))
    shift = np.uint64(64 - _HASH_BITS)
    pairs, _ = _sorted_unique((run_hash >> shift << shift) | doc_of.astype(np.uint64))
    values, docs = _sorted_unique(pairs >> shift)
    return values, docs.astype(np.int32)


def _run_counts(values: np.ndarray, docs: np.ndarray, others: list[Segment]) -> tuple[np.ndarray, np.ndarray]:
    """A new segment's distinct runs counted over it and the segments already indexed."""
    import numpy as np

    total = docs.astype(np.int64)
    for other in others:
        at = np.searchsorted(other.run_values, values)
        found = at < len(other.run_values)
        found[found] = other.run_values[at[found]] == values[found]
        total[found] += other.run_docs[at[found]]
    return values, total


# -- helpers ---------------------------------------------------------------------------------------------------------
def _index(values: tuple[str, ...], value: str) -> int:
    return values.index(value) if value in values else -1


def _month_codes(p: Passage) -> set[int]:
    months = months_of(p.text) | ({p.date[:7]} if p.date else set())
    return {int(m[:4]) * 100 + int(m[5:7]) for m in months}


def _pointers(counts: Any) -> np.ndarray:
    import numpy as np

    ptr = np.zeros(len(counts) + 1, dtype=np.int64)
    np.cumsum(np.asarray(counts, dtype=np.int64), out=ptr[1:])
    return ptr


def _take_ranges(values: np.ndarray, ptr: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """values[ptr[r]:ptr[r + 1]] for each of `rows`, concatenated."""
    import numpy as np

    starts, ends = ptr[rows], ptr[rows + 1]
    lengths = ends - starts
    if not lengths.sum():
        return np.zeros(0, dtype=values.dtype)
    index = np.repeat(starts - np.cumsum(lengths) + lengths, lengths) + np.arange(int(lengths.sum()))
    return np.asarray(values)[index]


def tag_of(segment: Segment, i: int) -> Tag:
    """The i-th tag entry of a segment, as a Tag (tests compare it with the passage's own)."""
    return Tag(segment.categories[segment.tag_category[i]], LEVELS[segment.tag_level[i]],
               POLARITIES[segment.tag_polarity[i]], float(segment.tag_confidence[i]))
