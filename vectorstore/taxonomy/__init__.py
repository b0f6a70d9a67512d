"""The taxonomy of contributory factors, in one package: the data file (`taxonomy.json`: ids, labels, levels,
definitions, indicative phrases), the categories as typed records (`categories`), and the tagger that finds them in
sentences and passages (`tagger`, with its patterns in `patterns`). It sits in vectorstore/, the lowest layer, so
that ingest (tagging passages as they are stored) and the assistant (labels, themes, answers grouped by category)
read one versioned source; a learned tagger will live here too.

The tagger is imported on first use (its patterns take ~50 ms to compile), so reading labels stays cheap.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from vectorstore.taxonomy.categories import (
    TAXONOMY_FILE,
    Category,
    category_by_id,
    category_labels,
    latent_categories,
    load_taxonomy,
    taxonomy_version,
)

if TYPE_CHECKING:
    from vectorstore.taxonomy.tagger import THRESHOLD, tag_passage, tag_sentence, tag_sentences

__all__ = ["TAXONOMY_FILE", "THRESHOLD", "Category", "category_by_id", "category_labels", "latent_categories",
           "load_taxonomy", "tag_passage", "tag_sentence", "tag_sentences", "taxonomy_version"]

_TAGGER = ("THRESHOLD", "tag_passage", "tag_sentence", "tag_sentences")


def __getattr__(name: str) -> Any:
    if name in _TAGGER:
        from vectorstore.taxonomy import tagger

        return getattr(tagger, name)
    raise AttributeError(name)
