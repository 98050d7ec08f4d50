"""Which files of a workspace the index may read: ``.gitignore``, configured excludes, secrets, size,
binary content, symlink loops, unreadable files. Every skip is one log line; nothing here raises.
"""

from __future__ import annotations

import fnmatch
import logging
import os
import re
import stat
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path, PurePosixPath

import pathspec

from roost.context.languages import language_for_path
from roost.context.options import DEFAULT_EXCLUDES, DEFAULT_SECRET_PATTERNS, IndexOptions

log = logging.getLogger("roost.context.index")

# Bytes inspected for a NUL to call a file binary (what git does).
_BINARY_PROBE_BYTES = 8192


@lru_cache(maxsize=8)
def _secret_name_matcher(extra: tuple[str, ...]) -> re.Pattern[str]:
    # One compiled alternation instead of an fnmatch call per pattern: this runs for every file of the scan.
    patterns = (p.lower() for p in DEFAULT_SECRET_PATTERNS + extra)
    return re.compile("|".join(f"(?:{fnmatch.translate(pattern)})" for pattern in patterns))


# Folders of credentials: ssh/gpg keys, the AWS CLI's, kubectl's (.kube/config holds cluster tokens) and
# Docker's (.docker/config.json holds registry logins).
_SECRET_DIRECTORIES = frozenset((".ssh", ".gnupg", ".aws", ".kube", ".docker", "secrets"))


def is_secret_path(path: str | os.PathLike[str], extra_patterns: Iterable[str] = ()) -> bool:
    """True for files that hold credentials (``.env``, keys, certificates, ``credentials.json``...).

    Such files are never read for context: not indexed, not retrieved, never put in a prompt. Matches the
    file name (case-insensitively) and any directory component (``.ssh/``, a ``secrets/`` folder).
    """
    parts = os.fspath(path).replace("\\", "/").lower().split("/")
    if _secret_name_matcher(tuple(extra_patterns)).match(parts[-1]):
        return True
    return any(part in _SECRET_DIRECTORIES for part in parts[:-1])


@dataclass(frozen=True, slots=True)
class FileStat:
    size: int
    mtime_ns: int


class IgnoreMatcher:
    """gitignore-style patterns (pathspec's ``GitIgnoreSpec`` semantics) for workspace-relative POSIX paths;
    a directory is probed with a trailing slash.

    pathspec tries its patterns one regex at a time (the default excludes alone are about 20 per path).
    Without negations a path is ignored when any pattern matches, so the patterns' own regexes joined into
    one alternation give the same answer in one search. With negations (``!keep.py``), order matters and
    pathspec answers."""

    def __init__(self, lines: Iterable[str]):
        self._spec = pathspec.GitIgnoreSpec.from_lines(list(lines))
        self._combined = _combined_regex(self._spec)

    def matches(self, path: str) -> bool:
        if self._combined is not None:
            return self._combined.search(path) is not None
        return self._spec.match_file(path)


_NAMED_GROUP = re.compile(r"\(\?P<[A-Za-z_][A-Za-z0-9_]*>")


def _combined_regex(spec: pathspec.GitIgnoreSpec) -> re.Pattern[str] | None:
    """One regex matching what any of the spec's patterns matches; None when that would not be the
    spec's answer (a negation) or the patterns are not plain regexes."""
    parts: list[str] = []
    try:
        for pattern in spec.patterns:
            if pattern.include is None:
                continue  # a blank line or a comment
            regex = getattr(pattern, "regex", None)
            if not pattern.include or regex is None or regex.flags & ~re.UNICODE:
                return None
            # The groups pathspec names to tell directory matches apart repeat across patterns; an
            # alternation may not repeat a group name, and only whether something matched matters here.
            parts.append(_NAMED_GROUP.sub("(?:", regex.pattern))
        if not parts:
            return re.compile(r"(?!)")
        return re.compile("|".join(f"(?:{part})" for part in parts))
    except (AttributeError, TypeError, re.error):
        return None


class WorkspaceFilter:
    """Exclusion rules of one workspace: defaults, options, and every ``.gitignore`` met while walking."""

    def __init__(self, root: Path, options: IndexOptions):
        self.root = root
        self.options = options
        patterns = list(DEFAULT_EXCLUDES if options.use_default_excludes else ()) + list(options.excludes)
        self._base = IgnoreMatcher(patterns)
        # (directory prefix with trailing slash or "", matcher) for each .gitignore seen.
        self._gitignores: list[tuple[str, IgnoreMatcher]] = []
        # Every prefix whose .gitignore was read or tried (an unreadable one is logged once, not per event).
        self._tried_gitignores: set[str] = set()

    def add_gitignore(self, rel_dir: str) -> None:
        if not self.options.respect_gitignore:
            return
        prefix = f"{rel_dir}/" if rel_dir else ""
        self._tried_gitignores.add(prefix)
        # read_file never blocks (a FIFO) nor raises, and logs one line for an unreadable file. Then its
        # patterns cannot apply: the directory's files are still indexed (secrets are filtered by name
        # regardless), rather than losing the directory, or the whole index, to one file.
        read = read_file(
            self.root / rel_dir / ".gitignore", self.options.max_file_bytes, f"{prefix}.gitignore"
        )
        if read is None or read[0] is None:
            return
        lines = read[0].decode("utf-8", errors="replace").splitlines()
        self._gitignores.append((prefix, IgnoreMatcher(lines)))

    def load_gitignores_for(self, rel_path: str) -> None:
        """Load the .gitignore files on the way to ``rel_path`` (for single-file checks outside a walk)."""
        if not self.options.respect_gitignore:
            return
        parts = PurePosixPath(rel_path).parts[:-1]
        for depth in range(len(parts) + 1):
            rel_dir = "/".join(parts[:depth])
            prefix = f"{rel_dir}/" if rel_dir else ""
            if prefix not in self._tried_gitignores and _has_gitignore(self.root / rel_dir) is True:
                self.add_gitignore(rel_dir)

    def is_excluded(self, rel_path: str, is_dir: bool = False) -> bool:
        probe = f"{rel_path}/" if is_dir else rel_path
        if self._base.matches(probe):
            return True
        for prefix, matcher in self._gitignores:
            if probe.startswith(prefix) and matcher.matches(probe[len(prefix) :]):
                return True
        return False

    def is_secret(self, rel_path: str) -> bool:
        return is_secret_path(rel_path, self.options.secret_patterns)

    def accepts_file(self, rel_path: str) -> bool:
        """Cheap path-only checks: indexed language, not excluded, not a secret."""
        return (
            language_for_path(rel_path) is not None
            and not self.is_secret(rel_path)
            and not self.is_excluded(rel_path)
        )


def scan_workspace(
    root: Path,
    options: IndexOptions,
    workspace_filter: WorkspaceFilter | None = None,
    log_prefix: str = "",
    workspace_root: Path | None = None,
) -> dict[str, FileStat]:
    """Every indexable file under ``root`` (``root``-relative POSIX path → size and mtime). ``log_prefix``
    (``"sub/dir/"``) makes the skip lines of a subdirectory's rescan name workspace paths, and
    ``workspace_root`` (default ``root``) is the folder a symbolic link must point into."""
    rules = workspace_filter or WorkspaceFilter(root, options)

    def label(rel: str) -> str:
        return f"{log_prefix}{rel}" if rel else log_prefix.rstrip("/") or "."

    real_root = _real_path(workspace_root or root)
    if (refusal := link_refusal(root, real_root)) is not None:  # a rescan of a linked directory
        log.info("skipped %s: %s", label(""), refusal)
        return {}

    found: dict[str, FileStat] = {}
    visited_dirs: set[tuple[int, int]] = set()
    stack: list[str] = [""]
    while stack:
        rel_dir = stack.pop()
        directory = root / rel_dir if rel_dir else root
        try:
            dir_stat = directory.stat()
        except OSError as error:
            log.info("skipped directory %s: %s", label(rel_dir), error.strerror or error)
            continue
        identity = (dir_stat.st_dev, dir_stat.st_ino)
        if identity in visited_dirs:
            log.info("skipped %s: symlink loop or duplicate directory", label(rel_dir))
            continue
        visited_dirs.add(identity)
        has_gitignore = _has_gitignore(directory)
        if has_gitignore is None:  # not searchable: nothing inside can be opened
            log.info("skipped directory %s: permission denied", label(rel_dir))
            continue
        if has_gitignore:
            rules.add_gitignore(rel_dir)
        try:
            entries = list(os.scandir(directory))
        except OSError as error:
            log.info("skipped directory %s: %s", label(rel_dir), error.strerror or error)
            continue
        for entry in entries:
            rel = f"{rel_dir}/{entry.name}" if rel_dir else entry.name
            if _is_link(entry) and (why := link_refusal(entry.path, real_root)) is not None:
                log.info("skipped %s: %s", label(rel), why)
                continue
            try:
                is_dir = entry.is_dir()  # follows symlinks; loops are caught by the identity set
            except OSError as error:
                log.info("skipped %s: %s", label(rel), error.strerror or error)
                continue
            if is_dir:
                if not rules.is_excluded(rel, is_dir=True):
                    stack.append(rel)
                continue
            if language_for_path(rel) is None or rules.is_secret(rel) or rules.is_excluded(rel):
                continue
            try:
                st = entry.stat()
            except OSError as error:
                log.info("skipped %s: %s", label(rel), error.strerror or error)
                continue
            if not stat.S_ISREG(st.st_mode):
                continue
            if st.st_size > options.max_file_bytes:
                log.info(
                    "skipped %s: %d bytes is over the %d-byte limit",
                    label(rel),
                    st.st_size,
                    options.max_file_bytes,
                )
                continue
            found[rel] = FileStat(st.st_size, st.st_mtime_ns)
    return found


def link_refusal(path: str | Path, real_root: Path) -> str | None:
    """Why the index may not follow the symbolic link ``path`` (None: it may). A link is judged by where
    it points, as the editor's documents are (``lsp/core/document_policy``): a workspace handed to the
    user can hold ``notes.py -> ~/.aws/credentials`` or ``lib -> /``, and what the index reads can be
    retrieved into a prompt for a model server."""
    target = _real_path(Path(path))
    try:
        relative = target.relative_to(real_root)
    except ValueError:
        return "a link to outside the workspace"
    if is_secret_path(relative.as_posix()):
        return "a link to a secret file"
    return None


def _is_link(entry: os.DirEntry[str]) -> bool:
    try:
        return entry.is_symlink()
    except OSError:
        return False


def _real_path(path: Path) -> Path:
    try:
        return path.resolve()
    except (OSError, RuntimeError):  # a symlink loop: judged as named (it leads nowhere readable)
        return Path(os.path.abspath(path))


def _has_gitignore(directory: Path) -> bool | None:
    """Whether ``directory`` holds a ``.gitignore``; None when the directory cannot be searched (no
    permission), where asking about any name in it fails. Never raises."""
    try:
        os.stat(directory / ".gitignore")
    except PermissionError:
        return None
    except OSError:  # absent, or a name that cannot be there (ENOTDIR, ELOOP, ENAMETOOLONG)
        return False
    return True


def stat_file(root: Path, rel_path: str, options: IndexOptions) -> FileStat | None:
    """Current size/mtime of one file, None when it is gone, not regular, too big, or reached through a
    symbolic link that leads out of the workspace or to a secret file."""
    try:
        st = (root / rel_path).stat()
    except OSError:
        return None
    if link_refusal(root / rel_path, _real_path(root)) is not None:
        return None
    if not stat.S_ISREG(st.st_mode) or st.st_size > options.max_file_bytes:
        return None
    return FileStat(st.st_size, st.st_mtime_ns)


def read_source(path: Path, max_bytes: int, rel_path: str | None = None) -> bytes | None:
    """The file's bytes, or None (with one log line) when unreadable, too big or binary."""
    read = read_file(path, max_bytes, rel_path)
    return read[0] if read is not None else None


def read_file(
    path: str | Path, max_bytes: int, rel_path: str | None = None
) -> tuple[bytes | None, FileStat] | None:
    """The file's bytes and the size/mtime they were read at; the bytes are None (with one log line) when
    the file is unreadable, too big, binary or not a regular file. None when it is gone.

    One open, one fstat, one read of exactly the size: the cold index reads every file of the workspace,
    and a buffered ``open`` plus a separate ``stat`` cost twice as much."""
    label = rel_path or str(path)
    try:
        # O_NONBLOCK: a FIFO that slipped in must not hang the indexer (no effect on regular files).
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except OSError as error:
        log.info("skipped %s: %s", label, error.strerror or error)
        try:  # there but unreadable (permissions): skipped, not gone
            st = os.stat(path)
        except OSError:
            return None
        return None, FileStat(st.st_size, st.st_mtime_ns)
    try:
        st = os.fstat(fd)
        file_stat = FileStat(st.st_size, st.st_mtime_ns)
        if not stat.S_ISREG(st.st_mode):
            log.info("skipped %s: not a regular file", label)
            return None, file_stat
        if st.st_size > max_bytes:
            log.info("skipped %s: over the %d-byte limit", label, max_bytes)
            return None, file_stat
        try:
            data = _read_all(fd, st.st_size, max_bytes)
        except OSError as error:
            log.info("skipped %s: %s", label, error.strerror or error)
            return None, file_stat
    except OSError as error:  # fstat of an open file: practically never
        log.info("skipped %s: %s", label, error.strerror or error)
        return None
    finally:
        os.close(fd)
    if len(data) > max_bytes:
        log.info("skipped %s: over the %d-byte limit", label, max_bytes)
        return None, file_stat
    if b"\0" in data[:_BINARY_PROBE_BYTES]:
        log.info("skipped %s: binary content", label)
        return None, file_stat
    return data, file_stat


def _read_all(fd: int, size: int, max_bytes: int) -> bytes:
    """Up to ``max_bytes + 1`` bytes: one read when the file still has the size fstat gave (asking one
    byte more finds the end), more when it changed since or the read came back short."""
    data = os.read(fd, size + 1)
    if len(data) == size:
        return data
    parts, total = [data], len(data)
    while total <= max_bytes:
        chunk = os.read(fd, max_bytes + 1 - total)
        if not chunk:
            break
        parts.append(chunk)
        total += len(chunk)
    return b"".join(parts)
