"""The one choke point between prompts and models: a :class:`~roost.engine.types.Backend` wrapper that
redacts every text of every :class:`~roost.engine.types.GenerationRequest` before the wrapped backend
sees it.

Prompts are built from the workspace, which is untrusted input: the buffer being completed, retrieved
context, related code from other files, a fix-up's conversation. Redacting each of those where it is read
leaves a gap wherever someone forgets; redacting the request itself, where the backend is built, leaves
none. The backend may be a shared server on another machine, so nothing here trusts it.

A redacted value becomes ``[REDACTED]`` followed by as many newlines as the value spanned (a private-key
block), so the prompt keeps its line count: line-based context, the cursor's line and the model's view
of the code around it stay where they were.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncGenerator, Callable, Iterable
from dataclasses import replace
from typing import Any

from roost.engine.gate.secrets import REDACTED, scan_secrets, shannon_entropy
from roost.engine.speed import PrefillEstimate
from roost.engine.types import Backend, ChatMessage, GenerationRequest, TextChunk, UnsupportedRequestError

Redactor = Callable[[str], str]

# Shorter values of a secrets file are names and flags more often than credentials.
_MIN_KNOWN_VALUE_LENGTH = 8


def redact_keeping_lines(text: str) -> str:
    """``text`` with every secret value the gate's scanner finds replaced by ``[REDACTED]`` plus the
    newlines the value spanned (same line count as ``text``)."""
    hits = scan_secrets(text)
    if not hits:
        return text
    pieces: list[str] = []
    position = 0
    for hit in hits:
        pieces.append(text[position : hit.start])
        pieces.append(REDACTED + "\n" * text.count("\n", hit.start, hit.end))
        position = hit.end
    pieces.append(text[position:])
    return "".join(pieces)


def credential_like(value: str) -> bool:
    """Whether a value found in a secret file (``.env``, ``credentials``) is worth redacting wherever it
    appears: long, mixed and random enough to be a credential. ``localhost`` or ``production`` in a
    ``.env`` are settings, and redacting them from every prompt would only make the prompts worse."""
    value = value.strip()
    classes = sum(
        (any(c.islower() for c in value), any(c.isupper() for c in value), any(c.isdigit() for c in value))
    ) + any(not c.isalnum() for c in value)
    return len(value) >= _MIN_KNOWN_VALUE_LENGTH and classes >= 2 and shannon_entropy(value) >= 3.0


def known_secrets_redactor(
    known: Callable[[], Iterable[str]], redact: Redactor = redact_keeping_lines
) -> Redactor:
    """``redact``, then every credential-like value of ``known()`` (the workspace's secret files, read
    when the server starts) replaced wherever it appears, however it is written around."""

    def redact_with_known(text: str) -> str:
        text = redact(text)
        # Longest first: a value that contains another is replaced whole.
        for value in sorted((v for v in known() if credential_like(v)), key=len, reverse=True):
            if value in text:
                text = text.replace(value, REDACTED + "\n" * value.count("\n"))
        return text

    return redact_with_known


def redact_request(request: GenerationRequest, redact: Redactor = redact_keeping_lines) -> GenerationRequest:
    """The request with its prompt, FIM suffix, chat messages and assistant prefill redacted.

    Token ids cannot be redacted (the text behind them is gone), so a request carrying them is refused:
    the language server never builds one, and an unredactable prompt must not slip through."""
    if request.prompt_token_ids is not None:
        raise UnsupportedRequestError(
            "prompt token ids cannot be checked for secrets; send the prompt as text or chat messages"
        )
    messages = (
        tuple(ChatMessage(message.role, redact(message.content)) for message in request.messages)
        if request.messages is not None
        else None
    )
    prompt, forced_start = request.prompt, request.forced_start
    if prompt is not None:
        # Redacted together with the forced start: a secret may run from the prompt's end into it (the
        # cursor inside a key). The model sees the redacted whole, split where the forced start still ends
        # it unchanged; otherwise all of it becomes prompt (the healing is lost, never a secret's half).
        joint = redact(prompt + forced_start)
        if joint.endswith(forced_start):
            prompt = joint[: len(joint) - len(forced_start)]
        else:
            prompt, forced_start = joint, ""
    # Start choices are relative to the prompt's end and make the model write them: none once that end
    # moved, and none that the scanner would redact.
    choices = request.start_choices if forced_start == request.forced_start else ()
    if choices and redact("\n".join(choices)) != "\n".join(choices):  # one scan for the usual, clean case
        choices = tuple(choice for choice in choices if redact(choice) == choice)
    suffix = redact(request.suffix) if request.suffix is not None else None
    assistant_prefill = redact(request.assistant_prefill)
    sent = (
        (prompt or "") + forced_start,
        suffix or "",
        *(m.content for m in messages or ()),
        assistant_prefill,
    )
    unsent = (
        (request.prompt or "") + request.forced_start,
        request.suffix or "",
        *(m.content for m in request.messages or ()),
        request.assistant_prefill,
    )
    return replace(
        request,
        prompt=prompt,
        forced_start=forced_start,
        start_choices=choices,
        suffix=suffix,
        messages=messages,
        assistant_prefill=assistant_prefill,
        stop_sequences=_stops_to_send(request.stop_sequences, sent, unsent, redact),
        prefill_stop_sequences=_stops_to_send(request.prefill_stop_sequences, sent, unsent, redact),
    )


def _stops_to_send(
    stops: tuple[str, ...], sent: tuple[str, ...], unsent: tuple[str, ...], redact: Redactor
) -> tuple[str, ...]:
    """The stop strings that give nothing away: a server receives them with the prompt. A stop may be
    copied from the code (the line after the cursor, so that a model copying the suffix stops), so one
    the scanner would redact is dropped, and so is one that the request's texts held before redaction
    but not after: a piece of a redacted value, such as a key block's line, that no pattern finds alone.
    A dropped stop only lets the model run on; post-processing cuts the answer anyway."""
    if not stops:
        return stops
    return tuple(
        stop
        for stop in stops
        if redact(stop) == stop
        and not any(stop in before and stop not in after for before, after in zip(unsent, sent, strict=True))
    )


class RedactingBackend:
    """Implements :class:`Backend` by redacting each request and delegating to ``inner``.

    Everything else (token counting, closing, attributes such as an in-process backend's loaded model)
    is the inner backend's."""

    def __init__(self, inner: Backend, redact: Redactor = redact_keeping_lines) -> None:
        self.inner = inner
        self._redact = redact

    @property
    def name(self) -> str:
        return self.inner.name

    async def generate(self, request: GenerationRequest) -> AsyncGenerator[TextChunk, None]:
        # The whole request is redacted before the inner backend is even called, so nothing of a request
        # that cannot be redacted reaches it. Scanning is CPU work (about 8 ms for an 8 KB prompt): in a
        # worker thread, like prompt building, so the event loop keeps answering the editor.
        redacted = await asyncio.to_thread(redact_request, request, self._redact)
        async with contextlib.aclosing(self.inner.generate(redacted)) as stream:
            async for chunk in stream:
                yield chunk

    def count_tokens(self, text: str) -> int:
        return self.inner.count_tokens(text)

    def estimate_prefill(self, request: GenerationRequest) -> PrefillEstimate | None:
        """The inner backend's estimate for the request it would really get (the redacted one: its prefix
        cache holds redacted prompts); None where the inner backend cannot estimate."""
        estimate = getattr(self.inner, "estimate_prefill", None)
        return estimate(redact_request(request, self._redact)) if estimate is not None else None

    async def aclose(self) -> None:
        await self.inner.aclose()

    def __getattr__(self, attribute: str) -> Any:
        # Only reached for attributes this class lacks (the inner backend's own: ``loaded``, options …).
        if attribute == "inner":
            raise AttributeError(attribute)  # not yet set (copy, pickle): no recursion
        return getattr(self.inner, attribute)
