"""Sentence splitting on the text our loaders produce: wrapped PDF lines, bullets, numbered paragraphs, Markdown."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vectorstore.sentences import split_sentences

OFSTED_TEXT = Path("/work/shared/data/ofsted/text")


def sentences(text: str) -> list[str]:
    return [text[start:end] for start, end in split_sentences(text)]


def flat(text: str) -> list[str]:
    """Sentences with internal line breaks folded, for comparing wrapped text."""
    return [" ".join(s.split()) for s in sentences(text)]


def test_plain_sentences() -> None:
    assert sentences("Caseloads are too high. Staff are overwhelmed! Is it safe? Yes.") == [
        "Caseloads are too high.", "Staff are overwhelmed!", "Is it safe?", "Yes."]


def test_empty_and_whitespace() -> None:
    assert split_sentences("") == []
    assert split_sentences("   \n\n  ") == []


@pytest.mark.parametrize("text, expected", [
    ("Partners, e.g. the police, attend. They share information.",
     ["Partners, e.g. the police, attend.", "They share information."]),
    ("Some agencies, i.e. Health and Police, were absent. Others came.",
     ["Some agencies, i.e. Health and Police, were absent.", "Others came."]),
    ("Mr Smith and Dr. Jones met Mrs. Brown. Then they left.",
     ["Mr Smith and Dr. Jones met Mrs. Brown.", "Then they left."]),
    ("See para. 3.20 of the review. It is clear.", ["See para. 3.20 of the review.", "It is clear."]),
    ("This is recommendation No. 5 in the list. It was accepted.",
     ["This is recommendation No. 5 in the list.", "It was accepted."]),
    ("The inspector, Brenda J. McInerney, visited. She wrote the letter.",
     ["The inspector, Brenda J. McInerney, visited.", "She wrote the letter."]),
    ("The social worker visited Child A. The mother was present.",
     ["The social worker visited Child A.", "The mother was present."]),
    # a coroner's medical cause of death: Part I's lines 1a-1c (or Ia-Ic) are labels, not sentence ends
    ("The medical cause of death given was: 1a. Brain stem herniation 1b. Hydrocephalus. My conclusion was: natural.",
     ["The medical cause of death given was: 1a. Brain stem herniation 1b. Hydrocephalus.",
      "My conclusion was: natural."]),
    ("The cause of death was Ia. Acute pulmonary oedema Ib. Heart failure. The jury agreed.",
     ["The cause of death was Ia. Acute pulmonary oedema Ib. Heart failure.", "The jury agreed."]),
    ("The risk was rated at level 1a. A plan followed.", ["The risk was rated at level 1a.", "A plan followed."]),
    ("1a. Brain stem herniation", ["1a. Brain stem herniation"]),
])
def test_abbreviations_and_initials(text: str, expected: list[str]) -> None:
    assert sentences(text) == expected


def test_numbers_do_not_split() -> None:
    text = "Caseloads rose by 2.5% in 2018. Paragraph 3.20 describes the visit. Costs were £1.2m."
    assert sentences(text) == ["Caseloads rose by 2.5% in 2018.", "Paragraph 3.20 describes the visit.",
                               "Costs were £1.2m."]


def test_quotes_close_the_sentence() -> None:
    text = 'She said "I am scared." Then she left. \u2018It was fine,\u2019 he said. The file was closed.'
    assert sentences(text) == ['She said "I am scared."', "Then she left.", "\u2018It was fine,\u2019 he said.",
                               "The file was closed."]


def test_question_inside_quote_continues() -> None:
    assert sentences('"Why?" she asked. Nobody knew.') == ['"Why?" she asked.', "Nobody knew."]


def test_bullets_are_sentences_without_their_glyph() -> None:
    text = ("What needs to improve in this area of social work practice\n"
            "\u25fc The quality of children\u2019s plans\n"
            "\u2022 Capturing children\u2019s views in their assessments.\n"
            "- The quality of case supervision for staff\n"
            "\uf06e Learning from case audits.\n")
    assert sentences(text) == [
        "What needs to improve in this area of social work practice",
        "The quality of children\u2019s plans",
        "Capturing children\u2019s views in their assessments.",
        "The quality of case supervision for staff",
        "Learning from case audits.",
    ]


def test_inline_bullets_split() -> None:
    assert sentences("Strengths: \u25fc stable staff \u25fc low caseloads") == [
        "Strengths:", "stable staff", "low caseloads"]


def test_hyphens_inside_lines_are_not_bullets() -> None:
    assert sentences("Work with pre- or non-verbal children is good - and improving.") == [
        "Work with pre- or non-verbal children is good - and improving."]


def test_wrapped_pdf_lines_join_and_headings_stand_alone() -> None:
    text = ("Overview\n"
            "Since the last inspection of children\u2019s services in February 2017, actions taken by\n"
            "leaders have improved the stability of the social care workforce and reduced social\n"
            "work caseloads. These changes are resulting in improving outcomes for children in\n"
            "need and children in need of protection.\n"
            "Findings\n"
            "The quality of services for children in need and children in need of protection is\n"
            "improving.\n")
    assert flat(text) == [
        "Overview",
        "Since the last inspection of children\u2019s services in February 2017, actions taken by leaders have "
        "improved the stability of the social care workforce and reduced social work caseloads.",
        "These changes are resulting in improving outcomes for children in need and children in need of "
        "protection.",
        "Findings",
        "The quality of services for children in need and children in need of protection is improving.",
    ]


def test_wrapped_line_ending_in_a_proper_noun_is_not_a_heading() -> None:
    text = ("By investing in key areas, such as the Social Work Academy and new programmes with the\n"
            "Family Drug and Alcohol Court, leaders have been able to develop and retain skilled staff.\n"
            "A second sentence follows here on its own line and it is also quite long, as lines are.\n")
    assert len(sentences(text)) == 2


def test_numbered_paragraphs_start_sentences_without_their_number() -> None:
    text = ("10. Oversight, guidance and direction by managers are not ensuring that enough\n"
            "assessments and plans are good.\n"
            "11. The transfer of information about families between teams is not consistently\n"
            "well managed.\n"
            "3.20 The social worker visited the family twice.\n")
    assert flat(text) == [
        "Oversight, guidance and direction by managers are not ensuring that enough assessments and plans are "
        "good.",
        "The transfer of information about families between teams is not consistently well managed.",
        "The social worker visited the family twice.",
    ]


def test_dates_at_line_start_are_not_paragraph_numbers() -> None:
    text = "8 January 2019\nColin Foster\nDirector of Children\u2019s Services\n"
    assert sentences(text) == ["8 January 2019", "Colin Foster", "Director of Children\u2019s Services"]


def test_salutation_is_its_own_sentence() -> None:
    text = ("Dear Mr Foster,\nFocused visit to Bedford Borough Council children\u2019s services\n"
            "This letter summarises the findings of a focused visit to Bedford Borough Council\n"
            "children\u2019s services on 11 December 2018.\n")
    assert flat(text)[0] == "Dear Mr Foster,"


def test_page_numbers_and_lone_numbers_are_dropped() -> None:
    text = "The plan was reviewed.\n\n3\n\n5.\n\nThe child was seen alone.\n"
    assert sentences(text) == ["The plan was reviewed.", "The child was seen alone."]


def test_markdown_paragraphs_and_headings() -> None:
    # Heading marks and section numbers are left out, like paragraph numbers: the span is the words.
    text = ("# 5. Analysis\n\n"
            "5.1 The health visitor was not told why the visit was requested. She was not sent the referral.\n"
            "## Findings\n"
            "- Caseloads were too high\n"
            "- Supervision was infrequent\n")
    assert sentences(text) == [
        "Analysis", "The health visitor was not told why the visit was requested.",
        "She was not sent the referral.", "Findings", "Caseloads were too high", "Supervision was infrequent"]


def test_spans_index_the_original_text() -> None:
    text = "  \u25fc First point here.\n\n  Second point.  "
    spans = split_sentences(text)
    assert spans == [(text.index("First"), text.index("here.") + 5),
                     (text.index("Second"), text.index("point.  ") + 6)]


@pytest.mark.skipif(not OFSTED_TEXT.exists(), reason="the Ofsted corpus is not on this machine")
def test_real_focused_visit_letter() -> None:
    path = next(OFSTED_TEXT.glob("focused_visits/bedford_80428_2019-01-04.txt"))
    got = flat(path.read_text(encoding="utf-8"))
    assert "Children are seen alone where possible and appropriate." in got
    assert ("Leaders know the service well and have a realistic view of the quality of social work practice."
            in got)
    assert "The quality of case supervision for staff." in got


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("ab C.!?\n\u25fc-\u20193 e.g\"")), max_size=200))
def test_spans_are_ordered_stripped_and_in_bounds(text: str) -> None:
    spans = split_sentences(text)
    previous_end = 0
    for start, end in spans:
        assert previous_end <= start < end <= len(text)
        assert not text[start].isspace() and not text[end - 1].isspace()
        assert any(ch.isalpha() for ch in text[start:end])
        previous_end = end
