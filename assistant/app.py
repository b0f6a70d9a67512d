"""The web page (Gradio). Until the answers issue lands it shows cited passages for a question.

Privacy defaults are set here, not inherited: analytics off, Hugging Face offline, 127.0.0.1, no share link.
"""

from __future__ import annotations

import html
import os
import threading
from typing import Any

from assistant.commands import samples_dir

PRIVACY_ENV = {"GRADIO_ANALYTICS_ENABLED": "False", "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1",
               "HF_HUB_DISABLE_TELEMETRY": "1", "ANONYMIZED_TELEMETRY": "False"}


def set_privacy_environment() -> None:
    for key, value in PRIVACY_ENV.items():
        os.environ[key] = value


def render_hits(hits: list[Any]) -> str:
    """Source cards as HTML; every piece of document text is escaped, so a passage can never run as code."""
    if not hits:
        return "<p>No passages found. Try other words, or add documents.</p>"
    cards = []
    for n, h in enumerate(hits, start=1):
        d, p = h.document, h.passage
        where = f"page {p.page}" + (f", paragraph {html.escape(p.paragraph)}" if p.paragraph else "")
        meta = " · ".join(html.escape(x) for x in (d.kind.replace("_", " "), d.council or "", d.published or "")
                          if x)
        cards.append(f'<article class="source-card" id="source-{n}"><h3>[{n}] {html.escape(d.title)}</h3>'
                     f'<p class="meta">{meta} — {where}</p>'
                     f'<blockquote>{html.escape(p.text)}</blockquote></article>')
    return "\n".join(cards)


def build_app(index: Any) -> Any:
    import gradio as gr

    def search(question: str) -> str:
        question = (question or "").strip()
        if not question:
            return "<p>Type a question.</p>"
        return render_hits(index.search(question, k=5))

    with gr.Blocks(title="Latent") as app:
        gr.Markdown("# Latent\nFind and cite the latent conditions in safeguarding case reviews. "
                    "Everything runs on this machine.")
        question = gr.Textbox(label="Question", placeholder="What latent conditions preceded Child R's death?")
        ask = gr.Button("Search", variant="primary")
        results = gr.HTML(label="Cited passages")
        ask.click(search, question, results, api_name="search")
        question.submit(search, question, results)
    return app


def ensure_samples(index: Any) -> None:
    """First run: an empty index gets the bundled sample documents."""
    if index.documents():
        return
    docs = samples_dir()
    if docs.is_dir() and any(docs.iterdir()):
        from assistant.progress import IngestProgress
        from ingest import ingest_paths

        with IngestProgress() as progress:
            ingest_paths(index, [docs], progress=progress)


def launch(index: Any, host: str = "127.0.0.1", port: int = 7860, auth: str | None = None,
           samples: bool = False) -> None:
    set_privacy_environment()
    if samples:
        ensure_samples(index)
    threading.Thread(target=index.embedder.encode_query, args=("warm up",), daemon=True).start()
    app = build_app(index)
    credentials = tuple(auth.split(":", 1)) if auth else None
    app.queue(default_concurrency_limit=4).launch(server_name=host, server_port=port, share=False,
                                                  auth=credentials, show_error=True)
