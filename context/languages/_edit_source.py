"""A text parsed for rewriting: the bytes tree-sitter saw, its root, and byte ↔ character/line helpers.

Shared by the languages whose refactor hooks rewrite whole texts on a fresh parse (``_ecmascript_edits``,
``_rust_edits``): node positions are UTF-8 bytes, the edits they produce are character offsets.
"""

from __future__ import annotations

from dataclasses import dataclass

import tree_sitter

from roost.context.languages._common import char_offset, line_end, line_start
from roost.context.parser_cache import parse


@dataclass
class EditSource:
    text: str
    data: bytes
    root: tree_sitter.Node

    def node_text(self, node: tree_sitter.Node) -> str:
        return self.data[node.start_byte : node.end_byte].decode("utf-8", "replace")

    def char(self, byte: int) -> int:
        return char_offset(self.data, byte)

    def byte_at(self, line: int, col: int) -> int:
        offset = 0
        for _ in range(line):
            newline = self.data.find(b"\n", offset)
            if newline < 0:
                return len(self.data)
            offset = newline + 1
        return offset + col

    def line_start(self, byte: int) -> int:
        return line_start(self.data, byte)

    def line_end(self, byte: int) -> int:
        """The byte after the newline ending the line of ``byte`` (the end of the data on the last line)."""
        return line_end(self.data, byte)

    def with_edits(self, edits: list[tuple[int, int, str]]) -> str:
        """Byte-range edits (non-overlapping) applied to the source; the new text."""
        data = self.data
        for start, end, new in sorted(edits, key=lambda e: (e[0], e[1]), reverse=True):
            data = data[:start] + new.encode("utf-8") + data[end:]
        return data.decode("utf-8")


def parse_for_edit(language: tree_sitter.Language, text: str) -> EditSource:
    data = text.encode("utf-8")
    return EditSource(text, data, parse(language, data).root_node)
