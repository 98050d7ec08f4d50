"""The editor's open documents, with lines as LSP defines them.

pygls splits a document with ``str.splitlines``, which also ends a line at ``\\v``, ``\\f``, ``\\x1c``-``\\x1e``,
``\\x85``, U+2028 and U+2029, and it clamps a character past the end of the last line to one before that
end. LSP's only line ends are ``\\n``, ``\\r\\n`` and ``\\r``, and a character past a line's end means the
line's end. So an editor's change after a form feed (Python sources have them between sections) or a
U+2028 in a string landed on another line, and a deletion to the end of the last line kept its last
character: from then on the server's text was not the editor's. Here a change is applied by offsets
worked out the LSP way.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from urllib.parse import unquote

from lsprotocol import types
from pygls.workspace import TextDocument, Workspace

from roost.lsp.core.text_edits import LineCharacter, clamped_range

# A line with its end, or the last line when it has none.
_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+\Z")


class LspTextDocument(TextDocument):
    @property
    def lines(self) -> Sequence[str]:
        return tuple(_LINE.findall(self.source))

    def _apply_incremental_change(self, change: types.TextDocumentContentChangePartial) -> None:
        # Roost offers UTF-16 positions alone (RoostProtocol.lsp_initialize), which clamped_offset counts.
        text, start, end = self.source, change.range.start, change.range.end
        low, high = clamped_range(
            text, LineCharacter(start.line, start.character), LineCharacter(end.line, end.character)
        )
        self._source = text[:low] + change.text + text[high:]


class LspWorkspace(Workspace):
    def _create_text_document(
        self,
        doc_uri: str,
        source: str | None = None,
        version: int | None = None,
        language_id: str | None = None,
    ) -> TextDocument:
        return LspTextDocument(
            doc_uri,
            source=source,
            version=version,
            language_id=language_id,
            sync_kind=self._sync_kind,
            position_codec=self.position_codec,
        )


def is_open(workspace: Workspace, uri: str) -> bool:
    """Whether the editor has ``uri`` open. pygls keys its documents by the unquoted URI: an editor's
    "my%20file.py" (VS Code quotes spaces, non-ASCII names and a Windows drive's colon) is open under
    "my file.py"."""
    return unquote(uri) in workspace.text_documents


def with_lsp_lines(workspace: Workspace) -> LspWorkspace:
    """The same workspace as one whose documents count lines the LSP way (made at initialize, before an
    editor may open a document)."""
    return LspWorkspace(
        workspace.root_uri,
        workspace._sync_kind,
        list(workspace.folders.values()),
        workspace.position_encoding,
    )
