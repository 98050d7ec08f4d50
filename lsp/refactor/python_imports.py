"""Python import statements as the refactors write them: module names of workspace files, relative or
absolute specs, rendering, and where new imports go.

Interim home (per-language knowledge belongs in ``roost.context.languages.python``): the graph gives
definitions, imports and their resolutions; only the *writing* of Python import statements is here.
"""

from __future__ import annotations

import posixpath
from collections.abc import Callable

from roost.context.facts import FileFacts, Import, ImportedName, Span

PYTHON_SUFFIXES = (".py", ".pyi")


def module_parts(path: str, exists: Callable[[str], bool]) -> list[str]:
    """Dotted parts of a workspace file's module: its package chain (directories with ``__init__.py``)."""
    directory, name = posixpath.split(path)
    stem = posixpath.splitext(name)[0]
    parts = [] if stem == "__init__" else [stem]
    while directory and exists(posixpath.join(directory, "__init__.py")):
        directory, package = posixpath.split(directory)
        parts.insert(0, package)
    return parts


def package_parts(path: str, exists: Callable[[str], bool]) -> list[str]:
    """The package a module's relative imports are relative to."""
    parts = module_parts(path, exists)
    return parts if posixpath.basename(path) == "__init__.py" else parts[:-1]


def module_spec(importer: str, target: str, relative: bool, exists: Callable[[str], bool]) -> str:
    """How ``importer`` names the module ``target`` (both workspace paths), relative or absolute."""
    target_parts = module_parts(target, exists)
    if not relative:
        return ".".join(target_parts)
    base = package_parts(importer, exists)
    common = 0
    while common < min(len(base), len(target_parts)) and base[common] == target_parts[common]:
        common += 1
    if common == 0:
        return ".".join(target_parts)  # no shared package: only an absolute import works
    return "." * (len(base) - common + 1) + ".".join(target_parts[common:])


def render_from_import(module: str, names: list[ImportedName]) -> str:
    rendered = ", ".join(n.name + (f" as {n.alias}" if n.alias else "") for n in names)
    return f"from {module} import {rendered}"


def import_insertion_line(facts: FileFacts | None, lines: list[str]) -> int:
    """0-based line where a new import goes: after the last top-level import, else after the module
    docstring and ``from __future__`` lines."""
    if facts is not None and facts.imports:
        return max(imp.span.end_line for imp in facts.imports) + 1
    line = 0
    if lines and lines[0].lstrip().startswith(('"""', "'''", 'r"""')):
        quote = lines[0].lstrip()[:3] if not lines[0].lstrip().startswith("r") else lines[0].lstrip()[1:4]
        if lines[0].count(quote) >= 2:
            return 1
        for index in range(1, len(lines)):
            if quote in lines[index]:
                return index + 1
    return line


def local_names(imp: Import) -> list[str]:
    if imp.names:
        return [n.local_name for n in imp.names]
    if imp.alias:
        return [imp.alias]
    return [imp.module.split(".")[0]] if not imp.module.startswith(".") else []


def byte_to_char(line_text: str, byte_col: int) -> int:
    return len(line_text.encode("utf-8")[:byte_col].decode("utf-8", errors="ignore"))


def span_offsets(text: str, span: Span) -> tuple[int, int]:
    lines = text.split("\n")
    starts = [0]
    for line in lines:
        starts.append(starts[-1] + len(line) + 1)
    start_line = min(span.start_line, len(lines) - 1)
    end_line = min(span.end_line, len(lines) - 1)
    return (
        starts[start_line] + byte_to_char(lines[start_line], span.start_col),
        starts[end_line] + byte_to_char(lines[end_line], span.end_col),
    )
