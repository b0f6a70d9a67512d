"""What every `latent` subcommand shares: exit codes, the usage error, opening the index from the options, JSON on
stdout, and checking and reading the input files named by options. Used by `assistant.commands` and by the
evaluations it runs (`assistant.evaluation`), which import it and nothing else of the CLI."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from vectorstore.index import Index

EXIT_OK, EXIT_FAILED_INPUT, EXIT_USAGE = 0, 1, 2
EXIT_INTERRUPTED = 130  # 128 + SIGINT, what a shell reports for a command stopped by Ctrl+C


class UsageError(Exception):
    """Arguments that parse but do not make sense together."""


def open_from_args(args: argparse.Namespace) -> Index:
    """The index named by --index / --server (else the settings' own), with the embedding model of --model."""
    from vectorstore.embedding import set_offline_environment
    from vectorstore.index import open_index
    from vectorstore.settings import get_settings

    set_offline_environment()
    settings = get_settings()
    model = getattr(args, "model", None)
    if model:
        settings = settings.model_copy(update={"embedding": settings.embedding.model_copy(update={"model": model})})
    return open_index(getattr(args, "index", None), getattr(args, "server", None), settings)


def emit_json(value: Any) -> None:
    """One JSON object on one line of stdout (`--json`: stdout carries nothing else)."""
    sys.stdout.write(json.dumps(value, ensure_ascii=False) + "\n")
    sys.stdout.flush()


def need_input_file(path: str, option: str) -> None:
    """A file named by an option must exist and be readable, checked before any slow start (the model, the
    index): a typo is a usage error (exit 2), not a traceback."""
    p = Path(path)
    if p.is_dir():
        raise UsageError(f"{option} {path}: is a folder, not a file")
    if not p.exists():
        raise UsageError(f"{option} {path}: no such file")
    if not os.access(p, os.R_OK):
        raise UsageError(f"{option} {path}: not readable (permission denied)")


def need_output_folder(path: str, option: str) -> None:
    """A file to be written at the end of a long run: its folder must exist now, not after the work is done."""
    parent = Path(path).parent
    if not parent.is_dir():
        raise UsageError(f"{option} {path}: the folder {parent} does not exist")
    if Path(path).is_dir():
        raise UsageError(f"{option} {path}: is a folder, not a file")


def read_jsonl(path: str, key: str) -> Iterator[tuple[Any, str]]:
    """(id, text) per line of a JSON-lines file; other keys are ignored."""
    from assistant.jsonlines import UnreadableFileError, numbered_lines

    try:
        for n, line in numbered_lines(path):
            try:
                row = json.loads(line)
                yield row.get("id", n), str(row[key])
            except (json.JSONDecodeError, KeyError, AttributeError, TypeError) as exc:
                raise UsageError(f"{path} line {n}: expected a JSON object with '{key}' ({exc})") from exc
    except UnreadableFileError as exc:
        raise UsageError(str(exc)) from exc
