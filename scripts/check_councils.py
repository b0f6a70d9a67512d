"""Does the council in each document's metadata agree with the council its file name gives? Over every Ofsted text
and PDF in ../shared/data/ofsted (the manifest's council column is the file name's council).

    .venv/bin/python scripts/check_councils.py [--json]

Reads the files with the ingest loaders and metadata detection only (no model, no index).
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from ingest.loaders import load_document  # noqa: E402
from ingest.metadata import detect_metadata  # noqa: E402
from vectorstore.councils import canonical_council  # noqa: E402

OFSTED = ROOT.parent / "shared" / "data" / "ofsted"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    with (OFSTED / "manifest.csv").open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    files = [(OFSTED / r["text_file"], r["council"]) for r in rows]
    files += [(OFSTED / r["pdf_file"], r["council"]) for r in rows if r["pdf_file"]]
    disagree = []
    for path, expected in files:
        meta = detect_metadata(load_document(path), path.name)
        want, got = canonical_council(expected), canonical_council(meta.council)
        if want != got:
            disagree.append({"file": path.name, "file_name_council": want, "metadata_council": got})
    agree = len(files) - len(disagree)
    result = {"documents": len(files), "agree": agree, "share": round(agree / len(files), 4), "disagree": disagree}
    if args.json:
        print(json.dumps(result, indent=1))
    else:
        print(f"{agree} of {len(files)} agree ({result['share']:.2%})")
        for d in disagree:
            print(f"  {d['file']}: file name {d['file_name_council']!r}, metadata {d['metadata_council']!r}")


if __name__ == "__main__":
    main()
