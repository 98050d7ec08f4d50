"""Go import resolution: the nearest ``go.mod`` above the importer gives the module path; an import inside
that module path is the package directory (all its ``.go`` files; ``_test.go`` only for test importers).
Local ``replace`` directives, a ``vendor/`` directory and the other modules of a ``go.work`` are followed;
everything else (stdlib, third-party) is external. Also the reverse (a package directory's import path)
and the package name an import path binds by default.
"""

from __future__ import annotations

import re
from functools import lru_cache

from roost.context.facts import ResolvedImport
from roost.context.languages._common import join_rel, parent_dirs, read_project_file, rel_join, unquote
from roost.context.languages.base import PackageWorkspace, WorkspaceLayout


def resolve_go_import(module: str, importer: str, layout: WorkspaceLayout) -> ResolvedImport:
    """Where an import of the Go package ``module`` from ``importer`` points (see the module's docstring)."""
    include_tests = importer.endswith("_test.go")
    for directory in parent_dirs(importer):
        raw = read_project_file(layout, rel_join(directory, "go.mod"))
        if raw is None:
            continue
        module_path, replaces = parse_go_mod(raw)
        package_dir = _package_dir(module, directory, module_path, replaces)
        if package_dir is not None:
            # Inside the module but missing: unresolved (empty paths), not external.
            return ResolvedImport(_go_files(layout, package_dir, include_tests))
        vendored = _go_files(layout, rel_join(directory, "vendor", module), include_tests)
        if vendored:
            return ResolvedImport(vendored)
        break
    package_dir = _package_dir_in_go_work(module, importer, layout)
    if package_dir is not None:
        return ResolvedImport(_go_files(layout, package_dir, include_tests))
    return ResolvedImport(external=True)


def _package_dir_in_go_work(import_path: str, importer: str, layout: WorkspaceLayout) -> str | None:
    """Another module of the same ``go.work`` workspace (``use ./other``)."""
    for directory in parent_dirs(importer):
        raw = read_project_file(layout, rel_join(directory, "go.work"))
        if raw is None:
            continue
        for used in parse_go_work(raw):
            module_dir = join_rel(directory, used)
            if module_dir is None:
                continue
            go_mod = read_project_file(layout, rel_join(module_dir, "go.mod"))
            if go_mod is None:
                continue
            module_path, _ = parse_go_mod(go_mod)
            package_dir = _package_dir(import_path, module_dir, module_path, ())
            if package_dir is not None:
                return package_dir
        return None
    return None


def _package_dir(
    import_path: str, module_dir: str, module_path: str | None, replaces: tuple[tuple[str, str], ...]
) -> str | None:
    if module_path and (import_path == module_path or import_path.startswith(module_path + "/")):
        return rel_join(module_dir, import_path[len(module_path) :].lstrip("/"))
    for old, new in replaces:
        if import_path == old or import_path.startswith(old + "/"):
            target = join_rel(module_dir, new)
            if target is not None:
                return rel_join(target, import_path[len(old) :].lstrip("/"))
    return None


def _go_files(layout: WorkspaceLayout, directory: str, include_tests: bool) -> tuple[str, ...]:
    if directory and not layout.is_dir(directory):
        return ()
    return tuple(
        sorted(
            path
            for path in layout.files_in_dir(directory)
            if path.endswith(".go") and (include_tests or not path.endswith("_test.go"))
        )
    )


def import_path_of_dir(directory: str, workspace: PackageWorkspace) -> str | None:
    """The import path of a workspace package directory: its module's path (nearest go.mod) joined with
    the directory below the module."""
    for module_dir in parent_dirs(rel_join(directory, "x.go")):
        raw = workspace.read_text(rel_join(module_dir, "go.mod"))
        if raw is None:
            continue
        module_path, _ = parse_go_mod(raw)
        if module_path is None:
            return None
        below = directory[len(module_dir) :].lstrip("/") if module_dir else directory
        return rel_join(module_path, below)
    return None


_MODULE_LINE = re.compile(r"^\s*module\s+(\S+)", re.M)
_REPLACE = re.compile(r"^\s*(?:replace\s+)?(\S+)(?:\s+v\S+)?\s+=>\s+(\.{1,2}/\S*|\.{1,2})\s*$", re.M)


@lru_cache(maxsize=64)
def parse_go_mod(raw: str) -> tuple[str | None, tuple[tuple[str, str], ...]]:
    """The module path and the local-directory ``replace`` directives of a go.mod."""
    without_comments = re.sub(r"//[^\n]*", "", raw)
    match = _MODULE_LINE.search(without_comments)
    module_path = unquote(match.group(1)) if match else None
    replaces = tuple((old, new) for old, new in _REPLACE.findall(without_comments) if old != "module")
    return module_path, replaces


_MAJOR_VERSION = re.compile(r"^v[0-9]+$")


def go_package_name(import_path: str) -> str:
    parts = [part for part in import_path.split("/") if part]
    if len(parts) > 1 and _MAJOR_VERSION.match(parts[-1]):
        parts.pop()
    last = parts[-1] if parts else import_path
    last = re.sub(r"\.v[0-9]+$", "", last)  # gopkg.in/yaml.v3
    for prefix in ("go-",):
        if last.startswith(prefix) and len(last) > len(prefix):
            last = last[len(prefix) :]
    return re.sub(r"-go$", "", last).replace("-", "_").replace(".", "_")


_USE_BLOCK = re.compile(r"^\s*use\s*\(([^)]*)\)", re.M)
_USE_LINE = re.compile(r"^\s*use\s+([^\s(]+)", re.M)


@lru_cache(maxsize=16)
def parse_go_work(raw: str) -> tuple[str, ...]:
    """The module directories a go.work ``use``s."""
    without_comments = re.sub(r"//[^\n]*", "", raw)
    used = [
        unquote(line.strip()) for block in _USE_BLOCK.findall(without_comments) for line in block.splitlines()
    ]
    used.extend(unquote(match) for match in _USE_LINE.findall(without_comments))
    return tuple(path for path in used if path)
