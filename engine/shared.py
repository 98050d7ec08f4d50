"""Find the shared local engine, or start it: one loaded model for every editor window on this machine.

``shared_engine_url(options)`` returns the base URL (``http://127.0.0.1:PORT``) of a running
``python -m roost.engine.server``. If none answers, it starts one (detached, so it outlives the
editor that started it) and waits until it listens. A file lock around "check, else start" means
two editors opening at once start one engine, not two; a small state file records the URL and pid.
The LSP then talks to it with the OpenAI-compatible HTTP backend. A running engine is reused only when it
serves the configured model loaded with the configured settings (CPU weights, dtype, quantization,
adapter …; its ``/health`` reports them to key holders): otherwise the caller gets an error naming the
differences and the pid to stop, since a second engine would load the model twice.

An engine started here always requires an API key (``$ROOST_ENGINE_API_KEY`` in its environment): the
configured one, else a random one. The key is kept in the state file, readable by its owner only, so
the user's other editors find it and other local users cannot use the engine.
"""

from __future__ import annotations

import json
import os
import secrets
import selectors
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from roost.engine.models.default import model_cache_root
from roost.engine.server import API_KEY_ENV, LoadSettings, compile_flag, load_settings
from roost.engine.types import BackendUnavailableError

_LISTENING = "listening on "


@dataclass(frozen=True)
class SharedEngineOptions:
    model: str | None = None
    dtype: str = "auto"
    device: str = "auto"
    max_batch_size: int = 8
    quantization: str | None = None  # int8 | nf4 | fp8
    compile: bool | Literal["static"] = False  # True: dynamic shapes (see TransformersOptions.compile)
    # As TransformersOptions' (model.cpu_weights / model.cpu_decode_weights): the engine's CPU weights.
    cpu_weights: Literal["int8", "float32"] = "int8"
    cpu_decode_weights: Literal["int8", "int4"] = "int8"
    # The engine's model cache (converted models); None: $ROOST_CACHE_DIR or the user cache.
    cache_dir: str | None = None
    # Where engine.json / engine.lock / engine.log live (None: next to the model cache).
    state_dir: str | None = None
    # Loading a 24B model takes minutes; the default model converts once in about a minute.
    start_timeout_s: float = 900.0
    # How long a recorded engine whose process is alive may take to answer /health (a busy machine)
    # before it is reported; starting a second one next to it would load the model twice.
    health_wait_s: float = 10.0
    # The key an engine started here requires; None: a random one (see the module docstring).
    api_key: str | None = None
    # A PEFT LoRA adapter directory merged into the engine's model (an absolute path: the engine's
    # working directory is its state directory).
    lora_adapter: str | None = None


@dataclass(frozen=True)
class SharedEngine:
    """Where the running shared engine listens, and the key its requests need (None: an engine started
    before keys existed, which needs none)."""

    url: str
    api_key: str | None


def shared_engine_url(options: SharedEngineOptions | None = None) -> str:
    """The base URL of the running shared engine, starting it if none runs (see :func:`shared_engine`)."""
    return shared_engine(options).url


def shared_engine(options: SharedEngineOptions | None = None) -> SharedEngine:
    """The running shared engine (URL and API key), starting it if none runs."""
    from filelock import FileLock, Timeout

    options = options or SharedEngineOptions()
    state_dir = _state_dir(options)
    state_dir.mkdir(parents=True, exist_ok=True)
    state_file = state_dir / "engine.json"
    try:
        with FileLock(str(state_dir / "engine.lock"), timeout=options.start_timeout_s):
            running = _running_engine(state_file, options)
            if running:
                return running
            api_key = options.api_key or os.environ.get(API_KEY_ENV) or secrets.token_urlsafe(32)
            url, pid = _start_engine(options, state_dir, api_key)
            _write_private(state_file, {"url": url, "pid": pid, "model": options.model, "api_key": api_key})
            return SharedEngine(url, api_key)
    except Timeout as error:
        raise BackendUnavailableError(
            f"another process has been starting the shared engine for over {options.start_timeout_s:.0f} s "
            f"(lock {state_dir / 'engine.lock'}); see {state_dir / 'engine.log'}"
        ) from error


def _state_dir(options: SharedEngineOptions) -> Path:
    return (
        Path(options.state_dir)
        if options.state_dir
        else model_cache_root(options.cache_dir).parent / "engine"
    )


def recorded_shared_engine(options: SharedEngineOptions | None = None) -> SharedEngine | None:
    """The shared engine the state file records, when its process still runs; None when none was started
    or it has exited (a stale file: the next editor starts a fresh one). Neither contacts nor starts it
    (``roost doctor --online`` probes what this returns)."""
    recorded = _recorded_state(_state_dir(options or SharedEngineOptions()) / "engine.json")
    if recorded is None:
        return None
    state, engine = recorded
    pid = state.get("pid")
    return engine if isinstance(pid, int) and _is_engine_process(pid) else None


def _recorded_state(state_file: Path) -> tuple[dict[str, Any], SharedEngine] | None:
    """The state file's fields and the engine they name (its url and key), or None when the file is
    missing, unreadable or names no url."""
    try:
        state = json.loads(state_file.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    url, api_key = state.get("url"), state.get("api_key")
    if not isinstance(url, str):
        return None
    return state, SharedEngine(url, api_key if isinstance(api_key, str) and api_key else None)


def is_healthy(url: str, timeout_s: float = 1.0, api_key: str | None = None) -> dict[str, Any] | None:
    """The engine's ``/health`` answer, or None when it does not answer. With its ``api_key`` the answer
    also names the model and the settings it was loaded with (``load``; see ``server.load_settings``)."""
    headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
    request = urllib.request.Request(f"{url}/health", headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=timeout_s) as response:  # noqa: S310 - our own URL
            return json.loads(response.read())
    except (OSError, ValueError, urllib.error.URLError):
        return None


def requested_load_settings(options: SharedEngineOptions) -> LoadSettings:
    """The load settings an engine started with ``options`` reports (its command line,
    :func:`engine_command`, carries each of them): a running engine is reused only when its own are these."""
    return load_settings(options)


def _is_engine_process(pid: int) -> bool:
    """Whether ``pid`` is alive, ours, and a Roost engine (not a reused pid). psutil reads the process
    table portably (``/proc`` on Linux, sysctl on macOS) instead of parsing ``/proc`` by hand."""
    import psutil

    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return False  # another user's process: not our engine
    try:
        process = psutil.Process(pid)
        if process.status() == psutil.STATUS_ZOMBIE:
            return False  # exited, not yet reaped by whoever started it
        command_line = process.cmdline()
    except (psutil.NoSuchProcess, psutil.AccessDenied):  # ZombieProcess is a NoSuchProcess
        return False
    # An empty command line (a process caught mid-exec) tells nothing: count it as alive.
    return not command_line or any("roost.engine.server" in part for part in command_line)


def _write_private(path: Path, state: dict[str, Any]) -> None:
    """Write ``state`` as JSON readable by the owner only (it holds the engine's API key)."""
    temporary = path.with_suffix(".tmp")
    temporary.unlink(missing_ok=True)
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as out:
        json.dump(state, out)
    os.replace(temporary, path)


def _running_engine(state_file: Path, options: SharedEngineOptions) -> SharedEngine | None:
    recorded = _recorded_state(state_file)
    if recorded is None:
        return None
    state, engine = recorded
    url, api_key, pid = engine.url, engine.api_key, state.get("pid")
    health = is_healthy(url, api_key=api_key)
    if not health:
        if not (isinstance(pid, int) and _is_engine_process(pid)):
            return None  # a dead or stale state file (engine killed, machine rebooted): start afresh
        deadline = time.monotonic() + options.health_wait_s
        while not (health := is_healthy(url, timeout_s=2.0, api_key=api_key)):
            if not _is_engine_process(pid):
                return None  # it died meanwhile: start afresh
            if time.monotonic() >= deadline:
                raise BackendUnavailableError(
                    f"the shared engine (pid {pid}) is running but does not answer at {url}; "
                    f"see {state_file.parent / 'engine.log'}, or stop it (kill {pid}) so the next editor "
                    "starts a fresh one"
                )
            time.sleep(0.5)
    if state.get("model") != options.model:
        # Starting a second engine would load a second model (a 24B model does not fit twice) and
        # orphan the first; ask the user to choose instead.
        raise BackendUnavailableError(
            f"the shared engine at {url} (pid {state.get('pid')}) serves model {state.get('model') or 'default'!r}, "
            f"but {options.model or 'default'!r} is configured. Configure the same model, or stop that "
            f"engine (kill {state.get('pid')}) so the next editor starts one with the new model."
        )
    # The same model loaded otherwise (other CPU weights, dtype, quantization, adapter …) computes other
    # answers: refused like another model, rather than silently serving settings the user did not choose.
    problem = _load_settings_problem(health.get("load"), requested_load_settings(options))
    if problem:
        raise BackendUnavailableError(
            f"the shared engine at {url} (pid {pid}) {problem}. Configure the same settings, or stop that "
            f"engine (kill {pid}) so the next editor starts one with yours."
        )
    return engine


def _load_settings_problem(reported: Any, wanted: LoadSettings) -> str | None:
    """Why an engine reporting ``reported`` (its ``/health`` answer's ``load``) is not one started with
    ``wanted``, or None when it is."""
    if not isinstance(reported, dict):
        return "does not report the settings its model was loaded with (it was started by an older Roost)"
    differences = [
        f"{name} {_shown(reported.get(name))} (configured: {_shown(value)})"
        for name, value in wanted.items()
        if reported.get(name) != value
    ]
    if not differences:
        return None
    return "was loaded with " + ", ".join(differences)


def _shown(value: Any) -> str:
    return "none" if value is None else repr(value)


def engine_command(options: SharedEngineOptions) -> list[str]:
    """The command line that starts the engine with ``options`` (``python -m roost.engine.server ...``)."""
    # -P and a working directory of its own: `python -m` would otherwise put the editor's working directory
    # (often the untrusted workspace) first on the engine's sys.path.
    command = [sys.executable, "-P", "-m", "roost.engine.server", "--port", "0", "--dtype", options.dtype]
    command += ["--device", options.device, "--max-batch-size", str(options.max_batch_size)]
    command += ["--cpu-weights", options.cpu_weights, "--cpu-decode-weights", options.cpu_decode_weights]
    if options.model:
        command += ["--model", options.model]
    if options.quantization:
        command += ["--quantization", options.quantization]
    compile_value = compile_flag(options.compile)
    if compile_value:
        command += ["--compile", compile_value]
    if options.lora_adapter:
        command += ["--lora-adapter", options.lora_adapter]
    return command


def _start_engine(options: SharedEngineOptions, state_dir: Path, api_key: str) -> tuple[str, int]:
    from roost.engine.backends import require_local_engine

    require_local_engine()  # the child runs the model in process: say which extra is missing, here
    command = engine_command(options)
    # The key travels in the environment, never on the command line (which every local user can read).
    environment = {**os.environ, "PYTHONUNBUFFERED": "1", API_KEY_ENV: api_key}
    if options.cache_dir:
        environment["ROOST_CACHE_DIR"] = options.cache_dir
    log_path = state_dir / "engine.log"
    with log_path.open("ab") as log:
        process = subprocess.Popen(
            command,
            stdout=subprocess.PIPE,
            stderr=log,
            stdin=subprocess.DEVNULL,
            start_new_session=True,  # not killed with the editor that happened to start it
            env=environment,
            cwd=state_dir,
        )
    assert process.stdout is not None
    deadline = time.monotonic() + options.start_timeout_s
    selector = selectors.DefaultSelector()
    selector.register(process.stdout, selectors.EVENT_READ)
    buffered = b""
    while time.monotonic() < deadline:
        if selector.select(timeout=0.5):
            data = os.read(process.stdout.fileno(), 4096)
            if not data:
                break
            buffered += data
            for line in buffered.decode(errors="replace").splitlines():
                if line.startswith(_LISTENING):
                    return line[len(_LISTENING) :].strip(), process.pid
        elif process.poll() is not None:
            break
    process.kill()
    tail = log_path.read_text(errors="replace")[-2000:]
    raise BackendUnavailableError(f"the shared engine did not start (log {log_path}):\n{tail}")
