"""What retrieval needs from the index, as a small protocol, so retrieval can be tested and benchmarked
against any index that stores :class:`FileFacts` and resolves imports.

:class:`roost.context.index.WorkspaceIndex` satisfies it (open buffers included);
:class:`~roost.context.retrieval.standalone.ParsedWorkspace` is the in-memory stand-in.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol

from roost.context.facts import FileFacts, Import, ResolvedImport


class CodeWorkspace(Protocol):
    def file_facts(self, path: str) -> FileFacts | None:
        """The indexed facts of a workspace-relative path; None when not indexed."""
        ...

    def resolve_import(self, importer: str, imp: Import) -> ResolvedImport:
        """Where an import of ``importer`` points inside the workspace."""
        ...

    def file_text(self, path: str) -> str | None:
        """The current text of an indexed file; None when missing, unreadable or excluded as secret."""
        ...

    def paths(self) -> Iterable[str]:
        """Every indexed workspace-relative path."""
        ...
