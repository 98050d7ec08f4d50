"""BM25 over fixed-size code windows: the CrossCodeEval/RepoCoder lexical baseline, and retrieval's
fallback when the graph yields little.

Files are cut into ``window_lines``-line windows every ``stride`` lines; tokens are identifiers and
keywords (the RepoCoder setting). The index is incremental: a file's windows are replaced as a whole.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass

from roost.context.facts import text_rows

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def code_tokens(text: str) -> list[str]:
    return _IDENTIFIER.findall(text)


@dataclass(frozen=True, slots=True)
class Window:
    path: str
    start_line: int  # 0-based
    end_line: int  # inclusive


def split_windows(path: str, line_count: int, window_lines: int, stride: int) -> list[Window]:
    if line_count <= 0:
        return []
    windows: list[Window] = []
    start = 0
    while True:
        end = min(start + window_lines, line_count) - 1
        windows.append(Window(path, start, end))
        if end >= line_count - 1:
            break
        start += stride
    return windows


class BM25WindowIndex:
    """Okapi BM25 (k1=1.2, b=0.75) over code windows of many files."""

    def __init__(self, window_lines: int = 20, stride: int = 10, k1: float = 1.2, b: float = 0.75) -> None:
        self.window_lines = window_lines
        self.stride = stride
        self.k1 = k1
        self.b = b
        self._windows: dict[int, Window] = {}
        self._lengths: dict[int, int] = {}
        self._postings: dict[str, dict[int, int]] = {}
        self._by_path: dict[str, list[tuple[int, Counter[str]]]] = {}
        self._next_id = 0
        self._total_length = 0

    def __len__(self) -> int:
        return len(self._windows)

    @property
    def paths(self) -> list[str]:
        return list(self._by_path)

    def set_file(self, path: str, text: str) -> None:
        self.remove_file(path)
        lines = text_rows(text)
        entries: list[tuple[int, Counter[str]]] = []
        for window in split_windows(path, len(lines), self.window_lines, self.stride):
            counts = Counter(code_tokens("\n".join(lines[window.start_line : window.end_line + 1])))
            window_id = self._next_id
            self._next_id += 1
            self._windows[window_id] = window
            length = sum(counts.values())
            self._lengths[window_id] = length
            self._total_length += length
            for token, tf in counts.items():
                self._postings.setdefault(token, {})[window_id] = tf
            entries.append((window_id, counts))
        self._by_path[path] = entries

    def windows_with(self, token: str) -> int:
        """How many windows of the workspace hold the identifier ``token`` (how much the project uses it)."""
        return len(self._postings.get(token, ()))

    def remove_file(self, path: str) -> None:
        for window_id, counts in self._by_path.pop(path, []):
            for token in counts:
                postings = self._postings.get(token)
                if postings is not None:
                    postings.pop(window_id, None)
                    if not postings:
                        del self._postings[token]
            self._total_length -= self._lengths.pop(window_id)
            del self._windows[window_id]

    def search(
        self, query: str, limit: int = 10, exclude: set[str] | frozenset[str] = frozenset()
    ) -> list[tuple[Window, float]]:
        """Best windows for ``query`` (best first), skipping windows of paths in ``exclude``."""
        n = len(self._windows)
        if n == 0:
            return []
        average_length = self._total_length / n or 1.0
        scores: dict[int, float] = {}
        for token, query_tf in Counter(code_tokens(query)).items():
            postings = self._postings.get(token)
            if not postings:
                continue
            df = len(postings)
            idf = math.log(1.0 + (n - df + 0.5) / (df + 0.5))
            # Terms in most windows (``self``, ``return``) carry almost no weight but cost the most time.
            if idf < 0.1:
                continue
            for window_id, tf in postings.items():
                norm = tf + self.k1 * (1 - self.b + self.b * self._lengths[window_id] / average_length)
                scores[window_id] = scores.get(window_id, 0.0) + query_tf * idf * tf * (self.k1 + 1) / norm
        ranked = sorted(scores.items(), key=lambda item: item[1], reverse=True)
        results: list[tuple[Window, float]] = []
        for window_id, score in ranked:
            window = self._windows[window_id]
            if window.path in exclude:
                continue
            results.append((window, score))
            if len(results) >= limit:
                break
        return results
