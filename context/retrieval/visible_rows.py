"""Which rows of the buffer the prompt's prefix and suffix show, so retrieval need not repeat them."""


def visible_rows(lines: list[str], line: int, prefix_chars: float, suffix_chars: float) -> tuple[int, int]:
    """The first and last rows around ``line`` that fit ``prefix_chars`` before it and ``suffix_chars``
    after it (each row counted with its newline)."""
    start = line
    chars = prefix_chars
    while start > 0 and chars - (len(lines[start - 1]) + 1) >= 0:
        start -= 1
        chars -= len(lines[start]) + 1
    end = line
    chars = suffix_chars
    while end + 1 < len(lines) and chars - (len(lines[end + 1]) + 1) >= 0:
        end += 1
        chars -= len(lines[end]) + 1
    return start, end
