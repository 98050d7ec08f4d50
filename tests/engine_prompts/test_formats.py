"""Prompt formats: exact layouts, stable prompt starts between keystrokes, stop strings, family detection."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from roost.engine.prompts import (
    FAMILIES,
    FIM_FAMILIES,
    ContextSnippet,
    PromptError,
    PromptInput,
    detect_family,
    detect_family_from_dir,
    make_format,
)
from roost.engine.prompts.comments import comment_out, comment_syntax, commented_snippet_block
from roost.engine.prompts.mistral_tokenizer import load_mistral_tokenizer
from roost.engine.types import QWEN_STOP_TOKEN_STRINGS

UTIL = ContextSnippet("pkg/util.py", "def helper(a):\n    return a * 2\n", 0.9, "definition")
MODELS = ContextSnippet("pkg/models.py", "class User:\n    name: str\n", 0.5, "import")


def make_input(prefix: str = "import os\ndef f(x):\n    return ", suffix: str = "\n\nprint(f(2))\n", **kw):
    return PromptInput(
        path="pkg/main.py",
        language=kw.pop("language", "python"),
        prefix=prefix,
        suffix=suffix,
        snippets=kw.pop("snippets", (MODELS, UTIL)),
        repo_name=kw.pop("repo_name", "demo"),
    )


def test_qwen_repository_format_exact() -> None:
    text = make_format("qwen2.5-coder").render(make_input()).text
    assert text == (
        "<|repo_name|>demo\n"
        "<|file_sep|>pkg/models.py\nclass User:\n    name: str\n"
        "<|file_sep|>pkg/util.py\ndef helper(a):\n    return a * 2\n"
        "<|file_sep|>pkg/main.py\n"
        "<|fim_prefix|>import os\ndef f(x):\n    return <|fim_suffix|>\n\nprint(f(2))\n<|fim_middle|>"
    )


def test_qwen_single_file_format_and_stops() -> None:
    fmt = make_format("qwen2.5-coder")
    prompt = fmt.render(make_input(snippets=(), repo_name=""))
    assert (
        prompt.text
        == "<|fim_prefix|>import os\ndef f(x):\n    return <|fim_suffix|>\n\nprint(f(2))\n<|fim_middle|>"
    )
    assert set(QWEN_STOP_TOKEN_STRINGS) <= set(prompt.stop_token_strings)
    request = prompt.to_request(max_new_tokens=16)
    assert request.prompt == prompt.text and request.stop_token_strings == prompt.stop_token_strings


def test_qwen_without_context_is_plain_fim_even_with_a_repository_name() -> None:
    """The repository header without other files made the bundled 0.5B Instruct ignore the suffix
    (HumanEval single-line infilling, bench/quality_bench.py); it comes only with context."""
    text = make_format("qwen2.5-coder").render(make_input(snippets=(), repo_name="demo")).text
    assert (
        text == "<|fim_prefix|>import os\ndef f(x):\n    return <|fim_suffix|>\n\nprint(f(2))\n<|fim_middle|>"
    )


def test_qwen_names_a_blank_files_path_its_only_sign_of_the_language() -> None:
    """Given bare FIM markers, the bundled 0.5B began every empty .py, .go, .rs, .ts and .java file with
    ``import React from 'react';``; with the path it writes the file's language (measured)."""
    blank = PromptInput(
        path="cmd/server/main.go", language="go", prefix="", suffix="\n", repo_name="demo", blank_file=True
    )
    for fmt in (make_format("qwen2.5-coder"), make_format("qwen2.5-coder", heals_forced_start=True)):
        text = fmt.render(blank).text
        assert text.startswith("<|repo_name|>demo\n<|file_sep|>cmd/server/main.go\n<|fim_prefix|>"), text
    with pytest.raises(PromptError, match="blank_file"):
        PromptInput(path="a.py", language="python", prefix="", suffix="", blank_file="yes")  # type: ignore[arg-type]


def test_starcoder2_repository_format_exact() -> None:
    text = make_format("starcoder2").render(make_input(snippets=(UTIL,))).text
    assert text == (
        "<repo_name>demo<file_sep>pkg/util.py\ndef helper(a):\n    return a * 2\n"
        "<file_sep><fim_prefix>pkg/main.py\nimport os\ndef f(x):\n    return <fim_suffix>\n\nprint(f(2))\n<fim_middle>"
    )


def test_deepseek_uses_fullwidth_markers_and_commented_context() -> None:
    text = make_format("deepseek-coder").render(make_input(snippets=(UTIL,))).text
    assert text.startswith(
        "<\uff5cfim\u2581begin\uff5c># Path: pkg/util.py\n# def helper(a):\n#     return a * 2\n\n"
    )
    assert text.endswith("    return <\uff5cfim\u2581hole\uff5c>\n\nprint(f(2))\n<\uff5cfim\u2581end\uff5c>")


def test_codellama_layout() -> None:
    text = make_format("codellama").render(make_input(snippets=(), prefix="x = ", suffix="\n")).text
    assert text == "<PRE> x =  <SUF>\n <MID>"


def test_codestral_fim_through_mistral_common() -> None:
    from mistral_common.protocol.fim.request import FIMRequest

    tokenizer = load_mistral_tokenizer(None)
    prompt = make_format("codestral", mistral_tokenizer=tokenizer).render(make_input(snippets=(UTIL,)))
    assert prompt.token_ids is not None
    assert prompt.server_fim is not None
    expected = tokenizer.encode_fim(FIMRequest(prompt=prompt.server_fim[0], suffix=prompt.server_fim[1]))
    assert list(prompt.token_ids) == expected.tokens
    # Codestral's layout puts the suffix first; the context sits in the prefix part, before the code.
    assert (
        prompt.text.index("[SUFFIX]")
        < prompt.text.index("[PREFIX]")
        < prompt.text.index("# Path: pkg/util.py")
    )
    assert prompt.server_fim[0].endswith("def f(x):\n    return ")
    request = prompt.to_request("token_ids")
    assert request.prompt_token_ids == prompt.token_ids


@pytest.mark.parametrize("family", ["mistral-small", "magistral", "devstral"])
def test_mistral_chat_infill(family: str) -> None:
    fmt = make_format(family)
    prompt = fmt.render(make_input())
    assert prompt.mode == "chat" and prompt.token_ids is not None and prompt.messages is not None
    system, user = prompt.messages
    assert system.role == "system" and "only the code" in system.content
    # Context first, then the file with the hole at the cursor.
    assert user.content.index("pkg/util.py") < user.content.index("{{FILL_HERE}}")
    assert "    return {{FILL_HERE}}\n\nprint(f(2))\n```" in user.content
    # The assistant turn is prefilled with the opening fence and the closing fence stops generation.
    assert prompt.prefill == "```python\n" and prompt.text.endswith("[/INST]```python\n")
    assert prompt.stop_sequences == ("\n```",)
    # As messages, the prefill travels beside the chat; the fence stop applies only where it is honoured.
    request = prompt.to_request()
    assert request.messages == prompt.messages and request.stop_sequences == ()
    assert request.assistant_prefill == "```python\n" and request.prefill_stop_sequences == ("\n```",)


def test_magistral_reasoning_is_stripped() -> None:
    fmt = make_format("magistral")
    prompt = fmt.render(make_input())
    raw = "[THINK]The function doubles x, so[/THINK]x * 2"
    assert fmt.parse_answer(raw, prompt) == "x * 2"
    # Reasoning cut off by max_tokens: no answer at all.
    assert fmt.parse_answer("[THINK]Let me think about", prompt) == ""


def test_chat_fence_longer_than_fences_in_the_file() -> None:
    prompt_input = make_input(prefix="doc = '''\n```python\nx = 1\n```\n", suffix="'''\n", snippets=())
    prompt = make_format("mistral-small").render(prompt_input)
    assert prompt.prefill == "````python\n"
    assert prompt.stop_sequences == ("\n````",)


def test_fim_prompt_start_is_stable_between_keystrokes() -> None:
    """Typing one character changes only the prompt after the prefix: the KV cache of the context and
    of the prefix so far can be reused."""
    before = make_input(prefix="import os\ndef f(x):\n    return x")
    after = make_input(prefix="import os\ndef f(x):\n    return x ")
    for family in ("qwen2.5-coder", "starcoder2", "deepseek-coder", "codellama"):
        fmt = make_format(family)
        first, second = fmt.render(before).text, fmt.render(after).text
        cut = first.index("return x") + len("return x")
        assert second[:cut] == first[:cut], family


def test_chat_token_ids_are_stable_between_keystrokes() -> None:
    fmt = make_format("mistral-small")
    first = fmt.render(make_input(prefix="import os\ndef f(x):\n    return x")).token_ids
    second = fmt.render(make_input(prefix="import os\ndef f(x):\n    return x ")).token_ids
    assert first is not None and second is not None
    shared = next(i for i, (a, b) in enumerate(zip(first, second, strict=False)) if a != b)
    # Everything up to the cursor region (system prompt, context, most of the file) is shared.
    assert shared > 0.8 * len(first)


def test_every_family_renders_and_has_stops() -> None:
    for family in FAMILIES:
        if family == "chat-template":
            continue
        fmt = make_format(family)
        prompt = fmt.render(make_input())
        assert prompt.family == family and prompt.stop_token_strings
        assert "def helper(a):" in prompt.text and "print(f(2))" in prompt.text


def test_fim_parse_answer_cuts_leaked_stop_tokens() -> None:
    fmt = make_format("qwen2.5-coder")
    assert fmt.parse_answer("x * 2<|endoftext|>junk") == "x * 2"
    assert fmt.parse_answer("x * 2<|file_sep|>other.py") == "x * 2"


def test_transport_errors() -> None:
    fim = make_format("qwen2.5-coder").render(make_input())
    with pytest.raises(PromptError, match="token ids"):
        fim.to_request("token_ids")
    with pytest.raises(PromptError, match="not a chat format"):
        fim.to_request("messages")
    server = fim.to_request("server_fim")
    assert server.suffix == "\n\nprint(f(2))\n" and server.prompt is not None
    assert server.prompt.endswith("    return ")


def test_prompt_input_validation() -> None:
    with pytest.raises(PromptError, match="prefix must be a str"):
        PromptInput("a.py", "python", None, "")  # type: ignore[arg-type]
    with pytest.raises(PromptError, match="ContextSnippet"):
        PromptInput("a.py", "python", "", "", snippets=("text",))  # type: ignore[arg-type]
    assert isinstance(PromptInput("a.py", "python", "", "", snippets=[UTIL]).snippets, tuple)  # type: ignore[arg-type]


# ------------------------------------------------------------------------------------------ comments


def test_comment_syntax_per_language() -> None:
    assert comment_syntax("python").line == "#"
    assert comment_syntax("typescript").line == "//"
    assert comment_syntax("lua").line == "--"
    assert comment_syntax("css").line is None
    block = commented_snippet_block(UTIL, "go")
    assert block == "// Path: pkg/util.py\n// def helper(a):\n//     return a * 2\n"
    wrapped = comment_out("a */ b", comment_syntax("css"))
    assert wrapped.startswith("/*\n") and wrapped.endswith("\n*/") and wrapped.count("*/") == 1


def test_js_context_is_commented_in_js() -> None:
    prompt_input = make_input(
        language="typescript", snippets=(ContextSnippet("lib.ts", "export const A = 1;"),)
    )
    text = make_format("deepseek-coder").render(prompt_input).text
    assert "// Path: lib.ts\n// export const A = 1;\n" in text


# ------------------------------------------------------------------------------------ family detection


@pytest.mark.parametrize(
    ("name", "family"),
    [
        ("Qwen/Qwen2.5-Coder-7B-Instruct", "qwen2.5-coder"),
        ("qwen2.5-coder-0.5b-instruct", "qwen2.5-coder"),
        ("mistralai/Codestral-22B-v0.1", "codestral"),
        ("mistralai/Mistral-Small-3.1-24B-Instruct-2503", "mistral-small"),
        ("mistralai/Magistral-Small-2509", "magistral"),
        ("mistralai/Devstral-Small-2507", "devstral"),
        ("bigcode/starcoder2-15b", "starcoder2"),
        ("deepseek-ai/deepseek-coder-6.7b-base", "deepseek-coder"),
        ("codellama/CodeLlama-13b-hf", "codellama"),
        ("meta-llama/Llama-3.1-8B-Instruct", "chat-template"),
    ],
)
def test_detect_family_from_names(name: str, family: str) -> None:
    assert detect_family(name) == family


def test_detect_family_from_config(tmp_path: Path) -> None:
    assert detect_family("my-model", {"model_type": "starcoder2"}) == "starcoder2"
    assert detect_family(
        "local", {"model_type": "mistral3", "architectures": ["Mistral3ForConditionalGeneration"]}
    ) == ("mistral-small")
    assert detect_family("local", {"model_type": "mistral", "vocab_size": 131072}) == "mistral-small"
    assert detect_family("local", {"model_type": "llama", "vocab_size": 32016}) == "codellama"
    assert (
        detect_family("local", {"model_type": "qwen2", "_name_or_path": "Qwen/Qwen2.5-Coder-1.5B"})
        == "qwen2.5-coder"
    )
    model_dir = tmp_path / "checkpoint-3"
    model_dir.mkdir()
    (model_dir / "config.json").write_text(json.dumps({"model_type": "starcoder2"}))
    assert detect_family_from_dir(model_dir) == "starcoder2"
    (model_dir / "config.json").write_text("{broken")
    assert detect_family_from_dir(model_dir) == "chat-template"


def test_forcing_an_unknown_family_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="unknown prompt family 'gpt'.*qwen2.5-coder"):
        make_format("gpt")
    with pytest.raises(ValueError, match="needs the model's tokenizer"):
        make_format("chat-template")
    assert set(FIM_FAMILIES) < set(FAMILIES)


def test_mistral_tokenizer_from_missing_dir_names_the_files(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="tekken.json"):
        load_mistral_tokenizer(tmp_path)


def test_mistral_small_v7_tokenizer_from_model_directory(tmp_path: Path) -> None:
    """A Mistral Small 3.x model directory ships a v7 tekken.json: the system prompt gets its own control
    tokens. (Built from the bundled vocabulary with the v7 version, as such a file is.)"""
    from mistral_common.tokens.tokenizers.mistral import MistralTokenizer

    source = json.loads((Path(MistralTokenizer._data_path()) / "tekken_240718.json").read_text())
    source["config"]["version"] = "v7"
    (tmp_path / "tekken.json").write_text(json.dumps(source))
    tokenizer = load_mistral_tokenizer(tmp_path)
    prompt = make_format("mistral-small", mistral_tokenizer=tokenizer).render(make_input())
    assert prompt.text.startswith("<s>[SYSTEM_PROMPT]You are a code completion engine")
    assert "[/SYSTEM_PROMPT][INST]" in prompt.text and prompt.text.endswith("[/INST]```python\n")
    assert prompt.token_ids is not None and prompt.token_ids[
        1
    ] == tokenizer.instruct_tokenizer.tokenizer.get_special_token("[SYSTEM_PROMPT]")


def test_family_forced_or_detected() -> None:
    from roost.engine.prompts import detect_family

    assert make_format(detect_family("bigcode/starcoder2-3b")).family == "starcoder2"
    assert make_format("deepseek-coder").family == "deepseek-coder"
    chat = make_format(detect_family("Devstral-Small-2507"), chat_prefill=False)
    assert chat.family == "devstral" and chat.render(make_input()).prefill == ""
    with pytest.raises(ValueError, match="fim"):
        make_format("fim")
