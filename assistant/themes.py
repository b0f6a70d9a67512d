"""Findings across documents: a documents x categories matrix of tagged passages (`latent themes`).

Counts are passages, split by polarity: a cell (Wigan 2022, workload) with negative 3, positive 1 means three
passages evidence a caseload weakness and one a strength. Each cell lists its passages so a click can cite them.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from vectorstore.taxonomy import load_taxonomy

if TYPE_CHECKING:
    from vectorstore.index import Index
    from vectorstore.records import SearchFilters


def themes_matrix(index: Index, filters: SearchFilters | None = None, level: str | None = None) -> dict[str, Any]:
    """The `latent themes --json` object: categories, documents, and the non-empty cells."""
    categories = [c for c in load_taxonomy() if level is None or c.level == level]
    wanted = {c.id for c in categories}
    docs = [d for d in index.documents() if filters is None or filters.admits(d)]
    cells: dict[tuple[str, str], dict[str, Any]] = {}
    for d in docs:
        for p in index.passages(d.id):
            seen: set[tuple[str, str]] = set()
            for t in p.tags:
                if t.category not in wanted or (t.category, t.polarity) in seen:
                    continue
                seen.add((t.category, t.polarity))
                cell = cells.setdefault((d.id, t.category), {"document": d.id, "category": t.category,
                                                             "negative": 0, "positive": 0, "passages": []})
                cell[t.polarity] += 1
                if p.id not in cell["passages"]:
                    cell["passages"].append(p.id)
    return {
        "categories": [{"id": c.id, "label": c.label, "level": c.level} for c in categories],
        "documents": [{"id": d.id, "title": d.title, "kind": d.kind, "council": d.council,
                       "published": d.published} for d in docs],
        "cells": sorted(cells.values(), key=lambda c: (c["document"], c["category"])),
    }


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


def totals(matrix: dict[str, Any]) -> list[tuple[str, int, int, int]]:
    """Per category: (id, documents with a negative finding, negative passages, positive passages)."""
    out = []
    for c in matrix["categories"]:
        mine = [x for x in matrix["cells"] if x["category"] == c["id"]]
        out.append((c["id"], sum(1 for x in mine if x["negative"]), sum(x["negative"] for x in mine),
                    sum(x["positive"] for x in mine)))
    return out


def matrix_as_table(matrix: dict[str, Any], width: int = 28) -> str:
    """A terminal table: one row per document, one column per category, cells 'neg/pos'."""
    cats = [c["id"] for c in matrix["categories"]]
    by = {(x["document"], x["category"]): x for x in matrix["cells"]}
    head = "document".ljust(width) + " " + " ".join(c[:9].rjust(9) for c in cats)
    lines = [head, "-" * len(head)]
    for d in matrix["documents"]:
        row = [f"{by[(d['id'], c)]['negative']}/{by[(d['id'], c)]['positive']}" if (d["id"], c) in by else "."
               for c in cats]
        lines.append(d["title"][:width].ljust(width) + " " + " ".join(x.rjust(9) for x in row))
    lines.append("-" * len(head))
    lines.append("documents with a weakness".ljust(width) + " " + " ".join(
        str(n).rjust(9) for _, n, _, _ in totals(matrix)))
    return "\n".join(lines)


def matrix_as_csv(matrix: dict[str, Any]) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf)
    cats = [c["id"] for c in matrix["categories"]]
    by = {(x["document"], x["category"]): x for x in matrix["cells"]}
    writer.writerow(["document_id", "title", "council", "published"] + [f"{c}_negative" for c in cats]
                    + [f"{c}_positive" for c in cats])
    for d in matrix["documents"]:
        neg = [by[(d["id"], c)]["negative"] if (d["id"], c) in by else 0 for c in cats]
        pos = [by[(d["id"], c)]["positive"] if (d["id"], c) in by else 0 for c in cats]
        writer.writerow([d["id"], d["title"], d["council"] or "", d["published"] or "", *neg, *pos])
    return buf.getvalue()
