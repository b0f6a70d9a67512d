"""Files in, passages stored. Public entry points: `ingest_paths` and `tag_sentences`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ingest.pipeline import ingest_paths
    from vectorstore.records import IngestReport, Tag

__all__ = ["IngestReport", "ingest_paths", "tag_sentences"]


def tag_sentences(texts: list[str]) -> list[list[Tag]]:
    """Tags for each text, one list per input in order (contract). The tagger lives with the taxonomy it reads,
    in `vectorstore.taxonomy`; this is ingest's public door to it."""
    from vectorstore.taxonomy.tagger import tag_sentences as tag

    return tag(texts)


def __getattr__(name: str) -> Any:
    # Lazy, so `import ingest` stays cheap for `latent --help`.
    if name == "ingest_paths":
        from ingest.pipeline import ingest_paths

        return ingest_paths
    if name == "IngestReport":
        from vectorstore.records import IngestReport

        return IngestReport
    raise AttributeError(name)
