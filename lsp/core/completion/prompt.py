"""The one prompt builder: syntax at the cursor → retrieval → the model's format, packed under the budget.

The completion pipeline calls :func:`build_prompt` for every suggestion and ``roost context`` calls it for
its preview, so for the same document, cursor, configuration, prompt format and token counter both get
the same prompt, byte for byte. The budget is cut once, by :class:`~roost.engine.prompts.packer.BudgetSplit`:
retrieval gets the context's token budget (and the prefix/suffix ones, to know what the prompt shows of
the document), the packer water-fills the same shares under the whole budget.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from roost.context.facts import FileFacts
from roost.context.parsing import parse_facts
from roost.context.retrieval.model import Candidate, ContextItem, RetrievalResult
from roost.context.retrieval.retriever import RetrievalRequest
from roost.engine.backends import local_device_is_cpu
from roost.engine.prompts.packer import BudgetSplit, PackOptions, TokenBudgets, pack
from roost.engine.prompts.tokens import TokenCounter
from roost.engine.prompts.types import ContextSnippet, Prompt, PromptFormat, PromptInput
from roost.engine.types import StartChoice
from roost.lsp.config import ContextSettings, RoostConfig
from roost.lsp.core.completion.shape import Shape, completion_shape

DROPPED_BY_PACKER = "did not fit the rendered prompt"
# Each start choice's prior: how well the name fits the line (``RetrievalResult.member_fits``, about -0.5 to
# 0.6) in nats per unit of fit, added to the model's scores on the way to it (see ``choice_priors``).
FIT_PRIOR_WEIGHT = 5.0


class ContextRetriever(Protocol):
    """What the builder needs of :class:`~roost.context.retrieval.retriever.Retriever`."""

    def retrieve(
        self,
        request: RetrievalRequest,
        count_tokens: Callable[[str], int],
        context_budget: int,
        *,
        prefix_budget: int = 0,
        suffix_budget: int = 0,
    ) -> RetrievalResult: ...


class BufferLimit(Protocol):
    """The index's size limit: a buffer over it completes with its local context only (parsing it and
    retrieving for it cost more than a suggestion is worth)."""

    def over_limit(self, text: str) -> bool: ...


@dataclass(frozen=True)
class PromptDocument:
    """The document being completed and the cursor in it."""

    path: str  # workspace-relative (or the file name when outside a workspace)
    language: str
    text: str
    line: int  # 0-based
    col: int  # 0-based, in characters
    offset: int  # cursor offset in ``text`` (characters)

    @property
    def prefix(self) -> str:
        return self.text[: self.offset]

    @property
    def suffix(self) -> str:
        return self.text[self.offset :]


# ``context.min_file_tokens``: what of the budget the file itself (prefix + suffix) keeps before the
# context takes its share. Measured with the bundled 0.5B at the CPU budget, 1,024 tokens, suffix first
# (bench/crossfile_bench.py, 45 cursors, docs/benchmarks.md): with half the budget to the context (the
# prefix kept ~350 tokens) exact match with context was 11 vs 13 for the file alone; with the file
# keeping 720 it is 15 vs 13. At 2,048 the file's half is over it, so larger budgets keep the shares.
DEFAULT_MIN_FILE_TOKENS = 720


def file_first_split(split: BudgetSplit, budget: int, min_file_tokens: int) -> BudgetSplit:
    """``split`` with the context's share lowered (never raised) so that prefix + suffix keep at least
    ``min_file_tokens`` of ``budget``; the prefix and suffix keep their ratio. A budget at or under
    ``min_file_tokens`` leaves no context."""
    file_share = split.prefix + split.suffix
    context = min(split.context, max(0.0, 1.0 - min_file_tokens / budget))
    if context >= split.context or file_share <= 0:
        return split
    scale = (1.0 - context) / file_share
    return BudgetSplit(split.prefix * scale, split.suffix * scale, context)


@dataclass(frozen=True)
class PromptSettings:
    budget: int = 2048
    split: BudgetSplit = field(default_factory=BudgetSplit)
    multiline: str = "auto"  # auto | always | never
    min_file_tokens: int = DEFAULT_MIN_FILE_TOKENS

    def budget_split(self) -> BudgetSplit:
        """The split retrieval and the packer use: the configured one, file first at small budgets."""
        return file_first_split(self.split, self.budget, self.min_file_tokens)

    def token_budgets(self) -> TokenBudgets:
        return self.budget_split().token_budgets(self.budget)


# ``context.budget = 0`` (the default): the budget for where the model runs. On a CPU prefill is
# compute-bound (about 190 prompt tokens/s on a 2-core laptop CPU with the bundled 0.5B), so the prompt's
# length is the first suggestion's latency; cross-file quality by budget: docs/benchmarks.md.
AUTO_BUDGET_CPU = 1024
AUTO_BUDGET_ACCELERATOR = 2048  # a GPU, a shared engine on one, or a model server
MINIMUM_BUDGET = 64


def resolved_budget(config: RoostConfig) -> int:
    """``context.budget``, or for 0 the one for the device the model runs on (a model server counts as
    an accelerator; a shared engine runs on this machine, like the in-process one)."""
    if config.context.budget:
        return max(config.context.budget, MINIMUM_BUDGET)
    if config.backend.kind != "openai" and local_device_is_cpu(config.model.device):
        return AUTO_BUDGET_CPU
    return AUTO_BUDGET_ACCELERATOR


def prompt_settings(config: RoostConfig) -> PromptSettings:
    """The configuration → the prompt's settings: the one place its budget keys are read."""
    return PromptSettings(
        budget=resolved_budget(config),
        split=budget_split(config.context),
        multiline=config.completion.multiline,
        min_file_tokens=config.context.min_file_tokens,
    )


def budget_split(context: ContextSettings) -> BudgetSplit:
    """The configuration's shares as the one split. Each share is validated to [0, 1] by the configuration,
    not their sum: they are weights, normalised by :class:`BudgetSplit`; all three 0 means the defaults."""
    shares = (context.prefix_share, context.suffix_share, context.context_share)
    return BudgetSplit(*shares) if sum(shares) > 0 else BudgetSplit()


@dataclass(frozen=True)
class PromptTools:
    """How prompts are written and counted for one model: its format and its tokenizer."""

    prompt_format: PromptFormat
    counter: TokenCounter


@dataclass
class BuiltPrompt:
    prompt: Prompt
    tokens: int  # the packed prompt, counted by the tools' counter
    shape: Shape
    budgets: TokenBudgets
    items: list[ContextItem]  # in the prompt, best first
    dropped: list[tuple[Candidate | ContextItem, str]]  # considered, not in the prompt, with the reason
    timings_ms: dict[str, float]  # syntax, retrieval, prompt
    # At ``receiver.▮`` with a receiver whose names the index knows whole: the names it offers that start
    # with the word typed, as the engine's ``GenerationRequest.start_choices`` (see :func:`start_choices`).
    start_choices: tuple[str, ...] = ()
    # What the prompt renders (the packer's cut of the file, the chosen snippets): a keystroke on the cursor's
    # line may continue it with the typed text (:mod:`~roost.lsp.core.completion.typing_prompt`).
    packed_input: PromptInput | None = None


class FunctionCounter:
    """A ``text -> tokens`` function (``Backend.count_tokens``) as a :class:`TokenCounter`. The packer
    caches costs per ``count``: bound methods of one backend compare equal, so the cache is shared across
    requests."""

    def __init__(self, count: Callable[[str], int]) -> None:
        self.count = count


def build_prompt(
    document: PromptDocument,
    settings: PromptSettings,
    tools: PromptTools,
    *,
    retriever: ContextRetriever | None,
    buffer_limit: BufferLimit | None,
    repo_name: str,
) -> BuiltPrompt:
    """Retrieval and packing for one cursor (CPU work: call it from a worker thread in async code)."""
    stages: dict[str, float] = {}
    last = time.perf_counter()

    def lap(stage: str) -> None:
        nonlocal last
        now = time.perf_counter()
        stages[stage] = (now - last) * 1000.0
        last = now

    local_only = buffer_limit is not None and buffer_limit.over_limit(document.text)
    facts: FileFacts | None = None if local_only else parse_facts(document.path, document.text)
    lines = document.text.split("\n")
    shape = completion_shape(facts, lines, document.line, document.col, settings.multiline)
    lap("syntax")

    budgets = settings.token_budgets()
    counter = tools.counter
    items: list[ContextItem] = []
    dropped: list[tuple[Candidate | ContextItem, str]] = []
    member_names: tuple[str, ...] = ()
    member_fits: tuple[float, ...] = ()
    if retriever is not None and not local_only:
        result = retriever.retrieve(
            RetrievalRequest(document.path, document.text, document.line, document.col, facts=facts),
            counter.count,
            budgets.context,
            prefix_budget=budgets.prefix,
            suffix_budget=budgets.suffix,
        )
        items = list(result.items)
        dropped.extend(result.dropped)
        member_names = result.member_names
        member_fits = result.member_fits
    lap("retrieval")

    # Retrieval's order is the tie-break among equal scores (the packer keeps the caller's order).
    snippets = [ContextSnippet(item.path, item.text, item.score, str(item.kind)) for item in items]
    prompt_input = PromptInput(
        path=document.path,
        language=document.language,
        prefix=document.prefix,
        suffix=document.suffix,
        snippets=tuple(snippets),
        repo_name=repo_name,
        blank_file=not document.text.strip(),
    )
    packed = pack(
        prompt_input,
        tools.prompt_format,
        counter,
        # Without snippets the configured split: the file gets the whole budget either way, and the
        # shares' ratio also bounds how far the suffix may grow (the packer's suffix window).
        PackOptions(
            budget_tokens=settings.budget, split=settings.budget_split() if snippets else settings.split
        ),
    )
    kept = {id(snippet) for snippet in packed.prompt_input.snippets}
    chosen = [item for item, snippet in zip(items, snippets, strict=True) if id(snippet) in kept]
    dropped.extend(
        (item, DROPPED_BY_PACKER)
        for item, snippet in zip(items, snippets, strict=True)
        if id(snippet) not in kept
    )
    lap("prompt")
    # Start choices constrain a raw FIM prompt's answer; a chat answer starts with a fence or prose.
    fim = packed.prompt.mode == "fim"
    choices = (
        start_choices(
            member_names,
            document.prefix,
            document.suffix,
            packed.prompt.forced_start,
            choice_priors(member_fits, len(member_names)),
        )
        if fim
        else ()
    )
    return BuiltPrompt(
        packed.prompt,
        packed.tokens,
        shape,
        budgets,
        chosen,
        dropped,
        stages,
        choices,
        packed_input=packed.prompt_input,
    )


# The word typed before the cursor, and what precedes it: a member is being typed after ``receiver.``.
_TYPED_MEMBER = re.compile(r"\.(\w*)\Z")


def choice_priors(fits: Sequence[float], count: int) -> tuple[float, ...]:
    """Each of the ``count`` offered names' bias among the start choices: its line fit times
    ``FIT_PRIOR_WEIGHT`` (bounded, as the fit is: it reorders names the model scores alike, not one it
    finds unlikely); none where retrieval gave no fits."""
    if len(fits) != count:
        return (0.0,) * count
    return tuple(FIT_PRIOR_WEIGHT * fit for fit in fits)


def start_choices(
    names: Sequence[str],
    prefix: str,
    suffix: str,
    forced_start: str,
    priors: Sequence[float] = (),
) -> tuple[str, ...]:
    """The receiver's ``names`` as the engine's start choices at the cursor (``prefix|suffix``): those
    that start with the word typed after ``receiver.``, each relative to where the prompt ends, so
    beginning with the prompt's ``forced_start`` (token healing leaves ``.ga`` of ``tasks.ga`` to the
    model: ``.gather``; without it the prompt ends after ``ga``: ``ther``). None inside a word (the name
    would not end at the cursor's text after it) or away from ``receiver.``. With ``priors`` (one per
    name, see :func:`choice_priors`) each choice carries its own (:class:`~roost.engine.types.StartChoice`)."""
    typed = _TYPED_MEMBER.search(prefix)
    if not names or typed is None or (suffix[:1].isalnum() or suffix[:1] == "_"):
        return ()
    fragment = typed.group(1)
    if forced_start and not forced_start.endswith(fragment):
        return ()  # a forced start is the prefix's tail, which holds the typed word; never otherwise
    priors = priors if len(priors) == len(names) else [0.0] * len(names)
    return tuple(
        StartChoice(forced_start + name[len(fragment) :], prior)
        if prior
        else forced_start + name[len(fragment) :]
        for name, prior in zip(names, priors, strict=True)
        if name.startswith(fragment)
    )


def repo_name_of(root: Path | None) -> str:
    return root.name if root is not None else ""
