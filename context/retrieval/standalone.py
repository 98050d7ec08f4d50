"""A :class:`CodeWorkspace` parsed in memory from the language modules, without the persistent graph.

For benchmarks over directories that are not a user's workspace (read in place, nothing cached) and for
tests of retrieval in isolation. The server uses :class:`roost.context.index.WorkspaceIndex` instead.
"""

from __future__ import annotations

import logging
import posixpath
from collections.abc import Iterable
from pathlib import Path

from roost.context.facts import FileFacts, Import, ResolvedImport
from roost.context.languages import language_for_path
from roost.context.layout import FileSetLayout
from roost.context.options import IndexOptions
from roost.context.parser_cache import parse
from roost.context.scanning import read_source, scan_workspace

log = logging.getLogger(__name__)


class ParsedWorkspace:
    def __init__(
        self, root: Path, options: IndexOptions | None = None, files: Iterable[str] | None = None
    ) -> None:
        self.root = Path(root)
        self.options = options or IndexOptions(persist=False)
        paths = sorted(files) if files is not None else sorted(scan_workspace(self.root, self.options))
        self.layout = FileSetLayout(self.root, paths, self.options)
        self._facts: dict[str, FileFacts] = {}
        self._resolved: dict[tuple[str, Import], ResolvedImport] = {}
        self._peers: dict[str, tuple[str, ...]] = {}
        # Parsed once and never changed: a constant version lets retrieval cache file text.
        self.version = 0
        for path in paths:
            self._parse(path)

    def _parse(self, path: str) -> None:
        language = language_for_path(path)
        if language is None:
            return
        source = read_source(self.root / path, self.options.max_file_bytes, path)
        if source is None:
            return
        try:
            tree = parse(language.ts_language(path), source)
            self._facts[path] = language.extract_outline(path, source, tree)
        except Exception:  # one file the extractor trips over must not lose the workspace
            log.warning("skipped %s: extraction failed", path, exc_info=True)

    def file_facts(self, path: str) -> FileFacts | None:
        return self._facts.get(path)

    def resolve_import(self, importer: str, imp: Import) -> ResolvedImport:
        key = (importer, imp)
        found = self._resolved.get(key)
        if found is None:
            language = language_for_path(importer)
            found = language.resolve_import(imp, importer, self.layout) if language else ResolvedImport()
            self._resolved[key] = found
        return found

    def package_peers(self, path: str) -> tuple[str, ...]:
        """The other files of ``path``'s package that see its top-level names without an import (a Go
        package's directory, a Java package's folders), as the index's navigator gives them to the server."""
        found = self._peers.get(path)
        if found is not None:
            return found
        facts = self._facts.get(path)
        language = language_for_path(path)
        peers: list[str] = []
        if facts is not None and facts.package and language is not None:
            directories = sorted({posixpath.dirname(other) for other in self._facts})
            for directory in language.package_dirs(path, facts.package, directories):
                for other in self.layout.files_in_dir(directory):
                    other_facts = self._facts.get(other)
                    if (
                        other != path
                        and other_facts is not None
                        and other_facts.language == facts.language
                        and other_facts.package == facts.package
                        and language.sees_package_file(path, other)
                    ):
                        peers.append(other)
        self._peers[path] = found = tuple(peers)
        return found

    def file_text(self, path: str) -> str | None:
        if path not in self._facts:
            return None
        source = read_source(self.root / path, self.options.max_file_bytes, path)
        return source.decode("utf-8", errors="replace") if source is not None else None

    def paths(self) -> list[str]:
        return list(self._facts)
