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


def test_an_address_block_is_not_quoted() -> None:
    """A letter's sender address ("Ofsted / Piccadilly Gate / … / www.gov.uk/ofsted") is neither a heading (it
    would become the section of every finding after it) nor text to quote."""
    from ingest.passages import split_into_passages
    from ingest.structure import parse_lines

    lines = ["Since the previous inspection, senior leaders have identified appropriate priority",
             "areas for improvement in children's services and have acted on each of them.", "They report often.",
             "Ofsted", "Piccadilly Gate", "Store Street", "Manchester", "M1 2WD", "T 0300 123 1231",
             "enquiries@ofsted.gov.uk", "www.gov.uk/ofsted",
             "The use of managed teams, and a reliance on agency staff across the service, has",
             "reduced over the last twelve months."]
    blocks = parse_lines([[(0, 0, t) for t in lines]])
    assert [b.kind for b in blocks] == ["paragraph", "address", "paragraph"]
    passages = split_into_passages(blocks, "doc", "A letter", lambda t: len(t.split()))
    assert not any("Piccadilly" in p.text or "www.gov.uk" in p.text for p in passages)
    assert all(p.section is None for p in passages)
