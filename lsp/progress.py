"""Work-done progress (``$/progress``) for long work, a no-op for clients that do not support it: the
server's implementation of the core's :class:`~roost.lsp.core.events.ProgressReport`."""

from __future__ import annotations

import logging
import uuid
from typing import TYPE_CHECKING

from lsprotocol import types

if TYPE_CHECKING:
    from roost.lsp.server import RoostServer

log = logging.getLogger(__name__)


class ProgressReporter:
    def __init__(self, server: RoostServer, title: str) -> None:
        self._server = server
        self._title = title
        self._token: str | None = None
        self._last_percentage = -1

    def _client_supports_progress(self) -> bool:
        window = self._server.client_capabilities.window
        return bool(window and window.work_done_progress)

    async def begin(self, message: str = "") -> None:
        if not self._client_supports_progress():
            return
        token = f"roost-{uuid.uuid4().hex}"
        try:
            await self._server.work_done_progress.create_async(token)
        except Exception:  # the client refused or failed: report nothing rather than break the work
            log.warning("client refused a progress token for %s", self._title)
            return
        self._token = token
        self._server.work_done_progress.begin(
            token,
            types.WorkDoneProgressBegin(title=self._title, message=message, percentage=0, cancellable=False),
        )

    def report(self, message: str, percentage: int | None = None) -> None:
        if self._token is None:
            return
        if percentage is not None:
            percentage = max(0, min(100, percentage))
            if percentage == self._last_percentage:
                return  # throttle: one notification per percent is plenty for a progress bar
            self._last_percentage = percentage
        self._server.work_done_progress.report(
            self._token, types.WorkDoneProgressReport(message=message, percentage=percentage)
        )

    def end(self, message: str = "") -> None:
        if self._token is None:
            return
        self._server.work_done_progress.end(self._token, types.WorkDoneProgressEnd(message=message))
        self._token = None
