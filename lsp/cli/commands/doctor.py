"""``roost doctor``: what Roost will use on this machine, and what to fix when something is missing."""

from __future__ import annotations

import argparse
import importlib
import importlib.metadata
import platform
import sys
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from roost.context.languages import all_languages
from roost.engine.backends import LOCAL_EXTRA_INSTALL, local_device_summary, missing_local_engine_modules
from roost.engine.models.catalog import model_alias
from roost.engine.models.default import cached_model_dir
from roost.engine.shared import recorded_shared_engine
from roost.lsp.cli.backend_probe import backend_options, run_probe, shared_engine_probe_options
from roost.lsp.cli.registry import Command
from roost.lsp.config import ConfigStack, RoostConfig
from roost.lsp.core.shared_engine import shared_engine_options


@dataclass
class Check:
    area: str
    ok: bool
    detail: str
    fix: str = ""
    required: bool = True


def _version(distribution: str) -> str | None:
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return None


def check_python() -> Check:
    ok = sys.version_info >= (3, 11)
    return Check(
        "python",
        ok,
        f"{platform.python_implementation()} {platform.python_version()}",
        "" if ok else "Roost needs Python 3.11 or newer",
    )


def runs_model_in_process(config: RoostConfig) -> bool:
    """Whether the configuration needs the in-process engine (``roost[local]``): the ``transformers``
    backend runs it here, ``shared`` starts a local ``roost engine serve`` with it; ``openai`` does not."""
    return config.backend.kind in ("transformers", "shared")


def check_local_engine(config: RoostConfig) -> Check:
    """torch and the rest of ``roost[local]``: required only when the configuration runs the model here."""
    required = runs_model_in_process(config)
    missing = missing_local_engine_modules()
    if missing:
        if not required:
            return Check(
                "engine",
                True,
                f"in-process engine not installed (no {', '.join(missing)}); not needed: "
                f"backend.kind = {config.backend.kind!r} uses a model server",
                required=False,
            )
        return Check(
            "engine",
            False,
            f"in-process engine not installed (missing {', '.join(missing)}), and backend.kind = "
            f"{config.backend.kind!r} runs the model here",
            f'{LOCAL_EXTRA_INSTALL}, or set backend.kind = "openai" and backend.endpoint',
        )
    return Check("engine", True, local_device_summary(cpu_weights_described(config)), required=required)


def cpu_weights_described(config: RoostConfig) -> str:
    """How the in-process engine keeps the model's weights on a CPU under ``config`` (the choice of
    ``transformers_backend``: int8 linear layers by default, not the float32 doctor used to name)."""
    model = config.model
    if model.dtype != "auto":
        return f"weights in {model.dtype}"
    if model.quantization != "none":
        return f"weights quantized to {model.quantization}"
    if model.cpu_weights == "int8" and model.compile == "off":
        return "linear layers' weights in int8 (model.cpu_weights)"
    return "weights in float32"


def check_backend(config: RoostConfig) -> Check:
    """Where an ``openai`` backend sends requests (not contacted: ``roost doctor --online`` does that)."""
    endpoint = config.backend.endpoint or "http://127.0.0.1:8000/v1 (the default)"
    return Check(
        "backend",
        True,
        f"{config.backend.kind}: {endpoint} ({config.backend.server}), serving model {config.model.name!r}; "
        "not contacted (roost doctor --online checks it)",
    )


def check_backend_online(config: RoostConfig) -> Check:
    """``--online``: contacts the ``openai`` endpoint, or the running shared engine (see
    :mod:`roost.lsp.cli.backend_probe`)."""
    if config.backend.kind == "shared":
        return check_shared_engine_online(config)
    if config.backend.kind != "openai":
        return Check("backend", True, f"{config.backend.kind}: no endpoint to contact", required=False)
    endpoint = (config.backend.endpoint or "http://127.0.0.1:8000/v1").rstrip("/")
    options = backend_options(endpoint, config.model.name, config.backend.api_key_env, config.backend.server)
    result = run_probe(options, endpoint)
    return Check("backend", result.ok, f"{config.backend.server}: {result.detail}", result.fix)


def check_shared_engine_online(config: RoostConfig, state_dir: str | None = None) -> Check:
    """The shared engine its state file records: its /v1/models and /health. Not started when none runs
    (that loads the model; the first editor that needs it does)."""
    engine = recorded_shared_engine(shared_engine_options(config, state_dir))
    if engine is None:
        return Check(
            "backend",
            True,
            "shared: no shared engine is running (it starts with the first editor that needs it)",
            required=False,
        )
    result = run_probe(
        shared_engine_probe_options(engine, config.model.name),
        engine.url,
        check_model=False,
        unreachable_fix="the recorded engine does not answer: stop it, and the next editor starts a fresh one",
    )
    return Check("backend", result.ok, f"shared engine: {result.detail}", result.fix)


def check_grammars() -> Check:
    names = [language.name for language in all_languages()]
    missing = []
    for distribution in (
        "tree-sitter",
        "tree-sitter-python",
        "tree-sitter-javascript",
        "tree-sitter-typescript",
        "tree-sitter-go",
        "tree-sitter-rust",
        "tree-sitter-java",
    ):
        if _version(distribution) is None:
            missing.append(distribution)
    detail = f"tree-sitter {_version('tree-sitter')}; languages: {', '.join(names) or 'none registered'}"
    if missing:
        return Check(
            "grammars", False, detail + f"; missing {', '.join(missing)}", f"pip install {' '.join(missing)}"
        )
    return Check("grammars", True, detail)


def check_bandit() -> Check:
    version = _version("bandit")
    if version is None:
        return Check("bandit", False, "not installed", "pip install 'bandit>=1.9'")
    return Check(
        "bandit", True, f"bandit {version} (deep scanning for Python; secrets scan for every language)"
    )


def check_model(name: str, cache_dir: str = "") -> Check:
    """Where the configured model resolves to. Never loads or converts it (that can take a minute)."""
    alias = model_alias(name)
    if alias is not None:
        spec = alias.model
        missing = [
            f"{spec.distribution_prefix}{i}"
            for i in range(1, spec.part_count + 1)
            if _version(f"{spec.distribution_prefix}{i}") != spec.version
        ]
        if missing:
            # The `demo` extra installs the engine's default model; any other is installed by its parts.
            fix = (
                "pip install 'roost[demo]'"
                if alias.is_engine_default
                else "pip install " + " ".join(spec.pip_requirements)
            )
            return Check(
                "model",
                False,
                f"{name} → {spec.description}: missing {', '.join(missing[:3])}"
                + ("…" if len(missing) > 3 else ""),
                fix,
            )
        cached = cached_model_dir(spec, cache_dir or None)
        state = (
            f"converted copy at {cached}" if cached else "not yet converted (first use takes about a minute)"
        )
        return Check("model", True, f"{name} → {spec.name}: data packages {spec.version} installed; {state}")
    path = Path(name).expanduser()
    if path.exists():
        return Check("model", True, f"{name} → local {'GGUF file' if path.is_file() else 'directory'}")
    if "/" in name and not name.startswith((".", "/")):
        return Check(
            "model",
            True,
            f"{name} → Hugging Face id; must already be in the local cache (offline)",
            required=False,
        )
    return Check(
        "model",
        False,
        f"{name}: no such file or directory",
        "set model.name to `default`, a local model directory, or a GGUF file",
    )


def check_config(root: Path) -> tuple[Check, RoostConfig]:
    stack = ConfigStack.for_workspace(root)
    source = stack.workspace_file or "none (built-in defaults)"
    errors = [p for p in stack.problems if p.severity == "error"]
    warnings = [p for p in stack.problems if p.severity == "warning"]
    detail = f"file: {source}"
    for problem in errors + warnings:
        detail += f"\n  {problem.severity}: {problem.key}: {problem.message}"
    check = Check("config", not errors, detail, "fix the settings named above" if errors else "")
    return check, stack.current


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "root", nargs="?", default=".", help="workspace root (default: the current directory)"
    )
    parser.add_argument(
        "--online",
        action="store_true",
        help="contact the configured OpenAI-compatible endpoint (GET /models, and /health where the server "
        "has one) with a 5 s timeout; opt-in because the workspace's roost.toml may choose the endpoint and "
        "the request carries the API key named by backend.api_key_env",
    )


def run(args: argparse.Namespace) -> int:
    root = Path(args.root).resolve()
    config_check, config = check_config(root)
    checks = [
        check_python(),
        check_local_engine(config),
        config_check,
        # A model server names its own models: only a model run here is looked for on this machine.
        check_model(config.model.name, config.cache.dir)
        if runs_model_in_process(config)
        else (check_backend_online(config) if getattr(args, "online", False) else check_backend(config)),
        check_grammars(),
        check_bandit(),
    ]
    table = Table(title=f"roost doctor — {root}", show_lines=True)
    table.add_column("")
    table.add_column("check")
    table.add_column("details")
    table.add_column("fix")
    for check in checks:
        mark = "[green]ok[/]" if check.ok else ("[red]FAIL[/]" if check.required else "[yellow]note[/]")
        # escape: a fix such as pip install 'roost[local]' would otherwise be read as rich markup
        table.add_row(mark, check.area, escape(check.detail), escape(check.fix))
    Console().print(table)
    failed = [c for c in checks if not c.ok and c.required]
    if failed:
        Console(stderr=True).print(
            f"[red]{len(failed)} required check(s) failed:[/] "
            + escape("; ".join(f"{c.area}: {c.fix}" for c in failed))
        )
        return 1
    return 0


COMMAND = Command(
    name="doctor",
    help="check Python, the in-process engine or the model server, the model, grammars, bandit and configuration",
    configure=configure,
    run=run,
    order=20,
)
