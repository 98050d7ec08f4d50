"""Token budgeting: never over the budget as counted by the real tokenizer, trimmed on line boundaries,
context by score, unused shares flowing to the other parts."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from roost.engine.prompts import (
    BudgetSplit,
    ContextSnippet,
    PackOptions,
    PromptError,
    PromptInput,
    TekkenTokenCounter,
    TokenBudgets,
    make_format,
    pack,
)
from roost.engine.prompts.packer import trim_prefix, trim_suffix, water_fill
from roost.engine.prompts.tokens import TokenCounter


@pytest.fixture(scope="module")
def tekken() -> TekkenTokenCounter:
    return TekkenTokenCounter.bundled()


@pytest.fixture(scope="module")
def qwen_counter() -> TokenCounter:
    """The real Qwen2.5-Coder tokenizer from the offline default model."""
    from roost.engine.prompts.tokens import default_token_counter
    from roost.engine.types import EngineError

    try:
        return default_token_counter()
    except (EngineError, ImportError, OSError) as error:  # the demo extra is not installed
        pytest.skip(f"default model unavailable: {error}")


def module_source(name: str, functions: int) -> str:
    return "".join(
        f"def {name}_{i}(value, scale={i}):\n    '''Scale {name} {i}.'''\n    return value * scale + {i}\n\n"
        for i in range(functions)
    )


def big_input(snippet_count: int = 8) -> PromptInput:
    snippets = tuple(
        ContextSnippet(f"pkg/mod{i}.py", module_source(f"helper{i}", 6), score=float(i % 5) + i / 100)
        for i in range(snippet_count)
    )
    prefix = (
        "import pkg\n\n" + module_source("local", 60) + "def target(x):\n    y = helper3_2(x)\n    return "
    )
    suffix = "\n\n" + module_source("after", 40)
    return PromptInput("pkg/main.py", "python", prefix, suffix, snippets, "demo")


def test_water_fill_flows_unused_share() -> None:
    shares = {"prefix": 0.35, "suffix": 0.15, "context": 0.5}
    assert water_fill(1000, {"prefix": 5000, "suffix": 5000, "context": 5000}, shares) == {
        "prefix": 350,
        "suffix": 150,
        "context": 500,
    }
    # No context at all: its half goes to prefix and suffix in their 35:15 proportion.
    allocation = water_fill(1000, {"prefix": 5000, "suffix": 5000, "context": 0}, shares)
    assert allocation["context"] == 0 and allocation["prefix"] + allocation["suffix"] == 1000
    assert 690 <= allocation["prefix"] <= 710
    # Everything fits: everyone gets exactly what it needs.
    assert water_fill(1000, {"prefix": 10, "suffix": 20, "context": 30}, shares) == {
        "prefix": 10,
        "suffix": 20,
        "context": 30,
    }


def test_trim_prefix_keeps_whole_lines_from_the_bottom(tekken: TekkenTokenCounter) -> None:
    text = "".join(f"line_{i} = {i}\n" for i in range(200)) + "    return "
    kept = trim_prefix(text, 100, tekken)
    assert text.endswith(kept) and kept.endswith("    return ")
    assert kept.startswith("line_")  # a whole line, not a fragment
    assert tekken.count(kept) <= 100
    # Greedy: one more line would not fit.
    start = len(text) - len(kept)
    previous_line_start = text.rfind("\n", 0, start - 1) + 1
    assert tekken.count(text[previous_line_start:]) > 100


def test_trim_prefix_granularity_keeps_cut_stable_while_typing(tekken: TekkenTokenCounter) -> None:
    text = "".join(f"value_{i} = compute({i})\n" for i in range(300))
    cuts = set()
    for typed in range(0, 40):
        prefix = text + "result = " + "x" * typed
        kept = trim_prefix(prefix, 400, tekken, granularity=8)
        assert tekken.count(kept) <= 400
        cuts.add(len(prefix) - len(kept) - 0)
    # 40 keystrokes on one line: the first kept line moved at most once.
    assert len(cuts) <= 2


def test_trim_suffix_keeps_whole_lines_from_the_top(tekken: TekkenTokenCounter) -> None:
    text = "\n" + "".join(f"after_{i}()\n" for i in range(200))
    kept = trim_suffix(text, 50, tekken)
    assert text.startswith(kept) and tekken.count(kept) <= 50
    assert text[len(kept)] == "\n"  # cut at a line end
    assert tekken.count(text[: text.index("\n", len(kept) + 1)]) > 50


def test_overlong_single_line_is_cut_by_characters(tekken: TekkenTokenCounter) -> None:
    line = "x = [" + ", ".join(str(i) for i in range(500))
    kept = trim_prefix(line, 30, tekken)
    assert line.endswith(kept) and 0 < tekken.count(kept) <= 30
    head = trim_suffix(line, 30, tekken)
    assert line.startswith(head) and 0 < tekken.count(head) <= 30


def test_context_taken_by_score_and_rendered_best_last(tekken: TekkenTokenCounter) -> None:
    snippets = tuple(
        ContextSnippet(f"m{i}.py", module_source(f"s{i}", 3), score=s)
        for i, s in enumerate([0.1, 0.9, 0.5, 0.7])
    )
    prompt_input = PromptInput("main.py", "python", "x = ", "\n", snippets)
    fmt = make_format("qwen2.5-coder")
    one_snippet = tekken.count(fmt.render(prompt_input.with_parts(snippets=snippets[:1])).text)
    packed = pack(
        prompt_input,
        fmt,
        tekken,
        PackOptions(budget_tokens=int(one_snippet * 2.6), split=BudgetSplit(0.1, 0.1, 0.8)),
    )
    chosen = [s.path for s in packed.prompt_input.snippets]
    assert chosen == ["m2.py", "m3.py", "m1.py"] or chosen == ["m3.py", "m1.py"]
    assert chosen[-1] == "m1.py"  # the best snippet sits right before the current file
    assert {s.path for s in packed.dropped_snippets} | set(chosen) == {"m0.py", "m1.py", "m2.py", "m3.py"}
    assert packed.tokens == tekken.count(packed.prompt.text)


def test_unused_context_share_flows_to_prefix(tekken: TekkenTokenCounter) -> None:
    prompt_input = big_input(0)
    fmt = make_format("qwen2.5-coder")
    packed = pack(prompt_input, fmt, tekken, PackOptions(budget_tokens=1000))
    # Without context the prefix and suffix use (almost) the whole budget, not just 35 % + 15 %.
    assert packed.tokens > 900
    assert tekken.count(packed.prompt_input.prefix) > 600


def test_budget_too_small_for_fixed_parts(tekken: TekkenTokenCounter) -> None:
    with pytest.raises(PromptError, match="cannot hold the mistral-small prompt's fixed parts"):
        pack(big_input(), make_format("mistral-small"), tekken, PackOptions(budget_tokens=50))


def test_split_validation() -> None:
    with pytest.raises(ValueError):
        BudgetSplit(-1, 1, 1)
    with pytest.raises(ValueError):
        BudgetSplit(0, 0, 0)


def test_split_is_normalised_once_and_cuts_the_budget() -> None:
    """Weights summing above (or below) 1 are shares of the whole budget, never more than it: one rule for
    retrieval and the packer (retrieval once rejected a sum above 1, ``split_budget`` took it as is)."""
    weighted = BudgetSplit(0.7, 0.3, 1.0)
    assert (weighted.prefix, weighted.suffix, weighted.context) == (0.35, 0.15, 0.5)
    assert weighted == BudgetSplit()
    assert BudgetSplit().token_budgets(2048) == TokenBudgets(prefix=716, suffix=307, context=1024)
    budgets = BudgetSplit(2, 1, 2).token_budgets(1000)
    assert (budgets.prefix, budgets.suffix, budgets.context) == (400, 200, 400)


@pytest.mark.parametrize(
    "family", ["qwen2.5-coder", "codestral", "starcoder2", "deepseek-coder", "mistral-small"]
)
@pytest.mark.parametrize("budget", [200, 700, 3000])
def test_budget_never_exceeded_with_tekken(family: str, budget: int, tekken: TekkenTokenCounter) -> None:
    fmt = make_format(family)
    packed = pack(big_input(), fmt, tekken, PackOptions(budget_tokens=budget))
    exact = (
        len(packed.prompt.token_ids)
        if packed.prompt.token_ids is not None
        else tekken.count(packed.prompt.text)
    )
    assert exact == packed.tokens <= budget
    original = big_input()
    assert original.prefix.endswith(packed.prompt_input.prefix)
    assert original.suffix.startswith(packed.prompt_input.suffix)
    if budget >= 700:
        assert packed.prompt_input.snippets, "a reasonable budget holds some context"
        assert packed.prompt_input.prefix.endswith("    return ")


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    prefix_lines=st.lists(st.text(alphabet=st.sampled_from(list("abc ()=:_\t1é")), max_size=60), max_size=80),
    suffix_lines=st.lists(st.text(alphabet=st.sampled_from(list("xyz ()[]{}=,2")), max_size=60), max_size=80),
    snippet_sizes=st.lists(st.integers(0, 40), max_size=6),
    budget=st.integers(30, 800),
    split=st.tuples(st.floats(0, 1), st.floats(0, 1), st.floats(0.01, 1)),
)
def test_budget_property(prefix_lines, suffix_lines, snippet_sizes, budget, split, tekken) -> None:  # type: ignore[no-untyped-def]
    snippets = tuple(
        ContextSnippet(f"s{i}.py", module_source(f"f{i}", size // 10 + 1)[: size * 20], score=size / 7)
        for i, size in enumerate(snippet_sizes)
    )
    prompt_input = PromptInput("m.py", "python", "\n".join(prefix_lines), "\n".join(suffix_lines), snippets)
    packed = pack(
        prompt_input, make_format("qwen2.5-coder"), tekken, PackOptions(budget, BudgetSplit(*split))
    )
    assert tekken.count(packed.prompt.text) == packed.tokens <= budget
    assert prompt_input.prefix.endswith(packed.prompt_input.prefix)
    assert prompt_input.suffix.startswith(packed.prompt_input.suffix)


@pytest.mark.model
@pytest.mark.parametrize("budget", [256, 1024, 2048])
def test_budget_never_exceeded_with_real_qwen_tokenizer(budget: int, qwen_counter: TokenCounter) -> None:
    fmt = make_format("qwen2.5-coder")
    packed = pack(big_input(), fmt, qwen_counter, PackOptions(budget_tokens=budget))
    tokenizer = qwen_counter.tokenizer  # type: ignore[attr-defined]
    ids = tokenizer(packed.prompt.text, add_special_tokens=False)["input_ids"]
    assert len(ids) == packed.tokens <= budget
    # FIM markers are single special tokens for the real tokenizer.
    for marker in ("<|fim_prefix|>", "<|fim_suffix|>", "<|fim_middle|>"):
        assert ids.count(tokenizer.convert_tokens_to_ids(marker)) == 1
    # The repository header comes with context only.
    expected_headers = 1 if packed.prompt_input.snippets else 0
    assert ids.count(tokenizer.convert_tokens_to_ids("<|repo_name|>")) == expected_headers
    if budget >= 1024:
        assert packed.prompt_input.snippets and budget - packed.tokens < 0.1 * budget


@pytest.mark.model
def test_chat_template_with_real_qwen_tokenizer(qwen_counter: TokenCounter) -> None:
    tokenizer = qwen_counter.tokenizer  # type: ignore[attr-defined]
    fmt = make_format("chat-template", hf_tokenizer=tokenizer)
    packed = pack(big_input(), fmt, qwen_counter, PackOptions(budget_tokens=1500))
    prompt = packed.prompt
    assert prompt.text.startswith("<|im_start|>system\n") and prompt.text.endswith(
        "<|im_start|>assistant\n```python\n"
    )
    assert "<|im_end|>" in prompt.stop_token_strings
    assert qwen_counter.count(prompt.text) == packed.tokens <= 1500


@pytest.mark.model
def test_keystroke_keeps_prompt_start_byte_identical(qwen_counter: TokenCounter) -> None:
    """With trimming active, typing on the cursor line leaves everything before the cursor line
    unchanged, so the engine can reuse the prefix KV cache."""
    fmt = make_format("qwen2.5-coder")
    base = big_input()
    texts = []
    for typed in ("", "h", "he", "hel", "help", "helpe"):
        prompt_input = base.with_parts(prefix=base.prefix + typed)
        texts.append(pack(prompt_input, fmt, qwen_counter, PackOptions(budget_tokens=1024)).prompt.text)
    stable_until = texts[0].index("    return ")
    assert all(text[:stable_until] == texts[0][:stable_until] for text in texts)


def test_tekken_counter_matches_mistral_common_encode(tekken: TekkenTokenCounter) -> None:
    for text in ("def f(x):\n    return x", "[INST] literal control text [/INST]", "é" * 50, "\t\t  \n", "x"):
        assert tekken.count(text) == len(tekken.tokenizer.encode(text, bos=False, eos=False))


class RecordingCounter:
    """A test double that records what it counts. One token per character that is not a space; with
    ``under_counting_sums`` every newline costs more the more lines precede it, so the count of joined
    lines exceeds the sum of the lines' counts."""

    def __init__(self, under_counting_sums: bool = False) -> None:
        self.under_counting_sums = under_counting_sums
        self.counted: list[str] = []

    def count(self, text: str) -> int:
        self.counted.append(text)
        tokens = len(text) - text.count(" ")
        return tokens + text.count("\n") ** 2 // 40 if self.under_counting_sums else tokens


def test_line_sums_that_under_count_never_exceed_the_budget() -> None:
    counter = RecordingCounter(under_counting_sums=True)
    fmt = make_format("qwen2.5-coder")
    base = big_input()
    texts = []
    for typed in ("", "h", "he", "hel"):
        prompt_input = base.with_parts(prefix=base.prefix + typed)
        packed = pack(prompt_input, fmt, counter, PackOptions(budget_tokens=1500))
        assert counter.count(packed.prompt.text) == packed.tokens <= 1500
        assert prompt_input.prefix.endswith(packed.prompt_input.prefix)
        texts.append(packed.prompt.text)
    # The shrink after an under-count stays on the rounded line grid: the prompt start does not move.
    stable_until = texts[0].index("    return ")
    assert all(text[:stable_until] == texts[0][:stable_until] for text in texts)


def test_keystroke_counts_only_the_edited_line_and_the_result() -> None:
    counter = RecordingCounter()
    fmt = make_format("qwen2.5-coder")
    base = big_input()
    pack(base, fmt, counter, PackOptions(budget_tokens=4000))
    counter.counted.clear()
    typed = base.with_parts(prefix=base.prefix + "h")
    packed = pack(typed, fmt, counter, PackOptions(budget_tokens=4000))
    long_counts = [text for text in counter.counted if len(text) > 200]
    # Unchanged lines and snippets come from the caches: the only long text counted is the rendered
    # prompt (once, to verify it), plus the format's fixed parts and the edited cursor line.
    assert long_counts == [packed.prompt.text]
    assert "    return h" in counter.counted
    assert len(counter.counted) <= 3
