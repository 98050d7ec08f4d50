"""The one interface every model backend implements: requests in, a stream of text chunks out.

Backends (in-process transformers + scheduler, OpenAI-compatible HTTP) all implement :class:`Backend`::

    backend: Backend = ...
    request = GenerationRequest(prompt="<|fim_prefix|>def f(<|fim_suffix|>)<|fim_middle|>",
                                max_new_tokens=64, stop_token_strings=QWEN_STOP_TOKEN_STRINGS)
    async for chunk in backend.generate(request):
        print(chunk.text, end="")
        if chunk.finish_reason is not None:      # only the last chunk has one
            print(chunk.timings)

Contract (both backends honour it; tests rely on it):

* ``generate`` is an *async generator*: it yields zero or more :class:`TextChunk` with text and exactly
  one final chunk whose ``finish_reason`` is set (its ``text`` may be empty) and whose ``timings`` is set.
* The concatenated ``text`` of all chunks is the answer with every stop string removed: generation ends
  *before* a stop sequence / stop token string, which never appears in the output.
* **Cancellation**: cancel the task that iterates (``task.cancel()``) or stop iterating and close the
  generator (``await agen.aclose()``; leaving an ``async for`` through ``break`` inside
  ``contextlib.aclosing`` does that). Either frees the request's resources promptly (in process: its
  batch slot within one decode step; HTTP: the connection is closed). No chunk with
  ``finish_reason="cancelled"`` is produced for a cancelled consumer — nobody is listening.
  :attr:`GenerationRequest.cancel_event` is an alternative for callers that do not own the consuming
  task: setting it ends the stream with a final chunk ``finish_reason="cancelled"``.
* Failures raise subclasses of :class:`EngineError` with a message a user can act on (what was looked
  for, how to fix it). They never leak raw tracebacks as the only explanation.
* ``count_tokens(text)`` counts tokens with the backend's tokenizer (the prompt builder packs context
  under a token budget with it). Backends without a tokenizer estimate (documented per backend).
"""

from __future__ import annotations

import asyncio
import enum
import re
import uuid
from collections.abc import AsyncGenerator
from dataclasses import dataclass, field
from typing import Literal, Protocol, runtime_checkable

# Qwen2.5-Coder special tokens that end a FIM (or chat) answer. The instruct model does not stop after
# the FIM middle on its own, so these must be stop conditions of every FIM request to it.
QWEN_STOP_TOKEN_STRINGS: tuple[str, ...] = ("<|endoftext|>", "<|fim_pad|>", "<|im_end|>", "<|file_sep|>")

FinishReason = Literal["stop", "length", "cancelled", "error"]
BackendFailureKind = Literal[
    "http_status", "timeout", "malformed_stream", "connection", "server_error", "failed"
]
"""Why a request to a backend failed (:class:`BackendError`, and a ``finish_reason="error"`` chunk's
``error_kind``): the server answered an HTTP error status; it did not answer (or stopped answering) in
time; it sent a stream that is not the protocol (bad JSON, cut short); it could not be reached or the
connection broke; it reported an error event mid-answer; anything else (an in-process model failing)."""
"""Why a stream ended.

``stop``: a stop token / stop sequence / the model's end-of-sequence token.
``length``: ``max_new_tokens`` reached. ``cancelled``: :attr:`GenerationRequest.cancel_event` was set.
``error``: the backend failed after streaming started (the message is in :attr:`TextChunk.error`).
"""


class RequestPriority(enum.IntEnum):
    """Lower value is served first. Inline completions are latency critical (the user is typing);
    edits / fix-ups are long generations that may wait a little."""

    INLINE_COMPLETION = 0
    EDIT = 1
    BACKGROUND = 2
    # Work nobody waits for yet (a prompt prefilled where the cursor rests): served only when nothing
    # else is queued or running, and given up at once when something else arrives.
    PREFETCH = 3


# Their names on the wire (``roost_priority``), between Roost's client and ``roost engine serve``.
PRIORITY_NAMES: dict[RequestPriority, str] = {
    RequestPriority.INLINE_COMPLETION: "inline",
    RequestPriority.EDIT: "edit",
    RequestPriority.BACKGROUND: "background",
    RequestPriority.PREFETCH: "prefetch",
}


class StartChoice(str):
    """One of a request's ``start_choices`` with the caller's prior for it: ``bias`` (log-probability units)
    is added to the model's score of each token on the way to this choice (the largest, where a token
    leads to several; :mod:`roost.engine.start_choices`), so a name the model scores close to the best may
    win by what the caller knows of it (how well it fits the line). A str, so every path that passes
    choices on keeps it; one that sends them as text (the HTTP engine) drops the prior, and the model
    ranks alone there."""

    bias: float

    def __new__(cls, text: str, bias: float = 0.0) -> StartChoice:
        choice = super().__new__(cls, text)
        choice.bias = bias
        return choice


# A UTF-16 surrogate on its own: no encoding of text can hold it. Editors may send one (JSON's "\ud800"),
# and a file name that is not UTF-8 comes out of os.fsdecode with them.
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def well_formed(text: str) -> str:
    """``text`` with each lone surrogate replaced by U+FFFD, one character for one (offsets within it
    stay valid). A backend must encode what it is given: over HTTP the JSON body is UTF-8, in process
    the tokenizer's input, and either raised on a surrogate, failing the whole request."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return _LONE_SURROGATE.sub("\ufffd", text)
    return text


@dataclass(frozen=True)
class ChatMessage:
    role: Literal["system", "user", "assistant"]
    content: str

    def __post_init__(self) -> None:
        object.__setattr__(self, "content", well_formed(self.content))


@dataclass(frozen=True)
class GenerationRequest:
    """One generation. Exactly one of ``prompt``, ``prompt_token_ids`` or ``messages`` is given.

    * ``prompt``: raw text, already in the model's prompt format (FIM tokens included). HTTP backends
      send it to ``/v1/completions``; the in-process backend tokenizes it *with* special tokens parsed
      (``<|fim_prefix|>`` becomes one token) and without adding a BOS unless the tokenizer requires it.
    * ``prompt_token_ids``: already tokenized (in-process backend only; HTTP backends raise
      :class:`UnsupportedRequestError`). Lets prompt builders that use mistral-common pass exact ids.
    * ``messages``: a chat; HTTP backends send it to ``/v1/chat/completions``; the in-process backend
      renders it with the tokenizer's chat template.

    ``forced_start`` (raw text prompts only): text the answer must begin with, written by the model in its
    own tokens (token healing, :mod:`roost.engine.forced_start`): the prompt ends at a token boundary
    before a cursor's partial word and this tail is forced. The streamed output, and ``stop_sequences``,
    are what comes *after* it. A backend that cannot constrain tokens (HTTP) appends it to the prompt.

    ``start_choices`` (raw text prompts, in-process engine only): words one of which the answer must
    start with, each whole and followed by a character that cannot continue an identifier (or the
    answer's end), chosen by the model's own scores (:mod:`roost.engine.start_choices`), plus the prior a
    :class:`StartChoice` carries: the members an editor's completion list offers at ``receiver.▮``. Relative to the end of the prompt like
    ``forced_start``, which each choice therefore begins with (one that does not is left out). Empty:
    no constraint. HTTP backends ignore it (a server cannot be asked to constrain tokens), except our own
    engine server, which gets it as ``roost_start_choices``.

    ``suffix`` is for servers whose ``/v1/completions`` accept an OpenAI ``suffix`` field (FIM done
    server side); in-process backends reject a request with a suffix (build the FIM prompt instead).

    ``assistant_prefill`` (chats only): text the answer should start with, put in the model's mouth as an
    open assistant turn (chat infill prefills an opening code fence, so the model starts with code at
    once). The streamed output is what comes *after* it. A backend that cannot continue an assistant
    turn (an OpenAI-compatible server without vLLM's ``continue_final_message``) sends the chat without
    it; the answer parser copes with both. ``prefill_stop_sequences`` apply only when the prefill was
    honoured (the closing fence after a prefilled opening fence: without the prefill the answer's own
    opening fence would match it). With a prefill, ``stop_sequences`` too are meant for the text after
    it; a backend that cannot send the prefill applies only ``stop_token_strings``.

    ``prefill_only``: generate nothing; compute the prompt's KV into the backend's prefix cache, so that a
    later request whose prompt starts the same way skips that prefill (the editor's cursor rests where the
    user is about to type). The in-process engine runs it only while no other request is queued or
    running, in small chunks, and stops between two chunks as soon as another request arrives, keeping
    the part it computed; its final chunk says ``length`` when the whole prompt is cached, ``cancelled``
    when it stopped early, with ``timings.prompt_tokens`` / ``reused_prompt_tokens`` as far as it got.
    Backends without a prefix cache they control (HTTP) end the stream at once with no text.
    """

    prompt: str | None = None
    prompt_token_ids: tuple[int, ...] | None = None
    messages: tuple[ChatMessage, ...] | None = None
    suffix: str | None = None
    assistant_prefill: str = ""
    prefill_stop_sequences: tuple[str, ...] = ()
    forced_start: str = ""
    start_choices: tuple[str, ...] = ()
    max_new_tokens: int = 128
    # 0.0 means greedy decoding (deterministic; what tests and inline completion use).
    temperature: float = 0.0
    top_p: float = 1.0
    # Plain text stop sequences, matched on the decoded output (may span tokens).
    stop_sequences: tuple[str, ...] = ()
    # Special-token strings (e.g. "<|endoftext|>"); in process they are matched as token ids, over HTTP
    # they are sent as stop strings.
    stop_token_strings: tuple[str, ...] = ()
    priority: RequestPriority = RequestPriority.INLINE_COMPLETION
    request_id: str = field(default_factory=lambda: uuid.uuid4().hex)
    # Optional cooperative cancellation for callers that do not own the consuming task.
    cancel_event: asyncio.Event | None = field(default=None, compare=False, repr=False)
    seed: int | None = None
    prefill_only: bool = False

    def __post_init__(self) -> None:
        self._make_text_well_formed()
        given = [x is not None for x in (self.prompt, self.prompt_token_ids, self.messages)]
        if sum(given) != 1:
            raise ValueError("GenerationRequest needs exactly one of prompt, prompt_token_ids or messages")
        if self.assistant_prefill and self.messages is None:
            raise ValueError("assistant_prefill continues a chat: it needs messages")
        if self.forced_start and self.prompt is None:
            raise ValueError("forced_start continues a raw text prompt: it needs prompt")
        if self.start_choices and self.prompt is None:
            raise ValueError("start_choices continue a raw text prompt: they need prompt")
        if self.max_new_tokens < 1:
            raise ValueError(f"max_new_tokens must be >= 1, got {self.max_new_tokens}")
        if self.temperature < 0:
            raise ValueError(f"temperature must be >= 0, got {self.temperature}")
        if not 0 < self.top_p <= 1:
            raise ValueError(f"top_p must be in (0, 1], got {self.top_p}")

    def _make_text_well_formed(self) -> None:
        """Every text a backend is sent, with lone surrogates as U+FFFD (:func:`well_formed`); a start
        choice keeps its bias."""
        for name in ("prompt", "suffix"):
            value = getattr(self, name)
            if value is not None:
                object.__setattr__(self, name, well_formed(value))
        for name in ("assistant_prefill", "forced_start"):
            object.__setattr__(self, name, well_formed(getattr(self, name)))
        for name in ("stop_sequences", "prefill_stop_sequences"):
            object.__setattr__(self, name, tuple(well_formed(s) for s in getattr(self, name)))
        object.__setattr__(
            self,
            "start_choices",
            tuple(self._well_formed_choice(choice) for choice in self.start_choices),
        )

    @staticmethod
    def _well_formed_choice(choice: str) -> str:
        fixed = well_formed(choice)
        return choice if fixed is choice else StartChoice(fixed, getattr(choice, "bias", 0.0))

    @property
    def all_stop_strings(self) -> tuple[str, ...]:
        """Stop sequences and stop token strings together (what an HTTP backend sends as ``stop``)."""
        return tuple(dict.fromkeys(self.stop_sequences + self.stop_token_strings))


@dataclass(frozen=True)
class GenerationTimings:
    """Per-stage wall-clock seconds of one request, measured by the backend.

    queue: submitted → scheduled (in process) / request sent (HTTP: 0).
    prefill: prompt processing (in process: the forward pass over the non-reused prompt tokens;
    HTTP: not separable, 0). first_token: submitted → first generated token available (TTFT).
    decode: first token → last token. total: submitted → stream end.
    """

    queue_s: float = 0.0
    prefill_s: float = 0.0
    first_token_s: float = 0.0
    decode_s: float = 0.0
    total_s: float = 0.0
    prompt_tokens: int = 0
    generated_tokens: int = 0
    # Prompt tokens whose KV came from the prefix cache (not recomputed).
    reused_prompt_tokens: int = 0

    @property
    def decode_tokens_per_s(self) -> float:
        steps = self.generated_tokens - 1
        return steps / self.decode_s if steps > 0 and self.decode_s > 0 else 0.0


@dataclass(frozen=True)
class TextChunk:
    """A piece of streamed output. The last chunk of a stream has ``finish_reason`` and ``timings``; the
    in-process engine also gives every other chunk the timings so far (HTTP backends: the last only)."""

    text: str
    token_ids: tuple[int, ...] = ()
    finish_reason: FinishReason | None = None
    timings: GenerationTimings | None = None
    error: str | None = None
    # On a finish_reason="error" chunk: why (None from backends that do not tell).
    error_kind: BackendFailureKind | None = None

    @property
    def is_final(self) -> bool:
        return self.finish_reason is not None


@runtime_checkable
class Backend(Protocol):
    """What the LSP talks to. See the module docstring for the streaming/cancellation contract."""

    @property
    def name(self) -> str:
        """Short human-readable description, e.g. ``transformers:Qwen2.5-Coder-0.5B`` or ``openai:http://…``."""
        ...

    def generate(self, request: GenerationRequest) -> AsyncGenerator[TextChunk, None]:
        """Stream the answer to ``request`` (an async generator; see module docstring)."""
        ...

    def count_tokens(self, text: str) -> int:
        """Number of tokens ``text`` takes in this backend's tokenizer (special tokens parsed)."""
        ...

    async def aclose(self) -> None:
        """Release resources (worker thread, model memory, HTTP connections). Idempotent."""
        ...


async def collect_text(backend: Backend, request: GenerationRequest) -> tuple[str, TextChunk]:
    """Run ``request`` to completion; return the whole text and the final chunk (convenience for tests/CLI)."""
    parts: list[str] = []
    final: TextChunk | None = None
    async for chunk in backend.generate(request):
        parts.append(chunk.text)
        if chunk.is_final:
            final = chunk
    if final is None:
        raise EngineError(f"backend {backend.name} ended the stream without a final chunk")
    return "".join(parts), final


# ----------------------------------------------------------------------------------------- errors


class EngineError(Exception):
    """Base of every engine failure. The message says what went wrong and how to fix it."""


class ModelNotFoundError(EngineError):
    """The model could not be located (path, cache, installed packages)."""


class ModelIntegrityError(EngineError):
    """A model file failed verification (sha256 mismatch, truncated parts). Never loaded."""


class DependencyMissingError(EngineError):
    """An optional dependency (package, GPU feature) a requested option needs is not available."""


class IncompatibleAdapterError(EngineError):
    """A LoRA adapter is not a LoRA adapter, or was trained for another model (shapes, module names)."""


class UnsupportedRequestError(EngineError):
    """The backend cannot serve this kind of request (e.g. token ids over HTTP)."""


class BackendError(EngineError):
    """A request to a running backend failed. ``kind`` says how (see :data:`BackendFailureKind`);
    ``reason`` is one line naming the backend and the real cause ("backend http://… answered HTTP 500"),
    fit for a status bar; the message (``str``) may add the fix."""

    default_kind: BackendFailureKind = "failed"

    def __init__(
        self, message: str, *, kind: BackendFailureKind | None = None, reason: str | None = None
    ) -> None:
        super().__init__(message)
        self.kind: BackendFailureKind = kind or self.default_kind
        self.reason = reason or message


class BackendUnavailableError(BackendError):
    """The backend cannot be reached (HTTP connection refused, server down)."""

    default_kind = "connection"


class BackendTimeoutError(BackendError):
    """The backend did not answer in time."""

    default_kind = "timeout"


class EngineOverloadedError(EngineError):
    """The request queue is full; try again later (the LSP drops stale completions instead)."""
