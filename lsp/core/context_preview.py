"""What the language server would send the model for a cursor, without a model: ``roost context``.

The preview is built from the parts the server uses: the workspace's configuration (built-in defaults,
then ``[tool.roost]`` in pyproject.toml or roost.toml at the root), the index with the configuration's
options, the retriever, :func:`~roost.lsp.core.completion.prompt.build_prompt`, the prompt format and
token counter the server's backend would have, and the redaction the server applies to every request.
So for the same document, cursor and configuration the preview's prompt is the server's, byte for byte
(what the editor adds, other open documents and recent edits, is not known here).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

from roost.context.index import WorkspaceIndex, open_index
from roost.context.languages import language_for_path
from roost.context.retrieval.model import Candidate, ContextItem
from roost.context.retrieval.retriever import Retriever
from roost.context.scanning import is_secret_path
from roost.engine.backends.openai_http import estimated_token_count
from roost.engine.backends.redacting import known_secrets_redactor, redact_request
from roost.engine.gate.secrets import collect_workspace_secrets, redact
from roost.engine.models.default import ensure_packaged_model
from roost.engine.prompts.family import make_format
from roost.engine.prompts.packer import TokenBudgets
from roost.engine.prompts.tokens import TransformersTokenCounter
from roost.engine.token_healing import TextTokenizer, healed
from roost.engine.tokenizer import HuggingFaceTokenizer
from roost.engine.types import GenerationRequest, ModelNotFoundError
from roost.lsp.config import ConfigStack, RoostConfig
from roost.lsp.core.completion.prompt import (
    FunctionCounter,
    PromptDocument,
    PromptSettings,
    PromptTools,
    build_prompt,
    prompt_settings,
)
from roost.lsp.core.completion.shape import Shape
from roost.lsp.core.engine_adapter import packaged_model_name, prompt_family, prompt_format_for
from roost.lsp.core.services import index_options, retrieval_options
from roost.lsp.core.shared_engine import shared_engine_family


class PreviewError(ValueError):
    """A request the preview cannot serve (bad position, missing or secret file); reported, never raised out
    of the command."""


@dataclass
class Preview:
    prompt: str  # as the server sends it (redacted)
    # The cursor's partial word the model is made to write first (token healing; suffix-first prompts
    # of the in-process engine), redacted with the prompt as one text; "" when none.
    forced_start: str = field(default="", kw_only=True)
    # Whether ``forced_start`` is the engine's own (cut at a token boundary of the line by the model's
    # tokenizer) or, without a tokenizer here, the format's rule on characters (the engine may force more).
    forced_by_tokenizer: bool = field(default=False, kw_only=True)
    prompt_tokens: int
    shape: Shape
    budgets: TokenBudgets
    items: list[ContextItem]  # in the prompt, best first
    dropped: list[tuple[Candidate | ContextItem, str]]
    timings_ms: dict[str, float]
    ms: float


def workspace_config(root: Path, overrides: Mapping[str, object] | None = None) -> RoostConfig:
    """The configuration the server starts with for ``root``; ``overrides`` (``{"context": {"budget":
    1024}}``) stand for an editor's settings (the server's ``initializationOptions`` layer)."""
    stack = ConfigStack.for_workspace(root)
    if overrides:
        problems = stack.set_layer("initializationOptions", dict(overrides))
        if problems:
            raise PreviewError("; ".join(str(problem) for problem in problems))
    return stack.current


def with_budget(config: RoostConfig, budget: int | None) -> RoostConfig:
    return config if budget is None else replace(config, context=replace(config.context, budget=budget))


def prompt_tools(config: RoostConfig) -> PromptTools:
    """The prompt format and token counter the server's backend has for ``config``, without loading a
    model: the in-process model's own tokenizer; an OpenAI-compatible server's (or the shared engine's)
    estimate, which is what the server counts with."""
    if config.backend.kind == "transformers":
        model_dir = _local_model_dir(config)
        counter = TransformersTokenCounter.from_pretrained(model_dir)
        # The server detects the family from the loaded model's source: the directory, or the packaged
        # model's name (not a directory).
        source = None if packaged_model_name(config.model.name) is not None else model_dir
        family = prompt_family(config, source)
        # The in-process engine heals forced starts: the format the server makes for it.
        prompt_format = prompt_format_for(config, family, counter.tokenizer, heals_forced_start=True)
        return PromptTools(prompt_format, counter)
    if config.backend.kind == "shared":
        # Our own engine server heals forced starts as the in-process engine does (roost_forced_start).
        prompt_format = prompt_format_for(config, shared_engine_family(config), None, heals_forced_start=True)
        return PromptTools(prompt_format, FunctionCounter(estimated_token_count))
    return PromptTools(make_format(prompt_family(config, None)), FunctionCounter(estimated_token_count))


def engine_tokenizer(tools: PromptTools) -> TextTokenizer | None:
    """The model's tokenizer as the engine encodes and decodes with it, where ``tools`` count with a
    transformers tokenizer (the in-process model's); None for an estimate, or a bare ``tokenizers`` file."""
    tokenizer = getattr(tools.counter, "tokenizer", None)
    if (
        tokenizer is None
        or not hasattr(tokenizer, "decode")
        or not hasattr(tokenizer, "added_tokens_decoder")
    ):
        return None
    return HuggingFaceTokenizer(tokenizer)


def _local_model_dir(config: RoostConfig) -> Path:
    packaged = packaged_model_name(config.model.name)
    if packaged is not None:
        return ensure_packaged_model(packaged, cache_dir=config.cache.dir or None)
    path = Path(config.model.name).expanduser()
    if path.is_dir():
        return path
    raise ModelNotFoundError(
        f"roost context counts tokens with the model's tokenizer: set `model.name` to a local model "
        f"directory or a packaged model (got {config.model.name!r})"
    )


class ContextPreview:
    """Index a workspace once, then preview cursors."""

    def __init__(
        self,
        root: Path,
        config: RoostConfig,
        tools: PromptTools | None = None,
        tokenizer: TextTokenizer | None = None,
    ) -> None:
        """``tokenizer``: the model's, to show the forced start the engine will use (default: the one of
        ``tools``, when they have it; see :func:`engine_tokenizer`)."""
        if not root.is_dir():
            raise PreviewError(f"workspace root {root} is not a directory")
        self.root = root.resolve()
        self.config = config
        self.settings: PromptSettings = prompt_settings(config)
        self.tools = tools if tools is not None else prompt_tools(config)
        self.tokenizer = tokenizer if tokenizer is not None else engine_tokenizer(self.tools)
        self.workspace_index: WorkspaceIndex = open_index(self.root, index_options(config))
        self.workspace_index.index()
        self.retriever = Retriever(self.workspace_index, redact=redact, options=retrieval_options(config))
        self.retriever.warm()  # as the server does before it reports "ready"
        secrets = collect_workspace_secrets(self.root)
        # The server redacts every request it sends with the gate's patterns and these values.
        self.redact: Callable[[str], str] = known_secrets_redactor(lambda: secrets)

    def close(self) -> None:
        self.workspace_index.close()

    def rel_path(self, file: str) -> str:
        path = Path(file)
        if path.is_absolute():
            try:
                return path.resolve().relative_to(self.root).as_posix()
            except ValueError as error:
                raise PreviewError(f"{file} is outside the workspace {self.root}") from error
        return path.as_posix().removeprefix("./")

    def preview(self, file: str, line: int, col: int, buffer: str | None = None) -> Preview:
        """The prompt for the cursor at ``line``:``col`` (1-based; ``col`` counts characters) of ``file``
        (workspace-relative or absolute), whose text is ``buffer`` or else the file on disk."""
        rel = self.rel_path(file)
        if is_secret_path(rel):
            raise PreviewError(f"{rel} matches the secret-file exclusions; Roost never reads it")
        if buffer is None:
            try:
                buffer = (self.root / rel).read_text(encoding="utf-8", errors="replace")
            except OSError as error:
                raise PreviewError(f"cannot read {rel}: {error.strerror or error}") from error
        lines = buffer.split("\n")
        if not isinstance(line, int) or not isinstance(col, int) or line < 1 or col < 1:
            raise PreviewError(f"LINE and COL are 1-based integers, got {line}:{col}")
        if line > len(lines):
            raise PreviewError(f"line {line} is past the end of {rel} ({len(lines)} lines)")
        line_text = lines[line - 1].removesuffix("\r")
        if col > len(line_text) + 1:
            raise PreviewError(f"column {col} is past the end of line {line} ({len(line_text)} characters)")

        started = time.perf_counter()
        offset = sum(len(text) + 1 for text in lines[: line - 1]) + (col - 1)
        language = language_for_path(rel)
        document = PromptDocument(
            rel, language.name if language else "plaintext", buffer, line - 1, col - 1, offset
        )
        built = build_prompt(
            document,
            self.settings,
            self.tools,
            retriever=self.retriever,
            buffer_limit=self.workspace_index.options,
            repo_name=self.root.name,
        )
        sent = redact_request(
            GenerationRequest(prompt=built.prompt.text, forced_start=built.prompt.forced_start), self.redact
        )
        prompt, forced = sent.prompt or "", sent.forced_start
        if self.tokenizer is not None:
            # The engine's token healing (the scheduler) moves the prompt's end back to a token boundary
            # of the line: what it will force, not the format's cut (``().``, not ``.``).
            prompt, moved = healed(self.tokenizer, prompt, forced)
            forced = moved + forced
        return Preview(
            prompt=prompt,
            forced_start=forced,
            forced_by_tokenizer=self.tokenizer is not None,
            prompt_tokens=built.tokens,
            shape=built.shape,
            budgets=built.budgets,
            items=built.items,
            dropped=built.dropped,
            timings_ms=built.timings_ms,
            ms=(time.perf_counter() - started) * 1000.0,
        )
