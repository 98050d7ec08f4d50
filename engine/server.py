"""``roost engine serve``: the engine's scheduler behind an OpenAI-compatible HTTP API.

``roost engine serve`` loads the model once and serves it here, so several editor windows (or a team)
share one loaded model and one continuous batch. The HTTP side is a standard ASGI stack: the Starlette app
of :mod:`roost.engine.http_app` on uvicorn (HTTP/1.1 keep-alive, Server-Sent Events streaming, graceful
shutdown on SIGTERM); both come with the ``local`` extra, so this module imports them lazily (the light
install reads its constants and arguments). Our scheduler (priorities, preemption, prefix reuse) stays the
engine behind it.

Endpoints: ``GET /health`` (liveness), ``GET /ready`` (readiness), ``GET /metrics`` (Prometheus),
``GET /v1/models``, ``POST /v1/completions`` (raw prompts, e.g. FIM) and ``POST /v1/chat/completions``,
both with ``"stream": true`` (SSE, ``data: [DONE]``) or without. A client that disconnects mid-stream
cancels its generation.

Trust: it binds 127.0.0.1 by default; ``--host`` binds elsewhere, and beyond loopback an API key is
required (the server refuses to start without one). Binding loopback is not enough on its own: a web page
can reach a localhost port through DNS rebinding (its own host name re-resolved to 127.0.0.1), and every
local user can connect. So every request must name a local ``Host`` (``localhost``, ``127.0.0.1``,
``[::1]``, any port, the bound address, or a name given with ``--allowed-host``; 403 otherwise: a rebinding
page's requests carry its own host name), and when ``$ROOST_ENGINE_API_KEY`` is set, every request except
the probes ``GET /health`` and ``GET /ready`` must carry ``Authorization: Bearer <key>`` (compared in
constant time; 401 otherwise).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import ipaddress
import logging
import os
import signal
import socket
import sys
import threading
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, Literal, Protocol

from roost.engine.progress_bars import disable_progress_bars
from roost.engine.types import (
    PRIORITY_NAMES,
    Backend,
    ChatMessage,
    EngineError,
    GenerationRequest,
    RequestPriority,
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
ANY_HOST = "*"
"""``--allowed-host '*'``: accept any ``Host`` (behind a cluster's service, probes and scrapers name pod
addresses); only allowed together with an API key."""
WILDCARD_HOSTS = frozenset({"0.0.0.0", "::", "[::]", ""})
"""Bind addresses that mean every interface (no single name the clients would send as ``Host``)."""
TRUST_HELP = (
    f"Only requests whose Host header is localhost, 127.0.0.1 or [::1] (any port), the --host address, or "
    f"a name given with --allowed-host are served (403 otherwise: a defence against DNS rebinding). If "
    f"the environment variable {API_KEY_ENV} is set, every request except GET /health and GET /ready must "
    f"send 'Authorization: Bearer <its value>' (401 otherwise); Roost's shared-engine client sends it. "
    f"A --host beyond loopback requires {API_KEY_ENV}."
)
KEEP_ALIVE_S = 30
"""Idle keep-alive connections are closed after this long (clients reuse them for the next completion)."""
GRACEFUL_SHUTDOWN_S = 30
"""On SIGTERM, running generations get this long to finish before their connections are closed."""

MAX_BODY_BYTES = 16 * 2**20


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
        # Roost extensions, sent by Roost's own client (server kind "roost"): long edit generations and
        # prefetches are marked so inline completions go first; a prefetch computes only the prompt's KV.
        "priority": _roost_priority(body.get("roost_priority")),
        "prefill_only": _roost_flag(body, "roost_prefill_only"),
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
        # Roost extension: the answer's forced start (token healing), written by the model in its own
        # tokens instead of being appended to the prompt.
        forced_start = body.get("roost_forced_start") or ""
        if not isinstance(forced_start, str):
            raise BadRequest("`roost_forced_start` must be a string")
        # Roost extension: the words one of which the answer must start with (a receiver's members).
        choices = body.get("roost_start_choices") or []
        if not isinstance(choices, list) or not all(isinstance(choice, str) for choice in choices):
            raise BadRequest("`roost_start_choices` must be a list of strings")
        return GenerationRequest(
            prompt=prompt, forced_start=forced_start, start_choices=tuple(choices), **common
        )
    except (KeyError, TypeError, ValueError) as error:
        if isinstance(error, BadRequest):
            raise
        raise BadRequest(f"invalid request: {error}") from error


_ROOST_PRIORITIES = {name: priority for priority, name in PRIORITY_NAMES.items()}


def _roost_priority(value: Any) -> RequestPriority:
    if value is None:
        return RequestPriority.INLINE_COMPLETION
    if value not in _ROOST_PRIORITIES:
        raise BadRequest(f"`roost_priority` must be one of {', '.join(_ROOST_PRIORITIES)}, got {value!r}")
    return _ROOST_PRIORITIES[value]


def _roost_flag(body: dict[str, Any], name: str) -> bool:
    value = body.get(name, False)
    if not isinstance(value, bool):
        raise BadRequest(f"`{name}` must be true or false")
    return value


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


def is_loopback_host(host: str) -> bool:
    """Whether binding ``host`` keeps the server on this machine (``localhost``, ``127.0.0.0/8``, ``::1``).
    Any other name counts as beyond loopback: it may resolve to a routable address."""
    name = host.strip().strip("[]").lower()
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def trust_problem(host: str, api_key: str | None, allowed_hosts: frozenset[str]) -> str | None:
    """Why serving on ``host`` with this key and these ``Host`` names would be unsafe, or None.

    Beyond loopback every machine that can route to the port is a client, so the key is the defence and
    must be set; ``--allowed-host '*'`` (any ``Host``: what probes and Prometheus send is a pod address)
    gives up the DNS-rebinding check, which is only safe when a key is required too (a rebinding page
    cannot know the key)."""
    if not api_key and not is_loopback_host(host):
        return (
            f"refusing to listen on {host}: beyond loopback every request must carry an API key. "
            f"Set {API_KEY_ENV} (e.g. `export {API_KEY_ENV}=$(openssl rand -hex 32)`) and give the same "
            "key to the clients, or bind 127.0.0.1"
        )
    if not api_key and ANY_HOST in allowed_hosts:
        return f"--allowed-host '*' accepts any Host header, which is only safe with {API_KEY_ENV} set"
    return None


LoadSettings = dict[str, str | None]
"""The settings a model was loaded with that decide what the engine computes, by the name of the
``TransformersOptions`` field, valued as the command line spells them (``None``: the flag not given)."""


class LoadOptions(Protocol):
    """What :func:`load_settings` reads: the fields ``TransformersOptions`` (the engine's load) and
    ``shared.SharedEngineOptions`` (what a shared-engine client starts an engine with) share by name."""

    @property
    def model(self) -> str | None: ...
    @property
    def dtype(self) -> str: ...
    @property
    def device(self) -> str: ...
    @property
    def quantization(self) -> str | None: ...
    @property
    def compile(self) -> bool | Literal["static"]: ...
    @property
    def cpu_weights(self) -> str: ...
    @property
    def cpu_decode_weights(self) -> str: ...
    @property
    def lora_adapter(self) -> str | None: ...


def compile_flag(compile: bool | Literal["static"]) -> str | None:
    """``--compile``'s value for a ``compile`` option (None: no flag)."""
    if not compile:
        return None
    return "static" if compile == "static" else "dynamic"


def load_settings(options: LoadOptions) -> LoadSettings:
    """What ``options`` load, as :data:`LoadSettings`. The probes report them to callers with the key, so
    a shared-engine client reuses a running engine only when they are the ones it would start it with
    (``roost.engine.shared.requested_load_settings``). The batch size is left out: it changes how many
    requests share a step, not what a request computes."""
    return {
        "model": options.model,
        "dtype": options.dtype,
        "device": options.device,
        "quantization": options.quantization,
        "compile": compile_flag(options.compile),
        "cpu_weights": options.cpu_weights,
        "cpu_decode_weights": options.cpu_decode_weights,
        "lora_adapter": options.lora_adapter,
    }


class EngineServer:
    """The engine's HTTP front: the ASGI app of :mod:`roost.engine.http_app` on uvicorn (HTTP/1.1 with
    keep-alive, graceful shutdown), on a socket bound here so the chosen port is known before serving."""

    def __init__(
        self,
        backend: Backend,
        model_name: str,
        api_key: str | None = None,
        allowed_hosts: frozenset[str] = frozenset(),
        handle_signals: bool = False,
        load_settings: LoadSettings | None = None,
    ) -> None:
        """``api_key``: when set (non-empty), every request but the probes (``/health``, ``/ready``) must
        present it as a bearer token. ``allowed_hosts``: ``Host`` names accepted besides
        :data:`LOCAL_HOSTS` (``"*"``: any, only with a key). ``handle_signals``: SIGINT/SIGTERM start a
        graceful shutdown (the command line; not when embedded, e.g. in tests). ``load_settings``: what the
        model was loaded with (:func:`load_settings`), reported by the probes to callers with the key."""
        self.backend = backend
        self.model_name = model_name
        self.load_settings = load_settings
        self._api_key = api_key or None
        self._allowed_hosts = LOCAL_HOSTS | {name.lower().strip("[]") for name in allowed_hosts}
        self._server: Any = None  # uvicorn.Server, imported lazily (the light install has no uvicorn)
        self._serving: asyncio.Task[None] | None = None
        self._handle_signals = handle_signals

    async def start(self, port: int, host: str = "127.0.0.1") -> int:
        """Bind ``host:port`` (0 picks a port), start serving in the background, return the bound port.
        Raises ``ValueError`` for an unsafe binding (see :func:`trust_problem`), ``OSError`` when the
        address cannot be bound."""
        import uvicorn

        from roost.engine.http_app import ServingState, build_app

        problem = trust_problem(host, self._api_key, self._allowed_hosts)
        if problem:
            raise ValueError(problem)
        allowed = self._allowed_hosts
        if host not in WILDCARD_HOSTS:
            allowed = allowed | {host.lower().strip("[]")}  # clients name the address they were given
        self.state = ServingState(model_name=self.model_name, load_settings=self.load_settings)
        app = build_app(self.backend, self.state, self._api_key.encode() if self._api_key else None, allowed)
        config = uvicorn.Config(
            app,
            http="h11",
            loop="asyncio",
            lifespan="off",
            # Logging stays ours: uvicorn's default config would print access lines on stdout, a pipe the
            # shared-engine starter stops reading once it has the port.
            log_config=None,
            access_log=False,
            server_header=False,
            timeout_keep_alive=KEEP_ALIVE_S,
            timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_S,
        )
        self._server = _draining_server_class()(config, self.state, self._handle_signals)
        sock = _bound_socket(host, port)
        self._serving = asyncio.create_task(self._server.serve(sockets=[sock]))
        while not self._server.started:
            if self._serving.done():
                sock.close()
                self._serving.result()  # raises why it stopped
                raise OSError(f"the engine server stopped while starting on {host}:{port}")
            await asyncio.sleep(0.01)
        return int(sock.getsockname()[1])

    async def serve_forever(self) -> None:
        assert self._serving is not None
        await self._serving

    async def close(self) -> None:
        if self._server is None or self._serving is None:
            return
        self._server.request_exit()
        with contextlib.suppress(asyncio.CancelledError):
            await self._serving


def _bound_socket(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host.strip("[]"), port))
    except OSError:
        sock.close()
        raise
    sock.set_inheritable(False)
    return sock


def _draining_server_class() -> type:
    import uvicorn

    class DrainingServer(uvicorn.Server):
        """uvicorn's server that marks the state as draining when shutdown starts (SIGTERM from an
        orchestrator, Ctrl-C, or :meth:`EngineServer.close`): ``/ready`` turns 503 while the running
        generations finish. Signals are handled only when asked (the command line), and never re-raised
        after the shutdown as uvicorn does, so the caller's cleanup (closing the backend) runs."""

        def __init__(self, config: uvicorn.Config, state: Any, handle_signals: bool) -> None:
            super().__init__(config)
            self._state = state
            self._handle_signals = handle_signals

        def request_exit(self) -> None:
            self._state.draining = True
            self.should_exit = True

        def handle_exit(self, sig: int, frame: Any) -> None:
            if self.should_exit and sig == signal.SIGINT:
                self.force_exit = True  # a second Ctrl-C: stop waiting for running generations
            self.request_exit()

        @contextlib.contextmanager
        def capture_signals(self) -> Iterator[None]:
            if not self._handle_signals or threading.current_thread() is not threading.main_thread():
                yield
                return
            handled = (signal.SIGINT, signal.SIGTERM)
            previous = {sig: signal.signal(sig, self.handle_exit) for sig in handled}
            try:
                yield
            finally:
                for sig, handler in previous.items():
                    signal.signal(sig, handler)

    return DrainingServer


def run_server(
    options: TransformersOptions,
    port: int,
    metrics_port: int | None = None,
    log_progress: bool = True,
    allowed_hosts: frozenset[str] = frozenset(),
    progress: ProgressCallback | None = None,
    host: str = "127.0.0.1",
) -> int:
    """Load the model, then serve it until interrupted (SIGINT or SIGTERM: a graceful shutdown). Prints
    ``listening on http://HOST:PORT`` (one line on stdout) once it accepts connections: whoever started
    the process reads the port from it. The API key, if any, comes from ``$ROOST_ENGINE_API_KEY`` (never
    a flag: a command line is visible to every local user); beyond loopback it is required."""
    api_key = os.environ.get(API_KEY_ENV) or None
    problem = trust_problem(host, api_key, allowed_hosts)
    if problem:  # before the model loads: a refusal should not cost a minute
        print(f"roost engine: {problem}", file=sys.stderr)
        return 2
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
        server = EngineServer(
            backend,
            model_name=backend.loaded.source,
            api_key=api_key,
            allowed_hosts=allowed_hosts,
            handle_signals=True,
            load_settings=load_settings(options),
        )
        bound = await server.start(port, host)
        if api_key:
            print(f"roost engine: requests need the API key from ${API_KEY_ENV}", file=sys.stderr)
        shown = f"[{host}]" if ":" in host else host
        print(f"listening on http://{shown}:{bound}", flush=True)
        try:
            await server.serve_forever()
        finally:
            await server.close()
            await backend.aclose()

    try:
        asyncio.run(serve())
    except OSError as error:
        print(f"roost engine: cannot listen on {host}:{port}: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    return 0


def add_server_arguments(parser: argparse.ArgumentParser, default_port: int = DEFAULT_PORT) -> None:
    parser.add_argument(
        "--host",
        default="127.0.0.1",
        help=f"address to bind (default 127.0.0.1; beyond loopback, e.g. 0.0.0.0, {API_KEY_ENV} is required)",
    )
    parser.add_argument(
        "--port",
        type=int,
        default=default_port,
        help=f"port to bind (default {default_port}; 0 picks one)",
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
    parser.add_argument(
        "--cpu-weights",
        default="int8",
        choices=["int8", "float32"],
        help="on a CPU with --dtype auto and no --quantization: `int8` keeps the linear layers' weights in "
        "int8 (the default), `float32` the exact weights",
    )
    parser.add_argument(
        "--cpu-decode-weights",
        default="int8",
        choices=["int8", "int4"],
        help="with --cpu-weights int8: `int4` gives every linear layer a 4-bit copy for decoding (faster "
        "generation, lossy, more memory); `int8` (the default) decodes with the int8 weights",
    )
    parser.add_argument(
        "--lora-adapter",
        default=None,
        metavar="DIR",
        help="a PEFT LoRA adapter directory, merged into the model's weights at load (needs peft)",
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
        help="also accept requests whose Host header is NAME (repeatable; e.g. behind a proxy or a "
        f"cluster service; '*' accepts any, only with {API_KEY_ENV} set). "
        "Default: localhost, 127.0.0.1, [::1] and the --host address",
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
        cpu_weights=args.cpu_weights,
        cpu_decode_weights=args.cpu_decode_weights,
        lora_adapter=args.lora_adapter,
        scheduler=SchedulerOptions(max_batch_size=args.max_batch_size),
    )


def main(argv: list[str] | None = None) -> int:
    """``python -m roost.engine.server``: what the shared-engine starter runs (same flags as ``roost engine serve``)."""
    parser = argparse.ArgumentParser(
        prog="python -m roost.engine.server", description=__doc__.splitlines()[0]
    )
    add_server_arguments(parser)
    args = parser.parse_args(argv)
    disable_progress_bars()  # before the model load imports tqdm (see engine/progress_bars.py)
    problem = local_engine_problem()
    if problem:
        print(f"roost engine: {problem}", file=sys.stderr)
        return 1
    return run_server(
        options_from_arguments(args),
        args.port,
        args.metrics_port,
        allowed_hosts=frozenset(args.allowed_host),
        host=args.host,
    )


if __name__ == "__main__":
    sys.exit(main())
