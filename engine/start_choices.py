"""An answer that must start with one of a few words, chosen by the model's own scores.

At ``receiver.▮`` an editor's completion list offers the receiver's members and nothing else; a small
model shown them in its context still writes names that are not there (``close()``, ``parse`` for
``parsestr``). A request's ``start_choices`` make the engine do what the list does: while the answer is
still inside its first word, only tokens that keep it a prefix of one of the choices may be picked, until a
whole choice is written and followed by a character that cannot continue an identifier (or the answer
ends); after that the model writes freely. Greedy stays greedy: the best-scoring token among the allowed
ones, so the model ranks the choices itself, unless the caller gives a choice a prior
(:class:`~roost.engine.types.StartChoice`): its ``bias`` is added to the score of every token on the way to it.

The choices are relative to the end of the prompt, like a forced start (:mod:`roost.engine.forced_start`):
with token healing each one begins with the forced tail, which they therefore also force.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from enum import Enum

import torch

from roost.engine.forced_start import ForcedStartIndex, continues_identifier
from roost.engine.types import StartChoice


def choice_bias(choice: str) -> float:
    return choice.bias if isinstance(choice, StartChoice) else 0.0


class ChoiceState(Enum):
    CHOOSING = "choosing"  # the answer is a prefix of a choice (or is one): the next token is constrained
    DONE = "done"  # a whole choice is written and followed by a non-identifier character: free from here
    OFF = "off"  # the answer left every choice (cannot happen through the constrained pick)


def choice_state(written: str, choices: Sequence[str]) -> ChoiceState:
    """Where ``written`` (the answer so far, a forced start included) stands against ``choices``."""
    for choice in choices:
        ended = len(written) > len(choice) and not continues_identifier(written[len(choice)])
        if ended and written.startswith(choice):
            return ChoiceState.DONE
    if any(choice.startswith(written) for choice in choices):
        return ChoiceState.CHOOSING
    return ChoiceState.OFF


def allowed_choice_tokens(
    index: ForcedStartIndex, written: str, choices: Sequence[str]
) -> tuple[torch.Tensor, bool]:
    """The tokens that keep ``written`` on the way to a choice: those whose text is a start of a choice's
    rest, or its whole rest followed by a non-identifier character; and whether a choice is written in full
    already (then any token that starts with a non-identifier character, or the answer's end, may follow)."""
    ids: list[int] = []
    word_complete = False
    for choice in choices:
        if not choice.startswith(written):
            continue
        rest = choice[len(written) :]
        if not rest:
            word_complete = True
            continue
        for end in range(1, len(rest) + 1):
            ids.extend(index.tokens_of(rest[:end]))
        for text, token in index.longer_than(rest):
            if not continues_identifier(text[len(rest)]):
                ids.append(token)
    return torch.tensor(sorted(set(ids)), dtype=torch.long), word_complete


def choice_token_biases(
    index: ForcedStartIndex, written: str, choices: Sequence[str], ids: torch.Tensor
) -> torch.Tensor | None:
    """For each allowed token of ``ids``, the largest prior of the choices it leads to (see
    :class:`StartChoice`): a token whose text is a start of a choice's rest, or passes a whole choice (a
    stop or a non-identifier character after it). None when no choice has a prior (the model alone)."""
    ranked = [(choice_bias(c), c) for c in choices if c.startswith(written)]
    if not any(bias for bias, _ in ranked):
        return None
    ranked.sort(key=lambda pair: -pair[0])
    lowest = min(bias for bias, _ in ranked)
    biases: dict[int, float] = {}
    # Best choice first: a token that leads to several keeps the first (largest) prior it is given.
    for bias, choice in ranked:
        rest = choice[len(written) :]
        for end in range(1, len(rest) + 1):
            for token in index.tokens_of(rest[:end]):
                biases.setdefault(token, bias)
        if rest:
            for text, token in index.longer_than(rest):
                if not continues_identifier(text[len(rest)]):
                    biases.setdefault(token, bias)
    # What passes a whole choice (the answer's end, a ``(``): that choice's prior.
    complete = [bias for bias, choice in ranked if choice == written]
    rest_bias = complete[0] if complete else lowest
    return torch.tensor([biases.get(int(token), rest_bias) for token in ids], dtype=torch.float32)


def pick_choice_token(
    logits: torch.Tensor,
    index: ForcedStartIndex,
    written: str,
    choices: Sequence[str],
    end_ids: Collection[int],
    temperature: float,
    generator: torch.Generator | None,
) -> int | None:
    """The next token while the answer is still choosing (see :func:`choice_state`): the best allowed one
    (greedy), or one sampled among them. ``end_ids`` (the stop tokens) are allowed once a choice is
    complete. None when no token of the vocabulary is allowed."""
    ids, word_complete = allowed_choice_tokens(index, written, choices)
    vocabulary = logits.shape[-1]
    if word_complete:
        allowed = index.non_identifier_start(vocabulary).clone()
        allowed[ids[ids < vocabulary]] = True
        for token in end_ids:
            if 0 <= token < vocabulary:
                allowed[token] = True
        ids = torch.nonzero(allowed, as_tuple=True)[0]
    else:
        ids = ids[ids < vocabulary]
    if ids.numel() == 0:
        return None
    scores = logits[ids.to(logits.device)].float()
    biases = choice_token_biases(index, written, choices, ids)
    if biases is not None:
        scores = scores + biases.to(scores.device)
    if temperature == 0:
        return int(ids[int(torch.argmax(scores))])
    probs = torch.softmax(scores / temperature, dim=-1)
    return int(ids[int(torch.multinomial(probs, 1, generator=generator))])
