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


# -- on real coroners' reports (../shared/data/pfd), asked about as practitioners name people ---------------------
PFD = {"2013-10-04_2013-0252_birmingham-and-solihull.txt": "George Parkes",  # "George Leonard Parkes"
       "2018-08-01_2018-0280_isle-of-wight.txt": "Cuthbert Hingert",  # "Cuthbert Anthony Stanley Hingert"
       "2023-09-14_2023-0333_north-wales-east-and-central.txt": "Richard Griffiths"}  # "Richard Geraint Griffiths"


# reports whose "Matters of concern" heading stands straight above its items' own headings ("1) Effectiveness of
# shift handover meetings"), so that no passage of theirs has it as its section
CONCERNS_UNDER_ITEMS = {"2019-06-19_2019-0202_west-sussex-brighton-and-hove.txt": (
    "What went wrong at the care home before James Francis died?",
    ("shift handover form", "failure of appropriate management records", "no training at all"))}

# a report whose concerns are one passage, a bulleted list: each item is a concern of its own
CONCERNS_LISTED = {"2014-05-20_2014-0234_surrey.txt": (
    "What preceded the death of Rainer Wickens?",
    ("he remained untreated for clot formation for 10 hours in A&E", "Gaps in the medical notes",
     "Poor verbal communication at handovers between treating doctors",
     "Breakdown in communication between junior doctor and radiologist",
     "Delay in commencement of inquiry of the SUI report"))}


@pytest.fixture(scope="module")
def pfd_index(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    from ingest import ingest_paths
    from tests.conftest import need_shared, shared_dir
    from vectorstore import open_index

    folder = need_shared(shared_dir() / "data" / "pfd")
    index = open_index(tmp_path_factory.mktemp("pfd-index"))
    named = [*PFD, *CONCERNS_UNDER_ITEMS, *CONCERNS_LISTED]
    files = sorted(folder.glob("*.txt"))[:12] + [folder / name for name in named]
    assert not ingest_paths(index, sorted(set(files))).failed
    return index


@pytest.mark.parametrize("phrasing", [
    "What latent conditions preceded the death of {name}?",
    "In James Reason's sense, what latent conditions preceded the death of {name}?",
    "what went wrong before {lower} died?",
    "Summarise the coroner's concerns after {upper_last}'s death.",
])
def test_a_person_with_middle_names_is_found_by_first_and_last_name(pfd_index, phrasing: str) -> None:  # type: ignore[no-untyped-def]
    from assistant import ask

    for file, name in PFD.items():
        first, last = name.split()
        question = phrasing.format(name=name, lower=name.lower(), upper_last=f"{first} {last.upper()}")
        answer = ask(pfd_index, question)
        assert not answer.refused, (question, answer.reason)
        assert {c.hit.document.source.rsplit("/", 1)[-1] for c in answer.citations} == {file}


def test_every_concern_is_cited_grouped_by_category(pfd_index) -> None:  # type: ignore[no-untyped-def]
    from assistant import ask

    answer = ask(pfd_index, "What latent conditions preceded the death of George Parkes?")
    passages = pfd_index.passages(answer.citations[0].hit.document.id)
    concerns = [p for p in passages if "concern" in (p.section or "").lower()]
    assert {p.id for p in concerns} <= {c.hit.id for c in answer.citations}
    assert answer.text.splitlines()[0].startswith("**Matters of concern")


@pytest.mark.parametrize("question", ["What did the jury find caused Dean Griffiths' death?",
                                      "How did Dean Griffiths die?"])
def test_asked_the_cause_the_answer_gives_the_finding_then_the_concerns(pfd_index, question: str) -> None:  # type: ignore[no-untyped-def]
    from assistant import ask

    lines = ask(pfd_index, question).text.splitlines()
    assert lines[0] == "**Cause of death**"
    assert "Hypovolaemic shock" in lines[1] and "Gunshot wound" in lines[1]
    assert any(line.startswith("**Matters of concern") for line in lines[2:])


def test_concerns_whose_heading_was_read_as_text_are_all_cited(pfd_index) -> None:  # type: ignore[no-untyped-def]
    from assistant import ask

    # 2023-0333 letters its concerns "a." to "c." under "Matters of concern", which the reader keeps as a line of
    # the first concern's passage; 2014-0034's numbering is taken up by the cause of death's "1a." to "2." lines
    for question, openings in (
            ("What preceded the death of Richard Griffiths?",
             ("The investigation undertaken by the Health Board was deficient", "Transfer of Care document",
              "Patient notes for mental health are still not electronic")),
            ("What preceded the death of Lucy Goulding?",
             ("Lack of consultant supervision", "Lack of national guidelines"))):
        answer = ask(pfd_index, question)
        assert answer.text.splitlines()[0].startswith("**Matters of concern"), answer.text
        cited = " ".join(c.hit.text for c in answer.citations)
        assert all(o in cited for o in openings), (question, cited)


def test_concerns_under_their_items_own_headings_are_all_cited(pfd_index) -> None:  # type: ignore[no-untyped-def]
    from assistant import ask

    for question, quotes in CONCERNS_UNDER_ITEMS.values():
        answer = ask(pfd_index, question)
        assert answer.text.splitlines()[0].startswith("**Matters of concern"), answer.text
        cited = " ".join(c.hit.text for c in answer.citations)
        assert all(q in cited for q in quotes), (question, cited)


def test_each_concern_of_a_list_in_one_passage_is_quoted(pfd_index) -> None:  # type: ignore[no-untyped-def]
    from assistant import ask

    for question, items in CONCERNS_LISTED.values():
        answer = ask(pfd_index, question)
        quoted = answer.text.split("\nSources")[0]
        assert all(item in quoted for item in items), quoted


def test_a_closed_questions_lead_shares_what_it_asks_not_only_the_name(pfd_index) -> None:  # type: ignore[no-untyped-def]
    from assistant import ask

    answer = ask(pfd_index, "How long did Rainer Wickens remain untreated for clot formation in A&E?")
    lead = answer.text.split("**Matters of concern")[0]
    assert "opened an inquest" not in lead and "fell through the roof" not in lead, answer.text


def test_a_closed_question_about_a_person_is_answered_before_the_concerns(pfd_index) -> None:  # type: ignore[no-untyped-def]
    from assistant import ask

    lines = ask(pfd_index, "Were neurological observations carried out on Lucy Goulding on the paediatric ward?"
                ).text.splitlines()
    assert lines[0] == "**From the report**"
    assert "neurological observations were not carried out" in " ".join(lines[1:3])
    assert any(line.startswith("**Matters of concern") for line in lines[2:])


def test_a_lower_case_name_is_read_before_dying() -> None:
    from assistant.scope import read_scope

    assert [p.text for p in read_scope("what systemic failings contributed to geoffrey hoad dying?").people] == \
        ["geoffrey hoad"]
    assert read_scope("what led to the child dying?").people == ()


@pytest.mark.parametrize("name", ["Eleanor Vantwright", "jasper quillfeather", "Mr Quillfeather"])
def test_people_in_no_report_are_refused(pfd_index, name: str) -> None:  # type: ignore[no-untyped-def]
    from assistant import ask

    answer = ask(pfd_index, f"What organisational problems preceded the death of {name}?")
    assert answer.refused and "names" in (answer.reason or "")


def test_the_concerns_stop_at_the_templates_next_part(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from assistant import ask
    from ingest import ingest_paths
    from vectorstore import open_index

    report = tmp_path / "2024-01-01_2024-0001_testshire.txt"
    report.write_text(
        "Title: Prevention of future deaths report – 2024-0001\nDate: 2024-01-01\nArea: Testshire\n"
        "------------------------------------------------------------------------\n\n"
        "Investigation and inquest\n\nOn 2 January 2023 I commenced an investigation into the death of Harriet "
        "Jane Omerod aged 15. The inquest concluded on 1 December 2023.\n\n"
        "Circumstances of the death\n\nHarriet was referred to the community mental health team twice and was "
        "seen once in five months.\n\n"
        "5 CORONER'S CONCERNS\n\n"
        "1. The team held 70 open cases per practitioner, so referrals waited for months without review.\n\n"
        "2. No one checked whether the school's referral had been received.\n\n"
        "6 ACTION SHOULD BE TAKEN\n\n"
        "The trust should publish the team's waiting times every month.\n", encoding="utf-8")
    index = open_index(tmp_path / "index")
    assert not ingest_paths(index, [report]).failed
    cited = " ".join(c.hit.text for c in ask(index, "What preceded the death of Harriet Omerod?").citations)
    assert "70 open cases" in cited and "school's referral" in cited
    assert "waiting times every month" not in cited
