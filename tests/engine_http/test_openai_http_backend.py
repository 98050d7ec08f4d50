"""The OpenAI-compatible HTTP backend against a local server speaking the real wire format."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import socket
import time

import pytest

from roost.engine.backends.openai_http import OpenAIHTTPBackend, OpenAIHTTPOptions
from roost.engine.prompts import ContextSnippet, PromptInput, make_format
from roost.engine.types import (
    Backend,
    BackendTimeoutError,
    BackendUnavailableError,
    ChatMessage,
    EngineError,
    GenerationRequest,
    RequestPriority,
    TextChunk,
    UnsupportedRequestError,
    collect_text,
)

from .fake_openai_server import FakeOpenAIServer, RecordedRequest, Reply, chat_events, completion_events


def backend_for(server: FakeOpenAIServer, **options: object) -> OpenAIHTTPBackend:
    defaults: dict[str, object] = {"base_url": server.base_url, "model": "test-model", "read_timeout_s": 5.0}
    defaults.update(options)
    return OpenAIHTTPBackend(OpenAIHTTPOptions(**defaults))  # type: ignore[arg-type]


async def run(backend: OpenAIHTTPBackend, request: GenerationRequest) -> tuple[list[TextChunk], str]:
    chunks = [chunk async for chunk in backend.generate(request)]
    return chunks, "".join(c.text for c in chunks)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def test_completions_stream_and_request_body() -> None:
    pieces = ["    return ", "a", " + b", "\n"]
    async with FakeOpenAIServer(lambda r: Reply(events=completion_events(pieces))) as server:
        backend = backend_for(server)
        assert isinstance(backend, Backend)
        request = GenerationRequest(
            prompt="<|fim_prefix|>def add(a, b):\n<|fim_suffix|>\n<|fim_middle|>",
            max_new_tokens=32,
            stop_sequences=("\n\n",),
            stop_token_strings=("<|endoftext|>",),
            seed=7,
        )
        chunks, text = await run(backend, request)
        await backend.aclose()

    assert text == "    return a + b\n"
    assert [c.is_final for c in chunks].count(True) == 1 and chunks[-1].is_final
    final = chunks[-1]
    assert final.finish_reason == "stop" and final.error is None
    assert final.timings is not None and final.timings.total_s >= final.timings.first_token_s > 0
    assert final.timings.generated_tokens == len(pieces)
    (recorded,) = server.requests
    assert recorded.method == "POST" and recorded.path == "/v1/completions"
    assert recorded.body["prompt"] == request.prompt
    assert recorded.body["stream"] is True
    assert recorded.body["max_tokens"] == 32 and recorded.body["seed"] == 7
    assert recorded.body["stop"] == ["\n\n", "<|endoftext|>"]
    assert "suffix" not in recorded.body
    assert recorded.headers["accept"] == "text/event-stream"


async def test_a_forced_start_goes_out_as_prompt_text() -> None:
    # A server cannot constrain tokens: the forced start ends the prompt and the answer follows it.
    async with FakeOpenAIServer(lambda r: Reply(events=completion_events(["rn a + b"]))) as server:
        backend = backend_for(server)
        request = GenerationRequest(prompt="<|fim_middle|>def add(a, b):\n", forced_start="    retu")
        _chunks, text = await run(backend, request)
        await backend.aclose()
    assert text == "rn a + b"
    assert server.requests[0].body["prompt"] == "<|fim_middle|>def add(a, b):\n    retu"


async def test_server_side_fim_sends_suffix_field() -> None:
    async with FakeOpenAIServer(lambda r: Reply(events=completion_events(["x"]))) as server:
        backend = backend_for(server)
        prompt_input = PromptInput(
            "app.py", "python", "def f():\n    return ", "\n", (ContextSnippet("lib.py", "X = 1\n", 1.0),)
        )
        prompt = make_format("qwen2.5-coder").render(prompt_input)
        await collect_text(backend, prompt.to_request("server_fim", max_new_tokens=8))
        await backend.aclose()
    body = server.requests[0].body
    assert body["suffix"] == "\n"
    assert body["prompt"].endswith("def f():\n    return ") and "# Path: lib.py" in body["prompt"]


async def test_chat_stream_with_role_delta_and_api_key() -> None:
    async with FakeOpenAIServer(
        lambda r: Reply(events=chat_events(["```python\n", "x = 1", "\n```"]))
    ) as server:
        backend = backend_for(server, api_key="sk-local")
        request = GenerationRequest(messages=(ChatMessage("system", "s"), ChatMessage("user", "u")))
        chunks, text = await run(backend, request)
        await backend.aclose()
    assert text == "```python\nx = 1\n```"
    assert chunks[-1].finish_reason == "stop"
    recorded = server.requests[0]
    assert recorded.path == "/v1/chat/completions"
    assert recorded.body["messages"] == [{"role": "system", "content": "s"}, {"role": "user", "content": "u"}]
    assert recorded.headers["authorization"] == "Bearer sk-local"


async def test_stop_string_applied_locally_across_chunks_and_stream_closed() -> None:
    # A server that ignores `stop`: the stop token string arrives split over three events, with more
    # text after it. The output must end before it, and the backend must not read the rest.
    pieces = ["return ", "x<|endo", "ftext|>", "garbage", "more"]
    async with FakeOpenAIServer(
        lambda r: Reply(events=completion_events(pieces), stall_after=len(pieces))
    ) as server:
        backend = backend_for(server)
        request = GenerationRequest(prompt="p", stop_token_strings=("<|endoftext|>",))
        chunks, text = await run(backend, request)
        await asyncio.wait_for(server.disconnected.wait(), 5)
        await backend.aclose()
    assert text == "return x"
    assert chunks[-1].finish_reason == "stop"


async def test_partial_stop_prefix_at_end_is_released() -> None:
    # "<|" could start the stop string but the stream ends: it is ordinary text.
    async with FakeOpenAIServer(
        lambda r: Reply(events=completion_events(["a <", "|"], finish="length"))
    ) as server:
        backend = backend_for(server)
        chunks, text = await run(
            backend, GenerationRequest(prompt="p", stop_token_strings=("<|endoftext|>",))
        )
        await backend.aclose()
    assert text == "a <|"
    assert chunks[-1].finish_reason == "length"


async def test_http_error_status_carries_server_message() -> None:
    error_body = json.dumps({"error": {"message": "This model's maximum context length is 4096 tokens"}})
    async with FakeOpenAIServer(lambda r: Reply(status=400, body=error_body.encode())) as server:
        backend = backend_for(server)
        with pytest.raises(EngineError, match="HTTP 400: This model's maximum context length is 4096"):
            await run(backend, GenerationRequest(prompt="p"))
        await backend.aclose()
    assert len(server.requests) == 1  # an HTTP error is an answer: never retried


async def test_service_unavailable_is_backend_unavailable() -> None:
    async with FakeOpenAIServer(lambda r: Reply(status=503, body=b"model is loading")) as server:
        backend = backend_for(server)
        with pytest.raises(BackendUnavailableError, match="HTTP 503: model is loading"):
            await run(backend, GenerationRequest(prompt="p"))
        await backend.aclose()


async def test_connection_refused_bounded_retries_then_fail_fast() -> None:
    port = free_port()
    options = OpenAIHTTPOptions(
        base_url=f"http://127.0.0.1:{port}",
        max_connect_retries=2,
        retry_backoff_s=0.05,
        unavailable_cooldown_s=30,
    )
    backend = OpenAIHTTPBackend(options)
    started = time.monotonic()
    with pytest.raises(
        BackendUnavailableError, match=r"after 3 attempt\(s\).*Is the server running"
    ) as first:
        await run(backend, GenerationRequest(prompt="p"))
    assert f"127.0.0.1:{port}" in str(first.value)
    # Two backoffs happened (0.05 + 0.1 s): the retries are spaced, not a storm.
    assert time.monotonic() - started >= 0.15
    # During the cool-down the next keystroke's request fails at once without reconnecting.
    started = time.monotonic()
    with pytest.raises(BackendUnavailableError, match="unreachable moments ago"):
        await run(backend, GenerationRequest(prompt="p"))
    assert time.monotonic() - started < 0.05
    await backend.aclose()


async def test_no_answer_before_read_timeout() -> None:
    async with FakeOpenAIServer(
        lambda r: Reply(events=completion_events(["x"]), headers_delay_s=3)
    ) as server:
        backend = backend_for(server, read_timeout_s=0.3)
        started = time.monotonic()
        with pytest.raises(BackendTimeoutError, match="did not answer within 0.3 s"):
            await run(backend, GenerationRequest(prompt="p"))
        assert time.monotonic() - started < 2.5
        await backend.aclose()
    assert len(server.requests) == 1  # a timeout is not retried


async def test_stall_mid_stream_ends_with_error_chunk() -> None:
    events = completion_events(["one", "two", "three"])
    async with FakeOpenAIServer(lambda r: Reply(events=events, stall_after=2)) as server:
        backend = backend_for(server, read_timeout_s=0.3)
        chunks, text = await run(backend, GenerationRequest(prompt="p"))
        await backend.aclose()
    assert text == "onetwo"
    assert chunks[-1].finish_reason == "error"
    assert "stopped sending" in (chunks[-1].error or "")
    assert len(server.requests) == 1  # nothing is retried mid-stream


async def test_dropped_connection_mid_stream_ends_with_error_chunk() -> None:
    events = completion_events(["one", "two", "three"])
    async with FakeOpenAIServer(lambda r: Reply(events=events, drop_after=1)) as server:
        backend = backend_for(server)
        chunks, text = await run(backend, GenerationRequest(prompt="p"))
        await backend.aclose()
    assert text == "one"
    assert chunks[-1].finish_reason == "error"
    assert chunks[-1].error


async def test_stream_without_done_or_finish_is_an_error() -> None:
    events = completion_events(["one", "two"])
    events[-1]["choices"][0]["finish_reason"] = None  # type: ignore[index]
    async with FakeOpenAIServer(lambda r: Reply(events=events, done=False)) as server:
        backend = backend_for(server)
        chunks, _ = await run(backend, GenerationRequest(prompt="p"))
        await backend.aclose()
    assert chunks[-1].finish_reason == "error"
    assert "before it was complete" in (chunks[-1].error or "")


async def test_error_event_and_malformed_event() -> None:
    replies = iter(
        [
            Reply(events=[*completion_events(["a"])[:1], {"error": {"message": "CUDA out of memory"}}]),
            Reply(events=[*completion_events(["a"])[:1], "{not json"]),
        ]
    )
    async with FakeOpenAIServer(lambda r: next(replies)) as server:
        backend = backend_for(server)
        chunks, text = await run(backend, GenerationRequest(prompt="p"))
        assert text == "a" and chunks[-1].finish_reason == "error"
        assert "CUDA out of memory" in (chunks[-1].error or "")
        chunks, _ = await run(backend, GenerationRequest(prompt="p"))
        assert chunks[-1].finish_reason == "error" and "malformed" in (chunks[-1].error or "")
        await backend.aclose()


async def test_total_timeout() -> None:
    events = completion_events(["a"] * 50)
    async with FakeOpenAIServer(lambda r: Reply(events=events, event_delay_s=0.05)) as server:
        backend = backend_for(server, total_timeout_s=0.4)
        chunks, text = await run(backend, GenerationRequest(prompt="p"))
        await backend.aclose()
    assert chunks[-1].finish_reason == "error" and "total_timeout_s" in (chunks[-1].error or "")
    assert 0 < len(text) < 50


async def test_task_cancellation_closes_the_connection() -> None:
    events = completion_events(["a", "b", "c"])
    async with FakeOpenAIServer(lambda r: Reply(events=events, stall_after=1)) as server:
        backend = backend_for(server)
        received: list[str] = []
        first = asyncio.Event()

        async def consume() -> None:
            async for chunk in backend.generate(GenerationRequest(prompt="p")):
                received.append(chunk.text)
                first.set()

        task = asyncio.create_task(consume())
        await asyncio.wait_for(first.wait(), 5)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        await asyncio.wait_for(server.disconnected.wait(), 2)
        await backend.aclose()
    assert received == ["a"]


async def test_aclose_of_the_generator_closes_the_connection() -> None:
    events = completion_events(["a", "b", "c"])
    async with FakeOpenAIServer(lambda r: Reply(events=events, stall_after=1)) as server:
        backend = backend_for(server)
        async with contextlib.aclosing(backend.generate(GenerationRequest(prompt="p"))) as stream:
            async for chunk in stream:
                assert chunk.text == "a"
                break
        await asyncio.wait_for(server.disconnected.wait(), 2)
        await backend.aclose()


async def test_cancel_event_ends_with_cancelled_chunk() -> None:
    events = completion_events(["a", "b"])
    async with FakeOpenAIServer(lambda r: Reply(events=events, stall_after=1)) as server:
        backend = backend_for(server)
        cancel = asyncio.Event()
        chunks: list[TextChunk] = []
        async for chunk in backend.generate(GenerationRequest(prompt="p", cancel_event=cancel)):
            chunks.append(chunk)
            cancel.set()
        await asyncio.wait_for(server.disconnected.wait(), 2)
        await backend.aclose()
    assert chunks[0].text == "a"
    assert chunks[-1].finish_reason == "cancelled"


async def test_usage_reported_in_timings() -> None:
    def script(request: RecordedRequest) -> Reply:
        assert request.body["stream_options"] == {"include_usage": True}
        usage = {"id": "x", "choices": [], "usage": {"prompt_tokens": 12, "completion_tokens": 3}}
        return Reply(events=[*completion_events(["a", "b", "c"]), usage])

    async with FakeOpenAIServer(script) as server:
        backend = backend_for(server, request_usage=True)
        chunks, _ = await run(backend, GenerationRequest(prompt="p"))
        await backend.aclose()
    timings = chunks[-1].timings
    assert timings is not None and timings.prompt_tokens == 12 and timings.generated_tokens == 3


async def test_token_ids_are_refused_and_bad_url_rejected() -> None:
    backend = OpenAIHTTPBackend(OpenAIHTTPOptions(base_url="http://127.0.0.1:9"))
    with pytest.raises(UnsupportedRequestError, match="token ids"):
        await run(backend, GenerationRequest(prompt_token_ids=(1, 2, 3)))
    await backend.aclose()
    with pytest.raises(ValueError, match="base_url"):
        OpenAIHTTPOptions(base_url="127.0.0.1:8000")
    assert backend.count_tokens("x" * 30) == 10


async def test_stop_strings_beyond_server_limit_still_apply_locally() -> None:
    pieces = ["a", "b<|fim_pad|>", "c"]
    async with FakeOpenAIServer(lambda r: Reply(events=completion_events(pieces))) as server:
        backend = backend_for(server, max_server_stop_strings=1)
        request = GenerationRequest(prompt="p", stop_token_strings=("<|endoftext|>", "<|fim_pad|>"))
        _, text = await run(backend, request)
        await backend.aclose()
    assert server.requests[0].body["stop"] == ["<|endoftext|>"]
    assert text == "ab"


# ------------------------------------------------------------- chat infill: the fence prefill over HTTP

FIM_INPUT = PromptInput(
    path="geometry.py",
    language="python",
    prefix="import math\n\n\ndef area(r):\n    return ",
    suffix="\n\n\nprint(area(2))\n",
    snippets=(ContextSnippet("util.py", "PI = 3.14159\n"),),
)


@pytest.mark.parametrize("server_kind", ["vllm", "sglang", "roost"])
async def test_chat_fim_sends_the_fence_prefill_to_servers_that_continue_a_message(server_kind: str) -> None:
    fmt = make_format("mistral-small")
    prompt = fmt.render(FIM_INPUT)
    assert prompt.prefill == "```python\n"
    # What such a server streams: the continuation after the prefilled fence, up to the closing fence.
    pieces = ["math.pi", " * r", " ** 2", "\n```"]
    async with FakeOpenAIServer(lambda r: Reply(events=chat_events(pieces))) as server:
        backend = backend_for(server, server_kind=server_kind)
        assert backend.continues_assistant_prefill
        _chunks, raw = await run(backend, prompt.to_request(max_new_tokens=64))
        await backend.aclose()
    body = server.requests[0].body
    assert server.requests[0].path == "/v1/chat/completions"
    assert [m["role"] for m in body["messages"]] == ["system", "user", "assistant"]
    assert body["messages"][-1] == {"role": "assistant", "content": "```python\n"}
    assert body["continue_final_message"] is True and body["add_generation_prompt"] is False
    # The closing fence ends the answer: sent as a stop and applied here too.
    assert "\n```" in body["stop"] and "</s>" in body["stop"]
    assert raw == "math.pi * r ** 2"
    assert fmt.parse_answer(raw, prompt, prefix=FIM_INPUT.prefix) == "math.pi * r ** 2"


@pytest.mark.parametrize(
    "answer",
    [
        ["```python\n", "math.pi * r ** 2\n", "```"],
        ["Here is the code:\n", "```python\nmath.pi * r ** 2\n```\n", "It computes the area."],
        ["```\nmath.pi * r ** 2\n```"],
        ["math.pi * r ** 2"],
    ],
)
async def test_chat_fim_without_the_extension_sends_no_prefill_and_the_parser_copes(
    answer: list[str],
) -> None:
    fmt = make_format("mistral-small")
    prompt = fmt.render(FIM_INPUT)
    async with FakeOpenAIServer(lambda r: Reply(events=chat_events(answer))) as server:
        backend = backend_for(server)  # server_kind="generic"
        assert not backend.continues_assistant_prefill
        request = prompt.to_request(max_new_tokens=64)
        # An editor's single-line stop, meant for the code after the prefilled fence.
        request = dataclasses.replace(request, stop_sequences=("\n",))
        _chunks, raw = await run(backend, request)
        await backend.aclose()
    body = server.requests[0].body
    assert [m["role"] for m in body["messages"]] == ["system", "user"]
    assert body["stop"] == ["</s>"]  # "\n" would cut "```python" or "Here is the code:" before the code
    assert "continue_final_message" not in body and "add_generation_prompt" not in body
    # The fence stop would cut an answer that opens its own fence before its code: not sent, not applied.
    assert "\n```" not in body.get("stop", [])
    assert raw == "".join(answer)
    assert fmt.parse_answer(raw, prompt, prefix=FIM_INPUT.prefix) == "math.pi * r ** 2"


async def test_roost_engine_server_continues_the_prefilled_fence() -> None:
    """``roost engine serve`` maps continue_final_message onto the in-process prefill."""
    from roost.engine.server import BadRequest, request_from_openai

    body = {
        "messages": [
            {"role": "system", "content": "s"},
            {"role": "user", "content": "u"},
            {"role": "assistant", "content": "```python\n"},
        ],
        "continue_final_message": True,
        "add_generation_prompt": False,
        "stop": ["\n```"],
    }
    request = request_from_openai(body, chat=True)
    assert request.assistant_prefill == "```python\n"
    assert request.messages == (ChatMessage("system", "s"), ChatMessage("user", "u"))
    without = request_from_openai({**body, "continue_final_message": False}, chat=True)
    assert without.assistant_prefill == "" and without.messages is not None and len(without.messages) == 3
    with pytest.raises(BadRequest, match="trailing assistant"):
        request_from_openai({**body, "messages": body["messages"][:2]}, chat=True)
    with pytest.raises(BadRequest, match="cannot both be true"):
        request_from_openai({**body, "add_generation_prompt": True}, chat=True)


async def test_a_prefill_only_request_never_reaches_the_server() -> None:
    # Nothing listens on this port: a request that reached for it would fail.
    backend = OpenAIHTTPBackend(OpenAIHTTPOptions(base_url=f"http://127.0.0.1:{free_port()}"))
    try:
        request = GenerationRequest(prompt="def f(", prefill_only=True, priority=RequestPriority.PREFETCH)
        chunks, text = await run(backend, request)
        assert text == "" and [c.finish_reason for c in chunks] == ["length"]
    finally:
        await backend.aclose()


async def test_our_own_engine_server_gets_the_prefetch_the_priority_and_the_forced_start() -> None:
    """``server_kind="roost"`` (the shared engine): a prefetch is sent, not dropped (our server runs it at
    the lowest priority), an edit says so, and a forced start goes as ``roost_forced_start`` (the server
    heals it) instead of being appended to the prompt."""
    async with FakeOpenAIServer(lambda r: Reply(events=completion_events(["rn a + b"]))) as server:
        backend = backend_for(server, server_kind="roost")
        assert backend.heals_forced_start and not backend_for(server).heals_forced_start
        prompt = "<|fim_middle|>def add(a, b):\n"
        choices = ("return", "retry")
        await run(backend, GenerationRequest(prompt=prompt, forced_start="    retu", start_choices=choices))
        await run(backend, GenerationRequest(prompt=prompt, priority=RequestPriority.EDIT))
        await run(
            backend, GenerationRequest(prompt=prompt, prefill_only=True, priority=RequestPriority.PREFETCH)
        )
        await run(backend, GenerationRequest(prompt=prompt))
        await backend.aclose()
    healed, edit, prefetch, inline = (recorded.body for recorded in server.requests)
    assert healed["prompt"] == prompt and healed["roost_forced_start"] == "    retu"
    assert healed["roost_start_choices"] == ["return", "retry"]
    assert edit["roost_priority"] == "edit" and "roost_prefill_only" not in edit
    assert prefetch["roost_priority"] == "prefetch" and prefetch["roost_prefill_only"] is True
    assert not any(key.startswith("roost_") for key in inline), "an inline request is the plain OpenAI body"


def test_the_engine_server_reads_the_roost_fields_and_refuses_bad_ones() -> None:
    from roost.engine.server import BadRequest, request_from_openai

    body = {"prompt": "def f(", "max_tokens": 8}
    plain = request_from_openai(body, chat=False)
    assert plain.priority == RequestPriority.INLINE_COMPLETION and not plain.prefill_only
    assert plain.forced_start == ""
    prefetch = request_from_openai({**body, "roost_priority": "prefetch", "roost_prefill_only": True}, False)
    assert prefetch.priority == RequestPriority.PREFETCH and prefetch.prefill_only
    healed = request_from_openai(
        {**body, "roost_forced_start": "x", "roost_start_choices": ["xa", "xb"]}, False
    )
    assert healed.prompt == "def f(" and healed.forced_start == "x" and healed.start_choices == ("xa", "xb")
    assert request_from_openai({**body, "roost_priority": "edit"}, False).priority == RequestPriority.EDIT
    for bad, message in (
        ({"roost_priority": "urgent"}, "roost_priority"),
        ({"roost_prefill_only": "yes"}, "roost_prefill_only"),
        ({"roost_forced_start": 3}, "roost_forced_start"),
        ({"roost_start_choices": "name"}, "roost_start_choices"),
        ({"roost_start_choices": ["a", 1]}, "roost_start_choices"),
    ):
        with pytest.raises(BadRequest, match=message):
            request_from_openai({**body, **bad}, chat=False)
