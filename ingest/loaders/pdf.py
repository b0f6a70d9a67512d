"""PDF text per page with pypdfium2 (PDFium: fast, and reliable on the Word-made PDFs reviews come as)."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

from ingest.errors import CorruptFileError, EmptyFileError, EncryptedFileError, NoTextLayerError
from ingest.loaders.base import LoadedDocument, clean_line, lines_with_offsets
from ingest.structure import parse_lines

_DIGITS = re.compile(r"\d+")
_PAGE_NUMBER = re.compile(r"^(page\s+)?\d{1,4}(\s+(of|/)\s+\d{1,4})?$", re.I)


def load_pdf(path: Path) -> LoadedDocument:
    import pypdfium2 as pdfium

    if path.stat().st_size == 0:
        raise EmptyFileError("empty file (0 bytes)")
    try:
        pdf = pdfium.PdfDocument(str(path))
    except pdfium.PdfiumError as exc:
        message = str(exc).lower()
        if "password" in message:
            raise EncryptedFileError("encrypted PDF: it needs a password, so its text cannot be read") from exc
        raise CorruptFileError(f"not a readable PDF ({exc})") from exc
    try:
        raw_pages = []
        for i in range(len(pdf)):
            page = pdf[i]
            raw_pages.append(page.get_textpage().get_text_range())
            page.close()
        declared = _declared(pdf)
    except pdfium.PdfiumError as exc:
        raise CorruptFileError(f"damaged PDF ({exc})") from exc
    finally:
        pdf.close()
    if not raw_pages:
        raise EmptyFileError("PDF with no pages")
    lines = [[clean_line(x) for x in re.split(r"\r\n|\r|\n", text)] for text in raw_pages]
    if not any(any(line for line in page) for page in lines):
        raise NoTextLayerError("no text layer: needs OCR (the pages are images, e.g. a scan)")
    lines = strip_running_lines([[x for x in page if x] for page in lines])
    texts, located = [], []
    for page_lines in lines:
        text, spans = lines_with_offsets(page_lines)
        texts.append(text)
        located.append(spans)
    return LoadedDocument(texts, parse_lines(located), declared)


def strip_running_lines(pages: list[list[str]]) -> list[list[str]]:
    """Drop running headers, footers and page numbers: lines in the first or last three of many pages."""
    if len(pages) < 3:
        return [[x for x in p if not _PAGE_NUMBER.match(x)] for p in pages]
    counts: Counter[str] = Counter()
    for p in pages:
        counts.update({_DIGITS.sub("#", x) for x in p[:3] + p[-3:]})
    repeated = {k for k, n in counts.items() if n >= max(2, len(pages) * 0.4)}
    out = []
    for p in pages:
        edge = set(range(min(3, len(p)))) | set(range(max(0, len(p) - 3), len(p)))
        out.append([x for i, x in enumerate(p) if not (i in edge and (_DIGITS.sub("#", x) in repeated
                                                                     or _PAGE_NUMBER.match(x)))])
    return out


def _declared(pdf: object) -> dict[str, str]:
    try:
        meta = pdf.get_metadata_dict()  # type: ignore[attr-defined]
    except Exception:  # metadata is optional; a damaged Info dictionary must not lose the text
        return {}
    title = (meta.get("Title") or "").strip()
    # Word often leaves titles like "Microsoft Word - draft3.docx"; those are not titles.
    if title and not re.search(r"microsoft|\.docx?$|^untitled", title, re.I) and len(title) > 8:
        return {"title": title}
    return {}
