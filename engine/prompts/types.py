"""The language-agnostic input of every prompt format, and what a format produces.

``context/`` never imports the engine: the LSP layer converts retrieval's items into
:class:`ContextSnippet` and builds a :class:`PromptInput`. A :class:`PromptFormat` renders it into a
:class:`Prompt`, which maps onto a :class:`~roost.engine.types.GenerationRequest`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import Literal

from roost.engine.prompts.tokens import TokenCounter
from roost.engine.types import ChatMessage, GenerationRequest

PromptMode = Literal["fim", "chat"]
Transport = Literal["text", "token_ids", "messages", "server_fim"]


class PromptError(ValueError):
    """A prompt cannot be built (bad input, budget too small for the fixed parts of the format)."""


@dataclass(frozen=True)
class ContextSnippet:
    """A piece of another file the model should see.

    ``path`` is the path shown to the model (relative to the workspace root). ``score`` orders
    snippets when the budget forces a choice (higher first); ``kind`` is retrieval's reason
    (``definition``, ``import``, ``outline``, …) and is informational only.
    """

    path: str
    text: str
    score: float = 0.0
    kind: str = ""


@dataclass(frozen=True)
class PromptInput:
    """Everything a format needs for one cursor position.

    ``prefix`` is the document text before the cursor, ``suffix`` the text after it. ``language`` is
    the editor's language id (``python``, ``typescript``, …); it picks comment syntax and code fences.
    ``snippets`` are the context items, best first (their order is kept among equal scores).
    ``blank_file``: the whole document is empty or whitespace, so nothing in the code tells the model
    its language; a format that can name the file's path then does so even without context.
    """

    path: str
    language: str
    prefix: str
    suffix: str
    snippets: tuple[ContextSnippet, ...] = ()
    repo_name: str = ""
    blank_file: bool = False

    def __post_init__(self) -> None:
        for name in ("path", "language", "prefix", "suffix", "repo_name"):
            if not isinstance(getattr(self, name), str):
                raise PromptError(
                    f"PromptInput.{name} must be a str, got {type(getattr(self, name)).__name__}"
                )
        if not isinstance(self.blank_file, bool):
            raise PromptError(f"PromptInput.blank_file must be a bool, got {type(self.blank_file).__name__}")
        if not isinstance(self.snippets, tuple):
            object.__setattr__(self, "snippets", tuple(self.snippets))
        for snippet in self.snippets:
            if not isinstance(snippet, ContextSnippet):
                raise PromptError(
                    f"PromptInput.snippets must hold ContextSnippet, got {type(snippet).__name__}"
                )

    def with_parts(
        self,
        *,
        prefix: str | None = None,
        suffix: str | None = None,
        snippets: Iterable[ContextSnippet] | None = None,
    ) -> PromptInput:
        return replace(
            self,
            prefix=self.prefix if prefix is None else prefix,
            suffix=self.suffix if suffix is None else suffix,
            snippets=self.snippets if snippets is None else tuple(snippets),
        )


@dataclass(frozen=True)
class Prompt:
    """A rendered prompt, ready for any backend.

    * ``text``: the exact prompt text with special tokens written out (chat formats: the rendered
      chat template, including the assistant prefill when the format uses one).
    * ``token_ids``: exact ids when the format tokenizes itself (mistral-common); in-process backends
      should prefer them.
    * ``messages``: the chat (chat formats only), for ``/v1/chat/completions``. It never contains the
      assistant prefill: the ``messages`` transport passes it as ``GenerationRequest.assistant_prefill``,
      which backends that can continue an assistant turn honour (and others drop).
    * ``server_fim``: ``(prompt, suffix)`` for servers that build the FIM prompt themselves (OpenAI
      ``suffix`` field); the context is rendered into the prompt part.
    """

    family: str
    mode: PromptMode
    text: str
    stop_token_strings: tuple[str, ...] = ()
    stop_sequences: tuple[str, ...] = ()
    token_ids: tuple[int, ...] | None = None
    messages: tuple[ChatMessage, ...] | None = None
    server_fim: tuple[str, str] | None = None
    # Text the format already put in the assistant's mouth (e.g. an opening code fence); the answer
    # parser needs it to know whether the model's output starts inside a fence.
    prefill: str = ""
    snippets: tuple[ContextSnippet, ...] = field(default=())
    # The cursor's partial word, left out of ``text`` to be written by the model (token healing); the
    # ``text`` transport sends it as ``GenerationRequest.forced_start``.
    forced_start: str = ""

    def to_request(self, transport: Transport | None = None, **options: object) -> GenerationRequest:
        """Build a :class:`GenerationRequest`. ``transport`` picks which rendering goes on the wire:
        ``text`` (default for FIM), ``token_ids``, ``messages`` (default for chat) or ``server_fim``.
        ``options`` are passed on (``max_new_tokens``, ``temperature``, …)."""
        transport = transport or ("messages" if self.mode == "chat" else "text")
        stops: dict[str, object] = {"stop_token_strings": self.stop_token_strings}
        if transport == "text":
            fields: dict[str, object] = {
                "prompt": self.text,
                "stop_sequences": self.stop_sequences,
                "forced_start": self.forced_start,
            }
        elif transport == "token_ids":
            if self.token_ids is None:
                raise PromptError(f"the {self.family} format does not produce token ids")
            fields = {"prompt_token_ids": self.token_ids, "stop_sequences": self.stop_sequences}
        elif transport == "messages":
            if self.messages is None:
                raise PromptError(f"the {self.family} format is not a chat format")
            # The fence stop applies only where the backend honours the prefill: without it the answer
            # starts with chatter or its own fence, which the stop would cut before the code.
            fields = {
                "messages": self.messages,
                "stop_sequences": (),
                "assistant_prefill": self.prefill,
                "prefill_stop_sequences": self.stop_sequences if self.prefill else (),
            }
        elif transport == "server_fim":
            if self.server_fim is None:
                raise PromptError(f"the {self.family} format is not a FIM format")
            fields = {"prompt": self.server_fim[0], "suffix": self.server_fim[1], "stop_sequences": ()}
        else:
            raise PromptError(f"unknown transport {transport!r}")
        return GenerationRequest(**fields, **stops, **options)  # type: ignore[arg-type]


class PromptFormat(ABC):
    """One model family's prompt format.

    Subclasses render the snippets, the prefix and the suffix in a stable order (context first,
    then the prefix) so that consecutive keystrokes share the longest possible prompt prefix.
    """

    family: str = ""
    mode: PromptMode = "fim"

    @property
    @abstractmethod
    def stop_token_strings(self) -> tuple[str, ...]:
        """Special-token strings that end an answer."""

    @property
    def stop_sequences(self) -> tuple[str, ...]:
        """Plain-text stop sequences (matched on decoded output)."""
        return ()

    @abstractmethod
    def render(self, prompt_input: PromptInput) -> Prompt:
        """Render the whole prompt (no budgeting: see :func:`~roost.engine.prompts.packer.pack`)."""

    def count_tokens(self, prompt: Prompt, counter: TokenCounter) -> int:
        """Tokens ``prompt`` takes; exact ids win over counting the text."""
        if prompt.token_ids is not None:
            return len(prompt.token_ids)
        return counter.count(prompt.text)

    def parse_answer(self, raw: str, prompt: Prompt | None = None) -> str:
        """The code to insert, from the model's raw output. FIM output is the code itself, minus any
        stop-token strings a server failed to strip."""
        from roost.engine.prompts.answer import cut_at_stop_strings

        return cut_at_stop_strings(raw, self.stop_token_strings + self.stop_sequences)
