"""``roost doctor --online`` against the fake OpenAI server (its llama.cpp replay profile and scripted
replies) and a closed port: what answers, what it serves, and the precise failure otherwise."""

from __future__ import annotations

import argparse
import asyncio
import json
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from roost.lsp.cli import backend_probe
from roost.lsp.cli.backend_probe import backend_options, probe
from roost.lsp.cli.commands import doctor
from roost.lsp.config import ConfigStack, RoostConfig

from .fake_openai_server import FakeOpenAIServer, RecordedRequest, Reply, llamacpp_reply


def _models(*names: str) -> Reply:
    return Reply(body=json.dumps({"object": "list", "data": [{"id": n} for n in names]}).encode())


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _llamacpp_gets(request: RecordedRequest) -> Reply:
    """llama.cpp's recorded answers to GET /v1/models and GET /health (a 404)."""
    return llamacpp_reply({"/v1/models": "models", "/health": "health"}[request.path])


async def test_llamacpp_is_reachable_and_said_to_accept_any_model_name() -> None:
    async with FakeOpenAIServer(_llamacpp_gets) as server:
        endpoint = server.base_url + "/v1"
        result = await probe(backend_options(endpoint, "any-name", "", "llama.cpp"), endpoint)
    assert result.ok
    assert "reachable; serves qwen2.5-coder-0.5b-instruct" in result.detail
    assert "llama.cpp has no /health and answers to any model name" in result.detail
    assert [r.path for r in server.requests] == ["/v1/models"]


async def test_vllm_serving_another_model_fails_and_names_the_served_ones() -> None:
    def script(request: RecordedRequest) -> Reply:
        return _models("Qwen/Qwen2.5-Coder-7B") if request.path == "/v1/models" else Reply(body=b"{}")

    async with FakeOpenAIServer(script) as server:
        endpoint = server.base_url + "/v1"
        wrong = await probe(backend_options(endpoint, "other", "", "vllm"), endpoint)
        right = await probe(backend_options(endpoint, "Qwen/Qwen2.5-Coder-7B", "", "vllm"), endpoint)
    assert not wrong.ok and "'other' is not among them" in wrong.detail
    assert "Qwen/Qwen2.5-Coder-7B" in wrong.fix
    assert right.ok and "/health: HTTP 200" in right.detail
    assert "/health" in [r.path for r in server.requests]


async def test_the_api_key_is_sent_and_a_refusal_names_the_key_setting(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("ROOST_TEST_KEY", "sk-test")
    async with FakeOpenAIServer(lambda request: Reply(status=401, body=b"{}")) as server:
        endpoint = server.base_url + "/v1"
        result = await probe(backend_options(endpoint, "m", "ROOST_TEST_KEY", "generic"), endpoint)
    assert not result.ok and "HTTP 401" in result.detail and "backend.api_key_env" in result.fix
    assert server.requests[0].headers["authorization"] == "Bearer sk-test"


async def test_a_missing_v1_is_suggested_on_404() -> None:
    async with FakeOpenAIServer(lambda request: Reply(status=404, body=b"{}")) as server:
        result = await probe(backend_options(server.base_url, "m", "", "generic"), server.base_url)
    assert not result.ok and "/v1 missing" in result.fix


def test_doctor_online_fails_on_a_closed_port_and_says_connection_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    endpoint = f"http://127.0.0.1:{_closed_port()}/v1"
    (tmp_path / "roost.toml").write_text(f'[backend]\nkind = "openai"\nendpoint = "{endpoint}"\n')
    assert doctor.run(argparse.Namespace(root=str(tmp_path), online=True)) == 1
    assert "connection refused" in capsys.readouterr().out
    # Offline, the endpoint is not contacted and the output says how to check it.
    assert doctor.run(argparse.Namespace(root=str(tmp_path), online=False)) == 0
    assert "roost doctor --online" in capsys.readouterr().out


async def test_a_name_that_does_not_resolve_is_a_dns_failure() -> None:
    endpoint = "http://roost-doctor-check.invalid/v1"  # .invalid never resolves (RFC 2606)
    result = await probe(backend_options(endpoint, "m", "", "generic"), endpoint)
    assert not result.ok and "DNS lookup failed" in result.detail


async def test_a_server_that_does_not_answer_in_time_is_a_timeout(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(backend_probe, "PROBE_TIMEOUT_S", 0.2)
    async with FakeOpenAIServer(lambda request: Reply(body=b"{}", headers_delay_s=2.0)) as server:
        endpoint = server.base_url + "/v1"
        result = await probe(backend_options(endpoint, "m", "", "generic"), endpoint)
    assert not result.ok and "no answer within 0.2 s" in result.detail


def _shared_config(tmp_path: Path) -> RoostConfig:
    (tmp_path / "roost.toml").write_text(
        f'[backend]\nkind = "shared"\n[cache]\ndir = "{tmp_path / "cache"}"\n'
    )
    return ConfigStack.for_workspace(tmp_path).current


def _write_engine_state(tmp_path: Path, url: str, pid: int) -> None:
    state_dir = tmp_path / "cache" / "engine"  # next to the model cache, as the engine keeps it
    state_dir.mkdir(parents=True)
    state = {"url": url, "pid": pid, "model": None, "api_key": "engine-key"}
    (state_dir / "engine.json").write_text(json.dumps(state))


@pytest.fixture
def engine_process() -> Iterator[int]:
    """A process whose command line names the engine's module, as a running shared engine's does."""
    process = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)", "roost.engine.server"])
    yield process.pid
    process.kill()
    process.wait()


async def test_the_running_shared_engine_is_probed_with_its_own_key(
    tmp_path: Path, engine_process: int
) -> None:
    def script(request: RecordedRequest) -> Reply:
        return _models("qwen2.5-coder-0.5b") if request.path == "/v1/models" else Reply(body=b"{}")

    config = _shared_config(tmp_path)
    async with FakeOpenAIServer(script) as server:
        _write_engine_state(tmp_path, server.base_url, engine_process)
        check = await asyncio.to_thread(doctor.check_backend_online, config)
    assert check.ok, check
    assert "reachable; serves qwen2.5-coder-0.5b" in check.detail and "/health: HTTP 200" in check.detail
    assert [r.path for r in server.requests] == ["/v1/models", "/health"]
    assert server.requests[0].headers["authorization"] == "Bearer engine-key"


def test_no_running_shared_engine_is_said_and_not_started(tmp_path: Path) -> None:
    config = _shared_config(tmp_path)
    check = doctor.check_backend_online(config)
    assert check.ok and "no shared engine is running" in check.detail
    # A state file left by an engine that has exited (its pid is gone) is no running engine either.
    finished = subprocess.Popen([sys.executable, "-c", "pass"])
    finished.wait()
    _write_engine_state(tmp_path, f"http://127.0.0.1:{_closed_port()}", finished.pid)
    assert "no shared engine is running" in doctor.check_backend_online(config).detail
    assert not (tmp_path / "cache" / "engine" / "engine.log").exists()
