"""The search cache: what a search reads, derived from Chroma and laid out for speed, in segments.

Chroma is the store of record; the cache is a set of segments (`vectorstore.segments`), each holding the passages of
some documents, column by column, with their float16 vectors, sign bits and BM25 postings. A `SearchCache` is the
search's view at one moment: the segments that cover the stored documents, laid end to end as one row space, with
the rows of documents since replaced or removed masked out (`live`), and the statistics BM25 needs (N, document
frequencies, average length) taken across all of them. So one new document is one new small segment: nothing is
rebuilt, and a merge (`plan_merge`, `Segment.merge`) later folds small segments into a big one.

On disk (`CacheFolder`, `<index>/cache/`): the segments, each a folder that never changes once written, and
`state.json`: the stored manifest, the segments that cover it, and the Chroma write-log position it was checked at,
so a process that starts while nothing has been written since opens no Chroma client at all (`store.chroma_generation`
tells). Any of it can be deleted: it is rebuilt from Chroma.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from vectorstore.bm25 import Lexical
from vectorstore.columns import from_metadata, to_metadata
from vectorstore.dense import Dense
from vectorstore.records import DocumentInfo, Passage
from vectorstore.segments import Segment, common_runs, read_segment_docs, sum_run_counts

if TYPE_CHECKING:
    import numpy as np

CACHE_VERSION = 6
DEAD = "\x00removed"  # the document id of rows whose document was since replaced or removed
SMALL_SEGMENTS = 4  # more small segments than this beside the biggest: merge them
SMALL_SHARE = 0.10  # small segments holding more than this share of the biggest's rows: merge all
DEAD_SHARE = 0.20  # more than this share of rows replaced or removed: merge all
GARBAGE_AFTER_S = 120.0  # a segment no state names is deleted after this long (another process may be writing its)


def fingerprint(manifest: dict[str, DocumentInfo], model: str) -> str:
    """Changes whenever a stored document is added, replaced or removed."""
    rows = sorted(f"{d.id}:{d.content_hash}:{d.passages}:{d.status}:{d.ingested_at}" for d in manifest.values())
    return hashlib.sha256("\n".join([model, str(CACHE_VERSION), *rows]).encode()).hexdigest()


class PassageTable:
    """The rows as Passages, built on demand from the segments' columns (never 570,000 objects at once)."""

    def __init__(self, cache: SearchCache) -> None:
        self._cache = cache

    def __len__(self) -> int:
        return self._cache.n_rows

    def __getitem__(self, row: int) -> Passage:
        seg, local = self._cache.locate(int(row))
        return seg.passage(local)

    def __iter__(self) -> Iterator[Passage]:
        for seg in self._cache.segments:
            for local in range(seg.n):
                yield seg.passage(local)


class RowLookup:
    """Passage id -> row, for live rows (a dict-like door over each segment's sorted id hashes)."""

    def __init__(self, cache: SearchCache) -> None:
        self._cache = cache

    def get(self, passage_id: str, default: int | None = None) -> int | None:
        for seg, offset in zip(self._cache.segments, self._cache.offsets, strict=True):
            local = seg.row_of(passage_id)
            if local is not None and self._cache.is_live(offset + local):
                return offset + local
        return default

    def __contains__(self, passage_id: object) -> bool:
        return isinstance(passage_id, str) and self.get(passage_id) is not None

    def __getitem__(self, passage_id: str) -> int:
        row = self.get(passage_id)
        if row is None:
            raise KeyError(passage_id)
        return row


@dataclass
class SearchCache:
    """The chosen segments laid end to end; rows of documents outside `docs` are dead (never found)."""

    key: str
    segments: list[Segment]
    docs: dict[str, DocumentInfo]
    settings: Any  # SearchSettings: exact_rows, oversample
    generation: str | None = None  # Chroma's write-log position this view was checked at (embedded only)
    views: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    def __post_init__(self) -> None:
        import numpy as np

        self.offsets = [0]
        for seg in self.segments[:-1]:
            self.offsets.append(self.offsets[-1] + seg.n)
        self.offsets = self.offsets[:len(self.segments)]
        self.n_rows = sum(seg.n for seg in self.segments)
        # Each segment's documents: live where the manifest still holds that very version, and only once (a
        # document in two segments is served from the first, the biggest).
        ids: list[str] = []
        position: dict[str, int] = {}
        codes = []
        self._dead_docs: list[frozenset[int]] = []  # per segment, its documents (by position) no longer served
        for seg in self.segments:
            local = np.full(len(seg.docs) + 1, -1, dtype=np.int32)
            for i, d in enumerate(seg.docs):
                if self.docs.get(d.id) == d and d.id not in position:
                    position[d.id] = len(ids)
                    ids.append(d.id)
                    local[i] = position[d.id]
            self._dead_docs.append(frozenset(np.flatnonzero(local[:-1] < 0).tolist()))
            codes.append(local[seg.doc_code])
        codes_all = np.concatenate(codes) if codes else np.zeros(0, dtype=np.int32)
        dead = codes_all < 0
        self.live: np.ndarray | None = ~dead if dead.any() else None
        codes_all[dead] = len(ids)
        self.doc_ids = [*ids, DEAD]
        self.doc_code = codes_all
        self.live_count = self.n_rows - int(dead.sum())
        self.passages = PassageTable(self)
        self.row_of = RowLookup(self)
        self.vectors = Dense([s.vectors for s in self.segments], [s.codes for s in self.segments], self.offsets,
                             self.live, self.settings.exact_rows, self.settings.oversample,
                             int(self.segments[0].vectors.shape[1]) if self.segments else 384)
        self.lexical = Lexical([s.postings for s in self.segments], self.offsets, self.live)
        self.boilerplate = self._boilerplate()

    def _boilerplate(self) -> np.ndarray:
        """Boilerplate judged across every live row, exactly as one segment of the whole index would judge it: the
        common runs come from each segment's own run counts added up (a segment with replaced documents counts its
        live ones again, once), and each segment keeps its flags for as long as its own common runs stay the same.
        So one more document costs its own segment's judgement, not the whole index's (at 142,000 passages the
        judgement from scratch took tens of seconds of each refresh)."""
        import numpy as np

        if not self.segments:
            return np.zeros(0, dtype=bool)
        counts = sum_run_counts([s.live_runs(dead) for s, dead in zip(self.segments, self._dead_docs, strict=True)])
        common = common_runs(*counts, len(self.docs))
        shared = [s.boilerplate_against(common) for s in self.segments]
        # a report's headline judgement opens with its framework's title block, yet it is what is most asked of it
        flags = np.concatenate([f & ~s.states_judgement(f) for s, f in zip(self.segments, shared, strict=True)])
        # cover pages and back matter (copyright, licence, contact blocks), whatever the corpus: demoted like shared
        # template text, and never quoted
        flags = flags | np.concatenate([s.not_quoted() for s in self.segments])
        return flags if self.live is None else flags & self.live

    # -- rows --------------------------------------------------------------------------------------------------------
    def locate(self, row: int) -> tuple[Segment, int]:
        import bisect

        i = bisect.bisect_right(self.offsets, row) - 1
        return self.segments[i], row - self.offsets[i]

    def is_live(self, row: int) -> bool:
        return self.live is None or bool(self.live[row])

    def live_rows(self) -> np.ndarray:
        import numpy as np

        return np.arange(self.n_rows) if self.live is None else np.flatnonzero(self.live)

    def text(self, row: int) -> str:
        seg, local = self.locate(row)
        return seg.text(local)

    def column(self, name: str) -> np.ndarray:
        """A numeric Passage field for every row (page, char_start…), from the segments' columns."""
        import numpy as np

        got = self.views.get(f"column:{name}")
        if got is None:
            got = self.views[f"column:{name}"] = self.per_segment(f"column:{name}", lambda s: s.table.numbers(name),
                                                                  np.int64)
        return got  # type: ignore[no-any-return]

    def per_segment(self, key: str, derive: Any, dtype: Any) -> np.ndarray:
        """An array over every row, laid end to end from each segment's own (derived once per segment and kept with
        it: a segment never changes, so a new view after one more document derives only the new segment's)."""
        import numpy as np

        parts = []
        for seg in self.segments:
            part = seg.derived.get(key)
            if part is None:
                part = seg.derived[key] = derive(seg)
            parts.append(part)
        return np.concatenate(parts) if parts else np.zeros(0, dtype=dtype)

    def framing(self) -> np.ndarray:
        """Whether each row is framing text (introduction, method, terms of reference, definitions; see
        `vectorstore.sections.passage_role`)."""

        got = self.views.get("framing")
        if got is None:
            got = self.views["framing"] = self.per_segment("framing", lambda s: s.table.equals("role", ("framing",)),
                                                           bool)
        return got  # type: ignore[no-any-return]

    def rows_naming(self, name: str) -> set[int]:
        """Live rows whose text holds `name` (bytes found in each segment's text blob, no passage decoded but
        those)."""
        import numpy as np

        needle = name.encode("utf-8")
        rows: set[int] = set()
        for seg, offset in zip(self.segments, self.offsets, strict=True):
            column = seg.table.columns["text"]
            blob, starts = column.blob, np.asarray(column.offsets)
            at = blob.find(needle) if len(blob) else -1
            while at >= 0:
                local = int(np.searchsorted(starts, at, side="right")) - 1
                if self.is_live(offset + local):
                    rows.add(offset + local)
                at = blob.find(needle, int(starts[local + 1]))  # the next passage: one hit per row is enough
        return rows

    # -- plans -------------------------------------------------------------------------------------------------------
    def plan_merge(self) -> list[Segment]:
        """The segments worth merging now (none: nothing to do). The biggest is left alone while the others are
        few and small: small ones merge among themselves, and into the biggest only when they hold a tenth of
        its rows or a fifth of all rows are dead."""
        if len(self.segments) < 2 and self.live is None:
            return []
        if self.live_count < (1 - DEAD_SHARE) * self.n_rows:
            return list(self.segments)
        biggest, *small = sorted(self.segments, key=lambda s: -s.n)
        if len(small) <= SMALL_SEGMENTS:
            return []
        if sum(s.n for s in small) > SMALL_SHARE * biggest.n:
            return list(self.segments)
        return small

    def live_rows_of(self, seg: Segment) -> np.ndarray:
        import numpy as np

        offset = self.offsets[self.segments.index(seg)]
        rows = np.arange(seg.n)
        return rows if self.live is None else rows[self.live[offset:offset + seg.n]]


# -- on disk ---------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class CacheState:
    """What `state.json` says: the stored manifest, as checked at a Chroma write-log position, and its segments."""

    identity: str
    generation: str | None
    manifest: dict[str, DocumentInfo]
    segments: tuple[str, ...]


class CacheFolder:
    """`<index>/cache/`: segments (one folder each) and state.json. Several processes share it: segments are
    written whole under fresh names, the state by rename; either may be thrown away and rebuilt."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.root = folder / "segments"
        self._loaded: dict[str, Segment] = {}
        self._docs: dict[str, list[DocumentInfo] | None] = {}

    def read_state(self) -> CacheState | None:
        try:
            raw = json.loads((self.folder / "state.json").read_text(encoding="utf-8"))
            if raw.get("version") != CACHE_VERSION:
                return None
            manifest = {d["id"]: from_metadata(DocumentInfo, d) for d in raw["manifest"]}
            return CacheState(raw["identity"], raw["generation"], manifest, tuple(raw["segments"]))
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def write_state(self, state: CacheState) -> None:
        raw = {"version": CACHE_VERSION, "identity": state.identity, "generation": state.generation,
               "segments": list(state.segments), "manifest": [to_metadata(d) for d in state.manifest.values()]}
        self.folder.mkdir(parents=True, exist_ok=True)
        tmp = self.folder / f".state.json.tmp-{os.getpid()}-{time.monotonic_ns()}"
        tmp.write_text(json.dumps(raw, ensure_ascii=False), encoding="utf-8")
        tmp.replace(self.folder / "state.json")

    def segment_docs(self) -> dict[str, list[DocumentInfo]]:
        """Every complete segment on disk and the documents it holds (read once per segment: they never change)."""
        out = {}
        names = sorted(p.name for p in self.root.iterdir() if p.name.startswith("seg-")) if self.root.is_dir() else []
        for name in names:
            if name not in self._docs:
                self._docs[name] = read_segment_docs(self.root / name)
            docs = self._docs[name]
            if docs is not None:
                out[name] = docs
        return out

    def load(self, name: str) -> Segment:
        """A segment by name (loaded once per process; raises OSError or ValueError when it is gone or broken)."""
        seg = self._loaded.get(name)
        if seg is None:
            seg = self._loaded[name] = Segment.load(self.root / name)
        return seg

    def save(self, seg: Segment) -> None:
        seg.save(self.root)
        self._loaded[seg.name] = seg
        self._docs[seg.name] = list(seg.docs)

    def collect_garbage(self, keep: set[str]) -> None:
        """Delete segments no state names (after a grace period: another process may have just written one and
        not yet its state), and leftovers of writers that died."""
        if not self.root.is_dir():
            return
        now = time.time()
        for path in self.root.iterdir():
            if path.name in keep:
                continue
            with contextlib.suppress(OSError):
                if now - path.stat().st_mtime > GARBAGE_AFTER_S:
                    shutil.rmtree(path, ignore_errors=True)
                    self._loaded.pop(path.name, None)
                    self._docs.pop(path.name, None)


def choose_segments(available: dict[str, list[DocumentInfo]], manifest: dict[str, DocumentInfo],
                    ) -> tuple[list[str], set[str]]:
    """Segments that cover the manifest, biggest first (a merged one before the small ones it replaced), each taken
    when it holds a stored version not yet covered; and the documents none holds."""
    needed = dict(manifest)
    chosen = []
    for name, docs in sorted(available.items(), key=lambda item: (-len(item[1]), item[0])):
        useful = [d for d in docs if needed.get(d.id) == d]
        if useful:
            chosen.append(name)
            for d in useful:
                del needed[d.id]
    return chosen, set(needed)
