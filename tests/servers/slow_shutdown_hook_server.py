"""The real Roost server plus one shutdown hook that takes a moment (an engine whose worker finishes its
forward pass first) and then writes the file named by ``$ROOST_TEST_SHUTDOWN_DONE``: a test checks that
the answer to ``shutdown`` comes only once it is written. A test double: it lives in tests/ only."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

from roost.lsp.server import RoostServer, create_server


def build() -> RoostServer:
    server = create_server()
    done_file = Path(os.environ["ROOST_TEST_SHUTDOWN_DONE"])

    async def stop_slowly() -> None:
        await asyncio.sleep(0.3)
        done_file.write_text("stopped")

    server.shutdown_hooks.append(lambda ls: stop_slowly())
    return server


if __name__ == "__main__":
    build().start_io()
    sys.exit(0)
