"""The categories of the taxonomy (Reason's latent conditions, active failures, defences), read from its data file.

The categories live in `taxonomy.json` beside this module; their ids are a contract (`latent tag --json`, `latent
themes --json`) and their labels are the ones every answer, table and plot shows.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache, lru_cache
from importlib import resources
from types import MappingProxyType

from vectorstore.records import LEVELS

__all__ = ["TAXONOMY_FILE", "Category", "category_by_id", "category_labels", "latent_categories", "load_taxonomy",
           "taxonomy_version"]

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

    @property
    def summary(self) -> str:
        """The label and the first ten indicative phrases: what a search for the category's evidence asks."""
        return f"{self.label}: {', '.join(self.phrases[:10])}"


def _read_taxonomy() -> dict[str, object]:
    # importlib.resources rather than a path relative to __file__, so the file is found inside a wheel or zip too.
    text = resources.files("vectorstore.taxonomy").joinpath(TAXONOMY_FILE).read_text(encoding="utf-8")
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


@cache
def latent_categories() -> tuple[Category, ...]:
    """The latent conditions, in file order."""
    return tuple(c for c in load_taxonomy() if c.level == "latent")


@cache
def category_labels() -> Mapping[str, str]:
    """Category id -> its label, in file order (the one place labels come from; read-only, shared)."""
    return MappingProxyType({c.id: c.label for c in load_taxonomy()})
