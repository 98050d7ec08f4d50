"""Whether a planned Python move makes modules import each other while they load.

Python runs a module's top-level imports as it loads it: when ``a`` imports ``b`` and ``b`` (directly or
through others) imports ``a`` at load time, whichever loads second finds the first half-initialised and
``from a import name`` fails with "cannot import name … (most likely due to a circular import)". A move adds
imports (the target importing what the moved code uses from the source, the source importing the symbol
back, dependents importing the target), and any of them may close such a cycle; such a move is refused with
the cycle, since no rewrite of the import statements alone can make it load.

Imports inside function bodies and under ``if TYPE_CHECKING:`` run later or never and do not count; nor does
the implicit import of a module's enclosing packages (``pkg/__init__.py`` is loading already whenever a
module of ``pkg`` loads through it), only an import naming the package (``from pkg import name``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any

import tree_sitter

from roost.context.facts import Import
from roost.context.languages import language_for_path
from roost.context.parser_cache import parse
from roost.context.parsing import parse_facts

_IMPORT_NODES = {"import_statement", "import_from_statement"}
_TYPE_CHECKING = {"TYPE_CHECKING", "typing.TYPE_CHECKING", "t.TYPE_CHECKING"}

Resolve = Callable[[str, Import], Any]
# An import the index cannot resolve yet (of a module the move creates): the workspace path it names.
Unresolved = Callable[[str, Import], str | None]


def _load_time_import_rows(path: str, text: str) -> set[int]:
    """Rows of the import statements that run when the module loads."""
    language = language_for_path(path)
    if language is None:
        return set()
    tree = parse(language.ts_language(path), text.encode("utf-8"))
    return {node.start_point[0] for node in _load_time_nodes(tree.root_node)}


def _load_time_nodes(node: tree_sitter.Node) -> Iterator[tree_sitter.Node]:
    for child in node.named_children:
        if child.type in _IMPORT_NODES:
            yield child
        elif child.type in ("function_definition", "lambda"):
            continue  # runs when called
        elif child.type == "if_statement" and _is_type_checking(child):
            for branch in child.named_children[2:]:  # elif / else run at load time
                yield from _load_time_nodes(branch)
        else:
            yield from _load_time_nodes(child)


def _is_type_checking(statement: tree_sitter.Node) -> bool:
    condition = statement.child_by_field_name("condition")
    return condition is not None and (condition.text or b"").decode() in _TYPE_CHECKING


def load_time_imports(path: str, text: str, resolve: Resolve, unresolved: Unresolved) -> set[str]:
    """The workspace modules ``path`` (with ``text``) imports while it loads."""
    facts = parse_facts(path, text)
    if facts is None:
        return set()
    rows = _load_time_import_rows(path, text)
    found: set[str] = set()
    for imp in facts.imports:
        if imp.span.start_line not in rows:
            continue
        resolved = resolve(path, imp)
        paths = tuple(getattr(resolved, "paths", ()) or ())
        submodules = dict(getattr(resolved, "name_paths", ()) or ())
        if submodules:  # ``from pkg import sub``: the submodule; the package too for its other names
            found.update(submodules.values())
            if any(name.name not in submodules for name in imp.names):
                found.update(paths[:1])
        elif paths:
            found.add(paths[0])
        else:
            named = unresolved(path, imp)
            if named is not None:
                found.add(named)
    found.discard(path)
    return found


def import_cycle(
    changed: Mapping[str, tuple[str, str]],
    text_of: Callable[[str], str],
    exists: Callable[[str], bool],
    resolve: Resolve,
    unresolved: Unresolved,
) -> list[str] | None:
    """A chain of load-time imports ``[a, b, …, a]`` that the changed files (path → (text before, text
    after)) close and did not have before, or None."""
    cache: dict[str, set[str]] = {}

    def imports_of(path: str) -> set[str]:
        if path not in cache:
            if path in changed:
                text = changed[path][1]
            elif exists(path):
                text = text_of(path)
            else:
                text = ""
            cache[path] = load_time_imports(path, text, resolve, unresolved) if text else set()
        return cache[path]

    for path, (before, _) in changed.items():
        had = load_time_imports(path, before, resolve, unresolved) if before else set()
        for added in sorted(imports_of(path) - had):
            chain = _chain(added, path, imports_of)
            if chain is not None:
                return [path, *chain]
    return None


def _chain(start: str, goal: str, imports_of: Callable[[str], set[str]]) -> list[str] | None:
    """The shortest chain of imports from ``start`` to ``goal`` (both included), or None."""
    came_from: dict[str, str | None] = {start: None}
    frontier = [start]
    while frontier:
        following: list[str] = []
        for module in frontier:
            if module == goal:
                chain = [module]
                while (previous := came_from[chain[-1]]) is not None:
                    chain.append(previous)
                return chain[::-1]
            for imported in sorted(imports_of(module)):
                if imported not in came_from:
                    came_from[imported] = module
                    following.append(imported)
        frontier = following
    return None
