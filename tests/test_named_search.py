"""On real Ofsted reports: a question naming a council and a year is answered from that council's report of that
year, ranked by what it asks about (not by the council's name, which every passage there shares); a figure question
is answered only by a sentence that states a figure about what it asks."""

from __future__ import annotations

import pytest

from assistant import ask
from ingest import ingest_paths
from tests.conftest import need_shared, ofsted_pdf_dir
from vectorstore import SearchFilters, open_index

FILES = ("bedford_80428_2025-08-27.pdf", "bedford_80428_2022-01-14.pdf", "bedford_80428_2019-12-18_focused-visit.pdf",
         "kent_80476_2024-02-27_focused-visit.pdf", "rochdale_80542_2019-02-01_focused-visit.pdf")


@pytest.fixture(scope="module")
def index(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    folder = need_shared(ofsted_pdf_dir())
    ix = open_index(tmp_path_factory.mktemp("named-index"))
    report = ingest_paths(ix, [folder / f for f in FILES])
    assert not report.failed
    return ix


def test_a_council_and_year_question_is_ranked_by_its_topic(index) -> None:  # type: ignore[no-untyped-def]
    q = "What did Ofsted say about caseloads in Bedford in 2025?"
    hits = index.search(q, k=5)
    assert all(h.document.source.endswith("bedford_80428_2025-08-27.pdf") for h in hits[:3])
    assert any("caseloads are too high" in h.text for h in hits[:3]), [h.text[:80] for h in hits]
    a = ask(index, q)
    assert not a.refused and any("caseloads are too high" in c.hit.text for c in a.citations)


def test_each_hit_says_why_it_ranked(index) -> None:  # type: ignore[no-untyped-def]
    """Index.rank explains its hits: the lists that found each one (with its rank there), the boost for what the
    query names, the probe of a latent category, and the cosine to the question."""
    from vectorstore.ranking import PROBE_TAKE, RankRequest

    hits = index.rank(RankRequest("What did Ofsted say about caseloads in Bedford in 2025?", 5)).hits
    top = hits[0].why
    assert top.boost > 0 and {name for name, _ in top.lists} & {"named:dense", "named:lexical"}, top
    assert all(rank >= 1 for _, rank in top.lists) and 0 < top.similarity <= 1
    assert hits[0].score == pytest.approx(max(h.score for h in hits))
    bedford = tuple(d.id for d in index.documents() if d.source.endswith("bedford_80428_2025-08-27.pdf"))
    latent = index.rank(RankRequest("What organisational factors lay behind the caseloads?", 5,
                                    SearchFilters(documents=bedford), latent=True)).hits
    probes = [h for h in latent if h.why.probe]
    assert latent[:5] and all(h.why.probe is None for h in latent[:5]) and probes
    assert all(h.document.id in bedford and not h.boilerplate for h in probes)
    per_category: dict[str, int] = {}
    for h in probes:
        per_category[h.why.probe] = per_category.get(h.why.probe, 0) + 1
        assert any(t.category == h.why.probe and t.polarity == "negative" for t in h.passage.tags)
        assert h.why.category_similarity is not None
    assert max(per_category.values()) <= PROBE_TAKE


def test_a_figure_about_something_else_does_not_answer_a_figure_question(index) -> None:  # type: ignore[no-untyped-def]
    """Kent's 2024 letter gives ages ("16 and 17-year-old homeless children") but no caseload figure."""
    a = ask(index, "What was the average number of children on a social worker's caseload in Kent at the 2024 "
                   "focused visit?")
    assert a.refused and a.reason == "the passages found state no figure", a.text[:300]


def test_which_councils_were_judged_is_counted_from_every_report(index) -> None:  # type: ignore[no-untyped-def]
    """Counting is not ranking: every inspection report with that judgement, each citing its own grade."""
    a = ask(index, "Which councils were judged to require improvement?")
    assert not a.refused
    lines = a.text.splitlines()
    assert lines[0] == "**Requires improvement to be good: 1 of the 2 inspection reports indexed**", a.text
    assert [c.hit.document.source.rsplit("/", 1)[-1] for c in a.citations] == ["bedford_80428_2025-08-27.pdf"]
    quote = "Overall effectiveness Requires improvement to be good"
    assert f"{quote} [1]" in lines and quote in " ".join(a.citations[0].hit.text.split())
    good = ask(index, "Which local authorities were rated good?")
    assert good.text.splitlines()[0] == "**Good: 1 of the 2 inspection reports indexed**", good.text
    assert not ask(index, "What did Ofsted find about good practice in Bedford?").text.startswith("**Good:")


def test_a_judgement_stated_on_a_cover_page_is_quoted_alone(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Surrey's 2018 cover page runs its title, dates and "Children's services in Surrey are inadequate" together
    with the table's "1." after it: only the statement is quoted."""
    ix = open_index(tmp_path / "index")
    assert not ingest_paths(ix, [need_shared(ofsted_pdf_dir()) / "surrey_80567_2018-05-16.pdf"]).failed
    a = ask(ix, "Which councils were judged inadequate?")
    assert a.text.splitlines()[3] == "Children’s services in Surrey are inadequate [1]", a.text
    ix.close()


SIF_TEXTS = ("wakefield_80451_2016-09-20.txt", "suffolk_80565_2016-02-11.txt", "nottinghamshire_80534_2015-07-20.txt",
             "south-gloucestershire_80556_2017-02-13.txt", "kingston-upon-hull_80477_2015-02-10.txt")


def test_a_reports_headline_judgement_is_found_for_a_judgement_question(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Every report of the 2013-2017 framework opens with the same title block, so the passage holding the headline
    ("Children's services in Wakefield … require improvement to be good.") read as template text and was demoted
    below the report's findings; and its words are far from "what was the overall judgement". It is not demoted,
    and for a judgement question the passages stating one join the candidates."""
    from vectorstore.sections import states_judgement

    folder = need_shared(ofsted_pdf_dir().parent / "text" / "ilacs")
    ix = open_index(tmp_path / "index")
    assert not ingest_paths(ix, [folder / f for f in SIF_TEXTS]).failed
    for q, council, headline in (
            ("What was the overall judgement of Wakefield children's services in the 2016 inspection?", "wakefield",
             "require improvement to be good"),
            ("What was the overall judgement of Suffolk children's services in the 2015 inspection?", "suffolk",
             "Suffolk County Council are good")):
        hits = ix.search(q, k=5)
        found = [h for h in hits if council in h.document.source and headline in " ".join(h.text.split())]
        assert found and not found[0].boilerplate, [h.text[:80] for h in hits]
    assert not states_judgement("Social workers are good at building relationships with children.")
    assert not states_judgement("Inspection of services for children in need of help and protection")
    ix.close()
