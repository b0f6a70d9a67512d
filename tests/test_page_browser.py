"""End to end in a real browser: Playwright driving Debian's Chromium against `latent chat` on a copy of the
sample index. Ask a gold question and see its cited answer, follow a citation and open the document, filter,
upload a document and ask about it, give feedback, export, remove the upload; a document carrying `<script>` and
`<img onerror>` is shown as text and runs nothing; the page works at 1280 and at 390 px wide and loads nothing
from outside this machine. Screenshots go to test-artifacts/ (git-ignored)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "assistant" / "samples"
ARTIFACTS = ROOT / "test-artifacts"
LATENT = str(Path(sys.executable).with_name("latent"))
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
GOLD = {g["id"]: g for g in map(json.loads, (SAMPLES / "gold.jsonl").read_text().splitlines()) if g}
XSS_DOC = """# Harbourside practice note

The Harbourside duty team recorded that the quokka protocol was adopted in March 2024 after the audit.

Before that, the team tested a form that displayed <script>window.__xss=1</script> in its header and an image
tag <img src=x onerror="window.__xss=1"> in its footer, and both were reported as faults.
"""


@pytest.fixture(scope="module")
def index_dir(sample_index_copy: Callable[[str], Path]) -> Path:
    return sample_index_copy("page-browser")


@pytest.fixture(scope="module")
def server(index_dir: Path, free_port: Callable[[], int]) -> Iterator[str]:
    """`latent chat` as a user starts it, with none of the privacy variables set: the page sets its own."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LATENT_", "GRADIO_", "HF_"))
           and k not in ("TRANSFORMERS_OFFLINE", "ANONYMIZED_TELEMETRY")}
    log = open(index_dir.parent / "chat.log", "w")  # noqa: SIM115 - closed in teardown
    proc = subprocess.Popen([LATENT, "chat", "--index", str(index_dir), "--port", str(port)], stdout=log,
                            stderr=subprocess.STDOUT, env=env)
    url = f"http://127.0.0.1:{port}/"
    deadline = time.monotonic() + 180
    while True:
        assert proc.poll() is None, (index_dir.parent / "chat.log").read_text()
        try:
            with urllib.request.urlopen(url, timeout=5) as reply:
                if reply.status == 200:
                    break
        except OSError:
            assert time.monotonic() < deadline, "the page did not start in 180 s"
            time.sleep(0.5)
    yield url
    proc.terminate()
    try:
        proc.wait(30)
    except subprocess.TimeoutExpired:
        proc.kill()
    log.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        pytest.fail("/usr/bin/chromium is missing: install Debian's chromium (`make test` does, as root: "
                    "apt-get install -y chromium); `playwright install` cannot download browsers here")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Any, server: str) -> Iterator[Any]:
    """A fresh tab at 1280 px that records every request leaving 127.0.0.1 (there must be none)."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True)
    tab = context.new_page()
    tab.set_default_timeout(60_000)
    outside: list[str] = []
    tab.on("request", lambda r: outside.append(r.url) if not r.url.startswith(
        (server, "data:", "blob:", "about:")) else None)
    tab.goto(server)
    tab.get_by_role("textbox", name="Question").wait_for()
    yield tab
    assert outside == [], f"the page loaded resources from outside this machine: {outside}"
    context.close()


def ask(tab: Any, question: str) -> None:
    """Type the question and press Enter (the keyboard path), then wait for the answer's sources."""
    before = tab.locator("#chat .answer").count()
    box = tab.get_by_role("textbox", name="Question")
    box.fill(question)
    box.press("Enter")
    tab.locator("#chat .answer:not(.streaming)").nth(before).wait_for()


def shot(tab: Any, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    tab.screenshot(path=str(ARTIFACTS / name), full_page=True)


def test_a_gold_question_is_answered_with_citations_that_open_their_documents(page: Any, server: str,
                                                                               index_dir: Path) -> None:
    gold = GOLD["l-01"]
    ask(page, gold["question"])
    answer = page.locator("#chat .answer").last
    assert "between 30 and 50 children" in answer.inner_text()
    cite = answer.locator("a.cite").first
    assert cite.get_attribute("href") == "#source-1"
    card = page.locator("#sources .source-card", has=page.locator("mark", has_text=gold["evidence"][0])).first
    assert "Ofsted focused visit" in card.inner_text() and "Wenmarsh" in card.inner_text()
    cite.click()
    assert page.evaluate("location.hash") == "#source-1"
    # An HTML document opens as its stored text, scrolled to the cited passage.
    href = card.get_by_role("link", name="Open the document").get_attribute("href")
    assert href.startswith("doc/") and "/text#passage-" in href
    view = page.context.new_page()
    view.goto(server + href)
    target = view.locator(":target")
    assert target.count() == 1 and gold["evidence"][0] in target.inner_text()
    view.close()
    # A PDF citation links to its page; the server returns the PDF itself (headless Chromium would download it).
    ask(page, "What latent conditions preceded Child R's death?")
    pdf_link = page.locator("#sources #source-1").get_by_role("link", name="Open the document")
    href = pdf_link.get_attribute("href")
    assert href.startswith("doc/review-child-r-") and "#page=" in href and int(href.rsplit("=", 1)[1]) >= 1
    got = page.request.get(server + href.split("#")[0])
    assert got.status == 200 and got.headers["content-type"] == "application/pdf" and got.body()[:4] == b"%PDF"
    shot(page, "page-1280-answer.png")
    # Feedback on this answer, thumbs up and "wrong citation", lands in the index folder's log.
    page.get_by_role("button", name="Like", exact=True).last.click()
    page.get_by_role("button", name="Feedback", exact=True).last.click()
    page.get_by_role("button", name="Wrong citation").last.click()
    log = index_dir / "feedback.jsonl"
    deadline = time.monotonic() + 20
    while (not log.exists() or len(log.read_text().splitlines()) < 2) and time.monotonic() < deadline:
        time.sleep(0.2)
    rows = [json.loads(x) for x in log.read_text().splitlines()]
    assert [r["verdict"] for r in rows[-2:]] == ["up", "wrong_citation"]
    assert rows[-1]["question"] == "What latent conditions preceded Child R's death?" and rows[-1]["citations"]


def test_filters_narrow_the_sources(page: Any) -> None:
    page.get_by_role("button", name="Filters").click()
    page.get_by_label("Ofsted focused visit").check()
    ask(page, "What did inspectors find about caseloads?")
    metas = page.locator("#sources .turn-sources").first.locator(".meta").all_inner_texts()
    assert metas and all(m.startswith("Ofsted focused visit") for m in metas), metas


def test_upload_ask_export_and_remove_with_no_script_run(page: Any, server: str, index_dir: Path,
                                                         tmp_path: Path) -> None:
    note = tmp_path / "Harbourside <note> (draft).md"
    note.write_text(XSS_DOC)
    page.get_by_role("tab", name="Documents", exact=True).click()
    page.locator("#upload input[type=file]").set_input_files(str(note))
    page.locator("#upload").get_by_text("Harbourside").first.wait_for()
    page.get_by_role("button", name="Add to the index").click()
    status = page.locator("#ingest-status")
    status.get_by_text("finished").wait_for()
    assert "1 added" in status.inner_text()
    saved = index_dir / "uploads" / "Harbourside-note-draft.md"
    assert saved.is_file()
    assert "Harbourside practice note" in page.locator("#documents-list").inner_text()

    page.get_by_role("tab", name="Ask", exact=True).click()
    ask(page, "When was the quokka protocol adopted by the Harbourside duty team?")
    assert "March 2024" in page.locator("#chat .answer").last.inner_text()
    ask(page, "What did the Harbourside team's test form display in its header and footer?")
    sources = page.locator("#sources").inner_text()
    assert "<script>window.__xss=1</script>" in sources and '<img src=x onerror="window.__xss=1">' in sources
    assert page.evaluate("typeof window.__xss") == "undefined"
    assert page.locator("#sources script, #sources img, #chat .answer img").count() == 0

    href = page.locator("#sources #source-1").get_by_role("link", name="Open the document").get_attribute("href")
    view = page.context.new_page()
    view.goto(server + href)
    assert "<script>window.__xss=1</script>" in view.locator("body").inner_text()
    assert view.evaluate("typeof window.__xss") == "undefined"
    view.close()

    for button, suffix in (("Download as Markdown", ".md"), ("Download printable HTML", ".html")):
        with page.expect_download() as download:
            page.get_by_role("button", name=button).click()
        path = tmp_path / download.value.suggested_filename
        download.value.save_as(path)
        text = path.read_text()
        assert download.value.suggested_filename.endswith(suffix)
        assert "When was the quokka protocol adopted" in text and "[1]" in text and "Harbourside" in text
        if suffix == ".html":
            assert "<script>window" not in text and "<img src=x" not in text and "&#60;script&#62;" in text
            exported = page.context.new_page()
            exported.goto(path.as_uri())
            assert exported.evaluate("typeof window.__xss") == "undefined"
            assert "<script>window.__xss=1</script>" in exported.locator("body").inner_text()
            exported.close()
    assert page.evaluate("typeof window.__xss") == "undefined"

    page.get_by_role("tab", name="Documents", exact=True).click()
    page.get_by_label("Document to remove").click()
    page.get_by_role("option", name="Harbourside practice note").click()
    page.get_by_role("button", name="Remove from the index").click()
    page.locator("#remove-status").get_by_text("Removed").wait_for()
    assert "uploaded copy was deleted" in page.locator("#remove-status").inner_text()
    assert not saved.exists()
    assert "Harbourside practice note" not in page.locator("#documents-list").inner_text()


def test_the_page_works_at_390_px_and_by_keyboard(page: Any) -> None:
    page.set_viewport_size({"width": 390, "height": 844})
    page.get_by_role("button", name="What latent conditions preceded Child R's death?").click()
    page.locator("#chat .answer:not(.streaming)").first.wait_for()
    assert page.evaluate("document.documentElement.scrollWidth") <= 392  # no sideways scrolling
    shot(page, "page-390-answer.png")
    # The answer's sources follow the answer, inside its message (the side panel would sit below the whole chat
    # column: examples, downloads and filters between it and the answer).
    message = page.locator("#chat .message", has=page.locator(".answer")).last
    answer, folded = message.locator(".answer"), message.locator("details.phone-sources")
    assert folded.is_visible() and not page.locator("#sources").is_visible()
    assert folded.bounding_box()["y"] >= answer.bounding_box()["y"] + answer.bounding_box()["height"] - 1
    assert folded.locator(".source-card").count() == answer.locator("a.cite").evaluate_all(
        "links => new Set(links.map(a => a.hash)).size")
    # A citation opens them and lands on its own card, in view.
    answer.locator("a.cite").first.click()
    card = folded.locator("#phone-source-1")
    assert folded.evaluate("d => d.open") and card.is_visible()
    page.wait_for_function("e => { const r = e.getBoundingClientRect(); return r.top >= 0 && r.top < innerHeight; }",
                           arg=card.element_handle(), timeout=5_000)
    shot(page, "page-390-sources.png")
    # Every visible control has an accessible name (label, aria-label or text).
    unnamed = page.evaluate("""() => [...document.querySelectorAll('button, input, select, textarea, a[href]')]
        .filter(e => e.offsetParent !== null && e.type !== 'hidden')
        .filter(e => !(e.getAttribute('aria-label') || e.getAttribute('aria-labelledby') || e.title ||
                       (e.labels && e.labels.length) || e.textContent.trim() || e.closest('label')))
        .map(e => e.outerHTML.slice(0, 120))""")
    assert unnamed == [], unnamed
    # No label spells out markup (Gradio labels chat messages with their raw HTML; the page removes those).
    assert page.locator("[aria-label*='<']").count() == 0
    page.set_viewport_size({"width": 1280, "height": 900})
    shot(page, "page-1280.png")
    assert page.locator("#sources #source-1").is_visible() and not folded.is_visible()  # the panel on a desktop


def choose(tab: Any, label: str, option: str) -> None:
    """Pick an option of a Gradio dropdown as a user does: open it, click the option (in its own list: a closed
    dropdown's list may linger in the page)."""
    box = tab.get_by_role("combobox", name=label, exact=True)
    box.click()
    tab.locator(f"#{box.get_attribute('aria-controls')}").get_by_role("option", name=option, exact=True).click()


def test_the_timeline_plots_child_rs_chronology_and_shows_an_events_paragraph(page: Any, server: str) -> None:
    page.get_by_role("tab", name="Timeline", exact=True).click()
    choose(page, "Case", "Local Child Safeguarding Practice Review: Child R")
    page.locator("#timeline-summary", has_text="Child R").wait_for()
    plot, rows = page.locator("#timeline-plot svg.timeline-svg"), page.locator("#timeline-table tbody tr")
    assert "Death: 14 March 2018" in plot.locator(".incident").text_content()  # SVG: text, not inner_text
    assert rows.count() > 30 and plot.locator("a.event").count() == rows.count()  # by agency: one marker each
    assert {"Police", "Nursery", "MASH / front door"} <= set(plot.locator(".lane-label").all_text_contents())
    assert plot.bounding_box()["height"] > 300  # drawn, not collapsed
    # The table: every event dated and cited.
    cells = rows.first.locator("td").all_inner_texts()
    assert cells[1] == "6 November 2015" and cells[-1].startswith("p. 5")
    assert all(t.startswith("p. ") for t in page.locator("#timeline-table button.timeline-show").all_text_contents())
    # Select an event on the plot: its paragraph appears, the event's sentence marked, with a link to its page.
    row = rows.filter(has_text="nursery staff saw bruising")
    n = row.get_attribute("id").removeprefix("timeline-row-")
    plot.locator(f'a.event[data-event="{n}"]').click()
    detail = page.locator("#timeline-detail")
    detail.get_by_text("5 February 2018 — Nursery").wait_for()
    assert "On 5 February 2018 nursery staff saw bruising" in detail.locator("mark").inner_text()
    assert "paragraph 5.34" in detail.locator(".meta").inner_text()
    href = detail.get_by_role("link", name="Open the document").get_attribute("href")
    assert href.startswith("doc/review-child-r-") and href.endswith("#page=13")
    assert page.request.get(server + href.split("#")[0]).body()[:4] == b"%PDF"
    assert "selected" in (row.locator("button").get_attribute("class") or "")  # its row is marked too
    shot(page, "timeline-1280.png")
    # Or select it in the table, by keyboard.
    button = rows.filter(has_text="Mr X called an ambulance").locator("button")
    button.focus()
    page.keyboard.press("Enter")
    detail.get_by_text("14 March 2018 — Ambulance service").wait_for()
    assert "paragraph 5.45" in detail.inner_text()
    # Grouped by category instead: rows of the taxonomy, the death still marked.
    page.get_by_label("Category", exact=True).check()
    page.locator("#timeline-plot .lane-label", has_text="Workload and capacity").wait_for()
    assert "Death: 14 March 2018" in page.locator("#timeline-plot .incident").text_content()
    page.set_viewport_size({"width": 390, "height": 844})
    assert page.evaluate("document.documentElement.scrollWidth") <= 392  # the plot scrolls in its own box
    page.set_viewport_size({"width": 1280, "height": 900})


def test_findings_show_two_documents_side_by_side(page: Any) -> None:
    page.get_by_role("tab", name="Findings across documents", exact=True).click()
    compare = page.locator("#findings-compare")
    compare.locator(".compare-counts").wait_for()
    choose(page, "First document", "Local Child Safeguarding Practice Review: Child R")
    choose(page, "Second document", "Local Child Safeguarding Practice Review: Child T")
    heads = compare.locator(".compare-counts thead th")
    heads.filter(has_text="Child T").wait_for()
    assert heads.all_inner_texts()[1:] == ["Local Child Safeguarding Practice Review: Child R",
                                          "Local Child Safeguarding Practice Review: Child T"]
    workload = compare.locator('.compare-category[data-category="workload"]')
    assert workload.locator("h4").inner_text() == "Workload and capacity"
    columns = workload.locator(".compare-col")
    assert columns.count() == 2
    for col, child in zip(columns.all(), ("Child R", "Child T"), strict=True):
        assert child in col.locator("h5").inner_text()
        assert "passages record a weakness" in col.locator(".counts").inner_text()
        first = col.locator("li").first
        assert first.locator(".polarity").text_content() == "Weakness"
        assert first.get_by_role("link").get_attribute("href").startswith("doc/review-child-")
    assert compare.locator(".compare-category").count() >= 5
    shot(page, "findings-side-by-side.png")


# -- issue 16: the page a trainer can demo and a practitioner can use on a phone --------------------------------
AXE = ROOT / "tests" / "vendor" / "axe.min.js"  # axe-core 4.14.1 (MPL-2.0, from npm), injected into the page
TABS = ("Ask", "Documents", "Findings across documents", "Timeline")


def open_tab(tab: Any, name: str) -> None:
    tab.get_by_role("tab", name=name, exact=True).click()


def no_sideways_scroll(tab: Any) -> bool:
    return bool(tab.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1"))


def test_at_390_px_the_question_is_on_the_first_screen_and_no_tab_scrolls_sideways(page: Any) -> None:
    page.set_viewport_size({"width": 390, "height": 844})
    page.reload()
    box = page.get_by_role("textbox", name="Question")
    box.wait_for()
    assert box.bounding_box()["y"] + box.bounding_box()["height"] <= 844  # no scrolling to find where to ask
    assert not page.locator("#first-run").is_visible()  # the index is ready: no notice left standing
    shot(page, "ask-390.png")
    for name in TABS:
        open_tab(page, name)  # every tab is a tab on a phone too, none hidden behind a "more" menu
        page.locator('[role="tab"][aria-selected="true"]', has_text=name).wait_for()
        if name == "Findings across documents":
            page.locator("#findings-table table").first.wait_for()
            shot(page, "findings-390.png")
        if name == "Timeline":
            page.locator("#timeline-summary", has_text="Child R").wait_for()
            shot(page, "timeline-390.png")
        assert no_sideways_scroll(page), name
    page.set_viewport_size({"width": 1280, "height": 900})


def test_the_council_filter_lists_each_council_once(page: Any) -> None:
    page.get_by_text("Filters").click()
    box = page.get_by_role("combobox", name="Council", exact=True)
    box.click()
    options = page.locator(f"#{box.get_attribute('aria-controls')}").get_by_role("option").all_inner_texts()
    assert sorted(options) == ["Brackenford", "Ravensmoor", "Wenmarsh"]  # canonical names: each council once
    page.keyboard.press("Escape")


def test_a_findings_cell_shows_weaknesses_then_strengths_ten_at_a_time(page: Any) -> None:
    open_tab(page, "Findings across documents")
    table = page.locator("#findings-table")
    table.locator("table").first.wait_for()
    # The nine latent categories fit a 1280 px window: the last column ends inside the page.
    last = table.locator('[role="columnheader"]').last  # Gradio's Dataframe is a grid of divs, rows virtual
    last.wait_for()
    assert last.bounding_box()["x"] + last.bounding_box()["width"] <= 1280
    assert no_sideways_scroll(page)
    shot(page, "findings-1280.png")
    row = table.locator('[role="row"]', has_text="Child R").first
    row.locator('[role="gridcell"]').nth(1).click()  # workload and capacity
    detail = page.locator("#findings-detail")
    detail.locator(".cell-group > h4").first.wait_for()
    heads = detail.locator(".cell-group > h4").all_inner_texts()
    assert heads[0].startswith("Weaknesses (")
    assert all(h.startswith(("Weaknesses (", "Strengths (")) for h in heads)
    assert "weakness" in detail.locator(".cell-counts").inner_text()
    labels = detail.locator(".finding > .polarity").all_inner_texts()
    assert labels and labels[0].lower() == "weakness"
    assert labels == sorted(labels, key=lambda x: x.lower() != "weakness")  # weaknesses first, then strengths
    weaknesses = int(heads[0].split("(")[1].rstrip(")"))
    shown = detail.locator(".weaknesses > .finding")  # outside any "more"
    assert shown.count() == min(10, weaknesses)
    if weaknesses > 10:
        more = detail.locator(".weaknesses > details.more > summary")
        assert more.inner_text().startswith(f"More weaknesses (11–{min(20, weaknesses)} of {weaknesses})")
        more.click()
        assert detail.locator(".weaknesses > details.more > .finding").count() == min(10, weaknesses - 10)
    # Framing never: the cover, the fictional-case note, the introduction and method are not findings.
    text = detail.inner_text()
    assert "fictional case" not in text.lower() and "Section: 1. Introduction" not in text
    assert "Section: 2. The review process" not in text
    shot(page, "findings-cell-1280.png")


def test_the_timeline_opens_on_child_r_with_unstated_agencies_folded_and_makes_a_briefing(page: Any,
                                                                                          server: str) -> None:
    open_tab(page, "Timeline")
    page.locator("#timeline-summary", has_text="Child R").wait_for()  # the case the first example asks about
    rows = page.locator("#timeline-table tbody tr")
    assert "Safeguarding Practice Review" not in " ".join(rows.all_inner_texts())  # nothing from the cover
    assert "Agency not stated" in page.locator("#timeline-plot .lane-label").all_text_contents()
    folded = page.locator("#timeline-table details.timeline-unstated")
    assert folded.count() == 1 and folded.get_attribute("open") is None
    assert re.match(r"Agency not stated: \d+ more events", folded.locator("summary").inner_text())
    visible = page.locator("#timeline-table .timeline-table-wrap > table tbody tr")
    named = page.locator("#timeline-table .timeline-table-wrap > table tbody tr:not(.incident)")
    assert named.count() > 20 and "Agency not stated" not in [r.locator("td").nth(2).inner_text()
                                                               for r in named.all()]
    # The citation column is not clipped at 1280 px: each citation ends inside the table's box.
    wrap = page.locator("#timeline-table .timeline-table-wrap").bounding_box()
    for button in visible.locator("button.timeline-show").all()[:8]:
        b = button.bounding_box()
        assert b["x"] + b["width"] <= wrap["x"] + wrap["width"]
    folded.locator("summary").click()
    assert folded.get_attribute("open") is not None and folded.locator("tbody tr").first.is_visible()
    shot(page, "timeline-1280.png")
    # The briefing, from one button: a PDF and a printable page.
    page.get_by_role("button", name="Make a case briefing (PDF and printable HTML)").click()
    files = page.locator("#timeline-brief-files a")
    files.nth(1).wait_for()
    hrefs = [a.get_attribute("href") for a in files.all()]
    assert any(h.endswith(".pdf") for h in hrefs) and any(h.endswith(".html") for h in hrefs)
    pdf = next(h for h in hrefs if h.endswith(".pdf"))
    assert page.request.get(pdf if pdf.startswith("http") else server + pdf.lstrip("/")).body()[:4] == b"%PDF"
    html = next(h for h in hrefs if h.endswith(".html"))
    briefing = page.context.new_page()  # served as a download: opened as the file a trainer would open
    briefing.set_content(page.request.get(html if html.startswith("http") else server + html.lstrip("/")).text())
    briefing.locator("h1", has_text="Case briefing").wait_for()
    assert briefing.locator("figure.plot svg circle").count() > 40
    assert briefing.locator("h3[data-category]").count() >= 5
    shot(briefing, "briefing-1280.png")
    briefing.set_viewport_size({"width": 390, "height": 844})
    assert no_sideways_scroll(briefing)
    shot(briefing, "briefing-390.png")
    briefing.close()


def serious_violations(tab: Any, tries: int = 20) -> list[str]:
    """axe-core's serious and critical violations. Gradio fades a block in after its update (opacity
    transitions), which axe reads as low contrast for a moment: a violation counts when it is still there after
    the page has settled, that is, in every one of `tries` runs half a second apart."""
    found: list[str] = []
    for _ in range(tries):
        found = tab.evaluate("""async () => (await axe.run(document, {resultTypes: ['violations']}))
            .violations.filter(v => ['serious', 'critical'].includes(v.impact))
            .map(v => v.id + ': ' + v.nodes.slice(0, 3).map(n => n.target.join(' ')).join(' | '))""")
        if not found:
            return found
        tab.wait_for_timeout(500)
    return found


def test_keyboard_only_ask_and_open_a_source_and_axe_finds_nothing_serious(page: Any) -> None:
    page.keyboard.press("Tab")
    for _ in range(60):  # Tab through the page to the question box
        if page.evaluate("document.activeElement?.getAttribute('aria-label') || document.activeElement?.labels?.[0]"
                         "?.textContent || ''").strip().startswith("Question"):
            break
        page.keyboard.press("Tab")
    page.keyboard.type("What latent conditions preceded Child R's death?")
    page.keyboard.press("Enter")
    page.locator("#chat .answer:not(.streaming)").first.wait_for()
    for _ in range(120):  # on to the first citation link of the answer
        if page.evaluate("document.activeElement?.matches('a.cite') || false"):
            break
        page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.matches('a.cite')")
    target = page.evaluate("document.activeElement.getAttribute('href')")
    page.keyboard.press("Enter")
    page.wait_for_function(f"location.hash === '{target}'")
    for _ in range(120):  # on to that source's "open the document at this page"
        if page.evaluate("document.activeElement?.closest('.source-card .open') !== null"):
            break
        page.keyboard.press("Tab")
    link = page.evaluate("document.activeElement.getAttribute('href')")
    assert link.startswith("doc/") and "#page=" in link
    shot(page, "ask-1280.png")
    page.add_script_tag(path=str(AXE))
    for width in (1280, 390):
        page.set_viewport_size({"width": width, "height": 900 if width == 1280 else 844})
        for name in TABS:
            open_tab(page, name)
            page.locator('[role="tab"][aria-selected="true"]', has_text=name).wait_for()
            if name == "Timeline":
                page.locator("#timeline-summary", has_text="Child R").wait_for()
            if name == "Findings across documents":
                page.get_by_role("button", name="Download as CSV").and_(page.locator(":enabled")).wait_for()
            found = serious_violations(page)
            assert found == [], f"{name} at {width} px: {found}"
    page.set_viewport_size({"width": 1280, "height": 900})
