"""Kinds and titles of texts that are neither reviews nor inspections, read through the real loader: a blog post,
an article or a book chapter about serious case reviews is literature; a text with no title line gets a short one."""

from __future__ import annotations

from pathlib import Path

import pytest

from ingest.loaders import load_document
from ingest.metadata import detect_metadata

REVIEW_TALK = ("Serious case reviews keep finding the same things. A serious case review is commissioned by the "
               "safeguarding partnership; its terms of reference set the review period. ") * 3


@pytest.mark.parametrize("name, text", [
    ("caseloads-blog.txt", "Why reviews blame the social worker\n\nPosted by Sam Ahmed on 3 March 2021\n\n"
                           + REVIEW_TALK),
    ("reason-article.txt", "Latent conditions in child protection\n\nKeywords: serious case review; safety "
                           "science\n\nIn this article we read forty reviews. " + REVIEW_TALK),
    ("chapter-3.txt", "Chapter 3: Learning from serious case reviews\n\n" + REVIEW_TALK
                      + "\nIn Brandon, M. (eds.) Understanding serious case reviews. ISBN 978-0-00-000000-0."),
])
def test_writing_about_reviews_is_literature(tmp_path: Path, name: str, text: str) -> None:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    assert detect_metadata(load_document(path), name).kind == "literature"


def test_a_review_that_cites_literature_stays_a_review(tmp_path: Path) -> None:
    path = tmp_path / "scr-child-k.txt"
    path.write_text("Serious Case Review: Child K\n\n" + REVIEW_TALK + "\nReferences\nReason, J. (1990) Human "
                    "error. Cambridge University Press. Munro, E. et al. (2011) The Munro review.", encoding="utf-8")
    assert detect_metadata(load_document(path), path.name).kind == "review"


def test_a_text_without_a_title_line_gets_a_short_title(tmp_path: Path) -> None:
    opening = ("Over the last decade the caseloads carried by social workers in the team rose from around twenty "
               "children each to well over thirty, while the number of managers fell and the case management "
               "system was replaced twice. ")
    path = tmp_path / "notes_on-caseloads.txt"
    path.write_text(opening * 4, encoding="utf-8")
    meta = detect_metadata(load_document(path), path.name)
    assert meta.title == "Notes on caseloads"


def test_a_title_line_is_kept(tmp_path: Path) -> None:
    path = tmp_path / "x.txt"
    path.write_text("Staff turnover and the Child R review\n\n" + REVIEW_TALK, encoding="utf-8")
    assert detect_metadata(load_document(path), path.name).title == "Staff turnover and the Child R review"


def test_a_short_text_is_the_text_and_a_title_block_is_a_cover(tmp_path: Path) -> None:
    """A cover is the page that opens a document before its text: a review's title page. A one-page abstract (short
    first paragraph, short end) and a one-paragraph note are the text itself, searched and quoted like any finding (as
    covers they were demoted and never quoted: a third of SciFact's passages)."""
    from ingest import ingest_paths
    from vectorstore import open_index

    abstract = tmp_path / "statins-abstract.md"  # as `latent eval --beir` writes a corpus document
    abstract.write_text("---\nkind: literature\ntitle: Statin use and delirium in older inpatients\n---\n"
                        "Delirium is common in older inpatients.\n\n"
                        + "We followed 412 older inpatients for delirium over six months and recorded every statin "
                          "prescribed on admission. " * 9
                        + "\n\nStatin use on admission was associated with a lower risk of delirium.\n",
                        encoding="utf-8")
    note = tmp_path / "panel-note.txt"
    note.write_text("The fostering panel met in the Orchard Room every second Tuesday.\n", encoding="utf-8")
    review = tmp_path / "scr-child-k.txt"
    review.write_text("Serious Case Review: Child K\n\nWenmarsh Safeguarding Partnership\n\nJune 2019\n\f"
                      "Findings\n\n" + REVIEW_TALK + "\n", encoding="utf-8")  # a title page, then the text
    with open_index(tmp_path / "index") as ix:
        assert not ingest_paths(ix, [abstract, note, review]).failed
        roles = {Path(d.source).name: [(p.role, p.text) for p in ix.passages(d.id)] for d in ix.documents()}
    assert all(role == "finding" for role, _ in roles["statins-abstract.md"]), roles["statins-abstract.md"]
    assert any("lower risk of delirium" in t for _, t in roles["statins-abstract.md"])
    assert [role for role, _ in roles["panel-note.txt"]] == ["finding"], roles["panel-note.txt"]
    assert roles["scr-child-k.txt"][0][0] == "cover", roles["scr-child-k.txt"]
    assert roles["scr-child-k.txt"][-1][0] == "finding", roles["scr-child-k.txt"]
