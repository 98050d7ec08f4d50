"""What the core's long-lived services tell the user, as plain typed interfaces: the status
(``roost/status``), errors shown once, and progress reports. The server implements them
(:class:`roost.lsp.server.RoostServer`); the core never sees the protocol that carries them.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Literal, Protocol

log = logging.getLogger(__name__)

# "degraded": the backend is loaded but its requests fail (HTTP error, timeout, malformed stream); the
# message says why, and the next request that succeeds returns to "ready".
StatusState = Literal["starting", "indexing", "loading_model", "ready", "degraded", "error"]

# How long a progress report waits for the client to accept it before the work goes on without it.
PROGRESS_ACCEPT_TIMEOUT_S = 5.0


class ProgressReport(Protocol):
    """One progress report (a bar in the editor); every call is a no-op where the client shows none.
    Called on the event loop thread."""

    async def begin(self, message: str = "") -> None: ...

    def report(self, message: str, percentage: int | None = None) -> None: ...

    def end(self, message: str = "") -> None: ...


class ServiceEvents(Protocol):
    """What the services tell the user. Called on the event loop thread."""

    @property
    def status_state(self) -> StatusState: ...

    @property
    def status_message(self) -> str: ...

    def send_status(self, state: StatusState, message: str = "", percentage: int | None = None) -> None: ...

    def show_error_once(self, key: str, message: str) -> None:
        """A failure that stops a feature: shown once, then only logged."""
        ...

    def progress_report(self, title: str) -> ProgressReport:
        """A new progress report titled ``title``, shown from its ``begin``."""
        ...


class WorkerThreadProgress:
    """A progress report for blocking work in a worker thread that reports through the engine's callback,
    ``progress(message, fraction)`` (fraction in [0, 1] or None): each report is handed to the event
    loop, which alone talks to the client. The engine stays free of LSP: it only sees a callable."""

    def __init__(self, report: ProgressReport, loop: asyncio.AbstractEventLoop) -> None:
        self._report = report
        self._loop = loop

    @classmethod
    async def begin(cls, report: ProgressReport, title: str, message: str = "") -> WorkerThreadProgress:
        try:
            # A client that never answers the token request must not hold up the work it would show.
            await asyncio.wait_for(report.begin(message), PROGRESS_ACCEPT_TIMEOUT_S)
        except TimeoutError:
            log.warning("no answer to the progress token request for %s; going on without it", title)
        return cls(report, asyncio.get_running_loop())

    def __call__(self, message: str, fraction: float | None) -> None:
        percentage = None if fraction is None else round(fraction * 100)
        self._loop.call_soon_threadsafe(self._report.report, message, percentage)

    def end(self, message: str = "") -> None:
        """On the event loop, after the work: reports still queued by the worker go out first."""
        self._loop.call_soon(self._report.end, message)
