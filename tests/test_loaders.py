"""Loaders on real and generated files: pages, headings, printed paragraph numbers, and every kind of bad input."""

from __future__ import annotations

from pathlib import Path

import pytest

from ingest.errors import CorruptFileError, EmptyFileError, EncryptedFileError, NoTextLayerError, UnsupportedFileError
from ingest.loaders import load_document
from ingest.metadata import detect_metadata
from tests.conftest import need_shared, ofsted_pdf_dir


def make_pdf(path: Path, pages: list[list[str]]) -> Path:
    from fpdf import FPDF

    pdf = FPDF()
    pdf.set_font("helvetica", size=11)
    for lines in pages:
        pdf.add_page()
        for line in lines:
            pdf.multi_cell(0, 6, line, new_x="LMARGIN", new_y="NEXT")
    pdf.output(str(path))
    return path


def test_real_inspection_pdf_has_pages_headings_and_printed_numbers() -> None:
    pdf = need_shared(ofsted_pdf_dir()) / "wigan_80579_2022-07-05.pdf"
    doc = load_document(pdf)
    numbers = [b.number for b in doc.blocks if b.number]
    assert numbers[:5] == ["1", "2", "3", "4", "5"]
    assert len(numbers) == len(set(numbers)) >= 45  # every printed number found once, none invented
    para6 = next(b for b in doc.blocks if b.number == "6")
    assert para6.page == 4 and para6.text.startswith("6. The risk of immediate harm")
    headings = [b.text for b in doc.blocks if b.kind == "heading"]
    assert "What needs to improve?" in headings
    assert not any("Inspection of Wigan local authority children’s services" in b.text for b in doc.blocks[3:])
    meta = detect_metadata(doc, pdf.name)
    assert (meta.kind, meta.council, meta.judgement) == ("inspection", "Wigan", "Requires improvement to be good")
    assert (meta.period_start, meta.period_end) == ("2022-05-09", "2022-05-20")


def test_real_letters_run_in_headings_lone_numbers_and_numbers_without_a_space() -> None:
    """Three ways real Ofsted PDFs misled the paragraph reader: "Main findings" alone on a line above its first
    paragraph (read as that paragraph's first words, so every later finding sat under "What needs to improve");
    a letter's address "2 Bristol Avenue" (read as paragraph 2, so all 15 passages of the letter were cited as ¶2);
    and "10.The vast majority" with no space (so paragraphs 10-54 of Enfield's report were cited as ¶9)."""
    folder = need_shared(ofsted_pdf_dir())
    wigan = load_document(folder / "wigan_80579_2023-06-09_focused-visit.pdf").blocks
    headings = [b.text for b in wigan if b.kind == "heading"]
    assert "Headline findings" in headings and "Main findings" in headings
    after = wigan[[b.text for b in wigan].index("Main findings") + 1]
    assert after.kind == "paragraph" and after.text.startswith("Children in need of help and protection")
    assert not any(b.text.startswith(("Main findings", "Headline findings")) for b in wigan if b.kind != "heading")
    # Ofsted's own address, set mid-letter, is an address block, apart from the finding after it (over a page break)
    address = [b for b in wigan if "Piccadilly Gate" in b.text]
    assert [b.kind for b in address] == ["address"] and address[0].text.endswith("www.gov.uk/ofsted")
    assert any(b.text.startswith("The use of managed teams") and b.page == 2 for b in wigan)

    barnet = load_document(folder / "barnet_80487_2021-08-02_focused-visit.pdf").blocks
    assert [b.number for b in barnet if b.number] == []
    assert any(b.text.startswith("2 Bristol Avenue") for b in barnet)  # kept as text, not as a number

    enfield = [b.number for b in load_document(folder / "enfield_80494_2019-04-15.pdf").blocks if b.number]
    assert enfield == [str(n) for n in range(1, 55)]
    # a chronology table's wrapped cell ("14 October 2021 Ravensmoor" / "Academy") is not a heading
    from ingest.structure import parse_lines

    rows = ["Date Agency Contact", "14 October 2021 Ravensmoor", "Academy",
            "Five-day suspension after a fight. Staff note older youths waiting at the school gate nearby.",
            "The school told the social worker the same afternoon and the strategy meeting was arranged."]
    blocks = parse_lines([[(0, 0, t) for t in rows]])
    assert not any(b.kind == "heading" and b.text == "Academy" for b in blocks)


def test_real_focused_visit_letter_metadata() -> None:
    pdf = need_shared(ofsted_pdf_dir()) / "kent_80476_2024-02-27_focused-visit.pdf"
    meta = detect_metadata(load_document(pdf), pdf.name)
    assert meta.kind == "focused_visit" and meta.council == "Kent"  # the canonical name (vectorstore/councils.json)
    assert meta.period_start == "2024-01-23" and meta.published == "2024-02-27"


def test_generated_pdf_numbered_paragraphs_and_page_numbers(tmp_path: Path) -> None:
    pdf = make_pdf(tmp_path / "review.pdf", [
        ["Serious Case Review: Child Q", "1. Introduction",
         "1.1 This review concerns Child Q, who died in March 2018.", "1.2 The review period ran for two years."],
        ["3. Findings", "3.20 Social workers held between 30 and 50 cases each and felt overwhelmed."]])
    doc = load_document(pdf)
    by_number = {b.number: b for b in doc.blocks if b.number}
    assert by_number["3.20"].page == 2 and "30 and 50 cases" in by_number["3.20"].text
    assert by_number["1.1"].page == 1
    assert [b.text for b in doc.blocks if b.kind == "heading"] == ["Serious Case Review: Child Q", "1. Introduction",
                                                                   "3. Findings"]


def test_docx_html_markdown_and_text(tmp_path: Path) -> None:
    import docx

    d = docx.Document()
    d.add_heading("Findings", level=1)
    d.add_paragraph("2.3 Caseloads were between 30 and 50 children.")
    d.add_paragraph("Managers were absent.", style="List Bullet")
    table = d.add_table(rows=1, cols=2)
    table.rows[0].cells[0].text, table.rows[0].cells[1].text = "3 March 2017", "Police visit"
    d.save(str(tmp_path / "a.docx"))
    blocks = load_document(tmp_path / "a.docx").blocks
    assert [(b.kind, b.number) for b in blocks] == [("heading", None), ("paragraph", "2.3"), ("bullet", None),
                                                     ("row", None)]
    (tmp_path / "b.html").write_text("<html><head><title>Letter</title><script>alert(1)</script></head><body>"
                                     "<h2>Main findings</h2><p>4. Leaders know their services well.</p>"
                                     "<ul><li>Caseloads are high.</li></ul></body></html>")
    html_doc = load_document(tmp_path / "b.html")
    assert html_doc.declared["title"] == "Letter"
    assert [(b.kind, b.number) for b in html_doc.blocks] == [("heading", None), ("paragraph", "4"),
                                                              ("bullet", None)]
    assert "alert" not in html_doc.pages[0]
    (tmp_path / "c.md").write_text("---\ntitle: Primer\nkind: literature\n---\n# 1. Models\n\n"
                                   "1.1 Reason described latent conditions.\nThey lie dormant.\n\n- Swiss cheese\n")
    md = load_document(tmp_path / "c.md")
    assert md.declared == {"title": "Primer", "kind": "literature"}
    para = next(b for b in md.blocks if b.number == "1.1")
    assert para.text == "1.1 Reason described latent conditions. They lie dormant."
    (tmp_path / "d.txt").write_bytes("Caf\xe9 staff said caseloads \x93were\x94 high.".encode("latin-1"))
    text = load_document(tmp_path / "d.txt")
    assert "Café staff said caseloads “were” high." in text.pages[0]  # cp1252 decoded, not rejected


@pytest.mark.parametrize(("name", "content", "error", "reason"), [
    ("corrupt.pdf", b"%PDF-1.4 this is not really a pdf", CorruptFileError, "not a readable PDF"),
    ("empty.pdf", b"", EmptyFileError, "empty file"),
    ("empty.txt", b"  \n\n ", EmptyFileError, "empty file"),
    ("binary.txt", bytes(range(256)) * 8, CorruptFileError, "binary content"),
    ("broken.docx", b"PK\x03\x04 not a zip really", CorruptFileError, "not a readable .docx"),
    ("image.png", b"\x89PNG\r\n", UnsupportedFileError, "unsupported file type"),
])
def test_bad_files_raise_a_named_reason(tmp_path: Path, name: str, content: bytes, error: type[Exception],
                                        reason: str) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(error, match=reason):
        load_document(path)


def test_encrypted_pdf(tmp_path: Path) -> None:
    from pypdf import PdfReader, PdfWriter

    plain = make_pdf(tmp_path / "plain.pdf", [["1.1 Secret findings."]])
    writer = PdfWriter()
    for page in PdfReader(plain).pages:
        writer.add_page(page)
    writer.encrypt(user_password="secret", owner_password="owner")
    with open(tmp_path / "locked.pdf", "wb") as fh:
        writer.write(fh)
    with pytest.raises(EncryptedFileError, match="password"):
        load_document(tmp_path / "locked.pdf")


def test_scanned_pdf_without_text_layer(tmp_path: Path) -> None:
    from fpdf import FPDF
    from PIL import Image

    Image.new("RGB", (200, 100), "white").save(tmp_path / "scan.png")
    pdf = FPDF()
    pdf.add_page()
    pdf.image(str(tmp_path / "scan.png"), x=10, y=10, w=180)
    pdf.output(str(tmp_path / "scan.pdf"))
    with pytest.raises(NoTextLayerError, match="no text layer: needs OCR"):
        load_document(tmp_path / "scan.pdf")


def test_text_extraction_without_form_feeds_keeps_printed_pages_and_lone_numbers(tmp_path: Path) -> None:
    """pdftotext output that lost its form feeds: each page ends with a running footer (title, dates) and the page
    number on a line of its own; paragraph numbers may sit alone ("2.") above their text. The pages come back as
    printed, the footer leaves the paragraph it interrupted, and every number is kept."""
    footer = ["Inspection of Ashdown local authority children’s services", "15 to 26 November 2021", ""]
    lines = ["Inspection of Ashdown local authority children’s services", "", "1.", "",
             "Leaders know their services well and act on what they find.", "", "2.", "",
             "Caseloads in the assessment teams are too high, and some social workers hold more",
             *footer, "2", "", "", "than thirty children. Managers are recruiting.", "",
             "3. Supervision is regular and reflective.", *footer, "3", "", "",
             "4. Children in care are visited regularly.", *footer, "4", ""]
    path = tmp_path / "ashdown.txt"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    doc = load_document(path)
    numbered = {b.number: b for b in doc.blocks if b.number}
    assert list(numbered) == ["1", "2", "3", "4"]
    assert [numbered[n].page for n in ("1", "2", "3", "4")] == [1, 1, 3, 4]
    assert numbered["2"].text.endswith("some social workers hold more than thirty children. Managers are recruiting.")
    assert not any("15 to 26 November 2021" in b.text for b in doc.blocks)


def test_real_text_extraction_pages_match_the_pdf() -> None:
    root = need_shared(ofsted_pdf_dir()).parent
    text = load_document(root / "text" / "ilacs" / "bedford_80428_2022-01-14.txt")
    pdf = load_document(root / "pdf" / "bedford_80428_2022-01-14.pdf")
    in_text = {b.number: b.page for b in text.blocks if b.number}
    in_pdf = {b.number: b.page for b in pdf.blocks if b.number}
    assert set(in_text) == set(in_pdf) and len(in_text) >= 45
    # the stretch before the first printed number (cover and page 2) is page 1; every later page as printed
    assert sum(in_text[n] == in_pdf[n] for n in in_text) >= len(in_text) - 4


def test_judgement_as_older_reports_state_it() -> None:
    """SIF reports (2014-18) state the judgement as "Children's services in Surrey are inadequate"; a report's
    "Overall effectiveness: Inadequate" further on can be the previous inspection's (Lancashire 2018)."""
    root = need_shared(ofsted_pdf_dir()).parent
    cases = {root / "pdf" / "surrey_80567_2018-05-16.pdf": "Inadequate",
             root / "pdf" / "rutland_80547_2017-02-13.pdf": "Requires improvement to be good",
             root / "pdf" / "cornwall_80454_2016-06-27.pdf": "Good",
             root / "text" / "ilacs" / "lancashire_80480_2018-08-17.txt": "Requires improvement to be good"}
    for path, judgement in cases.items():
        assert detect_metadata(load_document(path), path.name).judgement == judgement, path.name
