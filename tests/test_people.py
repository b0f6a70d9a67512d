"""A person named in a question is found in the documents by name tokens, not by the exact string."""

from __future__ import annotations

import pytest

from vectorstore.people import asked_names, names_person, slug_words

COMMON = {"what", "which", "why", "how", "did", "the", "using", "swiss", "cheese", "in", "were", "latent", "as",
          "according", "to"}
REPORT = ("I opened an investigation into the death of Jane Elizabeth SMITH, known as Elizabeth (Beth) Smith. "
          "Her mother, Mrs Anne O'Neill-Hart, gave evidence.")


def one(question: str):
    names = asked_names(question, COMMON)
    assert len(names) == 1, names
    return names[0]


@pytest.mark.parametrize("asked", ["Jane Smith", "JANE SMITH", "Jane SMITH", "Beth Smith", "Elizabeth Smith",
                                   "Mrs Smith", "Anne O'Neill-Hart", "Mrs O'Neill-Hart", "Anne Hart"])
def test_a_name_matches_with_middle_names_any_case_brackets_titles_and_hyphens(asked: str) -> None:
    assert names_person(REPORT, one(f"What preceded the death of {asked}?"))


@pytest.mark.parametrize("asked", ["John Smith", "Jane Brown", "Mr Jones"])
def test_other_people_do_not_match(asked: str) -> None:
    assert not names_person(REPORT, one(f"What preceded the death of {asked}?"))


def test_possessives_are_names_too() -> None:
    assert one("What went wrong before Jane Smith's death?").text == "Jane Smith"
    assert one("Were staffing problems behind Mr Parkes’s death?").last == "parkes"


@pytest.mark.parametrize("question", [
    "In James Reason's sense, what latent conditions preceded the death of Jane Smith?",
    "Using James Reason’s Swiss cheese model, why did Jane Smith die?",
    "As Eileen Munro argued, what went wrong before Jane Smith died?",
    "According to Charles Vincent (1998), what contributed to the death of Jane Smith?",
])
def test_authors_a_question_cites_are_not_its_subject(question: str) -> None:
    assert [n.text for n in asked_names(question, COMMON)] == ["Jane Smith"]


def test_reports_named_after_people_are_not_people() -> None:
    assert asked_names("What did the Munro Review say about caseloads?", COMMON) == []
    assert asked_names("Did Lord Laming's recommendations on supervision help?", COMMON) == []


def test_a_name_only_in_a_web_address_is_read_from_it() -> None:
    words = slug_words("https://www.judiciary.uk/prevention-of-future-death-reports/martin-leslie-brown/")
    assert names_person(words, one("What preceded the death of Martin Brown?"))
