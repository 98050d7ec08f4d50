"""``model.name`` and ``model.family`` mapped onto the engine's names (lsp/core/engine_adapter.py and
shared_engine.py), all through the engine's one table of packaged models."""

from __future__ import annotations

from pathlib import Path

import pytest

from roost.lsp.config import RoostConfig, apply_layer
from roost.lsp.core.engine_adapter import packaged_model_name, prompt_family, transformers_options
from roost.lsp.core.shared_engine import engine_model_name


def _config(**model: str) -> RoostConfig:
    config, problems = apply_layer(RoostConfig(), {"model": model}, "test")
    assert not problems
    return config


def test_packaged_aliases_map_onto_the_engine_models_and_their_family() -> None:
    for setting in ("default", "default-0.5b", ""):
        config = _config(name=setting)
        assert packaged_model_name(setting) == "qwen2.5-coder-0.5b-instruct"
        assert engine_model_name(config) is None  # the engine's own default: one shared engine for all
        assert prompt_family(config, None) == "qwen2.5-coder"
    larger = _config(name="default-1.5b")
    assert engine_model_name(larger) == packaged_model_name("default-1.5b") == "qwen2.5-coder-1.5b-instruct"
    assert prompt_family(larger, None) == "qwen2.5-coder"


def test_other_models_keep_their_name_and_have_their_family_detected(tmp_path: Path) -> None:
    hub_id = _config(name="mistralai/Codestral-22B-v0.1")
    assert packaged_model_name(hub_id.model.name) is None
    assert engine_model_name(hub_id) == "mistralai/Codestral-22B-v0.1"
    assert prompt_family(hub_id, None) == "codestral"
    model_dir = tmp_path / "starcoder2-3b"
    model_dir.mkdir()
    assert prompt_family(_config(name=str(model_dir)), model_dir) == "starcoder2"
    assert prompt_family(_config(name="default", family="codellama"), None) == "codellama"  # configured wins


def test_cpu_decode_weights_reaches_the_engine_options_and_defaults_to_int8() -> None:
    pytest.importorskip("torch")
    assert transformers_options(RoostConfig()).cpu_decode_weights == "int8"
    assert transformers_options(_config(cpu_decode_weights="int4")).cpu_decode_weights == "int4"
    config, problems = apply_layer(RoostConfig(), {"model": {"cpu_decode_weights": "int2"}}, "test")
    assert problems and config.model.cpu_decode_weights == "int8"
