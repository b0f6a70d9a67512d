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
