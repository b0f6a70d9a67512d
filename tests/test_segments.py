"""The search cache in segments gives what one index built from scratch gives: BM25 scores equal to bm25s's (to the
bit) with statistics of the whole index whichever segment holds a passage, replaced documents never found, merges
equal to a build of the same rows, boilerplate as the old per-cache function judged it, the two-stage dense search
returning the exact order of what it re-scores, and records read back with a default for a field they lack."""

from __future__ import annotations

import dataclasses
import random
import re
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from vectorstore.bm25 import Lexical, Postings
from vectorstore.cache import SearchCache
from vectorstore.columns import Table, from_metadata, to_metadata
from vectorstore.lexical import lexical_tokens
from vectorstore.records import DocumentInfo, Passage, Tag
from vectorstore.segments import Segment
from vectorstore.settings import SearchSettings

_VOCABULARY = """caseloads supervision agency staff turnover children social workers managers oversight drift delay
police health school referral assessment plan strategy meeting visits seen alone neglect mother father Wigan Kent
2021 2022 October 2017 the of and to in a was were"""
WORDS = tuple(_VOCABULARY.split())
TEMPLATE = "If you would like a copy of this document in a different format please telephone or email us"


def make_docs(n_docs: int, seed: int = 1, per_doc: int = 6) -> tuple[dict[str, DocumentInfo], list[Passage]]:
    rng = random.Random(seed)
    docs: dict[str, DocumentInfo] = {}
    passages: list[Passage] = []
    for d in range(n_docs):
        doc = DocumentInfo(id=f"doc-{d}", title=f"Report {d}", source=f"/x/report-{d}.txt", kind="inspection",
                           content_hash=f"h{d}", council=rng.choice(["Wigan", "Kent", None]),
                           published=f"20{rng.randint(15, 24)}-01-0{rng.randint(1, 9)}", passages=per_doc)
        docs[doc.id] = doc
        for i in range(per_doc):
            text = TEMPLATE if i == per_doc - 1 else " ".join(rng.choice(WORDS) for _ in range(rng.randint(8, 60)))
            tags = tuple(Tag(c, "latent", rng.choice(["negative", "positive"]), round(rng.random(), 3))
                         for c in rng.sample(["workload", "staffing", "culture"], rng.randint(0, 2)))
            passages.append(Passage(id=f"{doc.id}:{i}", doc_id=doc.id, text=text, header=doc.title, page=1 + i // 3,
                                    paragraph=str(i) if i % 2 else None, section=None, char_start=i * 100,
                                    char_end=i * 100 + len(text), tags=tags, date="2017-10-03" if i == 2 else None))
    return docs, passages


def vectors_for(passages: list[Passage], seed: int = 2) -> np.ndarray:
    rng = np.random.default_rng(seed)
    v = rng.standard_normal((len(passages), 384)).astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def view(segments: list[Segment], docs: dict[str, DocumentInfo], **settings: Any) -> SearchCache:
    return SearchCache("k", segments, docs, SearchSettings(**settings))


def test_bm25_scores_are_bm25s_scores_to_the_bit() -> None:
    import bm25s
    import Stemmer

    _, passages = make_docs(30)
    texts = [f"{p.header}\n{p.text}" for p in passages]
    theirs = bm25s.BM25()
    theirs.index(bm25s.tokenize(texts, stopwords="en", stemmer=Stemmer.Stemmer("english"), show_progress=False),
                 show_progress=False)
    ours = Lexical([Postings.build(texts)], [0], None)
    for query in ("caseloads of social workers", "agency staff turnover turnover", "Wigan police referral"):
        terms = lexical_tokens([query])[0]
        expected = theirs.get_scores(terms)
        assert np.array_equal(ours.scores(terms), expected), query
        rows, scores = theirs.retrieve([terms], k=10, show_progress=False, n_threads=0)
        assert {r for r, s in zip(rows[0], scores[0], strict=True) if s > 0} >= {r for r, _ in ours.top(terms, 5)}


def test_bm25_statistics_span_the_segments() -> None:
    """Two segments score every passage as one segment of all of them would: the IDF is the whole index's."""
    _, passages = make_docs(20)
    texts = [f"{p.header}\n{p.text}" for p in passages]
    whole = Lexical([Postings.build(texts)], [0], None)
    split = Lexical([Postings.build(texts[:37]), Postings.build(texts[37:])], [0, 37], None)
    for query in ("caseloads supervision", "neglect mother Kent", "October 2017 strategy meeting"):
        terms = lexical_tokens([query])[0]
        assert np.array_equal(whole.scores(terms), split.scores(terms))
        assert whole.top(terms, 8) == split.top(terms, 8)


def test_a_replaced_document_is_never_found_and_leaves_the_statistics() -> None:
    docs, passages = make_docs(12)
    vectors = vectors_for(passages)
    old = Segment.build(passages, vectors, docs, [], len(docs))
    changed = replace(docs["doc-3"], content_hash="new")
    new_passages = [replace(p, text="caseloads caseloads of ninety children") for p in passages if p.doc_id == "doc-3"]
    new = Segment.build(new_passages, vectors[:len(new_passages)], {"doc-3": changed}, [old], len(docs))
    current = {**docs, "doc-3": changed}
    cache = view([old, new], current)
    assert cache.live is not None and cache.live_count == len(passages)
    terms = lexical_tokens(["caseloads ninety children"])[0]
    found = {cache.passages[r].doc_id for r, _ in cache.lexical.top(terms, 200)}
    assert "doc-3" in found
    dead = [r for r in range(cache.n_rows) if not cache.is_live(r)]
    assert dead and not {r for r, _ in cache.lexical.top(terms, 500)} & set(dead)
    assert not set(cache.vectors.top(vectors[0], 500, None)) & set(dead)
    # the statistics are those of the live rows: as one segment of what is stored now
    others = [i for i, p in enumerate(passages) if p.doc_id != "doc-3"]
    fresh = view([Segment.build([passages[i] for i in others] + new_passages,
                                np.concatenate([vectors[others], vectors[:len(new_passages)]]), current, [],
                                len(current))], current)
    assert cache.lexical.df(terms[0]) == fresh.lexical.df(terms[0])
    assert [cache.passages[r].id for r, _ in cache.lexical.top(terms, 20)] == \
        [fresh.passages[r].id for r, _ in fresh.lexical.top(terms, 20)]
    assert cache.row_of.get("doc-3:0") is not None and cache.is_live(cache.row_of["doc-3:0"])


def test_a_merge_equals_a_build_of_the_same_rows(tmp_path: Path) -> None:
    docs, passages = make_docs(16)
    vectors = vectors_for(passages)
    first = {d: docs[d] for d in list(docs)[:9]}
    second = {d: docs[d] for d in list(docs)[9:]}
    a = Segment.build([p for p in passages if p.doc_id in first], vectors[:54], first, [], len(docs))
    b = Segment.build([p for p in passages if p.doc_id in second], vectors[54:], second, [a], len(docs))
    a.save(tmp_path)
    a = Segment.load(tmp_path / a.name)  # merging from memory-mapped segments, as a page does
    merged = Segment.merge([(a, np.arange(a.n)), (b, np.arange(b.n))], len(docs))
    built = Segment.build(passages, vectors, docs, [], len(docs))
    assert [merged.passage(i) for i in range(merged.n)] == [built.passage(i) for i in range(built.n)]
    assert np.array_equal(merged.vectors, built.vectors) and np.array_equal(merged.codes, built.codes)
    assert np.array_equal(merged.boilerplate, built.boilerplate) and merged.boilerplate.any()
    for name in ("tag_row", "tag_level", "tag_polarity", "tag_confidence", "month_ptr", "month_code", "run_ptr",
                 "run_hash", "id_hash", "doc_code"):
        assert np.array_equal(getattr(merged, name), getattr(built, name)), name
    terms = lexical_tokens(["caseloads social workers Wigan"])[0]
    assert np.array_equal(Lexical([merged.postings], [0], None).scores(terms),
                          Lexical([built.postings], [0], None).scores(terms))
    # dropping rows in a merge: only the kept documents remain
    kept = Segment.merge([(built, np.arange(12, built.n))], len(docs) - 2)
    assert [d.id for d in kept.docs] == [d.id for d in built.docs[2:]] and kept.n == built.n - 12


def old_find_boilerplate(passages: list[Passage], shingle: int = 5, head_words: int = 60) -> np.ndarray:
    """The per-cache function the segments replaced (vectorstore/cache.py before segments), as it was."""
    docs = {d: i for i, d in enumerate(dict.fromkeys(p.doc_id for p in passages))}
    flags = np.zeros(len(passages), dtype=bool)
    if len(docs) < 4:
        return flags
    hashes: list[int] = []
    owners: list[int] = []
    rows: list[int] = []
    for row, p in enumerate(passages):
        words = re.findall(r"[a-z]+", p.text.lower())[:head_words]
        for j in range(len(words) - shingle + 1):
            hashes.append(hash(" ".join(words[j:j + shingle])))
            owners.append(docs[p.doc_id])
            rows.append(row)
    h, d, r = np.array(hashes, dtype=np.int64), np.array(owners, dtype=np.int64), np.array(rows, dtype=np.int64)
    pairs = np.unique(np.stack([h, d], axis=1), axis=0)
    values, counts = np.unique(pairs[:, 0], return_counts=True)
    common = np.isin(h, values[counts >= max(3, int(0.1 * len(docs)))])
    total = np.bincount(r, minlength=len(passages))
    shared = np.bincount(r, weights=common.astype(np.float64), minlength=len(passages))
    return (total >= 4) & (shared >= 0.6 * np.maximum(total, 1))


def test_boilerplate_is_judged_as_before_across_segments() -> None:
    docs, passages = make_docs(40)
    vectors = vectors_for(passages)
    expected = old_find_boilerplate(passages)
    assert expected.any() and not expected.all()
    whole = Segment.build(passages, vectors, docs, [], len(docs))
    assert np.array_equal(whole.boilerplate, expected)
    half = len(passages) // 2
    names = list(dict.fromkeys(p.doc_id for p in passages))
    first = {d: docs[d] for d in names[:20]}
    a = Segment.build(passages[:half], vectors[:half], first, [], len(first))
    b = Segment.build(passages[half:], vectors[half:], {d: docs[d] for d in names[20:]}, [a], len(docs))
    assert np.array_equal(view([a, b], docs).boilerplate, expected)  # judged afresh across both


def test_two_stage_dense_keeps_the_exact_order_of_what_it_rescores() -> None:
    docs, passages = make_docs(60)
    vectors = vectors_for(passages)
    seg = Segment.build(passages, vectors, docs, [], len(docs))
    exact = view([seg], docs)
    two_stage = view([seg], docs, exact_rows=0, oversample=1000)  # re-scores everything: the exact answer
    query = vectors[7] + 0.1 * vectors[8]
    query = query / np.linalg.norm(query)
    assert exact.vectors.exact and not two_stage.vectors.exact
    assert exact.vectors.top(query, 20, None) == two_stage.vectors.top(query, 20, None)
    mask = np.zeros(exact.n_rows, dtype=bool)
    mask[::3] = True
    assert exact.vectors.top(query, 10, mask) == two_stage.vectors.top(query, 10, mask)
    assert np.allclose(two_stage.vectors[[3, 1, 2]], vectors[[3, 1, 2]], atol=1e-3)  # float16 on disk


def test_records_read_back_with_a_default_for_a_field_they_lack(tmp_path: Path) -> None:
    """A field added to Passage later (the lead's `role`, say) reads as its default from an older segment and from
    Chroma metadata written before it existed."""
    _, passages = make_docs(2)

    @dataclass(frozen=True)
    class Newer:
        id: str
        text: str
        role: str = "finding"
        weights: tuple[float, ...] = ()

    fields = {f.name for f in dataclasses.fields(Passage)}
    table = Table.of(Passage, passages)
    table.save(tmp_path, "p")
    kinds = {name: "strings" if name in ("id", "text") else "array" for name in ("id", "text")}
    older = Table.load(Newer, tmp_path, "p", kinds, len(passages))
    assert older.record(0) == Newer(passages[0].id, passages[0].text)
    assert from_metadata(Newer, {"text": "x"}, id="a") == Newer("a", "x")
    meta = to_metadata(passages[0], skip=("id", "text"))
    assert "tags" in meta and set(meta) <= fields
    assert from_metadata(Passage, meta, id=passages[0].id, text=passages[0].text) == passages[0]


@pytest.mark.parametrize("name", ["Kent", "Report 3", "caseloads supervision"])
def test_rows_naming_a_name_are_found_in_the_text_blobs(name: str) -> None:
    docs, passages = make_docs(25)
    cache = view([Segment.build(passages, vectors_for(passages), docs, [], len(docs))], docs)
    assert cache.rows_naming(name) == {i for i, p in enumerate(passages) if name in p.text}
