"""Completion cache: an LRU of finished suggestions, with typed-ahead lookup.

A suggestion is stored with the document text before the cursor (``prefix``) and after it (``suffix``)
when it was made. When the user then types the first characters of the suggestion, the new prefix is the
old prefix plus those characters and the suffix is unchanged: the rest of the suggestion is served at once,
without asking the model again. Only the tail of the prefix is compared (a key window), so a lookup costs
the same on a 10,000-line file as on a 10-line one.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass

# Characters of the prefix tail / suffix head that identify a cursor position. Long enough to be
# unambiguous in practice, short enough to compare in microseconds.
PREFIX_KEY_CHARS = 512
SUFFIX_KEY_CHARS = 256
# The longest run of typed characters we try to match against a cached suggestion.
MAX_TYPED_AHEAD = 200


@dataclass(frozen=True)
class CachedSuggestion:
    prefix_tail: str
    suffix_head: str
    texts: tuple[str, ...]  # candidates, best first (already post-processed and gated)


def _key(prefix: str, suffix: str) -> tuple[str, str]:
    return prefix[-PREFIX_KEY_CHARS:], suffix[:SUFFIX_KEY_CHARS]


class CompletionCache:
    def __init__(self, capacity: int = 256) -> None:
        self.capacity = capacity
        self._entries: OrderedDict[tuple[str, str, str], CachedSuggestion] = OrderedDict()
        # Per document, the most recent keys (typed-ahead lookups scan only these).
        self._recent: dict[str, list[tuple[str, str, str]]] = {}
        self._lock = threading.Lock()

    def put(self, uri: str, prefix: str, suffix: str, texts: tuple[str, ...]) -> None:
        if self.capacity <= 0 or not texts:
            return
        prefix_tail, suffix_head = _key(prefix, suffix)
        key = (uri, prefix_tail, suffix_head)
        with self._lock:
            self._entries[key] = CachedSuggestion(prefix_tail, suffix_head, texts)
            self._entries.move_to_end(key)
            recent = self._recent.setdefault(uri, [])
            if key in recent:
                recent.remove(key)
            recent.append(key)
            del recent[:-16]
            while len(self._entries) > self.capacity:
                old_key, _ = self._entries.popitem(last=False)
                old_recent = self._recent.get(old_key[0])
                if old_recent and old_key in old_recent:
                    old_recent.remove(old_key)

    def get(self, uri: str, prefix: str, suffix: str) -> tuple[str, ...] | None:
        """Exact hit, or the rest of a cached suggestion whose start the user has typed since."""
        prefix_tail, suffix_head = _key(prefix, suffix)
        with self._lock:
            exact = self._entries.get((uri, prefix_tail, suffix_head))
            if exact is not None:
                self._entries.move_to_end((uri, prefix_tail, suffix_head))
                return exact.texts
            for key in reversed(self._recent.get(uri, ())):
                entry = self._entries.get(key)
                if entry is None or entry.suffix_head != suffix_head:
                    continue
                rest = typed_ahead(entry.prefix_tail, entry.texts, prefix)
                if rest:
                    return rest
        return None

    def invalidate(self, uri: str) -> None:
        with self._lock:
            for key in self._recent.pop(uri, []):
                self._entries.pop(key, None)


def typed_ahead(old_prefix: str, texts: tuple[str, ...], new_prefix: str) -> tuple[str, ...] | None:
    """The remaining parts of ``texts`` if ``new_prefix`` is ``old_prefix`` plus the start of one of them.

    ``old_prefix`` may be a key window (the tail of the real prefix): the comparison aligns tails.
    """
    grown = len(new_prefix) - len(old_prefix)
    if not old_prefix or grown <= 0 and len(old_prefix) >= len(new_prefix):
        return None
    # Only the tail matters: the old prefix window plus what may have been typed since.
    window = new_prefix[-(len(old_prefix) + MAX_TYPED_AHEAD) :]
    for typed_len in range(1, min(MAX_TYPED_AHEAD, len(window)) + 1):
        if window.endswith(old_prefix, 0, len(window) - typed_len):
            typed = window[len(window) - typed_len :]
            rests = tuple(t[typed_len:] for t in texts if t.startswith(typed) and len(t) > typed_len)
            return rests or None
    return None
