"""The workspace as import resolution sees it: which files exist (from the scan, not the disk, so a
resolution is a pure function of the file set and is cheap), which directories, small project files."""

from __future__ import annotations

import posixpath
from collections.abc import Iterable
from pathlib import Path

from roost.context.options import IndexOptions


class FileSetLayout:
    """:class:`~roost.context.languages.base.WorkspaceLayout` over a known set of workspace files."""

    def __init__(self, root: Path, files: Iterable[str], options: IndexOptions | None = None):
        self.root = root
        self._options = options or IndexOptions()
        self._files: set[str] = set()
        self._dirs: dict[str, int] = {}
        self._by_dir: dict[str, set[str]] = {}
        for path in files:
            self.add(path)

    def add(self, path: str) -> None:
        if path in self._files:
            return
        self._files.add(path)
        directory = posixpath.dirname(path)
        self._by_dir.setdefault(directory, set()).add(path)
        while directory:
            self._dirs[directory] = self._dirs.get(directory, 0) + 1
            directory = posixpath.dirname(directory)

    def remove(self, path: str) -> None:
        if path not in self._files:
            return
        self._files.discard(path)
        directory = posixpath.dirname(path)
        siblings = self._by_dir.get(directory)
        if siblings is not None:
            siblings.discard(path)
        while directory:
            count = self._dirs.get(directory, 0) - 1
            if count <= 0:
                self._dirs.pop(directory, None)
            else:
                self._dirs[directory] = count
            directory = posixpath.dirname(directory)

    def files(self) -> set[str]:
        return self._files

    # -- WorkspaceLayout -------------------------------------------------------------------------------

    def exists(self, rel_path: str) -> bool:
        return rel_path in self._files

    def is_dir(self, rel_path: str) -> bool:
        return rel_path.strip("/") in self._dirs or rel_path in ("", ".")

    def read_text(self, rel_path: str) -> str | None:
        target = (self.root / rel_path).resolve()
        try:
            target.relative_to(self.root.resolve())
            if target.stat().st_size > self._options.max_file_bytes:
                return None
            return target.read_text(encoding="utf-8", errors="replace")
        except (OSError, ValueError):
            return None

    def files_in_dir(self, rel_dir: str) -> list[str]:
        return sorted(self._by_dir.get(rel_dir.strip("/"), ()))

    def extra_source_roots(self, language: str) -> list[str]:
        return list(self._options.roots_for(language))
