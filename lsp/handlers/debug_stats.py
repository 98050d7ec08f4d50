"""``roost/debugStats``: a few counters about the server process itself, cheap to compute and free of
workspace content, for the reliability tests and the soak benchmark (and for a user reporting a leak)."""

from __future__ import annotations

import hashlib
import re
import threading
from collections import Counter
from typing import cast

import psutil

from roost.lsp.core.services import SERVICES_KEY, Services
from roost.lsp.core.workspace_folders import folders_of
from roost.lsp.handlers.inline_completion import pipeline_of, pipelines_of
from roost.lsp.protocol import RoostProtocol
from roost.lsp.server import RoostServer

DEBUG_STATS = "roost/debugStats"


def register(server: RoostServer) -> None:
    @server.feature(DEBUG_STATS)
    def debug_stats(ls: RoostServer, params: object) -> dict[str, object]:
        return {
            "heldFutures": cast(RoostProtocol, ls.protocol).held_futures(),
            "rssBytes": psutil.Process().memory_info().rss,
            "openDocuments": len(ls.workspace.text_documents),
            "documentDigests": _document_digests(ls),
            "prefetch": _prefetch_stats(ls),
            "threads": _thread_counts(),
            **_index_stats(ls),
        }


def _thread_counts() -> dict[str, int]:
    """Live threads by name without their number (``roost-buffers_0`` → ``roost-buffers``): a stopped
    folder's index must leave none behind."""
    return dict(Counter(re.sub(r"[-_]?\d+$", "", thread.name) for thread in threading.enumerate()))


def _document_digests(ls: RoostServer) -> dict[str, str]:
    """The SHA-256 of each open document's text as the server holds it (UTF-8, lone surrogates kept), so
    that a test can check the server's copy against the editor's without the text leaving the process."""
    return {
        uri: hashlib.sha256(document.source.encode("utf-8", "surrogatepass")).hexdigest()
        for uri, document in ls.workspace.text_documents.items()
    }


def _prefetch_stats(ls: RoostServer) -> dict[str, int]:
    pipeline_of(ls)  # the first folder's, counted even before its first request
    every = [pipeline.prefetch_stats for pipeline in pipelines_of(ls).values()]  # summed over the folders
    return {
        "notifications": sum(stats.notifications for stats in every),
        "codeActionRests": sum(stats.code_action_rests for stats in every),
        "started": sum(stats.started for stats in every),
        "warmedTokens": sum(stats.warmed_tokens for stats in every),
        "quickAnswers": sum(stats.quick_answers for stats in every),
        "continuedAnswers": sum(stats.continued_answers for stats in every),
    }


def _index_stats(ls: RoostServer) -> dict[str, object]:
    services = ls.services.get(SERVICES_KEY)
    first = services.index_service if isinstance(services, Services) else None
    others = [f for f in folders_of(ls) if f is not services and f.index_service is not None]
    if first is None and not others:
        return {}
    queued = first.queued_buffer_updates() if first is not None else 0
    oversized = first.oversized_buffers() if first is not None else []
    for folder in others:  # another folder's paths are named with its folder
        assert folder.index_service is not None and folder.root is not None
        queued += folder.index_service.queued_buffer_updates()
        oversized += [f"{folder.root.name}/{path}" for path in folder.index_service.oversized_buffers()]
    return {
        "queuedBufferUpdates": queued,
        "oversizedBuffers": sorted(oversized),
        "workspaceFolders": [str(root) for root in folders_of(ls).roots()],
        "indexedFolders": len([f for f in folders_of(ls) if f.index_service is not None]),
    }
