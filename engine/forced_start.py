"""Token healing: an answer that must begin with given text, chosen token by token by the model.

A prompt that ends inside a token (``tasks.ga``, an indentation's last space) shows the model a split it
never saw in training: ``tasks.gather`` is ``tasks`` ``.g`` ``ather``, so a prompt ending in ``tasks.``
asks for a continuation of a lone ``.`` token. The prompt is therefore cut at a token boundary before such
a tail and the tail is *forced*: while part of it is still to come, only tokens that agree with it may be
picked (a token that starts with the rest of the tail, or one the rest starts with). The model so writes
the tail in its own tokenization, and the answer streamed to the caller is what comes after the tail.

Where the prompt is cut is settled here, with the model's tokenizer (:func:`healing_backup`): the prompt
formats leave the cursor's partial word to the model by a rule on characters
(:func:`~roost.engine.prompts.fim.heal_split`), and the engine backs that cut up to the start of the token
the line's own tokenization puts across it. At ``foo().`` the Qwen2.5 tokenizer writes ``().`` as one token,
so a prompt ending in ``foo()`` with ``.`` forced asks for what no training text shows (the 0.5B then wrote
nothing useful: empty answers); ``().`` is forced instead.
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from typing import Protocol

import torch

# Above every character: ``text + _AFTER`` sorts after every string that starts with ``text``.
_AFTER = "\U0010ffff"

# How far a forced start may reach back into the prompt to begin at a token boundary: the tokens that
# cross a cut are short runs of punctuation and blanks (``().``, `` `${``, `` ==``, ``()->``).
MAX_HEALING_BACKUP_CHARS = 16
# How much of the prompt's last line is tokenized to find that boundary (tokenization is local: a
# token never reaches further back than a word and the punctuation before it).
_BOUNDARY_WINDOW_CHARS = 64


class TextTokenizer(Protocol):
    def encode(self, text: str) -> list[int]: ...

    def decode(self, token_ids: Sequence[int]) -> str: ...


def healing_backup(tokenizer: TextTokenizer, prompt: str, forced: str) -> int:
    """How many characters at the end of ``prompt`` to move into the ``forced`` start so that the prompt
    ends where the tokenizer's own tokenization of the line ends a token: 0 where it already does, else
    back to the start of the token that covers the cut (``foo()`` + ``.`` is ``foo`` ``().``: 2). Only
    within the prompt's last line, at most ``MAX_HEALING_BACKUP_CHARS``, ASCII (a forced start is written
    token by token from whole characters), and 0 where the tokens do not decode one by one to the text
    (sentencepiece's leading blank, a character spread over byte tokens): no offsets to trust there."""
    if not forced:
        return 0
    window_start = max(prompt.rfind("\n") + 1, len(prompt) - _BOUNDARY_WINDOW_CHARS)
    line = prompt[window_start:]
    if not line:
        return 0
    text = line + forced
    pieces = [tokenizer.decode([token]) for token in tokenizer.encode(text)]
    if "".join(pieces) != text:
        return 0
    start = 0  # of the first token that ends after the cut
    for piece in pieces:
        if start + len(piece) > len(line):
            break
        start += len(piece)
    backup = len(line) - start
    if backup > MAX_HEALING_BACKUP_CHARS or not line[start:].isascii():
        return 0
    return backup


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
