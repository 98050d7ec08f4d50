"""``backend.kind = "shared"``: every editor window on this machine uses one ``roost engine serve``.

The first editor that needs the model starts the engine (a detached process on 127.0.0.1 that outlives
it); the next ones find it through its state file and talk to it over the OpenAI-compatible API, so one
loaded model and one continuous batch serve them all. Finding or starting, the lock that makes two
editors opening at once start one engine, and the health check are the engine's
(:mod:`roost.engine.shared`); this module only maps the user configuration onto it.
"""

from __future__ import annotations

import os
from pathlib import Path

from roost.engine.backends.openai_http import OpenAIHTTPBackend, OpenAIHTTPOptions
from roost.engine.models.catalog import model_alias
from roost.engine.shared import SharedEngineOptions, shared_engine
from roost.lsp.config import RoostConfig
from roost.lsp.core.engine_adapter import compile_option, prompt_family


def engine_model_name(config: RoostConfig) -> str | None:
    """The engine's ``--model`` for the configured model: None for the engine's own default (so that
    every alias of the default model finds the same running engine), else the packaged model's name or
    the configured path or id."""
    alias = model_alias(config.model.name)
    if alias is None:
        return absolute_if_present(config.model.name)
    return None if alias.is_engine_default else alias.model.name


def absolute_path(name: str) -> str:
    """``name`` (``~`` expanded) from here, the server's working directory, where the in-process load would
    look: the engine runs in its state directory, where a relative path would name something else."""
    return os.path.abspath(os.path.expanduser(name))


def absolute_if_present(name: str) -> str:
    """:func:`absolute_path` where ``name`` names a file or directory from here, else unchanged: a Hugging
    Face id (``org/model``) that is not a local path must stay an id."""
    return absolute_path(name) if Path(name).expanduser().exists() else name


def shared_engine_options(config: RoostConfig, state_dir: str | None = None) -> SharedEngineOptions:
    return SharedEngineOptions(
        model=engine_model_name(config),
        dtype=config.model.dtype,
        device=config.model.device,
        quantization=None if config.model.quantization == "none" else config.model.quantization,
        compile=compile_option(config),
        cpu_weights=config.model.cpu_weights,
        cpu_decode_weights=config.model.cpu_decode_weights,
        lora_adapter=absolute_path(config.model.adapter) if config.model.adapter else None,
        cache_dir=absolute_path(config.cache.dir) if config.cache.dir else None,
        state_dir=state_dir,
        # A configured key (backend.api_key_env) is the one an engine started here requires.
        api_key=os.environ.get(config.backend.api_key_env) if config.backend.api_key_env else None,
    )


def connect_shared_engine(config: RoostConfig, state_dir: str | None = None) -> tuple[OpenAIHTTPBackend, str]:
    """Find the local shared engine, starting it if none runs; returns (HTTP backend, prompt family).

    Blocking (a start loads the model: seconds for the default model, minutes for a 24B one): call it
    from a worker thread. Failures raise the engine's ``BackendUnavailableError`` naming the engine log."""
    options = shared_engine_options(config, state_dir)
    engine = shared_engine(options)
    backend = OpenAIHTTPBackend(
        OpenAIHTTPOptions(
            base_url=engine.url,
            model=config.model.name,
            api_key=engine.api_key,  # the running engine's own key, from its owner-only state file
            read_timeout_s=config.backend.timeout_s,
            max_connect_retries=1,
            server_kind="roost",  # our engine server continues a prefilled answer
        )
    )
    return backend, shared_engine_family(config)


def shared_engine_family(config: RoostConfig) -> str:
    """The prompt family of the shared engine's model: detected from its directory when the engine's
    ``--model`` is one, else from the configuration (``roost context`` asks it too, without an engine)."""
    model = engine_model_name(config)
    model_dir = Path(model).expanduser() if model else None
    return prompt_family(config, model_dir if model_dir is not None and model_dir.is_dir() else None)
