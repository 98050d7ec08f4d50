"""The user configuration mapped onto the engine's names and options: which model (the packaged models'
aliases come from :mod:`roost.engine.models.catalog`), which prompt family, and the in-process backend
(transformers model + scheduler), built through the engine's own loader. Only option mapping lives here;
loading is the engine's."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Literal

from roost.engine.backends import require_local_engine
from roost.engine.models.catalog import model_alias
from roost.engine.models.default import ProgressCallback
from roost.engine.prompts.family import detect_family, detect_family_from_dir, make_format
from roost.engine.prompts.types import PromptFormat
from roost.engine.types import Backend
from roost.lsp.config import RoostConfig

if TYPE_CHECKING:
    from roost.engine.backends.transformers_backend import TransformersBackend, TransformersOptions


def packaged_model_name(setting: str) -> str | None:
    """The engine's packaged model a ``model.name`` setting names (``default``, ``default-1.5b``), or None
    when the setting is a path or a Hugging Face id."""
    alias = model_alias(setting)
    return alias.model.name if alias is not None else None


def prompt_family(config: RoostConfig, model_dir: Path | None) -> str:
    """The prompt family: configured, else detected from the model directory (its ``config.json``), else
    the packaged model's, else guessed from the model's name."""
    if config.model.family != "auto":
        return config.model.family
    if model_dir is not None and model_dir.exists():
        return detect_family_from_dir(model_dir)
    alias = model_alias(config.model.name)
    if alias is not None:
        return alias.prompt_family
    return detect_family(config.model.name)


def compile_option(config: RoostConfig) -> bool | Literal["static"]:
    """The engine's ``compile`` option for the ``model.compile`` setting."""
    options: dict[str, bool | Literal["static"]] = {"off": False, "dynamic": True, "static": "static"}
    return options[config.model.compile]


def transformers_options(config: RoostConfig) -> TransformersOptions:
    """The engine's options for the in-process backend; raises the engine's ``DependencyMissingError``
    naming ``roost[local]`` when it is not installed (its module imports torch)."""
    require_local_engine()
    from roost.engine.backends import transformers_backend  # lazy: imports torch (roost[local] only)

    name = config.model.name
    return transformers_backend.TransformersOptions(
        model=packaged_model_name(name) or name,
        dtype=config.model.dtype,
        device=config.model.device,
        compile=compile_option(config),
        quantization=None if config.model.quantization == "none" else config.model.quantization,
        cpu_weights=config.model.cpu_weights,
        cpu_decode_weights=config.model.cpu_decode_weights,
        lora_adapter=config.model.adapter or None,
        cache_dir=config.cache.dir or None,
    )


def load_transformers_backend(
    config: RoostConfig, progress: ProgressCallback | None = None
) -> TransformersBackend:
    """Blocking (seconds to a minute): call it from a worker thread. ``progress(message, fraction)`` hears
    the first run's model join and conversion (about a minute). Without ``roost[local]`` this raises the
    engine's ``DependencyMissingError`` naming the extra before anything imports torch."""
    options = transformers_options(config)  # checks the extra first
    from roost.engine.backends import transformers_backend  # lazy: imports torch (roost[local] only)

    return transformers_backend.TransformersBackend.load(options, progress)


def hf_tokenizer_of(backend: Backend) -> object | None:
    """The Hugging Face tokenizer of an in-process backend (chat-template formats need it), else None."""
    loaded = getattr(backend, "loaded", None)
    adapter = getattr(loaded, "tokenizer", None)
    return getattr(adapter, "tokenizer", None)


def prompt_format_for(
    config: RoostConfig, family: str, hf_tokenizer: object | None, *, heals_forced_start: bool
) -> PromptFormat:
    """The prompt format the server uses for ``family``: suffix first only where the backend heals forced
    starts (the in-process engine) and ``completion.suffix_first`` is on."""
    return make_format(
        family,
        hf_tokenizer=hf_tokenizer,
        heals_forced_start=heals_forced_start and config.completion.suffix_first,
    )


def model_source(backend: Backend) -> str | None:
    """Where an in-process backend's model came from (its directory), else None."""
    loaded = getattr(backend, "loaded", None)
    source = getattr(loaded, "source", None)
    return source if isinstance(source, str) else None
