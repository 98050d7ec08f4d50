"""Fix-up sessions in SQLite (WAL), so a server restart loses none.

One row per session; the conversation, the current proposal and the accepted edits are JSON. Writes are
small and rare (one per command), so a plain connection per call keeps threads out of each other's way.
Files are named by workspace-relative paths (sessions stored by Roost before schema 2 named them by URI;
such a session is not loaded: the user starts a new one).
"""

from __future__ import annotations

import json
import os
import sqlite3
import time
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import platformdirs

SCHEMA_VERSION = 2


def default_state_dir() -> Path:
    override = os.environ.get("ROOST_STATE_DIR")
    return Path(override) if override else Path(platformdirs.user_state_dir("roost", appauthor=False))


@dataclass
class StoredReplacement:
    start: int
    end: int
    new_text: str


@dataclass
class StoredFileEdit:
    path: str
    version: int | None
    original: str
    replacements: list[StoredReplacement]


@dataclass
class AcceptedEdit:
    """What an accept changed, so undo can check the text is still as we left it and revert it."""

    path: str
    before: str  # the whole text before
    after: str  # the whole text after


@dataclass
class FixupSession:
    id: str
    root: str
    path: str  # the file the fix-up started in, workspace-relative
    # The selection, as {"start": {"line", "character"}, "end": {...}} (UTF-16 characters).
    range: dict[str, dict[str, int]]
    instruction: str
    state: str = "open"  # open | accepted | rejected
    turns: list[tuple[str, str]] = field(default_factory=list)  # (user message, model answer)
    proposal: list[StoredFileEdit] = field(default_factory=list)
    message: str = ""
    accepted: list[list[AcceptedEdit]] = field(default_factory=list)  # a stack: one list per accept
    created: float = field(default_factory=time.time)
    updated: float = field(default_factory=time.time)


def _from_json(data: dict[str, Any]) -> FixupSession | None:
    if "path" not in data:  # stored before schema 2
        return None
    session = FixupSession(**{k: v for k, v in data.items() if k not in ("proposal", "accepted", "turns")})
    session.turns = [tuple(turn) for turn in data.get("turns", [])]
    session.proposal = [
        StoredFileEdit(**{**e, "replacements": [StoredReplacement(**r) for r in e["replacements"]]})
        for e in data.get("proposal", [])
    ]
    session.accepted = [[AcceptedEdit(**a) for a in group] for group in data.get("accepted", [])]
    return session


class FixupStore:
    def __init__(self, path: Path | None = None) -> None:
        self.path = path or default_state_dir() / "fixups.sqlite3"
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as db:
            db.execute("PRAGMA journal_mode=WAL")
            db.execute(
                "CREATE TABLE IF NOT EXISTS sessions (id TEXT PRIMARY KEY, root TEXT NOT NULL, "
                "state TEXT NOT NULL, updated REAL NOT NULL, data TEXT NOT NULL)"
            )
            db.execute(f"PRAGMA user_version={SCHEMA_VERSION}")

    def _connect(self) -> sqlite3.Connection:
        return sqlite3.connect(self.path, timeout=5.0)

    def new_id(self) -> str:
        return uuid.uuid4().hex[:12]

    def save(self, session: FixupSession) -> None:
        session.updated = time.time()
        with self._connect() as db:
            db.execute(
                "INSERT OR REPLACE INTO sessions (id, root, state, updated, data) VALUES (?, ?, ?, ?, ?)",
                (session.id, session.root, session.state, session.updated, json.dumps(asdict(session))),
            )

    def load(self, session_id: str) -> FixupSession | None:
        with self._connect() as db:
            row = db.execute("SELECT data FROM sessions WHERE id = ?", (session_id,)).fetchone()
        return _from_json(json.loads(row[0])) if row else None
