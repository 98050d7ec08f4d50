"""Token healing: an answer that must begin with given text, chosen token by token by the model.

A prompt that ends inside a token (``tasks.ga``, an indentation's last space) shows the model a split it
never saw in training: ``tasks.gather`` is ``tasks`` ``.g`` ``ather``, so a prompt ending in ``tasks.``
asks for a continuation of a lone ``.`` token. The prompt is therefore cut at a token boundary before such
a tail and the tail is *forced*: while part of it is still to come, only tokens that agree with it may be
picked (a token that starts with the rest of the tail, or one the rest starts with). The model so writes
the tail in its own tokenization, and the answer streamed to the caller is what comes after the tail.

Where the prompt is cut is settled with the model's tokenizer
(:func:`roost.engine.token_healing.healing_backup`, torch-free so the context preview can show it): the prompt
formats leave the cursor's partial word to the model by a rule on characters
(:func:`~roost.engine.prompts.fim.heal_split`), and the engine backs that cut up to the start of the token
the line's own tokenization puts across it. At ``foo().`` the Qwen2.5 tokenizer writes ``().`` as one token,
so a prompt ending in ``foo()`` with ``.`` forced asks for what no training text shows (the 0.5B then wrote
nothing useful: empty answers); ``().`` is forced instead.
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence

import torch

# Above every character: ``text + _AFTER`` sorts after every string that starts with ``text``.
_AFTER = "\U0010ffff"


def continues_identifier(char: str) -> bool:
    """Whether ``char`` can continue an identifier (a name written so far is not ended by it)."""
    return char.isalnum() or char == "_"


class ForcedStartIndex:
    """The vocabulary's texts, arranged to answer "which tokens can continue this forced tail" quickly
    (a forced tail is a few characters; the vocabulary 150k tokens)."""

    def __init__(self, texts: Sequence[str]) -> None:
        """``texts[i]``: token ``i`` decoded on its own; ``""`` for a token never allowed (special and
        added tokens, and tokens that are a fragment of a multi-byte character)."""
        pairs = sorted((text, token) for token, text in enumerate(texts) if text and "\ufffd" not in text)
        self._texts = [text for text, _ in pairs]
        self._ids = torch.tensor([token for _, token in pairs], dtype=torch.long)
        # One id per text, the rare texts that several tokens decode to apart (a list per text would
        # cost ~10 MB for 150k tokens).
        self._by_text: dict[str, int] = {}
        self._more_by_text: dict[str, list[int]] = {}
        for text, token in pairs:
            if self._by_text.setdefault(text, token) != token:
                self._more_by_text.setdefault(text, []).append(token)
        self._non_identifier: torch.Tensor | None = None  # built at the first start choice (see below)

    def allowed(self, remaining: str) -> torch.Tensor:
        """Ids of the tokens that may come next while ``remaining`` (non-empty) is still to be written:
        those whose text starts with all of it, and those whose text is a proper start of it."""
        low = bisect.bisect_left(self._texts, remaining)
        high = bisect.bisect_left(self._texts, remaining + _AFTER, lo=low)
        shorter = []
        for end in range(1, len(remaining)):
            start = remaining[:end]
            if start in self._by_text:
                shorter.append(self._by_text[start])
                shorter.extend(self._more_by_text.get(start, ()))
        return torch.cat([self._ids[low:high], torch.tensor(shorter, dtype=torch.long)])

    def tokens_of(self, text: str) -> list[int]:
        """The ids of the tokens whose text is exactly ``text``."""
        first = self._by_text.get(text)
        return [] if first is None else [first, *self._more_by_text.get(text, ())]

    def longer_than(self, start: str) -> list[tuple[str, int]]:
        """(text, id) of the tokens whose text starts with ``start`` (non-empty) and goes on after it."""
        low = bisect.bisect_right(self._texts, start)
        high = bisect.bisect_left(self._texts, start + _AFTER, lo=low)
        return [(self._texts[i], int(self._ids[i])) for i in range(low, high)]

    def non_identifier_start(self, vocabulary: int) -> torch.Tensor:
        """A mask over ``vocabulary`` ids of the tokens whose text starts with a character that cannot
        continue an identifier (``(``, ``.``, a space, a newline): what may follow a whole name."""
        if self._non_identifier is None or self._non_identifier.numel() != vocabulary:
            mask = torch.zeros(vocabulary, dtype=torch.bool)
            for text, token in zip(self._texts, self._ids.tolist(), strict=True):
                if token < vocabulary and not continues_identifier(text[0]):
                    mask[token] = True
            self._non_identifier = mask
        return self._non_identifier


def pick_forced_token(
    logits: torch.Tensor,
    index: ForcedStartIndex,
    remaining: str,
    banned: frozenset[int],
    temperature: float,
    generator: torch.Generator | None,
) -> int | None:
    """The next token while ``remaining`` is still to be written: the best allowed one (greedy), or one
    sampled among the allowed ones. None when no token of the vocabulary agrees with ``remaining``."""
    allowed = index.allowed(remaining)
    allowed = allowed[allowed < logits.shape[-1]]
    if banned:
        allowed = allowed[~torch.isin(allowed, torch.tensor(sorted(banned), dtype=torch.long))]
    if allowed.numel() == 0:
        return None
    scores = logits[allowed.to(logits.device)].float()
    if temperature == 0:
        return int(allowed[int(torch.argmax(scores))])
    probs = torch.softmax(scores / temperature, dim=-1)  # on the logits' device, like the generator
    return int(allowed[int(torch.multinomial(probs, 1, generator=generator))])
