"""Post-processing filters on realistic model output, plus properties every filter must keep."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from roost.engine.completion_filters.early_stops import repeats_suffix_from_start
from roost.engine.postprocess import (
    CompletionContext,
    PostprocessOptions,
    balance_brackets,
    cut_suffix_repetition,
    dedupe_candidates,
    drop_repetitions,
    limit_indent_scope,
    postprocess,
    postprocess_candidates,
    single_line_cut,
    trim_blank,
)

ALL_FILTERS = PostprocessOptions().filters


def ctx(
    prefix: str, suffix: str = "", language: str = "python", single_line: bool = False
) -> CompletionContext:
    return CompletionContext(prefix=prefix, suffix=suffix, language=language, single_line=single_line)


# ------------------------------------------------------------------------------ suffix repetition


def test_model_continues_into_the_suffix_lines() -> None:
    prefix = "def area(r):\n    pi = 3.14159\n    "
    suffix = "\n    return result\n\n\nprint(area(2))\n"
    raw = "result = pi * r * r\n    return result\n\n\nprint(area(2))\n"
    assert cut_suffix_repetition(raw, ctx(prefix, suffix)) == "result = pi * r * r"


def test_short_suffix_line_needs_two_lines_to_count_as_repetition() -> None:
    # "x = 1" alone is too common to be sure the model is repeating the suffix.
    prefix = "def f():\n    "
    suffix = "\n    x = 1\n    y = 2\n"
    assert (
        cut_suffix_repetition("a = 0\n    x = 1\n    z = 3", ctx(prefix, suffix))
        == "a = 0\n    x = 1\n    z = 3"
    )
    assert cut_suffix_repetition("a = 0\n    x = 1\n    y = 2", ctx(prefix, suffix)) == "a = 0"


def test_closing_brace_of_own_block_is_not_the_suffix() -> None:
    prefix = "function f(x) {\n  "
    suffix = "\n}\n"
    raw = "if (x) {\n    g();\n  }\n  return x;\n}"
    # "  }" (the if's brace) differs from the suffix's "}" by indentation; the final "}" repeats it.
    assert (
        cut_suffix_repetition(raw, ctx(prefix, suffix, "javascript"))
        == "if (x) {\n    g();\n  }\n  return x;"
    )


def test_same_line_rest_is_not_repeated() -> None:
    prefix = "total = "
    suffix = "  # the sum\nprint(total)\n"
    assert cut_suffix_repetition("a + b  # the sum", ctx(prefix, suffix)) == "a + b  "
    assert postprocess("a + b  # the sum", ctx(prefix, suffix)) == "a + b  "


def test_suggestion_that_only_restates_the_next_line_is_empty() -> None:
    prefix = "def f():\n"
    suffix = "\n    return compute_total(items)\n"
    assert postprocess("    return compute_total(items)", ctx(prefix, suffix)) == ""


def test_suggestion_running_out_of_tokens_inside_repetition() -> None:
    prefix = "def f(items):\n    "
    suffix = "\n    return compute_total(items)\n    # done\n"
    raw = "items = sorted(items)\n    return compute_total(items)"
    assert cut_suffix_repetition(raw, ctx(prefix, suffix)) == "items = sorted(items)"


# ------------------------------------------------------------------------------------ repetitions


def test_line_loop_is_cut_after_first_occurrence() -> None:
    prefix = "def f(xs):\n    "
    raw = "xs.append(0)\n    xs.append(0)\n    xs.append(0)\n    xs.append(0)"
    assert drop_repetitions(raw, ctx(prefix)) == "xs.append(0)"


def test_a_line_twice_is_legitimate() -> None:
    raw = "buf.write(b'\\0')\n    buf.write(b'\\0')\n    return buf"
    assert drop_repetitions(raw, ctx("def pad(buf):\n    ")) == raw


def test_block_loop_is_cut() -> None:
    prefix = "def f():\n    "
    raw = "a = load()\n    b = parse(a)\n    a = load()\n    b = parse(a)\n    a = load()"
    assert drop_repetitions(raw, ctx(prefix)) == "a = load()\n    b = parse(a)"


def test_closing_braces_are_not_a_loop() -> None:
    raw = "      }\n    }\n  }\n}"
    assert drop_repetitions(raw, ctx("x {\n", language="javascript")) == raw


def test_restating_the_lines_above_the_cursor() -> None:
    prefix = "config = load_config(path)\nvalidate(config)\n"
    raw = "config = load_config(path)\nvalidate(config)\nrun(config)"
    assert drop_repetitions(raw, ctx(prefix)) == ""


# ---------------------------------------------------------------------------------- indent scope


def test_function_body_stops_at_dedent() -> None:
    prefix = "class A:\n    def total(self):\n        s = 0\n        "
    raw = "for x in self.items:\n            s += x\n        return s\n\n    def other(self):\n        pass"
    assert (
        limit_indent_scope(raw, ctx(prefix)) == "for x in self.items:\n            s += x\n        return s\n"
    )


def test_block_opened_at_cursor_ends_at_same_indent() -> None:
    prefix = "def add(a, b):"
    raw = "\n    return a + b\n\ndef sub(a, b):\n    return a - b"
    assert postprocess(raw, ctx(prefix, "\n")) == "\n    return a + b"


def test_else_branch_stays_in_scope() -> None:
    prefix = "def sign(x):\n    if x > 0:"
    raw = "\n        return 1\n    else:\n        return -1\nprint(sign(3))"
    assert limit_indent_scope(raw, ctx(prefix)) == "\n        return 1\n    else:\n        return -1"


def test_brace_block_keeps_its_closing_brace_and_stops() -> None:
    prefix = "function f(x) {"
    raw = "\n  return x * 2;\n}\n\nfunction g() {\n  return 1;\n}"
    assert limit_indent_scope(raw, ctx(prefix, "\n", "javascript")) == "\n  return x * 2;\n}"
    # … and when the suffix already has the brace, bracket balancing removes ours.
    result = postprocess(raw, ctx(prefix, "\n}\n", "javascript"))
    assert result == "\n  return x * 2;"


def test_multiline_call_arguments_close_at_call_indent() -> None:
    prefix = "result = compute(\n"
    raw = "    alpha,\n    beta,\n)\nprint(result)"
    assert limit_indent_scope(raw, ctx(prefix)) == "    alpha,\n    beta,\n)"


# -------------------------------------------------------------------------------------- brackets


def test_bracket_closed_by_suffix_is_not_closed_again() -> None:
    assert balance_brackets("x + 1))", ctx("print(abs(", ")\n")) == "x + 1)"
    assert postprocess("x + 1))", ctx("print(abs(", ")\n")) == "x + 1)"


def test_needed_closers_are_kept() -> None:
    assert balance_brackets("x + 1))", ctx("print(abs(", "\n")) == "x + 1))"
    assert balance_brackets("[1, 2]", ctx("values = ", "\n")) == "[1, 2]"


def test_brackets_in_strings_do_not_count() -> None:
    assert balance_brackets("')' + x)", ctx("f(", ")\n")) == "')' + x"


def test_suffix_closing_outer_block_only() -> None:
    # JS: the cursor is inside `call(` inside a function; the suffix closes both.
    prefix = "function f() {\n  call("
    assert balance_brackets("a, b)", ctx(prefix, ")\n}\n", "javascript")) == "a, b"


# -------------------------------------------------------------------------- single line and blank


def test_single_line_cut() -> None:
    assert single_line_cut("a + b\n    return c", ctx("x = ", single_line=True)) == "a + b"
    # The current line is complete: the next line is the suggestion.
    assert single_line_cut("\n    return c\n    d", ctx("x = 1", single_line=True)) == "\n    return c"
    assert single_line_cut("a\nb", ctx("x = ", single_line=False)) == "a\nb"


def test_trim_blank() -> None:
    assert trim_blank("  \n\t\n", ctx("x")) == ""
    assert trim_blank("\n    return x\n\n   \n", ctx("def f():")) == "\n    return x"
    # Text follows on the line: a trailing space is part of the code.
    assert trim_blank("1 + ", ctx("x = ", "y\n")) == "1 + "
    assert postprocess("   \n  ", ctx("x = ")) == ""


def test_dedupe_candidates() -> None:
    context = ctx("x = ", "\nfoo()\n")
    candidates = ["1", "1  ", "", "2\n", "2", "   ", "foo()"]
    assert dedupe_candidates(candidates, context) == ["1", "2\n"]
    assert postprocess_candidates(["1\n\n", "1", "a))"], ctx("f(", ")")) == ["1", "a"]


# ------------------------------------------------------------------- lines inserted above a line of code


def test_lines_inserted_above_code_keep_their_newline_and_stop_at_that_line() -> None:
    """Cursor at the very start of ``    return y``: the suggestion is whole lines above it. The model's
    repetition of that line is cut, and the newline that keeps it on its own line stays."""
    context = ctx("def f(x):\n", "    return y\n")
    raw = "    y = x + 1\n    y *= 2\n    return y\n\n\ndef g():\n"
    assert postprocess(raw, context) == "    y = x + 1\n    y *= 2\n"
    # One line asked for: still a whole line, newline included.
    single = ctx("def f(x):\n", "    return y\n", single_line=True)
    assert postprocess("    y = x + 1\n    y *= 2\n", single) == "    y = x + 1\n"
    # A suggestion that is only the line itself is no suggestion.
    assert postprocess("    return y\n", context) == ""
    # Only the model's own newline is kept: an answer cut mid-line gets none added.
    assert postprocess("    y = x +", context) == "    y = x +"


# A blank line inserted (indented) between two statements: the 0.5B writes the next statement again, then
# copies the rest of the function (email/header.py in bench/latency_bench.py).
ECHO_PREFIX = "    def encode(self, s):\n        if not isinstance(s, str):\n            charset = s.charset\n            "
ECHO_SUFFIX = (
    "\n            if charset == UNKNOWN8BIT:\n                s = s.decode('ascii')\n"
    "            else:\n                s = s.decode(charset)\n        return s\n"
)
ECHO_ANSWER = (
    "if charset == UNKNOWN8BIT:\n                s = s.decode('ascii')\n            else:\n"
    "                s = s.decode(charset)\n        return s\n"
)


def test_a_first_line_repeating_the_next_statement_dooms_the_whole_answer() -> None:
    context = ctx(ECHO_PREFIX, ECHO_SUFFIX)
    assert postprocess(ECHO_ANSWER, context) == ""  # what the editor gets from the whole generation
    first_line_end = ECHO_ANSWER.index("\n") + 1
    assert not repeats_suffix_from_start(ECHO_ANSWER[: first_line_end - 1], context), (
        "the line is not complete"
    )
    assert repeats_suffix_from_start(ECHO_ANSWER[:first_line_end], context)
    # A blank line first, then the next statement at its own indentation.
    assert repeats_suffix_from_start("\n            " + ECHO_ANSWER[:first_line_end], context)


def test_a_first_line_of_its_own_lets_the_generation_go_on() -> None:
    context = ctx(ECHO_PREFIX, ECHO_SUFFIX)
    own = "charset = str(charset)\n            if charset == UNKNOWN8BIT:\n"
    assert not repeats_suffix_from_start(own, context)  # it repeats the suffix only from its second line
    assert postprocess(own, context) == "charset = str(charset)"
    # Starting like the next statement is not repeating it.
    assert not repeats_suffix_from_start("if charset == UNKNOWN8BIT or strict:\n", context)


# ------------------------------------------------------------------------------------- properties

code_text = st.text(alphabet=st.sampled_from(list("ab(){}[]:;,'\"#= \t\nx1")), max_size=80)


@settings(max_examples=300, deadline=None)
@given(raw=code_text, prefix=code_text, suffix=code_text, single=st.booleans())
def test_every_filter_only_cuts_and_pipeline_is_idempotent(
    raw: str, prefix: str, suffix: str, single: bool
) -> None:
    context = ctx(prefix, suffix, single_line=single)
    for step in ALL_FILTERS:
        out = step(raw, context)
        assert raw.startswith(out), step.__name__
    once = postprocess(raw, context)
    assert raw.startswith(once)
    assert postprocess(once, context) == once
    if single and once:
        # One line with content (it may sit on the next line when the cursor's line is complete).
        assert sum(1 for line in once.split("\n") if line.strip()) == 1


@settings(max_examples=300, deadline=None)
@given(raw=code_text, prefix=code_text, suffix=code_text, echo=st.booleans())
def test_an_answer_stopped_at_a_repeated_first_line_gets_what_the_whole_answer_gets(
    raw: str, prefix: str, suffix: str, echo: bool
) -> None:
    """The pipeline stops a generation once ``repeats_suffix_from_start`` says so: then whatever the model
    would have written after that point, post-processing cuts it all (``echo``: the answer starts with the
    suffix's next non-blank line, the case the stop is for)."""
    context = ctx(prefix, suffix)
    if echo:
        following = [line for line in suffix.split("\n")[1:] if line.strip()]
        raw = (following[0].lstrip() if following else "") + "\n" + raw
    for end in (i + 1 for i, char in enumerate(raw) if char == "\n"):
        if repeats_suffix_from_start(raw[:end], context):
            assert postprocess(raw[:end], context) == ""
            assert postprocess(raw, context) == ""


@settings(max_examples=200, deadline=None)
@given(st.lists(code_text, max_size=6))
def test_dedupe_properties(candidates: list[str]) -> None:
    unique = dedupe_candidates(candidates)
    keys = ["\n".join(line.rstrip() for line in c.rstrip().split("\n")) for c in unique]
    assert len(set(keys)) == len(keys)
    assert all(c.strip() for c in unique)
    assert all(c in candidates for c in unique)


def test_real_small_model_fim_ramble_is_cut() -> None:
    """Raw greedy output of Qwen2.5-Coder-0.5B-Instruct (repository FIM format, no stop token reached
    within 40 tokens): the middle, then a main guard, a closing fence and prose."""
    prefix = (
        "from shapes.geometry import circle_area\n\n\ndef total_area(radii):\n"
        '    """Sum of the areas of circles with these radii."""\n    return '
    )
    suffix = "\n\n\ndef main():\n    print(total_area([1, 2]))\n"
    raw = (
        'circle_area(1) + circle_area(2)\n\n\nif __name__ == "__main__":\n    main()\n```\n\n'
        "In this solution, we have created a function `circle_area` that calculates the"
    )
    assert postprocess(raw, ctx(prefix, suffix)) == "circle_area(1) + circle_area(2)"


def test_body_skipped_under_a_block_header_is_dropped() -> None:
    """Seen with the 0.5B model: the cursor on the empty line under ``def is_even(n):`` and the model
    writes the next function at column 0 instead of the body."""
    prefix = "def is_even(n):\n"
    raw = "def is_prime(n):\n    if n <= 1:\n        return False"
    assert limit_indent_scope(raw, ctx(prefix)) == ""
    assert limit_indent_scope("    return n % 2 == 0\n\ndef g():", ctx(prefix)) == "    return n % 2 == 0\n"


def test_block_ended_needs_the_leaving_line_complete() -> None:
    from roost.engine.completion_filters.early_stops import block_ended
    from roost.engine.postprocess import CompletionContext, postprocess

    ctx = CompletionContext(prefix="def f(xs):\n    for x in xs:\n        ", suffix="\n")
    answer = "print(x)\n        total += x\n    return total\n\ndef g():\n    pass\n"
    # Streamed prefixes: the block is left only once "    return total" is a complete line.
    ends = [n for n in range(len(answer) + 1) if block_ended(answer[:n], ctx)]
    first = ends[0]
    assert answer[:first].endswith("    return total\n")
    assert not block_ended("print(x)\n        total += x\n    ret", ctx), "a partial line decides nothing"
    assert not block_ended("print(x)\n        total += x\n", ctx)
    # Stopping there loses nothing post-processing would have shown.
    assert postprocess(answer[:first], ctx) == postprocess(answer, ctx) == "print(x)\n        total += x"


def test_block_ended_under_a_header_whose_body_was_skipped() -> None:
    from roost.engine.completion_filters.early_stops import block_ended
    from roost.engine.postprocess import CompletionContext, postprocess

    ctx = CompletionContext(prefix="class A:\n    def f(self):\n        ", suffix="")
    assert not block_ended("return 1\n", ctx)
    header = CompletionContext(prefix="def f():\n", suffix="")
    answer = "def g():\n    return 2\n"
    assert block_ended(answer, header) and postprocess(answer, header) == ""
