"""The index on a real Chroma folder with the real model: search, re-ingest, replace, remove, repair, models."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from ingest import ingest_paths
from vectorstore import ModelMismatchError, SearchFilters, open_index
from vectorstore.settings import DEFAULT_MODEL, EmbeddingSettings, Settings


def test_caseload_question_finds_a_caseload_passage(small_index) -> None:  # type: ignore[no-untyped-def]
    hits = small_index.search("how many children is each social worker responsible for", k=3)
    assert any("caseload" in h.text.lower() for h in hits)
    for h in hits:
        assert h.passage.page >= 1 and h.document.title and Path(h.document.source).exists()


def test_filters_and_query_named_boost(small_index) -> None:  # type: ignore[no-untyped-def]
    kent = small_index.search("caseloads", k=5, filters=SearchFilters(councils=("Kent",)))
    assert kent and all(h.document.council == "Kent" for h in kent)  # one canonical name per council
    letters = small_index.search("caseloads", k=5, filters=SearchFilters(kinds=("focused_visit",)))
    assert letters and all(h.document.kind == "focused_visit" for h in letters)
    none = small_index.search("caseloads", k=5, filters=SearchFilters(year_from=2030))
    assert none == []
    result = small_index.search_with_info("what did Ofsted find about caseloads in Wigan in 2022", k=5)
    assert result.filters["boost"]["council"] == ["Wigan"] and result.filters["boost"]["year"] == [2022]
    assert result.hits[0].document.council == "Wigan" and result.hits[0].document.published.startswith("2022")
    # a boost, never an exclusion: other documents still come back
    wide = small_index.search_with_info("caseloads in Wigan in 2022", k=200)
    assert {h.document.council for h in wide.hits} > {"Wigan"}


def test_reingest_unchanged_changed_and_remove(small_docs: Path, tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    shutil.copytree(small_docs, docs)
    note = docs / "note.txt"
    note.write_text("Caseloads in the assessment team were too high, at 30 to 50 children each.\n")
    index = open_index(tmp_path / "index")
    first = ingest_paths(index, [docs])
    assert len(first.added) == 4 and not first.failed
    again = ingest_paths(index, [docs])
    assert len(again.unchanged) == 4 and not again.added and not again.updated
    note.write_text("Agency social workers made up half of the workforce.\n")
    changed = ingest_paths(index, [docs])
    assert changed.updated == [str(note)]
    doc = index.find_document("note.txt")
    texts = [p.text for p in index.passages(doc.id)]
    assert texts == ["Agency social workers made up half of the workforce."]
    assert not any("30 to 50" in h.text for h in index.search("caseloads 30 to 50 children", k=20))
    index.remove("note.txt")
    assert all(d.source != str(note.resolve()) for d in index.documents())
    assert index.passages(doc.id) == []
    assert not any("Agency social workers made up half" in h.text for h in index.search("agency workforce", k=50))
    # a fresh process sees the same state (the cache is derived from Chroma, not trusted blindly)
    reopened = open_index(tmp_path / "index")
    assert {d.id for d in reopened.documents()} == {d.id for d in index.documents()}
    assert len(reopened.passages()) == sum(d.passages for d in reopened.documents())


def test_half_stored_document_is_repaired(small_docs: Path, tmp_path: Path) -> None:
    from dataclasses import replace

    index = open_index(tmp_path / "index")
    ingest_paths(index, [small_docs / "kent_80476_2024-02-27_focused-visit.pdf"])
    (doc,) = index.documents()
    # simulate a crash after the manifest said "storing" and some passages were written
    index.store.put_document(replace(doc, status="storing"))
    reader = open_index(tmp_path / "index")  # another process's view: readers never see half a document
    assert reader.documents() == [] and reader.search("caseloads", k=5) == []
    report = ingest_paths(index, [small_docs / "kent_80476_2024-02-27_focused-visit.pdf"])
    assert len(report.added) == 1
    (again,) = index.documents()
    assert index.store.count() == again.passages == doc.passages


def test_the_writer_reads_the_manifest_once_and_its_view_matches_chromas(small_docs: Path, tmp_path: Path) -> None:
    """An ingest reads Chroma's manifest once (2 s at 11,000 documents) and follows its own writes for the cache
    it leaves behind; that view must be exactly what a reader building from Chroma sees."""
    docs = tmp_path / "docs"
    shutil.copytree(small_docs, docs)
    index = open_index(tmp_path / "index")
    ingest_paths(index, [docs / "kent_80476_2024-02-27_focused-visit.pdf"])
    reads = []
    real = index.store.manifest

    def counted() -> dict:  # type: ignore[type-arg]
        reads.append(1)
        return real()

    index.store.manifest = counted  # type: ignore[method-assign]
    looked_up: list[str] = []
    real_lookup = index.store.passage_ids_of

    def lookup(doc_ids: list[str]) -> dict[str, list[str]]:
        looked_up.extend(doc_ids)
        return real_lookup(doc_ids)

    index.store.passage_ids_of = lookup  # type: ignore[method-assign]
    note = docs / "note.txt"
    note.write_text("Caseloads in the assessment team were too high, at 30 to 50 children each.\n")
    report = ingest_paths(index, [docs])
    assert len(report.added) == 3 and len(report.unchanged) == 1 and len(reads) == 1
    assert looked_up == []  # new documents have no passages to replace: no scan of every passage's metadata
    note.write_text("Agency social workers made up half of the workforce.\n")
    assert ingest_paths(index, [note]).updated == [str(note)]
    assert looked_up == [index.find_document("note.txt").id]  # a changed one has: its old passages are replaced
    assert [p.text for p in index.passages(looked_up[0])] == ["Agency social workers made up half of the workforce."]
    note.write_text("Caseloads in the assessment team were too high, at 30 to 50 children each.\n")
    ingest_paths(index, [note])
    assert index._known is None and index._writer is None  # forgotten with the lock
    reader = open_index(tmp_path / "index")
    reader.close()  # nothing kept from the writer's process: a new Index over the same folder, reading Chroma
    fresh = {i: d for i, d in real().items() if d.status == "stored"}
    assert index.cache().docs == fresh and index.cache().key == open_index(tmp_path / "index").cache().key
    assert any("30 to 50" in h.text for h in index.search("caseloads of 30 to 50 children", k=5))


def test_index_refuses_to_mix_embedding_models(small_index, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    other = Settings(embedding=EmbeddingSettings(model="some/other-model"))
    with pytest.raises(ModelMismatchError, match=f"built with the embedding model '{DEFAULT_MODEL}'"):
        open_index(small_index.path, settings=other)


def test_public_api_is_explicit() -> None:
    import assistant
    import ingest
    import vectorstore

    assert set(vectorstore.__all__) >= {"open_index", "Index", "Hit", "Passage", "SearchFilters"}
    assert set(ingest.__all__) >= {"ingest_paths", "tag_sentences"}
    for name in vectorstore.__all__:
        assert getattr(vectorstore, name) is not None
    assert assistant is not None


def test_named_documents_are_ranked_by_the_topic_alone() -> None:
    """Inside the documents a question names, its council, year and kind words say nothing: they are removed before
    the named documents' own passages are ranked (what is left must still be a question)."""
    from vectorstore.query import QueryHints, read_query_hints, strip_named

    hints = read_query_hints("What did Ofsted say about caseloads in Bedford in 2025?", {"Bedford Borough Council"},
                             {2025}, set())
    assert hints.councils == ("Bedford Borough Council",) and hints.years == (2025,) and hints.speaker
    assert strip_named("What did Ofsted say about caseloads in Bedford in 2025?", hints) == \
        "What did say about caseloads in in?"
    assert strip_named("What did the review say about Child R's mother?", QueryHints(children=("Child R",))) == \
        "What did the review say about mother?"
    # nothing but names: the query is kept as asked
    assert strip_named("Bedford 2025", hints) == "Bedford 2025"
    # a kind mentioned in passing is not the source asked for
    assert not read_query_hints("Which councils were found inadequate by Ofsted?", set(), set(), set()).speaker
    # a possessive, with either apostrophe, still names the council
    for asked in ("Why were alerts missed in Wenmarsh’s IT?", "Why were alerts missed in Wenmarsh's IT?"):
        assert read_query_hints(asked, {"Wenmarsh County Council"}, set()).councils == ("Wenmarsh County Council",)


def test_close_releases_the_chroma_client(tmp_path: Path) -> None:
    from chromadb.api.shared_system_client import SharedSystemClient

    from vectorstore.errors import IndexUnusableError

    note = tmp_path / "note.txt"
    note.write_text("The duty team had forty open cases per worker in May 2024.\n")
    with open_index(tmp_path / "index") as index:
        ingest_paths(index, [note])
        identifier = index.store._client._identifier
        assert identifier in SharedSystemClient._identifier_to_system
    assert identifier not in SharedSystemClient._identifier_to_system  # Chroma's System for the folder stopped
    with pytest.raises(IndexUnusableError, match="closed"):
        index.documents()
    index.close()  # a second close does nothing
    with open_index(tmp_path / "index") as again:
        assert [h.text for h in again.search("open cases per worker", k=1)] == [note.read_text().strip()]


def test_a_month_named_in_the_question_brings_that_months_passages_forward(tmp_path: Path) -> None:
    """A review's chronology tells of several police calls in one year; "the call in October 2017" is one of
    them. The year alone cannot separate them (every paragraph is about 2017); the month does."""
    from vectorstore.dates import months_named

    assert months_named("after the call in October 2017, and on 3 Sept. 2021") == ["2017-10", "2021-09"]
    assert months_named("in 2017") == []
    review = tmp_path / "review.txt"
    # the other calls share the question's words; the October one tells what happened in its own words
    others = [f"On {day} 2017 the police attended a domestic abuse call at the flat. Officers completed the domestic "
              f"abuse risk assessment and sent a notification to the MASH." for day in
              ("2 June", "14 July", "9 August", "1 September", "5 December", "20 December")]
    october = ("On 19 October 2017 Mother telephoned 999 to say that her partner had pushed her against a wall. "
               "Officers arrived within 12 minutes and arrested him.")
    paragraphs = [*others[:4], october, *others[4:]]
    review.write_text("\n\n".join(f"5.{n} {text}" for n, text in enumerate(paragraphs, start=1)) + "\n")
    with open_index(tmp_path / "index") as index:
        ingest_paths(index, [review])
        hits = index.search("What did the police do after the domestic abuse call in October 2017?", k=4)
        assert "19 October 2017" in hits[0].text, [h.text[:40] for h in hits]


def test_the_search_reads_other_names_of_places_as_the_formal_name(tmp_path: Path) -> None:
    """"The Square Mile" is the City of London (vectorstore/place_aliases.json): the search ranks by the formal
    name, which the reports use, and reports the query as asked."""
    for name, place in (("london.txt", "the City of London"), ("wigan.txt", "Wigan"), ("kent.txt", "Kent")):
        (tmp_path / name).write_text(f"In {place}, social workers told inspectors that they stay in post for "
                                     f"many years because the teams are stable.\n")
    with open_index(tmp_path / "index") as index:
        ingest_paths(index, [tmp_path / n for n in ("london.txt", "wigan.txt", "kent.txt")])
        asked = "Do social workers stay in post in the Square Mile?"
        result = index.search_with_info(asked, k=3)
        assert result.query == asked
        assert "City of London" in result.hits[0].text, [h.text[:30] for h in result.hits]
