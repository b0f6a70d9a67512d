"""The taxonomy of contributory factors (Reason's latent conditions, active failures, defences), read from a data file.

The categories live in `taxonomy.json` beside this module so that ingest (the tagger) and the assistant (themes,
filters) read one versioned source; the ids are a contract (`latent tag --json`, `latent themes --json`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache, lru_cache
from importlib import resources

from vectorstore.records import LEVELS

__all__ = ["TAXONOMY_FILE", "Category", "category_by_id", "load_taxonomy", "taxonomy_version"]

TAXONOMY_FILE = "taxonomy.json"


@dataclass(frozen=True)
class Category:
    """One taxonomy category: a latent condition, an active failure, or a defence."""

    id: str
    label: str
    level: str  # latent | active | defence
    definition: str
    phrases: tuple[str, ...]  # indicative phrases, as written in reviews and inspection letters
    framework: str  # where the category comes from in the safety literature


def _read_taxonomy() -> dict[str, object]:
    # importlib.resources rather than a path relative to __file__, so the file is found inside a wheel or zip too.
    text = resources.files("vectorstore").joinpath(TAXONOMY_FILE).read_text(encoding="utf-8")
    data: dict[str, object] = json.loads(text)
    return data


@lru_cache(maxsize=1)
def load_taxonomy() -> tuple[Category, ...]:
    """All categories, in file order (latent conditions, then active failures, then the defence)."""
    data = _read_taxonomy()
    raw = data.get("categories")
    if not isinstance(raw, list):
        raise ValueError(f"{TAXONOMY_FILE}: 'categories' must be a list")
    categories: list[Category] = []
    seen: set[str] = set()
    for item in raw:
        category = Category(id=str(item["id"]), label=str(item["label"]), level=str(item["level"]),
                            definition=str(item["definition"]),
                            phrases=tuple(str(p) for p in item.get("phrases", ())),
                            framework=str(item.get("framework", "")))
        if category.level not in LEVELS:
            raise ValueError(f"{TAXONOMY_FILE}: category {category.id!r} has unknown level {category.level!r}")
        if category.id in seen:
            raise ValueError(f"{TAXONOMY_FILE}: duplicate category id {category.id!r}")
        seen.add(category.id)
        categories.append(category)
    return tuple(categories)


@lru_cache(maxsize=1)
def taxonomy_version() -> int:
    """The data file's version number (bumped when a category's meaning changes)."""
    version = _read_taxonomy().get("version", 0)
    return int(version) if isinstance(version, int | str) else 0


@cache
def category_by_id(category_id: str) -> Category:
    """The category with this id; KeyError names the known ids when there is none."""
    for category in load_taxonomy():
        if category.id == category_id:
            return category
    known = ", ".join(c.id for c in load_taxonomy())
    raise KeyError(f"unknown taxonomy category {category_id!r} (known: {known})")
