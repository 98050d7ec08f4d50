"""The ASGI application of ``roost engine serve`` (Starlette), served by uvicorn from :mod:`roost.engine.server`.

Kept apart from ``server.py`` because Starlette comes with the ``local`` extra: the light install imports
``server.py`` (its constants and argument parser) but never this module.

Routes: ``GET /health`` (liveness: the process answers), ``GET /ready`` (readiness: the model is loaded and
the server is not draining for shutdown; 503 otherwise), ``GET /metrics`` (Prometheus text of
:data:`~roost.engine.metrics.ENGINE_REGISTRY`, GPU figures read through NVML at scrape time), ``GET
/v1/models``, ``POST /v1/completions`` and ``POST /v1/chat/completions`` (OpenAI wire format; ``"stream":
true`` is Server-Sent Events ending in ``data: [DONE]``). A client that disconnects mid-stream cancels its
generation: the stream's generator is closed, which closes the backend's.

Trust is an ASGI middleware in front of every route, checked on the request head before any body byte is
read: a ``Host`` outside the allowed names is 403 (DNS rebinding), and with an API key every route but the
probes needs ``Authorization: Bearer <key>`` (401, compared in constant time).
"""

from __future__ import annotations

import hmac
import json
import logging
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import aclosing, contextmanager
from dataclasses import dataclass
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.applications import Starlette
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from roost.engine.metrics import ENGINE_REGISTRY
from roost.engine.server import (
    ANY_HOST,
    API_KEY_ENV,
    MAX_BODY_BYTES,
    BadRequest,
    LoadSettings,
    host_name,
    request_from_openai,
)
from roost.engine.types import Backend, EngineError, EngineOverloadedError, GenerationRequest, TextChunk

log = logging.getLogger(__name__)

PROBE_PATHS = frozenset({"/health", "/ready"})
"""Answered without the API key: orchestrators' probes carry no secret. Without the key they reveal only
the state (the model's name and load settings are shown to callers that may use the model anyway: no key
configured, or the right key presented)."""

AUTHORIZED_SCOPE_KEY = "roost.authorized"


@dataclass
class ServingState:
    """What the probes report. ``draining`` turns true when shutdown starts, so a load balancer stops
    sending new requests while the running ones finish."""

    model_name: str
    # What the model was loaded with (server.load_settings); None when the embedder did not say.
    load_settings: LoadSettings | None = None
    loaded: bool = True
    draining: bool = False


def build_app(
    backend: Backend,
    state: ServingState,
    api_key: bytes | None,
    allowed_hosts: frozenset[str],
) -> ASGIApp:
    routes = _Routes(backend, state)
    app = Starlette(
        routes=[
            Route("/health", routes.health, methods=["GET", "HEAD"]),
            Route("/ready", routes.ready, methods=["GET", "HEAD"]),
            Route("/metrics", routes.metrics, methods=["GET"]),
            Route("/v1/models", routes.models, methods=["GET"]),
            Route("/v1/completions", routes.completions, methods=["POST"]),
            Route("/v1/chat/completions", routes.chat_completions, methods=["POST"]),
        ],
        exception_handlers={
            BadRequest: _bad_request,
            404: _not_found,
            405: _not_allowed,
            Exception: _server_error,
        },
    )
    return TrustMiddleware(app, api_key, allowed_hosts)


class TrustMiddleware:
    """Refuse a foreign ``Host`` (403) and, with a key, a missing or wrong bearer token (401), from the
    request head alone: a refused request's body is never read and nothing reaches the model."""

    def __init__(self, app: ASGIApp, api_key: bytes | None, allowed_hosts: frozenset[str]) -> None:
        self._app = app
        self._api_key = api_key
        self._allowed_hosts = allowed_hosts

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        headers = {
            name.decode("latin-1").lower(): value.decode("latin-1") for name, value in scope["headers"]
        }
        # The key is checked once per request: it decides the refusal and what the probes may show.
        authorized = self._api_key is None or self._key_presented(headers)
        scope[AUTHORIZED_SCOPE_KEY] = authorized
        refusal = self._refusal(scope["path"], headers, authorized)
        if refusal is None:
            await self._app(scope, receive, send)
            return
        await _error_response(refusal)(scope, receive, send)

    def _refusal(self, path: str, headers: dict[str, str], authorized: bool) -> BadRequest | None:
        host = headers.get("host", "")
        if ANY_HOST not in self._allowed_hosts and host_name(host) not in self._allowed_hosts:
            return BadRequest(
                f"Host {host!r} is not allowed: this engine serves local clients only "
                "(localhost, 127.0.0.1, [::1]; add others with --allowed-host)",
                status=403,
            )
        if authorized or path in PROBE_PATHS:
            return None
        return BadRequest(f"missing or wrong API key: send 'Authorization: Bearer ${API_KEY_ENV}'", 401)

    def _key_presented(self, headers: dict[str, str]) -> bool:
        if self._api_key is None:
            return False
        scheme, _, token = headers.get("authorization", "").partition(" ")
        presented = token.strip().encode() if scheme.lower() == "bearer" else b""
        return hmac.compare_digest(presented, self._api_key)


class _Routes:
    def __init__(self, backend: Backend, state: ServingState) -> None:
        self._backend = backend
        self._state = state

    def _probe_answer(self, request: Request, status: str) -> dict[str, Any]:
        if not request.scope.get(AUTHORIZED_SCOPE_KEY):
            return {"status": status}
        answer: dict[str, Any] = {"status": status, "model": self._state.model_name}
        if self._state.load_settings is not None:
            # A shared-engine client compares them with its configuration before reusing this engine.
            answer["load"] = self._state.load_settings
        return answer

    async def health(self, request: Request) -> Response:
        return JSONResponse(self._probe_answer(request, "ok"))

    async def ready(self, request: Request) -> Response:
        if self._state.draining:
            return JSONResponse({"status": "draining"}, status_code=503)
        if not self._state.loaded:
            return JSONResponse({"status": "loading"}, status_code=503)
        return JSONResponse(self._probe_answer(request, "ready"))

    async def metrics(self, _request: Request) -> Response:
        from roost.engine.metrics import update_gpu_metrics

        update_gpu_metrics()
        return Response(generate_latest(ENGINE_REGISTRY), media_type=CONTENT_TYPE_LATEST)

    async def models(self, _request: Request) -> Response:
        model = {"id": self._state.model_name, "object": "model", "owned_by": "roost"}
        return JSONResponse({"object": "list", "data": [model]})

    async def completions(self, request: Request) -> Response:
        return await self._generate(request, chat=False)

    async def chat_completions(self, request: Request) -> Response:
        return await self._generate(request, chat=True)

    async def _generate(self, request: Request, chat: bool) -> Response:
        body = await _json_body(request)
        generation = request_from_openai(body, chat)
        envelope = _Envelope(generation, chat, self._state.model_name)
        if body.get("stream"):
            return await self._stream(generation, envelope)
        return await self._complete(generation, envelope)

    async def _complete(self, generation: GenerationRequest, envelope: _Envelope) -> Response:
        parts: list[str] = []
        final: TextChunk | None = None
        with _engine_errors_as_http():
            async with aclosing(self._backend.generate(generation)) as stream:
                async for chunk in stream:
                    parts.append(chunk.text)
                    if chunk.is_final:
                        final = chunk
        if final is None:
            raise EngineError("the engine ended the generation without a final chunk")
        return JSONResponse(envelope.complete("".join(parts), final))

    async def _stream(self, generation: GenerationRequest, envelope: _Envelope) -> Response:
        stream = self._backend.generate(generation)
        # The first chunk is awaited before the 200 is sent, so an overloaded or failing engine is still a
        # 429/400 the client can act on, not a broken stream.
        with _engine_errors_as_http():
            try:
                first = await anext(stream)
            except BaseException:
                await stream.aclose()
                raise
        return StreamingResponse(
            _sse_events(stream, first, envelope),
            media_type="text/event-stream",
            headers={"Cache-Control": "no-cache"},
        )


async def _sse_events(
    stream: AsyncIterator[TextChunk], first: TextChunk, envelope: _Envelope
) -> AsyncIterator[bytes]:
    """The SSE body. When the client leaves, Starlette cancels or closes this generator, and ``aclosing``
    closes the backend's generator, which cancels the generation in the scheduler."""
    async with aclosing(stream):  # type: ignore[type-var]
        yield _event(envelope.chunk(first))
        async for chunk in stream:
            yield _event(envelope.chunk(chunk))
    yield b"data: [DONE]\n\n"


def _event(payload: dict[str, Any]) -> bytes:
    return b"data: " + json.dumps(payload).encode() + b"\n\n"


@dataclass(frozen=True)
class _Envelope:
    """The OpenAI response shapes for one request."""

    request: GenerationRequest
    chat: bool
    model_name: str

    def _head(self, stream: bool) -> dict[str, Any]:
        kind = "chat.completion" if self.chat else "text_completion"
        return {
            "id": f"roost-{self.request.request_id or uuid.uuid4().hex}",
            "object": kind + (".chunk" if stream and self.chat else ""),
            "created": int(time.time()),
            "model": self.model_name,
        }

    def chunk(self, chunk: TextChunk) -> dict[str, Any]:
        choice: dict[str, Any] = {"index": 0, "finish_reason": _finish(chunk) if chunk.is_final else None}
        if self.chat:
            choice["delta"] = {"content": chunk.text} if chunk.text or not chunk.is_final else {}
        else:
            choice["text"] = chunk.text
        return {**self._head(stream=True), "choices": [choice]}

    def complete(self, text: str, final: TextChunk) -> dict[str, Any]:
        choice: dict[str, Any] = {"index": 0, "finish_reason": _finish(final)}
        if self.chat:
            choice["message"] = {"role": "assistant", "content": text}
        else:
            choice["text"] = text
        timings = final.timings
        prompt_tokens = timings.prompt_tokens if timings else 0
        completion_tokens = timings.generated_tokens if timings else 0
        usage = {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
        }
        return {**self._head(stream=False), "choices": [choice], "usage": usage}


def _finish(chunk: TextChunk) -> str:
    return "length" if chunk.finish_reason == "length" else "stop"


@contextmanager
def _engine_errors_as_http() -> Iterator[None]:
    """An overloaded engine is 429 (the client may retry later); any other engine error is 400."""
    try:
        yield
    except EngineOverloadedError as error:
        raise BadRequest(str(error), status=429) from error
    except EngineError as error:
        raise BadRequest(str(error)) from error


async def _json_body(request: Request) -> dict[str, Any]:
    """The request's JSON object, read up to :data:`MAX_BODY_BYTES` (413 past it, before reading on)."""
    declared = request.headers.get("content-length", "0") or "0"
    if not declared.isdigit():
        raise BadRequest("Content-Length is not a number")
    if int(declared) > MAX_BODY_BYTES:
        raise BadRequest(f"request body over {MAX_BODY_BYTES} bytes", status=413)
    raw = bytearray()
    try:
        async for part in request.stream():
            raw += part
            if len(raw) > MAX_BODY_BYTES:
                raise BadRequest(f"request body over {MAX_BODY_BYTES} bytes", status=413)
    except ClientDisconnect:
        raise BadRequest("the client went away before sending its body") from None
    if not raw:
        return {}
    try:
        body = json.loads(raw)
    except ValueError as error:
        raise BadRequest(f"the body is not JSON: {error}") from error
    if not isinstance(body, dict):
        raise BadRequest("the body must be a JSON object")
    return body


def _error_response(error: BadRequest) -> Response:
    headers = {"WWW-Authenticate": "Bearer"} if error.status == 401 else None
    kind = "invalid_request_error" if error.status < 500 else "server_error"
    return JSONResponse(
        {"error": {"message": str(error), "type": kind}}, status_code=error.status, headers=headers
    )


async def _bad_request(_request: Request, error: Exception) -> Response:
    assert isinstance(error, BadRequest)
    return _error_response(error)


async def _not_found(request: Request, _error: Exception) -> Response:
    return _error_response(BadRequest(f"no route {request.url.path}", status=404))


async def _not_allowed(request: Request, _error: Exception) -> Response:
    return _error_response(BadRequest(f"{request.url.path} does not take {request.method}", status=405))


async def _server_error(_request: Request, error: Exception) -> Response:
    # Never let one request take the server down; the traceback goes to the log, the message to the client.
    log.error("engine server request failed", exc_info=error)
    return _error_response(BadRequest(f"{type(error).__name__}: {error}", status=500))
