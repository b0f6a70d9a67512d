"""Findings across documents: the documents × categories matrix of `latent themes --json`, as a shaded table,
the passages behind one cell, and a CSV.

HOOK: the matrix comes from `assistant.themes.themes_matrix(index)` (contract shape in design.md: categories,
documents, cells with document/category/negative/positive/passages). When that function does not exist the tab
is simply not shown (`matrix_source` returns None); nothing else here depends on it.
"""

from __future__ import annotations

import csv
import importlib
import inspect
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from assistant.web.cards import source_card, text_html
from vectorstore.records import Hit

if TYPE_CHECKING:
    from vectorstore.index import Index

Matrix = dict[str, Any]


def matrix_source() -> Callable[[Index, str | None], Matrix] | None:
    """`assistant.themes.themes_matrix` when it exists, else None (the tab is left out). The result takes the
    index and a level ('latent', 'active', or None for every category)."""
    try:
        module = importlib.import_module("assistant.themes")
    except ImportError:
        return None
    fn = getattr(module, "themes_matrix", None)
    if not callable(fn):
        return None
    takes_level = "level" in inspect.signature(fn).parameters

    def matrix(index: Index, level: str | None = None) -> Matrix:
        m: Matrix = fn(index, level=level) if takes_level else fn(index)
        return m

    return matrix


def _cells(matrix: Matrix) -> dict[tuple[str, str], dict[str, Any]]:
    return {(c["document"], c["category"]): c for c in matrix.get("cells", [])}


def _label(cat: dict[str, Any]) -> str:
    return str(cat.get("label") or cat["id"])


def matrix_table(matrix: Matrix) -> tuple[list[str], list[list[str]], list[list[str]]]:
    """Headers, rows of cell text ('3' negative findings, '3 (+1)' with one positive) and each cell's CSS
    (shaded by its negative count relative to the largest), for a Dataframe."""
    cats, docs, cells = matrix.get("categories", []), matrix.get("documents", []), _cells(matrix)
    top = max((int(c.get("negative", 0)) for c in cells.values()), default=0) or 1
    headers = ["Document", *(_label(c) for c in cats)]
    rows, styles = [], []
    for d in docs:
        row, style = [str(d.get("title") or d["id"])], [""]
        for c in cats:
            cell = cells.get((d["id"], c["id"]), {})
            neg, pos = int(cell.get("negative", 0)), int(cell.get("positive", 0))
            row.append((str(neg) if neg else "·") + (f" (+{pos})" if pos else ""))
            share = neg / top
            # Light to strong amber; text stays dark, so contrast holds at every level (≥ 7:1 on #f59e0b).
            style.append(f"background-color: rgba(245, 158, 11, {0.12 + 0.78 * share:.2f}); color: #111"
                         if neg else "")
        rows.append(row)
        styles.append(style)
    return headers, rows, styles


def matrix_frame(matrix: Matrix) -> Any:
    """The matrix as a shaded pandas Styler (gr.Dataframe shows its colours)."""
    import pandas as pd

    headers, rows, styles = matrix_table(matrix)
    frame = pd.DataFrame(rows, columns=headers)
    css = pd.DataFrame(styles, columns=headers)
    return frame.style.apply(lambda _: css, axis=None)


def cell_at(matrix: Matrix, row: int, col: int) -> dict[str, Any] | None:
    """The cell under a click (row, column of the table; column 0 is the document's title)."""
    docs, cats = matrix.get("documents", []), matrix.get("categories", [])
    if not (0 <= row < len(docs) and 1 <= col <= len(cats)):
        return None
    doc, cat = docs[row], cats[col - 1]
    found = _cells(matrix).get((doc["id"], cat["id"]))
    return {"document": doc, "category": cat, "cell": found or {"negative": 0, "positive": 0, "passages": []}}


def cell_html(index: Index, picked: dict[str, Any] | None) -> str:
    """The passages behind one cell, as source cards (their tagged sentences marked when the matrix gives them)."""
    if picked is None:
        return "<p>Select a cell of the table to see the passages behind it.</p>"
    doc, cat, cell = picked["document"], picked["category"], picked["cell"]
    title = f"{text_html(_label(cat))} in {text_html(str(doc.get('title') or doc['id']))}"
    ids = list(cell.get("passages") or [])
    if not ids:
        return f"<h3>{title}</h3><p>No passage of this document is tagged with this category.</p>"
    info = index.document_info(str(doc["id"]))
    by_id = {p.id: p for p in index.passages(str(doc["id"]))}
    quotes = [str(s) for s in cell.get("sentences") or []]
    cards = [source_card(n, Hit(by_id[i], info, 0.0), quotes, anchor="finding-")
             for n, i in enumerate((i for i in ids if i in by_id), start=1)] if info else []
    counts = f"{int(cell.get('negative', 0))} negative, {int(cell.get('positive', 0))} positive"
    return f"<h3>{title}</h3><p>{counts}.</p>{''.join(cards) or '<p>Those passages are no longer in the index.</p>'}"


def write_csv(matrix: Matrix, path: Path) -> Path:
    """The columns of `latent themes` CSV (one row per document, `<category>_negative` and `_positive` counts),
    with text cells guarded against spreadsheet formulas."""
    cats, cells = [c["id"] for c in matrix.get("categories", [])], _cells(matrix)
    with open(path, "w", newline="", encoding="utf-8") as fh:
        out = csv.writer(fh)
        out.writerow(["document_id", "title", "council", "published", *(f"{c}_negative" for c in cats),
                      *(f"{c}_positive" for c in cats)])
        for d in matrix.get("documents", []):
            row = [cells.get((d["id"], c), {}) for c in cats]
            out.writerow([_cell_text(d["id"]), _cell_text(d.get("title", "")), _cell_text(d.get("council") or ""),
                          d.get("published") or "", *(int(x.get("negative", 0)) for x in row),
                          *(int(x.get("positive", 0)) for x in row)])
    return path


def _cell_text(value: Any) -> str:
    """A spreadsheet reads '=…', '+…', '-…', '@…' as a formula: a title from a document must stay text."""
    text = str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text
