"""The packaged models by the names a user configures (``model.name = "default-1.5b"``): the one table
of what each alias loads and which prompt family it needs. The language server, the shared engine and
``roost doctor`` all read it here; nothing else spells these names.

Light: imports no torch (``pip install roost`` reads this table without the local engine).
"""

from __future__ import annotations

from dataclasses import dataclass

from roost.engine.models.default import DEFAULT_MODEL_NAME, QWEN_CODER_0_5B, QWEN_CODER_1_5B, PackagedModel


@dataclass(frozen=True)
class ModelAlias:
    """One configuration name for a packaged model."""

    setting: str  # what ``model.name`` says ("" and "default" both mean the default model)
    model: PackagedModel  # the engine's packaged model it loads
    prompt_family: str  # the prompt format it needs (a name of roost.engine.prompts.family.FAMILIES)

    @property
    def is_engine_default(self) -> bool:
        """True for the model an engine loads when it is given no model at all."""
        return self.model.name == DEFAULT_MODEL_NAME


MODEL_ALIASES: dict[str, ModelAlias] = {
    alias.setting: alias
    for alias in (
        ModelAlias("", QWEN_CODER_0_5B, "qwen2.5-coder"),
        ModelAlias("default", QWEN_CODER_0_5B, "qwen2.5-coder"),
        ModelAlias("default-0.5b", QWEN_CODER_0_5B, "qwen2.5-coder"),
        ModelAlias("default-1.5b", QWEN_CODER_1_5B, "qwen2.5-coder"),
    )
}


def model_alias(setting: str) -> ModelAlias | None:
    """The packaged model a ``model.name`` setting names, or None when the setting is a path or a Hugging
    Face id."""
    return MODEL_ALIASES.get(setting)
