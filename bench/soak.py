"""Soak benchmark: a long typing session against the real ``roost serve --stdio``, with a backend that fails
on schedule.

    .venv/bin/python bench/soak.py [--keystrokes 10000] [--burst 20]

The editor side is a raw JSON-RPC client (``tests/reliability/raw_client.py``) typing into a Python file of
a copy of ``examples/``: each keystroke is a ``didChange`` and an ``inlineCompletion`` request; keystrokes
come in bursts (a word typed without pause), half of the bursts cancelling each request with
``$/cancelRequest`` as the next keystroke arrives (as VS Code does), half not. After each burst the client
waits for every answer of the burst. The backend is the tests' scripted OpenAI-compatible server
(``tests/lsp_features/fake_openai.py``) behind a fault switch that follows a schedule over the run: up,
down (connections dropped), HTTP 500, hang (longer than ``backend.timeout_s``), garbage (a stream that is
not SSE JSON), and up again.

Checked, and printed as a table per phase:
- every request is answered (a result or an error, never silence);
- the latest keystroke of a burst is served (a suggestion) whenever the backend is up;
- backend calls stay bounded (debounce, cancel-previous and the cache keep them far below the keystrokes);
- RSS at the end ≤ 1.1 × RSS after the first 1,000 keystrokes, and the held futures stay bounded.
Exit status 1 if a check fails.
"""

from __future__ import annotations

import argparse
import json
import shutil
import socket
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [
    str(REPO / "tests"),
    str(REPO / "tests" / "reliability"),
    str(REPO / "tests" / "lsp_features"),
]

from fake_openai import FakeOpenAI, fake_backend_options  # noqa: E402
from raw_client import RawClient  # noqa: E402

# (phase, share of the keystrokes); "up" phases must serve the latest keystroke.
SCHEDULE = [
    ("up", 0.60),
    ("down", 0.05),
    ("http 500", 0.05),
    ("hang", 0.03),
    ("garbage", 0.05),
    ("back up", 0.22),
]
BACKEND_TIMEOUT_S = 2.0
HANG_S = 4.0
ANSWER_TIMEOUT_S = 60.0
REQUEST_CANCELLED = -32800
# A new line each time (numbered): periodic text would be served from the completion cache.
LINES_PER_BLOCK = 40
TYPED_LINE = "value_{0} = compute(total, {0}) + offset\n    "


class FaultyBackend(FakeOpenAI):
    """The scripted fake with a ``mode`` switch in front of its handler."""

    def __init__(self) -> None:
        super().__init__(rules=[("", "result(value)")])
        self.mode = "up"
        self.calls_by_mode: dict[str, int] = {}
        answering = self.server.RequestHandlerClass
        backend = self

        class Faulty(answering):  # type: ignore[misc, valid-type]
            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                mode = backend.mode
                backend.calls_by_mode[mode] = backend.calls_by_mode.get(mode, 0) + 1
                if mode in ("up", "back up"):
                    super().do_POST()
                    return
                length = int(self.headers.get("Content-Length") or 0)
                self.rfile.read(length)
                backend._fault(self, mode)

        self.server.RequestHandlerClass = Faulty

    @staticmethod
    def _fault(handler: BaseHTTPRequestHandler, mode: str) -> None:
        try:
            if mode == "down":
                handler.close_connection = True
                handler.connection.shutdown(socket.SHUT_RDWR)
            elif mode == "http 500":
                body = b'{"error": {"message": "internal error"}}'
                handler.send_response(500)
                handler.send_header("Content-Type", "application/json")
                handler.send_header("Content-Length", str(len(body)))
                handler.end_headers()
                handler.wfile.write(body)
            elif mode == "hang":
                time.sleep(HANG_S)
            else:  # garbage
                handler.send_response(200)
                handler.send_header("Content-Type", "text/event-stream")
                handler.end_headers()
                handler.wfile.write(b"data: {not json\n\n\x00\xff<html>oops</html>\n\ndata: [DONE]\n\n")
        except OSError:
            pass


@dataclass
class PhaseFigures:
    name: str
    keystrokes: int = 0
    requests: int = 0
    answered: int = 0
    cancelled: int = 0  # answered with RequestCancelled (-32800), as asked
    errors: int = 0  # any other error
    bursts: int = 0
    latest_served: int = 0
    backend_calls: int = 0
    last_answer_ms: list[float] = field(default_factory=list)


def _insert(uri: str, version: int, line: int, character: int, text: str) -> dict[str, Any]:
    here = {"line": line, "character": character}
    return {
        "textDocument": {"uri": uri, "version": version},
        "contentChanges": [{"range": {"start": here, "end": here}, "text": text}],
    }


class Typist:
    """Types numbered lines (``TYPED_LINE``) at the end of a function body, tracking the cursor. Every
    ``LINES_PER_BLOCK`` lines the block is deleted (one more didChange, as a user undoing a draft), so the
    document stays the same size and what RSS measures is the server, not a growing file."""

    def __init__(self, client: RawClient, uri: str, text: str) -> None:
        self.client = client
        self.uri = uri
        lines = text.split("\n")
        self.line, self.character = len(lines) - 1, len(lines[-1])
        self.block_start = {"line": self.line, "character": self.character}
        self.version = 1
        self.lines_typed = 0
        self.pending = ""

    def keystroke(self, cancel_previous: int | None) -> int:
        if not self.pending:
            if self.lines_typed and self.lines_typed % LINES_PER_BLOCK == 0:
                self._delete_block()
            self.pending = TYPED_LINE.format(self.lines_typed)
            self.lines_typed += 1
        char, self.pending = self.pending[0], self.pending[1:]
        self.version += 1
        self.client.notify(
            "textDocument/didChange", _insert(self.uri, self.version, self.line, self.character, char)
        )
        if char == "\n":
            self.line, self.character = self.line + 1, 0
        else:
            self.character += 1
        if cancel_previous is not None:
            self.client.notify("$/cancelRequest", {"id": cancel_previous})
        request_id = self.client.new_id()
        position = {"line": self.line, "character": self.character}
        self.client.send(
            {
                "jsonrpc": "2.0",
                "id": request_id,
                "method": "textDocument/inlineCompletion",
                "params": {
                    "textDocument": {"uri": self.uri},
                    "position": position,
                    "context": {"triggerKind": 2},
                },
            }
        )
        return request_id

    def _delete_block(self) -> None:
        self.version += 1
        here = {"line": self.line, "character": self.character}
        change = {"range": {"start": self.block_start, "end": here}, "text": ""}
        self.client.notify(
            "textDocument/didChange",
            {"textDocument": {"uri": self.uri, "version": self.version}, "contentChanges": [change]},
        )
        self.line, self.character = self.block_start["line"], self.block_start["character"]


def _phase_at(done: int, total: int) -> str:
    edge = 0.0
    for name, share in SCHEDULE:
        edge += share * total
        if done < edge:
            return name
    return SCHEDULE[-1][0]


def _stats(client: RawClient) -> dict[str, Any]:
    return client.request("roost/debugStats", None, timeout=ANSWER_TIMEOUT_S)["result"]


def _suggested(response: dict[str, Any]) -> bool:
    result = response.get("result")
    items = result.get("items", []) if isinstance(result, dict) else result or []
    return any(item.get("insertText") for item in items)


def run(keystrokes: int, burst: int) -> int:
    workdir = Path(tempfile.mkdtemp(prefix="roost-soak-"))
    root = workdir / "ws"
    shutil.copytree(REPO / "examples", root)
    path = root / "soak_typing.py"
    text = "from shop.shapes import circle_area\n\n\ndef volume(circle, height):\n    "
    path.write_text(text, encoding="utf-8")
    failures: list[str] = []
    phases: dict[str, PhaseFigures] = {}
    with FaultyBackend() as backend, RawClient(root) as client:
        options = fake_backend_options(backend)
        options["backend"] = {**options["backend"], "timeout_s": BACKEND_TIMEOUT_S}  # type: ignore[dict-item]
        client.initialize(options)
        uri = path.resolve().as_uri()
        client.notify(
            "textDocument/didOpen",
            {"textDocument": {"uri": uri, "languageId": "python", "version": 1, "text": text}},
        )
        typist = Typist(client, uri, text)
        started = time.monotonic()
        first_stats = _stats(client)
        rss_after_1000: int | None = None
        max_futures = 0
        done = 0
        burst_number = 0
        while done < keystrokes:
            phase = _phase_at(done, keystrokes)
            backend.mode = phase
            figures = phases.setdefault(phase, PhaseFigures(phase))
            calls_before = sum(backend.calls_by_mode.values())
            cancelling = burst_number % 2 == 0
            ids: list[int] = []
            for _ in range(min(burst, keystrokes - done)):
                ids.append(typist.keystroke(ids[-1] if cancelling and ids else None))
                done += 1
            sent = time.monotonic()
            responses = [client.response(request_id, timeout=ANSWER_TIMEOUT_S) for request_id in ids]
            figures.last_answer_ms.append((time.monotonic() - sent) * 1000)
            figures.keystrokes += len(ids)
            figures.requests += len(ids)
            figures.answered += len(responses)
            codes = [r["error"].get("code") for r in responses if "error" in r]
            figures.cancelled += codes.count(REQUEST_CANCELLED)
            figures.errors += len(codes) - codes.count(REQUEST_CANCELLED)
            figures.bursts += 1
            figures.latest_served += _suggested(responses[-1])
            figures.backend_calls += sum(backend.calls_by_mode.values()) - calls_before
            burst_number += 1
            if rss_after_1000 is None and done >= min(1000, keystrokes):
                rss_after_1000 = _stats(client)["rssBytes"]
            if burst_number % 25 == 0:
                max_futures = max(max_futures, _stats(client)["heldFutures"])
        final = _stats(client)
        seconds = time.monotonic() - started
    shutil.rmtree(workdir, ignore_errors=True)

    _print_table(list(phases.values()))
    rss_ratio = final["rssBytes"] / (rss_after_1000 or final["rssBytes"])
    total_requests = sum(p.requests for p in phases.values())
    total_answered = sum(p.answered for p in phases.values())
    total_calls = sum(p.backend_calls for p in phases.values())
    print()
    print(f"keystrokes {keystrokes} in {seconds:.0f} s; requests {total_requests}, answered {total_answered}")
    print(f"backend calls {total_calls} ({total_calls / max(1, keystrokes):.2f} per keystroke)")
    print(
        f"RSS start {first_stats['rssBytes'] / 2**20:.0f} MiB, after 1,000 keystrokes "
        f"{(rss_after_1000 or 0) / 2**20:.0f} MiB, end {final['rssBytes'] / 2**20:.0f} MiB "
        f"(end / after 1,000 = {rss_ratio:.3f})"
    )
    print(f"held futures: at most {max_futures} during the run, {final['heldFutures']} at the end")
    if total_answered != total_requests:
        failures.append(f"{total_requests - total_answered} requests unanswered")
    for name in ("up", "back up"):
        figures = phases.get(name)
        if figures is not None and figures.latest_served != figures.bursts:
            failures.append(
                f"{name}: latest keystroke served in {figures.latest_served}/{figures.bursts} bursts"
            )
    if total_calls > keystrokes:
        failures.append(f"backend calls {total_calls} > keystrokes {keystrokes}")
    if rss_ratio > 1.1:
        failures.append(f"RSS grew {rss_ratio:.3f}x after the first 1,000 keystrokes")
    if final["heldFutures"] > 2:
        failures.append(f"{final['heldFutures']} futures held at the end")
    for failure in failures:
        print(f"FAIL: {failure}")
    print(json.dumps({"ok": not failures, "keystrokes": keystrokes, "rss_ratio": round(rss_ratio, 3)}))
    return 1 if failures else 0


def _print_table(phases: list[PhaseFigures]) -> None:
    header = (
        f"{'phase':<10} {'keys':>6} {'requests':>8} {'answered':>8} {'cancelled':>9} {'errors':>6} "
        f"{'latest served':>13} {'backend calls':>13} {'burst answer p50/p95 ms':>24}"
    )
    print(header)
    print("-" * len(header))
    for p in phases:
        ordered = sorted(p.last_answer_ms)
        p95 = ordered[min(len(ordered) - 1, int(0.95 * (len(ordered) - 1) + 0.5))] if ordered else 0.0
        p50 = statistics.median(ordered) if ordered else 0.0
        print(
            f"{p.name:<10} {p.keystrokes:>6} {p.requests:>8} {p.answered:>8} {p.cancelled:>9} {p.errors:>6} "
            f"{f'{p.latest_served}/{p.bursts}':>13} {p.backend_calls:>13} {f'{p50:.0f} / {p95:.0f}':>24}"
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--keystrokes", type=int, default=10_000)
    parser.add_argument("--burst", type=int, default=20, help="keystrokes typed without waiting for answers")
    args = parser.parse_args()
    return run(args.keystrokes, args.burst)


if __name__ == "__main__":
    sys.exit(main())
