"""The page's layout and its events (Gradio Blocks). What each event does lives in `session`, `cards`,
`export` and `findings`; this module only places controls and connects them.

Every UI event is `api_visibility="private"`: the one public endpoint is `ask` (`gr.api`), which returns the
`latent ask --json` object, so `gradio_client` sees a small, stable API.
"""

from __future__ import annotations

import sys
import traceback
import uuid
from dataclasses import dataclass
from typing import Any

import gradio as gr

from assistant.briefing_output import write_briefings
from assistant.records import Answer
from assistant.themes import ThemesMatrix, themes_matrix
from assistant.web import cards, findings, timeline
from assistant.web.export import write_exports
from assistant.web.session import (
    ANY_YEAR,
    UPLOAD_TYPES,
    IngestStatus,
    PageContext,
    discard_failed_uploads,
    filter_choices,
    ingest_with_events,
    remove_document,
    save_uploads,
    stream_answer,
    verdict_of,
)
from vectorstore.records import DocumentInfo, SearchFilters

EXAMPLES = ("What latent conditions preceded Child R's death?",
            "How many children was each social worker in Wenmarsh responsible for at the 2017 focused visit?",
            "What did the reviews say about information sharing between police and health?",
            "What does the safety-science primer say about the person approach and the system approach?")
PRIVATE = "private"
EMPTY_MATRIX = ThemesMatrix((), (), ())  # before the Findings tab is first opened


def privacy_html(ctx: PageContext) -> str:
    remote, text = ctx.privacy_notice()
    role = ' role="alert"' if remote else ' role="note"'
    return f'<p class="privacy {"remote" if remote else "local"}"{role}>{cards.text_html(text)}</p>'


def api_endpoint(ctx: PageContext) -> Any:
    """The named endpoint `ask`: the question first, everything else optional; returns Answer.to_json()."""
    def ask(question: str, kinds: list[str] | None = None, councils: list[str] | None = None,
            documents: list[str] | None = None, year_from: int | None = None, year_to: int | None = None,
            history: list[dict[str, Any]] | None = None) -> dict[str, Any]:
        """A cited answer from the indexed documents (the same object as `latent ask --json`)."""
        question = (question or "").strip()
        if not question:
            raise gr.Error("The question is empty.")
        filters = SearchFilters.from_values(kinds, councils, documents, year_from, year_to)
        return ctx.answer(question, filters=filters, history=history or []).to_json()

    return ask


@dataclass
class AskTab:
    """The Ask tab's controls that other parts of the page read or update."""

    chat: Any
    answers: Any  # gr.State: the conversation's Answers
    filters: list[Any]  # kind, council, documents, year from, year to (SearchFilters.from_values' order)


@dataclass
class DocumentsTab:
    """The Documents tab's controls: adding and removing documents changes other tabs, so they are wired in
    `_connect_tabs`."""

    upload: Any
    add_button: Any
    ingest_status: Any
    doc_list: Any
    remove_pick: Any
    remove_button: Any
    remove_status: Any
    feedback_status: Any


def build_page(ctx: PageContext) -> gr.Blocks:
    """The page: a header, the four tabs, and the events that cross tabs (documents added or removed change the
    Ask tab's filter choices; feedback given under an answer is counted on the Documents tab)."""
    with gr.Blocks(title="Latent — cited answers from safeguarding reviews", analytics_enabled=False) as page:
        with gr.Column(elem_id="latent-header"):
            gr.Markdown("# Latent\nAsk the case reviews, inspection letters and coroners' reports in the index. "
                        "Every sentence of an answer is quoted from the numbered source after it.")
            gr.HTML(privacy_html(ctx), elem_id="privacy-notice")
            first_run = gr.Markdown(ctx.first_run.markdown(), elem_id="first-run", visible=ctx.first_run.running)
        docs = ctx.index.documents()
        with gr.Tabs(overflow_behavior="wrap"):  # on a phone every tab stays a tab, none behind a menu
            ask = _ask_tab(ctx, docs)
            documents = _documents_tab(ctx, docs)
            _findings_tab(ctx)
            _timeline_tab(ctx)
        _connect_tabs(ctx, page, first_run, ask, documents)
        gr.api(api_endpoint(ctx), api_name="ask")
    return page


def _ask_tab(ctx: PageContext, docs: list[DocumentInfo]) -> AskTab:
    choices = filter_choices(docs)
    with gr.Tab("Ask", id="ask"), gr.Row(equal_height=False):
        answers = gr.State([])
        with gr.Column(scale=3, min_width=330):
            chat = gr.Chatbot(label="Conversation", elem_id="chat", height=540, latex_delimiters=[],
                              line_breaks=False, sanitize_html=True, buttons=["copy", "copy_all"],
                              feedback_options=("Like", "Dislike", "Wrong citation"),
                              placeholder="Answers appear here, each sentence with its source [n].")
            question = gr.Textbox(label="Question", elem_id="question", lines=1, max_lines=4,
                                  placeholder="Ask about the documents in the index")
            with gr.Row():
                ask_button = gr.Button("Ask", variant="primary", elem_id="ask-button")
                new_button = gr.Button("New conversation", elem_id="new-conversation")
            gr.Markdown("**Example questions**")
            with gr.Row(elem_classes="example-row"):
                examples = [gr.Button(q, size="sm", elem_classes="example") for q in EXAMPLES]
            with gr.Row():
                export_md = gr.DownloadButton("Download as Markdown", interactive=False, elem_id="export-md")
                export_html = gr.DownloadButton("Download printable HTML", interactive=False, elem_id="export-html")
        with gr.Column(scale=2, min_width=320):
            with gr.Accordion("Filters", open=False, elem_id="filters"):
                kinds = gr.CheckboxGroup(choices.kinds, label="Kind of document", elem_id="filter-kind")
                councils = gr.Dropdown(choices.councils, multiselect=True, label="Council", elem_id="filter-council")
                documents = gr.Dropdown(choices.documents, multiselect=True, label="Documents",
                                        elem_id="filter-documents")
                with gr.Row():
                    year_from = gr.Dropdown(choices.years, value=ANY_YEAR, label="Published from year",
                                            elem_id="filter-year-from", min_width=120)
                    year_to = gr.Dropdown(choices.years, value=ANY_YEAR, label="Published up to year",
                                          elem_id="filter-year-to", min_width=120)
                clear_filters = gr.Button("Clear filters", size="sm")
            sources = gr.HTML(cards.sources_html([]), elem_id="sources")
    filter_inputs = [kinds, councils, documents, year_from, year_to]

    def respond(q: str, past: list[Answer], *controls: Any) -> Any:
        q = (q or "").strip()
        if not q:
            gr.Warning("Type a question first.")
            yield gr.skip(), gr.skip(), gr.skip(), gr.skip(), gr.skip(), gr.skip()
            return
        yield cards.messages(past, pending=q), gr.skip(), gr.skip(), "", gr.skip(), gr.skip()
        while ctx.first_run.running:
            yield (cards.messages(past, pending=q, partial="Adding the sample documents first: "
                                  f"{ctx.first_run.status.done} of {ctx.first_run.status.total} files…"),
                   gr.skip(), gr.skip(), gr.skip(), gr.skip(), gr.skip())
            ctx.first_run.wait(1.0)
        filters = SearchFilters.from_values(*controls)
        try:
            if ctx.llm_spec:
                answer = None
                for partial, answer in stream_answer(ctx, q, past, filters):
                    if answer is None:
                        yield (cards.messages(past, pending=q, partial=partial), gr.skip(), gr.skip(),
                               gr.skip(), gr.skip(), gr.skip())
                assert answer is not None
            else:
                answer = ctx.answer(q, past, filters)
        except Exception as exc:
            traceback.print_exc(file=sys.stderr)
            raise gr.Error(f"Could not answer: {exc}") from exc
        done = [*past, answer]
        md, html = write_exports(done, ctx.export_dir / uuid.uuid4().hex)
        yield (cards.messages(done), cards.sources_html(done), done, gr.skip(),
               gr.DownloadButton(value=str(md), interactive=True),
               gr.DownloadButton(value=str(html), interactive=True))

    outputs = [chat, sources, answers, question, export_md, export_html]
    ask_args: dict[str, Any] = {"fn": respond, "inputs": [question, answers, *filter_inputs], "outputs": outputs,
                                "api_visibility": PRIVATE, "show_progress": "minimal"}
    ask_button.click(**ask_args)
    question.submit(**ask_args)
    for button in examples:
        button.click(lambda text: text, button, question, api_visibility=PRIVATE).then(**ask_args)

    def restart() -> tuple[Any, ...]:
        return ([], cards.sources_html([]), [], "", gr.DownloadButton(value=None, interactive=False),
                gr.DownloadButton(value=None, interactive=False))

    new_button.click(restart, None, outputs, api_visibility=PRIVATE)
    chat.clear(restart, None, outputs, api_visibility=PRIVATE)  # the chat's own bin icon
    clear_filters.click(lambda: ([], [], [], ANY_YEAR, ANY_YEAR), None, filter_inputs, api_visibility=PRIVATE)
    return AskTab(chat, answers, filter_inputs)


def _documents_tab(ctx: PageContext, docs: list[DocumentInfo]) -> DocumentsTab:
    with gr.Tab("Documents", id="documents"):
        upload = gr.File(label=f"Add documents: PDF, Word, HTML, Markdown or text, up to "
                               f"{ctx.upload_limit_mb:g} MB each", file_count="multiple",
                         file_types=list(UPLOAD_TYPES), type="filepath", elem_id="upload")
        add_button = gr.Button("Add to the index", variant="primary", elem_id="add-documents")
        ingest_status = gr.Markdown(elem_id="ingest-status")
        doc_list = gr.HTML(cards.documents_table(docs), elem_id="documents-list")
        with gr.Row():
            remove_pick = gr.Dropdown(filter_choices(docs).documents, label="Document to remove",
                                      elem_id="remove-pick")
            remove_button = gr.Button("Remove from the index", variant="stop", elem_id="remove-document")
        remove_status = gr.Markdown(elem_id="remove-status")
        with gr.Accordion("Feedback on answers", open=False, elem_id="feedback"):
            feedback_status = gr.Markdown(_feedback_summary(ctx))
            clear_feedback = gr.Button("Clear the feedback log", elem_id="clear-feedback")
    clear_feedback.click(lambda: (ctx.feedback.clear(), _feedback_summary(ctx))[1], None, feedback_status,
                         api_visibility=PRIVATE)
    return DocumentsTab(upload, add_button, ingest_status, doc_list, remove_pick, remove_button, remove_status,
                        feedback_status)


def _connect_tabs(ctx: PageContext, page: gr.Blocks, first_run: Any, ask: AskTab, documents: DocumentsTab) -> None:
    """Documents added (an upload, the first run) or removed: new choices everywhere. Feedback under an answer:
    logged, and counted on the Documents tab."""
    refreshed = [documents.doc_list, *ask.filters, documents.remove_pick]

    def refresh(keep: bool = False) -> tuple[Any, ...]:
        """After the documents changed: new choices everywhere, and the filters cleared (a filter on a
        document that has gone would match nothing, and Gradio refuses a value that is not a choice). With
        `keep` (the page opening, the first run ending: documents were only added), the filters the reader
        has already set stay: a page that answers its load event late must not undo a ticked box."""
        docs = ctx.index.documents()
        c = filter_choices(docs)
        if keep:
            return (cards.documents_table(docs), gr.update(choices=c.kinds), gr.update(choices=c.councils),
                    gr.update(choices=c.documents), gr.update(choices=c.years), gr.update(choices=c.years),
                    gr.update(choices=c.documents))
        return (cards.documents_table(docs), gr.update(choices=c.kinds, value=[]),
                gr.update(choices=c.councils, value=[]), gr.update(choices=c.documents, value=[]),
                gr.update(choices=c.years, value=ANY_YEAR), gr.update(choices=c.years, value=ANY_YEAR),
                gr.update(choices=c.documents, value=None))

    def add_documents(files: list[str] | None) -> Any:
        skip = tuple(gr.skip() for _ in refreshed)
        if not files:
            yield ("Choose one or more files first.", gr.skip(), *skip)
            return
        saved, refused = save_uploads(files, ctx.uploads, ctx.upload_limit_mb)
        status = IngestStatus(lines=[f"Refused {r}" for r in refused])
        yield (status.markdown("Adding documents"), gr.skip(), *skip)
        if saved:
            ctx.first_run.wait()
            for event, data in ingest_with_events(ctx.index, saved):
                status.update(event, data)
                yield (status.markdown("Adding documents"), gr.skip(), *skip)
            discard_failed_uploads(ctx.index, saved, status.report)
        else:
            status.error = "no file was accepted"
        yield (status.markdown("Adding documents"), None, *refresh())

    documents.add_button.click(add_documents, documents.upload, [documents.ingest_status, documents.upload,
                                                                  *refreshed], api_visibility=PRIVATE)

    def remove(doc_id: str | None) -> Any:
        if not doc_id:
            return ("Choose a document to remove.", *refresh())
        doc, deleted = remove_document(ctx.index, doc_id, ctx.uploads)
        note = " Its uploaded copy was deleted too." if deleted else ""
        return (f"Removed **{cards.text_html(doc.title)}** ({doc.passages} passages).{note}", *refresh())

    documents.remove_button.click(remove, documents.remove_pick, [documents.remove_status, *refreshed],
                                  api_visibility=PRIVATE)

    timer = gr.Timer(1.0, active=ctx.first_run.running)

    def poll() -> Any:
        if ctx.first_run.running:
            return (gr.update(value=ctx.first_run.markdown(), visible=True), gr.skip(),
                    *(gr.skip() for _ in refreshed))
        return (gr.update(value=ctx.first_run.markdown(), visible=bool(ctx.first_run.markdown())),
                gr.Timer(active=False), *refresh(keep=True))

    timer.tick(poll, None, [first_run, timer, *refreshed], api_visibility=PRIVATE, show_progress="hidden")
    page.load(poll, None, [first_run, timer, *refreshed], api_visibility=PRIVATE, show_progress="hidden")

    def on_feedback(past: list[Answer], data: gr.LikeData) -> str:
        turn = (data.index[0] if isinstance(data.index, (list, tuple)) else int(data.index)) // 2
        if 0 <= turn < len(past):
            verdict = verdict_of(data.liked)
            ctx.feedback.record(past[turn], verdict)
            gr.Info("Thank you: your feedback on this answer is saved." if verdict != "withdrawn" else
                    "Feedback withdrawn (noted in the log).")
        return _feedback_summary(ctx)

    ask.chat.like(on_feedback, ask.answers, documents.feedback_status, api_visibility=PRIVATE)


def _feedback_summary(ctx: PageContext) -> str:
    n = ctx.feedback.count()
    return (f"{n} feedback {'entry' if n == 1 else 'entries'} in `{cards.text_html(str(ctx.feedback.path))}`. "
            "Use 👍, 👎 or the flag (“Wrong citation”) under an answer to add one.")


def _findings_tab(ctx: PageContext) -> None:
    with gr.Tab("Findings across documents", id="findings") as tab:
        gr.Markdown("How often each category is found in each document: the number of passages recording it as "
                    "a weakness, with strengths in brackets (·: none). Select a cell to read its passages.")
        matrix = gr.State(None)
        with gr.Row():
            level = gr.Radio([("Latent conditions", "latent"), ("Active failures", "active"), ("All", "all")],
                             value="latent", label="Categories", elem_id="findings-level")
            recount = gr.Button("Count again", size="sm")
        table = gr.Dataframe(label="Findings: documents × categories", interactive=False, wrap=True,
                             elem_id="findings-table")
        csv_button = gr.DownloadButton("Download as CSV", interactive=False)
        detail = gr.HTML(findings.cell_html(ctx.index, None), elem_id="findings-detail")
        gr.Markdown("### Two documents side by side\nFor each category: how many passages of each document record "
                    "it, and the sentences that do, with their citations.")
        with gr.Row():
            first = gr.Dropdown([], label="First document", elem_id="compare-first")
            second = gr.Dropdown([], label="Second document", elem_id="compare-second")
        compare = gr.HTML(findings.compare_html(ctx.index, EMPTY_MATRIX, None, None), elem_id="findings-compare")

        def load(which: str, a: str | None, b: str | None) -> Any:
            m = themes_matrix(ctx.index, level=None if which == "all" else which)
            path = findings.write_csv(m, ctx.export_dir / f"latent-findings-{uuid.uuid4().hex[:8]}.csv")
            widths: list[str | int] = ["200px", *("104px" for _ in m.categories)]  # 9 categories fit 1280 px
            a, b = findings.default_pair(m, a, b)
            choices = findings.compare_choices(m)
            return (m, gr.Dataframe(value=findings.matrix_frame(m), column_widths=widths),
                    gr.DownloadButton(value=str(path), interactive=True), gr.update(choices=choices, value=a),
                    gr.update(choices=choices, value=b), findings.compare_html(ctx.index, m, a, b))

        def pick(m: ThemesMatrix | None, evt: gr.SelectData) -> str:
            row, col = evt.index if isinstance(evt.index, (list, tuple)) else (evt.index, 0)
            return findings.cell_html(ctx.index, findings.cell_at(m or EMPTY_MATRIX, int(row), int(col)))

        gr.on([tab.select, recount.click, level.change], load, [level, first, second],
              [matrix, table, csv_button, first, second, compare], api_visibility=PRIVATE)
        table.select(pick, matrix, detail, api_visibility=PRIVATE)
        gr.on([first.input, second.input], lambda m, a, b: findings.compare_html(ctx.index, m or EMPTY_MATRIX, a, b),
              [matrix, first, second], compare, api_visibility=PRIVATE)


# After a click on an event, bring its passage into view when it is off screen (below the plot, or below the
# table on a narrow screen), moving the page as little as it can.
_SHOW_DETAIL_JS = """() => { const d = document.querySelector('#timeline-detail .timeline-event'); if (!d) return;
  const box = d.getBoundingClientRect();
  if (box.top < 0 || box.top > window.innerHeight - 120) d.scrollIntoView({block: 'nearest'}); }"""


def _timeline_tab(ctx: PageContext) -> None:
    cases = timeline.Chronologies(ctx.index)
    with gr.Tab("Timeline", id="timeline") as tab:
        gr.Markdown("One case's chronology: each dated event the review records, placed in time and linked to its "
                    "paragraph. Select an event on the plot, or a citation in the table, to read its paragraph.")
        with gr.Row():
            case = gr.Dropdown([], label="Case", elem_id="timeline-case", scale=3, min_width=280)
            group = gr.Radio(timeline.GROUPINGS, value="agency", label="Group and colour events by", scale=2,
                             elem_id="timeline-group")
        with gr.Row(equal_height=False):
            brief_button = gr.Button("Make a case briefing (PDF and printable HTML)", size="sm", scale=1,
                                     elem_id="timeline-brief")
            brief_files = gr.File(label="Case briefing", file_count="multiple", interactive=False, scale=2,
                                  elem_id="timeline-brief-files", visible=False)  # shown once made
        summary = gr.Markdown(elem_id="timeline-summary")
        plot = gr.HTML(timeline.plot_html(None), elem_id="timeline-plot", js_on_load=timeline.SELECT_JS)
        with gr.Row(equal_height=False):
            with gr.Column(scale=3, min_width=360):
                table = gr.HTML("", elem_id="timeline-table", js_on_load=timeline.SELECT_JS)
            with gr.Column(scale=2, min_width=300):
                detail = gr.HTML(timeline.event_html(ctx.index, None, None), elem_id="timeline-detail")

    def show(doc_id: str | None, by: str) -> tuple[str, str, str, str]:
        c = cases.case(doc_id)
        return (timeline.summary_markdown(c), timeline.plot_html(c, by), timeline.table_html(c),
                timeline.event_html(ctx.index, c, None))

    def load(current: str | None, by: str) -> tuple[Any, ...]:
        """On opening the tab: the cases as they are now (documents may have been added or removed)."""
        choices = cases.choices()
        ids = [i for _, i in choices]
        value = current if current in ids else cases.preferred(choices, EXAMPLES[0])
        return (gr.update(choices=choices, value=value), *show(value, by))

    def select(doc_id: str | None, evt: gr.EventData) -> str:
        n = (getattr(evt, "_data", None) or {}).get("event")  # sent by timeline.SELECT_JS
        return timeline.event_html(ctx.index, cases.case(doc_id), int(n) if isinstance(n, int | float) else None)

    def brief(doc_id: str | None) -> Any:
        if not doc_id:  # the case briefing (`latent brief`) of the chosen case: a PDF and a printable page
            raise gr.Error("Choose a case first.")
        paths = write_briefings(ctx.index, doc_id, ctx.export_dir / uuid.uuid4().hex[:8])
        return gr.update(value=[str(path) for path in paths], visible=True)

    brief_button.click(brief, case, brief_files, api_visibility=PRIVATE)
    case.input(lambda _: gr.update(value=None, visible=False), case, brief_files, api_visibility=PRIVATE)
    tab.select(load, [case, group], [case, summary, plot, table, detail], api_visibility=PRIVATE)
    case.input(show, [case, group], [summary, plot, table, detail], api_visibility=PRIVATE)
    group.change(lambda d, by: timeline.plot_html(cases.case(d), by), [case, group], plot, api_visibility=PRIVATE)
    for source in (plot, table):
        source.click(select, case, detail, api_visibility=PRIVATE).then(None, js=_SHOW_DETAIL_JS,
                                                                         api_visibility=PRIVATE)
