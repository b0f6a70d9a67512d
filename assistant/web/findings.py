"""Findings across documents: the documents × categories matrix of `latent themes` (`assistant.themes.ThemesMatrix`),
as a shaded table, the passages behind one cell, a CSV, and two documents side by side (each category's cited
sentences).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from assistant.themes import CategoryColumn, Cell, DocumentRow, ThemesMatrix, category_sentences, matrix_as_csv
from assistant.web.cards import attr, document_href, source_card, text_html
from vectorstore.records import Hit

if TYPE_CHECKING:
    from vectorstore.index import Index

SHOWN = 4  # sentences shown per document and category; the rest behind "more"


@dataclass(frozen=True)
class PickedCell:
    """The cell under a click, with its row's document and its column's category."""

    document: DocumentRow
    category: CategoryColumn
    cell: Cell


def _label(cat: CategoryColumn) -> str:
    return cat.label or cat.id


def _title(doc: DocumentRow) -> str:
    return doc.title or doc.id


def matrix_table(matrix: ThemesMatrix) -> tuple[list[str], list[list[str]], list[list[str]]]:
    """Headers, rows of cell text ('3' negative findings, '3 (+1)' with one positive) and each cell's CSS
    (shaded by its negative count relative to the largest), for a Dataframe."""
    top = max((c.negative for c in matrix.cells), default=0) or 1
    headers = ["Document", *(_label(c) for c in matrix.categories)]
    rows, styles = [], []
    for d in matrix.documents:
        row, style = [_title(d)], [""]
        for c in matrix.categories:
            cell = matrix.cell(d.id, c.id)
            row.append(_counts(cell))
            share = cell.negative / top
            # Light to strong amber; text stays dark, so contrast holds at every level (≥ 7:1 on #f59e0b).
            style.append(f"background-color: rgba(245, 158, 11, {0.12 + 0.78 * share:.2f}); color: #111"
                         if cell.negative else "")
        rows.append(row)
        styles.append(style)
    return headers, rows, styles


def matrix_frame(matrix: ThemesMatrix) -> Any:
    """The matrix as a shaded pandas Styler (gr.Dataframe shows its colours)."""
    import pandas as pd

    headers, rows, styles = matrix_table(matrix)
    frame = pd.DataFrame(rows, columns=headers)
    css = pd.DataFrame(styles, columns=headers)
    return frame.style.apply(lambda _: css, axis=None)


def cell_at(matrix: ThemesMatrix, row: int, col: int) -> PickedCell | None:
    """The cell under a click (row, column of the table; column 0 is the document's title)."""
    if not (0 <= row < len(matrix.documents) and 1 <= col <= len(matrix.categories)):
        return None
    doc, cat = matrix.documents[row], matrix.categories[col - 1]
    return PickedCell(doc, cat, matrix.cell(doc.id, cat.id))


def cell_html(index: Index, picked: PickedCell | None) -> str:
    """The passages behind one cell: its weaknesses, then its strengths, each labelled, the surest evidence first,
    ten at a time (the rest behind "more")."""
    if picked is None:
        return "<p>Select a cell of the table to see the passages behind it.</p>"
    doc, cat, cell = picked.document, picked.category, picked.cell
    title = f"{text_html(_label(cat))} in {text_html(_title(doc))}"
    if not cell.passages:
        return f"<h3>{title}</h3><p>No finding of this document is tagged with this category.</p>"
    info = index.document_info(doc.id)
    by_id = {p.id: p for p in index.passages(doc.id)} if info else {}
    # A cell built before weaknesses and strengths were kept apart lists its passages only: all count as found.
    groups = ((("weakness", cell.weaknesses), ("strength", cell.strengths)) if cell.weaknesses or cell.strengths
              else (("weakness", cell.passages),))
    counts = (f"{_plural(cell.negative, 'weakness', 'weaknesses')}, {_plural(cell.positive, 'strength', 'strengths')}"
              "; the surest evidence first.")
    parts, n = [], 0
    for kind, ids in groups:
        cards = []
        for i in ids:
            if i in by_id and info is not None:
                n += 1
                cards.append(f'<div class="finding {kind}"><p class="polarity">{kind.capitalize()}</p>'
                             f"{source_card(n, Hit(by_id[i], info, 0.0), [], anchor='finding-')}</div>")
        if cards:
            plural = "weaknesses" if kind == "weakness" else "strengths"
            parts.append(f'<section class="cell-group {plural}" aria-label="{plural.capitalize()}">'
                         f"<h4>{plural.capitalize()} ({len(cards)})</h4>{_in_tens(cards, plural)}</section>")
    body = "".join(parts) or "<p>Those passages are no longer in the index.</p>"
    return f'<h3>{title}</h3><p class="cell-counts">{counts}</p>{body}'


PAGE_SIZE = 10  # evidence shown at once in a cell; a trainer presents a few, "more" opens the next ten


def _in_tens(cards: list[str], plural: str) -> str:
    """The first ten, then each next ten inside a "more" that opens in place (no script needed)."""
    html = ""
    for start in range(((len(cards) - 1) // PAGE_SIZE) * PAGE_SIZE, 0, -PAGE_SIZE):
        chunk = "".join(cards[start:start + PAGE_SIZE])
        end = min(start + PAGE_SIZE, len(cards))
        html = (f'<details class="more"><summary>More {plural} ({start + 1}–{end} of {len(cards)})</summary>'
                f"{chunk}{html}</details>")
    return "".join(cards[:PAGE_SIZE]) + html


def _plural(count: int, one: str, many: str) -> str:
    return f"{count} {one if count == 1 else many}"


def write_csv(matrix: ThemesMatrix, path: Path) -> Path:
    """The matrix as `latent themes --csv` writes it."""
    path.write_text(matrix_as_csv(matrix), encoding="utf-8", newline="")
    return path


def compare_choices(matrix: ThemesMatrix) -> list[tuple[str, str]]:
    """(title, id) of the matrix's documents, for the two pickers."""
    return [(_title(d), d.id) for d in matrix.documents]


def default_pair(matrix: ThemesMatrix, first: str | None, second: str | None) -> tuple[str | None, str | None]:
    """The picks kept while their documents are still there; otherwise the first two reviews (else documents)."""
    ids = [d.id for d in matrix.documents]
    reviews = [d.id for d in matrix.documents if d.kind == "review"]
    pool = [*reviews, *(i for i in ids if i not in reviews)]
    a = first if first in ids else (pool[0] if pool else None)
    b = second if second in ids and second != a else next((i for i in pool if i != a), None)
    return a, b


def _counts(cell: Cell) -> str:
    return (str(cell.negative) if cell.negative else "·") + (f" (+{cell.positive})" if cell.positive else "")


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


def compare_html(index: Index, matrix: ThemesMatrix, first: str | None, second: str | None) -> str:
    """Two documents side by side: a table of passage counts per category, then for each category found in
    either, the sentences that evidence it in each document, in two columns, each with its citation."""
    docs = {d.id: d for d in matrix.documents}
    if not first or not second or first not in docs or second not in docs:
        return "<p>Choose two documents to compare.</p>"
    if first == second:
        return "<p>Choose two different documents to compare.</p>"
    pair = [docs[first], docs[second]]
    titles = [text_html(_title(d)) for d in pair]
    wanted = [c.id for c in matrix.categories]
    found = [category_sentences(index, d.id, wanted) for d in pair]
    rows, sections, neither = [], [], []
    for c in matrix.categories:
        mine = [matrix.cell(d.id, c.id) for d in pair]
        rows.append(f'<tr><th scope="row">{text_html(_label(c))}</th>'
                    + "".join(f'<td class="num">{_counts(x)}</td>' for x in mine) + "</tr>")
        if not any(x.passages for x in mine):
            neither.append(_label(c))
            continue
        columns = "".join(
            f'<div class="compare-col"><h5>{title}</h5><p class="counts">{x.negative} passages '
            f'record a weakness, {x.positive} a strength</p>'
            f"{_sentences_html(index, d.id, f.get(c.id, []))}</div>"
            for d, title, x, f in zip(pair, titles, mine, found, strict=True))
        sections.append(f'<section class="compare-category" data-category="{attr(c.id)}">'
                        f'<h4>{text_html(_label(c))}</h4><div class="compare-cols">{columns}</div></section>')
    table = ('<table class="documents compare-counts"><caption>Passages per category: weaknesses, with strengths in '
             f'brackets (·: none)</caption><thead><tr><th scope="col">Category</th><th scope="col">{titles[0]}</th>'
             f'<th scope="col">{titles[1]}</th></tr></thead><tbody>{"".join(rows)}</tbody></table>')
    rest = f'<p class="neither">Found in neither: {text_html(", ".join(neither))}.</p>' if neither else ""
    return f'<div class="compare">{table}{"".join(sections)}{rest}</div>'
