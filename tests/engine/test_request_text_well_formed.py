"""Every text of a GenerationRequest reaches a backend encodable: lone surrogates become U+FFFD, one for one."""

from __future__ import annotations

from roost.engine.types import ChatMessage, GenerationRequest, StartChoice, well_formed


def test_well_formed_replaces_lone_surrogates_one_for_one() -> None:
    assert well_formed("a\ud800b\udce9") == "a\ufffdb\ufffd"
    assert well_formed("café 😀") == "café 😀"
    text = "plain"
    assert well_formed(text) is text


def test_a_request_s_texts_are_all_encodable() -> None:
    request = GenerationRequest(
        prompt="x = '\ud800'\n",
        forced_start="na\udce9",
        start_choices=(StartChoice("name", 0.5), StartChoice("na\udce9me", 0.25)),
        stop_sequences=("\udcff\n",),
        suffix="\ud83d",
    )
    for text in (
        request.prompt,
        request.forced_start,
        request.suffix,
        *request.start_choices,
        *request.stop_sequences,
    ):
        assert text is not None
        text.encode("utf-8")
    assert request.prompt == "x = '\ufffd'\n"
    assert [(c, c.bias) for c in request.start_choices] == [("name", 0.5), ("na\ufffdme", 0.25)]
    assert isinstance(request.start_choices[1], StartChoice)


def test_a_chat_s_messages_are_encodable() -> None:
    request = GenerationRequest(
        messages=(ChatMessage("user", "fix \udce9"),),
        assistant_prefill="```\ud800",
        prefill_stop_sequences=("\ud800",),
    )
    assert request.messages == (ChatMessage("user", "fix \ufffd"),)
    assert request.assistant_prefill == "```\ufffd"
    assert request.prefill_stop_sequences == ("\ufffd",)
