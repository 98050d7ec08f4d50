"""``roost/debugStats``: a few counters about the server process itself, cheap to compute and free of
workspace content, for the reliability tests and the soak benchmark (and for a user reporting a leak)."""

from __future__ import annotations

import hashlib
from typing import cast

import psutil

from roost.lsp.core.services import SERVICES_KEY, Services
from roost.lsp.handlers.inline_completion import pipeline_of
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
            **_index_stats(ls),
        }


def _document_digests(ls: RoostServer) -> dict[str, str]:
    """The SHA-256 of each open document's text as the server holds it (UTF-8, lone surrogates kept), so
    that a test can check the server's copy against the editor's without the text leaving the process."""
    return {
        uri: hashlib.sha256(document.source.encode("utf-8", "surrogatepass")).hexdigest()
        for uri, document in ls.workspace.text_documents.items()
    }


def _prefetch_stats(ls: RoostServer) -> dict[str, int]:
    stats = pipeline_of(ls).prefetch_stats
    return {
        "notifications": stats.notifications,
        "codeActionRests": stats.code_action_rests,
        "started": stats.started,
        "warmedTokens": stats.warmed_tokens,
        "quickAnswers": stats.quick_answers,
        "continuedAnswers": stats.continued_answers,
    }


def _index_stats(ls: RoostServer) -> dict[str, object]:
    services = ls.services.get(SERVICES_KEY)
    index = services.index_service if isinstance(services, Services) else None
    if index is None:
        return {}
    return {
        "queuedBufferUpdates": index.queued_buffer_updates(),
        "oversizedBuffers": sorted(index.oversized_buffers()),
    }
