"""Reading files in a child process, so that one hostile file cannot hang, crash or exhaust the whole ingest.

One worker per process (`shared_reader`) reads file after file, across ingest runs; it is killed and replaced
only when a file takes longer than the time limit or kills the worker (a segfault in a native parser). The
worker is a fresh interpreter (`python -m ingest.worker`) rather than a multiprocessing child: `fork` would copy
the model's threads and Chroma's connections, and `spawn`/`forkserver` re-run the caller's main script in the
child, which breaks any user script without a `__main__` guard. Its address space is capped, so a
decompression bomb that slips past the size checks fails with MemoryError instead of swapping the machine.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from multiprocessing.connection import Connection
from typing import Any

from ingest.errors import CorruptFileError, FileTimeoutError, IngestError

_PRELOAD = ("ingest.pipeline", "ingest.loaders.pdf", "ingest.loaders.docx", "ingest.loaders.html",
            "ingest.loaders.text", "vectorstore.taxonomy.tagger", "pypdfium2", "docx", "bs4", "lxml.html", "tokenizers")
_START_TIMEOUT_S = 120.0  # a fresh interpreter importing the parsers: ~1 s, far more on a loaded machine
# Workers are started from this one long-lived thread: Linux sends a child its parent-death signal when the
# *thread* that started it ends, and the threads that call `FileReader.call` come and go with each ingest.
_launcher = ThreadPoolExecutor(max_workers=1, thread_name_prefix="latent-reader-launcher")
_shared: dict[int, FileReader] = {}
_shared_lock = threading.Lock()


def shared_reader(memory_mb: int | None) -> FileReader:
    """The process's reader (one per memory cap), started at its first call and kept for later ingests."""
    with _shared_lock:
        key = memory_mb or 0
        if not _shared:
            atexit.register(_close_shared)
        if key not in _shared:
            _shared[key] = FileReader(memory_mb)
        return _shared[key]


def _close_shared() -> None:
    for reader in _shared.values():
        reader.close()


class FileReader:
    """Runs `fn(*args)` in the worker with a time limit; `IngestError`s raised there come back as they are.

    `fn` travels by reference (module and name), so it must be a module-level function.
    """

    def __init__(self, memory_mb: int | None = None) -> None:
        self.memory_mb = memory_mb
        self.started = 0  # workers started so far (1 unless some file timed out or crashed one)
        self._process: subprocess.Popen[bytes] | None = None
        self._conn: Connection | None = None
        self._lock = threading.Lock()

    def __enter__(self) -> FileReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def call(self, timeout_s: float, fn: Callable[..., Any], *args: Any) -> Any:
        with self._lock:
            conn = self._ensure_started()
            conn.send((fn, args))
            if not conn.poll(timeout_s):
                self._stop()
                raise FileTimeoutError(f"took longer than {timeout_s:g} s to read; skipped")
            try:
                status, value = conn.recv()
            except (EOFError, OSError):  # the worker died on this file
                code = self._process.wait(5) if self._process else None
                self._stop()
                cause = f"damaged, or needs more than {self.memory_mb} MB" if self.memory_mb else "probably damaged"
                raise CorruptFileError(f"the reader crashed on this file ({_describe_exit(code)}); "
                                       f"it is {cause}") from None
        if status == "error":
            raise value
        return value

    def close(self) -> None:
        with self._lock:
            self._stop()

    def abort(self) -> None:
        """Kill the worker now, from any thread: a `call` waiting on it returns at once (Ctrl-C, shutdown)."""
        process = self._process
        if process is not None and process.poll() is None:
            process.kill()

    def _ensure_started(self) -> Connection:
        if self._conn is not None and self._process is not None and self._process.poll() is None:
            return self._conn
        self._stop()
        ours, theirs = socket.socketpair()
        with ours, theirs:
            env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p))
            command = [sys.executable, "-m", "ingest.worker", str(theirs.fileno()), str(self.memory_mb or 0)]
            self._process = _launcher.submit(subprocess.Popen, command, pass_fds=[theirs.fileno()],
                                             stdin=subprocess.DEVNULL, env=env).result()
            self._conn = Connection(os.dup(ours.fileno()))
        self.started += 1
        if not self._conn.poll(_START_TIMEOUT_S) or self._conn.recv() != "ready":
            self._stop()
            raise IngestError("the file reader process did not start")
        return self._conn

    def _stop(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None
        if self._process is not None:
            if self._process.poll() is None:
                self._process.kill()
            self._process.wait(10)
            self._process = None


def serve(fd: int, memory_mb: int) -> None:
    """The worker's loop: receive (fn, args), send back ("ok", result) or ("error", IngestError)."""
    _die_with_parent()
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle; it then stops us
    with contextlib.suppress(OSError):
        os.dup2(2, 1)  # whatever a parser prints goes to stderr: the parent's stdout may be carrying --json
    conn = Connection(fd)
    import importlib

    for module in _PRELOAD:  # before "ready": a file's time limit is spent reading it, not importing parsers
        with contextlib.suppress(ImportError):
            importlib.import_module(module)
    with contextlib.suppress(ImportError):
        import warnings

        from bs4 import MarkupResemblesLocatorWarning, XMLParsedAsHTMLWarning

        # bs4's advice about the parser when a damaged .html looks like XML or like a file name: about the
        # file, not something a user can act on, and it would be printed once per such file.
        warnings.filterwarnings("ignore", category=XMLParsedAsHTMLWarning)
        warnings.filterwarnings("ignore", category=MarkupResemblesLocatorWarning)

    if memory_mb:
        import resource

        limit = memory_mb * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    conn.send("ready")
    while True:
        try:
            fn, args = conn.recv()
        except (EOFError, OSError):
            return
        try:
            reply: tuple[str, Any] = ("ok", fn(*args))
        except IngestError as exc:
            reply = ("error", type(exc)(str(exc)))  # without its traceback and cause, which may not pickle
        except MemoryError:
            reply = ("error", IngestError(f"needs more than {memory_mb} MB of memory to read; skipped"))
        except Exception as exc:  # one bad file must never stop the worker
            reply = ("error", IngestError(f"could not be processed ({type(exc).__name__}: {exc})"))
        try:
            conn.send(reply)
        except (BrokenPipeError, OSError):
            return
        except Exception as exc:  # a result that does not pickle
            conn.send(("error", IngestError(f"could not be processed ({type(exc).__name__}: {exc})")))


def _die_with_parent() -> None:
    """Exit when the process that started us dies, even by SIGKILL, so no reader is ever left behind."""
    parent = os.getppid()
    if sys.platform.startswith("linux"):
        import ctypes

        pr_set_pdeathsig = 1
        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGKILL)
        if os.getppid() != parent:  # it died before the call above took effect
            os._exit(1)

    def watch() -> None:  # elsewhere, and as a second line on Linux
        while os.getppid() == parent:
            time.sleep(0.5)
        os._exit(1)

    threading.Thread(target=watch, daemon=True, name="parent-watch").start()


def _describe_exit(code: int | None) -> str:
    if code is not None and code < 0:
        try:
            return signal.Signals(-code).name
        except ValueError:
            return f"signal {-code}"
    return f"exit status {code}"


if __name__ == "__main__":
    serve(int(sys.argv[1]), int(sys.argv[2]))
