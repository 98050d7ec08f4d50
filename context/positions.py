"""Column conversions between the index's UTF-8 byte columns and LSP's UTF-16 code units."""

from __future__ import annotations


def utf16_to_byte_col(line_text: str, utf16_col: int) -> int:
    """Byte column in the UTF-8 encoding of ``line_text`` for a UTF-16 column (clamped to the line)."""
    units = 0
    for index, char in enumerate(line_text):
        if units >= utf16_col:
            return len(line_text[:index].encode("utf-8"))
        units += 2 if ord(char) > 0xFFFF else 1
    return len(line_text.encode("utf-8"))


def byte_to_utf16_col(line_text: str, byte_col: int) -> int:
    """UTF-16 column for a byte column in the UTF-8 encoding of ``line_text`` (clamped to the line)."""
    prefix = line_text.encode("utf-8")[:byte_col].decode("utf-8", errors="ignore")
    return sum(2 if ord(char) > 0xFFFF else 1 for char in prefix)
