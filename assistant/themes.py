"""Findings across documents: a documents x categories matrix of tagged passages (`latent themes`).

Counts are passages, split by polarity: a cell (Wigan 2022, workload) with negative 3, positive 1 means three
passages evidence a caseload weakness and one a strength. Each cell lists its passages so a click can cite them.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any

from vectorstore.records import Passage
from vectorstore.taxonomy import load_taxonomy

if TYPE_CHECKING:
    from vectorstore.index import Index
    from vectorstore.records import SearchFilters


@dataclass(frozen=True)
class CategoryColumn:
    """A column of the matrix: one taxonomy category."""

    id: str
    label: str
    level: str


@dataclass(frozen=True)
class DocumentRow:
    """A row of the matrix: one stored document."""

    id: str
    title: str
    kind: str
    council: str | None
    published: str | None


@dataclass(frozen=True)
class Cell:
    """The passages of one document tagged with one category, counted by polarity."""

    document: str
    category: str
    negative: int = 0
    positive: int = 0
    passages: tuple[str, ...] = ()  # weaknesses, then strengths, each the surest tag first
    weaknesses: tuple[str, ...] = ()  # passages with a negative tag of this category, surest first
    strengths: tuple[str, ...] = ()  # passages with a positive one, surest first


@dataclass(frozen=True)
class ThemesMatrix:
    """Documents x categories, with the non-empty cells (contract: `latent themes --json`)."""

    categories: tuple[CategoryColumn, ...]
    documents: tuple[DocumentRow, ...]
    cells: tuple[Cell, ...]

    def cell(self, document: str, category: str) -> Cell:
        """The cell of a document and a category (an empty one when no passage is tagged so)."""
        return self._by_key.get((document, category)) or Cell(document, category)

    @cached_property
    def _by_key(self) -> dict[tuple[str, str], Cell]:
        return {(c.document, c.category): c for c in self.cells}

    def to_json(self) -> dict[str, Any]:
        return {"categories": [{"id": c.id, "label": c.label, "level": c.level} for c in self.categories],
                "documents": [{"id": d.id, "title": d.title, "kind": d.kind, "council": d.council,
                               "published": d.published} for d in self.documents],
                "cells": [{"document": c.document, "category": c.category, "negative": c.negative,
                           "positive": c.positive, "passages": list(c.passages)} for c in self.cells]}


def themes_matrix(index: Index, filters: SearchFilters | None = None, level: str | None = None) -> ThemesMatrix:
    """Categories (of `level`, or all), the documents the filters admit, and the non-empty cells."""
    categories = [c for c in load_taxonomy() if level is None or c.level == level]
    wanted = {c.id for c in categories}
    docs = [d for d in index.documents() if filters is None or filters.admits(d)]
    # (document, category) -> polarity -> passage id -> its surest tag's confidence
    found: dict[tuple[str, str], dict[str, dict[str, float]]] = {}
    for d in docs:
        for p in index.passages(d.id):
            if not states_findings(p):
                continue
            for t in p.tags:
                if t.category not in wanted:
                    continue
                best = found.setdefault((d.id, t.category), {"negative": {}, "positive": {}})[t.polarity]
                best[p.id] = max(best.get(p.id, 0.0), t.confidence)

    def surest(ids: dict[str, float]) -> tuple[str, ...]:
        return tuple(sorted(ids, key=lambda i: -ids[i]))  # stable: equal confidence keeps reading order

    cells = []
    for doc, cat in sorted(found):
        neg, pos = surest(found[doc, cat]["negative"]), surest(found[doc, cat]["positive"])
        cells.append(Cell(doc, cat, len(neg), len(pos), tuple(dict.fromkeys((*neg, *pos))), neg, pos))
    return ThemesMatrix(
        categories=tuple(CategoryColumn(c.id, c.label, c.level) for c in categories),
        documents=tuple(DocumentRow(d.id, d.title, d.kind, d.council, d.published) for d in docs),
        cells=tuple(cells))


# A review's chronology table and its summary of agency contacts record events, not findings about conditions:
# "caseload transferred" in a chronology row is not evidence of a workload weakness.
_CHRONOLOGY_SECTION = re.compile(r"\b(chronolog\w*|summary of agency involvement|significant agency contacts|"
                                 r"agency contacts)\b", re.I)


def states_findings(p: Passage) -> bool:
    """A passage that can evidence a condition in the matrix, its cells and the side-by-side view: a finding (the
    cover, contents, introduction, method, definitions and fictional-case notes never, see `passage_role`), and
    not a row of the review's chronology."""
    return p.role == "finding" and not _CHRONOLOGY_SECTION.search(p.section or "")


@dataclass(frozen=True)
class CitedSentence:
    """One sentence that carries a category's tag, with the passage (page, paragraph) it is printed in."""

    category: str
    polarity: str  # negative (a weakness) | positive (a strength)
    text: str
    passage_id: str
    page: int
    paragraph: str | None


def category_sentences(index: Index, doc_id: str, categories: Iterable[str] | None = None,
                       ) -> dict[str, list[CitedSentence]]:
    """Per category, the sentences of one document that evidence it, in reading order: the sentences behind the
    matrix's cells. A passage's tags are the union of its sentences' (`ingest.tag_passage`), so each passage
    counted in a cell gives at least one sentence here; one tagged by an older tagger, whose sentences no longer
    carry the tag, is given whole rather than dropped."""
    from vectorstore.sentences import split_sentences
    from vectorstore.taxonomy import tag_sentences

    wanted = set(categories) if categories is not None else None
    out: dict[str, list[CitedSentence]] = {}
    for p in index.passages(doc_id):
        if not states_findings(p):
            continue
        keys = {(t.category, t.polarity) for t in p.tags if wanted is None or t.category in wanted}
        if not keys:
            continue
        # Whitespace folded as the tagger folds it at ingest (a PDF's hard-wrapped lines), so the tags agree.
        sentences = [" ".join(p.text[a:b].split()) for a, b in split_sentences(p.text)]
        found: set[tuple[str, str]] = set()
        for text, tags in zip(sentences, tag_sentences(sentences), strict=True):
            for t in tags:
                if (t.category, t.polarity) in keys:
                    found.add((t.category, t.polarity))
                    out.setdefault(t.category, []).append(
                        CitedSentence(t.category, t.polarity, text, p.id, p.page, p.paragraph))
        for category, polarity in sorted(keys - found):
            out.setdefault(category, []).append(
                CitedSentence(category, polarity, " ".join(p.text.split()), p.id, p.page, p.paragraph))
    return out


def totals(matrix: ThemesMatrix) -> list[tuple[str, int, int, int]]:
    """Per category: (id, documents with a negative finding, negative passages, positive passages)."""
    out = []
    for c in matrix.categories:
        mine = [x for x in matrix.cells if x.category == c.id]
        out.append((c.id, sum(1 for x in mine if x.negative), sum(x.negative for x in mine),
                    sum(x.positive for x in mine)))
    return out


def matrix_as_table(matrix: ThemesMatrix, width: int = 28) -> str:
    """A terminal table: one row per document, one column per category, cells 'neg/pos'."""
    cats = [c.id for c in matrix.categories]
    head = "document".ljust(width) + " " + " ".join(c[:9].rjust(9) for c in cats)
    lines = [head, "-" * len(head)]
    for d in matrix.documents:
        cells = [matrix.cell(d.id, c) for c in cats]
        row = [f"{x.negative}/{x.positive}" if x.passages else "." for x in cells]
        lines.append(d.title[:width].ljust(width) + " " + " ".join(x.rjust(9) for x in row))
    lines.append("-" * len(head))
    lines.append("documents with a weakness".ljust(width) + " " + " ".join(
        str(n).rjust(9) for _, n, _, _ in totals(matrix)))
    return "\n".join(lines)


def matrix_as_csv(matrix: ThemesMatrix) -> str:
    """One row per document: its id, title, council and date, then `<category>_negative` and `_positive` counts.
    Text cells are guarded against spreadsheet formulas (a title from a document must stay text)."""
    buf = io.StringIO()
    writer = csv.writer(buf)
    cats = [c.id for c in matrix.categories]
    writer.writerow(["document_id", "title", "council", "published"] + [f"{c}_negative" for c in cats]
                    + [f"{c}_positive" for c in cats])
    for d in matrix.documents:
        cells = [matrix.cell(d.id, c) for c in cats]
        writer.writerow([_cell_text(d.id), _cell_text(d.title), _cell_text(d.council or ""), d.published or "",
                         *(x.negative for x in cells), *(x.positive for x in cells)])
    return buf.getvalue()


def _cell_text(value: str) -> str:
    """A spreadsheet reads '=…', '+…', '-…', '@…' as a formula: a title from a document must stay text."""
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value
