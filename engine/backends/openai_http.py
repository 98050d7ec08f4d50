"""A backend that talks to an existing serving engine over the OpenAI-compatible HTTP API.

vLLM, TGI, SGLang, llama.cpp's server, Ollama and ``roost engine serve`` all speak it. Raw prompts (FIM
prompts included) go to ``/v1/completions`` (with the OpenAI ``suffix`` field when the request has one),
chats to ``/v1/chat/completions``; answers are streamed as server-sent events.

Failure policy, because the LSP sends a request per keystroke:

* connection errors are retried a bounded number of times with exponential backoff, and only before
  anything was sent back; after the last failure the server is considered down for a short cool-down
  during which requests fail at once (no retry storm against a dead server);
* nothing is retried once streaming started: an error mid-stream ends the stream with a final chunk
  ``finish_reason="error"``, and so does a stream that ends (``[DONE]`` included) before any choice named
  its ``finish_reason``: its text is a cut-off answer (llama.cpp's server ends a request interrupted by
  another one that way), never a whole one;
* an HTTP error status raises :class:`BackendError` with the server's own message.

Every failure says what really happened, typed so the LSP can show it (:class:`BackendError`'s
``kind`` and ``reason``; an error chunk's ``error_kind``): an HTTP status, a timeout, a malformed
stream, a refused or broken connection, an error event from the server.

Stop strings are sent to the server *and* applied here, so a server that ignores ``stop`` (or returns
the stop text) still yields output that ends before the stop string.

A chat request's ``assistant_prefill`` (chat infill's opening code fence) goes to servers that can
continue an assistant turn — vLLM's ``continue_final_message`` extension, which SGLang and
``roost engine serve`` share — as a trailing assistant message with ``"continue_final_message": true,
"add_generation_prompt": false``. Other servers (``server_kind="generic"``) get the chat without it: a
trailing assistant message would be answered in a *new* turn there, and the answer parser handles an
answer that opens its own fence.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
import time
from collections.abc import AsyncGenerator, AsyncIterator
from dataclasses import dataclass, field
from typing import Any, Literal

import httpx2 as httpx

from roost.engine.types import (
    PRIORITY_NAMES,
    BackendError,
    BackendFailureKind,
    BackendTimeoutError,
    BackendUnavailableError,
    EngineError,
    FinishReason,
    GenerationRequest,
    GenerationTimings,
    RequestPriority,
    TextChunk,
    UnsupportedRequestError,
)

ServerKind = Literal["generic", "vllm", "sglang", "roost", "tgi", "llama.cpp", "ollama", "openai"]
# Servers whose /v1/chat/completions continue a trailing assistant message when asked to.
CONTINUES_FINAL_MESSAGE: frozenset[str] = frozenset({"vllm", "sglang", "roost"})


@dataclass(frozen=True)
class OpenAIHTTPOptions:
    base_url: str = "http://127.0.0.1:8000"
    # The served model name; servers that serve one model accept any name, vLLM checks it.
    model: str = "default"
    api_key: str | None = None
    connect_timeout_s: float = 3.0
    # Longest silence between two reads, the wait for the first token included (prefill of a long
    # prompt on a busy server).
    read_timeout_s: float = 60.0
    # Whole-request cap (None: unbounded); a stream past it ends with finish_reason="error".
    total_timeout_s: float | None = None
    max_connect_retries: int = 2
    retry_backoff_s: float = 0.2
    # After the retries failed, requests fail fast for this long instead of reconnecting.
    unavailable_cooldown_s: float = 2.0
    # Ask the server for token usage in the last chunk (OpenAI ``stream_options``); some older
    # servers reject unknown fields, so it is off by default.
    request_usage: bool = False
    # OpenAI's own API accepts at most 4 stop strings; local engines take any number. Stops beyond the
    # limit are still applied here, on the streamed text.
    max_server_stop_strings: int | None = None
    extra_body: dict[str, Any] = field(default_factory=dict)
    # Which server this is, for the extensions only some accept (continue_final_message).
    server_kind: ServerKind = "generic"

    def __post_init__(self) -> None:
        if not self.base_url.startswith(("http://", "https://")):
            raise ValueError(f"base_url must start with http:// or https://, got {self.base_url!r}")
        if self.max_connect_retries < 0:
            raise ValueError("max_connect_retries must be >= 0")


def base_url_from_endpoint(endpoint: str) -> str:
    """The server's base URL from a configured endpoint, as users write it: with or without ``/v1`` and
    trailing slashes (``http://host:8080/v1/`` is ``http://host:8080``; the request paths add ``/v1/…``)."""
    return endpoint.rstrip("/").removesuffix("/v1").rstrip("/")


class _StopMatcher:
    """Cuts a stream at the first stop string, holding back text that could be the start of one."""

    def __init__(self, stops: tuple[str, ...]) -> None:
        self.stops = tuple(s for s in stops if s)
        self.pending = ""
        self.stopped = False

    def feed(self, text: str) -> str:
        """Text that is safe to emit now."""
        if self.stopped:
            return ""
        self.pending += text
        cut = min((i for i in (self.pending.find(s) for s in self.stops) if i >= 0), default=-1)
        if cut >= 0:
            self.stopped = True
            out, self.pending = self.pending[:cut], ""
            return out
        hold = 0
        for stop in self.stops:
            for size in range(min(len(stop) - 1, len(self.pending)), 0, -1):
                if self.pending.endswith(stop[:size]):
                    hold = max(hold, size)
                    break
        out = self.pending[: len(self.pending) - hold]
        self.pending = self.pending[len(out) :]
        return out

    def flush(self) -> str:
        out, self.pending = ("" if self.stopped else self.pending), ""
        return out


def _server_message(body: bytes) -> str:
    """The human part of an error response (OpenAI: ``{"error": {"message": …}}``; others vary)."""
    text = body.decode("utf-8", "replace").strip()
    try:
        data = json.loads(text)
    except ValueError:
        return text[:500] or "(empty body)"
    if isinstance(data, dict):
        error = data.get("error", data)
        if isinstance(error, dict):
            return str(error.get("message") or error.get("detail") or error)[:500]
        if isinstance(data.get("message"), str):
            return data["message"][:500]
        return str(error)[:500]
    return str(data)[:500]


def estimated_token_count(text: str) -> int:
    """What the backend counts without the served model's tokenizer: one token per 3 characters, which
    over-counts code slightly (safe for budgets). ``roost context`` counts with it too."""
    return math.ceil(len(text) / 3)


class OpenAIHTTPBackend:
    """:class:`~roost.engine.types.Backend` over an OpenAI-compatible server."""

    def __init__(self, options: OpenAIHTTPOptions | None = None, *, token_counter: Any | None = None) -> None:
        self.options = options or OpenAIHTTPOptions()
        self._counter = token_counter
        headers = {"Accept": "text/event-stream"}
        if self.options.api_key:
            headers["Authorization"] = f"Bearer {self.options.api_key}"
        self._client = httpx.AsyncClient(
            base_url=self.options.base_url.rstrip("/"),
            headers=headers,
            timeout=httpx.Timeout(
                connect=self.options.connect_timeout_s,
                read=self.options.read_timeout_s,
                write=self.options.read_timeout_s,
                pool=self.options.connect_timeout_s,
            ),
            trust_env=False,  # a local engine must not be routed through a proxy from the environment
        )
        self._down_until = 0.0
        self._closed = False

    @property
    def name(self) -> str:
        return f"openai:{self.options.base_url}"

    @property
    def http_client(self) -> httpx.AsyncClient:
        """The client requests go through (base URL, auth header, timeouts, no proxy from the environment):
        for checks that must see what completions see (``roost doctor --online``). Closed by :meth:`aclose`."""
        return self._client

    @property
    def continues_assistant_prefill(self) -> bool:
        return self.options.server_kind in CONTINUES_FINAL_MESSAGE

    @property
    def speaks_roost(self) -> bool:
        """Roost's own engine server (``roost engine serve``, the shared engine) takes the ``roost_*``
        fields: priorities, prefetches and forced starts go to its scheduler as they would in process."""
        return self.options.server_kind == "roost"

    @property
    def heals_forced_start(self) -> bool:
        """Whether a forced start is written by the model in its own tokens (token healing): only our
        own server constrains tokens; other servers get it appended to the prompt."""
        return self.speaks_roost

    def _stop_strings(self, request: GenerationRequest) -> tuple[str, ...]:
        """What ends the answer: the request's stops, plus the prefill's when it is sent. When a prefill
        cannot be sent, the text stops (meant for the code after the prefilled fence, like an editor's
        single-line ``"\n"``) would cut the model's own preamble or fence line: only the special-token
        stops apply, and the parser and post-processing cut the answer instead."""
        if request.messages is None or not request.assistant_prefill:
            return request.all_stop_strings
        if self.continues_assistant_prefill:
            return tuple(dict.fromkeys(request.prefill_stop_sequences + request.all_stop_strings))
        return tuple(dict.fromkeys(request.stop_token_strings))

    def count_tokens(self, text: str) -> int:
        """With a token counter (the served model's tokenizer, when the configuration names it): exact.
        Otherwise an estimate of one token per 3 characters, which over-counts code slightly (safe for
        budgets)."""
        if self._counter is not None:
            return self._counter.count(text)
        return estimated_token_count(text)

    async def aclose(self) -> None:
        if not self._closed:
            self._closed = True
            await self._client.aclose()

    # ----------------------------------------------------------------------------------- request

    def _endpoint_and_body(self, request: GenerationRequest) -> tuple[str, dict[str, Any]]:
        if request.prompt_token_ids is not None:
            raise UnsupportedRequestError(
                "the OpenAI-compatible HTTP backend sends text, not token ids; build the prompt as text "
                "(Prompt.to_request(transport='text'))"
            )
        body: dict[str, Any] = {
            "model": self.options.model,
            "max_tokens": request.max_new_tokens,
            "temperature": request.temperature,
            "top_p": request.top_p,
            "stream": True,
        }
        stops = self._stop_strings(request)
        if stops and self.options.max_server_stop_strings != 0:
            body["stop"] = list(stops[: self.options.max_server_stop_strings])
        if request.seed is not None:
            body["seed"] = request.seed
        if self.options.request_usage:
            body["stream_options"] = {"include_usage": True}
        if request.messages is not None:
            body["messages"] = [{"role": m.role, "content": m.content} for m in request.messages]
            if request.assistant_prefill and self.continues_assistant_prefill:
                body["messages"].append({"role": "assistant", "content": request.assistant_prefill})
                body["continue_final_message"] = True
                body["add_generation_prompt"] = False
            endpoint = "/v1/chat/completions"
        else:
            if self.speaks_roost:
                body["prompt"] = request.prompt or ""
                if request.forced_start:
                    body["roost_forced_start"] = request.forced_start
                if request.start_choices:
                    body["roost_start_choices"] = list(request.start_choices)
            else:
                # No token constraints over the wire: the forced start is sent as prompt text (the model
                # continues after it, which is what the caller expects; only the healing is lost).
                body["prompt"] = (request.prompt or "") + request.forced_start
            if request.suffix is not None:
                body["suffix"] = request.suffix
            endpoint = "/v1/completions"
        if self.speaks_roost:
            if request.priority != RequestPriority.INLINE_COMPLETION:
                body["roost_priority"] = PRIORITY_NAMES[request.priority]
            if request.prefill_only:
                body["roost_prefill_only"] = True
        body.update(self.options.extra_body)
        return endpoint, body

    async def _open_stream(
        self, endpoint: str, body: dict[str, Any], stack: contextlib.AsyncExitStack
    ) -> httpx.Response:
        """Send the request; retry connection failures (nothing reached the server) with backoff."""
        options = self.options
        if time.monotonic() < self._down_until:
            raise BackendUnavailableError(
                f"the model server at {options.base_url} was unreachable moments ago; not retrying yet "
                f"(is it running? start it, or check `base_url` in the configuration)",
                reason=f"backend {options.base_url} was unreachable moments ago (not retrying yet)",
            )
        attempt = 0
        while True:
            try:
                response = await stack.enter_async_context(self._client.stream("POST", endpoint, json=body))
                self._down_until = 0.0
                return response
            except (httpx.ConnectError, httpx.ConnectTimeout) as error:
                if attempt >= options.max_connect_retries:
                    self._down_until = time.monotonic() + options.unavailable_cooldown_s
                    raise BackendUnavailableError(
                        f"cannot connect to the model server at {options.base_url}{endpoint} after "
                        f"{attempt + 1} attempt(s): {error or type(error).__name__}. Is the server running "
                        "and is `base_url` right?",
                        reason=f"backend {options.base_url}: {_connect_failure(error)}",
                    ) from error
                await asyncio.sleep(options.retry_backoff_s * (2**attempt))
                attempt += 1
            except httpx.TimeoutException as error:
                raise BackendTimeoutError(
                    f"the model server at {options.base_url} did not answer within "
                    f"{options.read_timeout_s:g} s ({type(error).__name__})",
                    reason=f"backend {options.base_url} timed out after {options.read_timeout_s:g} s",
                ) from error
            except httpx.TransportError as error:  # e.g. the server closed the connection unanswered
                raise BackendError(
                    f"the model server at {options.base_url}{endpoint} failed before answering: {error}",
                    kind="connection",
                    reason=f"backend {options.base_url} broke the connection: {error or type(error).__name__}",
                ) from error

    async def generate(self, request: GenerationRequest) -> AsyncGenerator[TextChunk, None]:
        if request.prefill_only and not self.speaks_roost:
            # The server's prompt cache is not ours to fill: a one-token request would cost the shared
            # server a generation for a prompt the user may never ask for. (Our own engine server runs
            # it as the in-process engine does: at the lowest priority, given up for any real request.)
            yield TextChunk(text="", finish_reason="length", timings=GenerationTimings())
            return
        endpoint, body = self._endpoint_and_body(request)
        if self._closed:
            raise EngineError(f"backend {self.name} is closed")
        started = time.perf_counter()
        deadline = started + self.options.total_timeout_s if self.options.total_timeout_s else None
        matcher = _StopMatcher(self._stop_strings(request))
        state = _StreamState()

        async with contextlib.AsyncExitStack() as stack:
            response = await self._open_stream(endpoint, body, stack)
            if response.status_code >= 400:
                detail = _server_message(await response.aread())
                error_class = (
                    BackendUnavailableError if response.status_code in (502, 503, 504) else BackendError
                )
                raise error_class(
                    f"the model server at {self.options.base_url}{endpoint} answered HTTP "
                    f"{response.status_code}: {detail}",
                    kind="http_status",
                    reason=f"backend {self.options.base_url} answered HTTP {response.status_code}: "
                    f"{detail[:200]}",
                )
            events = _sse_data(response).__aiter__()
            cancel_wait: asyncio.Task[bool] | None = None
            if request.cancel_event is not None:
                cancel_wait = asyncio.ensure_future(request.cancel_event.wait())
                stack.callback(cancel_wait.cancel)
            finish: FinishReason | None = None
            error_text: str | None = None
            error_kind: BackendFailureKind | None = None
            while finish is None:
                try:
                    data = await self._next_event(events, cancel_wait, deadline)
                except _Cancelled:
                    finish = "cancelled"
                    break
                except httpx.TimeoutException:
                    finish, error_kind = "error", "timeout"
                    error_text = (
                        f"backend {self.options.base_url} timed out after {self.options.read_timeout_s:g} s "
                        "(it stopped sending mid-answer)"
                    )
                    break
                except TimeoutError:
                    finish, error_kind = "error", "timeout"
                    error_text = (
                        f"backend {self.options.base_url} timed out: the answer took longer than "
                        f"total_timeout_s={self.options.total_timeout_s:g} s"
                    )
                    break
                except (httpx.TransportError, httpx.StreamError) as error:
                    finish, error_kind = "error", "connection"
                    error_text = f"backend {self.options.base_url} broke the connection mid-answer: {error}"
                    break
                if data is None:
                    if not state.saw_done and not state.saw_finish:
                        finish, error_kind = "error", "malformed_stream"
                        error_text = self._cut_short_message(state, "it ended before it was complete")
                    else:
                        finish = state.finish_reason or "stop"
                    break
                if data == "[DONE]":
                    state.saw_done = True
                    if not state.saw_finish:
                        # Every OpenAI-compatible server names a finish_reason before [DONE]; without one
                        # the answer was cut off (llama.cpp's server ends a request this way when another
                        # one takes its model), and its text is not a whole answer.
                        finish, error_kind = "error", "malformed_stream"
                        error_text = self._cut_short_message(state, "[DONE] came before any finish_reason")
                        break
                    finish = state.finish_reason or "stop"
                    break
                try:
                    text, error_text = state.absorb(data)
                except ValueError as error:
                    finish, error_kind = "error", "malformed_stream"
                    error_text = f"backend {self.options.base_url} sent a malformed stream: {error}"
                    break
                if error_text is not None:
                    finish, error_kind = "error", "server_error"
                    break
                if text:
                    if state.first_token_at is None:
                        state.first_token_at = time.perf_counter()
                    out = matcher.feed(text)
                    if out:
                        yield TextChunk(text=out)
                    if matcher.stopped:
                        finish = "stop"
                        break
        # The response is closed here (exit stack), before the final chunk: a consumer that stops
        # listening after it leaves no connection behind.
        tail = matcher.flush()
        if tail and finish in ("stop", "length"):
            yield TextChunk(text=tail)
        ended = time.perf_counter()
        first = (state.first_token_at or ended) - started
        timings = GenerationTimings(
            first_token_s=first,
            decode_s=ended - (state.first_token_at or ended),
            total_s=ended - started,
            prompt_tokens=state.prompt_tokens,
            generated_tokens=state.completion_tokens or state.pieces,
        )
        yield TextChunk(
            text="", finish_reason=finish, timings=timings, error=error_text, error_kind=error_kind
        )

    def _cut_short_message(self, state: _StreamState, what: str) -> str:
        """Why a stream ended without an answer's end, with the cause a known server has for it."""
        message = f"backend {self.options.base_url} sent a malformed stream: {what}"
        if self.options.server_kind != "llama.cpp":
            return message
        if state.pieces == 0 and not state.saw_done:
            # Seen with llama-cpp-python 0.3.36: 200, then an empty body; the error is in its log only.
            return (
                f"{message}. A llama.cpp server ends an answer like this when the prompt does not fit its "
                "context window: start it with a larger --n_ctx (4096), or lower `context.budget`"
            )
        if state.saw_done:
            return (
                f"{message}. A llama.cpp server cuts an answer off like this when another request "
                "interrupts it (it runs one at a time): give each editor its own server, or start it with "
                "--interrupt_requests False to queue requests instead"
            )
        return message

    async def _next_event(
        self, events: AsyncIterator[str], cancel_wait: asyncio.Task[bool] | None, deadline: float | None
    ) -> str | None:
        """The next SSE data payload, or None at the end of the stream. Raises _Cancelled when the
        request's cancel_event is set, TimeoutError past the total deadline."""
        timeout = None if deadline is None else max(0.0, deadline - time.perf_counter())
        if cancel_wait is None:
            try:
                return await asyncio.wait_for(events.__anext__(), timeout)
            except StopAsyncIteration:
                return None
        if cancel_wait.done():
            raise _Cancelled
        next_event = asyncio.ensure_future(events.__anext__())
        try:
            done, _ = await asyncio.wait(
                {next_event, cancel_wait}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED
            )
        except BaseException:
            # The consumer was cancelled while waiting: do not leave a reader task behind.
            next_event.cancel()
            raise
        if next_event not in done:
            next_event.cancel()
            with contextlib.suppress(asyncio.CancelledError, StopAsyncIteration, Exception):
                await next_event
            if cancel_wait in done:
                raise _Cancelled
            raise TimeoutError
        try:
            return next_event.result()
        except StopAsyncIteration:
            return None


class _Cancelled(Exception):
    pass


def _connect_failure(error: Exception) -> str:
    """A short cause for a failed connection: "connection refused" rather than errno text."""
    text = str(error) or type(error).__name__
    if isinstance(error, httpx.ConnectTimeout):
        return f"connecting timed out ({text})"
    # httpx says "All connection attempts failed"; the refusal is further down the exception chain.
    cause: BaseException | None = error
    for _ in range(8):  # a few links suffice (httpx → httpcore → OSError → ConnectionRefusedError)
        if cause is None:
            break
        if isinstance(cause, ConnectionRefusedError) or "refused" in str(cause).lower():
            return "connection refused"
        cause = cause.__cause__ or cause.__context__
    return f"cannot connect ({text})"


@dataclass
class _StreamState:
    saw_done: bool = False
    saw_finish: bool = False
    finish_reason: FinishReason | None = None
    first_token_at: float | None = None
    pieces: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0

    def absorb(self, data: str) -> tuple[str, str | None]:
        """Text of one streamed event, and an error message if the event reports one."""
        try:
            event = json.loads(data)
        except ValueError as error:
            raise ValueError(f"{data[:200]!r} is not JSON") from error
        if not isinstance(event, dict):
            raise ValueError(f"{data[:200]!r} is not a JSON object")
        if "error" in event:
            reported = event["error"]
            message = reported.get("message") if isinstance(reported, dict) else reported
            return "", f"the model server reported an error mid-answer: {message}"
        usage = event.get("usage")
        if isinstance(usage, dict):
            self.prompt_tokens = int(usage.get("prompt_tokens") or 0)
            self.completion_tokens = int(usage.get("completion_tokens") or 0)
        text_parts: list[str] = []
        for choice in event.get("choices") or ():
            if not isinstance(choice, dict) or choice.get("index", 0) != 0:
                continue
            delta = choice.get("delta")
            piece = delta.get("content") if isinstance(delta, dict) else choice.get("text")
            if isinstance(piece, str) and piece:
                text_parts.append(piece)
                self.pieces += 1
            reason = choice.get("finish_reason")
            if reason:
                self.saw_finish = True
                self.finish_reason = "length" if reason == "length" else "stop"
        return "".join(text_parts), None


async def _sse_data(response: httpx.Response) -> AsyncIterator[str]:
    """``data`` payloads of a server-sent event stream (multi-line data joined by newlines)."""
    data_lines: list[str] = []
    async for line in response.aiter_lines():
        if not line:
            if data_lines:
                yield "\n".join(data_lines)
                data_lines = []
            continue
        if line.startswith(":"):
            continue  # a comment / keep-alive
        name, _, value = line.partition(":")
        if name == "data":
            data_lines.append(value[1:] if value.startswith(" ") else value)
    if data_lines:
        yield "\n".join(data_lines)
