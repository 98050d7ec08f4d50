"""JavaScript/TypeScript module resolution: relative specifiers with extension and ``index`` probing (and
``./x.js`` → ``x.ts``), a directory's ``package.json`` ``types``/``module``/``main``, the nearest
``tsconfig.json``/``jsconfig.json`` (``extends``, ``baseUrl``, ``paths``; comments and trailing commas
allowed), and packages of the same npm/yarn/pnpm workspace (monorepos). Other bare specifiers (``react``,
``node:fs``) and asset imports (``./styles.css``, ``./data.json``) are external.
"""

from __future__ import annotations

import json
import posixpath
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from roost.context.facts import ResolvedImport
from roost.context.languages._common import (
    PROJECT_FILE_TTL_S,
    join_rel,
    parent_dirs,
    read_project_file,
    rel_join,
)
from roost.context.languages.base import WorkspaceLayout

_JS_FIRST = (".js", ".jsx", ".mjs", ".cjs", ".ts", ".tsx", ".d.ts", ".mts", ".cts")
_TS_FIRST = (".ts", ".tsx", ".d.ts", ".mts", ".cts", ".js", ".jsx", ".mjs", ".cjs")
# TypeScript ESM code imports ``./x.js`` meaning the source ``./x.ts``.
_JS_TO_TS = {".js": (".ts", ".tsx"), ".jsx": (".tsx",), ".mjs": (".mts",), ".cjs": (".cts",)}
_CONFIG_NAMES = ("tsconfig.json", "jsconfig.json")
_MAX_EXTENDS = 5


def resolve_file(base: str, layout: WorkspaceLayout, extensions: Sequence[str], depth: int = 0) -> str | None:
    """The file a specifier path denotes: as is, with an extension, ``.js``→``.ts``, a directory's
    ``package.json`` ``main``/``types``, or its ``index``."""
    if base and layout.exists(base) and not layout.is_dir(base):
        return base
    stem, ext = posixpath.splitext(base)
    for replacement in _JS_TO_TS.get(ext, ()):
        if layout.exists(stem + replacement):
            return stem + replacement
    for extension in extensions:
        if layout.exists(base + extension):
            return base + extension
    if base == "" or layout.is_dir(base):
        manifest = read_project_file(layout, rel_join(base, "package.json")) if depth < 2 else None
        if manifest:
            try:
                data = json.loads(manifest)
            except ValueError:
                data = {}
            for field in ("types", "typings", "module", "main"):
                entry = data.get(field) if isinstance(data, dict) else None
                if isinstance(entry, str) and entry:
                    target = join_rel(base, entry)
                    found = (
                        resolve_file(target, layout, extensions, depth + 1) if target is not None else None
                    )
                    if found is not None:
                        return found
        for extension in extensions:
            candidate = rel_join(base, "index" + extension)
            if layout.exists(candidate):
                return candidate
    return None


_JSONC_COMMENTS = re.compile(r'"(?:\\.|[^"\\])*"|//[^\n]*|/\*.*?\*/', re.S)
_JSONC_TRAILING_COMMAS = re.compile(r'"(?:\\.|[^"\\])*"|,(?=\s*[}\]])')


def _keep_strings(match: re.Match[str]) -> str:
    return match.group(0) if match.group(0).startswith('"') else ""


def parse_jsonc(raw: str) -> dict[str, object] | None:
    """JSON with comments and trailing commas (tsconfig's dialect); None when still invalid."""
    # Two passes: a comma may be followed by a comment and only then by the closing bracket.
    cleaned = _JSONC_TRAILING_COMMAS.sub(_keep_strings, _JSONC_COMMENTS.sub(_keep_strings, raw))
    try:
        data = json.loads(cleaned)
    except ValueError:
        return None
    return data if isinstance(data, dict) else None


@dataclass(frozen=True, slots=True)
class PathConfig:
    """The module-resolution part of a tsconfig/jsconfig, directories workspace-relative."""

    base_url: str | None
    paths: tuple[tuple[str, tuple[str, ...]], ...]
    paths_base: str  # where ``paths`` targets are relative to: baseUrl, else the defining config's dir


@lru_cache(maxsize=256)
def _parse_config_cached(raw: str) -> dict[str, object] | None:
    return parse_jsonc(raw)


def load_path_config(config_path: str, layout: WorkspaceLayout, depth: int = 0) -> PathConfig | None:
    raw = read_project_file(layout, config_path)
    data = _parse_config_cached(raw) if raw is not None else None
    if data is None:
        return None
    config_dir = posixpath.dirname(config_path)
    inherited: PathConfig | None = None
    extends = data.get("extends")
    # TypeScript 5 allows a list; later entries override earlier ones. Package bases (``@tsconfig/…``) live
    # in node_modules and carry no paths of this workspace: skipped.
    for base in extends if isinstance(extends, list) else [extends]:
        if not (isinstance(base, str) and base.startswith(".") and depth < _MAX_EXTENDS):
            continue
        target = join_rel(config_dir, base)
        if target is None:
            continue
        if not target.endswith(".json"):
            target += ".json"
        loaded = load_path_config(target, layout, depth + 1)
        if loaded is not None:
            inherited = _merge(inherited, loaded)
    options = data.get("compilerOptions")
    options = options if isinstance(options, dict) else {}
    base_url = inherited.base_url if inherited else None
    if isinstance(options.get("baseUrl"), str):
        base_url = join_rel(config_dir, options["baseUrl"])
    paths = inherited.paths if inherited else ()
    paths_base = inherited.paths_base if inherited else config_dir
    raw_paths = options.get("paths")
    if isinstance(raw_paths, dict):
        paths = tuple(
            (pattern, tuple(t for t in targets if isinstance(t, str)))
            for pattern, targets in raw_paths.items()
            if isinstance(targets, list)
        )
        paths_base = base_url if base_url is not None else config_dir
    elif base_url is not None and isinstance(options.get("baseUrl"), str):
        paths_base = base_url
    return PathConfig(base_url, paths, paths_base)


def _merge(earlier: PathConfig | None, later: PathConfig) -> PathConfig:
    if earlier is None:
        return later
    base_url = later.base_url if later.base_url is not None else earlier.base_url
    if later.paths:
        return PathConfig(base_url, later.paths, later.paths_base)
    return PathConfig(base_url, earlier.paths, earlier.paths_base)


def _nearest_config(importer: str, layout: WorkspaceLayout) -> PathConfig | None:
    for directory in parent_dirs(importer):
        for name in _CONFIG_NAMES:
            config_path = rel_join(directory, name)
            if read_project_file(layout, config_path) is not None:
                return load_path_config(config_path, layout)
    return None


def _match_paths(specifier: str, paths: Sequence[tuple[str, Sequence[str]]]) -> list[tuple[str, str]]:
    """(target pattern, wildcard text) pairs for the best ``paths`` entry: exact, else longest prefix."""
    for pattern, targets in paths:
        if "*" not in pattern and pattern == specifier:
            return [(target, "") for target in targets]
    best: tuple[int, Sequence[str], str] | None = None
    for pattern, targets in paths:
        if pattern.count("*") != 1:
            continue
        prefix, suffix = pattern.split("*")
        fits = specifier.startswith(prefix) and specifier.endswith(suffix)
        if fits and len(specifier) >= len(prefix) + len(suffix) and (best is None or len(prefix) > best[0]):
            best = (len(prefix), targets, specifier[len(prefix) : len(specifier) - len(suffix)])
    if best is None:
        return []
    return [(target, best[2]) for target in best[1]]


# Imports of these are assets a bundler handles (styles, data, images), not modules in the code graph.
_ASSET_EXTENSIONS = frozenset(
    {
        ".css",
        ".scss",
        ".sass",
        ".less",
        ".json",
        ".svg",
        ".png",
        ".jpg",
        ".jpeg",
        ".gif",
        ".webp",
        ".ico",
        ".html",
        ".txt",
        ".md",
        ".wasm",
        ".graphql",
        ".gql",
        ".yaml",
        ".yml",
        ".woff",
        ".woff2",
        ".vue",
        ".svelte",
    }
)


def resolve_specifier(
    specifier: str, importer: str, layout: WorkspaceLayout, prefer_ts: bool
) -> ResolvedImport:
    extensions = _TS_FIRST if prefer_ts else _JS_FIRST
    if posixpath.splitext(specifier.split("?", 1)[0])[1].lower() in _ASSET_EXTENSIONS:
        return ResolvedImport(external=True)
    if specifier.startswith(("./", "../")) or specifier in (".", ".."):
        base = join_rel(posixpath.dirname(importer), specifier)
        if base is None:
            return ResolvedImport(external=True)  # leaves the workspace
        found = resolve_file(base, layout, extensions)
        return ResolvedImport((found,)) if found else ResolvedImport()
    if specifier.startswith("/") or ":" in specifier.split("/")[0]:
        return ResolvedImport(external=True)  # absolute paths, ``node:fs``, URLs
    config = _nearest_config(importer, layout)
    if config is not None:
        for target, star in _match_paths(specifier, config.paths):
            base = join_rel(config.paths_base, target.replace("*", star, 1))
            found = resolve_file(base, layout, extensions) if base is not None else None
            if found is not None:
                return ResolvedImport((found,))
        if config.base_url is not None:
            base = join_rel(config.base_url, specifier)
            found = resolve_file(base, layout, extensions) if base is not None else None
            if found is not None:
                return ResolvedImport((found,))
    found = _resolve_workspace_package(specifier, importer, layout, extensions)
    if found is not None:
        return ResolvedImport((found,))
    return ResolvedImport(external=True)


def _package_parts(specifier: str) -> tuple[str, str]:
    """``@org/pkg/sub/path`` → (``@org/pkg``, ``sub/path``); ``pkg/x`` → (``pkg``, ``x``)."""
    parts = specifier.split("/")
    count = 2 if specifier.startswith("@") and len(parts) > 1 else 1
    return "/".join(parts[:count]), "/".join(parts[count:])


def _resolve_workspace_package(
    specifier: str, importer: str, layout: WorkspaceLayout, extensions: Sequence[str]
) -> str | None:
    """A bare specifier naming a package of this monorepo (npm/yarn ``workspaces``, pnpm
    ``pnpm-workspace.yaml``): its source inside the workspace instead of a ``node_modules`` copy."""
    name, subpath = _package_parts(specifier)
    for directory in parent_dirs(importer):
        packages = _workspace_packages(directory, layout)
        if packages is None:
            continue
        package_dir = packages.get(name)
        if package_dir is None:
            return None
        return resolve_file(rel_join(package_dir, subpath), layout, extensions)
    return None


_workspace_cache: dict[tuple[str, str], tuple[float, dict[str, str] | None]] = {}


def _workspace_packages(directory: str, layout: WorkspaceLayout) -> dict[str, str] | None:
    """Package name → directory for the workspace declared at ``directory``; None when none is declared.
    Cached like project files (:data:`PROJECT_FILE_TTL_S`): it lists directories and reads manifests."""
    key = (str(layout.root), directory)
    now = time.monotonic()
    hit = _workspace_cache.get(key)
    if hit is not None and now - hit[0] < PROJECT_FILE_TTL_S:
        return hit[1]
    if len(_workspace_cache) > 1024:
        _workspace_cache.clear()
    packages = _scan_workspace_packages(directory, layout)
    _workspace_cache[key] = (now, packages)
    return packages


def _scan_workspace_packages(directory: str, layout: WorkspaceLayout) -> dict[str, str] | None:
    manifest = read_project_file(layout, rel_join(directory, "package.json"))
    patterns: list[str] = []
    if manifest:
        data = _parse_config_cached(manifest)
        declared = data.get("workspaces") if data else None
        if isinstance(declared, dict):  # yarn classic: {"packages": [...]}
            declared = declared.get("packages")
        if isinstance(declared, list):
            patterns = [p for p in declared if isinstance(p, str)]
    pnpm = read_project_file(layout, rel_join(directory, "pnpm-workspace.yaml"))
    if pnpm:
        patterns.extend(re.findall(r"^\s*-\s*['\"]?([^'\"#\n]+?)['\"]?\s*$", pnpm, re.M))
    if not patterns:
        return None
    packages: dict[str, str] = {}
    for pattern in patterns:
        for package_dir in _expand_workspace_pattern(directory, pattern.strip().rstrip("/"), layout):
            raw = read_project_file(layout, rel_join(package_dir, "package.json"))
            data = _parse_config_cached(raw) if raw else None
            name = data.get("name") if data else None
            if isinstance(name, str) and name not in packages:
                packages[name] = package_dir
    return packages


def _expand_workspace_pattern(directory: str, pattern: str, layout: WorkspaceLayout) -> list[str]:
    """``packages/*`` and plain ``tools/cli``; other globs (``**``) are not expanded."""
    if pattern.startswith("!") or "**" in pattern:
        return []
    if not pattern.endswith("/*"):
        target = join_rel(directory, pattern)
        return [target] if target is not None else []
    parent = join_rel(directory, pattern[:-2])
    if parent is None:
        return []
    try:  # the layout lists files, not directories: package folders come from the disk
        children = sorted((layout.root / parent).iterdir()) if parent else sorted(layout.root.iterdir())
    except OSError:
        return []
    return [
        rel_join(parent, child.name)
        for child in children
        if child.is_dir() and not child.name.startswith(".")
    ]
