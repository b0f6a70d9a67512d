"""The web page: `latent chat` starts it (`launch`), tests and benchmarks start it in-process (`start_page`).

Privacy defaults are set here, not inherited from whoever started the process: Gradio analytics off, Hugging
Face and Chroma telemetry off and offline, bound to 127.0.0.1, never a share link, fonts from this machine only,
and a visible notice when the configured model is elsewhere. The page itself is in `assistant.web`.
"""

from __future__ import annotations

import os
import sys
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from assistant.web.session import PageContext
    from vectorstore.index import Index

PRIVACY_ENV = {"GRADIO_ANALYTICS_ENABLED": "False", "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1",
               "HF_HUB_DISABLE_TELEMETRY": "1", "ANONYMIZED_TELEMETRY": "False", "HF_DATASETS_OFFLINE": "1",
               "DO_NOT_TRACK": "1"}
_LOOPBACK = ("127.0.0.1", "localhost", "::1")
SAMPLES_DIR = Path(__file__).resolve().parent / "samples" / "docs"  # what the first run ingests


def set_privacy_environment() -> None:
    """Before Gradio (and huggingface_hub, which reads these once, at import) is imported."""
    for key, value in PRIVACY_ENV.items():
        os.environ[key] = value


def parse_auth(auth: str | None) -> tuple[str, str] | None:
    """'user:password' → ('user', 'password'); the password may itself contain ':'."""
    if not auth:
        return None
    user, sep, password = auth.partition(":")
    if not sep or not user or not password:
        raise ValueError("--auth (or LATENT_AUTH) must be USER:PASSWORD")
    return user, password


def build_app(index: Index, llm_spec: str | None = None, base_url: str | None = None) -> tuple[Any, PageContext]:
    """The Gradio Blocks and the state its sessions share (nothing starts: see `start_background_work`)."""
    set_privacy_environment()
    from assistant.web.page import build_page  # imports Gradio: after the privacy variables are set
    from assistant.web.session import PageContext

    if llm_spec is None and base_url is None:
        llm = index.settings.llm
        llm_spec, base_url = llm.spec, llm.base_url
    ctx = PageContext(index, llm_spec, base_url)
    return build_page(ctx), ctx


def start_background_work(index: Index, ctx: PageContext, samples: bool) -> None:
    """Started once the server answers: the first run's ingest of the bundled samples (`samples`, an empty index),
    else loading the model and the search cache. Not alongside Gradio's import (measured on 2 busy cores: the page
    ~4 s and the first answer ~2 s later) nor before the server's first reply: Gradio's launch gives up when a HEAD
    request to the page takes 3 s, and loading the cache of 559,000 passages on a loaded machine held the GIL that
    long ("When localhost is not accessible, a shareable link must be created")."""
    from assistant.progress import IngestProgress

    started = samples and ctx.first_run.start(index, SAMPLES_DIR, terminal=IngestProgress())
    if not started:
        threading.Thread(target=_warm_up, args=(index,), name="latent-warm-up", daemon=True).start()


def _warm_up(index: Index) -> None:
    """Load the model and the search cache before the first question, not during it."""
    try:
        index.search_with_info("warm up", 1)
    except Exception as exc:  # a broken index shows its error on the first question instead
        print(f"latent: warm-up failed: {exc}", file=sys.stderr)


@dataclass
class RunningPage:
    """A page being served (from `start_page`); `close()` stops it."""

    blocks: Any
    app: Any
    url: str
    context: PageContext

    def close(self) -> None:
        # Gradio's close() sets its asyncio stop event from this thread, while the server's loop may be adding a
        # heartbeat's waiter to it: "RuntimeError: deque mutated during iteration" (a CI run failed so). Set it on
        # the loop that waits on it; Gradio's own set() then finds it set and does nothing.
        event = self.blocks.app.stop_event
        loop = getattr(event, "_loop", None)  # bound by the first wait; None means nothing waits on it yet
        if loop is not None and loop.is_running() and not event.is_set():
            done = threading.Event()

            def set_on_loop() -> None:
                event.set()
                done.set()

            loop.call_soon_threadsafe(set_on_loop)
            done.wait(timeout=5)
        self.blocks.close()


def start_page(index: Index, host: str = "127.0.0.1", port: int | None = 7860, auth: str | None = None,
               samples: bool = False, llm_spec: str | None = None, base_url: str | None = None,
               quiet: bool = True) -> RunningPage:
    """Build and serve the page without blocking; the document routes are added to Gradio's own server."""
    from assistant.web.routes import add_document_routes
    from assistant.web.style import CSS, PAGE_JS, page_theme

    credentials = parse_auth(auth)
    blocks, ctx = build_app(index, llm_spec, base_url)
    blocks.queue(default_concurrency_limit=4)
    app, url, _ = blocks.launch(
        server_name=host, server_port=port, share=False, auth=credentials, show_error=True,
        auth_message="Latent: log in to read the documents in this index.", prevent_thread_lock=True,
        quiet=quiet, ssr_mode=False, pwa=False, mcp_server=False, enable_monitoring=False,
        footer_links=["api", "settings"], theme=page_theme(), css=CSS, js=PAGE_JS,
        max_file_size=f"{ctx.upload_limit_mb:g}mb")
    add_document_routes(app, index)
    start_background_work(index, ctx, samples)
    return RunningPage(blocks, app, url, ctx)


def launch(index: Index, host: str = "127.0.0.1", port: int = 7860, auth: str | None = None,
           samples: bool = False, llm_spec: str | None = None, base_url: str | None = None) -> None:
    """`latent chat`: serve the page until interrupted."""
    running = start_page(index, host, port, auth, samples, llm_spec, base_url)
    where = "on this machine only" if host in _LOOPBACK else "reachable from other machines"
    print(f"Latent is running at {running.url} ({where}; Ctrl+C stops it)", file=sys.stderr)
    if host not in _LOOPBACK and not auth:
        print("latent: warning: the page is reachable from the network without a login; consider --auth",
              file=sys.stderr)
    remote, notice = running.context.privacy_notice()
    if remote:
        print(f"latent: {notice}", file=sys.stderr)
    running.blocks.block_thread()
