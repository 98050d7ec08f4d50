"""The prompt budget's default follows where the model runs (``context.budget = 0``)."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from roost.context.retrieval.model import CandidateKind, ContextItem, RetrievalResult
from roost.context.retrieval.retriever import RetrievalRequest
from roost.engine import backends
from roost.engine.backends import local_device_is_cpu
from roost.engine.prompts.packer import BudgetSplit
from roost.engine.prompts.qwen import FILE_SEP, QwenCoderFormat
from roost.engine.prompts.tokens import TokenCounter
from roost.engine.types import EngineError
from roost.lsp.config import RoostConfig, apply_layer
from roost.lsp.core.completion.pipeline import pipeline_settings
from roost.lsp.core.completion.prompt import (
    AUTO_BUDGET_ACCELERATOR,
    AUTO_BUDGET_CPU,
    DEFAULT_MIN_FILE_TOKENS,
    BuiltPrompt,
    PromptDocument,
    PromptTools,
    build_prompt,
    file_first_split,
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


class ManyDefinitions:
    """A retriever double that always has more definitions than the context budget holds."""

    def retrieve(
        self,
        request: RetrievalRequest,
        count_tokens: Callable[[str], int],
        context_budget: int,
        *,
        prefix_budget: int = 0,
        suffix_budget: int = 0,
    ) -> RetrievalResult:
        items: list[ContextItem] = []
        used = 0
        for i in range(500):
            text = f"def helper_{i}(value, scale={i}):\n    return value * scale + {i}\n"
            cost = count_tokens(text)
            if used + cost > context_budget:
                break
            used += cost
            items.append(
                ContextItem(f"lib/helpers_{i}.py", 0, 1, text, CandidateKind.DEFINITION, 1.0, "test", cost)
            )
        return RetrievalResult(items=items, tokens=used, budget=context_budget)


def long_module(functions: int) -> str:
    return "".join(
        f"def step_{i}(data):\n    '''Step {i} of the pipeline.'''\n    return data + [{i}]\n\n\n"
        for i in range(functions)
    )


def file_part_tokens(built: BuiltPrompt, path: str, counter: TokenCounter) -> int:
    """Tokens of the prompt from the current file's header on: the prefix and suffix it shows."""
    return counter.count(built.prompt.text.rsplit(f"{FILE_SEP}{path}\n", 1)[1])


def built_at(budget: int, counter: TokenCounter) -> BuiltPrompt:
    text = long_module(120) + "def run(data):\n    return step_" + "\n\n" + long_module(60)
    offset = text.index("return step_") + len("return step_")
    line = text.count("\n", 0, offset)
    document = PromptDocument(
        "app/main.py", "python", text, line, offset - text.rfind("\n", 0, offset) - 1, offset
    )
    tools = PromptTools(QwenCoderFormat(suffix_first=True), counter)
    settings = prompt_settings(configured({"context": {"budget": budget}}))
    return build_prompt(
        document, settings, tools, retriever=ManyDefinitions(), buffer_limit=None, repo_name="demo"
    )


def test_at_the_cpu_budget_the_file_keeps_its_window_before_the_context_gets_its_share() -> None:
    # Measured with the bundled 0.5B, suffix first, at 1,024 tokens (docs/benchmarks.md): half the budget
    # to the context left the prefix ~350 tokens and exact match with context fell below the file alone.
    from roost.engine.prompts.tokens import default_token_counter

    try:
        counter = default_token_counter()
    except (EngineError, ImportError, OSError) as error:
        pytest.skip(f"default model unavailable: {error}")
    small = built_at(AUTO_BUDGET_CPU, counter)
    assert small.items, "the context still gets the rest"
    assert small.budgets.context <= AUTO_BUDGET_CPU - DEFAULT_MIN_FILE_TOKENS
    # Not exactly the minimum: the prefix is cut on an 8-line grid and each snippet's cost is counted
    # with its own repository header. Half the budget to the context (the old split) left 457 here.
    assert file_part_tokens(small, "app/main.py", counter) >= 600
    # At the accelerator budget the file's share is over the minimum: the configured shares hold.
    large = built_at(AUTO_BUDGET_ACCELERATOR, counter)
    assert large.budgets.context == AUTO_BUDGET_ACCELERATOR // 2


def test_the_file_first_split_lowers_only_the_context_share() -> None:
    shares = BudgetSplit()
    assert file_first_split(shares, 2048, 720) == shares
    lowered = file_first_split(shares, 1024, 720)
    assert lowered.context == pytest.approx(1 - 720 / 1024)
    assert lowered.prefix / lowered.suffix == pytest.approx(shares.prefix / shares.suffix)
    assert file_first_split(shares, 512, 720).context == 0
    assert file_first_split(BudgetSplit(0.4, 0.1, 0.1), 1024, 720) == BudgetSplit(0.4, 0.1, 0.1)
    assert (
        prompt_settings(configured({"context": {"budget": 1024, "min_file_tokens": 0}})).budget_split()
        == shares
    )
