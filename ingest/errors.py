"""Why a file could not be ingested. Each message is one line a practitioner can act on.

IngestError
├── UnsupportedFileError   extension we have no loader for
├── EmptyFileError         zero bytes, or nothing but whitespace
├── CorruptFileError       the file is damaged or not what its extension says
├── EncryptedFileError     a password-protected PDF
├── NoTextLayerError       a scanned PDF: pages are images, no text to index (needs OCR)
├── FileTooLargeError      over the size limit, or a compressed file that expands too far
└── FileTimeoutError       reading took longer than the per-file time limit (the reader was stopped)
"""

from __future__ import annotations


class IngestError(Exception):
    """A file could not be ingested; `str(error)` is the reason shown beside the file name."""

    def __init__(self, reason: object = "") -> None:
        # one line, whatever a parser's own message holds (lxml's end with a newline inside the text): the reason
        # is printed beside its file name, and a report or log line must not break there
        super().__init__(" ".join(str(reason).split()))


class UnsupportedFileError(IngestError):
    """No loader for this extension."""


class EmptyFileError(IngestError):
    """The file holds no bytes or no text."""


class CorruptFileError(IngestError):
    """The file is damaged, or its content does not match its extension."""


class EncryptedFileError(IngestError):
    """The PDF is password-protected."""


class NoTextLayerError(IngestError):
    """The PDF has pages but no text layer (a scan): it needs OCR first."""


class FileTooLargeError(IngestError):
    """The file, or what it expands to, is over the configured limit."""


class FileTimeoutError(IngestError):
    """Reading the file took longer than the per-file time limit; the reader was stopped and replaced."""
