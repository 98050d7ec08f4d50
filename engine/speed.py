"""How fast this engine prefills and decodes, measured on its own requests, and what a prompt would cost.

The LSP layer asks before it sends an inline completion: on a CPU a cold ~1,000-token prompt takes
seconds to prefill, and when that would blow the first answer's time budget the caller sends a shorter
prompt instead and warms the long one in the background. Only the engine knows both halves of that
answer — how much of the prompt its prefix cache already holds, and its speed on this machine — so the
estimate lives here; the policy stays with the caller.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

# Prefills of fewer computed tokens say more about the fixed cost of a forward than about the rate.
MIN_MEASURED_PREFILL_TOKENS = 32
# Weight of the newest measurement: a few requests follow a change of machine load.
SMOOTHING = 0.3


@dataclass(frozen=True)
class PrefillEstimate:
    """What prefilling a prompt would take now: its tokens, how many of them the prefix cache holds,
    and the engine's recent seconds per computed prompt token and per decoded token."""

    prompt_tokens: int
    cached_tokens: int
    seconds_per_prompt_token: float
    seconds_per_decoded_token: float

    @property
    def uncached_tokens(self) -> int:
        return max(0, self.prompt_tokens - self.cached_tokens)

    @property
    def prefill_s(self) -> float:
        return self.uncached_tokens * self.seconds_per_prompt_token

    def answer_s(self, decoded_tokens: int) -> float:
        """The prefill plus ``decoded_tokens`` of answer."""
        return self.prefill_s + decoded_tokens * self.seconds_per_decoded_token

    def affordable_prompt_tokens(self, seconds: float, decoded_tokens: int) -> int:
        """How many uncached prompt tokens fit in ``seconds`` beside ``decoded_tokens`` of answer."""
        left = seconds - decoded_tokens * self.seconds_per_decoded_token
        return max(0, int(left / self.seconds_per_prompt_token)) if self.seconds_per_prompt_token > 0 else 0


class SpeedMeter:
    """Exponentially smoothed seconds per prompt token (prefills) and per decoded token (decode steps of a
    single row: the editor's case; a batch's steps are shared). Written by the engine's worker thread,
    read from others."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._prompt_token_s: float | None = None
        self._decoded_token_s: float | None = None

    def add_prefill(self, tokens: int, seconds: float) -> None:
        if tokens >= MIN_MEASURED_PREFILL_TOKENS and seconds > 0:
            with self._lock:
                self._prompt_token_s = _smooth(self._prompt_token_s, seconds / tokens)

    def add_decode(self, tokens: int, seconds: float) -> None:
        if tokens > 0 and seconds > 0:
            with self._lock:
                self._decoded_token_s = _smooth(self._decoded_token_s, seconds / tokens)

    def rates(self) -> tuple[float, float] | None:
        """(seconds per prompt token, seconds per decoded token), or None before both were measured."""
        with self._lock:
            if self._prompt_token_s is None or self._decoded_token_s is None:
                return None
            return self._prompt_token_s, self._decoded_token_s


def _smooth(old: float | None, new: float) -> float:
    return new if old is None else (1 - SMOOTHING) * old + SMOOTHING * new
