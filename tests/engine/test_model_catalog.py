"""The one table of packaged models by their configuration names (engine/models/catalog.py): what each
alias loads and the prompt family it needs, as the language server, the shared engine and doctor read it."""

from __future__ import annotations

from roost.engine.models.catalog import MODEL_ALIASES, model_alias
from roost.engine.models.default import DEFAULT_MODEL_NAME, PACKAGED_MODELS
from roost.engine.prompts.family import FAMILIES, detect_family


def test_every_alias_names_a_packaged_model_and_the_family_its_name_detects() -> None:
    for alias in MODEL_ALIASES.values():
        assert PACKAGED_MODELS[alias.model.name] is alias.model
        assert alias.prompt_family in FAMILIES
        assert alias.prompt_family == detect_family(alias.model.name)


def test_the_default_aliases_name_the_engine_default_and_paths_are_no_alias() -> None:
    for setting in ("", "default", "default-0.5b"):
        alias = model_alias(setting)
        assert alias is not None and alias.model.name == DEFAULT_MODEL_NAME and alias.is_engine_default
    larger = model_alias("default-1.5b")
    assert larger is not None and larger.model.name == "qwen2.5-coder-1.5b-instruct"
    assert not larger.is_engine_default
    assert model_alias("/models/devstral") is None
    assert model_alias("Qwen/Qwen2.5-Coder-7B") is None
