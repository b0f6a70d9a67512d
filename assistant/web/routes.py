"""Ingested files, served by the page's own server so a citation can open its document at the page.

`/doc/{doc_id}` looks the id up among the stored documents and serves that document's file: a path is never
taken from the URL, and a file that is not in the index cannot be reached. PDFs are sent as they are (the
browser opens them at `#page=N`); any other format redirects to `/doc/{doc_id}/text`, the stored passages as
escaped text, each with the id `passage-<passage id>` to scroll to. An ingested HTML file is never served as
HTML: its scripts would run in the page's origin. With a login configured, these routes require it too.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from fastapi import Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response

from assistant.web.cards import KIND_LABELS, attr, long_date, text_html

if TYPE_CHECKING:
    from vectorstore.index import Index

_TEXT_CSS = """body{font:16px/1.55 system-ui,sans-serif;max-width:48rem;margin:1.5rem auto;padding:0 1rem;color:#1b1b1b;
background:#fff}h1{font-size:1.4rem}h2{font-size:1.05rem;margin-top:1.6rem;color:#333}.meta{color:#444}
.passage{padding:.4rem .7rem;margin:.5rem 0;border-left:3px solid #ccc}.where{font-size:.85rem;color:#444;margin:0}
.passage:target{border-left-color:#b45309;background:#fff7d6;outline:2px solid #b45309}
@media (prefers-color-scheme:dark){body{background:#111;color:#eee}.meta,.where,h2{color:#ccc}
.passage:target{background:#3b2f0a}}"""
# The text view holds only our markup and escaped text; this policy makes sure nothing else could run in it.
_TEXT_HEADERS = {"Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; img-src 'none'",
                 "X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer"}


def logged_in(app: Any, request: Any) -> bool:
    """The same test Gradio applies to its own routes: no login configured, or a valid session cookie."""
    if getattr(app, "auth", None) is None and getattr(app, "auth_dependency", None) is None:
        return True
    if app.auth_dependency is not None:
        return app.auth_dependency(request) is not None
    cookie_id = getattr(app, "cookie_id", "")
    token = request.cookies.get(f"access-token-{cookie_id}") or request.cookies.get(
        f"access-token-unsecure-{cookie_id}")
    return token is not None and token in app.tokens


def text_view(index: Index, doc_id: str) -> str | None:
    """A document's stored passages as one escaped HTML page, in reading order; None for an unknown id."""
    doc = index.document_info(doc_id)
    if doc is None:
        return None
    meta = " · ".join(text_html(x) for x in (KIND_LABELS.get(doc.kind, doc.kind), doc.council or "",
                                               long_date(doc.published)) if x)
    parts: list[str] = []
    page = None
    for p in index.passages(doc_id):
        if p.page != page:
            page = p.page
            parts.append(f"<h2>Page {p.page}</h2>")
        label = f"page {p.page}" + (f", paragraph {p.paragraph}" if p.paragraph else "") + (
            f" — {p.section}" if p.section else "")
        parts.append(f'<section class="passage" id="passage-{attr(p.id)}"><p class="where">{text_html(label)}</p>'
                     f"<p>{text_html(p.text)}</p></section>")
    return ('<!doctype html><html lang="en"><head><meta charset="utf-8">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{text_html(doc.title)}</title><style>{_TEXT_CSS}</style></head><body>"
            f'<h1>{text_html(doc.title)}</h1><p class="meta">{meta}</p>'
            f'<p class="meta">The text as Latent stored it, passage by passage. File: '
            f"{text_html(Path(doc.source).name)}</p>{''.join(parts)}</body></html>")


def add_document_routes(app: Any, index: Index) -> None:
    """Add the document routes to Gradio's FastAPI app (this module is imported only when the page starts)."""
    def refused() -> Response:
        return Response("Not authenticated: log in to the page first.", status_code=401, media_type="text/plain")

    def not_found(reason: str) -> Response:
        return Response(reason, status_code=404, media_type="text/plain")

    async def open_document(doc_id: str, request: Request) -> Response:
        if not logged_in(app, request):
            return refused()
        doc = index.document_info(doc_id)
        if doc is None:
            return not_found("No document with this id is in the index.")
        if not doc.source.lower().endswith(".pdf"):
            return RedirectResponse(f"{quote(doc_id, safe='')}/text", status_code=307)
        path = Path(doc.source)
        if not path.is_file():
            return not_found(f"The file of '{doc.title}' is no longer where it was ingested from; "
                             f"its text is at /doc/{doc_id}/text.")
        return FileResponse(path, media_type="application/pdf", filename=path.name, content_disposition_type="inline",
                            headers={"X-Content-Type-Options": "nosniff"})

    async def document_text(doc_id: str, request: Request) -> Response:
        if not logged_in(app, request):
            return refused()
        page = text_view(index, doc_id)
        if page is None:
            return not_found("No document with this id is in the index.")
        return HTMLResponse(page, headers=_TEXT_HEADERS)

    app.add_api_route("/doc/{doc_id}/text", document_text, methods=["GET"], include_in_schema=False)
    app.add_api_route("/doc/{doc_id}", open_document, methods=["GET"], include_in_schema=False)
