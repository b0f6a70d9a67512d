"""Passages: within the model's window, aligned to printed paragraphs, with content-derived ids."""

from __future__ import annotations

from ingest.passages import split_into_passages
from ingest.structure import Block, Span
from vectorstore.embedding import get_embedder


def block(text: str, number: str | None = None, kind: str = "paragraph", page: int = 1, start: int = 0) -> Block:
    return Block(kind, [Span(page, start, start + len(text), text)], number=number)


def count(text: str) -> int:
    return get_embedder().count_tokens(text)


def test_numbered_paragraphs_never_share_and_long_ones_split_within_200_tokens() -> None:
    long_text = "3.2 " + " ".join(f"Sentence {i} says that the social worker visited the family again." for i in
                                  range(60))
    blocks = [block("Findings", kind="heading"), block("3.1 Caseloads were high.", "3.1"),
              block("A short continuation of 3.1."), block(long_text, "3.2", page=2)]
    passages = split_into_passages(blocks, "doc-1", "A review", count)
    assert [p.paragraph for p in passages][:1] == ["3.1"]
    assert passages[0].text == "3.1 Caseloads were high.\nA short continuation of 3.1."
    rest = passages[1:]
    assert len(rest) >= 3 and {p.paragraph for p in rest} == {"3.2"} and {p.page for p in rest} == {2}
    assert all(count(p.text) <= 200 for p in passages)
    assert all(p.text.rstrip().endswith(".") for p in rest[:-1])  # cut at sentence ends
    assert " ".join(p.text for p in rest).replace("\n", " ") == long_text
    assert all(p.section == "Findings" and p.header == "A review\nFindings" for p in passages)


def test_short_unnumbered_neighbours_merge_but_not_across_headings() -> None:
    blocks = [block("Intro", kind="heading"), block("One."), block("Two."), block("Next", kind="heading"),
              block("Three.")]
    texts = [p.text for p in split_into_passages(blocks, "d", "T", count)]
    assert texts == ["One.\nTwo.", "Three."]


def test_ids_derive_from_content() -> None:
    a = split_into_passages([block("1.1 Text.", "1.1")], "d", "T", count)
    b = split_into_passages([block("1.1 Text.", "1.1")], "d", "T", count)
    c = split_into_passages([block("1.1 Other.", "1.1")], "d", "T", count)
    assert a[0].id == b[0].id != c[0].id
