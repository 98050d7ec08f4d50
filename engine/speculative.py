"""Prompt-lookup speculative decoding: drafts copied from the request's own tokens, checked by one forward.

Code completions often copy spans that already occur in the prompt (identifiers, argument lists, the
code after the cursor). :class:`PromptLookup` finds the most recent earlier occurrence of the last few
tokens of ``prompt + generated`` and proposes the tokens that followed it, with no draft model. The
scheduler then runs one forward over ``[next_token, *draft]`` and keeps, with :func:`accepted_tokens`,
the longest prefix of the draft that equals the model's greedy choice at each position plus the model's
own token after it: the tokens greedy decoding gives, several per forward when the draft is right.

Pure (no torch): the scheduler owns the forward and the KV rollback.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence


class PromptLookup:
    """The tokens of one request (prompt, then generated) indexed by their n-grams, kept current by
    :meth:`extend`; :meth:`draft` proposes what followed the latest earlier occurrence of the last n-gram.

    The index maps each n-gram (``min_ngram`` ≤ n ≤ ``max_ngram``) to where the tokens that followed its
    latest occurrence start, so a draft costs a few dict lookups however long the prompt is. Longer
    n-grams are tried first: a match on three tokens is more often followed by the same continuation than
    a match on one.
    """

    def __init__(self, tokens: Iterable[int] = (), *, max_ngram: int = 3, min_ngram: int = 1) -> None:
        if not 1 <= min_ngram <= max_ngram:
            raise ValueError(f"need 1 <= min_ngram <= max_ngram, got {min_ngram} and {max_ngram}")
        self.max_ngram, self.min_ngram = max_ngram, min_ngram
        self.tokens: list[int] = []
        # n-gram → index of the token that followed its latest occurrence (always < len(tokens)).
        self._continuation: dict[tuple[int, ...], int] = {}
        self.extend(tokens)

    def __len__(self) -> int:
        return len(self.tokens)

    def extend(self, tokens: Iterable[int]) -> None:
        for token in tokens:
            end = len(self.tokens)  # the n-grams ending just before ``token`` now have a follower
            for n in range(self.min_ngram, min(self.max_ngram, end) + 1):
                self._continuation[tuple(self.tokens[end - n : end])] = end
            self.tokens.append(token)

    def draft(self, max_tokens: int) -> list[int]:
        """Up to ``max_tokens`` tokens that followed the latest earlier occurrence of the longest matching
        suffix n-gram; empty when no suffix of ``min_ngram`` or more tokens occurred before."""
        if max_tokens <= 0:
            return []
        length = len(self.tokens)
        for n in range(min(self.max_ngram, length), self.min_ngram - 1, -1):
            start = self._continuation.get(tuple(self.tokens[length - n :]))
            if start is not None:
                return self.tokens[start : start + max_tokens]
        return []


def accepted_tokens(draft: Sequence[int], greedy: Sequence[int]) -> list[int]:
    """The tokens one verification forward gives.

    The forward ran over ``[next_token, *draft]``; ``greedy[i]`` is the model's choice after input ``i``
    (so ``len(greedy) == len(draft) + 1``). ``greedy[i]`` is only what greedy decoding would emit if every
    earlier draft token was right, so the answer is ``greedy[: j + 1]`` where ``j`` is the length of the
    draft's prefix that the model agrees with: at least one token (the model's own next token), at most
    ``len(draft) + 1``.
    """
    if len(greedy) != len(draft) + 1:
        raise ValueError(f"{len(draft)} draft tokens need {len(draft) + 1} greedy tokens, got {len(greedy)}")
    agreed = 0
    while agreed < len(draft) and draft[agreed] == greedy[agreed]:
        agreed += 1
    return list(greedy[: agreed + 1])
