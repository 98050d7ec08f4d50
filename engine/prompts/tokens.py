"""Token counting for prompt budgets, with the configured model's real tokenizer.

The packer only needs ``count(text) -> int``. Counts include special tokens written in the text
(``<|fim_prefix|>`` is one token for Qwen) so that a rendered prompt is counted as the model sees it.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol, runtime_checkable


@runtime_checkable
class TokenCounter(Protocol):
    def count(self, text: str) -> int:
        """Number of tokens ``text`` takes (no BOS/EOS added)."""
        ...


class TransformersTokenCounter:
    """Counts with a Hugging Face tokenizer (fast or slow). Special-token strings in the text are parsed
    as the single tokens they are."""

    def __init__(self, tokenizer: Any) -> None:
        self.tokenizer = tokenizer
        # Fast tokenizers: call the Rust tokenizer directly (same ids, less wrapper work per call; the
        # packer counts several times per keystroke).
        self._backend = getattr(tokenizer, "backend_tokenizer", None)

    @classmethod
    def from_pretrained(cls, model_dir: str | Path) -> TransformersTokenCounter:
        """Load the tokenizer of a local model directory (offline: never touches a hub). Without
        transformers (``pip install roost`` has none) the directory's ``tokenizer.json`` is read by the
        ``tokenizers`` library, the same Rust tokenizer transformers' fast tokenizers wrap: same counts."""
        path = Path(model_dir)
        if not path.is_dir():
            raise FileNotFoundError(f"no model directory at {path} (looked for a tokenizer there)")
        if importlib.util.find_spec("transformers") is None:
            return cls.from_tokenizer_json(path)
        from transformers import AutoTokenizer

        return cls(AutoTokenizer.from_pretrained(str(path), local_files_only=True))

    @classmethod
    def from_tokenizer_json(cls, model_dir: str | Path) -> TransformersTokenCounter:
        """Count with ``model_dir/tokenizer.json`` through the ``tokenizers`` library alone (no torch, no
        transformers). Added and special tokens are in that file, so ``<|fim_prefix|>`` is still one."""
        from tokenizers import Tokenizer

        path = Path(model_dir) / "tokenizer.json"
        if not path.is_file():
            raise FileNotFoundError(
                f"no tokenizer.json in {path.parent}: counting tokens without transformers needs it "
                "(install the in-process engine, pip install 'roost[local]', for other tokenizer formats)"
            )
        return cls(_RustTokenizerOnly(Tokenizer.from_file(str(path))))

    def count(self, text: str) -> int:
        if not text:
            return 0
        if self._backend is not None:
            return len(self._backend.encode(text, add_special_tokens=False).ids)
        return len(self.tokenizer(text, add_special_tokens=False)["input_ids"])

    def count_many(self, texts: list[str]) -> list[int]:
        """Counts of several texts in one call (the packer counts new lines in a batch)."""
        if self._backend is not None:
            encodings = self._backend.encode_batch(texts, add_special_tokens=False)
            return [len(encoding.ids) if text else 0 for text, encoding in zip(texts, encodings, strict=True)]
        return [self.count(text) for text in texts]


class _RustTokenizerOnly:
    """What :class:`TransformersTokenCounter` uses of a fast tokenizer (its Rust ``backend_tokenizer``),
    for a ``tokenizers.Tokenizer`` loaded without transformers."""

    def __init__(self, backend_tokenizer: Any) -> None:
        self.backend_tokenizer = backend_tokenizer

    def __call__(self, text: str, add_special_tokens: bool = False) -> dict[str, list[int]]:
        return {"input_ids": self.backend_tokenizer.encode(text, add_special_tokens=add_special_tokens).ids}


class TekkenTokenCounter:
    """Counts with mistral-common's tekken tokenizer (Mistral Small 3.x, Magistral, Devstral, Codestral).

    Special-token strings written in plain text (``[INST]``) are counted as ordinary text, i.e. a few
    tokens more than the model sees: a safe over-estimate. Formats built with mistral-common produce
    exact token ids, which the packer counts instead.
    """

    def __init__(self, mistral_tokenizer: Any) -> None:
        # Accept a MistralTokenizer or the raw Tekkenizer.
        inner = getattr(getattr(mistral_tokenizer, "instruct_tokenizer", None), "tokenizer", None)
        self.tokenizer = inner if inner is not None else mistral_tokenizer

    @classmethod
    def bundled(cls) -> TekkenTokenCounter:
        """The tekken tokenizer bundled with mistral-common (no model directory needed)."""
        from roost.engine.prompts.mistral_tokenizer import load_mistral_tokenizer

        return cls(load_mistral_tokenizer(None))

    def count(self, text: str) -> int:
        if not text:
            return 0
        # Tekkenizer.encode shifts every id in a Python loop (most of its cost); the count is the
        # length of the underlying tiktoken encoding, so use that when it is there.
        model = getattr(self.tokenizer, "_model", None)
        if model is not None and hasattr(model, "encode_ordinary"):
            return len(model.encode_ordinary(text))
        return len(self.tokenizer.encode(text, bos=False, eos=False))


def default_token_counter() -> TransformersTokenCounter:
    """The offline default model's tokenizer (Qwen2.5-Coder), from the converted model directory."""
    from roost.engine.models.default import ensure_default_model

    return TransformersTokenCounter.from_pretrained(ensure_default_model())


class FunctionTokenCounter:
    """Adapts a ``text -> token count`` function, e.g. a backend's ``Backend.count_tokens`` or
    ``len(adapter.encode(text))`` of the engine's tokenizer adapter."""

    def __init__(self, count_tokens: Callable[[str], int]) -> None:
        self._count = count_tokens

    def count(self, text: str) -> int:
        return self._count(text) if text else 0
