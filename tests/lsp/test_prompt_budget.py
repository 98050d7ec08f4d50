"""The prompt budget's default follows where the model runs (``context.budget = 0``)."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from roost.engine import backends
from roost.engine.backends import local_device_is_cpu
from roost.lsp.config import RoostConfig, apply_layer
from roost.lsp.core.completion.pipeline import pipeline_settings
from roost.lsp.core.completion.prompt import (
    AUTO_BUDGET_ACCELERATOR,
    AUTO_BUDGET_CPU,
    prompt_settings,
    resolved_budget,
)


@pytest.fixture(autouse=True)
def fresh_device_answer() -> Iterator[None]:
    """``local_device_is_cpu`` decides once per process; each test here decides afresh."""
    local_device_is_cpu.cache_clear()
    yield
    local_device_is_cpu.cache_clear()


def configured(raw: dict[str, object]) -> RoostConfig:
    config, problems = apply_layer(RoostConfig(), raw, "test")
    assert not problems, problems
    return config


def test_the_default_budget_is_automatic() -> None:
    assert RoostConfig().context.budget == 0


def test_in_process_on_a_cpu_gets_the_cpu_budget() -> None:
    config = configured({"model": {"device": "cpu"}})
    assert resolved_budget(config) == AUTO_BUDGET_CPU < AUTO_BUDGET_ACCELERATOR
    # The server's pipeline and `roost context` read the same settings.
    assert pipeline_settings(config).prompt.budget == prompt_settings(config).budget == AUTO_BUDGET_CPU
    assert resolved_budget(configured({"model": {"device": "cpu"}, "backend": {"kind": "shared"}})) == (
        AUTO_BUDGET_CPU
    )


def test_a_model_server_gets_the_accelerator_budget_whatever_this_machine_has() -> None:
    config = configured({"model": {"device": "cpu"}, "backend": {"kind": "openai"}})
    assert resolved_budget(config) == AUTO_BUDGET_ACCELERATOR


def test_an_explicit_budget_wins_and_tiny_ones_are_raised_to_the_minimum() -> None:
    assert resolved_budget(configured({"context": {"budget": 512}, "model": {"device": "cpu"}})) == 512
    assert resolved_budget(configured({"context": {"budget": 4096}, "backend": {"kind": "openai"}})) == 4096
    assert resolved_budget(configured({"context": {"budget": 10}})) == 64


def test_negative_budgets_are_refused_by_the_configuration() -> None:
    config, problems = apply_layer(RoostConfig(), {"context": {"budget": -1}}, "test")
    assert problems and config.context.budget == 0


def test_auto_device_without_torch_imported_looks_for_a_gpu_driver(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # Deciding must not import torch (seconds, while the server starts): with torch not imported, the GPU
    # driver's device nodes decide.
    monkeypatch.delitem(sys.modules, "torch", raising=False)
    monkeypatch.setattr(backends, "GPU_DRIVER_NODES", (str(tmp_path / "absent"),))
    assert local_device_is_cpu("auto")
    assert "torch" not in sys.modules
    driver = tmp_path / "version"
    driver.write_text("NVRM version: 550\n")
    monkeypatch.setattr(backends, "GPU_DRIVER_NODES", (str(driver),))
    local_device_is_cpu.cache_clear()  # another machine
    assert not local_device_is_cpu("auto")
    assert not local_device_is_cpu("cuda:1")
    assert local_device_is_cpu("cpu")
    assert "torch" not in sys.modules


def test_an_imported_torch_is_asked(monkeypatch: pytest.MonkeyPatch) -> None:
    class FakeCuda:
        @staticmethod
        def is_available() -> bool:
            return True

    class FakeTorch:
        cuda = FakeCuda

    monkeypatch.setitem(sys.modules, "torch", FakeTorch)
    monkeypatch.setattr(backends, "missing_local_engine_modules", lambda: [])
    monkeypatch.setattr(backends, "GPU_DRIVER_NODES", ())
    assert not local_device_is_cpu("auto")
    assert local_device_is_cpu("cpu")


def test_the_answer_is_decided_once_per_process(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delitem(sys.modules, "torch", raising=False)
    monkeypatch.setattr(backends, "GPU_DRIVER_NODES", (str(tmp_path / "absent"),))
    assert local_device_is_cpu("auto")
    driver = tmp_path / "version"
    driver.write_text("NVRM version: 550\n")
    monkeypatch.setattr(backends, "GPU_DRIVER_NODES", (str(driver),))
    assert local_device_is_cpu("auto"), "a later call (torch imported, a driver seen) keeps the first answer"
