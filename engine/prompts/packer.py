"""Fit prefix, suffix and context under a token budget, counted with the model's real tokenizer.

The budget is split between prefix / suffix / context (default 35/15/50, in the spirit of Copilot);
a part that needs less than its share gives the rest to the others. The prefix is trimmed from the top
on line boundaries, the suffix from the bottom, and context items are taken best score first. Trimming
sums per-line token counts (each line counted once, cached by content across keystrokes) instead of
re-tokenizing candidate tails. The rendered prompt is counted as a whole at the end and shrunk until it
fits, so tokenizer merges across part or line boundaries can never push it over the budget.
"""

from __future__ import annotations

import math
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from roost.engine.prompts.tokens import TokenCounter
from roost.engine.prompts.types import ContextSnippet, Prompt, PromptError, PromptFormat, PromptInput


@dataclass(frozen=True)
class TokenBudgets:
    """The prompt budget cut by a :class:`BudgetSplit`: what retrieval packs the context under and what it
    estimates the prompt shows of the document (the packer then water-fills the same shares)."""

    prefix: int
    suffix: int
    context: int


@dataclass(frozen=True)
class BudgetSplit:
    """Shares of the budget. Any non-negative weights with a positive sum work (``BudgetSplit(2, 1, 2)``):
    they are normalised here, once, so ``prefix + suffix + context == 1`` on every instance."""

    prefix: float = 0.35
    suffix: float = 0.15
    context: float = 0.50

    def __post_init__(self) -> None:
        shares = (self.prefix, self.suffix, self.context)
        if any(not math.isfinite(s) or s < 0 for s in shares) or sum(shares) <= 0:
            raise ValueError(f"budget split shares must be >= 0 with a positive sum, got {shares}")
        total = sum(shares)
        if total != 1.0:
            object.__setattr__(self, "prefix", self.prefix / total)
            object.__setattr__(self, "suffix", self.suffix / total)
            object.__setattr__(self, "context", self.context / total)

    def token_budgets(self, total_tokens: int) -> TokenBudgets:
        """``total_tokens`` cut by the shares (rounded down)."""
        return TokenBudgets(
            prefix=int(total_tokens * self.prefix),
            suffix=int(total_tokens * self.suffix),
            context=int(total_tokens * self.context),
        )


@dataclass(frozen=True)
class PackOptions:
    budget_tokens: int = 2048
    split: BudgetSplit = BudgetSplit()
    # The prefix is cut at a line index rounded up to a multiple of this, so that while the user
    # types the cut point (and with it the whole prompt start) stays put for several lines.
    trim_granularity_lines: int = 8


@dataclass(frozen=True)
class PackedPrompt:
    prompt: Prompt
    # The input as rendered: trimmed prefix/suffix and the chosen snippets (in rendering order).
    prompt_input: PromptInput
    tokens: int
    dropped_snippets: tuple[ContextSnippet, ...]
    prefix_dropped_chars: int
    suffix_dropped_chars: int


def water_fill(available: int, needs: dict[str, int], shares: dict[str, float]) -> dict[str, int]:
    """Split ``available`` tokens by ``shares``; what a part does not need flows to the hungry ones."""
    allocation = dict.fromkeys(needs, 0)
    remaining = max(0, available)
    hungry = {k for k in needs if needs[k] > 0 and shares.get(k, 0) > 0}
    while remaining > 0 and hungry:
        weight = sum(shares[k] for k in hungry)
        given = 0
        for key in sorted(hungry):
            portion = int(remaining * shares[key] / weight)
            portion = min(portion, needs[key] - allocation[key])
            allocation[key] += portion
            given += portion
        if given == 0:
            # Rounding left crumbs: hand them out one by one, largest share first.
            for key in sorted(hungry, key=lambda k: -shares[k]):
                if remaining - given > 0 and allocation[key] < needs[key]:
                    allocation[key] += 1
                    given += 1
        remaining -= given
        hungry = {k for k in hungry if allocation[k] < needs[k]}
        if given == 0:
            break
    return allocation


def _smallest_fitting(low: int, high: int, guess: int, fits: Callable[[int], bool]) -> int | None:
    """Smallest ``i`` in ``[low, high]`` with ``fits(i)``, for a predicate monotone in ``i`` (false…true).
    Starts at ``guess`` and gallops, so a good guess needs few (expensive) token counts."""
    if not fits(high):
        return None
    guess = min(max(guess, low), high)
    if fits(guess):
        hi, step = guess, 1
        lo = guess - 1
        while lo >= low and fits(lo):
            hi = lo
            step *= 2
            lo = hi - step
        lo = max(lo, low - 1)
    else:
        lo, step = guess, 1
        hi = guess + 1
        while hi < high and not fits(hi):
            lo = hi
            step *= 2
            hi = min(lo + step, high)
    # Invariant: fits(hi), not fits(lo) (or lo == low - 1).
    while hi - lo > 1:
        middle = (lo + hi) // 2
        if fits(middle):
            hi = middle
        else:
            lo = middle
    return hi


def trim_prefix(
    text: str,
    max_tokens: int,
    counter: TokenCounter,
    granularity: int = 1,
    line_offset: int = 0,
    total: int | None = None,
) -> str:
    """The longest tail of ``text`` that starts on a line boundary and takes ``<= max_tokens`` tokens.
    If even the cursor's line does not fit, the tail of that line (cut by characters).

    With ``granularity`` > 1 the first kept line's number (``line_offset`` + its index in ``text``, i.e.
    its line number in the document) is rounded up to a multiple of it, so the cut point does not move
    on every keystroke."""
    if max_tokens <= 0 or not text:
        return ""
    total = counter.count(text) if total is None else total
    if total <= max_tokens:
        return text
    starts = [0] + [i + 1 for i, ch in enumerate(text) if ch == "\n"]
    guess_char = len(text) - int(len(text) * max_tokens / total)
    guess = next((n for n, s in enumerate(starts) if s >= guess_char), len(starts) - 1)
    index = _smallest_fitting(
        1, len(starts) - 1, guess, lambda n: counter.count(text[starts[n] :]) <= max_tokens
    )
    if index is not None:
        step = max(1, granularity)
        rounded = min(len(starts) - 1, -(-(index + line_offset) // step) * step - line_offset)
        return text[starts[rounded] :]
    line = text[starts[-1] :]
    cut = _smallest_fitting(0, len(line), 0, lambda k: counter.count(line[k:]) <= max_tokens)
    return line[cut:] if cut is not None else ""


def trim_suffix(text: str, max_tokens: int, counter: TokenCounter, total: int | None = None) -> str:
    """The longest head of ``text`` ending on a line boundary with ``<= max_tokens`` tokens; if even
    the first line does not fit, the head of that line (cut by characters)."""
    if max_tokens <= 0 or not text:
        return ""
    total = counter.count(text) if total is None else total
    if total <= max_tokens:
        return text
    ends = [i for i, ch in enumerate(text) if ch == "\n"] + [len(text)]
    # fits(n) for "keep lines up to ends[last - n]": monotone in n (dropping more lines fits better).
    last = len(ends) - 1
    guess = last - next((n for n, e in enumerate(ends) if e >= len(text) * max_tokens / total), last)
    dropped = _smallest_fitting(1, last, guess, lambda n: counter.count(text[: ends[last - n]]) <= max_tokens)
    if dropped is not None:
        return text[: ends[last - dropped]]
    line = text[: ends[0]]
    keep = _smallest_fitting(0, len(line), 0, lambda k: counter.count(line[: len(line) - k]) <= max_tokens)
    return line[: len(line) - keep] if keep is not None else ""


_MAX_CHARS_PER_TOKEN = 6


class _CostCache:
    """A small LRU of snippet costs."""

    def __init__(self, capacity: int = 4096) -> None:
        self.capacity = capacity
        self.entries: OrderedDict[object, int] = OrderedDict()

    def get(self, key: object) -> int | None:
        value = self.entries.get(key)
        if value is not None:
            self.entries.move_to_end(key)
        return value

    def put(self, key: object, value: int) -> None:
        self.entries[key] = value
        if len(self.entries) > self.capacity:
            self.entries.popitem(last=False)


# One cache per counting function. Keyed by ``counter.count``: bound methods compare equal when they
# belong to the same object, so a caller that wraps ``backend.count_tokens`` in a fresh counter per
# request still hits the same cache. A few tokenizers at most are alive at once; the oldest is evicted.
_COST_CACHES: OrderedDict[object, _CostCache] = OrderedDict()
# Line costs, per counting function: the same lines come back on every keystroke (and across requests
# on the same files), so trimming a prefix or suffix is a sum over cached counts.
_LINE_COST_CACHES: OrderedDict[object, _CostCache] = OrderedDict()
_MAX_COST_CACHES = 8
_LINE_CACHE_CAPACITY = 65536


def _cache_for(registry: OrderedDict[object, _CostCache], counter: TokenCounter, capacity: int) -> _CostCache:
    try:
        key: object = counter.count
        hash(key)
    except (AttributeError, TypeError):
        return _CostCache(capacity=0)  # nothing stable to key on: no caching
    cache = registry.get(key)
    if cache is None:
        cache = registry[key] = _CostCache(capacity)
        if len(registry) > _MAX_COST_CACHES:
            registry.popitem(last=False)
    else:
        registry.move_to_end(key)
    return cache


def _snippet_costs(counter: TokenCounter) -> _CostCache:
    return _cache_for(_COST_CACHES, counter, 4096)


def line_costs(lines: list[str], counter: TokenCounter) -> list[int]:
    """Token count of each line (each counted on its own, cached by content across calls).

    The sum over consecutive lines estimates the count of their concatenation: the tokenizers' pre-split
    keeps a line ending's newline with that line, so the sum is exact for most code and over-counts
    runs of blank lines; it may under-count in rare cases, which is why :func:`pack` verifies the
    rendered prompt with one real count."""
    cache = _cache_for(_LINE_COST_CACHES, counter, _LINE_CACHE_CAPACITY)
    costs: list[int | None] = [cache.get(line) for line in lines]
    missing = [i for i, cost in enumerate(costs) if cost is None]
    if missing:
        unique = list(dict.fromkeys(lines[i] for i in missing))
        count_many = getattr(counter, "count_many", None)
        counted = count_many(unique) if callable(count_many) else [counter.count(t) for t in unique]
        fresh = dict(zip(unique, counted, strict=True))
        for line, cost in fresh.items():
            cache.put(line, cost)
        for i in missing:
            costs[i] = fresh[lines[i]]
    return [c if c is not None else 0 for c in costs]


def _split_lines(text: str) -> list[str]:
    """``text`` cut after each ``\\n`` (kept with its line), the last piece possibly empty: one entry per
    line start, as :func:`trim_prefix` numbers them. Joins back to ``text``."""
    parts = text.split("\n")
    return [part + "\n" for part in parts[:-1]] + [parts[-1]]


def _trim_prefix_by_lines(
    text: str,
    lines: list[str],
    costs: list[int],
    max_tokens: int,
    counter: TokenCounter,
    granularity: int,
    line_offset: int,
) -> str:
    """:func:`trim_prefix` with line costs summed instead of counting tails: the shortest cut whose
    lines' summed cost fits, rounded to ``granularity`` like there."""
    if max_tokens <= 0 or not text:
        return ""
    if sum(costs) <= max_tokens:
        return text
    # Smallest first kept line n (>= 1) with sum(costs[n:]) <= max_tokens.
    tail = 0
    index = len(lines)
    for n in range(len(lines) - 1, 0, -1):
        tail += costs[n]
        if tail > max_tokens:
            break
        index = n
    if index < len(lines):
        step = max(1, granularity)
        rounded = min(len(lines) - 1, -(-(index + line_offset) // step) * step - line_offset)
        return "".join(lines[max(index, rounded) :])
    # Not even the cursor's line fits: cut it by characters with real counts (rare).
    return trim_prefix(lines[-1], max_tokens, counter)


def _trim_suffix_by_lines(
    text: str, lines: list[str], costs: list[int], max_tokens: int, counter: TokenCounter
) -> str:
    """:func:`trim_suffix` with summed line costs: the longest head of whole lines (its last newline
    dropped, as there) whose lines' summed cost fits."""
    if max_tokens <= 0 or not text:
        return ""
    if sum(costs) <= max_tokens:
        return text
    used = 0
    kept = 0
    for cost in costs:
        if used + cost > max_tokens:
            break
        used += cost
        kept += 1
    if kept > 0:
        return "".join(lines[:kept])[:-1]  # kept < len(lines): the head ends with its newline
    return trim_suffix(lines[0].removesuffix("\n"), max_tokens, counter)


def _tail_window(text: str, chars: int) -> str:
    if len(text) <= chars:
        return text
    start = text.find("\n", len(text) - chars)
    return text[start + 1 :] if start >= 0 else text[len(text) - chars :]


def _head_window(text: str, chars: int) -> str:
    if len(text) <= chars:
        return text
    end = text.rfind("\n", 0, chars)
    return text[:end] if end > 0 else text[:chars]


def pack(
    prompt_input: PromptInput,
    prompt_format: PromptFormat,
    counter: TokenCounter,
    options: PackOptions | None = None,
) -> PackedPrompt:
    """Render ``prompt_input`` with ``prompt_format`` in at most ``options.budget_tokens`` tokens.

    Raises :class:`PromptError` when the budget cannot even hold the format's fixed parts.
    """
    options = options or PackOptions()
    budget = options.budget_tokens
    split = options.split

    def count(prompt: Prompt) -> int:
        return prompt_format.count_tokens(prompt, counter)

    empty = prompt_input.with_parts(prefix="", suffix="", snippets=())
    fixed = count(prompt_format.render(empty))
    available = budget - fixed
    if available < 0:
        raise PromptError(
            f"a token budget of {budget} cannot hold the {prompt_format.family} prompt's fixed parts "
            f"({fixed} tokens); raise the budget"
        )

    snippets = prompt_input.snippets
    # Marginal cost of each snippet as the format renders it (headers and separators included). The
    # same snippets come back on every keystroke, so their costs are cached per counter and format.
    cache = _snippet_costs(counter)
    costs = []
    for snippet in snippets:
        key = (
            id(prompt_format),
            prompt_format.family,
            empty.path,
            empty.language,
            empty.repo_name,
            empty.blank_file,  # a format may render a blank file's header with or without snippets
            snippet,
        )
        cost = cache.get(key)
        if cost is None:
            cost = count(prompt_format.render(empty.with_parts(snippets=(snippet,)))) - fixed
            cache.put(key, cost)
        costs.append(cost)
    context_need = sum(costs)
    shares = {"prefix": split.prefix, "suffix": split.suffix, "context": split.context}

    # Counting is linear in the text: look only at the part of a long prefix/suffix that could fit at
    # all, cut on a line boundary (code averages 3-4 characters per token; 6 leaves room for
    # whitespace-heavy text). Water-filling gives the context at least min(its need, its share), so
    # the prefix can never get more than the rest. The suffix matters less than the prefix: it may grow
    # to twice its share from what others leave. Text beyond a window would be trimmed anyway.
    context_floor = min(context_need, int(available * split.context))
    prefix_window = _tail_window(
        prompt_input.prefix, max(1, available - context_floor) * _MAX_CHARS_PER_TOKEN
    )
    suffix_tokens_max = max(1, int(2 * available * split.suffix))
    suffix_window = _head_window(prompt_input.suffix, suffix_tokens_max * _MAX_CHARS_PER_TOKEN)

    # Prefix and suffix needs are sums of cached line costs: on a keystroke only the edited line is
    # counted anew; the rendered prompt gets one real count below.
    prefix_lines = _split_lines(prefix_window)
    prefix_costs = line_costs(prefix_lines, counter)
    suffix_lines = _split_lines(suffix_window)
    suffix_costs = line_costs(suffix_lines, counter)
    needs = {
        "prefix": sum(prefix_costs),
        "suffix": sum(suffix_costs),
        "context": context_need,
    }
    allocation = water_fill(available, needs, shares)

    # Best score first; among equal scores the caller's order.
    ranked = sorted(range(len(snippets)), key=lambda i: (-snippets[i].score, i))
    chosen: list[int] = []
    used = 0
    for i in ranked:
        if used + costs[i] <= allocation["context"]:
            chosen.append(i)
            used += costs[i]

    # What the context did not use flows back to the prefix and suffix.
    text_allocation = water_fill(
        available - used,
        {"prefix": needs["prefix"], "suffix": needs["suffix"]},
        {"prefix": split.prefix, "suffix": split.suffix},
    )
    window_line_offset = prompt_input.prefix.count("\n", 0, len(prompt_input.prefix) - len(prefix_window))
    prefix = _trim_prefix_by_lines(
        prefix_window,
        prefix_lines,
        prefix_costs,
        text_allocation["prefix"],
        counter,
        options.trim_granularity_lines,
        window_line_offset,
    )
    suffix = _trim_suffix_by_lines(
        suffix_window, suffix_lines, suffix_costs, text_allocation["suffix"], counter
    )

    while True:
        # Rendering order: the best snippet last, closest to the code being completed. The order is a
        # function of scores alone, so unchanged context renders byte-identically on every keystroke.
        rendered_snippets = tuple(snippets[i] for i in reversed(chosen))
        current = prompt_input.with_parts(prefix=prefix, suffix=suffix, snippets=rendered_snippets)
        prompt = prompt_format.render(current)
        total = count(prompt)
        if total <= budget:
            break
        over = total - budget
        # The line sums under-counted (rare): take ``over`` more off the prefix, still cut on the
        # rounded line grid, so the prompt start stays put across keystrokes.
        kept_lines = _split_lines(prefix)
        kept_costs = line_costs(kept_lines, counter)
        if sum(kept_costs) > 2 * over:
            offset = prompt_input.prefix.count("\n", 0, len(prompt_input.prefix) - len(prefix))
            shorter = _trim_prefix_by_lines(
                prefix,
                kept_lines,
                kept_costs,
                sum(kept_costs) - over,
                counter,
                options.trim_granularity_lines,
                offset,
            )
            if len(shorter) < len(prefix):
                prefix = shorter
                continue
        prefix_tokens = counter.count(prefix)
        if prefix_tokens > 2 * over:
            shorter = trim_prefix(prefix, prefix_tokens - over, counter, 1)
            if len(shorter) < len(prefix):
                prefix = shorter
                continue
        if chosen:
            chosen.pop()  # the lowest-ranked snippet taken
            continue
        if prefix:
            shorter = trim_prefix(prefix, max(0, prefix_tokens - over), counter, 1)
            prefix = shorter if len(shorter) < len(prefix) else prefix[1:]
            continue
        if suffix:
            suffix_tokens = counter.count(suffix)
            shorter = trim_suffix(suffix, max(0, suffix_tokens - over), counter)
            suffix = shorter if len(shorter) < len(suffix) else suffix[:-1]
            continue
        raise PromptError(f"cannot fit the {prompt_format.family} prompt in {budget} tokens")

    dropped = tuple(snippets[i] for i in range(len(snippets)) if i not in set(chosen))
    return PackedPrompt(
        prompt=prompt,
        prompt_input=current,
        tokens=total,
        dropped_snippets=dropped,
        prefix_dropped_chars=len(prompt_input.prefix) - len(prefix),
        suffix_dropped_chars=len(prompt_input.suffix) - len(suffix),
    )
