"""``roost engine serve`` as a real process (issue "deploy"): the console script with a tiny random-weight
Mistral, its probes, and SIGTERM (what an orchestrator or ``docker stop`` sends) as a graceful shutdown
that ends with status 0 after closing the engine, rather than death by the signal."""

from __future__ import annotations

import json
import os
import selectors
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from tiny_mistral import save_tiny_mistral

pytest.importorskip("uvicorn", reason="roost engine serve needs the local extra")
pytest.importorskip("torch", reason="roost engine serve needs the local extra")

ROOST = str(Path(sys.executable).parent / "roost")
LISTENING = "listening on "


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return save_tiny_mistral(tmp_path_factory.mktemp("tiny-mistral"))


def read_listening_url(process: subprocess.Popen[bytes], timeout_s: float = 120) -> str:
    assert process.stdout is not None
    selector = selectors.DefaultSelector()
    selector.register(process.stdout, selectors.EVENT_READ)
    buffered = b""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline and process.poll() is None:
        if selector.select(timeout=0.5):
            buffered += os.read(process.stdout.fileno(), 4096)
            for line in buffered.decode(errors="replace").splitlines():
                if line.startswith(LISTENING):
                    return line[len(LISTENING) :].strip()
    raise AssertionError(f"the engine did not start: {buffered!r}")


def get(url: str, key: str | None = None) -> tuple[int, dict]:
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {key}"} if key else {})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - our own URL
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_sigterm_shuts_the_engine_down_gracefully(tiny_model: Path, tmp_path: Path) -> None:
    env = {**os.environ, "ROOST_ENGINE_API_KEY": "process-key", "ROOST_CACHE_DIR": str(tmp_path / "cache")}
    process = subprocess.Popen(
        [ROOST, "engine", "serve", "--port", "0", "--model", str(tiny_model), "--device", "cpu"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        stdin=subprocess.DEVNULL,
        env=env,
        cwd=tmp_path,
    )
    try:
        url = read_listening_url(process)
        # Without the key the probe reports only the state; with it, the model and its load settings too.
        assert get(f"{url}/ready") == (200, {"status": "ready"})
        status, answer = get(f"{url}/ready", key="process-key")
        assert status == 200 and answer["status"] == "ready" and answer["model"] == str(tiny_model)
        assert answer["load"]["model"] == str(tiny_model) and answer["load"]["device"] == "cpu"
        status, answer = get(f"{url}/v1/models", key="process-key")
        assert status == 200 and answer["data"][0]["id"] == str(tiny_model)
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=60) == 0, "SIGTERM is a graceful shutdown, not death by the signal"
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=10)
