"""Loaders: one module per file format, chosen by extension through a small registry.

Every loader returns a `LoadedDocument`: the clean text of each page (1-based page = index + 1; formats without
pages have one page) and the blocks found in it, each located by page and character offsets.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from ingest.errors import UnsupportedFileError
from ingest.loaders.base import LoadedDocument

Loader = Callable[[Path], LoadedDocument]


def _registry() -> dict[str, Loader]:
    from ingest.loaders import docx, html, pdf, text

    return {".pdf": pdf.load_pdf, ".docx": docx.load_docx, ".html": html.load_html, ".htm": html.load_html,
            ".txt": text.load_text, ".text": text.load_text, ".md": text.load_markdown,
            ".markdown": text.load_markdown}


SUPPORTED = (".pdf", ".docx", ".html", ".htm", ".txt", ".text", ".md", ".markdown")


def load_document(path: Path) -> LoadedDocument:
    """Load any supported file; raises an `IngestError` subclass with a one-line reason otherwise."""
    ext = path.suffix.lower()
    loader = _registry().get(ext)
    if loader is None:
        hint = " (old Word .doc: save it as .docx)" if ext == ".doc" else ""
        raise UnsupportedFileError(f"unsupported file type '{ext or path.name}'{hint}; "
                                   f"Latent reads {', '.join(SUPPORTED)}")
    return loader(path)


__all__ = ["SUPPORTED", "LoadedDocument", "load_document"]
