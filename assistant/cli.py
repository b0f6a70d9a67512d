"""The `latent` command. Only argparse is imported here, so `latent --help` is instant; each subcommand
imports what it needs when it runs (see `assistant.commands`).

Exit status: 0 success (a refusal is a success), 1 some input file failed, 2 usage error (including an input
file that does not exist), 130 interrupted (Ctrl+C).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from vectorstore.records import KINDS  # dataclasses only: `latent --help` stays instant

EXAMPLES = """examples:
  latent ingest ~/reviews                      ingest a folder (walked recursively)
  latent search "caseloads of social workers" -k 5 --council Wigan --year-from 2020
  latent search --json -k 10 --queries queries.jsonl
  latent ask "What latent conditions preceded Child R's death?"
  latent ask --json --questions questions.jsonl
  latent themes --level latent                 which organisational conditions recur, per document
  latent timeline review-child-r.pdf           a case chronology
  latent brief review-child-r.pdf --out r.pdf  a case briefing for a training session (or --out r.html)
  latent list --json
  latent remove wigan_80579_2022-07-05-3f2a1c
  latent chat --port 7860                      the web page, on 127.0.0.1

The index folder is --index DIR (before or after the subcommand), else $LATENT_INDEX, else a per-user folder.
"""


def _common(p: argparse.ArgumentParser, top: bool = False) -> None:
    default = None if top else argparse.SUPPRESS  # after the subcommand, don't overwrite one given before it
    p.add_argument("--index", metavar="DIR", default=default, help="index folder (env LATENT_INDEX)")
    p.add_argument("--server", metavar="URL", default=default,
                   help="a Chroma server instead of the folder's embedded Chroma (env LATENT_SERVER)")
    p.add_argument("--model", metavar="NAME", default=default,
                   help="embedding model (default: the bundled latent-minilm-tuned, all-MiniLM-L6-v2 tuned on "
                        "our questions; all-MiniLM-L6-v2 is bundled too)")


def _filters(p: argparse.ArgumentParser) -> None:
    p.add_argument("--kind", action="append", metavar="KIND", dest="kinds", choices=KINDS,
                   help="only this kind of document (repeatable)")
    p.add_argument("--council", action="append", metavar="NAME", dest="councils", help="only this council")
    p.add_argument("--doc", action="append", metavar="DOC", dest="documents", help="only this document")
    p.add_argument("--year-from", type=int, metavar="YEAR", help="published in or after YEAR")
    p.add_argument("--year-to", type=int, metavar="YEAR", help="published in or before YEAR")
    p.add_argument("--category", action="append", metavar="ID", dest="categories",
                   help="only passages tagged with this taxonomy category (e.g. workload)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="latent", description="Find, count and cite the latent conditions in safeguarding case reviews.",
        epilog=EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter)
    _common(parser, top=True)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("ingest", help="add files and folders to the index")
    p.add_argument("paths", nargs="+", metavar="PATH")
    p.add_argument("--kind", choices=KINDS, help="override the detected kind of document")
    p.add_argument("--json", action="store_true", help="print the report as JSON on stdout")

    p = sub.add_parser("search", help="find passages (dense + lexical, fused)")
    p.add_argument("query", nargs="?")
    p.add_argument("-k", type=int, default=10, help="number of hits (default 10)")
    p.add_argument("--queries", metavar="FILE", help='JSON lines {"id", "query"}: one result line each')
    p.add_argument("--json", action="store_true")
    _filters(p)

    p = sub.add_parser("ask", help="a cited answer from the documents (extractive unless --llm)")
    p.add_argument("question", nargs="?")
    p.add_argument("--questions", metavar="FILE", help='JSON lines {"id", "question"}: one answer line each')
    p.add_argument("--llm", metavar="SPEC", help="openai:MODEL or ollama:MODEL (default: extractive, no model)")
    p.add_argument("--base-url", metavar="URL", help="endpoint for --llm (e.g. http://127.0.0.1:8080/v1)")
    p.add_argument("--stream", action="store_true", help="print the LLM's answer as it is written")
    p.add_argument("--json", action="store_true")
    _filters(p)

    p = sub.add_parser("list", help="the stored documents")
    p.add_argument("--json", action="store_true")

    p = sub.add_parser("remove", help="delete a document (id, path or file name) everywhere")
    p.add_argument("doc", metavar="DOC")
    p.add_argument("--json", action="store_true")

    p = sub.add_parser("chat", help="the web page (binds 127.0.0.1 unless --host)")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=7860)
    p.add_argument("--auth", metavar="USER:PASSWORD", help="require a login (env LATENT_AUTH)")
    p.add_argument("--samples", action="store_true", help="ingest the bundled sample documents when empty")

    p = sub.add_parser("tag", help="tag sentences with the latent-conditions taxonomy (no index needed)")
    p.add_argument("--sentences", metavar="FILE", required=True, help='JSON lines {"id", "text"}')
    p.add_argument("--json", action="store_true")

    # -- eval (assistant.evaluation) --
    p = sub.add_parser("eval", help="score search on a gold set (--gold) or a BEIR benchmark (--beir)",
                       description="--beir DIR indexes the corpus itself (in --index DIR, else a temporary "
                                   "folder) and scores lexical, dense and hybrid search on the test split.",
                       epilog="example: latent eval --beir ../shared/data/beir/scifact --run-dir runs/ --json")
    p.add_argument("--gold", metavar="FILE", help="gold set, JSON lines (scored against --index)")
    p.add_argument("--beir", metavar="DIR", help="BEIR folder: corpus.jsonl, queries.jsonl, qrels/test.tsv")
    p.add_argument("--run-dir", metavar="D", help="with --beir: where to write a TREC run file per method")
    p.add_argument("--details", metavar="FILE", help="with --gold: one JSON line per question (for calibration)")
    p.add_argument("--json", action="store_true")
    # -- end eval --

    p = sub.add_parser("themes", help="documents x latent-condition categories: counts of tagged passages")
    p.add_argument("--level", choices=["latent", "active", "defence"], help="only categories of this level")
    p.add_argument("--csv", metavar="FILE", help="also write the matrix as CSV")
    p.add_argument("--json", action="store_true")
    _filters(p)

    p = sub.add_parser("timeline", help="a review's chronology: dated events, each linked to its paragraph")
    p.add_argument("doc", metavar="DOC", help="document id, path or file name")
    p.add_argument("--json", action="store_true")

    p = sub.add_parser("brief", help="a case briefing (PDF or printable HTML) for one review or coroner's report")
    p.add_argument("doc", metavar="DOC", help="document id, path or file name")
    p.add_argument("--out", metavar="FILE", required=True, help="FILE.pdf (a PDF) or FILE.html (printable HTML)")
    p.add_argument("--json", action="store_true")

    for name, sp in sub.choices.items():
        if name != "tag":
            _common(sp)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not args.command:
        parser.print_help()
        return 2
    from assistant.commands import run

    try:
        return run(args, parser)
    except BrokenPipeError:  # `latent … | head`: the reader left; that is not an error
        sys.stderr.close()
        return 0


if __name__ == "__main__":
    sys.exit(main())
