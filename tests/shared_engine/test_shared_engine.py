"""``backend.kind = "shared"``: one ``roost engine serve`` per machine, found or started by each editor.

Real processes throughout: the engine is a real ``python -m roost.engine.server`` loading a tiny
random-weight Mistral; the editors are real ``roost serve --stdio`` processes driven by an LSP client."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from roost.engine.prompts.family import detect_family_from_dir
from roost.engine.shared import is_healthy
from roost.engine.types import BackendUnavailableError
from roost.lsp.config import RoostConfig, apply_layer
from roost.lsp.core.services import describe_backend_failure
from roost.lsp.core.shared_engine import connect_shared_engine, shared_engine_options

from .conftest import engine_pids


def shared_config(model: Path | str) -> RoostConfig:
    config, problems = apply_layer(
        RoostConfig(),
        {"backend": {"kind": "shared"}, "model": {"name": str(model), "dtype": "float32", "device": "cpu"}},
        "test",
    )
    assert not problems
    return config


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def dead_pid() -> int:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def test_configuration_maps_onto_the_engine_options() -> None:
    config, _ = apply_layer(
        RoostConfig(),
        {
            "backend": {"kind": "shared"},
            "model": {"quantization": "fp8", "compile": "dynamic", "dtype": "bfloat16"},
        },
        "test",
    )
    options = shared_engine_options(config, state_dir="/tmp/x")
    assert options.model is None  # "default" is the engine's own offline default
    assert (options.quantization, options.compile, options.dtype) == ("fp8", True, "bfloat16")
    static, _ = apply_layer(config, {"model": {"compile": "static"}}, "test")
    assert shared_engine_options(static).compile == "static"
    off, problems = apply_layer(config, {"model": {"compile": "sometimes"}}, "test")
    assert problems and shared_engine_options(off).compile is True  # a bad value keeps the last good one
    assert shared_engine_options(shared_config("/models/devstral")).model == "/models/devstral"


def test_relative_model_and_cache_paths_reach_the_engine_absolute(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The engine runs in its state directory: a relative path handed on as written would name another
    # directory there. Resolved from the server's working directory, as the in-process load does.
    (tmp_path / "models" / "mine").mkdir(parents=True)
    monkeypatch.chdir(tmp_path)
    config, problems = apply_layer(shared_config("models/mine"), {"cache": {"dir": "cache"}}, "test")
    assert not problems
    options = shared_engine_options(config, state_dir="/tmp/x")
    assert options.model == str(tmp_path / "models" / "mine")
    assert options.cache_dir == str(tmp_path / "cache")  # the cache need not exist yet
    # A Hugging Face id is no local path: it stays an id.
    assert shared_engine_options(shared_config("org/model-7b")).model == "org/model-7b"


def test_cpu_weight_settings_reach_the_started_engines_model_options() -> None:
    """``model.cpu_weights`` / ``model.cpu_decode_weights`` hold for the shared engine as in process: the
    command line an editor starts the engine with, parsed by the engine itself, gives its model options."""
    pytest.importorskip("torch")  # the engine's model options live in its torch-importing backend module
    import argparse

    from roost.engine.server import add_server_arguments, options_from_arguments
    from roost.engine.shared import engine_command
    from roost.lsp.core.engine_adapter import transformers_options

    def engine_model_options(config: RoostConfig) -> tuple[str, str]:
        command = engine_command(shared_engine_options(config))
        assert command[1:4] == ["-P", "-m", "roost.engine.server"]
        parser = argparse.ArgumentParser()
        add_server_arguments(parser)
        options = options_from_arguments(parser.parse_args(command[4:]))
        return options.cpu_weights, options.cpu_decode_weights

    assert engine_model_options(RoostConfig()) == ("int8", "int8")
    for model in ({"cpu_decode_weights": "int4"}, {"cpu_weights": "float32"}):
        config, problems = apply_layer(RoostConfig(), {"backend": {"kind": "shared"}, "model": model}, "test")
        assert not problems
        in_process = transformers_options(config)
        assert engine_model_options(config) == (in_process.cpu_weights, in_process.cpu_decode_weights)
        assert engine_model_options(config) != ("int8", "int8")


def test_the_engine_reports_the_load_settings_its_client_asked_for() -> None:
    """The settings an editor compares before reusing an engine are the ones the engine it would start
    reports: its command line, parsed by the engine itself, gives options whose load settings are those
    the client requested, for every setting the configuration maps (an adapter included)."""
    pytest.importorskip("torch")  # the engine's model options live in its torch-importing backend module
    import argparse

    from roost.engine.server import add_server_arguments, load_settings, options_from_arguments
    from roost.engine.shared import engine_command, requested_load_settings

    for model in (
        {},
        {"cpu_weights": "float32", "cpu_decode_weights": "int4", "adapter": "/adapters/lora"},
        {"name": "/models/devstral", "dtype": "bfloat16", "device": "cuda:1", "quantization": "nf4"},
        {"compile": "static"},
        {"compile": "dynamic", "quantization": "fp8"},
    ):
        config, problems = apply_layer(RoostConfig(), {"backend": {"kind": "shared"}, "model": model}, "test")
        assert not problems
        options = shared_engine_options(config)
        parser = argparse.ArgumentParser()
        add_server_arguments(parser)
        started = options_from_arguments(parser.parse_args(engine_command(options)[4:]))
        assert load_settings(started) == requested_load_settings(options), model
    assert started.lora_adapter is None and started.compile is True
    with_adapter, _ = apply_layer(RoostConfig(), {"model": {"adapter": "/adapters/lora"}}, "test")
    assert requested_load_settings(shared_engine_options(with_adapter))["lora_adapter"] == "/adapters/lora"


def test_an_engine_loaded_with_other_weight_settings_is_refused_not_reused(
    tiny_model_dir: Path, state_dir: Path
) -> None:
    """An editor whose ``model.cpu_weights`` / ``model.cpu_decode_weights`` differ from the running
    engine's gets a clear error naming the setting, as for another model, not the other settings."""
    backend, _ = connect_shared_engine(shared_config(tiny_model_dir), str(state_dir))
    pid = json.loads((state_dir / "engine.json").read_text())["pid"]
    for setting, running, configured in (
        ("cpu_decode_weights", "int8", "int4"),
        ("cpu_weights", "int8", "float32"),
    ):
        config, problems = apply_layer(
            shared_config(tiny_model_dir), {"model": {setting: configured}}, "test"
        )
        assert not problems
        with pytest.raises(BackendUnavailableError) as refused:
            connect_shared_engine(config, str(state_dir))
        message = str(refused.value)
        assert f"{setting} {running!r} (configured: {configured!r})" in message and f"kill {pid}" in message
        # What the editor shows (and logs, and roost/status says) names the shared engine, not an endpoint.
        shown = describe_backend_failure(refused.value, config).message
        assert shown.startswith("Roost: the shared engine cannot be used:") and message in shown
    assert engine_pids(str(tiny_model_dir)) == [pid]  # refused, not doubled
    # The same settings still find it.
    again, _ = connect_shared_engine(shared_config(tiny_model_dir), str(state_dir))
    assert again.options.base_url == backend.options.base_url


def test_an_engine_that_does_not_report_its_load_settings_is_refused(tmp_path: Path) -> None:
    """An engine started by an older Roost answers /health without its load settings: its settings are
    unknown, so it is refused with the way out, like one loaded otherwise."""
    from roost.engine.server import EngineServer
    from roost.engine.shared import shared_engine_url

    async def refused() -> str:
        server = EngineServer(object(), model_name="m", api_key="k")  # type: ignore[arg-type]
        port = await server.start(0)
        state_dir = tmp_path / "state"
        state_dir.mkdir()
        state = {"url": f"http://127.0.0.1:{port}", "pid": os.getpid(), "model": None, "api_key": "k"}
        (state_dir / "engine.json").write_text(json.dumps(state))
        try:
            options = shared_engine_options(shared_config("default"), str(state_dir))
            with pytest.raises(BackendUnavailableError) as caught:
                await asyncio.to_thread(shared_engine_url, options)
            return str(caught.value)
        finally:
            await server.close()

    message = asyncio.run(refused())
    assert "does not report the settings" in message and f"kill {os.getpid()}" in message


def test_two_editors_at_once_start_exactly_one_engine(tiny_model_dir: Path, state_dir: Path) -> None:
    # Two processes race through find-or-start, as two editor windows opening together do.
    script = textwrap.dedent(
        f"""
        import json
        from roost.lsp.config import RoostConfig, apply_layer
        from roost.lsp.core.shared_engine import connect_shared_engine
        config, _ = apply_layer(RoostConfig(), {{"backend": {{"kind": "shared"}},
            "model": {{"name": {str(tiny_model_dir)!r}, "dtype": "float32", "device": "cpu"}}}}, "test")
        backend, family = connect_shared_engine(config, {str(state_dir)!r})
        print(json.dumps({{"url": backend.options.base_url, "family": family}}))
        """
    )
    racers = [
        subprocess.Popen(
            [sys.executable, "-c", script], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        for _ in range(2)
    ]
    answers = []
    for racer in racers:
        out, err = racer.communicate(timeout=300)
        assert racer.returncode == 0, err
        answers.append(json.loads(out))
    assert answers[0]["url"] == answers[1]["url"]
    # The prompt family comes from the model directory, as for the in-process backend.
    assert answers[0]["family"] == answers[1]["family"] == detect_family_from_dir(tiny_model_dir)
    assert is_healthy(answers[0]["url"])["status"] == "ok"
    assert len(engine_pids(str(tiny_model_dir))) == 1
    state = json.loads((state_dir / "engine.json").read_text())
    assert state["url"] == answers[0]["url"] and engine_pids(str(tiny_model_dir)) == [state["pid"]]

    # A third editor, later, finds it; a differently configured one gets a clear error, not a second model.
    backend, _ = connect_shared_engine(shared_config(tiny_model_dir), str(state_dir))
    assert backend.options.base_url == state["url"]
    with pytest.raises(BackendUnavailableError, match="serves model .* is configured"):
        connect_shared_engine(shared_config(tiny_model_dir / "other"), str(state_dir))
    assert len(engine_pids(str(tiny_model_dir))) == 1


def test_a_dead_state_file_is_recovered_from(tiny_model_dir: Path, state_dir: Path) -> None:
    # The engine was killed (or the machine rebooted): the state file names a port nobody listens on.
    state_dir.mkdir(parents=True)
    stale_url = f"http://127.0.0.1:{free_port()}"
    stale = {"url": stale_url, "pid": dead_pid(), "model": str(tiny_model_dir)}
    (state_dir / "engine.json").write_text(json.dumps(stale))
    backend, _ = connect_shared_engine(shared_config(tiny_model_dir), str(state_dir))
    url = backend.options.base_url
    assert url != stale_url and is_healthy(url)["status"] == "ok"
    state = json.loads((state_dir / "engine.json").read_text())
    assert state["url"] == url and state["pid"] != stale["pid"]
    assert engine_pids(str(tiny_model_dir)) == [state["pid"]]


def test_an_engine_that_cannot_start_is_a_clear_error(tmp_path: Path) -> None:
    missing = tmp_path / "no-such-model"
    with pytest.raises(BackendUnavailableError, match="the shared engine did not start") as caught:
        connect_shared_engine(shared_config(missing), str(tmp_path / "state"))
    message = str(caught.value)
    assert str(tmp_path / "state" / "engine.log") in message and "no-such-model" in message
    assert not engine_pids(str(missing))


def test_two_language_servers_share_one_engine(
    tiny_model_dir: Path, state_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two real ``roost serve --stdio`` processes (two editor windows) with ``backend.kind = "shared"``:
    the first completion starts the engine, both get answers from it, and one engine runs."""
    from roost.lsp.demo import DemoClient, Printer

    # The default state directory derives from ROOST_CACHE_DIR: point both servers at the test's own.
    monkeypatch.setenv("ROOST_CACHE_DIR", str(state_dir.parent / "cache"))
    engine_state = state_dir.parent / "cache" / "engine"
    workspace = tmp_path / "ws"
    workspace.mkdir()
    (workspace / "app.py").write_text("def add(a, b):\n    return a + b\n", encoding="utf-8")
    options = {
        "backend": {"kind": "shared"},
        "model": {"name": str(tiny_model_dir), "dtype": "float32", "device": "cpu"},
        "completion": {"debounce_ms": 0, "max_tokens": 4},
        "index": {"watch": False},
    }

    async def one_editor() -> dict:
        import io

        client = DemoClient(workspace, Printer(io.StringIO()), options)
        await client.start()
        try:
            await client.wait_for(("ready", "error"), 120)
            uri = client.open("app.py", "def add(a, b):\n    return a + b\n\n\nprint(add(")
            _, details = await asyncio.wait_for(client.inline(uri), 300)
            return details
        finally:
            await client.stop()

    async def two_editors() -> list[dict]:
        return list(await asyncio.gather(one_editor(), one_editor()))

    try:
        results = asyncio.run(two_editors())
        for details in results:
            # "model" or "empty" (random weights may say nothing useful); never unavailable or error.
            assert details.get("source") in ("model", "empty", "blocked"), details
            assert details["timings_ms"].get("model", 0.0) > 0.0
        state = json.loads((engine_state / "engine.json").read_text())
        assert engine_pids(str(tiny_model_dir)) == [state["pid"]]
    finally:
        for pid in engine_pids(str(tiny_model_dir)):
            os.kill(pid, 15)


def test_a_live_engine_that_does_not_answer_is_reported_not_doubled(
    tiny_model_dir: Path, tmp_path: Path
) -> None:
    """A recorded engine process that is alive but silent (a wedged or very busy engine) must not get a
    second engine started next to it: that would load the model twice."""
    from roost.engine.shared import shared_engine_url

    # A stand-in process whose command line names the engine module (only its pid and argv matter here).
    silent = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)", "roost.engine.server"])
    try:
        state_dir = tmp_path / "state"
        state_dir.mkdir()
        url = f"http://127.0.0.1:{free_port()}"
        (state_dir / "engine.json").write_text(json.dumps({"url": url, "pid": silent.pid, "model": None}))
        options = shared_engine_options(shared_config("default"), str(state_dir))
        from dataclasses import replace

        with pytest.raises(BackendUnavailableError, match=f"pid {silent.pid}.*does not answer"):
            shared_engine_url(replace(options, health_wait_s=1.0))
    finally:
        silent.kill()
        silent.wait()
        # Had the check failed, an engine would have been started in the silent one's place: stop it.
        started = json.loads((tmp_path / "state" / "engine.json").read_text())["pid"]
        if started != silent.pid:
            os.kill(started, 15)
