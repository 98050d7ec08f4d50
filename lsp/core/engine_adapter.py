"""Builds the in-process backend (transformers model + scheduler) from the configuration, through the
engine's own loader. Only option mapping lives here; loading is the engine's."""

from __future__ import annotations

from typing import Any, Literal

from roost.lsp.config import RoostConfig

# The configuration's names for the packaged models → the engine's packaged model names.
_PACKAGED = {
    "default": "qwen2.5-coder-0.5b-instruct",
    "default-0.5b": "qwen2.5-coder-0.5b-instruct",
    "": "qwen2.5-coder-0.5b-instruct",
    "default-1.5b": "qwen2.5-coder-1.5b-instruct",
}


def packaged_model_name(setting: str) -> str | None:
    """The engine's packaged model a ``model.name`` setting names (``default``, ``default-1.5b``), or None
    when the setting is a path or a Hugging Face id."""
    return _PACKAGED.get(setting)


def compile_option(config: RoostConfig) -> bool | Literal["static"]:
    """The engine's ``compile`` option for the ``model.compile`` setting."""
    options: dict[str, bool | Literal["static"]] = {"off": False, "dynamic": True, "static": "static"}
    return options[config.model.compile]


def transformers_options(config: RoostConfig) -> Any:
    """The engine's options for the in-process backend; raises the engine's ``DependencyMissingError``
    naming ``roost[local]`` when it is not installed (its module imports torch)."""
    from roost.engine.backends import require_local_engine

    require_local_engine()
    from roost.engine.backends.transformers_backend import TransformersOptions

    name = config.model.name
    return TransformersOptions(
        model=packaged_model_name(name) or name,
        dtype=config.model.dtype,
        device=config.model.device,
        compile=compile_option(config),
        quantization=None if config.model.quantization == "none" else config.model.quantization,
        lora_adapter=config.model.adapter or None,
        cache_dir=config.cache.dir or None,
    )


def load_transformers_backend(config: RoostConfig, progress: Any = None) -> Any:
    """Blocking (seconds to a minute): call it from a worker thread. ``progress(message, fraction)`` hears
    the first run's model join and conversion (about a minute). Without ``roost[local]`` this raises the
    engine's ``DependencyMissingError`` naming the extra before anything imports torch."""
    options = transformers_options(config)  # checks the extra first
    from roost.engine.backends.transformers_backend import TransformersBackend

    return TransformersBackend.load(options, progress)


def hf_tokenizer_of(backend: Any) -> Any:
    """The Hugging Face tokenizer of an in-process backend (chat-template formats need it), else None."""
    loaded = getattr(backend, "loaded", None)
    adapter = getattr(loaded, "tokenizer", None)
    return getattr(adapter, "tokenizer", None)


def model_source(backend: Any) -> str | None:
    loaded = getattr(backend, "loaded", None)
    return getattr(loaded, "source", None)
