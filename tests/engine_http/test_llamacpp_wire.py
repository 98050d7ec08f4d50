"""The OpenAI-compatible backend (``server = "llama.cpp"``) against llama.cpp's own wire format: the fake
server replays, byte for byte, what a real ``python -m llama_cpp.server`` (llama-cpp-python 0.3.36, the
bundled Qwen2.5-Coder-0.5B GGUF) sent to the same requests (``fixtures/llamacpp_server.json``, recorded by
``llamacpp_capture.py``; ``test_llamacpp_server.py`` checks the recording against a live server).

Each test asks for what the recording asked (its prompt or messages, stops, token limit), so a change of the
prompt formats does not stale the recording; the profile answers only the very body recorded, so a change of
what the backend puts on the wire shows here as "no recorded llama.cpp exchange" until it is captured again."""

from __future__ import annotations

import asyncio
import dataclasses
import json

import pytest

from roost.engine.backends.openai_http import OpenAIHTTPBackend, OpenAIHTTPOptions
from roost.engine.types import BackendError, ChatMessage, GenerationRequest, TextChunk

from .fake_openai_server import FakeOpenAIServer, Reply, llamacpp_exchanges, llamacpp_reply, llamacpp_script
from .llamacpp_capture import MODEL_NAME


def recorded_answer(name: str) -> tuple[str, str | None]:
    """The text and the last finish_reason the real server streamed in exchange ``name``."""
    texts: list[str] = []
    finish = None
    for chunk in llamacpp_exchanges()[name]["chunks"]:
        for line in chunk.splitlines():
            if not line.startswith("data: ") or line == "data: [DONE]":
                continue
            choice = json.loads(line.removeprefix("data: "))["choices"][0]
            texts.append(choice.get("text") or (choice.get("delta") or {}).get("content") or "")
            finish = choice["finish_reason"] or finish
    return "".join(texts), finish


def llamacpp_backend(server: FakeOpenAIServer, model: str = MODEL_NAME) -> OpenAIHTTPBackend:
    options = OpenAIHTTPOptions(
        base_url=server.base_url, model=model, server_kind="llama.cpp", read_timeout_s=5
    )
    return OpenAIHTTPBackend(options)


async def generate(backend: OpenAIHTTPBackend, request: GenerationRequest) -> tuple[str, TextChunk]:
    chunks = [chunk async for chunk in backend.generate(request)]
    await backend.aclose()
    return "".join(chunk.text for chunk in chunks), chunks[-1]


def recorded_request(name: str) -> GenerationRequest:
    """What exchange ``name`` asked the server for, as a request to the backend."""
    body = llamacpp_exchanges()[name]["body"]
    messages = tuple(ChatMessage(m["role"], m["content"]) for m in body.get("messages", ()))
    return GenerationRequest(
        prompt=body.get("prompt"),
        messages=messages or None,
        max_new_tokens=body["max_tokens"],
        temperature=body["temperature"],
        top_p=body["top_p"],
        stop_sequences=tuple(body.get("stop", ())),
    )


ANSWERS = ["fim_single_line", "fim_multi_line", "fim_length", "chat"]


@pytest.mark.parametrize("name", ANSWERS)
async def test_answers_come_through_as_llamacpp_streamed_them(name: str) -> None:
    expected_text, expected_finish = recorded_answer(name)
    assert expected_text and expected_finish in ("stop", "length")
    async with FakeOpenAIServer(llamacpp_script) as server:
        text, final = await generate(llamacpp_backend(server), recorded_request(name))
    assert final.error is None, final.error
    assert (text, final.finish_reason) == (expected_text, expected_finish)
    assert final.timings is not None and final.timings.generated_tokens > 0


async def test_a_single_line_answer_stops_before_the_newline() -> None:
    # The editor's single-line stop went to the server, which ended the answer there ("stop").
    async with FakeOpenAIServer(llamacpp_script) as server:
        text, final = await generate(llamacpp_backend(server), recorded_request("fim_single_line"))
    assert (text, final.finish_reason) == ("math.pi * radius ** 2", "stop")
    assert "\n" in server.requests[0].body["stop"]


async def test_a_wrong_model_name_is_served_by_the_loaded_model() -> None:
    """llama.cpp's server answers any ``model`` with the model it loaded (no 404 as vLLM's): a wrong
    ``model.name`` is not an error there, and the answer is the loaded model's."""
    async with FakeOpenAIServer(llamacpp_script) as server:
        text, final = await generate(
            llamacpp_backend(server, model="no-such-model"), recorded_request("fim_single_line")
        )
    assert final.error is None
    assert text == recorded_answer("fim_single_line")[0]


async def test_an_answer_interrupted_by_another_request_is_an_error_not_an_answer() -> None:
    """Two clients on one llama.cpp server: the second request interrupts the first, whose stream ends with
    ``[DONE]`` and no finish_reason. Its text ("if n <= ") was taken for a whole answer before."""
    partial, finish = recorded_answer("interrupted_by_another_request")
    assert partial and finish is None
    async with FakeOpenAIServer(lambda request: llamacpp_reply("interrupted_by_another_request")) as server:
        text, final = await generate(
            llamacpp_backend(server), recorded_request("interrupted_by_another_request")
        )
    assert final.finish_reason == "error" and final.error_kind == "malformed_stream"
    assert final.error is not None and "interrupt" in final.error and "--interrupt_requests" in final.error
    assert text == partial  # streamed as it came; the final chunk says it is not a whole answer


async def test_a_prompt_beyond_the_context_window_says_so() -> None:
    """llama.cpp answers 200 and an empty body when the prompt exceeds its ``n_ctx`` (the ValueError is in its
    log only): the error names that cause and the fix, not only "malformed stream"."""
    exchange = llamacpp_exchanges()["context_overflow"]
    assert exchange["status"] == 200 and exchange["chunks"] == []
    async with FakeOpenAIServer(llamacpp_script) as server:
        text, final = await generate(llamacpp_backend(server), recorded_request("context_overflow"))
    assert text == ""
    assert final.finish_reason == "error" and final.error_kind == "malformed_stream"
    assert final.error is not None and "--n_ctx" in final.error and "context.budget" in final.error


async def test_a_request_the_server_refuses_carries_its_message() -> None:
    async with FakeOpenAIServer(lambda request: llamacpp_reply("bad_request")) as server:
        backend = llamacpp_backend(server)
        with pytest.raises(BackendError) as raised:
            await generate(backend, recorded_request("fim_single_line"))
    assert raised.value.kind == "http_status"
    assert "HTTP 500" in str(raised.value) and "Input should be a valid integer" in str(raised.value)


async def test_cancelling_mid_stream_closes_the_connection() -> None:
    """The user types on: the request's cancel event ends the stream and the connection is closed, which is
    what makes llama.cpp's server stop generating (it checks for a disconnect after each token)."""
    cancel = asyncio.Event()
    reply = llamacpp_reply("fim_multi_line", stall_after=3)
    async with FakeOpenAIServer(lambda request: reply) as server:
        backend = llamacpp_backend(server)
        request = dataclasses.replace(recorded_request("fim_multi_line"), cancel_event=cancel)
        texts: list[str] = []
        final = None
        async for chunk in backend.generate(request):
            texts.append(chunk.text)
            if chunk.text:
                cancel.set()
            final = chunk
        await asyncio.wait_for(server.disconnected.wait(), 5)
        await backend.aclose()
    assert final is not None and final.finish_reason == "cancelled"
    assert "".join(texts) and "".join(texts) in recorded_answer("fim_multi_line")[0]


async def test_an_unrecorded_request_is_refused_by_the_replay() -> None:
    """The replay is strict: a request body it has no recording for is answered with an error."""
    async with FakeOpenAIServer(llamacpp_script) as server:
        changed = dataclasses.replace(recorded_request("fim_single_line"), max_new_tokens=25)
        with pytest.raises(BackendError, match="no recorded llama.cpp exchange"):
            await generate(llamacpp_backend(server), changed)


def test_the_replayed_reply_keeps_the_recorded_framing() -> None:
    reply: Reply = llamacpp_reply("fim_single_line")
    assert reply.raw_headers is not None and reply.raw_headers["content-type"].startswith("text/event-stream")
    assert reply.raw_chunks is not None and all(chunk.endswith("\n\n") for chunk in reply.raw_chunks)
    assert reply.raw_chunks[-1] == "data: [DONE]\n\n"
