"""The page's logic without a server or a browser: escaping, answer and card HTML, exports, upload names and
limits, filters, feedback, the findings matrix, the document text view, privacy settings."""

from __future__ import annotations

import csv
import json
import os
import re
from html.parser import HTMLParser
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from assistant.chronology import Chronology, Event
from assistant.records import Answer, Citation
from assistant.themes import CategoryColumn, Cell, DocumentRow, ThemesMatrix
from assistant.web import cards, export, findings, session, timeline
from prompts import NEAREST_INTRO, REFUSAL
from vectorstore.records import DocumentInfo, Hit, Passage, SearchFilters, Tag

XSS = '<script>window.__xss=1</script> and <img src=x onerror="window.__xss=1"> [x](javascript:alert(1)) $x$ *y*'


def make_hit(text: str = "Caseloads were high. Staff left.", doc_id: str = "review-child-r-abc123",
             source: str = "/data/review-child-r.pdf", title: str = "Review: Child R", page: int = 4,
             paragraph: str | None = "3.20", pid: str = "review-child-r-abc123:0001") -> Hit:
    doc = DocumentInfo(id=doc_id, title=title, source=source, kind="review", content_hash="h", council="Wenmarsh",
                       published="2019-06-14", child="Child R")
    passage = Passage(id=pid, doc_id=doc_id, text=text, header=title, page=page, paragraph=paragraph,
                      section="Findings", char_start=0, char_end=len(text))
    return Hit(passage, doc, 0.5)


class Elements(HTMLParser):
    """Every start tag and attribute, to prove no document text became markup."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))


def assert_inert(html: str) -> None:
    tags = Elements(html).tags
    assert not [t for t, _ in tags if t in ("script", "img", "iframe", "object")], tags
    assert not [a for _, attrs in tags for a in attrs if a.startswith("on")], tags
    assert "javascript:" not in " ".join(str(v) for _, attrs in tags for v in attrs.values())
    for raw in ("<script", "<img", "*y*", "$x$", "[x]("):  # neither HTML nor Markdown can read them as syntax
        assert raw not in html


def test_text_html_turns_markup_and_markdown_into_plain_text() -> None:
    out = cards.text_html(XSS + "\nnext line")
    assert_inert(out)
    assert "<br>" in out and "\n" not in out
    import html

    assert html.unescape(out.replace("<br>", "\n")) == XSS + "\nnext line"


def test_answer_html_links_known_keys_and_escapes_document_text() -> None:
    hit = make_hit(text=XSS + " Caseloads were high.")
    answer = Answer("Why?", f"**Workload**\n{XSS} [1]\nCaseloads were high. [1] [7]", False,
                    [Citation(1, hit, ("Caseloads were high.",))])
    html = cards.answer_html(answer)
    assert_inert(html)
    assert html.count('href="#source-1"') == 2
    assert 'href="#source-7"' not in html  # an unknown key stays text
    assert "<strong>Workload</strong>" in html
    assert "\n" not in html  # one HTML block: a blank line would hand the rest to Markdown


def test_refusal_is_plain_and_links_the_nearest_passages() -> None:
    hit = make_hit()
    answer = Answer("Who is Child Z?", f"{REFUSAL}\nNo indexed document names Child Z.\n{NEAREST_INTRO}", True,
                    nearest=[hit], reason="no indexed document names Child Z")
    html = cards.answer_html(answer)
    assert REFUSAL in html and 'class="answer refused"' in html and 'href="#source-1"' in html
    panel = cards.sources_html([answer])
    assert "none of them supports an answer" in panel and 'id="source-1"' in panel


def test_source_card_marks_the_quotes_and_opens_the_document_at_its_page() -> None:
    hit = make_hit(text="First sentence. Caseloads were high. Last.")
    card = cards.source_card(2, hit, ("Caseloads were high.",))
    assert "<mark>Caseloads were high&#46;</mark>" in card or "<mark>Caseloads were high.</mark>" in card
    assert 'id="source-2"' in card and "doc/review-child-r-abc123&#35;page&#61;4" in card
    assert "14 June 2019" in card and "paragraph 3.20" in card and "Wenmarsh" in card
    text_doc = make_hit(source="/data/letter.html")
    link = cards.document_href(text_doc.document, text_doc)
    assert link == "doc/review-child-r-abc123/text#passage-review-child-r-abc123:0001"


def test_card_ids_keep_earlier_answers_apart() -> None:
    a1 = Answer("one", "A. [1]", False, [Citation(1, make_hit())])
    a2 = Answer("two", "B. [1]", False, [Citation(1, make_hit(pid="p2"))])
    msgs = cards.messages([a1, a2])
    assert 'href="#source-1-1"' in msgs[1]["content"] and 'href="#source-1"' in msgs[3]["content"]
    panel = cards.sources_html([a1, a2])
    assert panel.index('id="source-1"') < panel.index('id="source-1-1"')  # the latest answer first


def test_exports_carry_full_citations_and_stay_inert() -> None:
    hit = make_hit(text=XSS + " Caseloads were high.")
    answers = [Answer("Why?", "Caseloads were high. [1]", False, [Citation(1, hit, ("Caseloads were high.",))])]
    md = export.conversation_markdown(answers)
    assert "### Why?" in md and "[1] Review: Child R" in md and "/data/review-child-r.pdf" in md
    page = export.conversation_html(answers)
    assert_inert(page.split("<body>", 1)[1])
    assert "default-src 'none'" in page and 'href="#q1-source-1"' in page and 'id="q1-source-1"' in page


@pytest.mark.parametrize(("name", "expected"), [
    ("../../etc/passwd", "passwd"),
    ("..\\..\\windows\\system32\\evil.PDF", "evil.pdf"),
    ("Child R (final draft).PDF", "Child-R-final-draft.pdf"),
    ("Évaluation été.docx", "Evaluation-ete.docx"),
    (".bashrc", "document.bashrc"),
    ("..", "document"),
    ("a" * 300 + ".md", "a" * 90 + ".md"),
    ("report.tar.gz", "report-tar.gz"),
])
def test_upload_names_cannot_leave_the_uploads_folder(name: str, expected: str) -> None:
    safe = session.safe_upload_name(name)
    assert safe == expected
    assert "/" not in safe and "\\" not in safe and not safe.startswith(".")


def test_uploads_are_saved_inside_the_folder_and_large_files_refused(tmp_path: Path) -> None:
    src = tmp_path / "in"
    src.mkdir()
    small = src / "..evil name.md"
    small.write_text("# Hello\n\nText.")
    big = src / "big.pdf"
    big.write_bytes(b"0" * 3 * 1024 * 1024)
    uploads = tmp_path / "index" / "uploads"
    saved, refused = session.save_uploads([small, big], uploads, limit_mb=1)
    assert [p.name for p in saved] == ["evil-name.md"] and saved[0].parent == uploads.resolve()
    assert len(refused) == 1 and "big.pdf" in refused[0] and "over the upload limit of 1 MB" in refused[0]


def test_remove_deletes_only_the_uploaded_copy(tmp_path: Path) -> None:
    uploads = tmp_path / "uploads"
    uploads.mkdir()
    copy, elsewhere = uploads / "a.md", tmp_path / "b.md"
    copy.write_text("x")
    elsewhere.write_text("y")
    docs = {"a": make_hit(source=str(copy)).document, "b": make_hit(source=str(elsewhere)).document}
    index = SimpleNamespace(remove=lambda doc_id: docs[doc_id])
    assert session.remove_document(index, "a", uploads)[1] is True and not copy.exists()  # type: ignore[arg-type]
    assert session.remove_document(index, "b", uploads)[1] is False and elsewhere.exists()  # type: ignore[arg-type]


def test_filters_from_the_controls() -> None:
    """The page's controls, the CLI's options and a LangChain dict all become filters through one builder."""
    assert SearchFilters.from_values([], None, [], "Any", "") == SearchFilters()
    f = SearchFilters.from_values(["review"], ["Wenmarsh"], ["d1"], "2023", 2017)
    assert f == SearchFilters(kinds=("review",), councils=("Wenmarsh",), documents=("d1",), year_from=2017,
                              year_to=2023)
    assert SearchFilters.from_values(councils="Wigan", categories=["workload"], year_from=2020) == SearchFilters(
        councils=("Wigan",), categories=("workload",), year_from=2020)


def test_filter_choices_come_from_the_documents() -> None:
    docs = [make_hit().document, make_hit(doc_id="x", title="Letter", source="/l.html").document]
    c = session.filter_choices(docs)
    assert c.kinds == [("Case review", "review")] and c.councils == ["Wenmarsh"]
    assert c.years == ["Any", "2019"] and ("Letter", "x") in c.documents


@pytest.mark.parametrize(("liked", "verdict"), [(True, "up"), (False, "down"), ("Like", "up"), ("Dislike", "down"),
                                                 ("Wrong citation", "wrong_citation"), (None, "withdrawn")])
def test_feedback_verdicts(liked: Any, verdict: str) -> None:
    assert session.verdict_of(liked) == verdict


def test_feedback_log_appends_and_clears(tmp_path: Path) -> None:
    log = session.FeedbackLog(tmp_path / "feedback.jsonl")
    answer = Answer("Why?", "Caseloads were high. [1]", False, [Citation(1, make_hit())])
    log.record(answer, "up")
    log.record(answer, "wrong_citation")
    assert log.record(answer, "wrong_citation") is None  # one click that Gradio reports twice
    rows = [json.loads(x) for x in (tmp_path / "feedback.jsonl").read_text().splitlines()]
    assert [r["verdict"] for r in rows] == ["up", "wrong_citation"]
    assert set(rows[0]) >= {"question", "answer", "citations", "verdict", "time"}
    assert rows[0]["citations"] == ["review-child-r-abc123:0001"]
    assert log.count() == 2 and log.clear() == 2 and log.count() == 0


CATEGORIES = (CategoryColumn("workload", "Workload", "latent"), CategoryColumn("staffing", "Staffing", "latent"))
MATRIX = ThemesMatrix(
    categories=CATEGORIES,
    documents=(DocumentRow("d1", "=HYPERLINK(\"http://x\")", "review", None, None),
               DocumentRow("d2", "Review T", "review", None, None)),
    cells=(Cell("d1", "workload", 4, 1, ("p1",)), Cell("d2", "staffing", 0, 2, ("p2",))))


def test_findings_matrix_table_cells_and_csv(tmp_path: Path) -> None:
    headers, rows, styles = findings.matrix_table(MATRIX)
    assert headers == ["Document", "Workload", "Staffing"]
    assert rows[0][1:] == ["4 (+1)", "·"] and rows[1][1:] == ["·", "· (+2)"]
    assert "rgba(245, 158, 11, 0.90)" in styles[0][1] and styles[1][2] == ""
    picked = findings.cell_at(MATRIX, 0, 1)
    assert picked and picked.cell.passages == ("p1",)
    assert findings.cell_at(MATRIX, 0, 0) is None and findings.cell_at(MATRIX, 5, 1) is None
    with open(findings.write_csv(MATRIX, tmp_path / "m.csv"), newline="") as fh:
        table = list(csv.reader(fh))
    assert table[0][4:] == ["workload_negative", "staffing_negative", "workload_positive", "staffing_positive"]
    assert table[1][1].startswith("'=") and table[1][4:] == ["4", "0", "1", "0"]  # a title is never a formula


def test_findings_cell_shows_its_passages_escaped() -> None:
    hit = make_hit(text=XSS, pid="p1", doc_id="d1")
    index = SimpleNamespace(document_info=lambda i: hit.document, passages=lambda i: [hit.passage])
    html = findings.cell_html(index, findings.cell_at(MATRIX, 0, 1))  # type: ignore[arg-type]
    assert_inert(html)
    assert 'id="finding-1"' in html and "4 weaknesses, 1 strength" in html and "<h4>Weaknesses (1)</h4>" in html


def make_case(events: list[Event], incident: str | None = "2018-03-14") -> Chronology:
    doc = DocumentInfo(id="d1", title="Review <b>Child Q</b>", source="/data/q.pdf", kind="review", content_hash="h",
                       period_start="2016-04-01", period_end="2018-03-14", child="Child Q")
    return Chronology(doc, incident, tuple(events))


def event(day: str, text: str, agency: str | None = None, categories: tuple[str, ...] = (),
          incident: bool = False) -> Event:
    return Event(day, text, "p1", 4, "3.20", agency, categories, incident)


EVENTS = [event("2017-06-02", XSS, "police", ("workload", "staffing")),
          event("2017-06-02", "The MASH screened the notification on 2 June 2017.", "mash"),
          event("2018-03-14", "Child Q died on 14 March 2018.", None, (), True)]


def test_timeline_plot_marks_each_event_and_the_death_and_stays_inert() -> None:
    case = make_case(EVENTS)
    plot = timeline.plot_html(case, "agency")
    tags = Elements(plot).tags
    assert not [t for t, _ in tags if t in ("script", "img", "iframe", "object", "foreignobject")]
    assert not [a for _, attrs in tags for a in attrs if a.startswith("on")]
    links = [attrs for t, attrs in tags if t == "a"]
    assert [a["href"] for a in links] == ["#timeline-row-0", "#timeline-row-1", "#timeline-row-2"]
    assert [a["data-event"] for a in links] == ["0", "1", "2"]
    assert all(str(a["aria-label"]).startswith(f"Event {n + 1}, ") for n, a in enumerate(links))
    assert "<script" not in plot and "Review &#60;b&#62;Child Q" in plot
    assert "Death: 14 March 2018" in plot and "Review period" in plot
    for row in ("Police", "MASH / front door", timeline.NO_AGENCY):
        assert f">{row}</tspan>" in plot.replace("&#32;", " ")
    by_category = timeline.plot_html(case, "category")
    assert by_category.count('<a class="event"') == 4  # two categories, then two untagged events
    assert ">Not tagged</tspan>" in by_category and "Workload" in by_category
    assert "${" not in plot and "{{" not in plot  # Gradio reads the HTML as a template
    no_death = make_case(EVENTS[:2])
    import html

    assert "Review period ends 14 March 2018 (incident date not stated)" in html.unescape(
        timeline.plot_html(no_death))
    assert "no dated events" in timeline.plot_html(make_case([]))


def test_timeline_table_lists_dated_events_with_citations() -> None:
    case = make_case(EVENTS)
    table = timeline.table_html(case)
    assert_inert(table)
    assert table.count("<tr id=") == 3 and table.count('class="timeline-show"') == 3
    assert "2 June 2017" in table and "14 March 2018" in table and "p. 4, para 3.20" in table
    assert '<tr id="timeline-row-2" class="incident">' in table  # the death's own row stands out
    assert "Workload and capacity, Staffing" in table
    assert timeline.agency_label("health visit") == "Health visiting"
    assert timeline.agency_label(None) == timeline.NO_AGENCY


def test_timeline_event_shows_its_passage_marked_and_escaped() -> None:
    hit = make_hit(text="Before. " + XSS + " After.", pid="p1", doc_id="d1", source="/data/q.pdf")
    case = make_case(EVENTS)
    index = SimpleNamespace(passages=lambda doc_id: [hit.passage])
    html = timeline.event_html(index, case, 0)  # type: ignore[arg-type]
    assert_inert(html)
    assert "<mark>" in html and "Event 1: 2 June 2017 — Police" in html and "doc/d1&#35;page&#61;4" in html
    assert "Tagged: Workload and capacity" in html
    assert "Select an event" in timeline.event_html(index, case, 7)  # type: ignore[arg-type]


def test_two_documents_side_by_side() -> None:
    passages = {
        "a": [Passage(id="a:1", doc_id="a", text="Social workers carried very high caseloads of 40 children each. "
                      "The weather was fine.", header="", page=3, paragraph="2.1", section=None, char_start=0,
                      char_end=80, tags=(Tag("workload", "latent", "negative", 0.9),))],
        "b": [Passage(id="b:1", doc_id="b", text="<script>x</script> Caseloads were manageable and staff said they "
                      "had time to visit.", header="", page=5, paragraph=None, section=None, char_start=0,
                      char_end=80, tags=(Tag("workload", "latent", "positive", 0.9),))]}
    docs = {d: DocumentInfo(id=d, title=f"Doc {d.upper()}", source=f"/data/{d}.html", kind="review",
                            content_hash="h") for d in passages}
    index = SimpleNamespace(passages=lambda d: passages[d], document_info=lambda d: docs.get(d))
    matrix = ThemesMatrix(
        categories=CATEGORIES,
        documents=(DocumentRow("a", "Doc A", "review", None, None), DocumentRow("b", "Doc B", "other", None, None)),
        cells=(Cell("a", "workload", 1, 0, ("a:1",)), Cell("b", "workload", 0, 1, ("b:1",))))
    assert findings.default_pair(matrix, None, None) == ("a", "b")
    assert findings.default_pair(matrix, "b", "gone") == ("b", "a")
    html = findings.compare_html(index, matrix, "a", "b")  # type: ignore[arg-type]
    assert_inert(html)
    assert html.count('<section class="compare-category"') == 1 and "Found in neither: Staffing" in html
    col_a, col_b = html.split('<div class="compare-col">')[1:]
    assert "Doc A" in col_a and "very high caseloads" in col_a and "Weakness" in col_a and "weather" not in col_a
    assert "Doc B" in col_b and "manageable" in col_b and "Strength" in col_b and "&#60;script&#62;" in col_b
    assert "(page 3, paragraph 2.1)" in col_a and 'href="doc/a/text&#35;passage-a:1"' in col_a
    assert "Choose two documents" in findings.compare_html(index, matrix, "a", None)  # type: ignore[arg-type]


def test_text_view_of_a_document_is_escaped() -> None:
    from assistant.web.routes import text_view

    hit = make_hit(text=XSS, source="/data/letter.html")
    index = SimpleNamespace(document_info=lambda i: hit.document if i == hit.document.id else None,
                            passages=lambda i: [hit.passage])
    page = text_view(index, hit.document.id)  # type: ignore[arg-type]
    assert page and text_view(index, "nope") is None  # type: ignore[arg-type]
    assert_inert(page.split("<body>", 1)[1])
    assert f'id="passage-{hit.id}"' in page


def stub_index(tmp_path: Path) -> Any:
    return SimpleNamespace(path=tmp_path, settings=SimpleNamespace(index=tmp_path))


@pytest.mark.parametrize(("spec", "url", "remote"), [
    (None, None, False), ("openai:local", "http://127.0.0.1:8080/v1", False), ("ollama:llama3", None, False),
    ("openai:gpt-4o-mini", None, True), ("openai:m", "https://llm.example.org/v1", True)])
def test_the_page_says_when_the_model_is_elsewhere(tmp_path: Path, spec: str | None, url: str | None,
                                                    remote: bool) -> None:
    ctx = session.PageContext(stub_index(tmp_path), spec, url)
    is_remote, text = ctx.privacy_notice()
    assert is_remote is remote
    assert ("not on this machine" in text) is remote and ("Private" in text) is not remote
    assert ctx.uploads == tmp_path / "uploads" and ctx.feedback.path == tmp_path / "feedback.jsonl"


def test_privacy_environment_and_auth(monkeypatch: pytest.MonkeyPatch) -> None:
    from assistant.app import PRIVACY_ENV, parse_auth, set_privacy_environment

    for key in PRIVACY_ENV:
        monkeypatch.setenv(key, "something else")
    set_privacy_environment()
    assert all(os.environ[k] == v for k, v in PRIVACY_ENV.items())
    assert os.environ["GRADIO_ANALYTICS_ENABLED"] == "False" and os.environ["HF_HUB_OFFLINE"] == "1"
    assert parse_auth("ann:s3cr:et") == ("ann", "s3cr:et") and parse_auth(None) is None
    for bad in ("ann", ":pw", "ann:"):
        with pytest.raises(ValueError, match="USER:PASSWORD"):
            parse_auth(bad)


def test_page_modules_stay_small_and_split() -> None:
    """House style: UI apart from logic, each module well under 500 lines; only `page` imports Gradio."""
    folder = Path(__file__).resolve().parents[1] / "assistant" / "web"
    for path in folder.glob("*.py"):
        text = path.read_text()
        assert len(text.splitlines()) < 400, path.name
        if path.name not in ("page.py", "style.py"):
            assert not re.search(r"^\s*(import gradio|from gradio)", text, re.M), path.name
