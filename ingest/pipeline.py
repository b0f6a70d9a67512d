"""Files in, passages stored: walk → hash → (skip unchanged) → load → metadata → passages → tags → embed → store.

Parsing runs one file ahead in a thread while the model encodes, and passages of several small files are
encoded in one batch: the model is the bottleneck, so it should never wait and never run half-empty batches.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ingest.errors import IngestError
from ingest.loaders import SUPPORTED, load_document
from ingest.metadata import detect_metadata
from ingest.passages import HEADER_TOKENS, split_into_passages
from vectorstore.records import DocumentInfo, FailedFile, IngestReport, Passage

if TYPE_CHECKING:
    from vectorstore.index import Index

Progress = Callable[[str, dict[str, object]], None]
ENCODE_BATCH = 64


@dataclass
class _Prepared:
    path: Path
    doc: DocumentInfo
    passages: list[Passage]
    existed: bool


def walk(paths: list[str | os.PathLike[str]]) -> Iterator[Path]:
    """Files under the given paths, folders walked recursively in name order; hidden files skipped."""
    for raw in paths:
        path = Path(raw).expanduser()
        if path.is_dir():
            for root, dirs, files in os.walk(path):
                dirs[:] = sorted(d for d in dirs if not d.startswith("."))
                for name in sorted(files):
                    if not name.startswith("."):
                        yield Path(root) / name
        else:
            yield path


def document_id(path: Path) -> str:
    """Readable and stable: the file's stem as a slug plus a short hash of its absolute path."""
    slug = re.sub(r"[^a-z0-9]+", "-", path.stem.lower()).strip("-")[:60] or "document"
    return f"{slug}-{hashlib.sha256(str(path.resolve()).encode()).hexdigest()[:6]}"


def file_hash(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def prepare(path: Path, content_hash: str, kind: str | None, index: Index, existed: bool) -> _Prepared:
    """Load and split one file (no model needed: tokens are counted with the tokenizer alone)."""
    loaded = load_document(path)
    meta = detect_metadata(loaded, path.name, kind)
    doc_id = document_id(path)
    embedder = index.embedder
    header = _header(meta.title, meta.council, embedder.count_tokens)
    passages = split_into_passages(loaded.blocks, doc_id, header, embedder.count_tokens,
                                   index.settings.embedding.max_tokens)
    if not passages:
        raise IngestError("no text found to index")
    passages = _tag(passages)
    doc = DocumentInfo(id=doc_id, title=meta.title, source=str(path.resolve()), kind=meta.kind,
                       content_hash=content_hash, council=meta.council, published=meta.published,
                       period_start=meta.period_start, period_end=meta.period_end, judgement=meta.judgement,
                       child=meta.child, passages=len(passages))
    return _Prepared(path, doc, passages, existed)


def _header(title: str, council: str | None, count: Callable[[str], int]) -> str:
    header = title if not council or council.lower() in title.lower() else f"{title} ({council})"
    while count(header) > HEADER_TOKENS:
        header = header.rsplit(" ", 1)[0]
    return header


def _tag(passages: list[Passage]) -> list[Passage]:
    try:
        from ingest.tagger import tag_passage
    except ImportError:  # the tagger is optional until it ships
        return passages
    from dataclasses import replace

    return [replace(p, tags=tuple(tag_passage(p.text))) for p in passages]


def embedding_text(p: Passage) -> str:
    """What the model sees: the contextual header, then the passage."""
    return f"{p.header}\n{p.text}"


def ingest_paths(index: Index, paths: list[str | os.PathLike[str]], kind: str | None = None,
                 progress: Progress | None = None) -> IngestReport:
    """Ingest files and folders into the index; bad files are reported, never fatal to the batch."""
    report = IngestReport()
    emit = progress or (lambda event, data: None)
    files = list(walk(paths))
    emit("files", {"total": len(files)})
    with index.writing():
        repaired = index.repair()
        if repaired:
            emit("repaired", {"files": repaired})
        manifest = index.store.manifest()
        todo: list[tuple[Path, str, bool]] = []
        for path in files:
            try:
                failure = _precheck(path)
                if failure:
                    raise IngestError(failure)
                digest = file_hash(path)
            except (IngestError, OSError) as exc:
                report.failed.append(FailedFile(str(path), _reason(exc)))
                emit("failed", {"file": str(path), "reason": _reason(exc)})
                continue
            known = manifest.get(document_id(path))
            if known and known.status == "stored" and known.content_hash == digest and (kind is None
                                                                                          or known.kind == kind):
                report.unchanged.append(str(path))
                emit("unchanged", {"file": str(path)})
            else:
                todo.append((path, digest, known is not None))
        if todo:
            _run(index, todo, kind, report, emit)
    if todo:
        index.cache()  # rebuild the lexical index and vector matrix once, now, not at the first search
    return report


def _run(index: Index, todo: list[tuple[Path, str, bool]], kind: str | None, report: IngestReport,
         emit: Progress) -> None:
    pending: list[_Prepared] = []
    with ThreadPoolExecutor(max_workers=1) as pool:
        futures = [pool.submit(prepare, path, digest, kind, index, existed) for path, digest, existed in todo[:2]]
        for i, (path, _, _) in enumerate(todo):
            if i + 2 < len(todo):
                p, d, e = todo[i + 2]
                futures.append(pool.submit(prepare, p, d, kind, index, e))
            try:
                prepared = futures[i].result()
            except Exception as exc:  # one bad file must never stop the batch
                report.failed.append(FailedFile(str(path), _reason(exc)))
                emit("failed", {"file": str(path), "reason": _reason(exc)})
                continue
            pending.append(prepared)
            if sum(len(x.passages) for x in pending) >= ENCODE_BATCH:
                _store(index, pending, report, emit)
                pending = []
        if pending:
            _store(index, pending, report, emit)


def _store(index: Index, batch: list[_Prepared], report: IngestReport, emit: Progress) -> None:
    import numpy as np

    texts = [embedding_text(p) for item in batch for p in item.passages]
    vectors = index.embedder.encode(texts)
    offset = 0
    for item in batch:
        n = len(item.passages)
        index.store_document(item.doc, item.passages, np.asarray(vectors[offset:offset + n]))
        offset += n
        (report.updated if item.existed else report.added).append(str(item.path))
        report.passages += n
        emit("stored", {"file": str(item.path), "passages": n, "doc_id": item.doc.id})


def _precheck(path: Path) -> str | None:
    if not path.exists():
        return "no such file"
    if not path.is_file():
        return "not a regular file"
    if path.suffix.lower() not in SUPPORTED:
        return f"unsupported file type '{path.suffix or path.name}'; Latent reads {', '.join(SUPPORTED)}"
    if path.stat().st_size == 0:
        return "empty file (0 bytes)"
    return None


def _reason(exc: BaseException) -> str:
    if isinstance(exc, IngestError):
        return str(exc)
    if isinstance(exc, OSError):
        return f"cannot read the file ({exc.strerror or exc})"
    return f"could not be processed ({type(exc).__name__}: {exc})"
