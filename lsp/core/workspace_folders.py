"""Every workspace folder of the editor's window, served by one server: each folder has its own
:class:`~roost.lsp.core.services.Services` (index, retrieval, gate, secrets) and its own configuration
from its ``roost.toml``; all share one model (:class:`~roost.lsp.core.services.SharedModel`).

A document is served by the innermost folder that contains it, and only that folder's index feeds its
prompts: one folder's code never reaches a prompt for another folder's document.

What picks or guards the engine (the model, the backend, the gate, the cache, the metrics port, the log,
the prompt's order) is one per server: it comes from the user's settings and the FIRST folder's file, as a
single-folder server has it. Another folder's file that sets one of those keys differently is ignored,
with a warning that says so (never a second model).
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable, Iterator
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any

from roost.lsp.config import ConfigProblem, ConfigStack, RoostConfig, read_workspace_file
from roost.lsp.core.events import ServiceEvents
from roost.lsp.core.services import ServiceHost, Services, services_of

log = logging.getLogger(__name__)

# Sections one server has once: its model and backend, its gate policy, its cache and metrics port, its log.
ENGINE_SECTIONS: tuple[str, ...] = ("model", "backend", "gate", "cache", "metrics", "log")
# Keys of other sections that shape the one model's prompt format (shared by every folder).
ENGINE_KEYS: tuple[str, ...] = ("completion.suffix_first",)


@dataclasses.dataclass(frozen=True)
class FolderConfig:
    """A folder's effective settings, from its own file under the editor's settings, with the engine's
    keys pinned to the first folder's; ``ignored`` lists the engine keys its file set differently."""

    config: RoostConfig
    workspace_file: str | None
    problems: tuple[ConfigProblem, ...]
    ignored: tuple[str, ...]


def folder_config(primary: ConfigStack, root: Path, *, trusted: bool) -> FolderConfig:
    """The configuration of the workspace folder ``root`` beside the first folder's ``primary`` stack:
    the folder's own file under the same editor layers (initializationOptions, didChangeConfiguration),
    read as the editor trusts the window."""
    table, source, problems = read_workspace_file(root, trusted=trusted)
    stack = ConfigStack(workspace_root=root, workspace_file=source, layers=dict(primary.layers))
    problems = [*problems, *stack.set_layer("workspace", table)]
    own = stack.current
    return FolderConfig(
        pinned_to_engine(own, primary.current),
        source,
        tuple(problems),
        _ignored_keys(table, own, primary.current),
    )


def pinned_to_engine(own: RoostConfig, engine: RoostConfig) -> RoostConfig:
    """``own`` with every engine-level setting taken from ``engine`` (the first folder's)."""
    pinned = dataclasses.replace(own, **{section: getattr(engine, section) for section in ENGINE_SECTIONS})
    for key in ENGINE_KEYS:
        section, name = key.split(".")
        values = dataclasses.replace(
            getattr(pinned, section), **{name: getattr(getattr(engine, section), name)}
        )
        pinned = dataclasses.replace(pinned, **{section: values})
    return pinned


def _ignored_keys(table: Any, own: RoostConfig, engine: RoostConfig) -> tuple[str, ...]:
    if not isinstance(table, dict):
        return ()
    ignored = []
    for section, values in table.items():
        if not isinstance(values, dict):
            continue
        for name in values:
            key = f"{section}.{name}"
            if section not in ENGINE_SECTIONS and key not in ENGINE_KEYS:
                continue
            mine = getattr(getattr(own, section, None), name, None)
            if mine != getattr(getattr(engine, section, None), name, None):
                ignored.append(key)
    return tuple(ignored)


def with_outer_exclusions(config: RoostConfig, root: Path, outer: list[Services]) -> RoostConfig:
    """``config`` of the folder ``root`` with the exclusions of the folders around it, rewritten relative
    to ``root``: a file an outer folder never indexes stays out of the nested folder's index too."""
    extra: list[str] = []
    for folder in outer:
        relative = _relative_parts(folder.root, root) if folder.root is not None else None
        if relative is None:
            continue
        for pattern in (*folder.config.index.exclude, *folder.config.completion.exclude):
            extra.extend(rebased_exclusion(pattern, relative))
    if not extra:
        return config
    index = dataclasses.replace(config.index, exclude=[*config.index.exclude, *extra])
    return dataclasses.replace(config, index=index)


def rebased_exclusion(pattern: str, relative: tuple[str, ...]) -> list[str]:
    """The gitignore-style ``pattern`` of an outer folder, as a pattern of its subfolder ``relative``
    (its path parts): unanchored patterns hold as they are, anchored ones lose the subfolder's prefix, and
    one that covers the subfolder itself covers all of it. Erring on excluding more: a negation (``!``)
    is dropped, a ``**`` keeps the rest of the pattern at any depth."""
    text = pattern.strip()
    if not text or text.startswith(("!", "#")):
        return []
    trailing = "/" if text.endswith("/") else ""
    body = text.rstrip("/")
    if "/" not in body:  # any depth: the subfolder itself, or a folder above it, may be the one it names
        return ["*"] if any(fnmatchcase(part, body) for part in relative) else [text]
    segments = body.lstrip("/").split("/")
    for part in relative:
        if not segments or segments == ["**"]:
            return ["*"]
        if segments[0] == "**":
            return ["/" + "/".join(segments) + trailing]
        if not fnmatchcase(part, segments[0]):
            return []
        segments = segments[1:]
    if not segments or segments == ["**"]:
        return ["*"]
    return ["/" + "/".join(segments) + trailing]


def _relative_parts(outer: Path, inner: Path) -> tuple[str, ...] | None:
    for base in _spellings(outer):
        for candidate in _spellings(inner):
            try:
                relative = candidate.relative_to(base)
            except ValueError:
                continue
            if ".." not in relative.parts:
                return relative.parts
    return None


def ignored_keys_message(root: Path, ignored: tuple[str, ...], first: Path | None) -> str:
    keys = ", ".join(ignored)
    first_name = first.name if first is not None else "the user settings"
    return (
        f"Roost: the workspace folder {root.name} sets {keys} in its own file; ignored: one Roost server runs "
        f"one model and gate for the whole window, configured by the user settings and the folder it started "
        f"with ({first_name}). Set them there, or open {root.name} in a window of its own."
    )


def _depth_within(root: Path, path: Path) -> int | None:
    """How deep ``root`` is (its number of parts) when it contains ``path``, as named or resolved."""
    for base in _spellings(root):
        for candidate in _spellings(path):
            try:
                relative = candidate.relative_to(base)
            except ValueError:
                continue
            if ".." not in relative.parts:
                return len(base.parts)
    return None


def _spellings(path: Path) -> tuple[Path, ...]:
    try:
        resolved = path.resolve()
    except (OSError, RuntimeError, ValueError):
        return (path,)
    return (path, resolved) if resolved != path else (path,)


def _same_folder(a: Path, b: Path) -> bool:
    return a == b or set(_spellings(a)) & set(_spellings(b)) != set()


class WorkspaceFolders:
    """The folders served, in the editor's order, each with its services. ``primary`` is the services
    the server made first (the first folder's, or the folder-less services of a window without one): it
    stays the model's owner for :func:`~roost.lsp.core.services.services_of` even after its folder is
    removed from the window."""

    def __init__(self, events: ServiceEvents, primary: Services) -> None:
        self.events = events
        self.primary = primary
        self._folders: list[Services] = [primary] if primary.root is not None else []

    def __iter__(self) -> Iterator[Services]:
        return iter(list(self._folders))

    def roots(self) -> list[Path]:
        return [folder.root for folder in self._folders if folder.root is not None]

    def serving(self, path: Path) -> Services | None:
        """The services of the innermost folder that contains ``path``; None outside every folder. A
        window without folders serves every file with the primary services (the file is the workspace)."""
        if not self._folders:
            return self.primary if self.primary.root is None else None
        best: tuple[int, Services] | None = None
        for folder in self._folders:
            depth = _depth_within(folder.root, path) if folder.root is not None else None
            if depth is not None and (best is None or depth > best[0]):
                best = (depth, folder)
        return best[1] if best is not None else None

    def enclosing(self, path: Path) -> list[Services]:
        """Every folder that contains ``path``, the innermost first: an outer folder's exclusions still
        hold for a file of a folder nested in it (adding ``ws/sub`` to the window must not lift the
        ``sub/private/**`` that ``ws/roost.toml`` excludes)."""
        found = []
        for folder in self._folders:
            depth = _depth_within(folder.root, path) if folder.root is not None else None
            if depth is not None:
                found.append((depth, folder))
        return [folder for _, folder in sorted(found, key=lambda item: -item[0])]

    def find(self, root: Path) -> Services | None:
        return next((f for f in self._folders if f.root is not None and _same_folder(f.root, root)), None)

    def add(self, root: Path, config: RoostConfig, start: Callable[[Services], None]) -> Services | None:
        """A folder the editor added: its services, started by ``start``; None if it is served already."""
        if self.find(root) is not None:
            return None
        services = Services(self.events, config, root, model=self.primary.model)
        self._folders.append(services)
        start(services)
        log.info("serving the workspace folder %s", root)
        return services

    def remove(self, root: Path) -> Services | None:
        """A folder the editor removed: its index, watcher and threads stop; the model stays."""
        services = self.find(root)
        if services is None:
            return None
        self._folders.remove(services)
        services.close_index()
        log.info("no longer serving the workspace folder %s", root)
        return services

    async def aclose(self) -> None:
        """The server's shutdown: every folder's index, then the model (once)."""
        for folder in self._folders:
            if folder is not self.primary:
                folder.close_index()
        await self.primary.aclose()


FOLDERS_KEY = "workspace_folders"


def folders_of(host: ServiceHost) -> WorkspaceFolders:
    """The folders ``host`` serves, made on first use around its primary services."""
    folders = host.services.get(FOLDERS_KEY)
    if not isinstance(folders, WorkspaceFolders):
        folders = WorkspaceFolders(host, services_of(host))
        host.services[FOLDERS_KEY] = folders
    return folders
