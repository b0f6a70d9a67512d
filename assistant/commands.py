"""What each `latent` subcommand does. Heavy imports happen here, inside the handlers."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from assistant.cli_common import (
    EXIT_FAILED_INPUT,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_USAGE,
    UsageError,
    emit_json,
    need_input_file,
    need_output_folder,
    open_from_args,
    read_jsonl,
)

if TYPE_CHECKING:
    from vectorstore.records import SearchFilters


def run(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    from vectorstore.errors import DocumentNotFoundError, LatentError

    handler: Callable[[argparse.Namespace], int] = {
        "ingest": cmd_ingest, "search": cmd_search, "list": cmd_list, "remove": cmd_remove, "chat": cmd_chat,
        "tag": cmd_tag, "eval": cmd_eval, "ask": cmd_ask, "themes": cmd_themes,
        "timeline": cmd_timeline, "brief": cmd_brief,
    }[args.command]
    try:
        return handler(args)
    except KeyboardInterrupt:
        # An ingest keeps every document stored before the interrupt; running it again resumes (and repairs a
        # half-stored one), so there is nothing to undo here and no traceback to show.
        print("latent: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except UsageError as exc:
        parser.error(str(exc))  # exits 2 with the usage line
    except DocumentNotFoundError as exc:
        print(f"latent: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except LatentError as exc:
        print(f"latent: {exc}", file=sys.stderr)
        return EXIT_FAILED_INPUT
    return EXIT_OK


# -- ingest --------------------------------------------------------------------------------------------------
def cmd_ingest(args: argparse.Namespace) -> int:
    from assistant.progress import IngestProgress
    from ingest import ingest_paths

    index = open_from_args(args)
    with IngestProgress(quiet=False) as progress:
        report = ingest_paths(index, list(args.paths), kind=args.kind, progress=progress)
    if args.json:
        emit_json(report.to_json())
    else:
        print(ingest_summary(report, index.passage_count(), str(index.path or index.server)))
    # Each failure was printed once already, on stderr, as it happened (IngestProgress): not again on stdout.
    return EXIT_FAILED_INPUT if report.failed else EXIT_OK


def ingest_summary(report: Any, total_passages: int, where: str) -> str:
    """'added: 2 documents (150 passages), unchanged: 5 documents, failed: 1 file; the index holds 480 passages in
    DIR'. A re-run over unchanged files says so, never '0 passages stored', which reads as an empty index."""
    def n(count: int, noun: str) -> str:
        return f"{count} {noun}{'' if count == 1 else 's'}"

    parts = []
    if report.added:
        parts.append(f"added: {n(len(report.added), 'document')}")
    if report.updated:
        parts.append(f"updated: {n(len(report.updated), 'document')}")
    if report.added or report.updated:
        parts[-1] += f" ({n(report.passages, 'passage')} stored)"
    if report.unchanged:
        parts.append(f"unchanged: {n(len(report.unchanged), 'document')}")
    if report.failed:
        parts.append(f"failed: {n(len(report.failed), 'file')} (named above)")
    return f"{', '.join(parts) or 'no files to ingest'}; the index holds {n(total_passages, 'passage')} in {where}"


# -- search --------------------------------------------------------------------------------------------------
def filters_from_args(args: argparse.Namespace) -> SearchFilters:
    from vectorstore.records import SearchFilters

    return SearchFilters.from_values(args.kinds, args.councils, args.documents, args.year_from, args.year_to,
                                     args.categories)


def cmd_search(args: argparse.Namespace) -> int:
    if bool(args.query) == bool(args.queries):
        raise UsageError("give a QUERY or --queries FILE (one of them)")
    if args.k < 1:
        raise UsageError("-k must be at least 1")
    if args.queries:  # read and checked whole before the model and the index start
        need_input_file(args.queries, "--queries")
        queries = list(read_jsonl(args.queries, "query"))
    index = open_from_args(args)
    filters = filters_from_args(args)
    if args.queries:
        for qid, query in queries:
            result = index.search_with_info(query, args.k, filters)
            emit_json({"id": qid, **result.to_json()})
        return EXIT_OK
    result = index.search_with_info(args.query, args.k, filters)
    if args.json:
        emit_json(result.to_json())
        return EXIT_OK
    if result.filters.get("boost"):
        named = "; ".join(f"{key} {', '.join(map(str, v)) if isinstance(v, list) else v}"
                          for key, v in result.filters["boost"].items())
        print(f"(named in the query, ranked first: {named})")
    if not result.hits:
        print("no passages found")
    words = query_words(args.query)
    for n, h in enumerate(result.hits, start=1):
        where = f"p. {h.passage.page}" + (f", para {h.passage.paragraph}" if h.passage.paragraph else "")
        print(f"[{n}] {h.document.title} ({h.document.kind}, {h.document.published or 'undated'}) — {where}")
        print(f"    {why_found(words, h.text)}")
        print("    " + h.text.replace("\n", "\n    "))
        print()
    return EXIT_OK


def query_words(query: str) -> list[tuple[str, set[str]]]:
    """The query's words that search reads (stop words out), each with its stems."""
    import re

    from vectorstore.lexical import lexical_tokens

    words = list(dict.fromkeys(re.findall(r"[\w'’-]+", query)))
    return [(w, set(stems)) for w, stems in zip(words, lexical_tokens(words), strict=True) if stems]


def why_found(words: list[tuple[str, set[str]]], text: str) -> str:
    """Instead of a score: why the passage is here, in words a reader checks at a glance. Hits are ranked by fused
    reciprocal ranks (~0.04), which order them but mean nothing read alone; `--json` keeps that as `score`."""
    from vectorstore.lexical import lexical_tokens

    have = set(lexical_tokens([text])[0])
    found = [w for w, stems in words if stems <= have]
    if not found:
        return "(found by meaning: none of the query's words is in it)"
    return f"(found by meaning and by the words: {', '.join(found)})"


# -- ask -----------------------------------------------------------------------------------------------------
def cmd_ask(args: argparse.Namespace) -> int:
    from assistant.answer import ask
    from assistant.render import answer_as_text

    if bool(args.question) == bool(args.questions):
        raise UsageError("give a QUESTION or --questions FILE (one of them)")
    if args.questions:  # read and checked whole before the model and the index start
        need_input_file(args.questions, "--questions")
        questions = list(read_jsonl(args.questions, "question"))
    index = open_from_args(args)
    filters = filters_from_args(args)
    llm = None
    if args.llm:
        from assistant.llm_answer import chat_model, remote_notice

        llm = chat_model(args.llm, args.base_url, streaming=args.stream and not args.json)
        notice = remote_notice(args.base_url)
        if notice:
            print(notice, file=sys.stderr)
    if args.questions:
        for qid, question in questions:
            emit_json({"id": qid, **ask(index, question, filters=filters, llm=llm).to_json()})
        return EXIT_OK
    answer = ask(index, args.question, filters=filters, llm=llm)
    if args.json:
        emit_json(answer.to_json())
    else:
        print(answer_as_text(answer))
    return EXIT_OK


# -- themes / timeline --------------------------------------------------------------------------------------
def cmd_themes(args: argparse.Namespace) -> int:
    from assistant.themes import matrix_as_csv, matrix_as_table, themes_matrix

    if args.csv:
        need_output_folder(args.csv, "--csv")
    filters = filters_from_args(args)
    matrix = themes_matrix(open_from_args(args), None if filters.is_empty() else filters, args.level)
    if args.csv:
        Path(args.csv).write_text(matrix_as_csv(matrix), encoding="utf-8")
    if args.json:
        emit_json(matrix.to_json())
    else:
        print(matrix_as_table(matrix))
    return EXIT_OK


def cmd_timeline(args: argparse.Namespace) -> int:
    from assistant.chronology import chronology

    result = chronology(open_from_args(args), args.doc)
    if args.json:
        emit_json(result.to_json())
        return EXIT_OK
    print(f"{result.document.title} — incident date: {result.incident_date or 'not stated'}")
    for e in result.events:
        where = f"p. {e.page}" + (f", para {e.paragraph}" if e.paragraph else "")
        print(f"{e.date}  {(e.agency or '-')[:18]:18}  {e.text[:110]}  ({where})")
    return EXIT_OK


def cmd_brief(args: argparse.Namespace) -> int:
    if Path(args.out).suffix.lower() not in (".pdf", ".html", ".htm"):
        raise UsageError(f"--out {args.out}: name a .pdf or an .html file")
    need_output_folder(args.out, "--out")
    from assistant.briefing import build_briefing
    from assistant.briefing_output import write_briefing

    briefing = build_briefing(open_from_args(args), args.doc)
    write_briefing(briefing, Path(args.out))
    if args.json:
        emit_json(briefing.to_json(args.out))
    else:
        print(f"wrote {args.out}: {len(briefing.conditions)} latent-condition categories, {briefing.citations} "
              f"citations, {len(briefing.chronology.events)} dated events, {len(briefing.letters)} earlier "
              "inspection letters")
    return EXIT_OK


# -- list / remove -------------------------------------------------------------------------------------------
def document_json(d: Any) -> dict[str, Any]:
    return {"id": d.id, "title": d.title, "source": d.source, "kind": d.kind, "council": d.council,
            "published": d.published, "passages": d.passages, "period_start": d.period_start,
            "period_end": d.period_end, "judgement": d.judgement, "child": d.child, "ingested_at": d.ingested_at}


def cmd_list(args: argparse.Namespace) -> int:
    docs = open_from_args(args).documents()
    if args.json:
        emit_json({"documents": [document_json(d) for d in docs]})
        return EXIT_OK
    if not docs:
        print("the index is empty: add documents with `latent ingest PATH`")
    for d in docs:
        print(f"{d.id}\t{d.kind}\t{d.council or '-'}\t{d.published or '-'}\t{d.passages} passages\t{d.title}")
    return EXIT_OK


def cmd_remove(args: argparse.Namespace) -> int:
    doc = open_from_args(args).remove(args.doc)
    if args.json:
        emit_json({"removed": document_json(doc)})
    else:
        print(f"removed {doc.id} ({doc.title}), {doc.passages} passages")
    return EXIT_OK


# -- tag -----------------------------------------------------------------------------------------------------
def cmd_tag(args: argparse.Namespace) -> int:
    from ingest import tag_sentences

    need_input_file(args.sentences, "--sentences")
    rows = list(read_jsonl(args.sentences, "text"))
    tags = tag_sentences([text for _, text in rows])
    for (sid, text), found in zip(rows, tags, strict=True):
        if args.json:
            emit_json({"id": sid, "tags": [t.to_json() for t in found]})
        else:
            print(f"{sid}\t{', '.join(f'{t.category}/{t.polarity}' for t in found) or '-'}\t{text[:80]}")
    return EXIT_OK


# -- chat ----------------------------------------------------------------------------------------------------
def cmd_chat(args: argparse.Namespace) -> int:
    from assistant.app import launch, parse_auth

    auth = args.auth or os.environ.get("LATENT_AUTH")
    try:
        parse_auth(auth)
    except ValueError as exc:
        raise UsageError(str(exc)) from exc
    need_free_port(args.host, args.port)
    launch(open_from_args(args), host=args.host, port=args.port, auth=auth,
           samples=args.samples or _index_is_default(args))
    return EXIT_OK


def need_free_port(host: str, port: int) -> None:
    """Gradio reports a port in use with a traceback, after the index is open and the page built; say it now.
    `create_server` sets SO_REUSEADDR as uvicorn does, so a port left in TIME_WAIT by a page just stopped passes."""
    import socket

    try:
        family = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0][0]
        socket.create_server((host, port), family=family).close()
    except OSError as exc:
        raise UsageError(f"--port {port}: cannot listen on {host}:{port} ({exc.strerror or exc}); another page "
                         "may be running there: choose another --port") from exc


def _index_is_default(args: argparse.Namespace) -> bool:
    return getattr(args, "index", None) is None and not os.environ.get("LATENT_INDEX")


# -- eval (assistant.evaluation) -----------------------------------------------------------------------------
def cmd_eval(args: argparse.Namespace) -> int:
    if bool(args.gold) == bool(args.beir):
        raise UsageError("give --gold FILE or --beir DIR (one of them)")
    if args.gold:
        from assistant.evaluation.gold import GoldFormatError, run_gold

        need_input_file(args.gold, "--gold")
        if args.details:
            need_output_folder(args.details, "--details")
        try:
            return run_gold(args)
        except GoldFormatError as exc:
            raise UsageError(str(exc)) from exc
    if not args.run_dir:
        raise UsageError("--beir needs --run-dir D (a TREC run file per method is written there)")
    if Path(args.run_dir).exists() and not Path(args.run_dir).is_dir():
        raise UsageError(f"--run-dir {args.run_dir}: is a file, not a folder")
    from assistant.evaluation.beir import BeirFormatError, run_beir

    try:
        return run_beir(args)
    except BeirFormatError as exc:
        raise UsageError(str(exc)) from exc
