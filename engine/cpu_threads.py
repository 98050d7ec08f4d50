"""How many threads the engine's CPU kernels use: all they were given while the machine's other processes
leave the cores free, fewer while those processes keep cores busy.

Why: torch's CPU kernels run on an OpenMP team whose threads meet at the end of every kernel (~170 a decode
step of the bundled model). With the cores free they spin there and the engine decodes fastest on all of them
(two cores: ~45-55 ms a token vs ~65 on one). When another process takes a core, the team waits at every
kernel for a member that has no core: 363-371 ms a token on two threads vs 68-80 on one (docs/benchmarks.md,
session 14). So the worker looks, before its model steps, at how much CPU the other processes used over the
last quarter second on the CPUs this process may run on, and uses the cores they left.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass

log = logging.getLogger(__name__)

SAMPLE_INTERVAL_S = 0.25


@dataclass(frozen=True)
class CpuSample:
    """Cumulative seconds: the CPUs' busy time (this process's included) and this process's own."""

    wall_s: float
    busy_s: float
    own_s: float


def usable_cpus() -> list[int]:
    """The CPUs this process may run on (a container's or taskset's limit, not the machine's count)."""
    try:
        return sorted(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return list(range(os.cpu_count() or 1))


def sample_cpu(cpus: list[int]) -> CpuSample:
    import psutil

    per_cpu = psutil.cpu_times(percpu=True)
    busy = 0.0
    for index in cpus:
        if index < len(per_cpu):
            times = per_cpu[index]
            # iowait is idle time spent waiting for a disk: a free core for our kernels.
            busy += sum(times) - times.idle - getattr(times, "iowait", 0.0)
    own = psutil.Process().cpu_times()
    return CpuSample(time.monotonic(), busy, own.user + own.system)


def free_cores(before: CpuSample, after: CpuSample, cpus: int) -> float:
    """The cores the other processes left free between two samples (of ``cpus``)."""
    wall = after.wall_s - before.wall_s
    if wall <= 0:
        return float(cpus)
    others = max(0.0, (after.busy_s - before.busy_s) - (after.own_s - before.own_s)) / wall
    return max(0.0, cpus - others)


def threads_for(free: float, max_threads: int) -> int:
    """A thread per free core, rounded to the nearest (a core half used by others still counts: idle machines
    have some noise), at least one, at most ``max_threads``."""
    return max(1, min(max_threads, int(free + 0.5)))


class CpuThreadChooser:
    """Called by the engine's worker thread before its model steps: sets torch's thread count for that
    thread's kernels from the last quarter second's CPU use of the other processes."""

    def __init__(
        self,
        max_threads: int,
        *,
        cpus: list[int] | None = None,
        sample: Callable[[list[int]], CpuSample] = sample_cpu,
        set_threads: Callable[[int], None] | None = None,
        interval_s: float = SAMPLE_INTERVAL_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.max_threads = max(1, max_threads)
        self.cpus = cpus if cpus is not None else usable_cpus()
        self._sample = sample
        self._set_threads = set_threads or _torch_set_num_threads
        self.interval_s = interval_s
        self._clock = clock
        self._next_sample_at = 0.0
        self.threads = self.max_threads
        self.changes = 0
        self._last: CpuSample | None = None

    def update(self) -> int:
        """The thread count for the next step (re-sampled at most every ``interval_s``)."""
        if self.max_threads == 1 or self._clock() < self._next_sample_at:
            return self.threads
        self._next_sample_at = self._clock() + self.interval_s
        try:
            now = self._sample(self.cpus)
        except Exception:  # noqa: BLE001 - no /proc, a sandbox: keep the threads we have
            log.debug("could not read CPU times", exc_info=True)
            return self.threads
        last, self._last = self._last, now
        if last is not None:
            wanted = threads_for(free_cores(last, now, len(self.cpus)), self.max_threads)
            if wanted != self.threads:
                # Rare on a machine nothing else uses: in the log, a user's slow suggestions can be told
                # from a machine whose other work took the cores.
                log.info(
                    "CPU threads for the model: %d -> %d (cores left free by other processes)",
                    self.threads,
                    wanted,
                )
                self._set_threads(wanted)
                self.threads = wanted
                self.changes += 1
        return self.threads


def _torch_set_num_threads(count: int) -> None:
    import torch

    torch.set_num_threads(count)
