"""The search cache: every passage's text, metadata and vector in memory, plus a BM25 index over them.

Chroma is the store of record; this cache is derived from it and rebuilt when its fingerprint (the manifest's
document ids, hashes and passage counts) no longer matches. So a crash between a Chroma write and a cache write
is repaired on the next open, and several processes sharing one Chroma server each notice the others' ingests.
Exact search over a float32 matrix is also faster than Chroma's filtered HNSW query at our scale
(40k passages x 384 dims: a ~5 ms matrix-vector product) and needs no approximation.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from vectorstore.records import DocumentInfo, Passage
from vectorstore.store import ChromaStore, passage_from_metadata

if TYPE_CHECKING:
    import numpy as np

CACHE_VERSION = 5


def fingerprint(manifest: dict[str, DocumentInfo], model: str) -> str:
    """Changes whenever a stored document is added, replaced or removed."""
    rows = sorted(f"{d.id}:{d.content_hash}:{d.passages}:{d.status}" for d in manifest.values())
    return hashlib.sha256("\n".join([model, str(CACHE_VERSION), *rows]).encode()).hexdigest()


@dataclass
class SearchCache:
    """Arrays aligned by row: passages[i], vectors[i], doc_ids[i]; `bm25` indexes `header + text` of row i."""

    key: str
    passages: list[Passage]
    vectors: np.ndarray
    bm25: Any
    row_of: dict[str, int]
    boilerplate: np.ndarray  # rows whose text is mostly shared with many other documents (addresses, templates)
    # Arrays derived from the rows on first use (vectorstore.search: rows per document, per tag category).
    views: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def build(cls, store: ChromaStore, key: str, stored: set[str]) -> SearchCache:
        """Read every passage of a fully stored document from Chroma (half-stored ones are left out)."""
        import bm25s
        import numpy as np
        import Stemmer

        passages: list[Passage] = []
        chunks: list[Any] = []
        for ids, texts, metas, vectors in store.iter_passages(with_vectors=True):
            keep = [j for j, m in enumerate(metas) if m.get("doc_id") in stored]
            passages.extend(passage_from_metadata(ids[j], texts[j], metas[j]) for j in keep)
            chunks.append(np.asarray(vectors, dtype=np.float32)[keep])
        matrix = np.concatenate(chunks) if chunks else np.zeros((0, 384), dtype=np.float32)
        bm25 = None
        if passages:
            bm25 = bm25s.BM25()
            # the analysis of `lexical.lexical_tokens`, as ids for the index
            corpus_tokens = bm25s.tokenize([f"{p.header}\n{p.text}" for p in passages], stopwords="en",
                                           stemmer=Stemmer.Stemmer("english"), show_progress=False)
            bm25.index(corpus_tokens, show_progress=False)
        return cls(key, passages, matrix, bm25, {p.id: i for i, p in enumerate(passages)},
                   find_boilerplate(passages) | not_quoted(passages))

    # -- persistence (a cache file can always be thrown away and rebuilt) --------------------------------------
    def save(self, folder: Path) -> None:
        import numpy as np

        # A folder per writer: the page and an ingest may save at the same moment, and must not delete each
        # other's half-written files. The last complete rename wins; both carry a key, so either is valid.
        tag = f"{os.getpid()}-{uuid.uuid4().hex[:8]}"
        tmp = folder.with_name(f"{folder.name}.tmp-{tag}")
        tmp.mkdir(parents=True)
        np.save(tmp / "vectors.npy", self.vectors)
        np.save(tmp / "boilerplate.npy", self.boilerplate)
        rows = [_passage_row(p) for p in self.passages]
        (tmp / "passages.json").write_text(json.dumps(rows, ensure_ascii=False))
        if self.bm25 is not None:
            self.bm25.save(str(tmp / "bm25"))
        (tmp / "key").write_text(self.key)  # written last: a folder without it is incomplete
        old = folder.with_name(f"{folder.name}.old-{tag}")
        try:
            if folder.exists():
                folder.rename(old)
            tmp.rename(folder)
        except OSError:  # another writer renamed in between: its cache stands, ours is dropped
            pass
        finally:
            shutil.rmtree(old, ignore_errors=True)
            shutil.rmtree(tmp, ignore_errors=True)

    @classmethod
    def load(cls, folder: Path, key: str) -> SearchCache | None:
        try:
            if (folder / "key").read_text() != key:
                return None
            import bm25s
            import numpy as np

            passages = [_passage_from_row(r) for r in json.loads((folder / "passages.json").read_text())]
            vectors = np.load(folder / "vectors.npy")
            boilerplate = np.load(folder / "boilerplate.npy")
            bm25 = bm25s.BM25.load(str(folder / "bm25")) if (folder / "bm25").exists() else None
        except (OSError, ValueError, KeyError):
            return None
        return cls(key, passages, vectors, bm25, {p.id: i for i, p in enumerate(passages)}, boilerplate)


def not_quoted(passages: list[Passage]) -> np.ndarray:
    """Cover pages and back matter (copyright, licence, contact blocks), whatever the corpus: demoted like shared
    template text, and never quoted."""
    import numpy as np

    return np.fromiter((p.role in ("cover", "back_matter") for p in passages), dtype=bool, count=len(passages))


def find_boilerplate(passages: list[Passage], shingle: int = 5, head_words: int = 60) -> np.ndarray:
    """Passages whose opening words are mostly 5-word runs found in many other documents: Ofsted's address block,
    "If you would like a copy of this document in a different format…", template method paragraphs. They are
    kept (a user may search for them) but must not crowd findings out of the top hits.

    A run is common when it occurs in at least max(3, 10% of) documents; a passage is boilerplate when 60% of
    the runs in its first 60 words are common. Counting uses numpy on hashed runs, so 40k passages take ~2 s.
    """
    import re

    import numpy as np

    docs = {d: i for i, d in enumerate(dict.fromkeys(p.doc_id for p in passages))}
    flags = np.zeros(len(passages), dtype=bool)
    if len(docs) < 4:
        return flags
    hashes: list[int] = []
    owners: list[int] = []
    rows: list[int] = []
    for row, p in enumerate(passages):
        words = re.findall(r"[a-z]+", p.text.lower())[:head_words]
        for j in range(len(words) - shingle + 1):
            hashes.append(hash(" ".join(words[j:j + shingle])))
            owners.append(docs[p.doc_id])
            rows.append(row)
    if not hashes:
        return flags
    h, d, r = np.array(hashes, dtype=np.int64), np.array(owners, dtype=np.int64), np.array(rows, dtype=np.int64)
    pairs = np.unique(np.stack([h, d], axis=1), axis=0)
    values, counts = np.unique(pairs[:, 0], return_counts=True)
    common = np.isin(h, values[counts >= max(3, int(0.1 * len(docs)))])
    total = np.bincount(r, minlength=len(passages))
    shared = np.bincount(r, weights=common.astype(np.float64), minlength=len(passages))
    return (total >= 4) & (shared >= 0.6 * np.maximum(total, 1))


def _passage_row(p: Passage) -> list[Any]:
    return [p.id, p.doc_id, p.text, p.header, p.page, p.paragraph, p.section, p.char_start, p.char_end,
            [t.to_json() for t in p.tags], p.date, p.page_end, p.role]


def _passage_from_row(r: list[Any]) -> Passage:
    from vectorstore.records import Tag

    return Passage(id=r[0], doc_id=r[1], text=r[2], header=r[3], page=r[4], paragraph=r[5], section=r[6],
                   char_start=r[7], char_end=r[8], tags=tuple(Tag(**t) for t in r[9]), date=r[10],
                   page_end=r[11], role=r[12])
