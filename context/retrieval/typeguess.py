"""Guessing the class of a receiver the graph cannot type (an unannotated parameter, a value returned by an
unannotated function): by its name (``fut`` → ``Future``, ``msg`` → ``Message``, ``self._loop`` →
``AbstractEventLoop``) and by the members the buffer uses on it (duck typing: ``fut.done()`` and
``fut.result()`` point at the classes that define both).

The workspace's classes are indexed once (lazily) and kept current per file.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from functools import lru_cache

from roost.context.facts import CLASS_LIKE_KINDS, FileFacts

_WORDS = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|\d+")
_MIN_TOKEN = 3


@dataclass(frozen=True, slots=True)
class ClassEntry:
    path: str
    qualified_name: str
    name: str
    words: tuple[str, ...]  # lower-cased camel-case words of the name
    members: frozenset[str]


# Cached: member listings split the same member names on every keystroke.
@lru_cache(maxsize=65536)
def name_words(name: str) -> tuple[str, ...]:
    return tuple(word.lower() for word in _WORDS.findall(name))


def _is_subsequence(short: str, long: str) -> bool:
    position = 0
    for char in short:
        position = long.find(char, position) + 1
        if position == 0:
            return False
    return True


def receiver_token(receiver: str) -> str:
    """``self._event_loop`` → ``loop``; ``fut2`` → ``fut``: the part of a variable name that names a type."""
    last = receiver.removesuffix("()").split(".")[-1].strip("_").rstrip("0123456789")
    parts = [part for part in last.lower().split("_") if part]
    return parts[-1] if parts else ""


def name_score(token: str, entry: ClassEntry) -> float:
    if len(token) < _MIN_TOKEN:
        return 0.0
    lowered = entry.name.lower()
    if token == lowered:
        return 1.0
    if not entry.words:
        return 0.0
    if entry.words[-1] == token or entry.words[-1].startswith(token):
        return 0.9  # the head noun: ``StreamReader`` for ``reader``
    if any(word == token or word.startswith(token) for word in entry.words):
        return 0.7
    if any(word[0] == token[0] and _is_subsequence(token, word) for word in entry.words):
        return 0.5  # abbreviation: ``msg`` → ``Message``
    return 0.0


class ClassIndex:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._by_path: dict[str, list[ClassEntry]] = {}
        # Lookup tables rebuilt lazily after a change: word initial → entries, member → entries.
        self._by_initial: dict[str, list[ClassEntry]] | None = None
        self._by_member: dict[str, list[ClassEntry]] = {}

    def set_file(self, facts: FileFacts) -> None:
        members: dict[str, set[str]] = {}
        for definition in facts.definitions:
            if definition.parent is not None:
                members.setdefault(definition.parent, set()).add(definition.name)
        entries = [
            ClassEntry(
                facts.path,
                d.qualified_name,
                d.name,
                name_words(d.name),
                frozenset(members.get(d.qualified_name, ())),
            )
            for d in facts.definitions
            if d.kind in CLASS_LIKE_KINDS
        ]
        with self._lock:
            if entries:
                self._by_path[facts.path] = entries
            else:
                self._by_path.pop(facts.path, None)
            self._by_initial = None

    def remove_file(self, path: str) -> None:
        with self._lock:
            self._by_path.pop(path, None)
            self._by_initial = None

    def _tables(self) -> tuple[dict[str, list[ClassEntry]], dict[str, list[ClassEntry]]]:
        with self._lock:
            if self._by_initial is None:
                by_initial: dict[str, list[ClassEntry]] = {}
                by_member: dict[str, list[ClassEntry]] = {}
                for group in self._by_path.values():
                    for entry in group:
                        for initial in {word[0] for word in entry.words if word}:
                            by_initial.setdefault(initial, []).append(entry)
                        for member in entry.members:
                            by_member.setdefault(member, []).append(entry)
                self._by_initial, self._by_member = by_initial, by_member
            return self._by_initial, self._by_member

    def definers(self, member: str) -> int:
        """How many classes of the workspace define a member ``member`` (an interface many classes
        implement or override is what their instances are mostly asked for)."""
        return len(self._tables()[1].get(member, ()))

    def guess(
        self, receiver: str, used_members: set[str], limit: int = 2, min_score: float = 0.45
    ) -> list[tuple[ClassEntry, float]]:
        """The classes ``receiver`` most likely is an instance of, best first, with a score in (0, 1]."""
        token = receiver_token(receiver)
        used = {m for m in used_members if not (m.startswith("__") and m.endswith("__"))}
        by_initial, by_member = self._tables()
        # Only classes that can score: a name word starting like the token, or defining a used member.
        candidates: dict[int, ClassEntry] = {}
        if len(token) >= _MIN_TOKEN:
            for entry in by_initial.get(token[0], ()):
                candidates[id(entry)] = entry
        if used:
            rarest = min(used, key=lambda m: len(by_member.get(m, ())))
            for entry in by_member.get(rarest, ()):
                candidates[id(entry)] = entry
        scored: list[tuple[ClassEntry, float]] = []
        for entry in candidates.values():
            by_name = name_score(token, entry)
            overlap = len(used & entry.members) / len(used) if used else 0.0
            if by_name == 0.0 and overlap < 1.0:
                continue
            score = min(1.0, 0.6 * by_name + 0.6 * overlap)
            if score >= min_score:
                scored.append((entry, score))
        # Prefer higher scores, then classes with more members (base classes define the interface).
        scored.sort(key=lambda item: (-item[1], -len(item[0].members), item[0].path))
        return scored[:limit]
