"""One council, one name: every spelling of a council reads as its canonical name (vectorstore/councils.json)."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from tests.conftest import shared_dir
from vectorstore.councils import all_councils, canonical_council, councils_named, find_council, related_councils

MANIFEST = Path(__file__).resolve().parents[2] / "shared" / "data" / "ofsted" / "manifest.csv"


@pytest.mark.parametrize(("spelling", "canonical"), [
    ("Bedford", "Bedford"), ("Bedford Borough", "Bedford"), ("Bedford Borough council", "Bedford"),
    ("Calderdale Metropolitan Borough Council", "Calderdale"), ("Plymouth City Council", "Plymouth"),
    ("the City of London Corporation", "City of London"), ("London Corporation", "City of London"),
    ("BCP Council", "Bournemouth, Christchurch and Poole"), ("Telford & Wrekin", "Telford and Wrekin"),
    ("Hull City Council", "Kingston upon Hull"), ("County Durham", "Durham"), ("St. Helens", "St Helens"),
    ("London Borough of Hammersmith and Fulham", "Hammersmith and Fulham"), ("Wigan’s", "Wigan"),
])
def test_every_spelling_is_one_council(spelling: str, canonical: str) -> None:
    assert canonical_council(spelling) == canonical


def test_an_unknown_council_keeps_its_own_name_without_generic_words() -> None:
    # the bundled samples' councils are invented: they must still group with their other spellings
    assert canonical_council("Brackenford City Council") == canonical_council("Brackenford") == "Brackenford"
    assert canonical_council("") is None


def test_london_is_not_the_city_of_london() -> None:
    assert find_council("London") is None
    assert councils_named("the London Borough of Barnet") == ["Barnet"]


def test_reorganised_councils_know_their_successors_and_predecessors() -> None:
    assert {c for c, rel, _ in related_councils("Northamptonshire") if rel == "successor"} == {
        "North Northamptonshire", "West Northamptonshire"}
    assert related_councils("West Northamptonshire") == (("Northamptonshire", "predecessor", "2021-04-01"),)
    assert {c for c, _, _ in related_councils("Poole")} == {"Bournemouth, Christchurch and Poole"}
    assert {c for c, _, _ in related_councils("Cumbria")} == {"Cumberland", "Westmorland and Furness"}


def test_names_in_text_longest_first_and_ordinary_words_need_capitals() -> None:
    assert councils_named("North Northamptonshire and then Northants") == ["North Northamptonshire",
                                                                           "Northamptonshire"]
    assert councils_named("reading the letter about Bury") == ["Bury"]
    assert councils_named("caseloads in the square mile") == []


def test_the_list_covers_every_council_in_england_with_childrens_services() -> None:
    current = [c for c in all_councils() if c.until is None]
    assert len(current) == 153  # upper-tier authorities in England since April 2023
    assert len({c.name for c in all_councils()}) == len(all_councils())


@pytest.mark.skipif(not MANIFEST.exists(), reason="needs ../shared/data/ofsted/manifest.csv")
def test_every_council_of_the_shared_ofsted_documents_is_known() -> None:
    with MANIFEST.open(encoding="utf-8") as fh:
        unknown = {row["council"] for row in csv.DictReader(fh) if find_council(row["council"]) is None}
    assert not unknown


def test_a_town_in_a_postal_address_is_not_the_letters_subject() -> None:
    """The Trafford letter is posted to 'Stretford Manchester M32 0TH': it does not answer a question about
    Manchester (o-41 of the Ofsted gold set was answered from it)."""
    from types import SimpleNamespace

    from assistant.answer import _names_council

    def hit(text: str) -> object:
        document = SimpleNamespace(title="Focused visit to Trafford Council", about=None)
        return SimpleNamespace(text=text, document=document)

    address = "Trafford Town Hall Talbot Rd Old Trafford Stretford Manchester M32 0TH Dear Ms McGregor"
    assert not _names_council([hit(address)], "Manchester City Council")  # type: ignore[list-item]
    assert _names_council([hit("Leaders in Manchester have reduced caseloads.")], "Manchester")  # type: ignore[list-item]


def test_list_filter_and_themes_show_each_council_once(tmp_path: Path) -> None:
    """Five real letters print Bedford as "Bedford", "Bedford Borough" and "Bedford Borough Council", and
    Calderdale with and without "Metropolitan Borough Council": one name each in `latent list`'s rows, the page's
    council filter and the themes matrix."""
    from assistant.themes import themes_matrix
    from assistant.web.session import filter_choices
    from ingest import ingest_paths
    from vectorstore import open_index

    pdfs = shared_dir() / "data" / "ofsted" / "pdf"
    names = ["bedford_80428_2019-12-18_focused-visit.pdf", "bedford_80428_2022-01-14.pdf",
             "bedford_80428_2025-08-27.pdf", "calderdale_80444_2018-12-19.pdf",
             "calderdale_80444_2023-06-22_focused-visit.pdf"]
    index = open_index(tmp_path / "index")
    report = ingest_paths(index, [pdfs / n for n in names])
    assert not report.failed, report.failed
    docs = index.documents()
    assert sorted(d.council or "" for d in docs) == ["Bedford"] * 3 + ["Calderdale"] * 2
    assert sorted(filter_choices(docs).councils) == ["Bedford", "Calderdale"]
    matrix = themes_matrix(index)
    assert {row.council for row in matrix.documents} == {"Bedford", "Calderdale"}


def test_greater_manchester_is_a_region_not_manchester() -> None:
    assert councils_named("Area: Greater Manchester North") == []
    assert councils_named("Greater Manchester Police told Manchester City Council") == ["Manchester"]


def test_a_post_town_is_not_a_council_mention() -> None:
    assert councils_named("Talbot Rd Old Trafford Stretford Manchester M32 0TH Dear Ms McGregor") == ["Trafford"]
