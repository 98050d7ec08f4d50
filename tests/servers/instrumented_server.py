"""The real Roost server plus two test-only requests, for the foundation's end-to-end tests:

- ``roost/test/crash`` raises inside a handler (the server must answer with an error and live on);
- ``roost/test/slowWork`` runs blocking work through ``run_cancellable`` and records in a file how many
  steps it did, so a test can prove that ``$/cancelRequest`` stops the work, not only the reply.

This is a test double and lives in tests/ only.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from roost.lsp.cancellation import CancellationToken, run_cancellable
from roost.lsp.server import RoostServer, create_server


def build() -> RoostServer:
    server = create_server()

    @server.feature("roost/test/crash")
    def crash(ls: RoostServer, params: object) -> None:
        raise RuntimeError("deliberate failure inside a handler")

    @server.feature("roost/test/slowWork")
    async def slow_work(ls: RoostServer, params: object) -> dict[str, int]:
        steps_file = Path(params.stepsFile)  # type: ignore[attr-defined]

        def work(token: CancellationToken) -> int:
            steps = 0
            for steps in range(1, 201):  # 200 × 50 ms = 10 s if never cancelled
                token.raise_if_cancelled()
                time.sleep(0.05)
                steps_file.write_text(str(steps))
            return steps

        return {"steps": await run_cancellable(work)}

    return server


if __name__ == "__main__":
    build().start_io()
    sys.exit(0)
