"""Findings across documents: the documents × categories matrix of `latent themes --json`, as a shaded table,
the passages behind one cell, a CSV, and two documents side by side (each category's cited sentences).

The matrix is `assistant.themes.themes_matrix(index, level=…)` (contract shape in design.md: categories,
documents, cells with document/category/negative/positive/passages).
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import TYPE_CHECKING, Any

from assistant.web.cards import attr, document_href, source_card, text_html
from vectorstore.records import Hit

if TYPE_CHECKING:
    from vectorstore.index import Index

Matrix = dict[str, Any]
SHOWN = 4  # sentences shown per document and category; the rest behind "more"


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


def compare_choices(matrix: Matrix) -> list[tuple[str, str]]:
    """(title, id) of the matrix's documents, for the two pickers."""
    return [(str(d.get("title") or d["id"]), str(d["id"])) for d in matrix.get("documents", [])]


def default_pair(matrix: Matrix, first: str | None, second: str | None) -> tuple[str | None, str | None]:
    """The picks kept while their documents are still there; otherwise the first two reviews (else documents)."""
    docs = matrix.get("documents", [])
    ids = [str(d["id"]) for d in docs]
    reviews = [str(d["id"]) for d in docs if d.get("kind") == "review"]
    pool = [*reviews, *(i for i in ids if i not in reviews)]
    a = first if first in ids else (pool[0] if pool else None)
    b = second if second in ids and second != a else next((i for i in pool if i != a), None)
    return a, b


def _counts(cell: dict[str, Any]) -> str:
    neg, pos = int(cell.get("negative", 0)), int(cell.get("positive", 0))
    return (str(neg) if neg else "·") + (f" (+{pos})" if pos else "")


def _sentences_html(index: Index, doc_id: str, found: list[Any]) -> str:
    info = index.document_info(doc_id)
    by_id = {p.id: p for p in index.passages(doc_id)} if info else {}
    items, seen = [], set()
    for s in sorted(found, key=lambda s: s.polarity != "negative"):  # weaknesses first, each in reading order
        if (s.text, s.polarity) in seen:
            continue
        seen.add((s.text, s.polarity))
        cite = f"page {s.page}" + (f", paragraph {s.paragraph}" if s.paragraph else "")
        passage = by_id.get(s.passage_id)
        link = (f' <a href="{attr(document_href(info, Hit(passage, info, 0.0)))}" target="_blank" rel="noopener" '
                f'aria-label="Open {attr(cite)} (new tab)">({text_html(cite)})</a>' if info and passage
                else f" ({text_html(cite)})")
        kind = "weakness" if s.polarity == "negative" else "strength"
        items.append(f'<li class="{kind}"><span class="polarity">{kind.capitalize()}</span> '
                     f"{text_html(s.text)}{link}</li>")
    if not items:
        return '<p class="none">Not found in this document.</p>'
    more = (f"<details><summary>{len(items) - SHOWN} more sentences</summary><ul>{''.join(items[SHOWN:])}</ul>"
            "</details>" if len(items) > SHOWN else "")
    return f"<ul>{''.join(items[:SHOWN])}</ul>{more}"


def compare_html(index: Index, matrix: Matrix, first: str | None, second: str | None) -> str:
    """Two documents side by side: a table of passage counts per category, then for each category found in
    either, the sentences that evidence it in each document, in two columns, each with its citation."""
    from assistant.themes import category_sentences

    docs = {str(d["id"]): d for d in matrix.get("documents", [])}
    if not first or not second or first not in docs or second not in docs:
        return "<p>Choose two documents to compare.</p>"
    if first == second:
        return "<p>Choose two different documents to compare.</p>"
    pair = [docs[first], docs[second]]
    titles = [text_html(str(d.get("title") or d["id"])) for d in pair]
    cats, cells = matrix.get("categories", []), _cells(matrix)
    wanted = [str(c["id"]) for c in cats]
    found = [category_sentences(index, str(d["id"]), wanted) for d in pair]
    rows, sections, neither = [], [], []
    for c in cats:
        mine = [cells.get((str(d["id"]), c["id"]), {}) for d in pair]
        rows.append(f'<tr><th scope="row">{text_html(_label(c))}</th>'
                    + "".join(f'<td class="num">{_counts(x)}</td>' for x in mine) + "</tr>")
        if not any(x.get("passages") for x in mine):
            neither.append(_label(c))
            continue
        columns = "".join(
            f'<div class="compare-col"><h5>{title}</h5><p class="counts">{int(x.get("negative", 0))} passages '
            f'record a weakness, {int(x.get("positive", 0))} a strength</p>'
            f"{_sentences_html(index, str(d['id']), f.get(c['id'], []))}</div>"
            for d, title, x, f in zip(pair, titles, mine, found, strict=True))
        sections.append(f'<section class="compare-category" data-category="{attr(str(c["id"]))}">'
                        f'<h4>{text_html(_label(c))}</h4><div class="compare-cols">{columns}</div></section>')
    table = ('<table class="documents compare-counts"><caption>Passages per category: weaknesses, with strengths in '
             f'brackets (·: none)</caption><thead><tr><th scope="col">Category</th><th scope="col">{titles[0]}</th>'
             f'<th scope="col">{titles[1]}</th></tr></thead><tbody>{"".join(rows)}</tbody></table>')
    rest = f'<p class="neither">Found in neither: {text_html(", ".join(neither))}.</p>' if neither else ""
    return f'<div class="compare">{table}{"".join(sections)}{rest}</div>'
