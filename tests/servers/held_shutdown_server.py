"""The real Roost server whose ``shutdown`` answer is held, after its own hooks have run, until the client
has sent another request or notification after the ``shutdown`` (or 30 s have passed): a test can then
send one while the shutdown is under way, at a known point, and see what it does to the shutdown's
answer. A test double: it lives in tests/ only."""

from __future__ import annotations

import asyncio
import json
import sys

from roost.lsp.protocol import RoostProtocol
from roost.lsp.server import RoostServer, create_server

HOLD_AT_MOST_S = 30.0


def build() -> RoostServer:
    server = create_server()
    protocol: RoostProtocol = server.protocol  # type: ignore[assignment]
    # The client's own messages (its answers to the server's requests do not count), and how many had
    # come when the shutdown did.
    received = {"messages": 0, "at_shutdown": -1}
    handle_body = protocol.handle_body

    def counting(body: bytes) -> None:
        method = json.loads(body).get("method")
        if method == "shutdown" and received["at_shutdown"] < 0:
            received["at_shutdown"] = received["messages"] + 1
        if method is not None:
            received["messages"] += 1
        handle_body(body)

    protocol.handle_body = counting  # type: ignore[method-assign]

    async def hold_until_a_message_follows_the_shutdown() -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + HOLD_AT_MOST_S
        while received["messages"] <= received["at_shutdown"] and loop.time() < deadline:
            await asyncio.sleep(0.01)

    server.shutdown_hooks.append(lambda ls: hold_until_a_message_follows_the_shutdown())
    return server


if __name__ == "__main__":
    build().start_io()
    sys.exit(0)
