"""Hostile files: mutated PDF, DOCX and HTML (byte flips, truncation, insertions, deletions, zip entries replaced
or dropped) never break a batch, never hang it (a per-file time limit) and never expand into memory (size limits).

Every mutant is either ingested or reported with a one-line reason, and the good file beside it is always
ingested. `pytest -m slow tests/test_fuzz.py` tries many more inputs; both print how many and the reasons seen.
"""

from __future__ import annotations

import io
import os
import re
import signal
import struct
import tempfile
import threading
import time
import zipfile
import zlib
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ingest import ingest_paths
from ingest.errors import CorruptFileError, FileTimeoutError, IngestError
from ingest.pipeline import ReadOptions, file_hash, prepare
from ingest.worker import FileReader
from vectorstore import open_index
from vectorstore.settings import DEFAULT_MODEL, IngestSettings, Settings

FAST = int(os.environ.get("LATENT_FUZZ_EXAMPLES", "25"))
SLOW = int(os.environ.get("LATENT_FUZZ_EXAMPLES_SLOW", "400"))
SEEN: Counter[str] = Counter()  # outcome of every mutant tried, printed at the end
# Long runs are opt-in: `make test` selects by marker (-m "not llm"), so these skip unless `-m slow` is given.
only_with_m_slow = pytest.mark.skipif("'slow' not in config.getoption('markexpr')",
                                      reason="a long run: select it with -m slow")

PARAGRAPHS = ["1. Introduction", "1.1 This review concerns Child Q, who died in March 2018.",
              "1.2 Caseloads in the assessment team were between 30 and 50 children.",
              "2. Findings", "2.1 Agency social workers made up half of the workforce.",
              "2.2 Management oversight was infrequent and did not challenge drift."]
HTML = ("<!DOCTYPE html><html><head><title>Focused visit to Wenmarsh</title>"
        "<meta name=\"council\" content=\"Wenmarsh\"><meta name=\"date\" content=\"2021-05-04\"></head><body>"
        "<nav><a href=\"/\">Home</a></nav><h1>Focused visit to Wenmarsh</h1><h2>Findings</h2>"
        + "".join(f"<p>{p}</p>" for p in PARAGRAPHS)
        + "<ul><li>Supervision <b>was</b> irregular.</li><li>Plans lacked <i>timescales</i>.</li></ul>"
          "<table><tr><th>Team</th><th>Caseload</th></tr><tr><td>Assessment</td><td>30-50</td></tr></table>"
          "<script>track()</script></body></html>")
HTML_FRAGMENTS = ["<p>", "</p>", "<li>", "</ul>", "<table><tr><td>", "<!--", "-->", "<script>", "</body>",
                  "<h1>", "&amp;", "&#0;", "&#x110000;", "<?xml?>", "<![CDATA[", "\x00", "\ufeff", "<" * 50,
                  "<div>" * 3000, "<meta charset=\"utf-16\">", "<p>" + "x" * 10000]


def seed_pdf() -> bytes:
    from fpdf import FPDF

    pdf = FPDF()
    pdf.set_title("Serious case review: Child Q")
    pdf.set_font("helvetica", size=11)
    for half in (PARAGRAPHS[:3], PARAGRAPHS[3:]):
        pdf.add_page()
        for line in half:
            pdf.multi_cell(0, 6, line, new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


def seed_docx() -> bytes:
    import docx

    document = docx.Document()
    document.core_properties.title = "Serious case review: Child Q"
    document.add_heading("Serious case review: Child Q", level=1)
    for p in PARAGRAPHS:
        document.add_paragraph(p)
    document.add_paragraph("Supervision was irregular.", style="List Bullet")
    table = document.add_table(rows=2, cols=2)
    for r, row in enumerate([("Team", "Caseload"), ("Assessment", "30-50")]):
        for c, text in enumerate(row):
            table.cell(r, c).text = text
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


SEEDS = {".pdf": seed_pdf(), ".docx": seed_docx(), ".html": HTML.encode()}

# -- mutations: positions are fractions of the length, so one strategy fits any seed ----------------------------
_at = st.floats(0, 1)
BYTE_OPS = st.one_of(
    st.tuples(st.just("flip"), _at, st.integers(0, 255)),
    st.tuples(st.just("truncate"), _at),
    st.tuples(st.just("insert"), _at, st.binary(min_size=1, max_size=64)),
    st.tuples(st.just("delete"), _at, st.integers(1, 512)),
    st.tuples(st.just("repeat"), _at, st.integers(1, 256), st.integers(2, 50)),
)
ZIP_OPS = st.one_of(
    st.tuples(st.just("entry"), st.integers(0, 50), st.lists(BYTE_OPS, min_size=1, max_size=4)),
    st.tuples(st.just("drop"), st.integers(0, 50)),
    st.tuples(st.just("replace"), st.integers(0, 50), st.binary(max_size=200)),
)
HTML_OPS = st.one_of(
    st.tuples(st.just("fragment"), _at, st.sampled_from(HTML_FRAGMENTS)),
    st.tuples(st.just("text"), _at, st.text(max_size=40)),
)


def mutate_bytes(data: bytes, ops: list[tuple[Any, ...]]) -> bytes:
    for op in ops:
        at = int(op[1] * len(data))
        if op[0] == "flip" and data:
            at = min(at, len(data) - 1)
            data = data[:at] + bytes([op[2]]) + data[at + 1:]
        elif op[0] == "truncate":
            data = data[:at]
        elif op[0] == "insert":
            data = data[:at] + op[2] + data[at:]
        elif op[0] == "delete":
            data = data[:at] + data[at + op[2]:]
        elif op[0] == "repeat":
            data = data[:at] + data[at:at + op[2]] * op[3] + data[at:]
    return data


def mutate_zip(data: bytes, ops: list[tuple[Any, ...]]) -> bytes:
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        entries = [(i.filename, z.read(i)) for i in z.infolist()]
    for op in ops:
        if not entries:
            break
        k = op[1] % len(entries)
        name, body = entries[k]
        if op[0] == "entry":
            entries[k] = (name, mutate_bytes(body, op[2]))
        elif op[0] == "drop":
            del entries[k]
        else:
            entries[k] = (name, op[2])
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for name, body in entries:
            z.writestr(name, body)
    return out.getvalue()


def mutate_html(text: str, ops: list[tuple[Any, ...]]) -> bytes:
    for op in ops:
        at = int(op[1] * len(text))
        text = text[:at] + op[2] + text[at:]
    return text.encode("utf-8", "surrogatepass")


mutants = st.fixed_dictionaries({
    ".pdf": st.lists(BYTE_OPS, min_size=1, max_size=6),
    ".docx": st.one_of(st.lists(ZIP_OPS, min_size=1, max_size=4).map(lambda o: ("zip", o)),
                       st.lists(BYTE_OPS, min_size=1, max_size=4).map(lambda o: ("bytes", o))),
    ".html": st.one_of(st.lists(HTML_OPS, min_size=1, max_size=5).map(lambda o: ("html", o)),
                       st.lists(BYTE_OPS, min_size=1, max_size=5).map(lambda o: ("bytes", o))),
})


def build(ext: str, how: Any) -> bytes:
    if ext == ".pdf":
        return mutate_bytes(SEEDS[ext], how)
    kind, ops = how
    if kind == "zip":
        return mutate_zip(SEEDS[ext], ops)
    if kind == "html":
        return mutate_html(HTML, ops)
    return mutate_bytes(SEEDS[ext], ops)


def check_outcome(path: Path, report: Any) -> str:
    """The file was stored, or failed with a one-line reason; returns a label for the tally."""
    reasons = [f.reason for f in report.failed if f.file == str(path)]
    stored = str(path) in report.added + report.updated + report.unchanged
    assert stored != bool(reasons), f"{path.name}: reported {'twice' if stored else 'nowhere'}"
    if stored:
        return f"{path.suffix} ingested"
    (reason,) = reasons
    assert reason.strip() and "\n" not in reason and len(reason) < 300, repr(reason)
    assert "Traceback" not in reason
    return f"{path.suffix} failed: {reason.split('(')[0].split(':')[0].strip()}"


# -- fixtures --------------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def fuzz_index(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    settings_ = Settings(ingest=IngestSettings(file_timeout_s=20))
    yield open_index(tmp_path_factory.mktemp("fuzz-index"), settings=settings_)
    if SEEN:
        print(f"\nfuzz outcomes ({sum(SEEN.values())} mutants):")
        for label, n in SEEN.most_common():
            print(f"  {n:5d}  {label}")


def run_batch(index: Any, folder: Path, how: dict[str, Any], n: int) -> None:
    good = folder / "b-good.txt"
    good.write_text(f"Batch {n}: the front door screened contacts within one working day.\n")
    bad = {ext: folder / f"{letter}-mutant{ext}" for letter, ext in zip("acd", SEEDS, strict=True)}
    for ext, path in bad.items():
        path.write_bytes(build(ext, how[ext]))
    report = ingest_paths(index, [folder])
    assert str(good) in report.added + report.updated, report.failed
    doc = index.find_document(str(good))
    assert [p.text for p in index.passages(doc.id)] == [good.read_text().strip()]
    for path in bad.values():
        SEEN[check_outcome(path, report)] += 1


def _fuzz_batches(index: Any, examples: int) -> None:
    folder = Path(tempfile.mkdtemp(prefix="latent-fuzz-"))
    count = iter(range(10**9))

    @settings(max_examples=examples, deadline=None, database=None, derandomize=examples <= FAST,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    @given(mutants)
    def batch(how: dict[str, Any]) -> None:
        run_batch(index, folder, how, next(count))

    batch()


def test_mutated_files_never_break_a_batch(fuzz_index: Any) -> None:
    _fuzz_batches(fuzz_index, FAST)


@pytest.mark.slow
@only_with_m_slow
def test_many_mutated_files_never_break_a_batch(fuzz_index: Any) -> None:
    _fuzz_batches(fuzz_index, SLOW)


# -- the limits, one by one ------------------------------------------------------------------------------------
def _hang() -> None:
    while True:
        time.sleep(1)


def _crash() -> None:
    os.kill(os.getpid(), signal.SIGSEGV)


def _allocate(mb: int) -> int:
    return len(bytearray(mb * 1024 * 1024))


def test_reader_survives_a_hang_a_crash_and_a_memory_hog() -> None:
    """The machinery itself, with functions that misbehave on purpose (they run in the real child process)."""
    with FileReader(memory_mb=1024) as reader:
        assert reader.call(10, len, "abc") == 3
        with pytest.raises(FileTimeoutError, match=r"took longer than 0\.5 s to read; skipped"):
            reader.call(0.5, _hang)  # (a hang that were not stopped would hang the test: no clock is needed)
        assert reader.call(10, len, "abcd") == 4 and reader.started == 2  # replaced after the hang
        with pytest.raises(CorruptFileError, match=r"the reader crashed on this file \(SIGSEGV\)"):
            reader.call(10, _crash)
        with pytest.raises(IngestError, match="needs more than 1024 MB of memory"):
            reader.call(30, _allocate, 2048)
        assert reader.call(10, _allocate, 16) == 16 * 1024 * 1024  # the same worker, still fine
        assert reader.started == 3
        threading.Timer(0.5, reader.abort).start()  # what Ctrl-C does: a waiting call returns at once
        with pytest.raises(CorruptFileError, match=r"\(SIGKILL\)"):  # not the 60 s limit's FileTimeoutError
            reader.call(60, _hang)


def test_slow_file_is_skipped_at_the_time_limit(tmp_path: Path) -> None:
    """A real file that takes long to read (40 MB of prose) is stopped at the limit; the next file is read."""
    docs = tmp_path / "docs"
    docs.mkdir()
    sentence = "Caseloads rose while agency staff left and supervision lapsed, so plans drifted. "
    (docs / "a-huge.txt").write_text((sentence * 12 + "\n\n") * 40_000)
    (docs / "b-small.txt").write_text("The front door screened contacts within one working day.\n")
    index = open_index(tmp_path / "index", settings=Settings(ingest=IngestSettings(file_timeout_s=1.5)))
    report = ingest_paths(index, [docs])
    assert report.added == [str(docs / "b-small.txt")]
    assert [(f.file, f.reason) for f in report.failed] == [(str(docs / "a-huge.txt"),
                                                             "took longer than 1.5 s to read; skipped")]


def test_file_over_the_size_limit_is_refused_unread(tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "big.txt").write_text("Supervision was irregular. " * 50_000)  # 1.3 MB
    (docs / "small.txt").write_text("Supervision was irregular.\n")
    index = open_index(tmp_path / "index", settings=Settings(ingest=IngestSettings(max_file_mb=0.5)))
    report = ingest_paths(index, [docs])
    assert report.added == [str(docs / "small.txt")]
    assert [f.reason for f in report.failed] == ["file too large: 1.3 MB, the limit is 0.5 MB"]


def _docx_with_padding(mb: int, part: str = "word/media/padding.bin") -> bytes:
    """A valid .docx with `mb` MB of spaces added to `part`: a few hundred KB on disk, over `mb` MB unzipped."""
    out = io.BytesIO()
    padding = b" " * (mb * 1024 * 1024)
    with zipfile.ZipFile(io.BytesIO(SEEDS[".docx"])) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for info in src.infolist():
            z.writestr(info.filename, src.read(info) + (padding if info.filename == part else b""))
        if part not in src.namelist():
            z.writestr(part, padding)
    return out.getvalue()


def _lie_about_size(data: bytes, name: str, size: int) -> bytes:
    """Rewrite the uncompressed size an entry declares, in its local header and the central directory."""
    raw = bytearray(data)
    encoded = name.encode()
    for signature, offset in ((b"PK\x03\x04", 22), (b"PK\x01\x02", 24)):
        at = raw.find(signature)
        while at >= 0:
            name_at = at + (30 if signature == b"PK\x03\x04" else 46)
            if raw[name_at:name_at + len(encoded)] == encoded:
                struct.pack_into("<I", raw, at + offset, size)
            at = raw.find(signature, at + 4)
    return bytes(raw)


def test_zip_bomb_docx_is_refused_before_it_is_expanded(tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    bomb = _docx_with_padding(64)
    assert len(bomb) < 400_000
    (docs / "bomb.docx").write_bytes(bomb)
    # Parts that declare 1 KB but hold 64 MB: zipfile never returns more than an entry declares, so the lie
    # cannot expand. An unread part is harmless (ingested); the document itself fails its CRC check.
    (docs / "liar-media.docx").write_bytes(_lie_about_size(bomb, "word/media/padding.bin", 1024))
    liar = _lie_about_size(_docx_with_padding(64, "word/document.xml"), "word/document.xml", 1024)
    (docs / "liar-document.docx").write_bytes(liar)
    (docs / "fine.docx").write_bytes(SEEDS[".docx"])
    index = open_index(tmp_path / "index", settings=Settings(ingest=IngestSettings(max_unzipped_mb=16)))
    report = ingest_paths(index, [docs])
    failed = {Path(f.file).name: f.reason for f in report.failed}
    assert re.fullmatch(r"expands to 6\d MB when unzipped, the limit is 16 MB \(a zip bomb\?\)", failed["bomb.docx"])
    assert sorted(report.added) == [str(docs / "fine.docx"), str(docs / "liar-media.docx")]
    assert failed["liar-document.docx"].startswith("not a readable .docx (BadZipFile: Bad CRC-32")
    for name in ("bomb.docx", "liar-media.docx", "liar-document.docx", "fine.docx"):
        check_outcome(docs / name, report)  # each reported exactly once, in one line


def pdf_flate_bomb(gigabytes: float) -> bytes:
    """A one-page PDF whose content stream is ~1 MB on disk and `gigabytes` GB once decompressed."""
    packer = zlib.compressobj(9)
    chunk = b"BT /F1 12 Tf 72 712 Td (Caseloads were high.) Tj ET\n" + b" " * (16 * 1024 * 1024)
    stream = b"".join(packer.compress(chunk) for _ in range(int(gigabytes * 64))) + packer.flush()
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
               b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
               b"/Resources << /Font << /F1 5 0 R >> >> >>",
               b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(stream) + stream + b"\nendstream",
               b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"]
    out, offsets = bytearray(b"%PDF-1.4\n"), []
    for n, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % n + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def test_pdf_flate_bomb_is_stopped_by_the_memory_cap(tmp_path: Path) -> None:
    """1 MB on disk, 1 GB decompressed: PDFium in the capped reader fails; the ingest and the good file go on."""
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "a-bomb.pdf").write_bytes(pdf_flate_bomb(1))
    assert (docs / "a-bomb.pdf").stat().st_size < 2 * 1024 * 1024
    (docs / "b-good.pdf").write_bytes(SEEDS[".pdf"])
    index = open_index(tmp_path / "index", settings=Settings(ingest=IngestSettings(reader_memory_mb=512)))
    report = ingest_paths(index, [docs])
    assert report.added == [str(docs / "b-good.pdf")]
    (failure,) = report.failed
    assert re.fullmatch(r"the reader crashed on this file \(SIG[A-Z]+\); it is damaged, or needs more than 512 MB"
                        r"|needs more than 512 MB of memory to read; skipped", failure.reason), failure.reason


def test_mutants_read_directly_in_the_worker() -> None:
    """Many more mutants through `prepare` in the reader process (no model, no store): fast, every loader."""
    _read_mutants(FAST * 6)


@pytest.mark.slow
@only_with_m_slow
def test_many_mutants_read_directly_in_the_worker() -> None:
    _read_mutants(SLOW * 5)


def _read_mutants(examples: int) -> None:
    options = ReadOptions(DEFAULT_MODEL, 200, 500)
    folder = Path(tempfile.mkdtemp(prefix="latent-fuzz-read-"))
    with FileReader(memory_mb=2048) as reader:

        @settings(max_examples=examples, deadline=None, database=None, derandomize=examples <= FAST * 6,
                  suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
        @given(mutants, st.sampled_from(list(SEEDS)))
        def read(how: dict[str, Any], ext: str) -> None:
            path = folder / f"mutant{ext}"
            path.write_bytes(build(ext, how[ext]))
            try:
                reader.call(20, prepare, path, file_hash(path), None, options, False)
                SEEN[f"{ext} read (direct)"] += 1
            except IngestError as exc:
                assert str(exc).strip() and "\n" not in str(exc), repr(str(exc))
                SEEN[f"{ext} failed (direct): {str(exc).split('(')[0].split(':')[0].strip()}"] += 1

        read()
