"""Persistence of the index: one SQLite database (WAL) per workspace in the user cache directory.

One row per file holds everything about it (stat, content hash, encoded facts, encoded resolutions), so
replacing a file's facts is a single-row write: atomic by construction. Rows are written in one transaction
per batch; a ``kill -9`` loses at most the batch in flight, and files without a row are simply parsed again
on the next start. Resolutions depend on the set of files they were computed against, whose fingerprint is
stored alongside: a mismatch on start means "re-resolve", never "trust".

A schema/extractor change or a damaged database is answered by deleting it and rebuilding.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import sqlite3
import sys
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from roost.context import languages
from roost.context.codec import CODEC_VERSION

if TYPE_CHECKING:
    from roost.context.parsing import ParsedRecord

log = logging.getLogger("roost.context.index")

SCHEMA_VERSION = 1

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS files (
    path TEXT PRIMARY KEY,
    language TEXT NOT NULL,
    size INTEGER NOT NULL,
    mtime_ns INTEGER NOT NULL,
    digest BLOB NOT NULL,
    facts BLOB,            -- NULL: skipped (binary, unreadable); kept so a restart does not retry it
    resolutions BLOB,
    definitions INTEGER NOT NULL DEFAULT 0
);
"""


@dataclass(slots=True)
class StoredFile:
    path: str
    language: str
    size: int
    mtime_ns: int
    digest: bytes
    facts: bytes | None
    resolutions: bytes | None
    definitions: int

    @classmethod
    def of(cls, record: ParsedRecord) -> StoredFile:
        """The row of a file as a worker parsed it."""
        fields = (record.language, record.size, record.mtime_ns, record.digest, record.facts)
        return cls(record.path, *fields, record.resolutions, record.definitions)


def _db_path(path: str) -> str | bytes:
    """A workspace path as the store keeps it: text, or the name's raw bytes where the name is not UTF-8
    (Linux allows any byte; ``os.fsdecode`` turned those into surrogates, which SQLite cannot take as text)."""
    try:
        path.encode("utf-8")
    except UnicodeEncodeError:
        return path.encode("utf-8", "surrogateescape")
    return path


def _from_db_path(path: str | bytes) -> str:
    return path.decode("utf-8", "surrogateescape") if isinstance(path, bytes) else path


def _is_damage(error: sqlite3.DatabaseError) -> bool:
    """Whether SQLite found the file itself unsound (not a database, corrupt): then it is rebuilt. Other
    errors (read-only, locked, disk full, cannot open) say nothing against the file, which is kept."""
    name = getattr(error, "sqlite_errorname", None)
    return name is None or name.startswith(("SQLITE_CORRUPT", "SQLITE_NOTADB"))


def store_path_for(root: Path, cache_dir: Path) -> Path:
    key = hashlib.sha256(str(root.resolve()).encode("utf-8", "surrogateescape")).hexdigest()[:20]
    return cache_dir / "index" / f"{root.name or 'root'}-{key}.sqlite3"


def extractor_fingerprint() -> str:
    """Changes whenever a language module or query file changes: stored facts are then stale."""
    digest = hashlib.sha256(f"{SCHEMA_VERSION}:{CODEC_VERSION}:{sys.version_info[:2]}".encode())
    package_dir = Path(languages.__file__).parent
    for file in sorted([*package_dir.glob("*.py"), *package_dir.glob("queries/*.scm")]):
        try:
            digest.update(file.name.encode())
            digest.update(file.read_bytes())
        except OSError:
            continue
    return digest.hexdigest()[:24]


def fileset_fingerprint(paths: Iterable[str]) -> str:
    return hashlib.blake2b(
        "\n".join(sorted(paths)).encode("utf-8", "surrogateescape"), digest_size=16
    ).hexdigest()


class IndexStore:
    """The SQLite file of one workspace. Thread-safe (one connection, serialised by a lock)."""

    def __init__(self, db_path: Path, root: Path):
        self.db_path = db_path
        self.root = root
        self._lock = threading.Lock()
        self._conn: sqlite3.Connection | None = None
        self.rebuilt = False  # True when the previous database was discarded on open

    # -- lifecycle ----------------------------------------------------------------------------------------

    def open(self) -> None:
        """Open (creating or rebuilding as needed). Never raises for a damaged or stale database."""
        self.db_path.parent.mkdir(parents=True, exist_ok=True)
        fingerprint = extractor_fingerprint()
        try:
            self._connect()
            stored = self._meta("fingerprint")
            if stored is not None and stored != fingerprint:
                log.info("index store %s is from another schema/extractor version; rebuilding", self.db_path)
                self._discard()
            elif stored is not None and self._meta("root") != _db_path(str(self.root.resolve())):
                self._discard()
        except sqlite3.DatabaseError as error:
            if not _is_damage(error):
                self.close()
                raise  # read-only, locked, disk full...: the store is fine; the index runs without it
            log.warning("index store %s is damaged (%s); rebuilding", self.db_path, error)
            self._discard()
        with self._lock:
            assert self._conn is not None
            with self._conn:
                self._conn.execute("INSERT OR REPLACE INTO meta VALUES ('fingerprint', ?)", (fingerprint,))
                self._conn.execute(
                    "INSERT OR REPLACE INTO meta VALUES ('root', ?)", (_db_path(str(self.root.resolve())),)
                )

    def _connect(self) -> None:
        conn = sqlite3.connect(self.db_path, check_same_thread=False, isolation_level=None)
        try:
            # Rows are mostly blobs of several KB: with 64 KB pages they need no overflow-page chains, the
            # cold index writes them at about half the CPU, and the WAL fills (and checkpoints) less often.
            # Only takes effect when the file is created (an existing store keeps its page size).
            conn.execute("PRAGMA busy_timeout=5000")  # another server on the workspace: wait for its write
            conn.execute("PRAGMA page_size=65536")
            conn.execute("PRAGMA journal_mode=WAL")
            # NORMAL in WAL mode: a crash may lose the last transactions but never corrupts the database.
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.executescript(_SCHEMA)
            conn.execute("SELECT count(*) FROM files").fetchone()
        except sqlite3.DatabaseError:
            conn.close()
            raise
        self._conn = conn

    def _discard(self) -> None:
        if self._conn is not None:
            with contextlib.suppress(sqlite3.Error):
                self._conn.close()
            self._conn = None
        for suffix in ("", "-wal", "-shm"):
            Path(f"{self.db_path}{suffix}").unlink(missing_ok=True)
        self.rebuilt = True
        self._connect()

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                try:
                    self._conn.close()
                finally:
                    self._conn = None

    def _meta(self, key: str) -> str | bytes | None:
        assert self._conn is not None
        row = self._conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    # -- reads --------------------------------------------------------------------------------------------

    def load(self) -> tuple[dict[str, StoredFile], str | None]:
        """All rows and the fingerprint of the file set their resolutions were computed against.

        A damaged database is discarded and reported as empty.
        """
        with self._lock:
            try:
                assert self._conn is not None
                rows = self._conn.execute(
                    "SELECT path, language, size, mtime_ns, digest, facts, resolutions, definitions FROM files"
                ).fetchall()
                fileset = self._meta("fileset")  # a hex digest: text
            except sqlite3.DatabaseError as error:
                if not _is_damage(error):
                    log.warning(
                        "index store %s cannot be read (%s); indexing without it", self.db_path, error
                    )
                    return {}, None
                log.warning("index store %s is damaged (%s); rebuilding", self.db_path, error)
                self._discard()
                return {}, None
        stored = {_from_db_path(row[0]): StoredFile(_from_db_path(row[0]), *row[1:]) for row in rows}
        return stored, fileset if isinstance(fileset, str) else None

    def discard_all(self) -> None:
        """Forget everything (a damaged record was found after open)."""
        with self._lock:
            log.warning("index store %s holds a damaged record; rebuilding", self.db_path)
            self._discard()

    # -- writes -------------------------------------------------------------------------------------------

    def write(
        self,
        files: Iterable[StoredFile] = (),
        removed: Iterable[str] = (),
        fileset: str | None = None,
    ) -> None:
        """One transaction: upsert rows, delete rows, optionally record the file-set fingerprint."""
        rows = [
            (
                _db_path(f.path),
                f.language,
                f.size,
                f.mtime_ns,
                f.digest,
                f.facts,
                f.resolutions,
                f.definitions,
            )
            for f in files
        ]
        gone = [(_db_path(path),) for path in removed]
        with self._lock:
            if self._conn is None:
                return
            try:
                with self._conn:
                    self._conn.execute("BEGIN IMMEDIATE")
                    if rows:
                        self._conn.executemany(
                            "INSERT OR REPLACE INTO files VALUES (?, ?, ?, ?, ?, ?, ?, ?)", rows
                        )
                    if gone:
                        self._conn.executemany("DELETE FROM files WHERE path = ?", gone)
                    if fileset is not None:
                        self._conn.execute("INSERT OR REPLACE INTO meta VALUES ('fileset', ?)", (fileset,))
            except sqlite3.Error as error:
                # The in-memory graph stays right; the next start re-parses what did not reach the disk.
                log.warning("could not persist %d index rows: %s", len(rows) + len(gone), error)

    def update_stats(self, updates: Iterable[tuple[str, int, int]]) -> None:
        """(path, size, mtime_ns) for files whose mtime changed but whose content did not."""
        rows = [(size, mtime, _db_path(path)) for path, size, mtime in updates]
        if not rows:
            return
        with self._lock:
            if self._conn is None:
                return
            try:
                with self._conn:
                    self._conn.execute("BEGIN IMMEDIATE")
                    self._conn.executemany("UPDATE files SET size = ?, mtime_ns = ? WHERE path = ?", rows)
            except sqlite3.Error as error:
                log.warning("could not persist index stats: %s", error)

    def update_resolutions(self, updates: Iterable[tuple[str, bytes]], fileset: str) -> None:
        rows = [(blob, _db_path(path)) for path, blob in updates]
        with self._lock:
            if self._conn is None:
                return
            try:
                with self._conn:
                    self._conn.execute("BEGIN IMMEDIATE")
                    self._conn.executemany("UPDATE files SET resolutions = ? WHERE path = ?", rows)
                    self._conn.execute("INSERT OR REPLACE INTO meta VALUES ('fileset', ?)", (fileset,))
            except sqlite3.Error as error:
                log.warning("could not persist index resolutions: %s", error)
