"""Files in, passages stored: walk → hash → (skip unchanged) → load → metadata → passages → tags → embed → store.

Parsing runs ahead of the model in a child process (`ingest.worker`), which also bounds each file's time and
memory: a hostile file is skipped with a reason instead of hanging or crashing the batch. Passages of several
small files are encoded in one batch: the model is the bottleneck, so it should never wait and never run
half-empty batches.
"""

from __future__ import annotations

import hashlib
import os
import re
import zipfile
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ingest.errors import FileTooLargeError, IngestError
from ingest.loaders import SUPPORTED, load_document
from ingest.metadata import detect_metadata
from ingest.passages import HEADER_TOKENS, split_into_passages
from vectorstore.records import DocumentInfo, FailedFile, IngestReport, Passage

if TYPE_CHECKING:
    import numpy as np

    from ingest.worker import FileReader
    from vectorstore.index import Index

Progress = Callable[[str, dict[str, object]], None]
ENCODE_BATCH = 64
# Files read ahead of the model. The reader is another process, so reading overlaps encoding on a second core, but
# only as far as this: while one encode batch of small files is encoded (64 passages can be 30 abstracts), the next
# batch's files must be read. With 8, SciFact's ingest waited on the reader for a quarter of its time; 64 holds two
# batches of abstracts, or 64 reports' passages (a few MB).
READ_AHEAD = 64
_MB = 1024 * 1024


@dataclass(frozen=True)
class ReadOptions:
    """What reading a file needs from the settings (sent to the reading process, so small and picklable)."""

    model: str
    max_tokens: int
    max_unzipped_mb: float
    backend: str = "onnx"  # whose tokenizer counts word-pieces (the model's own, whichever engine runs it)


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


def prepare(path: Path, content_hash: str, kind: str | None, options: ReadOptions, existed: bool) -> _Prepared:
    """Load and split one file (no model needed: tokens are counted with the tokenizer alone)."""
    from vectorstore.embedding import get_embedder

    if path.suffix.lower() == ".docx":
        check_unzipped_size(path, options.max_unzipped_mb)
    loaded = load_document(path)
    meta = detect_metadata(loaded, path.name, kind)
    doc_id = document_id(path)
    embedder = get_embedder(options.model, options.backend)
    header = _header(meta.title, meta.council, embedder.count_tokens)
    passages = split_into_passages(loaded.blocks, doc_id, header, embedder.count_tokens, options.max_tokens)
    if not passages:
        raise IngestError("no text found to index")
    passages = _tag(_with_roles(passages, meta.kind))
    doc = DocumentInfo(id=doc_id, title=meta.title, source=str(path.resolve()), kind=meta.kind,
                       content_hash=content_hash, council=meta.council, published=meta.published,
                       period_start=meta.period_start, period_end=meta.period_end, judgement=meta.judgement,
                       child=meta.child, passages=len(passages), about=meta.about)
    return _Prepared(path, doc, passages, existed)


def check_unzipped_size(path: Path, limit_mb: float) -> None:
    """Refuse a zip package whose parts declare more than `limit_mb` in all (a zip bomb), before any is opened.

    The declared sizes are binding: `zipfile` never returns more than an entry declares (a lying entry fails its
    CRC check instead), so a 40 KB file declaring 5 GB is refused here and one declaring 1 MB yields at most 1 MB.
    """
    try:
        with zipfile.ZipFile(path) as package:
            total = sum(info.file_size for info in package.infolist())
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        return  # not a readable zip: the loader says why
    if total > limit_mb * _MB:
        raise FileTooLargeError(f"expands to {_megabytes(total)} MB when unzipped, the limit is {limit_mb:g} MB "
                                "(a zip bomb?)")


def _megabytes(size: int) -> str:
    return f"{size / _MB:,.0f}" if size >= 10 * _MB else f"{size / _MB:.1f}"


def _header(title: str, council: str | None, count: Callable[[str], int]) -> str:
    header = title if not council or council.lower() in title.lower() else f"{title} ({council})"
    while count(header) > HEADER_TOKENS:
        header = header.rsplit(" ", 1)[0]
    return header


def _with_roles(passages: list[Passage], kind: str) -> list[Passage]:
    """Each passage's role (finding, framing, cover, back matter); a cover or back page is never a numbered
    paragraph, though a running paragraph number may have carried onto it ("¶62" on Ofsted's back page)."""
    from dataclasses import replace

    from vectorstore.sections import passage_role

    out = []
    # A cover is a page: only a document that runs past its first page has one (a SciFact abstract whose first
    # paragraph is short is text, not a title page), and it opens the document, with more text after it.
    opening = any(p.page > 1 for p in passages)
    for i, p in enumerate(passages):
        role = passage_role(p.text, p.section, p.page, p.paragraph, kind, opening and i < len(passages) - 1)
        opening = opening and role in ("cover", "back_matter")
        out.append(replace(p, role=role, paragraph=None if role in ("cover", "back_matter") else p.paragraph))
    return out


def _tag(passages: list[Passage]) -> list[Passage]:
    from dataclasses import replace

    from vectorstore.taxonomy.tagger import tag_passage

    return [replace(p, tags=tag_passage(p.text, p.role)) for p in passages]


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
    limits = index.settings.ingest
    with index.writing():
        # read once for both (11,000 documents: 2 s a read); the index then follows its own writes to it
        manifest = index.manifest_for_writing()
        repaired = index.repair(manifest)
        if repaired:
            emit("repaired", {"files": repaired})
            manifest = index.manifest_for_writing()
        todo: list[tuple[Path, str, bool]] = []
        for path in files:
            try:
                failure = _precheck(path, limits.max_file_mb)
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
            index.prepare_to_store()  # Chroma loads the passages collection while the first files are read
            _run(index, todo, kind, report, emit)
            # the new documents into the search cache (one new segment) and its state saved, before the lock goes:
            # a page waiting on this writer then loads them from disk instead of reading Chroma itself
            index.warm_up()
    if todo:
        index.compact()  # and merge segments when there are many small ones (writers pay for it, not searches)
    return report


def _run(index: Index, todo: list[tuple[Path, str, bool]], kind: str | None, report: IngestReport,
         emit: Progress) -> None:
    from ingest.worker import shared_reader

    limits = index.settings.ingest
    options = ReadOptions(index.model, index.settings.embedding.max_tokens, limits.max_unzipped_mb, index.backend)
    reader = shared_reader(limits.reader_memory_mb or None)
    pending: list[_Prepared] = []
    # One batch is written to Chroma while the model encodes the next (onnxruntime and Chroma's Rust core both let
    # go of the GIL): for small files the writes are a fifth of the model's time. At most one batch is in flight,
    # so a write's error stops the ingest at the next batch, and documents are stored in order.
    writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="latent-store")
    writing: Future[None] | None = None

    def store(batch: list[_Prepared]) -> None:
        nonlocal writing
        vectors = _encode(index, batch)
        if writing is not None:
            writing.result()
        writing = writer.submit(_store, index, batch, vectors, report, emit)

    with writer, ThreadPoolExecutor(max_workers=1) as pool, _stop_reading_on_error(pool, reader):
        def read(path: Path, digest: str, existed: bool) -> _Prepared:
            if limits.file_timeout_s <= 0:
                return prepare(path, digest, kind, options, existed)
            return reader.call(limits.file_timeout_s, prepare, path, digest, kind,  # type: ignore[no-any-return]
                               options, existed)

        futures = [pool.submit(read, *job) for job in todo[:READ_AHEAD]]
        for i, (path, _, _) in enumerate(todo):
            if i + READ_AHEAD < len(todo):
                futures.append(pool.submit(read, *todo[i + READ_AHEAD]))
            try:
                prepared = futures[i].result()
            except Exception as exc:  # one bad file must never stop the batch
                report.failed.append(FailedFile(str(path), _reason(exc)))
                emit("failed", {"file": str(path), "reason": _reason(exc)})
                continue
            pending.append(prepared)
            if sum(len(x.passages) for x in pending) >= ENCODE_BATCH:
                store(pending)
                pending = []
        if pending:
            store(pending)
        if writing is not None:
            writing.result()


@contextmanager
def _stop_reading_on_error(pool: ThreadPoolExecutor, reader: FileReader) -> Iterator[None]:
    """On Ctrl-C or an error (the Chroma server gone), drop the files read ahead and stop the one being read,
    so that leaving does not wait out its time limit."""
    try:
        yield
    except BaseException:
        pool.shutdown(wait=False, cancel_futures=True)
        reader.abort()
        raise


def _encode(index: Index, batch: list[_Prepared]) -> np.ndarray:
    return index.embedder.encode([embedding_text(p) for item in batch for p in item.passages])


def _store(index: Index, batch: list[_Prepared], vectors: np.ndarray, report: IngestReport, emit: Progress) -> None:
    """Store a batch's documents in one `store_documents` (five Chroma requests for the batch: 30 SciFact
    abstracts cost what one did)."""
    import numpy as np

    bounds = np.cumsum([0] + [len(item.passages) for item in batch])
    emit("storing", {"files": [str(item.path) for item in batch], "passages": int(bounds[-1])})
    index.store_documents([(item.doc, item.passages, np.asarray(vectors[bounds[i]:bounds[i + 1]]))
                           for i, item in enumerate(batch)])
    for item in batch:
        n = len(item.passages)
        (report.updated if item.existed else report.added).append(str(item.path))
        report.passages += n
        emit("stored", {"file": str(item.path), "passages": n, "doc_id": item.doc.id})


def _precheck(path: Path, max_file_mb: float) -> str | None:
    if not path.exists():
        return "no such file"
    if not path.is_file():
        return "not a regular file"
    if path.suffix.lower() not in SUPPORTED:
        return f"unsupported file type '{path.suffix or path.name}'; Latent reads {', '.join(SUPPORTED)}"
    size = path.stat().st_size
    if size == 0:
        return "empty file (0 bytes)"
    if size > max_file_mb * _MB:
        return f"file too large: {_megabytes(size)} MB, the limit is {max_file_mb:g} MB"
    return None


def _reason(exc: BaseException) -> str:
    """One line, whatever a parser's message held (lxml and zipfile messages can quote the file's bytes)."""
    if isinstance(exc, IngestError):
        text = str(exc)
    elif isinstance(exc, OSError):
        text = f"cannot read the file ({exc.strerror or exc})"
    else:
        text = f"could not be processed ({type(exc).__name__}: {exc})"
    text = " ".join(text.split())
    return text if len(text) <= 300 else text[:299] + "…"
