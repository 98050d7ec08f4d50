"""The language-agnostic code graph: files → facts, import edges resolved to files, reverse edges.

Structure only; no parsing and no disk access (see :mod:`roost.context.index` for the facade that keeps it
current and :mod:`roost.context.navigation` for position-based queries). All paths are workspace-relative
POSIX paths; positions are 0-based lines and UTF-8 byte columns (see :mod:`roost.context.facts`).

Thread safety: every public method takes the graph's lock for a short, bounded time, so readers (LSP
requests, retrieval) can query while the indexer thread inserts files. A stored record found damaged when a
query decodes it is handed to the ``on_damaged`` hook after the lock is released (the index parses the file
again: too long to hold every other query up for).
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict, deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Literal

from roost.context.codec import decode_facts
from roost.context.facts import Definition, FileFacts, Import, ResolvedImport, Span

Direction = Literal["imports", "dependents", "both"]

log = logging.getLogger("roost.context.index")

# Decoded facts kept in memory; the rest stay as compact encoded blobs (memory on a big workspace).
_DECODED_CACHE_SIZE = 512


@dataclass(frozen=True, slots=True)
class ImportEdge:
    """One import of a file and where it points."""

    importer: str
    imp: Import
    resolved: ResolvedImport

    @property
    def targets(self) -> tuple[str, ...]:
        return self.resolved.paths


@dataclass(frozen=True, slots=True)
class SymbolLocation:
    """A definition somewhere in the workspace. ``definition`` None means the file itself (a module)."""

    path: str
    definition: Definition | None

    @property
    def span(self) -> Span:
        return self.definition.span if self.definition else Span(0, 0, 0, 0)

    @property
    def name_span(self) -> Span:
        return self.definition.name_span if self.definition else Span(0, 0, 0, 0)

    @property
    def qualified_name(self) -> str | None:
        return self.definition.qualified_name if self.definition else None


@dataclass(frozen=True, slots=True)
class GraphStats:
    files: int
    symbols: int
    edges: int  # distinct (importer, target file) pairs
    imports: int  # import statements (per imported module)
    resolved_imports: int
    external_imports: int
    unresolved_imports: int  # neither resolved nor external: broken internal imports


class _Entry:
    __slots__ = ("blob", "definitions_count", "facts", "language", "pinned", "resolutions", "targets")

    def __init__(
        self,
        language: str,
        blob: bytes | None,
        facts: FileFacts | None,
        resolutions: tuple[ResolvedImport, ...],
        definitions_count: int,
        pinned: bool,
    ):
        self.language = language
        self.blob = blob
        self.facts = facts
        self.resolutions = resolutions
        self.targets: frozenset[str] = frozenset(p for r in resolutions for p in r.paths)
        self.definitions_count = definitions_count
        self.pinned = pinned


class CodeGraph:
    """Files, facts and import edges of one workspace. See the module docstring for conventions."""

    def __init__(self, on_damaged: Callable[[str], None] | None = None) -> None:
        """``on_damaged(path)``: a file's record did not decode; it should ``put`` the file again. Called
        without the graph's lock, on the thread of the query that found the damage."""
        self._lock = threading.RLock()
        self._on_damaged = on_damaged
        self._damaged: list[str] = []  # found damaged, not yet handed to ``on_damaged``
        self._entries: dict[str, _Entry] = {}
        self._dependents: dict[str, set[str]] = {}
        self._decoded: OrderedDict[str, FileFacts] = OrderedDict()
        # name → paths defining a top-level-or-nested symbol of that name; built on first use.
        self._names: dict[str, set[str]] | None = None
        # directory → its files: packages that span files (Go, Java) without decoding every file.
        self._by_dir: dict[str, set[str]] = {}
        self.version = 0  # bumped on every change; lets callers cache derived answers

    # -- mutation (the index calls these) ----------------------------------------------------------------

    def put(
        self,
        path: str,
        language: str,
        resolutions: tuple[ResolvedImport, ...],
        *,
        facts: FileFacts | None = None,
        blob: bytes | None = None,
        definitions_count: int | None = None,
        pinned: bool = False,
    ) -> None:
        """Insert or replace one file atomically: its facts, its forward and reverse edges.

        Give ``facts`` (kept decoded; ``pinned`` keeps them out of the cache eviction, for open
        buffers) or ``blob`` (encoded by :func:`roost.context.codec.encode_facts`, decoded on demand).
        """
        if facts is None and blob is None:
            raise ValueError("put() needs facts or blob")
        if definitions_count is None:
            definitions_count = len(facts.definitions) if facts is not None else -1
        entry = _Entry(language, blob, facts, resolutions, definitions_count, pinned)
        with self._lock:
            old = self._entries.get(path)
            if old is not None:
                self._unlink(path, old)
            else:
                self._by_dir.setdefault(_directory(path), set()).add(path)
            self._entries[path] = entry
            for target in entry.targets:
                self._dependents.setdefault(target, set()).add(path)
            self._decoded.pop(path, None)
            if self._names is not None:
                self._index_names(path, self._facts_locked(path))
            self.version += 1

    def remove(self, path: str) -> bool:
        with self._lock:
            old = self._entries.pop(path, None)
            if old is None:
                return False
            self._unlink(path, old)
            self._decoded.pop(path, None)
            siblings = self._by_dir.get(_directory(path))
            if siblings is not None:
                siblings.discard(path)
                if not siblings:
                    del self._by_dir[_directory(path)]
            self.version += 1
            return True

    def set_resolutions(self, path: str, resolutions: tuple[ResolvedImport, ...]) -> None:
        """Replace only a file's resolved edges (after files appeared or vanished)."""
        with self._lock:
            entry = self._entries.get(path)
            if entry is None:
                return
            for target in entry.targets:
                self._discard_dependent(target, path)
            entry.resolutions = resolutions
            entry.targets = frozenset(p for r in resolutions for p in r.paths)
            for target in entry.targets:
                self._dependents.setdefault(target, set()).add(path)
            self.version += 1

    def _unlink(self, path: str, entry: _Entry) -> None:
        for target in entry.targets:
            self._discard_dependent(target, path)
        if self._names is not None:
            facts = entry.facts or (decode_facts(entry.blob) if entry.blob else None)
            if facts is not None:
                for definition in facts.definitions:
                    holders = self._names.get(definition.name)
                    if holders is not None:
                        holders.discard(path)
                        if not holders:
                            del self._names[definition.name]

    def _discard_dependent(self, target: str, path: str) -> None:
        holders = self._dependents.get(target)
        if holders is not None:
            holders.discard(path)
            if not holders:
                del self._dependents[target]

    # -- files and facts ------------------------------------------------------------------------------------

    def __contains__(self, path: object) -> bool:
        return path in self._entries

    def __len__(self) -> int:
        return len(self._entries)

    def files(self) -> list[str]:
        """Every indexed file, sorted."""
        with self._lock:
            return sorted(self._entries)

    def directories(self) -> list[str]:
        """Every directory holding an indexed file ("" for the root), sorted."""
        with self._lock:
            return sorted(self._by_dir)

    def files_in_dir(self, directory: str) -> list[str]:
        """Indexed files directly inside ``directory`` ("" for the root), sorted."""
        with self._lock:
            return sorted(self._by_dir.get(directory, ()))

    def language_of(self, path: str) -> str | None:
        entry = self._entries.get(path)
        return entry.language if entry else None

    def facts(self, path: str) -> FileFacts | None:
        """Definitions, imports and exports of a file (references are filled only for open buffers)."""
        with self._lock:
            facts = self._facts_locked(path)
        if self._damaged and self._mend_damaged():
            with self._lock:
                facts = self._facts_locked(path)
        return facts

    def _facts_locked(self, path: str) -> FileFacts | None:
        entry = self._entries.get(path)
        if entry is None:
            return None
        if entry.facts is not None:
            return entry.facts
        cached = self._decoded.get(path)
        if cached is not None:
            self._decoded.move_to_end(path)
            return cached
        assert entry.blob is not None
        try:
            facts = decode_facts(entry.blob)
        except ValueError as error:
            # A row damaged inside a sound database. Checking every row at load would triple the warm
            # start; the file is parsed again instead, and holds no facts until then (found once: the
            # entry keeps them, not the blob).
            log.warning("index record of %s is damaged (%s); parsing the file again", path, error)
            entry.facts, entry.blob = FileFacts(path=path, language=entry.language), None
            entry.definitions_count = 0
            if self._on_damaged is not None:
                self._damaged.append(path)
            return entry.facts
        self._decoded[path] = facts
        if len(self._decoded) > _DECODED_CACHE_SIZE:
            self._decoded.popitem(last=False)
        return facts

    def _mend_damaged(self) -> bool:
        """Hand the records found damaged to ``on_damaged``, outside the lock. True if there were any."""
        with self._lock:
            paths, self._damaged = self._damaged, []
        for path in paths:
            assert self._on_damaged is not None
            try:
                self._on_damaged(path)
            except Exception:  # the query still answers, with what the graph holds
                log.exception("parsing %s again failed", path)
        return bool(paths)

    def symbols(self, path: str) -> list[Definition]:
        """Definitions in a file, in source order (nested ones carry ``parent``)."""
        facts = self.facts(path)
        return list(facts.definitions) if facts else []

    def resolutions(self, path: str) -> tuple[ResolvedImport, ...]:
        entry = self._entries.get(path)
        return entry.resolutions if entry else ()

    # -- edges ------------------------------------------------------------------------------------------------

    def imports(self, path: str) -> list[ImportEdge]:
        """The file's imports, each with its resolution (``resolved.paths`` empty: external/unresolved)."""
        with self._lock:
            edges = self._imports_locked(path)
        if self._damaged and self._mend_damaged():
            with self._lock:
                edges = self._imports_locked(path)
        return edges

    def _imports_locked(self, path: str) -> list[ImportEdge]:
        entry = self._entries.get(path)
        facts = self._facts_locked(path)
        if entry is None or facts is None:
            return []
        return [
            ImportEdge(path, imp, resolved)
            for imp, resolved in zip(facts.imports, entry.resolutions, strict=False)
        ]

    def dependencies(self, path: str) -> list[str]:
        """Workspace files this file imports (forward edges), sorted."""
        entry = self._entries.get(path)
        return sorted(entry.targets - {path}) if entry else []

    def dependents(self, path: str) -> list[str]:
        """Workspace files that import this file (reverse edges), sorted."""
        with self._lock:
            return sorted(self._dependents.get(path, set()) - {path})

    def neighbourhood(self, path: str, depth: int = 1, direction: Direction = "both") -> dict[str, int]:
        """Files within ``depth`` import hops of ``path`` → their distance (``path`` itself at 0)."""
        distances = {path: 0}
        if path not in self._entries:
            return {}
        frontier = deque([path])
        with self._lock:
            while frontier:
                current = frontier.popleft()
                distance = distances[current]
                if distance >= depth:
                    continue
                neighbours: set[str] = set()
                if direction in ("imports", "both"):
                    entry = self._entries.get(current)
                    if entry is not None:
                        neighbours |= entry.targets
                if direction in ("dependents", "both"):
                    neighbours |= self._dependents.get(current, set())
                for neighbour in neighbours:
                    if neighbour not in distances and neighbour in self._entries:
                        distances[neighbour] = distance + 1
                        frontier.append(neighbour)
        return distances

    def edges(self) -> Iterator[tuple[str, str]]:
        """Every (importer, imported file) pair, importer-sorted. A snapshot: safe while indexing."""
        with self._lock:
            snapshot = [(path, sorted(entry.targets - {path})) for path, entry in self._entries.items()]
        for path, targets in sorted(snapshot):
            for target in targets:
                yield path, target

    # -- symbols across files --------------------------------------------------------------------------------

    def find_symbols(self, name: str) -> list[SymbolLocation]:
        """Every definition named ``name`` (exact, case-sensitive), across the workspace."""
        with self._lock:
            found = self._find_symbols_locked(name)
        if self._damaged and self._mend_damaged():
            with self._lock:
                found = self._find_symbols_locked(name)
        return found

    def _find_symbols_locked(self, name: str) -> list[SymbolLocation]:
        if self._names is None:
            self._names = {}
            for path in self._entries:
                self._index_names(path, self._facts_locked(path))
        paths = sorted(self._names.get(name, ()))
        return [
            SymbolLocation(path, definition)
            for path in paths
            for definition in (self._facts_locked(path) or FileFacts(path, "")).definitions
            if definition.name == name
        ]

    def _index_names(self, path: str, facts: FileFacts | None) -> None:
        if facts is None or self._names is None:
            return
        for definition in facts.definitions:
            self._names.setdefault(definition.name, set()).add(path)

    def lookup(self, path: str, qualified_name: str) -> Definition | None:
        facts = self.facts(path)
        if facts is None:
            return None
        return next((d for d in facts.definitions if d.qualified_name == qualified_name), None)

    # -- statistics ------------------------------------------------------------------------------------------

    def stats(self) -> GraphStats:
        with self._lock:
            symbols = 0
            edges = imports = resolved = external = 0
            for path, entry in self._entries.items():
                count = entry.definitions_count
                if count < 0:
                    facts = self._facts_locked(path)
                    count = entry.definitions_count = len(facts.definitions) if facts else 0
                symbols += count
                edges += len(entry.targets - {path})
                for resolution in entry.resolutions:
                    imports += 1
                    if resolution.paths:
                        resolved += 1
                    elif resolution.external:
                        external += 1
            return GraphStats(
                files=len(self._entries),
                symbols=symbols,
                edges=edges,
                imports=imports,
                resolved_imports=resolved,
                external_imports=external,
                unresolved_imports=imports - resolved - external,
            )


def _directory(path: str) -> str:
    return path.rsplit("/", 1)[0] if "/" in path else ""
