"""Which documents a prompt may be built for: one policy for inline completion, code actions, fix-ups
and ``roost complete`` (which runs the same core in process).

The workspace is untrusted input and the model backend may be a shared server on another machine. A
prompt is therefore never built for a document that

- the editor has not opened (a request naming any URI must not make the server read files for it:
  ``/etc/passwd``, ``~/.aws/credentials``),
- lies outside the workspace folder that serves it, or outside every folder (a symlink is judged by
  where it points),
- is a secret file by the indexer's rule (``.env``, ``id_rsa``, ``*.pem``, ``credentials``,
  ``secrets.*``, anything under ``.ssh/`` or ``.aws/`` …), or
- matches the user's exclusions (``index.exclude`` and ``completion.exclude``, gitignore-style).

A refusal is not an error: the request answers an empty result and the reason is logged and shown in
the request's details. Secrets inside an allowed document are the redacting backend's job.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Protocol
from urllib.parse import unquote, urlparse

from roost.context.scanning import IgnoreMatcher, is_secret_path
from roost.lsp.config import RoostConfig
from roost.lsp.core.file_uris import file_uri_to_path

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Allowed:
    path: str  # workspace-relative POSIX path (the file name when there is no workspace folder)


@dataclass(frozen=True)
class Refused:
    reason: str  # for the user: "completions are off for secret files (.env)"


DocumentVerdict = Allowed | Refused


def document_policy(
    uri: str,
    *,
    root: Path | None,
    is_open: bool,
    excludes: Iterable[str] = (),
) -> DocumentVerdict:
    """Whether a prompt may be built for the document at ``uri``, in the workspace folder ``root`` that
    serves it (:mod:`roost.lsp.core.workspace_folders`). Pure apart from resolving symlinks."""
    if not is_open:
        return Refused(f"completions are off for documents the editor has not opened ({uri})")
    path = file_uri_to_path(uri)  # any spelling of the scheme: ``FILE:`` is ``file:``
    if path is None:
        return _judge_other_scheme(uri)
    real = _resolved(path)
    if root is None:
        # No workspace folder: the file the user opened is the workspace; its folder's name still counts
        # (``~/.ssh/config``).
        return _judge_file(path.name, (path.name, f"{real.parent.name}/{real.name}"), excludes=())
    named, real_relative = _relative_to(root, path), _relative_to(root, real)
    if named is None or real_relative is None:
        return Refused(f"completions are off for files outside the workspace ({path})")
    # A harmless-looking link to a key file is still a key file: judge the name and what it points to.
    return _judge_file(named, (named, real_relative), excludes)


def _judge_other_scheme(uri: str) -> DocumentVerdict:
    """A document that is no file on disk. An unsaved buffer (``untitled:Untitled-1``) is what the user
    typed, not a file of anyone's. But other schemes carry a file's text that the editor got elsewhere (the
    old side of a diff, ``git:/ws/.env?…``, a ``fugitive://`` buffer, a notebook cell), and an unsaved
    buffer may already have its name (``untitled:/ws/.env``): all are judged by the names in their path,
    as the file they show would be."""
    path = unquote(urlparse(uri).path)
    if is_secret_path(path):
        return Refused(f"completions are off for secret files ({PurePosixPath(path).name})")
    return Allowed(uri.rsplit("/", 1)[-1])


def _judge_file(relative: str, names: tuple[str, ...], excludes: Iterable[str]) -> DocumentVerdict:
    for name in names:
        if is_secret_path(name):
            return Refused(f"completions are off for secret files ({PurePosixPath(name).name})")
    patterns = [pattern for pattern in excludes if pattern.strip()]
    if patterns and IgnoreMatcher(patterns).matches(relative):
        return Refused(
            f"completions are off for excluded files ({relative}: index.exclude/completion.exclude)"
        )
    return Allowed(relative)


def _resolved(path: Path) -> Path:
    try:
        return path.resolve()
    except (OSError, RuntimeError, ValueError):  # a symlink loop, an unreadable directory, a NUL: as named
        return path


def _relative_to(root: Path, path: Path) -> str | None:
    """``path`` (absolute) relative to the workspace folder as given or as resolved; None outside."""
    for base in (root, _resolved(root)):
        try:
            relative = path.relative_to(base).as_posix()
        except ValueError:
            continue
        if ".." not in relative.split("/"):
            return relative
    return None


# -- the server's view -----------------------------------------------------------------------------------

_LOGGED: set[tuple[str, str]] = set()
_MAX_LOGGED = 1024


@dataclass(frozen=True)
class ServingFolder:
    """The workspace folder that serves a document (the innermost that contains it) with its settings;
    ``root`` None in a window without folders."""

    root: Path | None
    config: RoostConfig
    # The folders around it (a folder nested in another of the window), each root with its exclusions.
    outer: tuple[tuple[Path, tuple[str, ...]], ...] = ()


class OpenDocuments(Protocol):
    """What the policy needs to know of the server: which folder serves a document (with its
    configuration) and which documents the editor has open."""

    def serving_folder(self, uri: str) -> ServingFolder | None:
        """The folder serving ``uri``; None for a file outside every workspace folder."""
        ...

    def is_document_open(self, uri: str) -> bool: ...


def policy_of(server: OpenDocuments, uri: str) -> DocumentVerdict:
    """The policy with the server's state: the folder that serves the document (its root and exclusions),
    open documents. A refusal is logged once per document and reason (completions are asked on every
    keystroke)."""
    is_open = server.is_document_open(uri)
    folder = server.serving_folder(uri)
    if folder is None:
        verdict: DocumentVerdict = (
            Refused(f"completions are off for files outside the workspace ({file_uri_to_path(uri)})")
            if is_open
            else document_policy(uri, root=None, is_open=False)
        )
    else:
        config = folder.config
        verdict = document_policy(
            uri,
            root=folder.root,
            is_open=is_open,
            excludes=(*config.index.exclude, *config.completion.exclude),
        )
        # An outer folder only refuses: the document's path stays the serving folder's.
        for outer_root, outer_excludes in folder.outer:
            if not isinstance(verdict, Allowed):
                break
            outer = document_policy(uri, root=outer_root, is_open=is_open, excludes=outer_excludes)
            if isinstance(outer, Refused):
                verdict = outer
    if isinstance(verdict, Refused) and (uri, verdict.reason) not in _LOGGED:
        if len(_LOGGED) >= _MAX_LOGGED:
            _LOGGED.clear()
        _LOGGED.add((uri, verdict.reason))
        log.info("no prompt for %s: %s", uri, verdict.reason)
    return verdict
