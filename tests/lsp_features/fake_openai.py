"""A test double: a tiny OpenAI-compatible HTTP server (``/v1/completions`` and ``/v1/chat/completions``,
streamed as server-sent events, the real wire format) whose answers are scripted by the test.

``FakeOpenAI(rules=[(needle, answer), ...])``: the first rule whose needle occurs in the prompt (or the
last user message) answers; the answer is streamed in small pieces, ``delay_s`` apart. An answer may hold
at ``HOLD`` marks: the stream pauses there (``held`` is set) until the test sets ``release``, or ends when the
client hangs up meanwhile (counted in ``hung_up``: the client cancelled the generation).
"""

from __future__ import annotations

import json
import select
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

HOLD = "\x00"  # in a scripted answer: pause the stream here until ``release`` is set


class FakeOpenAI:
    def __init__(self, rules: list[tuple[str, str]] | None = None, delay_s: float = 0.0) -> None:
        self.rules = list(rules or [])
        self.delay_s = delay_s
        self.requests: list[dict[str, Any]] = []
        self.held = threading.Event()  # a stream reached a HOLD mark
        self.release = threading.Event()  # held streams go on
        self.hung_up = 0  # held streams whose client closed the connection
        self.paths: list[str] = []  # each request's path (the fake answers any: real servers 404)
        self._lock = threading.Lock()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:  # keep test output clean
                pass

            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length) or b"{}")
                with fake._lock:
                    fake.requests.append(body)
                    fake.paths.append(self.path)
                answer = fake.answer_for(body)
                chat = self.path.endswith("/chat/completions")
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.end_headers()
                try:
                    for number, segment in enumerate(answer.split(HOLD)):
                        if number and not self._wait_for_release():
                            with fake._lock:
                                fake.hung_up += 1
                            return
                        for piece in _pieces(segment):
                            if fake.delay_s:
                                time.sleep(fake.delay_s)
                            choice = (
                                {"index": 0, "delta": {"content": piece}}
                                if chat
                                else {"index": 0, "text": piece}
                            )
                            self.wfile.write(f"data: {json.dumps({'choices': [choice]})}\n\n".encode())
                            self.wfile.flush()
                    final = {"index": 0, "finish_reason": "stop"}
                    final.update({"delta": {}} if chat else {"text": ""})
                    self.wfile.write(f"data: {json.dumps({'choices': [final]})}\n\ndata: [DONE]\n\n".encode())
                    self.wfile.flush()
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client cancelled

            def _wait_for_release(self) -> bool:
                """At a HOLD mark: True once released, False when the client hangs up first."""
                fake.held.set()
                while not fake.release.wait(0.02):
                    readable, _, _ = select.select([self.connection], [], [], 0)
                    if readable and not self.connection.recv(1, socket.MSG_PEEK):
                        return False  # end of stream: the client closed the connection
                return True

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/v1"

    def answer_for(self, body: dict[str, Any]) -> str:
        prompt = body.get("prompt")
        if prompt is None:
            messages = body.get("messages") or [{}]
            prompt = "\n".join(str(m.get("content", "")) for m in messages)
        for needle, answer in self.rules:
            if needle in prompt:
                return answer
        return ""

    def completion_requests(self) -> list[dict[str, Any]]:
        with self._lock:
            return list(self.requests)

    def __enter__(self) -> FakeOpenAI:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


def _pieces(text: str, size: int = 4) -> list[str]:
    return [text[i : i + size] for i in range(0, len(text), size)]


def fake_backend_options(fake: FakeOpenAI, **extra: object) -> dict[str, object]:
    options: dict[str, object] = {
        "backend": {"kind": "openai", "endpoint": fake.endpoint, "timeout_s": 10.0},
        "model": {"name": "qwen2.5-coder-0.5b", "family": "qwen2.5-coder"},
        "completion": {"debounce_ms": 0},
    }
    options.update(extra)
    return options
