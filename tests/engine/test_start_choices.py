"""Start choices: the answer's first word kept to one of given names (the receiver's members at
``receiver.▮``), picked by the model's own scores, then free (unit parts on a toy vocabulary, then the
engine with the tiny model and with the bundled one)."""

from __future__ import annotations

import dataclasses

import pytest
import torch

from roost.engine.forced_start import ForcedStartIndex
from roost.engine.start_choices import ChoiceState, allowed_choice_tokens, choice_state, pick_choice_token
from roost.engine.types import QWEN_STOP_TOKEN_STRINGS, GenerationRequest, StartChoice

from .test_scheduler import run

# A toy vocabulary: ids are positions. "" is a special token (never allowed by text).
TEXTS = ["parse", "str", "parsestr", "(", "(s", "pars", "e", "parsed", ".", ".parse", "close", "", "_", "s"]
EOS = 11


def token(text: str) -> int:
    return TEXTS.index(text)


def texts_of(ids: torch.Tensor) -> set[str]:
    return {TEXTS[i] for i in ids.tolist()}


@pytest.mark.parametrize(
    ("written", "state"),
    [
        ("", ChoiceState.CHOOSING),
        ("pars", ChoiceState.CHOOSING),
        ("parse", ChoiceState.CHOOSING),  # whole, but "parsestr" may still follow and no end yet
        ("parse(", ChoiceState.DONE),
        ("parsestr(s)", ChoiceState.DONE),
        ("parsed", ChoiceState.OFF),
        ("close", ChoiceState.OFF),
    ],
)
def test_choice_state_follows_the_first_word(written: str, state: ChoiceState) -> None:
    assert choice_state(written, ("parse", "parsestr")) is state


def test_allowed_tokens_keep_the_answer_on_the_way_to_a_choice() -> None:
    index = ForcedStartIndex(TEXTS)
    ids, complete = allowed_choice_tokens(index, "", ("parsestr",))
    # Starts of "parsestr" and the whole word; never "parsed" (leaves it) nor "parse" + "d" later.
    assert texts_of(ids) == {"pars", "parse", "parsestr"} and not complete
    ids, complete = allowed_choice_tokens(index, "parse", ("parse", "parsestr"))
    assert texts_of(ids) == {"str", "s"} and complete
    # A token that writes the rest of a choice and goes on with a non-identifier character ends the word.
    ids, _ = allowed_choice_tokens(index, "", (".parse",))
    assert texts_of(ids) == {".", ".parse"}
    ids, _ = allowed_choice_tokens(ForcedStartIndex(["x", "x(", "xy", "x_"]), "", ("x",))
    assert {["x", "x(", "xy", "x_"][i] for i in ids.tolist()} == {"x", "x("}


def test_greedy_picks_the_best_allowed_token_and_ends_only_a_whole_word() -> None:
    index = ForcedStartIndex(TEXTS)
    logits = torch.zeros(len(TEXTS))
    logits[token("close")] = 9.0  # the model's favourite is not a member
    logits[token("parsed")] = 8.0  # nor is this, though it starts like one
    logits[token("pars")] = 2.0
    logits[token("parse")] = 1.0
    choices = ("parse", "parsestr")
    assert pick_choice_token(logits, index, "", choices, {EOS}, 0.0, None) == token("pars")
    # After "parse" (a whole choice): any token starting with a non-identifier character, the answer's
    # end, or the rest of a longer choice; "e" or "_" would make another name.
    logits = torch.zeros(len(TEXTS))
    logits[token("e")], logits[token("_")], logits[token("(s")] = 9.0, 8.0, 1.0
    assert pick_choice_token(logits, index, "parse", choices, {EOS}, 0.0, None) == token("(s")
    logits[EOS] = 5.0
    assert pick_choice_token(logits, index, "parse", choices, {EOS}, 0.0, None) == EOS
    logits[token("str")] = 6.0
    assert pick_choice_token(logits, index, "parse", choices, {EOS}, 0.0, None) == token("str")
    # Nothing in the vocabulary can write the choice: no token.
    assert pick_choice_token(logits, index, "", ("zzz",), {EOS}, 0.0, None) is None


def test_a_choices_prior_is_added_to_the_tokens_on_the_way_to_it() -> None:
    index = ForcedStartIndex(TEXTS)
    logits = torch.zeros(len(TEXTS))
    logits[token("close")], logits[token("pars")], logits[token("parse")] = 0.5, 1.0, 0.0
    # The model prefers "pars" (on the way to parse/parsestr); a prior on "close" larger than the
    # difference turns the pick, a smaller one does not.
    assert pick_choice_token(logits, index, "", ("parse", "close"), {EOS}, 0.0, None) == token("pars")
    assert pick_choice_token(
        logits, index, "", ("parse", StartChoice("close", 0.3)), {EOS}, 0.0, None
    ) == token("pars")
    assert pick_choice_token(
        logits, index, "", ("parse", StartChoice("close", 0.6)), {EOS}, 0.0, None
    ) == token("close")
    # A token leading to several choices takes the largest prior among them.
    choices = (StartChoice("parse", 0.0), StartChoice("parsestr", 2.0), StartChoice("close", 1.5))
    assert pick_choice_token(logits, index, "", choices, {EOS}, 0.0, None) == token("pars")
    # After a whole choice, what ends the word takes that choice's prior, the rest of a longer one its own.
    logits = torch.zeros(len(TEXTS))
    logits[token("(s")], logits[token("str")] = 1.0, 0.0
    assert pick_choice_token(logits, index, "parse", choices, {EOS}, 0.0, None) == token("str")
    plain = ("parse", "parsestr")
    assert pick_choice_token(logits, index, "parse", plain, {EOS}, 0.0, None) == token("(s")


def test_sampling_stays_among_the_allowed_tokens() -> None:
    index = ForcedStartIndex(TEXTS)
    logits = torch.zeros(len(TEXTS))
    logits[token("close")] = 20.0
    generator = torch.Generator().manual_seed(0)
    picked = {pick_choice_token(logits, index, "", ("parse",), {EOS}, 1.0, generator) for _ in range(20)}
    assert picked <= {token("pars"), token("parse")}


def test_start_choices_need_a_text_prompt() -> None:
    with pytest.raises(ValueError, match="start_choices"):
        GenerationRequest(prompt_token_ids=(1, 2), start_choices=("x",))


async def test_a_tokenizer_without_token_texts_ignores_the_choices(tiny_backend) -> None:
    # Tekken lists no token texts, so nothing can be constrained: the answer is the free one.
    free = GenerationRequest(prompt="result = parser.", max_new_tokens=6)
    chosen = GenerationRequest(prompt="result = parser.", max_new_tokens=6, start_choices=("parse",))
    assert (await run(tiny_backend, chosen))[1] == (await run(tiny_backend, free))[1]


# The bundled model at ``json.▮`` in a file that never names ``loads``: what it writes freely is not one
# of the choices given here, so the constraint must change the answer's first word.
SPM_JSON = (
    "<|fim_prefix|><|fim_suffix|>\n    return data\n<|fim_middle|>import json\n\n\n"
    "def read_config(text):\n    data = json"
)


@pytest.mark.model
async def test_the_model_writes_one_of_the_choices_then_goes_on_freely(int8_backend) -> None:
    base = GenerationRequest(
        prompt=SPM_JSON,
        forced_start=".",
        max_new_tokens=12,
        stop_sequences=("\n",),
        stop_token_strings=QWEN_STOP_TOKEN_STRINGS,
    )
    _ids, free, _final = await run(int8_backend, base)
    assert free.startswith("loads("), free  # the model's own choice (measured)
    choices = (".dumps", ".JSONDecoder", ".load")
    _ids, text, final = await run(int8_backend, dataclasses.replace(base, start_choices=choices))
    assert final.finish_reason == "stop"
    word = text.split("(")[0]
    # "load" and not "loads": the word ends where a choice does; what follows is the model's own.
    assert "." + word in choices and text[len(word) :].startswith("("), text


def test_redaction_keeps_the_choices_only_where_the_prompt_still_ends_the_same() -> None:
    from roost.engine.backends.redacting import redact_request

    plain = redact_request(GenerationRequest(prompt="x = json", forced_start=".lo", start_choices=(".load",)))
    assert plain.start_choices == (".load",)
    # A secret running into the forced start makes all of it prompt: the choices' start point is gone.
    key = "AKIA" + "Z7Q4MXW2PL9RT3VB"
    cut = redact_request(
        GenerationRequest(prompt=f'k = "{key[:8]}', forced_start=key[8:], start_choices=(key[8:],))
    )
    assert cut.forced_start == "" and cut.start_choices == ()
    # A name the scanner would redact is never one the model is made to write; the others stay.
    named = redact_request(GenerationRequest(prompt="creds.", start_choices=("region", key)))
    assert named.prompt == "creds." and named.start_choices == ("region",)
