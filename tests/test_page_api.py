"""The page's server, for real: the named `ask` endpoint through `gradio_client` (the `latent ask --json` object,
exactly), the document routes, and the login (unauthenticated requests to the page, the API and the documents
are refused). The page runs in this process on a free 127.0.0.1 port over a copy of the sample index."""

from __future__ import annotations

import contextlib
import json
import socket
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from assistant.evaluation.replies import CITATION_KEYS, HIT_KEYS

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "assistant" / "samples"
LATENT = str(Path(sys.executable).with_name("latent"))
AUTH = ("trainer", "correct horse:battery")


@pytest.fixture
def loopback_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any name lookup beyond this machine fails the test (gradio_client must not reach the Hugging Face hub)."""
    real = socket.getaddrinfo

    def guarded(host: Any, *args: Any, **kwargs: Any) -> Any:
        if host not in ("127.0.0.1", "localhost", "::1", b"127.0.0.1", None):
            raise AssertionError(f"network lookup of {host!r}")
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", guarded)


@pytest.fixture(scope="module")
def index(sample_index_copy: Callable[[str], Path]) -> Any:
    from vectorstore import open_index

    return open_index(sample_index_copy("page-api"))


def close_idle_event_loops() -> None:
    """Gradio makes a new asyncio loop in the calling thread whenever it needs a lock (`utils.safe_get_lock`) and
    never closes it. Left to the garbage collector, each such loop warns as it goes, at a random moment; under
    pytest, formatting that warning can run `ast.parse` inside another `ast.parse`, which CPython 3.11 reports as
    "SystemError: AST constructor recursion depth mismatch" in whatever test is running. So close them here."""
    import asyncio
    import gc

    for obj in gc.get_objects():
        if issubclass(type(obj), asyncio.AbstractEventLoop) and not obj.is_running() and not obj.is_closed():
            with contextlib.suppress(ValueError, RuntimeError, OSError):  # one half torn down by its owner
                obj.close()
    asyncio.set_event_loop(None)
    gc.collect()


def serve(index: Any, port: int, auth: str | None = None) -> Iterator[Any]:
    from assistant.app import start_page

    running = start_page(index, port=port, auth=auth, llm_spec="", base_url="")  # no model, whatever the env
    close_idle_event_loops()
    yield running
    running.close()
    close_idle_event_loops()


@pytest.fixture(scope="module")
def page(index: Any, free_port: Callable[[], int]) -> Iterator[Any]:
    yield from serve(index, free_port())


@pytest.fixture(scope="module")
def locked_page(index: Any, free_port: Callable[[], int]) -> Iterator[Any]:
    yield from serve(index, free_port(), ":".join(AUTH))


def test_the_page_binds_loopback_and_has_only_the_ask_endpoint(page: Any, loopback_only: None) -> None:
    from gradio_client import Client

    assert page.url.startswith("http://127.0.0.1:")
    api = Client(page.url, verbose=False, download_files=False).view_api(print_info=False, return_format="dict")
    assert list(api["named_endpoints"]) == ["/ask"] and not api["unnamed_endpoints"]
    params = api["named_endpoints"]["/ask"]["parameters"]
    assert params[0]["parameter_name"] == "question" and not params[0]["parameter_has_default"]
    assert all(p["parameter_has_default"] for p in params[1:])


def test_ask_returns_the_cli_json_object(page: Any, index: Any, loopback_only: None) -> None:
    from gradio_client import Client

    from assistant import ask

    client = Client(page.url, verbose=False, download_files=False)
    question = "How many children was each social worker in Wenmarsh responsible for at the 2017 focused visit?"
    got = client.predict(question, api_name="/ask")
    assert got == ask(index, question).to_json()  # the same object as `latent ask --json`
    assert {"question", "answer", "refused", "citations"} <= set(got) and got["refused"] is False
    assert all(set(c) >= CITATION_KEYS for c in got["citations"])
    assert [c["n"] for c in got["citations"]] == list(range(1, len(got["citations"]) + 1))
    assert any(Path(c["source"]).name == "focused-visit-wenmarsh-2017.html" for c in got["citations"])
    assert "30 and 50 children" in got["answer"]


def test_ask_takes_filters_and_history(page: Any, loopback_only: None) -> None:
    from gradio_client import Client

    client = Client(page.url, verbose=False, download_files=False)
    got = client.predict("What did Ofsted find about caseloads?", ["focused_visit"], api_name="/ask")
    assert got["citations"] and {c["kind"] for c in got["citations"]} == {"focused_visit"}
    first = "What did the review say about information sharing by health?"
    follow = client.predict("and what about the police?", history=[
        {"role": "user", "content": first}, {"role": "assistant", "content": "…"}], api_name="/ask")
    assert follow["question"] == "and what about the police?" and "police" in follow["standalone_question"]


def test_a_refusal_is_an_answer_with_the_nearest_passages(page: Any, loopback_only: None) -> None:
    from gradio_client import Client

    from prompts import REFUSAL

    got = Client(page.url, verbose=False, download_files=False).predict(
        "What latent conditions preceded Child Z's death?", api_name="/ask")
    assert got["refused"] is True and got["answer"].startswith(REFUSAL) and got["citations"] == []
    assert got["nearest"] and all(set(h) >= HIT_KEYS for h in got["nearest"])


def test_documents_are_served_by_id_only(page: Any, index: Any) -> None:
    docs = {Path(d.source).name: d for d in index.documents()}
    pdf, html = docs["review-child-r.pdf"], docs["focused-visit-wenmarsh-2017.html"]
    with httpx.Client(base_url=page.url, timeout=30) as http:
        got = http.get(f"/doc/{pdf.id}")
        assert got.status_code == 200 and got.headers["content-type"] == "application/pdf"
        assert got.content.startswith(b"%PDF") and "inline" in got.headers["content-disposition"]
        moved = http.get(f"/doc/{html.id}")  # an HTML file is never served as HTML: its text view instead
        assert moved.status_code == 307 and moved.headers["location"].endswith(f"{html.id}/text")
        text = http.get(f"/doc/{html.id}/text")
        assert text.status_code == 200 and "default-src 'none'" in text.headers["content-security-policy"]
        first = index.passages(html.id)[0]
        assert f'id="passage-{first.id}"' in text.text
        for bad in ("/doc/no-such-document", "/doc/..%2F..%2Fetc%2Fpasswd", "/doc/%2Fetc%2Fpasswd/text"):
            assert http.get(bad).status_code == 404, bad


def test_with_a_login_nothing_is_served_without_it(locked_page: Any, index: Any, loopback_only: None) -> None:
    from gradio_client import Client

    doc = index.documents()[0]
    with httpx.Client(base_url=locked_page.url, timeout=30) as http:
        home = http.get("/")
        assert home.status_code in (200, 401) and doc.title not in home.text and '"auth_required":true' in \
            home.text.replace(" ", "")
        for path in ("/config", "/gradio_api/info", f"/doc/{doc.id}", f"/doc/{doc.id}/text"):
            assert http.get(path).status_code in (401, 403), path
        call = http.post("/gradio_api/call/ask", json={"data": ["What went wrong?"]})
        assert call.status_code in (401, 403)
        assert http.post("/login", data={"username": AUTH[0], "password": "wrong"}).status_code in (400, 401)
        login = http.post("/login", data={"username": AUTH[0], "password": AUTH[1]})
        assert login.status_code == 200
        assert http.get(f"/doc/{doc.id}/text").status_code == 200 and http.get("/config").status_code == 200
    with pytest.raises(Exception):  # noqa: B017 - gradio_client raises different errors by version
        Client(locked_page.url, verbose=False, download_files=False).predict("What went wrong?", api_name="/ask")
    got = Client(locked_page.url, auth=AUTH, verbose=False, download_files=False).predict(
        "What latent conditions preceded Child R's death?", api_name="/ask")
    assert got["citations"] and not got["refused"]


def test_an_llm_answer_streams_then_arrives_verified(index: Any) -> None:
    """LLM mode on the page: tokens are shown as they come (escaped), then the verified answer replaces them."""
    from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
    from langchain_core.messages import AIMessage

    from assistant.web import cards
    from assistant.web.session import PageContext, stream_answer

    hit = index.search("caseloads of social workers in Wenmarsh", k=1)[0]
    sentence = next(s.strip() + "." for s in hit.text.split(".") if len(s.split()) > 8)
    ctx = PageContext(index, "openai:scripted", "http://127.0.0.1:9/v1")
    ctx._llm = GenericFakeChatModel(messages=iter([AIMessage(content=f"{sentence} [1] <b>bold</b>")]))
    steps = list(stream_answer(ctx, "caseloads of social workers in Wenmarsh", [], None))
    partials, (_, answer) = [p for p, a in steps if a is None], steps[-1]
    assert len(partials) > 3 and partials[-1].startswith(sentence[:20])
    assert "<b>" not in cards.streaming_html(partials[-1])
    assert answer.mode == "llm" and answer.citations and not answer.refused
    assert 'href="#source-1"' in cards.answer_html(answer)


def test_the_first_run_ingests_in_the_background_and_questions_wait(tmp_path: Path) -> None:
    from assistant.web.session import PageContext
    from vectorstore import open_index

    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "note.md").write_text("# Duty team note\n\nThe duty team had forty open cases per worker in May 2024.\n")
    index = open_index(tmp_path / "index")
    ctx = PageContext(index, "", "")
    assert ctx.first_run.start(index, docs)
    answer = ctx.answer("How many open cases per worker did the duty team have?")  # waits for the ingest
    assert not ctx.first_run.running and ctx.first_run.status.report and ctx.first_run.status.report.added
    done = ctx.first_run.markdown()  # done: one line, the per-file lines folded away (nothing failed)
    assert "finished: 1 added" in done and "Added note.md" not in done and "\n" not in done
    assert "forty open cases" in answer.text and not ctx.first_run.start(index, docs)  # not empty any more


def child_r(index: Any) -> Any:
    return next(d for d in index.documents() if Path(d.source).name == "review-child-r.pdf")


def test_the_timeline_plots_child_rs_chronology_as_latent_timeline_gives_it(index: Any) -> None:
    """The Timeline tab's data is `latent timeline --json`'s, event for event; the plot marks each event and the
    death, and the table lists each event with its date and citation."""
    import re

    from assistant.web import timeline

    doc = child_r(index)
    cases = timeline.Chronologies(index)
    choices = dict((i, label) for label, i in cases.choices())
    assert doc.id in choices and {d.kind for d in index.documents() if d.id in choices} == {"review"}
    case = cases.case(doc.id)
    assert case is not None
    done = subprocess.run([LATENT, "timeline", "--json", "--index", str(index.path), doc.id], capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    cli = json.loads(done.stdout)
    assert case.to_json() == cli and len(cli["events"]) > 30 and cli["incident_date"] == "2018-03-14"

    svg = timeline.plot_html(case, "agency")
    assert svg.count('<a class="event"') == len(case.events)  # one marker per event, one row per agency
    assert {int(n) for n in re.findall(r'data-event="(\d+)"', svg)} == set(range(len(case.events)))
    assert "Death: 14 March 2018" in svg and '<g class="incident">' in svg

    def rows_of(plot: str) -> set[str]:
        return {" ".join(re.findall(r"<tspan[^>]*>([^<]*)</tspan>", label)) for label in
                re.findall(r'<text class="lane-label"[^>]*>(.*?)</text>', plot)}

    assert {"Police", "Nursery", "Probation", "MASH / front door"} <= rows_of(svg)
    by_category = timeline.plot_html(case, "category")
    tagged = sum(max(1, len(e.categories)) for e in case.events)  # an event with two categories is in two rows
    assert by_category.count('<a class="event"') == tagged > len(case.events)
    assert "Workload and capacity" in rows_of(by_category) and "Police" not in rows_of(by_category)

    table = timeline.table_html(case)
    rows = re.findall(r'<tr id="timeline-row-(\d+)"[^>]*>(.*?)</tr>', table)
    assert len(rows) == len(case.events)
    first_bruise = next(i for i, e in enumerate(case.events) if "5 February 2018 nursery staff saw" in e.text)
    row = dict(rows)[str(first_bruise)]
    assert "5 February 2018" in row and "Nursery" in row and "p. 13, para 5.34" in row


def test_selecting_an_event_shows_its_paragraph_with_a_link_to_the_page(index: Any) -> None:
    from assistant.web import timeline

    doc = child_r(index)
    case = timeline.Chronologies(index).case(doc.id)
    assert case is not None
    n = next(i for i, e in enumerate(case.events) if "5 February 2018 nursery staff saw" in e.text)
    event = case.events[n]
    html = timeline.event_html(index, case, n)
    passage = next(p for p in index.passages(doc.id) if p.id == event.passage_id)
    assert passage.paragraph == "5.34" and passage.page == 13
    assert "5 February 2018 — Nursery" in html and "pages 13–14, paragraph 5.34" in html
    assert "<mark>On 5 February 2018 nursery staff saw bruising" in html.replace("&#32;", " ")
    assert f'href="doc/{doc.id}&#35;page&#61;13"' in html or f'href="doc/{doc.id}#page=13"' in html
    assert "Select an event" in timeline.event_html(index, case, None)
    assert "Select an event" in timeline.event_html(index, case, len(case.events))  # out of range: no error


def test_two_documents_side_by_side_cite_their_sentences(index: Any) -> None:
    """Each category's counts are the matrix's, and every sentence shown is in the passage it cites."""
    import html as html_lib
    import re

    from assistant.themes import category_sentences, themes_matrix
    from assistant.web import findings

    matrix = themes_matrix(index, level="latent")
    docs = {Path(d.source).name: d for d in index.documents()}
    r, t = docs["review-child-r.pdf"].id, docs["review-child-t.pdf"].id
    assert findings.default_pair(matrix, None, None)[0] in (r, t, docs["review-child-m.pdf"].id)
    page = findings.compare_html(index, matrix, r, t)
    cells = {(c.document, c.category): c for c in matrix.cells}
    sections = {html_lib.unescape(c): body for c, body in
                re.findall(r'<section class="compare-category" data-category="([^"]+)">(.*?)</section>', page)}
    assert "workload" in sections and "staffing" in sections
    for category, body in sections.items():
        columns = body.split('<div class="compare-col">')[1:]
        assert len(columns) == 2, category
        for doc_id, column in zip((r, t), columns, strict=True):
            cell = matrix.cell(doc_id, category)
            assert f"{cell.negative} passages record a weakness, {cell.positive} a strength" in column
    texts = {p.id: " ".join(p.text.split()) for p in index.passages(r)}
    found = category_sentences(index, r, ["workload"])["workload"]
    assert found and {s.passage_id for s in found} == set(cells[(r, "workload")].passages)
    assert all(s.text in texts[s.passage_id] for s in found)
    shown = html_lib.unescape(sections["workload"])
    assert found[0].text in shown and "Weakness" in shown
    assert "Choose two different documents" in findings.compare_html(index, matrix, r, r)


def test_closing_the_page_stops_its_heartbeats_on_the_servers_loop(index: Any, free_port: Callable[[], int]) -> None:
    """Gradio's own close() sets the stop event that open heartbeat streams wait on from the calling thread; when a
    new stream adds its waiter at that moment, asyncio raises "deque mutated during iteration" (a CI run failed
    so). The page sets it on the server's own loop, so a heartbeat stream open at close ends with no error."""
    import threading
    import time

    running = next(serve(index, free_port()))
    event = running.blocks.app.stop_event
    set_from: list[str] = []
    real_set = event.set

    def recording_set() -> None:
        set_from.append(threading.current_thread().name)
        real_set()

    event.set = recording_set  # type: ignore[method-assign]
    ended = threading.Event()

    def heartbeat() -> None:
        with contextlib.suppress(httpx.HTTPError), httpx.stream(
                "GET", f"{running.url}gradio_api/heartbeat/close-test", timeout=30) as reply:
            for _ in reply.iter_bytes():
                pass
        ended.set()

    threading.Thread(target=heartbeat, daemon=True).start()
    deadline = time.monotonic() + 10
    while not event._waiters and time.monotonic() < deadline:  # the stream is waiting on the event
        time.sleep(0.05)
    assert event._waiters, "the heartbeat stream never started"
    running.close()
    close_idle_event_loops()
    assert set_from and set_from[0] != threading.current_thread().name, set_from
    assert ended.wait(10), "the heartbeat stream outlived the page"
