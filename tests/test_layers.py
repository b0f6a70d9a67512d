"""The packages' arrows stay one way (ingest -> vectorstore <- assistant -> prompts), `Index` stays the only door to
the stored passages, and no module imports itself round in a loop. Read from the source with `ast` (every import,
at module level or inside a function), so a lazy import counts as much as any other."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("vectorstore", "ingest", "assistant", "prompts")
# Who may import whom (house style): vectorstore is the lowest layer, prompts is data.
ALLOWED = {"vectorstore": set(), "prompts": set(), "ingest": {"vectorstore"}, "assistant": {"vectorstore", "ingest",
                                                                                            "prompts"}}
# The search cache's row arrays: read through `Index` methods, never from outside vectorstore/. (`boilerplate` is
# also a public field of `Hit`, so the cache's own is guarded by `.cache()` and `SearchCache` below.)
CACHE_ARRAYS = {"row_of", "vectors", "views"}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def sources(*folders: str) -> list[Path]:
    return sorted(p for folder in folders for p in (ROOT / folder).rglob("*.py") if ".venv" not in p.parts)


@cache
def tree(path: Path) -> ast.Module:
    return ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def imports(path: Path) -> Iterator[tuple[int, str, str | None]]:
    """(line, module, name) for every import in the file; name is None for `import module`."""
    inside = path.is_relative_to(ROOT)
    package = "" if not inside else module_name(path) if path.name == "__init__.py" else \
        module_name(path).rpartition(".")[0]
    for node in ast.walk(tree(path)):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name, None
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.split(".")
                parent = parent[:len(parent) - node.level + 1]
                base = ".".join([*parent, base] if base else parent)
            for alias in node.names:
                yield node.lineno, base, alias.name


def our_modules() -> dict[str, Path]:
    return {module_name(p): p for p in sources(*PACKAGES)}


def test_packages_import_only_the_layers_below() -> None:
    wrong = []
    for path in sources(*PACKAGES):
        mine = module_name(path).split(".")[0]
        for line, module, _ in imports(path):
            top = module.split(".")[0]
            if top in PACKAGES and top != mine and top not in ALLOWED[mine]:
                wrong.append(f"{path.relative_to(ROOT)}:{line} imports {module} ({mine} must not import {top})")
    assert not wrong, "\n".join(wrong)


@pytest.mark.parametrize("folder", ["assistant", "ingest", "prompts", "scripts", "tests"])
def test_nothing_outside_vectorstore_imports_its_private_names(folder: str) -> None:
    wrong = []
    for path in sources(folder):
        for line, module, name in imports(path):
            if module.split(".")[0] != "vectorstore":
                continue
            private = [part for part in [*module.split("."), name or ""] if part.startswith("_") and
                       not part.startswith("__")]
            if private:
                wrong.append(f"{path.relative_to(ROOT)}:{line} imports {module}.{name or ''}")
    assert not wrong, "\n".join(wrong)


@pytest.mark.parametrize("folder", ["assistant", "ingest", "prompts", "scripts"])
def test_only_vectorstore_reaches_the_search_cache(folder: str) -> None:
    """`Index` is the door: outside vectorstore/ nobody asks for its cache, imports the cache's class, or reads the
    cache's row arrays (tests of vectorstore itself may look inside)."""
    wrong = []
    for path in sources(folder):
        where = path.relative_to(ROOT)
        for line, module, name in imports(path):
            if module == "vectorstore.cache" and name == "SearchCache":
                wrong.append(f"{where}:{line} imports SearchCache")
        for node in ast.walk(tree(path)):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "cache" \
                    and not node.args:
                wrong.append(f"{where}:{node.lineno} calls .cache()")
            elif isinstance(node, ast.Attribute) and node.attr in CACHE_ARRAYS:
                wrong.append(f"{where}:{node.lineno} reads .{node.attr}")
            elif isinstance(node, ast.Attribute) and node.attr.startswith("_") and not node.attr.startswith("__") \
                    and isinstance(node.value, ast.Name) and node.value.id in ("index", "cache", "vectorstore"):
                wrong.append(f"{where}:{node.lineno} reads {node.value.id}.{node.attr}")
    assert not wrong, "\n".join(wrong)


def test_no_module_imports_itself_round_a_loop() -> None:
    """Strongly connected groups of the module import graph: there must be none (lazy imports included)."""
    modules = our_modules()
    graph: dict[str, set[str]] = {m: set() for m in modules}
    for m, path in modules.items():
        for _, module, name in imports(path):
            target = f"{module}.{name}" if name and f"{module}.{name}" in modules else module
            if target in modules and target != m:
                graph[m].add(target)
    loops = [group for group in strongly_connected(graph) if len(group) > 1]
    assert not loops, "import loops: " + "; ".join(" <-> ".join(sorted(g)) for g in loops)


def strongly_connected(graph: dict[str, set[str]]) -> list[set[str]]:
    """Tarjan's algorithm, iteratively (the graph is small, but recursion limits are not worth testing)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[set[str]] = []
    counter = 0
    for root in graph:
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                group = set()
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    group.add(member)
                    if member == node:
                        break
                groups.append(group)
    return groups


def test_the_checks_catch_what_they_guard(tmp_path: Path) -> None:
    """The walkers see a lazy import, a private name and a loop (so a green run means something)."""
    sample = tmp_path / "sample.py"
    sample.write_text("def f(index):\n    from vectorstore.search import _private\n    return index.cache().row_of\n")
    found = list(imports(sample))
    assert (2, "vectorstore.search", "_private") in found
    attrs = {n.attr for n in ast.walk(tree(sample)) if isinstance(n, ast.Attribute)}
    assert {"cache", "row_of"} <= attrs
    assert [g for g in strongly_connected({"a": {"b"}, "b": {"a"}, "c": {"a"}}) if len(g) > 1] == [{"a", "b"}]
