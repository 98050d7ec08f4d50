"""Find the shared local engine, or start it: one loaded model for every editor window on this machine.

``shared_engine_url(options)`` returns the base URL (``http://127.0.0.1:PORT``) of a running
``python -m roost.engine.server``. If none answers, it starts one (detached, so it outlives the
editor that started it) and waits until it listens. A file lock around "check, else start" means
two editors opening at once start one engine, not two; a small state file records the URL and pid.
The LSP then talks to it with the OpenAI-compatible HTTP backend.
"""

from __future__ import annotations

import json
import os
import selectors
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from roost.engine.models.default import model_cache_root
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
    # The engine's model cache (converted models); None: $ROOST_CACHE_DIR or the user cache.
    cache_dir: str | None = None
    # Where engine.json / engine.lock / engine.log live (None: next to the model cache).
    state_dir: str | None = None
    # Loading a 24B model takes minutes; the default model converts once in about a minute.
    start_timeout_s: float = 900.0
    # How long a recorded engine whose process is alive may take to answer /health (a busy machine)
    # before it is reported; starting a second one next to it would load the model twice.
    health_wait_s: float = 10.0


def shared_engine_url(options: SharedEngineOptions | None = None) -> str:
    from filelock import FileLock, Timeout

    options = options or SharedEngineOptions()
    state_dir = (
        Path(options.state_dir)
        if options.state_dir
        else model_cache_root(options.cache_dir).parent / "engine"
    )
    state_dir.mkdir(parents=True, exist_ok=True)
    state_file = state_dir / "engine.json"
    try:
        with FileLock(str(state_dir / "engine.lock"), timeout=options.start_timeout_s):
            running = _running_engine(state_file, options)
            if running:
                return running
            url, pid = _start_engine(options, state_dir)
            state_file.write_text(
                json.dumps({"url": url, "pid": pid, "model": options.model}), encoding="utf-8"
            )
            return url
    except Timeout as error:
        raise BackendUnavailableError(
            f"another process has been starting the shared engine for over {options.start_timeout_s:.0f} s "
            f"(lock {state_dir / 'engine.lock'}); see {state_dir / 'engine.log'}"
        ) from error


def is_healthy(url: str, timeout_s: float = 1.0) -> dict | None:
    try:
        with urllib.request.urlopen(f"{url}/health", timeout=timeout_s) as response:  # noqa: S310 - our own URL
            return json.loads(response.read())
    except (OSError, ValueError, urllib.error.URLError):
        return None


def _is_engine_process(pid: int) -> bool:
    """Whether ``pid`` is alive and, where /proc tells (Linux), is a Roost engine and not a reused pid."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return False  # another user's process: not our engine
    proc = Path(f"/proc/{pid}")
    if not proc.is_dir():
        return True  # no /proc here: alive is all we can tell
    try:
        if (proc / "stat").read_text().rsplit(")", 1)[1].split()[0] == "Z":
            return False  # exited, not yet reaped by whoever started it
        cmdline = (proc / "cmdline").read_bytes()
    except (OSError, IndexError):
        return False
    # An empty command line (a process caught mid-exec) tells nothing: count it as alive.
    return not cmdline or b"roost.engine.server" in cmdline


def _running_engine(state_file: Path, options: SharedEngineOptions) -> str | None:
    try:
        state = json.loads(state_file.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    url = state.get("url")
    if not isinstance(url, str):
        return None
    if not is_healthy(url):
        pid = state.get("pid")
        if not (isinstance(pid, int) and _is_engine_process(pid)):
            return None  # a dead or stale state file (engine killed, machine rebooted): start afresh
        deadline = time.monotonic() + options.health_wait_s
        while not is_healthy(url, timeout_s=2.0):
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
    return url


def _start_engine(options: SharedEngineOptions, state_dir: Path) -> tuple[str, int]:
    command = [sys.executable, "-m", "roost.engine.server", "--port", "0", "--dtype", options.dtype]
    command += ["--device", options.device, "--max-batch-size", str(options.max_batch_size)]
    if options.model:
        command += ["--model", options.model]
    if options.quantization:
        command += ["--quantization", options.quantization]
    if options.compile:
        command += ["--compile", "static" if options.compile == "static" else "dynamic"]
    environment = {**os.environ, "PYTHONUNBUFFERED": "1"}
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
