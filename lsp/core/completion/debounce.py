"""Adaptive debounce, in the spirit of Tabby's: wait about as long as the user usually pauses between
keystrokes, so a request fired in the middle of a word is superseded before it reaches the model, while a
request at a natural pause goes through quickly. At the end of a line (nothing after the cursor) the user
is more likely waiting for a suggestion, so the wait is shorter."""

from __future__ import annotations

import statistics
import time
from collections import deque
from dataclasses import dataclass


@dataclass(frozen=True)
class DebounceOptions:
    base_ms: float = 75.0
    min_ms: float = 10.0
    max_ms: float = 400.0
    # Intervals longer than this are pauses, not typing rhythm.
    pause_ms: float = 1000.0
    # Without a known rhythm, the end of a line waits this share of the base delay.
    end_of_line_factor: float = 1.0
    # Wait a little longer than the median interval, so the next keystroke usually arrives first; at the
    # end of a line only a little longer (the user is more likely to pause there).
    rhythm_factor: float = 1.5
    end_of_line_rhythm_factor: float = 1.3
    history: int = 12


class AdaptiveDebouncer:
    """One per document: ``delay_ms(at_end_of_line)`` after ``note_request()`` for each request."""

    def __init__(self, options: DebounceOptions | None = None) -> None:
        self.options = options or DebounceOptions()
        self._intervals: deque[float] = deque(maxlen=self.options.history)
        self._last: float | None = None

    def note_request(self, now: float | None = None) -> None:
        now = time.monotonic() if now is None else now
        if self._last is not None:
            interval_ms = (now - self._last) * 1000.0
            if interval_ms < self.options.pause_ms:
                self._intervals.append(interval_ms)
        self._last = now

    def delay_ms(self, at_end_of_line: bool) -> float:
        options = self.options
        factor = options.end_of_line_rhythm_factor if at_end_of_line else options.rhythm_factor
        if len(self._intervals) >= 3:
            # Rhythm varies: wait past the slowest recent keystroke gap too, not only the typical one
            # (gaps over three times the median are pauses, not rhythm).
            median = statistics.median(self._intervals)
            slowest = max(i for i in self._intervals if i <= 3 * median)
            delay = max(median * factor, slowest * 1.15)
        else:
            delay = options.base_ms * (options.end_of_line_factor if at_end_of_line else 1.0)
            if self._intervals:  # typing has started: never fire before the usual next keystroke
                delay = max(delay, max(self._intervals) * options.rhythm_factor)
        return max(options.min_ms, min(options.max_ms, delay))
