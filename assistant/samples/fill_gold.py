"""Merge `source/gold-*.jsonl` into `gold.jsonl`, filling each answerable line's `page` from the built document.

    python -m assistant.samples.fill_gold        (after python -m assistant.samples.build)

For a PDF the page is the 1-based page whose text (read with pypdf, an extractor independent of the pypdfium2
loader) contains the first evidence string; for other formats the page is 1; unanswerable lines keep page null.
Every evidence string must occur exactly once in its document (after normalising whitespace and joining line
breaks), and, where the gold line gives a paragraph number, in the source paragraph with that number; anything
else stops the merge with an error listing every problem.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

if __package__:
    from . import build
else:  # run as a script
    import build  # type: ignore[no-redef]

HERE = Path(__file__).resolve().parent
SOURCE_DIR, DOCS_DIR, GOLD = HERE / "source", HERE / "docs", HERE / "gold.jsonl"
KEYS = ("id", "question", "doc", "evidence", "page", "paragraph", "kind")
KINDS = ("fact", "paraphrase", "filter", "theme", "unanswerable")


def normalise(text: str) -> str:
    """One space for any run of whitespace; a line break after a hyphen is joined without a space."""
    text = text.replace("\u00a0", " ").replace("\u00ad", "").replace("\r", "")
    text = re.sub(r"(?<=\w-)\n\s*", "", text)
    return re.sub(r"\s+", " ", text).strip()


def page_texts(path: Path) -> list[str]:
    """The document's text, one string per page (a single page for formats without pages)."""
    suffix = path.suffix.lower()
    if suffix == ".pdf":
        from pypdf import PdfReader
        return [normalise(page.extract_text() or "") for page in PdfReader(str(path)).pages]
    if suffix == ".docx":
        import docx
        doc = docx.Document(str(path))
        parts = [p.text for p in doc.paragraphs]
        parts += [cell.text for table in doc.tables for row in table.rows for cell in row.cells]
        return [normalise("\n".join(parts))]
    if suffix in (".html", ".htm"):
        from bs4 import BeautifulSoup
        soup = BeautifulSoup(path.read_text(encoding="utf-8"), "html.parser")
        for tag in soup(["style", "script", "head"]):
            tag.decompose()
        return [normalise(soup.get_text("\n"))]
    return [normalise(path.read_text(encoding="utf-8"))]


def source_paragraphs(doc_name: str) -> list[tuple[str | None, str]]:
    """(number, text) of every paragraph and bullet in the document's source."""
    path = SOURCE_DIR / (Path(doc_name).stem + ".md")
    if not path.exists():
        return []
    out: list[tuple[str | None, str]] = []
    for block in build.parse_source(path).blocks:
        if block[0] == "para":
            out.append(((block[1] or "").rstrip(".") or None, normalise(block[2])))
        elif block[0] == "bullets":
            out += [(None, normalise(item)) for item in block[1]]
    return out


def check_line(line: dict, cache: dict[str, list[str]]) -> list[str]:
    """Fill line["page"] in place; return the problems found."""
    problems: list[str] = []
    gid = line.get("id")
    missing = [k for k in KEYS if k not in line]
    if missing:
        return [f"{gid}: missing keys {missing}"]
    if line["kind"] not in KINDS:
        problems.append(f"{gid}: unknown kind {line['kind']!r}")
    if line["kind"] == "unanswerable":
        if any(line[k] is not None for k in ("doc", "evidence", "page", "paragraph")):
            problems.append(f"{gid}: unanswerable lines need doc, evidence, page and paragraph null")
        return problems
    if not line["doc"] or not line["evidence"]:
        return [*problems, f"{gid}: answerable line without doc or evidence"]
    path = DOCS_DIR / line["doc"]
    if not path.exists():
        return [*problems, f"{gid}: built document {line['doc']} not found (run build first)"]
    if line["doc"] not in cache:
        cache[line["doc"]] = page_texts(path)
    pages = cache[line["doc"]]
    joined = " ".join(pages)
    for n, evidence in enumerate(line["evidence"]):
        needle = normalise(evidence)
        count = joined.count(needle)
        if count != 1:
            problems.append(f"{gid}: evidence {n + 1} found {count} times in {line['doc']}: {evidence!r}")
            continue
        if n == 0:
            start, offset = joined.index(needle), 0
            for number, text in enumerate(pages, 1):
                if start < offset + len(text) + 1:
                    line["page"] = number
                    if needle not in text:
                        print(f"warning: {gid}: evidence crosses from page {number} to the next", file=sys.stderr)
                    break
                offset += len(text) + 1
        paragraphs = [num for num, text in source_paragraphs(line["doc"]) if needle in text]
        if line["paragraph"] is not None and paragraphs and str(line["paragraph"]) not in paragraphs:
            problems.append(f"{gid}: evidence {n + 1} is in paragraph {paragraphs}, not {line['paragraph']}")
        if n == 0 and line["paragraph"] is None and any(paragraphs):
            print(f"warning: {gid}: evidence is in numbered paragraph {paragraphs} but paragraph is null",
                  file=sys.stderr)
    return problems


def fill(sources: list[Path] | None = None, out: Path = GOLD) -> list[dict]:
    lines: list[dict] = []
    for path in sources or sorted(SOURCE_DIR.glob("gold-*.jsonl")):
        for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if raw.strip():
                try:
                    lines.append(json.loads(raw))
                except json.JSONDecodeError as exc:
                    raise SystemExit(f"{path.name}:{number}: not JSON: {exc}") from exc
    problems: list[str] = []
    ids = [str(line.get("id")) for line in lines]
    problems += [f"duplicate id {i}" for i in sorted({i for i in ids if ids.count(i) > 1})]
    cache: dict[str, list[str]] = {}
    for line in lines:
        if line.get("kind") != "unanswerable":
            line["page"] = None
        problems += check_line(line, cache)
    if problems:
        raise SystemExit("gold set not written:\n  " + "\n  ".join(problems))
    lines.sort(key=lambda line: line["id"])
    ordered = [{k: line[k] for k in KEYS} | {k: v for k, v in line.items() if k not in KEYS} for line in lines]
    out.write_text("".join(json.dumps(line, ensure_ascii=False) + "\n" for line in ordered), encoding="utf-8")
    print(f"wrote {out.name}: {len(ordered)} questions from {len(cache)} documents", file=sys.stderr)
    return ordered


if __name__ == "__main__":
    fill([Path(p) for p in sys.argv[1:]] or None)
