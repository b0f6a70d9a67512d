"""Files in, passages stored. Public entry points: `ingest_paths` and `tag_sentences`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ingest.pipeline import ingest_paths
    from ingest.tagger import tag_sentences
    from vectorstore.records import IngestReport

__all__ = ["IngestReport", "ingest_paths", "tag_sentences"]


def __getattr__(name: str) -> Any:
    # Lazy, so `import ingest` stays cheap for `latent --help`.
    if name == "ingest_paths":
        from ingest.pipeline import ingest_paths

        return ingest_paths
    if name == "tag_sentences":
        from ingest.tagger import tag_sentences

        return tag_sentences
    if name == "IngestReport":
        from vectorstore.records import IngestReport

        return IngestReport
    raise AttributeError(name)
