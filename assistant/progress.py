"""Progress on stderr for long ingests: a bar over files and a count of passages (stdout stays clean)."""

from __future__ import annotations

import sys
from types import TracebackType
from typing import Any


class IngestProgress:
    """Receives pipeline events; draws a tqdm bar on a terminal, one line per event otherwise."""

    def __init__(self, quiet: bool = False) -> None:
        self.quiet = quiet
        self.bar: Any = None
        self.passages = 0
        self.tty = sys.stderr.isatty()

    def __enter__(self) -> IngestProgress:
        return self

    def __exit__(self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None) -> None:
        if self.bar is not None:
            self.bar.close()

    def __call__(self, event: str, data: dict[str, Any]) -> None:
        if self.quiet:
            return
        if event == "files":
            if self.tty:
                from tqdm import tqdm

                self.bar = tqdm(total=int(data["total"]), unit="file", file=sys.stderr, desc="ingest")
            return
        if event == "storing" and self.bar is not None:
            return
        if event == "stored":
            self.passages += int(data["passages"])  # type: ignore[arg-type]
        if event in ("stored", "unchanged", "failed") and self.bar is not None:
            self.bar.update(1)
            self.bar.set_postfix(passages=self.passages)
            if event == "failed":
                self.bar.write(f"failed: {data['file']}: {data['reason']}", file=sys.stderr)
            return
        if event == "storing":
            # A large batch takes seconds to write; a log shows where the time goes (a bar counts files instead).
            n = len(data["files"])  # type: ignore[arg-type]
            print(f"storing {n} document{'s' if n != 1 else ''} ({data['passages']} passages)", file=sys.stderr)
        elif event == "stored":
            print(f"stored {data['file']} ({data['passages']} passages)", file=sys.stderr)
        elif event == "failed":
            print(f"failed: {data['file']}: {data['reason']}", file=sys.stderr)
        elif event == "repaired":
            print(f"repaired half-stored documents: {data['files']}", file=sys.stderr)
