"""Loading mistral-common tokenizers offline."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

# File names Mistral ships its tokenizer under, newest first.
_TOKENIZER_FILES = ("tekken.json", "tokenizer.model.v7m1", "tokenizer.model.v7", "tokenizer.model.v3")


def load_mistral_tokenizer(model_dir: str | Path | None) -> Any:
    """A ``MistralTokenizer`` from a model directory (``tekken.json`` …) or, with ``None``, the tekken
    tokenizer bundled with mistral-common (v3; right vocabulary for Codestral/Mistral Small-class models,
    older control-token set than Small 3.x).

    Raises ``FileNotFoundError`` naming the files looked for when the directory has none of them.
    """
    if model_dir is None:
        return _bundled()
    from mistral_common.tokens.tokenizers.mistral import MistralTokenizer

    directory = Path(model_dir)
    if directory.is_file():
        return MistralTokenizer.from_file(str(directory))
    for name in _TOKENIZER_FILES:
        candidate = directory / name
        if candidate.is_file():
            return MistralTokenizer.from_file(str(candidate))
    raise FileNotFoundError(
        f"no Mistral tokenizer in {directory} (looked for {', '.join(_TOKENIZER_FILES)}); "
        "copy the model's tekken.json there or leave the tokenizer unset to use mistral-common's bundled one"
    )


@lru_cache(maxsize=1)
def _bundled() -> Any:
    from mistral_common.tokens.tokenizers.mistral import MistralTokenizer

    return MistralTokenizer.v3(is_tekken=True)


def tokens_to_text(mistral_tokenizer: Any, tokens: list[int]) -> str:
    """The prompt text of ``tokens`` with control tokens written out (``[INST]``, ``[SUFFIX]``)."""
    from mistral_common.tokens.tokenizers.base import SpecialTokenPolicy

    return mistral_tokenizer.decode(tokens, special_token_policy=SpecialTokenPolicy.KEEP)
