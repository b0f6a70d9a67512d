"""The `latent` command. Only argparse is imported here, so `latent --help` is instant; each subcommand
imports what it needs when it runs (see `assistant.commands`).

Exit status: 0 success (a refusal is a success), 1 some input file failed, 2 usage error.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

EXAMPLES = """examples:
  latent ingest ~/reviews                      ingest a folder (walked recursively)
  latent search "caseloads of social workers" -k 5 --council Wigan --year-from 2020
  latent search --json -k 10 --queries queries.jsonl
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
                   help="embedding model (default: the bundled all-MiniLM-L6-v2)")


def _filters(p: argparse.ArgumentParser) -> None:
    p.add_argument("--kind", action="append", metavar="KIND", dest="kinds",
                   choices=["review", "inspection", "focused_visit", "coroner_report", "literature", "other"],
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
    p.add_argument("--kind", choices=["review", "inspection", "focused_visit", "coroner_report", "literature",
                                      "other"], help="override the detected kind of document")
    p.add_argument("--json", action="store_true", help="print the report as JSON on stdout")

    p = sub.add_parser("search", help="find passages (dense + lexical, fused)")
    p.add_argument("query", nargs="?")
    p.add_argument("-k", type=int, default=10, help="number of hits (default 10)")
    p.add_argument("--queries", metavar="FILE", help='JSON lines {"id", "query"}: one result line each')
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

    return run(args, parser)


if __name__ == "__main__":
    sys.exit(main())
