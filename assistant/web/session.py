"""What the page does, apart from how it looks: answering with filters and history, the first run's sample
ingest, uploads into the index folder, removal, and the feedback log. No Gradio here, so all of it is testable
as plain Python."""

from __future__ import annotations

import atexit
import contextlib
import json
import queue
import re
import shutil
import tempfile
import threading
import time
import unicodedata
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from assistant.records import Answer
from assistant.web.cards import KIND_LABELS
from vectorstore.records import KINDS, DocumentInfo, IngestReport, SearchFilters

if TYPE_CHECKING:
    from vectorstore.index import Index

# What the upload control offers; the ingest itself is the judge (an unsupported file fails with its reason).
UPLOAD_TYPES = (".pdf", ".docx", ".html", ".htm", ".md", ".markdown", ".txt")
UPLOAD_LIMIT_MB = 50.0  # a 200-page review is ~5 MB; anything far larger is a scan or a mistake
ANY_YEAR = "Any"


def data_folder(index: Index) -> Path:
    """Where the page keeps uploads and feedback: the index folder (or, for a Chroma server, the default one)."""
    return Path(index.path or index.settings.index).expanduser()


# -- the page's shared state -----------------------------------------------------------------------------------
class PageContext:
    """What every browser session of one page shares: the index, its folder's uploads and feedback log, the
    first run, and the configured model (none: extractive answers)."""

    def __init__(self, index: Index, llm_spec: str | None = None, base_url: str | None = None,
                 upload_limit_mb: float = UPLOAD_LIMIT_MB) -> None:
        self.index = index
        self.llm_spec = llm_spec
        self.base_url = base_url
        self.upload_limit_mb = upload_limit_mb
        folder = data_folder(index)
        self.uploads = folder / "uploads"
        self.feedback = FeedbackLog(folder / "feedback.jsonl")
        self.first_run = FirstRun()
        self.export_dir = Path(tempfile.mkdtemp(prefix="latent-export-"))
        atexit.register(shutil.rmtree, self.export_dir, True)
        self._llm: Any = None
        self._llm_lock = threading.Lock()

    def endpoint(self) -> str | None:
        """Where the model runs: the configured URL, Ollama's local default, or None (OpenAI's own API)."""
        if self.base_url:
            return self.base_url
        return "http://127.0.0.1:11434" if (self.llm_spec or "").startswith("ollama:") else None

    def privacy_notice(self) -> tuple[bool, str]:
        """(leaves the machine?, what the page says about it)."""
        if not self.llm_spec:
            return False, ("Private: everything runs on this machine. Answers are quoted from your documents; "
                           "nothing is sent anywhere.")
        from assistant.llm_answer import remote_notice

        notice = remote_notice(self.endpoint())
        if notice:
            return True, notice
        return False, f"Private: answers are written by {self.llm_spec} running on this machine; nothing leaves it."

    def chat_model(self) -> Any:
        if not self.llm_spec:
            return None
        with self._llm_lock:
            if self._llm is None:
                from assistant.llm_answer import chat_model

                self._llm = chat_model(self.llm_spec, self.base_url, streaming=True)
            return self._llm

    def answer(self, question: str, answers: Sequence[Answer] = (), filters: SearchFilters | None = None,
               on_token: Callable[[str], None] | None = None, history: Any = None) -> Answer:
        """`ask`, once the first run's samples are in."""
        from assistant.answer import ask

        self.first_run.wait()
        return ask(self.index, question, history=history if history is not None else history_of(answers),
                   filters=filters, llm=self.chat_model(), on_token=on_token)


# -- answering -------------------------------------------------------------------------------------------------
def stream_answer(ctx: PageContext, q: str, past: list[Answer], filters: SearchFilters | None,
                  ) -> Iterator[tuple[str, Answer | None]]:
    """(text so far, None) while the model writes, then ('', the verified Answer)."""
    tokens: queue.Queue[str | None] = queue.Queue()
    result: dict[str, Any] = {}

    def work() -> None:
        try:
            result["answer"] = ctx.answer(q, past, filters, on_token=tokens.put)
        except Exception as exc:
            result["error"] = exc
        finally:
            tokens.put(None)

    threading.Thread(target=work, name="latent-answer", daemon=True).start()
    text = ""
    while (token := tokens.get()) is not None:
        text += token
        yield text, None
    if "error" in result:
        raise result["error"]
    yield "", result["answer"]


def history_of(answers: Sequence[Answer]) -> list[dict[str, str]]:
    """Earlier turns as chat messages, for `ask` to make a follow-up standalone."""
    out: list[dict[str, str]] = []
    for a in answers:
        out += [{"role": "user", "content": a.question}, {"role": "assistant", "content": a.text}]
    return out


@dataclass(frozen=True)
class FilterChoices:
    """What the filter controls offer, from the documents in the index."""

    kinds: list[tuple[str, str]]
    councils: list[str]
    documents: list[tuple[str, str]]
    years: list[str]


def filter_choices(docs: Sequence[DocumentInfo]) -> FilterChoices:
    kinds = [(KIND_LABELS.get(k, k), k) for k in KINDS if any(d.kind == k for d in docs)]
    councils = sorted({d.council for d in docs if d.council}, key=str.lower)
    documents = [(d.title if len(d.title) <= 80 else d.title[:77] + "…", d.id) for d in docs]
    years = sorted({d.published[:4] for d in docs if d.published and d.published[:4].isdigit()})
    return FilterChoices(kinds, councils, documents, [ANY_YEAR, *years])


# -- ingest with progress --------------------------------------------------------------------------------------
def ingest_with_events(index: Index, paths: Sequence[Path], also: Callable[[str, dict[str, Any]], None] | None
                       = None) -> Iterator[tuple[str, dict[str, Any]]]:
    """Run `ingest_paths` in a thread and yield its progress events as they happen, then ('done', {'report'})."""
    from ingest import ingest_paths

    events: queue.Queue[tuple[str, dict[str, Any]]] = queue.Queue()

    def progress(event: str, data: dict[str, Any]) -> None:
        if also:
            also(event, data)
        events.put((event, data))

    def work() -> None:
        try:
            report = ingest_paths(index, list(paths), progress=progress)
            events.put(("done", {"report": report}))
        except Exception as exc:  # the page reports it; the server keeps running
            events.put(("error", {"reason": f"{type(exc).__name__}: {exc}"}))

    threading.Thread(target=work, name="latent-ingest", daemon=True).start()
    while True:
        event, data = events.get()
        yield event, data
        if event in ("done", "error"):
            return


@dataclass
class IngestStatus:
    """Progress of one ingest as lines people read ('Added review-child-r.pdf (134 passages)')."""

    total: int = 0
    done: int = 0
    lines: list[str] = field(default_factory=list)
    report: IngestReport | None = None
    error: str | None = None

    def update(self, event: str, data: dict[str, Any]) -> None:
        name = Path(str(data.get("file", ""))).name
        if event == "files":
            self.total = int(data["total"])
        elif event == "stored":
            self.done += 1
            self.lines.append(f"Added {name} ({data['passages']} passages)")
        elif event == "unchanged":
            self.done += 1
            self.lines.append(f"Already in the index, unchanged: {name}")
        elif event == "failed":
            self.done += 1
            self.lines.append(f"Could not add {name}: {data['reason']}")
        elif event == "done":
            self.report = data["report"]
        elif event == "error":
            self.error = str(data["reason"])

    def markdown(self, title: str) -> str:
        head = f"**{title}: {self.done} of {self.total} files**" if self.total else f"**{title}…**"
        if self.error:
            head = f"**{title} stopped: {self.error}**"
        elif self.report is not None:
            r = self.report
            head = (f"**{title} finished: {len(r.added)} added, {len(r.updated)} updated, {len(r.unchanged)} "
                    f"unchanged, {len(r.failed)} failed.**")
        lines = self.lines
        if self.report is not None and not self.error:  # done: one line, and only what went wrong under it
            lines = [line for line in lines if line.startswith(("Could not", "Refused"))]
        return "\n".join([head, "", *(f"- {_md_text(line)}" for line in lines)]) if lines else head


def _md_text(text: str) -> str:
    """A file name or reason inside Markdown: shown literally (no markup, no raw HTML)."""
    from assistant.web.cards import text_html

    return text_html(text)


class FirstRun:
    """An empty index gets the bundled samples in the background, so the page is up at once and shows the
    progress; questions wait for it to finish."""

    def __init__(self) -> None:
        self.status = IngestStatus()
        self.finished = threading.Event()
        self.finished.set()

    @property
    def running(self) -> bool:
        return not self.finished.is_set()

    def start(self, index: Index, folder: Path, terminal: Callable[[str, dict[str, Any]], None] | None = None) -> bool:
        if index.documents() or not folder.is_dir():
            return False
        self.finished.clear()

        def work() -> None:
            closing: Any = terminal if hasattr(terminal, "__exit__") else contextlib.nullcontext()
            try:
                with closing:  # an IngestProgress closes its terminal bar
                    for event, data in ingest_with_events(index, [folder], terminal):
                        self.status.update(event, data)
            finally:
                self.finished.set()

        threading.Thread(target=work, name="latent-first-run", daemon=True).start()
        return True

    def wait(self, timeout: float | None = None) -> bool:
        return self.finished.wait(timeout)

    def markdown(self) -> str:
        return self.status.markdown("Adding the sample documents") if self.status.total or self.running else ""


# -- uploads and removal ---------------------------------------------------------------------------------------
def safe_upload_name(name: str) -> str:
    """A file name that can only ever mean a file directly inside the uploads folder: the last path component,
    accents folded, anything but letters, digits, '.', '-' and '_' replaced, no leading dot, at most 100
    characters. '../../etc/passwd' → 'passwd'; 'Child R (final).PDF' → 'Child-R-final.pdf'."""
    base = re.split(r"[\\/]", name)[-1]
    base = unicodedata.normalize("NFKD", base).encode("ascii", "ignore").decode()
    stem, dot, suffix = base.rpartition(".")
    if not dot:
        stem, suffix = base, ""
    stem = re.sub(r"[^A-Za-z0-9_-]+", "-", stem).strip("-_.")[:90] or "document"
    suffix = re.sub(r"[^a-z0-9]", "", suffix.lower())[:10]
    return f"{stem}.{suffix}" if suffix else stem


def save_uploads(files: Sequence[str | Path], uploads: Path, limit_mb: float = UPLOAD_LIMIT_MB
                 ) -> tuple[list[Path], list[str]]:
    """Copy uploaded files into `uploads` under sanitised names; files over the limit are refused with a message.
    A second upload under the same name replaces the first (a revised draft): ingest then updates it."""
    uploads.mkdir(parents=True, exist_ok=True)
    root = uploads.resolve()
    saved: list[Path] = []
    refused: list[str] = []
    for f in files:
        src = Path(f)
        name = safe_upload_name(src.name)
        size = src.stat().st_size
        if size > limit_mb * 1024 * 1024:
            refused.append(f"{src.name}: {size / 1048576:.1f} MB is over the upload limit of {limit_mb:g} MB")
            continue
        dest = (root / name).resolve()
        if dest.parent != root:  # cannot happen after safe_upload_name; checked anyway
            refused.append(f"{src.name}: not a usable file name")
            continue
        shutil.copyfile(src, dest)
        saved.append(dest)
    return saved, refused


def discard_failed_uploads(index: Index, saved: Sequence[Path], report: IngestReport | None) -> list[Path]:
    """Delete the uploaded copies that did not become documents (a failed file, or all of them when the ingest
    stopped): a failed upload keeps nothing. A copy that a stored document still reads (an earlier upload of the
    same name) is kept."""
    stored = {str(Path(d.source).resolve()) for d in index.documents()}
    failed = {str(Path(f.file).resolve()) for f in report.failed} if report is not None else None
    gone = []
    for path in saved:
        key = str(path.resolve())
        if (failed is None or key in failed) and key not in stored and path.exists():
            path.unlink()
            gone.append(path)
    return gone


def remove_document(index: Index, doc_id: str, uploads: Path) -> tuple[DocumentInfo, bool]:
    """Remove a document from the index; when it was uploaded through the page, delete its copy too (files the
    user ingested from elsewhere are never touched)."""
    doc = index.remove(doc_id)
    source = Path(doc.source)
    try:
        inside = source.resolve().parent == uploads.resolve()
    except OSError:
        inside = False
    if inside and source.is_file():
        source.unlink()
        return doc, True
    return doc, False


# -- feedback --------------------------------------------------------------------------------------------------
_VERDICTS = {"Like": "up", "Dislike": "down", "Wrong citation": "wrong_citation"}


def verdict_of(liked: bool | str | None) -> str:
    """Gradio's like data as a verdict: True/'Like' → up, False/'Dislike' → down, 'Wrong citation' →
    wrong_citation, anything else slugged."""
    if liked is True:
        return "up"
    if liked is False:
        return "down"
    if not liked:
        return "withdrawn"
    return _VERDICTS.get(str(liked), re.sub(r"[^a-z0-9]+", "_", str(liked).lower()).strip("_"))


class FeedbackLog:
    """Feedback on answers, one JSON object a line in `<index folder>/feedback.jsonl`."""

    REPEAT_SECONDS = 2.0

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._last: tuple[tuple[str, str, str], float] | None = None

    def record(self, answer: Answer, verdict: str) -> dict[str, Any] | None:
        """Append one verdict; the same verdict on the same answer again within two seconds is one click that
        Gradio 6 reports twice (its feedback menu fires the like event for the option and for the menu)."""
        row = {"time": datetime.now(UTC).isoformat(timespec="seconds"), "question": answer.question,
               "answer": answer.text, "citations": [c.hit.id for c in answer.citations], "refused": answer.refused,
               "mode": answer.mode, "verdict": verdict}
        key, now = (answer.question, answer.text, verdict), time.monotonic()
        with self._lock:
            if self._last and self._last[0] == key and now - self._last[1] < self.REPEAT_SECONDS:
                return None
            self._last = (key, now)
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with open(self.path, "a", encoding="utf-8") as fh:
                fh.write(json.dumps(row, ensure_ascii=False) + "\n")
        return row

    def count(self) -> int:
        if not self.path.is_file():
            return 0
        with open(self.path, encoding="utf-8") as fh:
            return sum(1 for line in fh if line.strip())

    def clear(self) -> int:
        with self._lock:
            n = self.count()
            self.path.unlink(missing_ok=True)
            return n
