"""Chat infill through a transformers tokenizer's own chat template (a real PreTrainedTokenizerFast
built in memory, so the tests need no model files)."""

from __future__ import annotations

import pytest
from tokenizers import Tokenizer, models, pre_tokenizers
from transformers import PreTrainedTokenizerFast

from roost.engine.prompts import ContextSnippet, PromptInput, TekkenTokenCounter, make_format
from roost.engine.prompts.tokens import FunctionTokenCounter

TURN_TEMPLATE = (
    "{% for m in messages %}<|turn|>{{ m['role'] }}\n{{ m['content'] }}<|end|>\n{% endfor %}"
    "{% if add_generation_prompt %}<|turn|>assistant\n{% endif %}"
)
NO_SYSTEM_TEMPLATE = (
    "{% for m in messages %}{% if m['role'] == 'system' %}"
    "{{ raise_exception('System role not supported') }}{% endif %}"
    "<start_of_turn>{{ m['role'] }}\n{{ m['content'] }}<end_of_turn>\n{% endfor %}"
    "{% if add_generation_prompt %}<start_of_turn>model\n{% endif %}"
)


def tiny_tokenizer(template: str | None) -> PreTrainedTokenizerFast:
    vocab = {"[UNK]": 0, "<|end|>": 1, "<end_of_turn>": 2, "</s>": 3}
    backend = Tokenizer(models.WordLevel(vocab=vocab, unk_token="[UNK]"))
    backend.pre_tokenizer = pre_tokenizers.Whitespace()
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=backend, unk_token="[UNK]", eos_token="</s>")
    tokenizer.add_special_tokens({"additional_special_tokens": ["<|end|>", "<end_of_turn>"]})
    tokenizer.chat_template = template
    return tokenizer


INPUT = PromptInput(
    "a.py", "python", "def f(x):\n    return ", "\n", (ContextSnippet("b.py", "K = 3\n", 1.0),)
)


def test_template_rendering_prefill_and_stops() -> None:
    fmt = make_format("chat-template", hf_tokenizer=tiny_tokenizer(TURN_TEMPLATE))
    prompt = fmt.render(INPUT)
    assert prompt.text.startswith("<|turn|>system\nYou are a code completion engine")
    assert prompt.text.endswith("<|turn|>assistant\n```python\n")
    assert "b.py:\n```python\nK = 3\n```" in prompt.text
    assert prompt.stop_token_strings == ("</s>", "<|end|>", "<end_of_turn>")
    assert fmt.parse_answer("x * K\n```<|end|>", prompt, prefix=INPUT.prefix) == "x * K"


def test_template_without_system_role_gets_the_contract_in_the_user_turn() -> None:
    fmt = make_format("chat-template", hf_tokenizer=tiny_tokenizer(NO_SYSTEM_TEMPLATE))
    prompt = fmt.render(INPUT)
    assert prompt.text.startswith("<start_of_turn>user\nYou are a code completion engine")
    assert "<start_of_turn>system" not in prompt.text
    assert prompt.text.endswith("<start_of_turn>model\n```python\n")


def test_tokenizer_without_template_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="has no chat template"):
        make_format("chat-template", hf_tokenizer=tiny_tokenizer(None))


def test_function_token_counter_adapts_backend_counts() -> None:
    tekken = TekkenTokenCounter.bundled()
    counter = FunctionTokenCounter(tekken.count)
    assert counter.count("def f(x): return x") == tekken.count("def f(x): return x") > 0
    assert counter.count("") == 0


def test_transformers_counter_agrees_with_the_tokenizer_call() -> None:
    from roost.engine.prompts import TransformersTokenCounter

    tokenizer = tiny_tokenizer(TURN_TEMPLATE)
    counter = TransformersTokenCounter(tokenizer)
    for text in ("a b c", "x <|end|> y <end_of_turn>", "", "  \n "):
        assert counter.count(text) == len(tokenizer(text, add_special_tokens=False)["input_ids"])
    assert counter.count("x <|end|> y") == 3  # the special token is one token
