"""The lines of a JSON-lines file the user gave (gold sets, batches of questions, labelled sentences)."""

from __future__ import annotations

from collections.abc import Iterator


class UnreadableFileError(ValueError):
    """The file cannot be read as UTF-8 text; the message names it and says why."""


def numbered_lines(path: str) -> Iterator[tuple[int, str]]:
    """(line number, line) for every non-blank line; callers parse each line and word their own errors."""
    try:
        with open(path, encoding="utf-8") as fh:
            for n, line in enumerate(fh, start=1):
                if line.strip():
                    yield n, line
    except UnicodeDecodeError as exc:
        raise UnreadableFileError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from exc
    except OSError as exc:
        raise UnreadableFileError(f"cannot read {path}: {exc.strerror or exc}") from exc
