"""Roost's configuration: one typed schema, layered from several sources.

Sources, later wins: built-in defaults → ``[tool.roost]`` in the workspace's ``pyproject.toml`` or a
``roost.toml`` at the workspace root → LSP ``initializationOptions`` → ``workspace/didChangeConfiguration``.

Every layer is validated key by key. An unknown key is a warning naming the nearest valid key; a value of
the wrong type or out of range is an error naming the key and the expected form, and that key keeps its
last good value. Nothing here raises on bad user input.

The README's configuration table is generated from this schema (``schema_markdown``) and a test checks the
two agree, so the documentation cannot drift.
"""

from __future__ import annotations

import copy
import dataclasses
import difflib
import tomllib
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

Severity = Literal["low", "medium", "high"]


def setting(default: Any, doc: str, *, minimum: float | None = None, maximum: float | None = None) -> Any:
    """A schema field with its documentation and optional numeric bounds."""
    meta = {"doc": doc, "minimum": minimum, "maximum": maximum}
    if isinstance(default, list | dict):
        return field(default_factory=lambda: copy.deepcopy(default), metadata=meta)
    return field(default=default, metadata=meta)


@dataclass
class ModelSettings:
    name: str = setting(
        "default",
        "Model to run: `default` (the bundled Qwen2.5-Coder-0.5B, `roost[demo]`), `default-1.5b`, a local "
        "directory, a GGUF file, or a Hugging Face id already in the local cache.",
    )
    family: str = setting("auto", "Prompt family (`auto` detects it from the model's config and name).")
    device: str = setting("auto", "`auto`, `cpu`, `cuda`, `cuda:N`.")
    dtype: Literal["auto", "bfloat16", "float16", "float32"] = setting(
        "auto", "`auto`: bf16 on GPUs that support it, fp16 on older GPUs, fp32 on CPU."
    )
    quantization: Literal["none", "int8", "nf4", "fp8"] = setting(
        "none",
        "Weight quantization (`roost[quant]`): int8/nf4 through bitsandbytes (0.47+ also on a CPU); fp8 through "
        "transformers' FP8 kernels on a GPU of compute capability 8.9+, or torchao's weight-only float8 on a CPU.",
    )
    cpu_weights: Literal["int8", "float32"] = setting(
        "int8",
        "On a CPU with `dtype` auto and no `quantization`: `int8` keeps the linear layers' weights in int8 "
        "(per-channel scales, float32 activations) and the embedding table in bf16: the bundled model loads in "
        "1.2 GB of RSS instead of 2.9 GB, with the same HumanEval single-line pass@1 (`bench/latency_bench.py "
        "--weights`); `float32` keeps the exact weights.",
    )
    cpu_decode_weights: Literal["int8", "int4"] = setting(
        "int8",
        "With `cpu_weights` int8: the weights a decode step (each generated token) reads. `int8`: the int8 "
        "copy (a 4-bit one only where the model's own weights are 4-bit, exact); `int4`: every linear layer "
        "also keeps a 4-bit copy (32-value groups) for decoding, half the bytes a token, so generating is "
        "faster but lossy, and the model takes ~0.6 byte a weight more memory (~+300 MB for the bundled "
        "model); prompts are still read with the int8 weights (`docs/benchmarks.md`).",
    )
    compile: Literal["off", "dynamic", "static"] = setting(
        "off",
        "torch.compile: `dynamic` compiles the forward pass with dynamic shapes; `static` decodes in a static KV "
        "cache with the decode step compiled once (CUDA graphs; pays off on a GPU only).",
    )
    adapter: str = setting("", "Optional LoRA adapter directory (needs peft: `roost[lora]`).")


@dataclass
class BackendSettings:
    kind: Literal["transformers", "openai", "shared"] = setting(
        "transformers",
        "`transformers` runs the model in process; `openai` talks to an OpenAI-compatible server "
        "(vLLM, TGI, SGLang, llama.cpp, Ollama); `shared` uses one local `roost engine serve` for all editors.",
    )
    endpoint: str = setting("", "Base URL of the OpenAI-compatible server, e.g. `http://127.0.0.1:8000/v1`.")
    server: Literal["generic", "vllm", "sglang", "tgi", "llama.cpp", "ollama", "openai"] = setting(
        "generic",
        "Which server `endpoint` is: `vllm` and `sglang` continue a prefilled answer (the code fence of chat "
        "infill); the others get the chat without it.",
    )
    api_key_env: str = setting(
        "", "Name of the environment variable holding the API key (never the key itself)."
    )
    timeout_s: float = setting(30.0, "Request timeout in seconds.", minimum=0.1, maximum=600)


@dataclass
class ContextSettings:
    budget: int = setting(
        0,
        "Prompt token budget (prefix + suffix + context). The three shares are weights: normalised to sum to 1. "
        "`0` picks it for where the model runs: 1024 when it runs on this machine's CPU (prefill there is "
        "compute-bound: `bench/latency_bench.py`), 2048 on a GPU or a model server. Values below 64 count as 64.",
        minimum=0,
        maximum=131072,
    )
    prefix_share: float = setting(
        0.35, "Share of the budget for the code before the cursor.", minimum=0, maximum=1
    )
    suffix_share: float = setting(
        0.15, "Share of the budget for the code after the cursor.", minimum=0, maximum=1
    )
    context_share: float = setting(
        0.50, "Share of the budget for code from other files.", minimum=0, maximum=1
    )
    min_file_tokens: int = setting(
        720,
        "Tokens of the budget the file itself (prefix + suffix) keeps before code from other files gets its "
        "share: at small budgets the context share shrinks to leave the file this many (at 1024 the context "
        "gets ~300 tokens, at 2048 its full share; a budget at or below it has no context). `0`: the shares "
        "alone (measured: `bench/crossfile_bench.py`).",
        minimum=0,
        maximum=131072,
    )


@dataclass
class IndexSettings:
    exclude: list[str] = setting([], "Extra gitignore-style globs never indexed nor read for context.")
    python_roots: list[str] = setting([], "Extra Python source roots, relative to the workspace.")
    max_file_bytes: int = setting(1_000_000, "Files larger than this are not indexed.", minimum=1)
    watch: bool = setting(True, "Follow changes made on disk outside the editor.")


@dataclass
class GateSettings:
    block_severity: Severity = setting("high", "Findings at or above this severity block a suggestion…")
    block_confidence: Severity = setting("medium", "…when the finding's confidence is at or above this.")
    warn_severity: Severity = setting("medium", "Findings at or above this severity (but not blocking) warn.")
    unscanned: Literal["pass", "warn", "block"] = setting(
        "warn", "What to do with code that parses nowhere, so it cannot be scanned."
    )
    block_secrets: bool = setting(
        True, "Block suggestions that contain secrets or reproduce workspace secrets."
    )


@dataclass
class CompletionSettings:
    debounce_ms: int = setting(
        75, "Base debounce before asking the model; adapted to typing rhythm.", minimum=0, maximum=2000
    )
    max_tokens: int = setting(96, "Most tokens generated for one inline completion.", minimum=1, maximum=4096)
    multiline: Literal["auto", "always", "never"] = setting(
        "auto", "Multi-line suggestions: `auto` decides from the syntax at the cursor."
    )
    temperature: float = setting(0.0, "Sampling temperature (0 is greedy).", minimum=0, maximum=2)
    first_line_early: Literal["auto", "on", "off"] = setting(
        "auto",
        "A multi-line suggestion is answered with its first line as soon as that line is decoded (post-processed "
        "and gated on its own); the rest of the block is decoded meanwhile and served when the line is accepted "
        "(the next request at the new cursor), without a new model call. `auto`: on where the model runs on "
        "this machine's CPU (decoding a block there takes seconds: `bench/latency_bench.py`), off on a GPU or "
        "a model server (the whole block comes in about the time of one line).",
    )
    suffix_first: bool = setting(
        True,
        "Fill-in-the-middle prompts put the code after the cursor before the code above it (SPM) where the "
        "model runs in process or in the shared engine and its format supports it (Qwen2.5-Coder): the engine "
        "writes the cursor's partial word in the model's own tokens (token healing). Measured better on "
        "HumanEval infilling, and a keystroke then reuses the whole prompt's KV (`docs/benchmarks.md`). Off: "
        "prefix first (PSM), as another model server always gets.",
    )
    member_choices: bool = setting(
        True,
        "At `receiver.` where the index knows every name the receiver offers (a Python module or class of the "
        "workspace whose bases are in it too), the in-process engine keeps the suggestion's first word to one of "
        "those names, as the editor's own completion list does, and the model picks among them by its own "
        "scores (`docs/benchmarks.md`). The shared engine does the same; no effect with another model server.",
    )
    prefetch: bool = setting(
        True,
        "Where the editor says the cursor rests (`roost/cursorIdle`, sent by the Roost extension and plugin; "
        "other editors: where they ask for code actions at the cursor and it stays 0.3 s), "
        "the completion prompt for that cursor is built and prefilled into the in-process engine's prefix "
        "cache while it is idle, so the first suggestion there skips most of its prefill (seconds on a "
        "laptop CPU: `bench/latency_bench.py --prefetch both`). It yields to any real request within one "
        'small chunk. With the shared engine (`backend.kind = "shared"`) its own scheduler does the same; no '
        "effect with another model server (its prompt cache is not ours to fill).",
    )
    first_answer_ms: int = setting(
        2000,
        "Where the in-process engine could not prefill a cursor's whole prompt in this time (a laptop CPU at a "
        "cursor it has not seen: 5–9 s for ~1,000 tokens), the first suggestion there comes from a shorter "
        "prompt that fits (the file around the cursor, at least 384 tokens; no project context below "
        "`context.min_file_tokens`) and the whole prompt is prefilled once the document has had no request for "
        "0.5 s, for the next requests. The "
        "engine measures its own speed; on a GPU the whole prompt always fits. 0: always the whole prompt "
        "(`bench/latency_bench.py`, `docs/benchmarks.md`).",
        minimum=0,
        maximum=60000,
    )
    typing_keeps_prompt: bool = setting(
        True,
        "While the user types on one line, a keystroke the suggestion did not foresee is answered from the "
        "in-process engine's previous prompt with the typed text appended (its context and cut of the file "
        "unchanged, its KV cached: one short prefill) where the prompt built afresh would take over 0.15 s "
        "longer to prefill; the fresh one is prefilled once the document has had no request for 0.5 s, and "
        "the next keystrokes get it. Off: every keystroke gets a fresh prompt (`bench/latency_bench.py "
        "--typing-keeps-prompt on,off`, `docs/benchmarks.md`).",
    )
    exclude: list[str] = setting(
        [], "Gitignore-style globs of files never sent to the model (no completion, edit or fix-up there)."
    )


@dataclass
class CacheSettings:
    dir: str = setting(
        "", "Cache directory for the index and converted models (default: the user cache dir)."
    )
    completions: int = setting(256, "Completions kept in the LRU cache.", minimum=0)


@dataclass
class MetricsSettings:
    port: int = setting(
        0, "Serve Prometheus metrics on 127.0.0.1:PORT (0 disables).", minimum=0, maximum=65535
    )


@dataclass
class LogSettings:
    level: Literal["debug", "info", "warning", "error"] = setting(
        "info", "Log level of the server's log file."
    )


@dataclass
class RoostConfig:
    model: ModelSettings = field(default_factory=ModelSettings)
    backend: BackendSettings = field(default_factory=BackendSettings)
    context: ContextSettings = field(default_factory=ContextSettings)
    index: IndexSettings = field(default_factory=IndexSettings)
    gate: GateSettings = field(default_factory=GateSettings)
    completion: CompletionSettings = field(default_factory=CompletionSettings)
    cache: CacheSettings = field(default_factory=CacheSettings)
    metrics: MetricsSettings = field(default_factory=MetricsSettings)
    log: LogSettings = field(default_factory=LogSettings)


# A section given as a plain string sets this key: ``model = "path/to/model"`` means ``model.name``.
SECTION_SHORTHAND = {"model": "name", "backend": "kind"}


@dataclass(frozen=True)
class ConfigProblem:
    severity: Literal["warning", "error"]
    source: str
    key: str
    message: str

    def __str__(self) -> str:
        return f"{self.source}: {self.key}: {self.message}"


def _section_fields(section_type: type) -> dict[str, dataclasses.Field[Any]]:
    return {f.name: f for f in dataclasses.fields(section_type)}


def _hints(section_type: type) -> dict[str, Any]:
    return typing.get_type_hints(section_type)


def _nearest(key: str, candidates: list[str]) -> str:
    match = difflib.get_close_matches(key, candidates, n=1, cutoff=0.5)
    return f"; did you mean `{match[0]}`?" if match else f"; valid keys: {', '.join(sorted(candidates))}"


def describe_type(hint: Any) -> str:
    origin = typing.get_origin(hint)
    if origin is Literal:
        return " | ".join(f'"{choice}"' for choice in typing.get_args(hint))
    if origin is list:
        return f"list of {describe_type(typing.get_args(hint)[0])}"
    if hint is bool:
        return "true/false"
    if hint is int:
        return "integer"
    if hint is float:
        return "number"
    if hint is str:
        return "string"
    return str(hint)


def _coerce(value: Any, hint: Any, meta: typing.Mapping[str, Any]) -> tuple[bool, Any]:
    """Return (ok, value) for a user value against the field's type and bounds."""
    origin = typing.get_origin(hint)
    if origin is Literal:
        ok = isinstance(value, str) and value in typing.get_args(hint)
        return ok, value
    if origin is list:
        (item,) = typing.get_args(hint)
        if not isinstance(value, list):
            return False, value
        coerced = []
        for element in value:
            ok, element = _coerce(element, item, {})
            if not ok:
                return False, value
            coerced.append(element)
        return True, coerced
    if hint is bool:
        return isinstance(value, bool), value
    if hint is int:
        ok = isinstance(value, int) and not isinstance(value, bool)
    elif hint is float:
        ok = isinstance(value, int | float) and not isinstance(value, bool)
        value = float(value) if ok else value
    elif hint is str:
        return isinstance(value, str), value
    else:  # pragma: no cover - schema uses only the types above
        return False, value
    if ok and meta.get("minimum") is not None and value < meta["minimum"]:
        return False, value
    if ok and meta.get("maximum") is not None and value > meta["maximum"]:
        return False, value
    return ok, value


def _expected(hint: Any, meta: typing.Mapping[str, Any]) -> str:
    text = describe_type(hint)
    low, high = meta.get("minimum"), meta.get("maximum")
    if low is not None and high is not None:
        text += f" between {low} and {high}"
    elif low is not None:
        text += f" ≥ {low}"
    return text


def apply_layer(base: RoostConfig, raw: Any, source: str) -> tuple[RoostConfig, list[ConfigProblem]]:
    """Return a new config with ``raw`` applied over ``base``, and the problems found.

    Bad keys are skipped (they keep the value from ``base``), so one typo never discards a whole layer.
    """
    config = copy.deepcopy(base)
    problems: list[ConfigProblem] = []
    if raw is None or raw == []:  # Lua (Neovim) encodes an empty table as an empty list
        return config, problems
    if not isinstance(raw, dict):
        problems.append(ConfigProblem("error", source, "(root)", "expected a table/object of settings"))
        return config, problems
    sections = _section_fields(RoostConfig)
    for section_name, section_raw in raw.items():
        if section_name not in sections:
            problems.append(
                ConfigProblem(
                    "warning",
                    source,
                    section_name,
                    "unknown setting" + _nearest(section_name, list(sections)),
                )
            )
            continue
        if isinstance(section_raw, str) and section_name in SECTION_SHORTHAND:
            section_raw = {SECTION_SHORTHAND[section_name]: section_raw}
        elif section_raw == []:  # an empty Lua table
            section_raw = {}
        if not isinstance(section_raw, dict):
            problems.append(
                ConfigProblem("error", source, section_name, "expected a table/object of settings")
            )
            continue
        section = getattr(config, section_name)
        fields = _section_fields(type(section))
        hints = _hints(type(section))
        for key, value in section_raw.items():
            dotted = f"{section_name}.{key}"
            if key not in fields:
                problems.append(
                    ConfigProblem("warning", source, dotted, "unknown setting" + _nearest(key, list(fields)))
                )
                continue
            meta = fields[key].metadata
            ok, coerced = _coerce(value, hints[key], meta)
            if not ok:
                problems.append(
                    ConfigProblem(
                        "error",
                        source,
                        dotted,
                        f"got {value!r}, expected {_expected(hints[key], meta)}; keeping {getattr(section, key)!r}",
                    )
                )
                continue
            setattr(section, key, coerced)
    return config, problems


# What a workspace's own files may not choose while the user has not trusted the workspace: where prompts
# go and which model answers, what the gate lets through, what is kept out of prompts, where the server
# writes, which port it opens. One list for both: the VS Code extension's `restrictedConfigurations`
# (editors/vscode/scripts/generate_settings.py writes it from here), which guards `.vscode/settings.json`,
# and the server's reading of roost.toml, which that list cannot reach.
UNTRUSTED_WORKSPACE_RESTRICTED_KEYS: tuple[str, ...] = (
    "model.name",
    "model.adapter",
    "backend.kind",
    "backend.endpoint",
    "backend.server",
    "backend.api_key_env",
    "index.exclude",
    "gate.block_severity",
    "gate.block_confidence",
    "gate.unscanned",
    "gate.block_secrets",
    "completion.exclude",
    "cache.dir",
    "metrics.port",
)
# The initializationOptions key beside "roost" by which an editor says whether the user trusts the
# workspace (VS Code's workspace trust). Absent: trusted, as before (generic clients, Neovim).
WORKSPACE_TRUSTED_OPTION = "roostWorkspaceTrusted"


def workspace_trusted(initialization_options: Any) -> bool:
    """False only where the editor said the workspace is untrusted."""
    if isinstance(initialization_options, dict):
        return initialization_options.get(WORKSPACE_TRUSTED_OPTION) is not False
    return True


def _without_restricted_keys(table: Any, source: str) -> tuple[dict[str, Any] | None, list[ConfigProblem]]:
    """``table`` without what an untrusted workspace's file may not set, and a warning for each key dropped."""
    if not isinstance(table, dict):
        return table, []
    kept: dict[str, Any] = {}
    problems = []
    for section, values in table.items():
        if not isinstance(values, dict):
            kept[section] = values
            continue
        allowed = {}
        for key, value in values.items():
            if f"{section}.{key}" in UNTRUSTED_WORKSPACE_RESTRICTED_KEYS:
                problems.append(
                    ConfigProblem(
                        "warning",
                        source,
                        f"{section}.{key}",
                        "ignored: the editor has not trusted this workspace, and its own file may not choose "
                        "this (trust the workspace, or set it in the editor's user settings)",
                    )
                )
            else:
                allowed[key] = value
        kept[section] = allowed
    return kept, problems


def read_workspace_file(
    root: Path, *, trusted: bool = True
) -> tuple[dict[str, Any] | None, str | None, list[ConfigProblem]]:
    """The ``[tool.roost]`` table of ``pyproject.toml`` or the whole ``roost.toml`` at ``root``.

    ``roost.toml`` wins when both exist (it exists only to configure Roost). Returns the table, the file
    it came from, and a problem when the file does not parse. ``trusted=False`` (the editor says the user
    has not trusted the workspace) leaves out :data:`UNTRUSTED_WORKSPACE_RESTRICTED_KEYS`.
    """
    for name, extract in (
        ("roost.toml", lambda doc: doc),
        ("pyproject.toml", lambda doc: doc.get("tool", {}).get("roost")),
    ):
        path = root / name
        if not path.is_file():
            continue
        try:
            document = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
            return None, str(path), [ConfigProblem("error", str(path), "(file)", f"cannot be read: {error}")]
        table = extract(document)
        if table is None:
            continue
        restricted: list[ConfigProblem] = []
        if not trusted:
            table, restricted = _without_restricted_keys(table, str(path))
        table, source, problems = _without_foreign_key_variable(table, str(path))
        return table, source, restricted + problems
    return None, None, []


# The variable a workspace file may name for the backend's key. The file comes with the repository, which
# is untrusted, and the key is sent with every request to the endpoint the same file may name: any other
# name would let a repository send ``AWS_SECRET_ACCESS_KEY`` or ``GITHUB_TOKEN`` to a server of its choice.
WORKSPACE_KEY_VARIABLE_PREFIX = "ROOST_"


def _without_foreign_key_variable(
    table: Any, source: str
) -> tuple[dict[str, Any] | None, str | None, list[ConfigProblem]]:
    backend = table.get("backend") if isinstance(table, dict) else None
    if not isinstance(backend, dict):
        return table, source, []
    variable = backend.get("api_key_env")
    if not variable or (isinstance(variable, str) and variable.startswith(WORKSPACE_KEY_VARIABLE_PREFIX)):
        return table, source, []
    problem = ConfigProblem(
        "error",
        source,
        "backend.api_key_env",
        f"a workspace file may only name a {WORKSPACE_KEY_VARIABLE_PREFIX}* variable (its value is sent to "
        f"the model server), got {variable!r}; set other names in the editor's settings",
    )
    kept = {key: value for key, value in backend.items() if key != "api_key_env"}
    return {**table, "backend": kept}, source, [problem]


@dataclass
class ConfigStack:
    """The layers in order; ``current`` is the merged result, recomputed when a layer changes."""

    workspace_root: Path | None = None
    workspace_file: str | None = None
    layers: dict[str, Any] = field(default_factory=dict)
    current: RoostConfig = field(default_factory=RoostConfig)
    problems: list[ConfigProblem] = field(default_factory=list)

    ORDER: typing.ClassVar[tuple[str, ...]] = ("workspace", "initializationOptions", "didChangeConfiguration")

    @classmethod
    def for_workspace(cls, root: Path | None, *, trusted: bool = True) -> ConfigStack:
        stack = cls(workspace_root=root)
        if root is not None:
            table, source, problems = read_workspace_file(root, trusted=trusted)
            stack.workspace_file = source
            stack.layers["workspace"] = table
            stack.problems.extend(problems)
        stack._rebuild()
        return stack

    def set_layer(self, name: str, raw: Any) -> list[ConfigProblem]:
        """Replace one layer; returns the problems of that layer only (for reporting to the user)."""
        # Invalid keys keep their last good value (apply_layer skips them), so a bad live edit never
        # leaves the server without settings.
        self.layers[name] = raw
        return self._rebuild(report_layer=name)

    def set_client_settings(self, raw: dict[str, Any]) -> list[ConfigProblem]:
        """The editor's whole Roost settings, pushed by ``workspace/didChangeConfiguration``. They replace
        what it sent at ``initialize`` too: the clients leave out a setting the user resets to "the
        server's default", and that setting must go back to the workspace file's value or the default,
        not to the value it had when the editor started. A bad value keeps the value it has now (as a
        bad key of :meth:`set_layer` does). Returns the problems of ``raw``."""
        _config, problems = apply_layer(self.current, raw, "didChangeConfiguration")
        bad = [problem.key for problem in problems if problem.severity == "error"]
        self.layers.pop("initializationOptions", None)
        self.layers["didChangeConfiguration"] = _with_current_values(raw, bad, self.current)
        self._rebuild(report_layer="didChangeConfiguration")
        return problems

    def _rebuild(self, report_layer: str | None = None) -> list[ConfigProblem]:
        config = RoostConfig()
        layer_problems: list[ConfigProblem] = []
        for name in self.ORDER:
            if name not in self.layers:
                continue
            source = self.workspace_file if name == "workspace" and self.workspace_file else name
            config, problems = apply_layer(config, self.layers[name], source)
            if report_layer is None or report_layer == name:
                layer_problems.extend(problems)
        self.current = config
        if report_layer is None:
            self.problems.extend(layer_problems)
        return layer_problems


def _with_current_values(raw: dict[str, Any], keys: list[str], current: RoostConfig) -> dict[str, Any]:
    """``raw`` with the settings at ``keys`` (``section.key``, or a whole ``section``) as ``current`` has
    them."""
    if not keys:
        return raw
    values = as_dict(current)
    repaired = copy.deepcopy(raw)
    for key in keys:
        section, _, name = key.partition(".")
        if section not in values:
            continue
        if name:
            repaired[section][name] = values[section][name]
        else:
            repaired[section] = values[section]
    return repaired


def carries_client_settings(raw: Any) -> bool:
    """Whether a ``workspace/didChangeConfiguration`` carries the editor's Roost settings: ``{"roost":
    {...}}`` (even empty) or our table as is (a section of ours in it), rather than nothing for us
    (``null``, ``{}``, other servers' sections: a generic client pushes its default settings after
    ``initialize``, which must not undo its ``initializationOptions``)."""
    if not isinstance(raw, dict):
        return False
    wrapped = raw.get("roost")
    return (
        isinstance(wrapped, dict) or wrapped == [] or any(key in _section_fields(RoostConfig) for key in raw)
    )


def unwrap_client_settings(raw: Any) -> Any:
    """Editors send either our table or ``{"roost": {...}}``; accept both (and ``{"roost": []}``: Neovim
    encodes the plugin's empty settings table as an empty list)."""
    if isinstance(raw, dict) and isinstance(raw.get("roost"), dict):
        return raw["roost"]
    if isinstance(raw, dict) and raw.get("roost") == []:
        return {}
    if isinstance(raw, dict) and WORKSPACE_TRUSTED_OPTION in raw:
        return {key: value for key, value in raw.items() if key != WORKSPACE_TRUSTED_OPTION}
    return raw


def schema_rows() -> list[tuple[str, str, str, str]]:
    """(key, type, default, description) for every setting, in schema order."""
    rows = []
    defaults = RoostConfig()
    for section in dataclasses.fields(RoostConfig):
        section_value = getattr(defaults, section.name)
        hints = _hints(type(section_value))
        for f in dataclasses.fields(section_value):
            default = getattr(section_value, f.name)
            rows.append(
                (
                    f"{section.name}.{f.name}",
                    _expected(hints[f.name], f.metadata),
                    _toml_literal(default),
                    f.metadata["doc"],
                )
            )
    return rows


def _toml_literal(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return f'"{value}"'
    if isinstance(value, list):
        return "[" + ", ".join(_toml_literal(v) for v in value) + "]"
    return repr(value)


def schema_markdown() -> str:
    lines = ["| key | type | default | description |", "| --- | --- | --- | --- |"]
    for key, kind, default, doc in schema_rows():
        escaped_kind = kind.replace("|", "\\|")
        lines.append(f"| `{key}` | {escaped_kind} | `{default}` | {doc} |")
    return "\n".join(lines)


def as_dict(config: RoostConfig) -> dict[str, Any]:
    return dataclasses.asdict(config)


__all__ = [
    "ConfigProblem",
    "ConfigStack",
    "RoostConfig",
    "apply_layer",
    "as_dict",
    "carries_client_settings",
    "read_workspace_file",
    "schema_markdown",
    "schema_rows",
    "unwrap_client_settings",
]
