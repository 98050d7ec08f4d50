"""Where token healing cuts a prompt: at a token boundary of its last line under the model's own tokenizer.

Plain text work (no torch), shared by the scheduler, which forces what the cut leaves out
(:mod:`roost.engine.forced_start`), and by the context preview, which shows it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

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


def healed(tokenizer: TextTokenizer, prompt: str, forced: str) -> tuple[str, str]:
    """``prompt`` cut at a token boundary of its last line, and what the cut moved into the forced start
    (``("x = foo", "()")`` for ``"x = foo()"`` with ``"."`` forced; ``(prompt, "")`` when nothing moves)."""
    backup = healing_backup(tokenizer, prompt, forced)
    return (prompt[:-backup], prompt[-backup:]) if backup else (prompt, "")
