"""One small tokenizer interface over Hugging Face tokenizers and mistral-common's tekken.

The scheduler needs only: text → ids (special tokens in the text parsed, no BOS added: prompt builders
write the whole prompt), ids → text, the id of a special token string, end-of-sequence ids, and chat
rendering. Mistral models ship ``tekken.json`` (read by mistral-common), others ``tokenizer.json``.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

from roost.engine.types import ChatMessage, ModelNotFoundError


class TokenizerAdapter(Protocol):
    eos_token_ids: frozenset[int]
    description: str

    def encode(self, text: str) -> list[int]: ...

    def decode(self, token_ids: Sequence[int]) -> str: ...

    def special_token_id(self, token: str) -> int | None:
        """Id of ``token`` if it is one special/added token of the vocabulary, else ``None``."""
        ...

    def encode_chat(self, messages: Sequence[ChatMessage], assistant_prefill: str = "") -> list[int]:
        """The chat rendered for the model's answer; with ``assistant_prefill`` the assistant turn is
        open and already starts with that text."""
        ...


class HuggingFaceTokenizer:
    def __init__(self, tokenizer: Any, extra_eos_ids: Sequence[int] = ()) -> None:
        self._tokenizer = tokenizer
        eos = set(extra_eos_ids)
        if tokenizer.eos_token_id is not None:
            eos.add(int(tokenizer.eos_token_id))
        self.eos_token_ids = frozenset(eos)
        self.description = f"huggingface:{type(tokenizer).__name__}"
        # Added/special tokens by content; only these may be matched as single stop token ids.
        self._added = {tok.content: idx for idx, tok in tokenizer.added_tokens_decoder.items()}

    @property
    def tokenizer(self) -> Any:
        """The wrapped transformers tokenizer (chat-template prompt formats use it directly)."""
        return self._tokenizer

    @classmethod
    def from_directory(cls, directory: Path, extra_eos_ids: Sequence[int] = ()) -> HuggingFaceTokenizer:
        from transformers import AutoTokenizer

        return cls(AutoTokenizer.from_pretrained(str(directory)), extra_eos_ids)

    def encode(self, text: str) -> list[int]:
        return list(self._tokenizer(text, add_special_tokens=False)["input_ids"])

    def decode(self, token_ids: Sequence[int]) -> str:
        return self._tokenizer.decode(list(token_ids), skip_special_tokens=False)

    def special_token_id(self, token: str) -> int | None:
        return self._added.get(token)

    def vocabulary_texts(self) -> list[str]:
        """Each token's text on its own, by id; ``""`` for added and special tokens (markers, never code):
        what forced answer starts (token healing) choose among."""
        size = len(self._tokenizer)
        texts = list(self._tokenizer.batch_decode([[i] for i in range(size)], skip_special_tokens=False))
        for token in self._added.values():
            if token < size:
                texts[token] = ""
        return texts

    def encode_chat(self, messages: Sequence[ChatMessage], assistant_prefill: str = "") -> list[int]:
        if not getattr(self._tokenizer, "chat_template", None):
            raise ModelNotFoundError(
                f"the tokenizer ({self.description}) has no chat template; use a raw prompt"
            )
        chat = [{"role": m.role, "content": m.content} for m in messages]
        if assistant_prefill:
            # The template renders the assistant turn, and transformers cuts it after the prefill
            # (no end-of-turn token), so the model continues that turn.
            chat.append({"role": "assistant", "content": assistant_prefill})
            rendered = self._tokenizer.apply_chat_template(
                chat, tokenize=False, continue_final_message=True, add_generation_prompt=False
            )
        else:
            rendered = self._tokenizer.apply_chat_template(chat, tokenize=False, add_generation_prompt=True)
        return self.encode(rendered)


class MistralCommonTokenizer:
    """mistral-common's tokenizer (tekken or sentencepiece), as Mistral's own models expect."""

    def __init__(self, mistral_tokenizer: Any, source: str) -> None:
        from mistral_common.tokens.tokenizers.base import SpecialTokenPolicy

        self._mistral = mistral_tokenizer
        self._raw = mistral_tokenizer.instruct_tokenizer.tokenizer
        self._keep_special = SpecialTokenPolicy.KEEP
        self.eos_token_ids = frozenset({int(self._raw.eos_id)})
        self.description = f"mistral-common:{source}"

    @property
    def mistral_tokenizer(self) -> Any:
        """The wrapped ``mistral_common`` ``MistralTokenizer`` (encode_fim / encode_chat_completion)."""
        return self._mistral

    @classmethod
    def from_file(cls, path: Path) -> MistralCommonTokenizer:
        from mistral_common.tokens.tokenizers.mistral import MistralTokenizer

        return cls(MistralTokenizer.from_file(str(path)), path.name)

    @classmethod
    def bundled_tekken(cls) -> MistralCommonTokenizer:
        """The tekken tokenizer bundled with mistral-common (no download)."""
        from mistral_common.tokens.tokenizers.mistral import MistralTokenizer

        return cls(MistralTokenizer.v3(is_tekken=True), "bundled tekken v3")

    @property
    def vocab_size(self) -> int:
        return int(self._raw.n_words)

    def encode(self, text: str) -> list[int]:
        # Tekken never parses special tokens out of text: prompts with control tokens should be
        # passed as token ids (mistral-common's encode_fim / encode_chat_completion build them).
        return list(self._raw.encode(text, bos=False, eos=False))

    def decode(self, token_ids: Sequence[int]) -> str:
        return self._raw.decode(list(token_ids), special_token_policy=self._keep_special)

    def special_token_id(self, token: str) -> int | None:
        try:
            return int(self._raw.get_special_token(token))
        except Exception:  # mistral-common raises its own exception types for unknown tokens
            return None

    def encode_chat(self, messages: Sequence[ChatMessage], assistant_prefill: str = "") -> list[int]:
        from mistral_common.protocol.instruct.messages import AssistantMessage, SystemMessage, UserMessage
        from mistral_common.protocol.instruct.request import ChatCompletionRequest

        kinds = {"system": SystemMessage, "user": UserMessage, "assistant": AssistantMessage}
        chat: list[Any] = [kinds[m.role](content=m.content) for m in messages]
        if assistant_prefill:
            chat.append(AssistantMessage(content=assistant_prefill, prefix=True))  # an open assistant turn
        request = ChatCompletionRequest(messages=chat)
        return list(self._mistral.encode_chat_completion(request).tokens)
