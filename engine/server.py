"""A small OpenAI-compatible HTTP server in front of any :class:`Backend` (the shared local engine).

``roost engine serve`` loads the model once and serves it here, so several editor windows share one
loaded model and one continuous batch. It binds 127.0.0.1 only: prompts contain source code.

Endpoints: ``GET /health``, ``GET /v1/models``, ``POST /v1/completions`` (raw prompts, e.g. FIM) and
``POST /v1/chat/completions``, both with ``"stream": true`` (Server-Sent Events, ``data: [DONE]``) or
without. A client that disconnects mid-stream cancels its generation. HTTP/1.1 with one request per
connection (``Connection: close``) keeps the server small; the clients we target (our HTTP backend,
OpenAI SDKs, curl) handle that.

Trust: binding 127.0.0.1 is not enough on its own. A web page can reach a localhost port through DNS
rebinding (its own host name re-resolved to 127.0.0.1), and every local user can connect. So every
request must name a local ``Host`` (``localhost``, ``127.0.0.1``, ``[::1]``, any port, or a name given
with ``--allowed-host``; 403 otherwise: a rebinding page's requests carry its own host name), and when
``$ROOST_ENGINE_API_KEY`` is set, every request except ``GET /health`` must carry
``Authorization: Bearer <key>`` (compared in constant time; 401 otherwise).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hmac
import json
import logging
import os
import sys
import time
import uuid
from contextlib import aclosing
from typing import TYPE_CHECKING, Any

from roost.engine.types import (
    Backend,
    ChatMessage,
    EngineError,
    EngineOverloadedError,
    GenerationRequest,
    RequestPriority,
    TextChunk,
)

if TYPE_CHECKING:
    from roost.engine.backends.transformers_backend import TransformersOptions
    from roost.engine.models.default import ProgressCallback

log = logging.getLogger(__name__)

DEFAULT_PORT = 8917

API_KEY_ENV = "ROOST_ENGINE_API_KEY"
"""The environment variable whose value, when set, every request must present as a bearer token."""
LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})
"""``Host`` names always accepted: the loopback ones (a DNS-rebinding page's requests name its own)."""
TRUST_HELP = (
    f"Only requests whose Host header is localhost, 127.0.0.1 or [::1] (any port) or a name given with "
    f"--allowed-host are served (403 otherwise: a defence against DNS rebinding). If the environment "
    f"variable {API_KEY_ENV} is set, every request except GET /health must send "
    f"'Authorization: Bearer <its value>' (401 otherwise); Roost's shared-engine client sends it."
)

MAX_BODY_BYTES = 16 * 2**20
_REASONS = {
    200: "OK",
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    413: "Payload Too Large",
    429: "Too Many Requests",
    500: "Internal Server Error",
    503: "Service Unavailable",
}


class BadRequest(ValueError):
    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


def request_from_openai(body: dict[str, Any], chat: bool) -> GenerationRequest:
    """Map an OpenAI completions/chat body onto a :class:`GenerationRequest` (clear 400s for bad input)."""
    stop = body.get("stop") or []
    if isinstance(stop, str):
        stop = [stop]
    if not isinstance(stop, list) or not all(isinstance(s, str) for s in stop):
        raise BadRequest("`stop` must be a string or a list of strings")
    common: dict[str, Any] = {
        "max_new_tokens": int(body.get("max_tokens") or body.get("max_completion_tokens") or 128),
        "temperature": float(body.get("temperature", 0.0) or 0.0),
        "top_p": float(body.get("top_p", 1.0) or 1.0),
        # Special-token stops match as token ids, anything else as text (see GenerationRequest).
        "stop_token_strings": tuple(stop),
        "seed": body.get("seed"),
        # Roost extension: clients mark long edit generations so inline completions go first.
        "priority": RequestPriority.EDIT
        if body.get("roost_priority") == "edit"
        else RequestPriority.INLINE_COMPLETION,
    }
    try:
        if chat:
            messages = body.get("messages")
            if not isinstance(messages, list) or not messages:
                raise BadRequest("`messages` must be a non-empty list")
            parsed = tuple(
                ChatMessage(role=m["role"], content=_content_text(m.get("content"))) for m in messages
            )
            prefill = ""
            # vLLM's extension (SGLang has it too): continue the trailing assistant message.
            if body.get("continue_final_message"):
                if body.get("add_generation_prompt") is True:
                    raise BadRequest("continue_final_message and add_generation_prompt cannot both be true")
                if parsed[-1].role != "assistant" or len(parsed) < 2:
                    raise BadRequest("continue_final_message needs a trailing assistant message")
                parsed, prefill = parsed[:-1], parsed[-1].content
            return GenerationRequest(messages=parsed, assistant_prefill=prefill, **common)
        prompt = body.get("prompt")
        if isinstance(prompt, list) and len(prompt) == 1 and isinstance(prompt[0], str):
            prompt = prompt[0]
        if isinstance(prompt, list) and prompt and all(isinstance(t, int) for t in prompt):
            return GenerationRequest(prompt_token_ids=tuple(prompt), **common)
        if not isinstance(prompt, str):
            raise BadRequest("`prompt` must be a string (or a list of token ids)")
        if body.get("suffix"):
            raise BadRequest("`suffix` is not supported: send the FIM prompt built in the model's format")
        return GenerationRequest(prompt=prompt, **common)
    except (KeyError, TypeError, ValueError) as error:
        if isinstance(error, BadRequest):
            raise
        raise BadRequest(f"invalid request: {error}") from error


def _content_text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):  # OpenAI content parts: keep the text ones
        return "".join(part.get("text", "") for part in content if isinstance(part, dict))
    raise BadRequest("message `content` must be a string or a list of text parts")


def host_name(host_header: str) -> str:
    """The name part of a ``Host`` header, lower-cased, without its port or IPv6 brackets
    (``"[::1]:8917"`` → ``"::1"``; ``"LocalHost"`` → ``"localhost"``); ``""`` when malformed."""
    host = host_header.strip().lower()
    if host.startswith("["):
        name, bracket, rest = host[1:].partition("]")
        port_ok = rest == "" or (rest.startswith(":") and rest[1:].isdigit())
        return name if bracket and port_ok else ""
    name, colon, port = host.partition(":")
    return name if not colon or port.isdigit() else ""


class EngineServer:
    def __init__(
        self,
        backend: Backend,
        model_name: str,
        api_key: str | None = None,
        allowed_hosts: frozenset[str] = frozenset(),
    ) -> None:
        """``api_key``: when set (non-empty), every request but ``GET /health`` must present it as a bearer
        token. ``allowed_hosts``: ``Host`` names accepted besides :data:`LOCAL_HOSTS`."""
        self.backend = backend
        self.model_name = model_name
        self._api_key = api_key.encode() if api_key else None
        self._allowed_hosts = LOCAL_HOSTS | {name.lower().strip("[]") for name in allowed_hosts}
        self._server: asyncio.base_events.Server | None = None

    async def start(self, port: int, host: str = "127.0.0.1") -> int:
        self._server = await asyncio.start_server(self._handle, host, port)
        return int(self._server.sockets[0].getsockname()[1])

    async def serve_forever(self) -> None:
        assert self._server is not None
        async with self._server:
            await self._server.serve_forever()

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    # --------------------------------------------------------------------------------------- HTTP

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            method, path, body = await self._read_request(reader)
            await self._route(method, path, body, writer)
        except BadRequest as error:
            extra = {"WWW-Authenticate": "Bearer"} if error.status == 401 else {}
            await self._send_json(
                writer, error.status, _error_body(str(error), "invalid_request_error"), extra
            )
        except (ConnectionError, asyncio.IncompleteReadError):
            pass  # the client went away; its generation was cancelled by the stream's aclosing
        except Exception as error:  # never let one request take the server down
            log.exception("engine server request failed")
            with contextlib.suppress(Exception):
                await self._send_json(
                    writer, 500, _error_body(f"{type(error).__name__}: {error}", "server_error")
                )
        finally:
            with contextlib.suppress(Exception):
                writer.close()
                await writer.wait_closed()

    def _check_trust(self, path: str, headers: dict[str, str]) -> None:
        """Refuse a foreign ``Host`` (403) and, with a key configured, a missing or wrong one (401).

        Checked before the body is read or anything is routed."""
        host = host_name(headers.get("host", ""))
        if host not in self._allowed_hosts:
            raise BadRequest(
                f"Host {headers.get('host', '')!r} is not allowed: this engine serves local clients only "
                "(localhost, 127.0.0.1, [::1]; add others with --allowed-host)",
                status=403,
            )
        if self._api_key is None or path == "/health":
            return
        scheme, _, token = headers.get("authorization", "").partition(" ")
        presented = token.strip().encode() if scheme.lower() == "bearer" else b""
        if not hmac.compare_digest(presented, self._api_key):
            raise BadRequest(f"missing or wrong API key: send 'Authorization: Bearer ${API_KEY_ENV}'", 401)

    async def _read_request(self, reader: asyncio.StreamReader) -> tuple[str, str, dict[str, Any]]:
        request_line = (await reader.readline()).decode("latin-1").strip()
        parts = request_line.split()
        if len(parts) != 3:
            raise BadRequest("malformed HTTP request line")
        method, target, _version = parts
        headers: dict[str, str] = {}
        while True:
            line = (await reader.readline()).decode("latin-1")
            if line in ("\r\n", "\n", ""):
                break
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        path = target.split("?", 1)[0]
        self._check_trust(path, headers)  # before the body is read: a refused request sends nothing in
        try:
            length = int(headers.get("content-length", "0") or 0)
        except ValueError:
            raise BadRequest("Content-Length is not a number") from None
        if length > MAX_BODY_BYTES:
            raise BadRequest(f"request body over {MAX_BODY_BYTES} bytes", status=413)
        body: dict[str, Any] = {}
        if length:
            raw = await reader.readexactly(length)
            try:
                body = json.loads(raw)
            except ValueError as error:
                raise BadRequest(f"the body is not JSON: {error}") from error
            if not isinstance(body, dict):
                raise BadRequest("the body must be a JSON object")
        return method.upper(), path, body

    async def _route(
        self, method: str, path: str, body: dict[str, Any], writer: asyncio.StreamWriter
    ) -> None:
        if path == "/health":
            await self._send_json(writer, 200, {"status": "ok", "model": self.model_name})
        elif path == "/v1/models":
            await self._send_json(
                writer,
                200,
                {"object": "list", "data": [{"id": self.model_name, "object": "model", "owned_by": "roost"}]},
            )
        elif path in ("/v1/completions", "/v1/chat/completions"):
            if method != "POST":
                raise BadRequest(f"{path} takes POST", status=405)
            chat = path.endswith("chat/completions")
            request = request_from_openai(body, chat)
            if body.get("stream"):
                await self._stream(writer, request, chat)
            else:
                await self._complete(writer, request, chat)
        else:
            raise BadRequest(f"no route {path}", status=404)

    async def _complete(self, writer: asyncio.StreamWriter, request: GenerationRequest, chat: bool) -> None:
        parts: list[str] = []
        final: TextChunk | None = None
        try:
            async with aclosing(self.backend.generate(request)) as stream:
                async for chunk in stream:
                    parts.append(chunk.text)
                    if chunk.is_final:
                        final = chunk
        except EngineOverloadedError as error:
            raise BadRequest(str(error), status=429) from error
        except EngineError as error:
            raise BadRequest(str(error)) from error
        assert final is not None
        text = "".join(parts)
        choice: dict[str, Any] = {"index": 0, "finish_reason": _finish(final)}
        if chat:
            choice["message"] = {"role": "assistant", "content": text}
        else:
            choice["text"] = text
        timings = final.timings
        usage = {
            "prompt_tokens": timings.prompt_tokens if timings else 0,
            "completion_tokens": timings.generated_tokens if timings else 0,
        }
        usage["total_tokens"] = usage["prompt_tokens"] + usage["completion_tokens"]
        await self._send_json(
            writer, 200, {**self._envelope(request, chat, stream=False), "choices": [choice], "usage": usage}
        )

    async def _stream(self, writer: asyncio.StreamWriter, request: GenerationRequest, chat: bool) -> None:
        stream = self.backend.generate(request)
        started = False
        try:
            async with aclosing(stream):
                async for chunk in stream:
                    if not started:
                        writer.write(_head(200, "text/event-stream", None))
                        started = True
                    await self._send_event(writer, self._stream_body(request, chat, chunk))
            await self._send_raw(writer, b"data: [DONE]\n\n")
        except EngineOverloadedError as error:
            if started:
                raise
            raise BadRequest(str(error), status=429) from error
        except EngineError as error:
            if started:
                raise
            raise BadRequest(str(error)) from error

    def _stream_body(self, request: GenerationRequest, chat: bool, chunk: TextChunk) -> dict[str, Any]:
        choice: dict[str, Any] = {"index": 0, "finish_reason": _finish(chunk) if chunk.is_final else None}
        if chat:
            choice["delta"] = {"content": chunk.text} if chunk.text or not chunk.is_final else {}
        else:
            choice["text"] = chunk.text
        return {**self._envelope(request, chat, stream=True), "choices": [choice]}

    def _envelope(self, request: GenerationRequest, chat: bool, stream: bool) -> dict[str, Any]:
        kind = "chat.completion" if chat else "text_completion"
        return {
            "id": f"roost-{request.request_id or uuid.uuid4().hex}",
            "object": kind + (".chunk" if stream and chat else ""),
            "created": int(time.time()),
            "model": self.model_name,
        }

    async def _send_event(self, writer: asyncio.StreamWriter, payload: dict[str, Any]) -> None:
        await self._send_raw(writer, b"data: " + json.dumps(payload).encode() + b"\n\n")

    async def _send_raw(self, writer: asyncio.StreamWriter, data: bytes) -> None:
        writer.write(data)
        await writer.drain()  # raises ConnectionError when the client left: the stream is closed

    async def _send_json(
        self,
        writer: asyncio.StreamWriter,
        status: int,
        payload: dict[str, Any],
        extra_headers: dict[str, str] | None = None,
    ) -> None:
        body = json.dumps(payload).encode()
        writer.write(_head(status, "application/json", len(body), extra_headers) + body)
        await writer.drain()


def _head(
    status: int, content_type: str, length: int | None, extra_headers: dict[str, str] | None = None
) -> bytes:
    lines = [
        f"HTTP/1.1 {status} {_REASONS.get(status, 'Error')}",
        f"Content-Type: {content_type}",
        "Connection: close",
        *(f"{name}: {value}" for name, value in (extra_headers or {}).items()),
    ]
    if length is not None:
        lines.append(f"Content-Length: {length}")
    else:
        lines.append("Cache-Control: no-cache")
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def _error_body(message: str, kind: str) -> dict[str, Any]:
    return {"error": {"message": message, "type": kind}}


def _finish(chunk: TextChunk) -> str:
    return "length" if chunk.finish_reason == "length" else "stop"


def run_server(
    options: TransformersOptions,
    port: int,
    metrics_port: int | None = None,
    log_progress: bool = True,
    allowed_hosts: frozenset[str] = frozenset(),
    progress: ProgressCallback | None = None,
) -> int:
    """Load the model, then serve it until interrupted. Prints ``listening on http://127.0.0.1:PORT``
    (one line on stdout) once it accepts connections: whoever started the process reads the port from it.
    The API key, if any, comes from ``$ROOST_ENGINE_API_KEY`` (never a flag: a command line is visible to
    every local user)."""
    from roost.engine.backends.transformers_backend import TransformersBackend
    from roost.engine.metrics import start_metrics_server

    def log_line(message: str, _fraction: float | None) -> None:
        if log_progress:
            print(f"roost engine: {message}", file=sys.stderr, flush=True)

    try:
        # ``progress``: the command line's bar; by default one line per step (the shared engine's log).
        backend = TransformersBackend.load(options, progress=progress or log_line)
    except EngineError as error:
        print(f"roost engine: {error}", file=sys.stderr)
        return 1
    if metrics_port is not None:
        start_metrics_server(metrics_port)
        print(f"roost engine: metrics on http://127.0.0.1:{metrics_port}/metrics", file=sys.stderr)

    async def serve() -> None:
        api_key = os.environ.get(API_KEY_ENV) or None
        server = EngineServer(
            backend, model_name=backend.loaded.source, api_key=api_key, allowed_hosts=allowed_hosts
        )
        bound = await server.start(port)
        if api_key:
            print(f"roost engine: requests need the API key from ${API_KEY_ENV}", file=sys.stderr)
        print(f"listening on http://127.0.0.1:{bound}", flush=True)
        try:
            await server.serve_forever()
        finally:
            await server.close()
            await backend.aclose()

    try:
        asyncio.run(serve())
    except OSError as error:
        print(f"roost engine: cannot listen on 127.0.0.1:{port}: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    return 0


def add_server_arguments(parser: argparse.ArgumentParser, default_port: int = DEFAULT_PORT) -> None:
    parser.add_argument(
        "--port",
        type=int,
        default=default_port,
        help=f"port on 127.0.0.1 (default {default_port}; 0 picks one)",
    )
    parser.add_argument(
        "--model",
        default=None,
        help="model directory, .gguf file, cached HF id or packaged name (default: the offline default model)",
    )
    parser.add_argument("--dtype", default="auto", choices=["auto", "bfloat16", "float16", "float32"])
    parser.add_argument("--device", default="auto", help="auto, cpu, cuda, cuda:N")
    parser.add_argument("--quantization", default=None, choices=["int8", "nf4", "fp8"])
    parser.add_argument(
        "--compile",
        nargs="?",
        const="dynamic",
        default=None,
        choices=["dynamic", "static"],
        help="torch.compile: `dynamic` (the default with a bare --compile) compiles the forward pass with "
        "dynamic shapes; `static` decodes in a fixed-shape static KV cache compiled once (CUDA graphs)",
    )
    parser.add_argument("--max-batch-size", type=int, default=8)
    parser.add_argument(
        "--metrics-port", type=int, default=None, help="serve Prometheus metrics on 127.0.0.1:N"
    )
    parser.add_argument(
        "--allowed-host",
        action="append",
        default=[],
        metavar="NAME",
        help="also accept requests whose Host header is NAME (repeatable; e.g. behind a local proxy). "
        "Default: localhost, 127.0.0.1 and [::1] only",
    )
    parser.epilog = TRUST_HELP


def local_engine_problem() -> str | None:
    """Why this server cannot run (``roost[local]`` not installed), or None: checked before the options
    are built, since building them imports torch."""
    from roost.engine.backends import local_engine_missing_message, missing_local_engine_modules

    missing = missing_local_engine_modules()
    return local_engine_missing_message(missing) if missing else None


def options_from_arguments(args: argparse.Namespace) -> TransformersOptions:
    from roost.engine.backends.transformers_backend import TransformersOptions
    from roost.engine.scheduler import SchedulerOptions

    return TransformersOptions(
        model=args.model,
        dtype=args.dtype,
        device=args.device,
        quantization=args.quantization,
        compile={"dynamic": True, "static": "static"}.get(args.compile or "", False),  # type: ignore[arg-type]
        scheduler=SchedulerOptions(max_batch_size=args.max_batch_size),
    )


def main(argv: list[str] | None = None) -> int:
    """``python -m roost.engine.server``: what the shared-engine starter runs (same flags as ``roost engine serve``)."""
    parser = argparse.ArgumentParser(
        prog="python -m roost.engine.server", description=__doc__.splitlines()[0]
    )
    add_server_arguments(parser)
    args = parser.parse_args(argv)
    problem = local_engine_problem()
    if problem:
        print(f"roost engine: {problem}", file=sys.stderr)
        return 1
    return run_server(
        options_from_arguments(args),
        args.port,
        args.metrics_port,
        allowed_hosts=frozenset(args.allowed_host),
    )


if __name__ == "__main__":
    sys.exit(main())
