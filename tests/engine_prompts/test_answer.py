"""The chat answer parser: the code to insert, whatever the model wrapped it in."""

from __future__ import annotations

import pytest

from roost.engine.prompts.answer import (
    answer_opens_its_own_fence,
    cut_at_stop_strings,
    fence_for,
    parse_chat_answer,
    strip_reasoning,
)

PREFIX = "def area(r):\n    return "


def test_prefilled_fence_answer() -> None:
    # The prompt ended with "```python\n"; the stop sequence "\n```" removed the closing fence.
    assert parse_chat_answer("3.14159 * r * r", prefix=PREFIX, prefill="```python\n") == "3.14159 * r * r"
    # A server that ignores the stop sequence sends the closing fence and chatter after it.
    raw = "3.14159 * r * r\n```\nThis computes the area."
    assert parse_chat_answer(raw, prefix=PREFIX, prefill="```python\n") == "3.14159 * r * r"


def test_chatter_around_a_fence() -> None:
    raw = "Sure! Here is the completion:\n\n```python\n3.14159 * r * r\n```\n\nLet me know if you need more."
    assert parse_chat_answer(raw, prefix=PREFIX) == "3.14159 * r * r"


def test_unterminated_fence_at_max_tokens() -> None:
    raw = "```py\nfor item in items:\n    total += item"
    assert parse_chat_answer(raw, prefix="total = 0\n") == "for item in items:\n    total += item"


def test_first_nonempty_block_wins() -> None:
    raw = "```\n```\nActually:\n```python\nx + 1\n```\n```python\nunused\n```"
    assert parse_chat_answer(raw) == "x + 1"
    assert parse_chat_answer("```python\n```") == ""


def test_no_fence_plain_code_and_prose() -> None:
    assert parse_chat_answer("3.14159 * r * r", prefix=PREFIX) == "3.14159 * r * r"
    assert parse_chat_answer("Here is the code:\n3.14159 * r * r\nHope this helps.", prefix=PREFIX) == (
        "3.14159 * r * r"
    )


def test_restated_current_line_is_removed() -> None:
    # The model repeats the line being completed, with or without its indentation.
    assert parse_chat_answer("```python\n    return 3.14159 * r * r\n```", prefix=PREFIX) == "3.14159 * r * r"
    assert parse_chat_answer("```python\nreturn 3.14159 * r * r\n```", prefix=PREFIX) == "3.14159 * r * r"
    # It restates the whole function header too.
    raw = "```python\ndef area(r):\n    return 3.14159 * r * r\n```"
    assert parse_chat_answer(raw, prefix=PREFIX) == "3.14159 * r * r"


def test_indent_already_typed_is_not_doubled() -> None:
    prefix = "def f():\n    "
    assert parse_chat_answer("```python\n    pass\n```", prefix=prefix) == "pass"


def test_hole_marker_echo_is_removed() -> None:
    assert parse_chat_answer("```python\nx{{FILL_HERE}}\n```") == "x"


def test_reasoning_blocks() -> None:
    assert strip_reasoning("[THINK]a[/THINK]b[THINK]c[/THINK]d") == "bd"
    assert strip_reasoning("<think>plan</think>code") == "code"
    assert strip_reasoning("[THINK]never finished") == ""
    # The opening marker was in the prompt: only the closing one is in the answer.
    assert strip_reasoning("thoughts[/THINK]code") == "code"
    raw = "[THINK]The radius is r.[/THINK]```python\n3.14159 * r * r\n```"
    assert parse_chat_answer(raw, prefix=PREFIX) == "3.14159 * r * r"


def test_fence_for_and_stops() -> None:
    assert fence_for("plain") == "```"
    assert fence_for("a ```` b", "```") == "`````"
    assert cut_at_stop_strings("abc<|im_end|>def<|endoftext|>", ["<|endoftext|>", "<|im_end|>"]) == "abc"
    assert cut_at_stop_strings("abc", ["", "x"]) == "abc"


def test_real_small_model_chat_answer_through_parser_and_postprocess() -> None:
    """Raw greedy output of Qwen2.5-Coder-0.5B-Instruct for the chat-template infill prompt of
    ``def add(a, b):\\n    <hole>`` followed by ``def sub``: it restates the function, runs on into the
    suffix and leaves the closing fence and end-of-turn token (no stop applied)."""
    from roost.engine.postprocess import CompletionContext, postprocess
    from roost.engine.prompts.chat import ChatInfillFormat
    from roost.engine.prompts.types import Prompt

    class QwenLikeChat(ChatInfillFormat):
        family = "chat-template"

        @property
        def stop_token_strings(self) -> tuple[str, ...]:
            return ("<|im_end|>", "<|endoftext|>")

        def render(self, prompt_input):  # type: ignore[no-untyped-def]  # not needed here
            raise NotImplementedError

    prefix, suffix = "def add(a, b):\n    ", "\n\n\ndef sub(a, b):\n    return a - b\n"
    raw = "def add(a, b):\n    return a + b\n\ndef sub(a, b):\n    return a - b\n```<|im_end|>"
    prompt = Prompt(
        family="chat-template", mode="chat", text="", prefill="```python\n", stop_sequences=("\n```",)
    )
    parsed = QwenLikeChat().parse_answer(raw, prompt, prefix=prefix)
    assert parsed == "return a + b\n\ndef sub(a, b):\n    return a - b"
    assert postprocess(parsed, CompletionContext(prefix, suffix, "python")) == "return a + b"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        # The prefill was honoured: the answer continues inside the fence.
        ("3.14159 * r * r\n```", "3.14159 * r * r"),
        ("3.14159 * r * r", "3.14159 * r * r"),
        ("```", ""),
        # The backend could not send the prefill: the answer opens its own fence.
        ("```python\n3.14159 * r * r\n```", "3.14159 * r * r"),
        ("Sure:\n```python\n3.14159 * r * r\n```\nThis computes the area.", "3.14159 * r * r"),
        ("Here is the code:\n```\n3.14159 * r * r\n```", "3.14159 * r * r"),
        ("```\n3.14159 * r * r\n```", "3.14159 * r * r"),
    ],
)
def test_prefilled_or_not_the_parser_finds_the_code(raw: str, expected: str) -> None:
    assert parse_chat_answer(raw, prefix=PREFIX, prefill="```python\n") == expected


def test_a_shorter_inner_fence_does_not_count_as_the_answer_opening_its_own() -> None:
    # Completing Markdown: the prefilled fence is longer than the code fences inside the answer.
    raw = "Example:\n\n```python\nprint(1)\n```\n````"
    assert not answer_opens_its_own_fence(raw, "````markdown\n")
    assert answer_opens_its_own_fence("````markdown\n# Title\n````", "````markdown\n")
    assert parse_chat_answer(raw, prefill="````markdown\n") == "Example:\n\n```python\nprint(1)\n```"
