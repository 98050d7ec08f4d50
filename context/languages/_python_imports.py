"""Python imports: resolving them to workspace files, and writing them (the refactors' hooks).

Resolution follows Python's own search: relative imports from the importer's package, absolute ones
from the source roots (the workspace root, ``src/``, configured extra roots, and a script's own
directory last), packages' ``__init__`` re-exported names as submodules, plain modules that bind a
submodule (``os.path``), and the project's distribution name mapped onto its folders.
"""

from __future__ import annotations

import builtins
import posixpath
import re
from collections.abc import Callable, Sequence
from pathlib import PurePosixPath

from roost.context.facts import FileFacts, Import, ImportedName, ResolvedImport
from roost.context.languages.base import WorkspaceLayout

LANGUAGE_NAME = "python"


def module_name_for_path(rel_path: str) -> str:
    """``pkg/sub/mod.py`` → ``pkg.sub.mod``; ``pkg/__init__.py`` → ``pkg`` (relative to a source root)."""
    parts = list(PurePosixPath(rel_path).with_suffix("").parts)
    if parts and parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def import_module_name(
    importer: str, target: str, relative: bool, exists: Callable[[str], bool]
) -> str | None:
    target_parts = _module_parts(target, exists)
    if not relative:
        return ".".join(target_parts)
    base = _package_parts(importer, exists)
    common = 0
    while common < min(len(base), len(target_parts)) and base[common] == target_parts[common]:
        common += 1
    if common == 0:
        return ".".join(target_parts)  # no shared package: only an absolute import works
    return "." * (len(base) - common + 1) + ".".join(target_parts[common:])


def render_import(module: str, names: Sequence[ImportedName]) -> str | None:
    rendered = ", ".join(n.name + (f" as {n.alias}" if n.alias else "") for n in names)
    return f"from {module} import {rendered}"


def render_module_import(module: str, alias: str | None = None) -> str | None:
    if module.startswith("."):
        return None  # ``import .x`` is not Python: relative modules come in with ``from . import x``
    return f"import {module}" + (f" as {alias}" if alias else "")


def import_insertion_line(facts: FileFacts | None, lines: Sequence[str]) -> int | None:
    """After the last top-level import, else after the module docstring (or at the top)."""
    # Only the module's own import statements: after an import inside a function (attrs' resolve_types
    # does ``import typing``) a column-0 line cut the function in two; an import under ``if``/``try`` is
    # inside its block as well.
    top_level = [imp for imp in facts.imports if imp.span.start_col == 0] if facts is not None else []
    if top_level:
        return max(imp.span.end_line for imp in top_level) + 1
    if lines and lines[0].lstrip().startswith(('"""', "'''", 'r"""')):
        quote = lines[0].lstrip()[:3] if not lines[0].lstrip().startswith("r") else lines[0].lstrip()[1:4]
        if lines[0].count(quote) >= 2:
            return 1
        for index in range(1, len(lines)):
            if quote in lines[index]:
                return index + 1
    return 0


def resolve_one(imp: Import, importer: str, layout: WorkspaceLayout) -> ResolvedImport:
    return resolve(imp, importer, layout, None)


def resolve_imports(
    imports: Sequence[Import], importer: str, layout: WorkspaceLayout
) -> list[ResolvedImport]:
    # The search roots depend on the importer only: once per file, not once per import.
    roots = _source_roots(importer, layout)
    return [resolve(imp, importer, layout, roots) for imp in imports]


def resolve(imp: Import, importer: str, layout: WorkspaceLayout, roots: list[str] | None) -> ResolvedImport:
    module = imp.module
    if module.startswith("."):
        return _resolve_relative(imp, importer, layout)
    if roots is None:
        roots = _source_roots(importer, layout)
    for root in roots:
        found = _module_file(root, module, layout)
        if found is not None:
            return _with_names(imp, found, layout)
    # ``import os.path`` / ``from os.path import join``: ``os`` is a plain module (not a package) that
    # binds ``path`` itself (``sys.modules["os.path"]``), so the import names that module. Inside a
    # package a missing submodule is a real error.
    parts = module.split(".")
    if len(parts) > 1:
        for cut in range(len(parts) - 1, 0, -1):
            prefix = ".".join(parts[:cut])
            for root in roots:
                found = _module_file(root, prefix, layout)
                if found is not None:
                    if _is_package_init(found):
                        return ResolvedImport()
                    return ResolvedImport(paths=(found,))
    top = parts[0]
    if any(_module_file(root, top, layout) or layout.is_dir(_join(root, top)) for root in roots):
        # The top-level package is ours but the submodule is missing: a broken import, not external.
        return ResolvedImport()
    if len(parts) > 1 and top == _project_name(layout):
        # The project's own distribution name over folders mapped onto it by the build (setuptools
        # ``package_dir``: ``roost.context`` → ``context/``): resolve the rest from the roots.
        rest = Import(".".join(parts[1:]), imp.span, imp.names, imp.alias, imp.is_star)
        inner = resolve(rest, importer, layout, roots)
        if inner.paths:
            return inner
    return ResolvedImport(external=True)


def _resolve_relative(imp: Import, importer: str, layout: WorkspaceLayout) -> ResolvedImport:
    stripped = imp.module.lstrip(".")
    level = len(imp.module) - len(stripped)
    package_dir = posixpath.dirname(importer)
    for _ in range(level - 1):
        if not package_dir:
            return ResolvedImport()  # beyond the workspace root
        package_dir = posixpath.dirname(package_dir)
    if stripped:
        found = _module_file(package_dir, stripped, layout)
        if found is None:
            return ResolvedImport()
        return _with_names(imp, found, layout)
    init = _join(package_dir, "__init__.py")
    base = init if layout.exists(init) else None
    return _names_in_package(imp, base, package_dir, layout)


def _with_names(imp: Import, module_file: str, layout: WorkspaceLayout) -> ResolvedImport:
    if not imp.names or not _is_package_init(module_file):
        return ResolvedImport(paths=(module_file,))
    return _names_in_package(imp, module_file, posixpath.dirname(module_file), layout)


def _names_in_package(
    imp: Import, init_file: str | None, package_dir: str, layout: WorkspaceLayout
) -> ResolvedImport:
    paths: list[str] = [init_file] if init_file else []
    name_paths: list[tuple[str, str]] = []
    for item in imp.names:
        sub = _module_file(package_dir, item.name, layout)
        if sub is not None:
            name_paths.append((item.name, sub))
            if sub not in paths:
                paths.append(sub)
    if not paths and package_dir and layout.is_dir(package_dir) and imp.is_star:
        return ResolvedImport()
    return ResolvedImport(paths=tuple(paths), name_paths=tuple(name_paths))


def _module_file(base_dir: str, dotted: str, layout: WorkspaceLayout) -> str | None:
    rel = _join(base_dir, dotted.replace(".", "/"))
    for candidate in (f"{rel}.py", f"{rel}/__init__.py", f"{rel}.pyi", f"{rel}/__init__.pyi"):
        if layout.exists(candidate):
            return candidate
    return None


def _source_roots(importer: str, layout: WorkspaceLayout) -> list[str]:
    roots = [""]
    if layout.is_dir("src"):
        roots.append("src")
    for extra in layout.extra_source_roots(LANGUAGE_NAME):
        extra = extra.strip("/")
        if extra not in roots:
            roots.append(extra)
    # A script's own directory is on sys.path when it runs (tests/, scripts/): a last resort.
    own_dir = _script_root(importer, layout)
    if own_dir not in roots:
        roots.append(own_dir)
    return roots


_PROJECT_NAMES: dict[tuple[str, int], str | None] = {}
_PROJECT_NAME = re.compile(r'^\s*name\s*=\s*["\']([A-Za-z0-9_.-]+)["\']', re.MULTILINE)


def _project_name(layout: WorkspaceLayout) -> str | None:
    """The ``[project] name`` of the workspace's pyproject.toml as an import name (cached per file state)."""
    pyproject = layout.root / "pyproject.toml"
    try:
        key = (str(pyproject), pyproject.stat().st_mtime_ns)
    except OSError:
        return None
    if key not in _PROJECT_NAMES:
        text = layout.read_text("pyproject.toml") or ""
        section = text.split("[project]", 1)[1].split("\n[", 1)[0] if "[project]" in text else ""
        match = _PROJECT_NAME.search(section)
        _PROJECT_NAMES[key] = match.group(1).replace("-", "_").lower() if match else None
    return _PROJECT_NAMES[key]


def _is_package_init(module_file: str) -> bool:
    """``pkg/__init__.py`` (or ``.pyi``), as :func:`_module_file` spells it; string tests
    because a ``PurePosixPath`` per resolved import was a visible share of the cold index."""
    return module_file.rsplit("/", 1)[-1] in ("__init__.py", "__init__.pyi")


def _join(base: str, rel: str) -> str:
    return f"{base}/{rel}" if base else rel


def _script_root(importer: str, layout: WorkspaceLayout) -> str:
    """The directory above the importer's outermost package (its own directory when not in a package)."""
    directory = posixpath.dirname(importer)
    while directory and layout.exists(_join(directory, "__init__.py")):
        directory = posixpath.dirname(directory)
    return directory


# What every module sees without an import, for "missing import" (plus the implicit module/receiver names).
BUILTIN_NAMES = frozenset(dir(builtins)) | {"self", "cls", "__name__", "__file__"}


def _module_parts(path: str, exists: Callable[[str], bool]) -> list[str]:
    """Dotted parts of a workspace file's module: its package chain (directories with ``__init__.py``)."""
    directory, name = posixpath.split(path)
    stem = posixpath.splitext(name)[0]
    parts = [] if stem == "__init__" else [stem]
    while directory and exists(posixpath.join(directory, "__init__.py")):
        directory, package = posixpath.split(directory)
        parts.insert(0, package)
    return parts


def _package_parts(path: str, exists: Callable[[str], bool]) -> list[str]:
    """The package a module's relative imports are relative to."""
    parts = _module_parts(path, exists)
    return parts if posixpath.basename(path) == "__init__.py" else parts[:-1]
