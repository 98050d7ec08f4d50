"""Records what a real llama.cpp server (``python -m llama_cpp.server`` of ``llama-cpp-python[server]``)
sends back to the requests Roost makes, byte for byte, into the fixture the fake server replays
(``fixtures/llamacpp_server.json``; ``fake_openai_server.llamacpp_reply``).

Not a test: CI cannot build llama.cpp in time, so the exchanges are captured once by hand against a running
server and committed. The request bodies are the ones Roost's backend builds (``server = "llama.cpp"``) from
the bundled model's real FIM and chat prompts. The client is a raw socket, so the status line, the headers
and every chunk of the chunked body are kept as they came, SSE separators and keep-alive comments included::

    python tests/engine_http/llamacpp_capture.py http://127.0.0.1:8089 tests/engine_http/fixtures/llamacpp_server.json
"""

from __future__ import annotations

import dataclasses
import json
import socket
import sys
import threading
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from roost.engine.backends.openai_http import OpenAIHTTPBackend, OpenAIHTTPOptions
from roost.engine.prompts import PromptInput, make_format
from roost.engine.types import ChatMessage, GenerationRequest

# Headers whose values change run to run (or say nothing about the wire format) are not kept.
KEPT_HEADERS = ("content-type", "content-length", "transfer-encoding", "cache-control", "x-accel-buffering")
MODEL_NAME = "qwen2.5-coder-0.5b-instruct"

FIM_INPUT = PromptInput(
    "shop/geometry.py",
    "python",
    "import math\n\n\ndef circle_area(radius: float) -> float:\n    return ",
    "\n\n\ndef square_area(side: float) -> float:\n    return side * side\n",
)
MULTI_INPUT = PromptInput(
    "shop/fib.py",
    "python",
    "def fibonacci(n: int) -> int:\n    ",
    "\n\n\nprint(fibonacci(10))\n",
)


@dataclasses.dataclass
class Exchange:
    name: str
    method: str
    path: str
    body: dict[str, Any] | None
    status: int = 0
    reason: str = ""
    headers: dict[str, str] = dataclasses.field(default_factory=dict)
    chunks: list[str] = dataclasses.field(default_factory=list)  # chunked bodies, chunk by chunk
    body_text: str | None = None  # bodies sent with a Content-Length
    ended: str = "complete"  # or "connection closed before the last chunk"


def roost_body(request: GenerationRequest) -> tuple[str, dict[str, Any]]:
    backend = OpenAIHTTPBackend(OpenAIHTTPOptions(model=MODEL_NAME, server_kind="llama.cpp"))
    return backend._endpoint_and_body(request)  # noqa: SLF001 - the exact body Roost sends


def fim_request(prompt_input: PromptInput, max_new_tokens: int, stops: tuple[str, ...]) -> GenerationRequest:
    request = make_format("qwen2.5-coder").render(prompt_input).to_request(max_new_tokens=max_new_tokens)
    return dataclasses.replace(request, temperature=0.0, stop_sequences=request.stop_sequences + stops)


def chat_request() -> GenerationRequest:
    return GenerationRequest(
        messages=(
            ChatMessage("system", "You edit code. Answer with the whole edited code in one fenced block."),
            ChatMessage("user", "Add a docstring.\n\n```python\ndef area(r):\n    return 3.14 * r * r\n```"),
        ),
        max_new_tokens=48,
        temperature=0.0,
        stop_token_strings=("<|im_end|>", "<|endoftext|>"),
    )


def send(base_url: str, exchange: Exchange, *, on_chunk: Any = None) -> Exchange:
    parts = urlsplit(base_url)
    payload = b"" if exchange.body is None else json.dumps(exchange.body).encode()
    head = (
        f"{exchange.method} {exchange.path} HTTP/1.1\r\nHost: {parts.netloc}\r\nAccept: text/event-stream\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(payload)}\r\nConnection: close\r\n\r\n"
    )
    with socket.create_connection((parts.hostname, parts.port or 80), timeout=300) as sock:
        sock.sendall(head.encode() + payload)
        reader = sock.makefile("rb")
        status_line = reader.readline().decode("latin-1").rstrip("\r\n")
        _version, status, reason = status_line.split(" ", 2)
        exchange.status, exchange.reason = int(status), reason
        while (line := reader.readline().decode("latin-1").rstrip("\r\n")) != "":
            name, _, value = line.partition(":")
            if name.strip().lower() in KEPT_HEADERS:
                exchange.headers[name.strip().lower()] = value.strip()
        if exchange.headers.get("transfer-encoding") == "chunked":
            while True:
                size_line = reader.readline()
                if not size_line:
                    exchange.ended = "connection closed before the last chunk"
                    break
                size = int(size_line.strip() or b"0", 16)
                if size == 0:
                    reader.readline()
                    break
                data = reader.read(size)
                reader.readline()
                exchange.chunks.append(data.decode("utf-8"))
                if on_chunk is not None:
                    on_chunk(len(exchange.chunks))
        else:
            exchange.body_text = reader.read(int(exchange.headers.get("content-length", "0"))).decode()
    return exchange


def completion(name: str, request: GenerationRequest, **body_changes: Any) -> Exchange:
    path, body = roost_body(request)
    return Exchange(name, "POST", path, {**body, **body_changes})


def interrupted_pair(base_url: str) -> list[Exchange]:
    """Two requests at once (two editors on one server): the second arrives while the first streams."""
    first = completion("interrupted_by_another_request", fim_request(MULTI_INPUT, 96, ()))
    second = completion("the_interrupting_request", fim_request(FIM_INPUT, 24, ("\n",)))
    streaming = threading.Event()
    thread = threading.Thread(
        target=send, args=(base_url, first), kwargs={"on_chunk": lambda n: n >= 3 and streaming.set()}
    )
    thread.start()
    streaming.wait(120)
    send(base_url, second)
    thread.join(300)
    return [first, second]


def capture(base_url: str) -> dict[str, Any]:
    fim = fim_request(FIM_INPUT, 24, ("\n",))
    too_long = dataclasses.replace(
        fim, prompt="# filler line of a very long file\n" * 400 + (fim.prompt or "")
    )
    exchanges = [
        completion("fim_single_line", fim),
        completion("fim_multi_line", fim_request(MULTI_INPUT, 64, ("\n\n\n",))),
        completion("fim_length", fim_request(MULTI_INPUT, 6, ())),
        completion("wrong_model_name", fim, model="no-such-model"),
        completion("context_overflow", too_long),
        completion("chat", chat_request()),
        Exchange(
            "bad_request", "POST", "/v1/completions", {"prompt": "x", "max_tokens": "many", "stream": True}
        ),
        Exchange("models", "GET", "/v1/models", None),
        Exchange("health", "GET", "/health", None),
    ]
    recorded = []
    for exchange in exchanges:
        started = time.monotonic()
        recorded.append(send(base_url, exchange))
        print(f"{exchange.name}: {exchange.status} in {time.monotonic() - started:.1f} s", file=sys.stderr)
    recorded.extend(interrupted_pair(base_url))
    return {"exchanges": {e.name: dataclasses.asdict(e) for e in recorded}}


def main() -> None:
    base_url, out = sys.argv[1], Path(sys.argv[2])
    data = {"server": sys.argv[3] if len(sys.argv) > 3 else "", **capture(base_url)}
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
