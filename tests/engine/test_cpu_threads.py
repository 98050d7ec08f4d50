"""The engine's CPU thread count follows the cores the machine's other processes leave free."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from roost.engine import scheduler as scheduler_module
from roost.engine.cpu_threads import CpuSample, CpuThreadChooser, free_cores, sample_cpu, threads_for
from roost.engine.types import GenerationRequest, collect_text

from .conftest import load_tiny_backend


def test_free_cores_are_the_cpus_less_what_the_other_processes_used() -> None:
    before = CpuSample(wall_s=10.0, busy_s=100.0, own_s=50.0)
    # Over 0.5 s the two CPUs were busy 1.5 s, 1.0 s of it ours: the others kept 1 core busy.
    after = CpuSample(wall_s=10.5, busy_s=101.5, own_s=51.0)
    assert free_cores(before, after, cpus=2) == pytest.approx(1.0)
    # All the busy time was ours: both cores are ours to use.
    assert free_cores(before, CpuSample(10.5, 101.0, 51.0), cpus=2) == pytest.approx(2.0)


def test_threads_follow_the_free_cores_rounded_within_bounds() -> None:
    assert threads_for(2.0, max_threads=2) == 2
    assert threads_for(1.6, max_threads=2) == 2  # an idle machine's noise keeps every thread
    assert threads_for(1.33, max_threads=2) == 1  # our two threads and one busy process share two cores
    assert threads_for(0.0, max_threads=8) == 1
    assert threads_for(7.0, max_threads=4) == 4


class FakeMachine:
    """Cumulative CPU times the test moves forward: ``others`` busy cores, ``ours`` cores of this process."""

    def __init__(self) -> None:
        self.now = 0.0
        self.busy = self.own = 0.0

    def run(self, seconds: float, others: float, ours: float) -> None:
        self.now += seconds
        self.busy += (others + ours) * seconds
        self.own += ours * seconds

    def sample(self, _cpus: list[int]) -> CpuSample:
        return CpuSample(self.now, self.busy, self.own)


def test_the_chooser_drops_to_the_free_cores_and_comes_back() -> None:
    machine, applied = FakeMachine(), []
    chooser = CpuThreadChooser(
        2, cpus=[0, 1], sample=machine.sample, set_threads=applied.append, clock=lambda: machine.now
    )
    assert chooser.update() == 2 and applied == []  # the first sample only starts the window
    machine.run(0.3, others=0.67, ours=1.33)  # a busy process shares the two cores with our two threads
    assert chooser.update() == 1 and applied == [1]
    machine.run(0.1, others=0.0, ours=1.0)
    assert chooser.update() == 1  # within the quarter second: not sampled again
    machine.run(0.3, others=0.0, ours=1.0)  # the other process ended
    assert chooser.update() == 2 and applied == [1, 2] and chooser.changes == 2


def test_one_thread_is_never_sampled() -> None:
    def failing_sample(_cpus: list[int]) -> CpuSample:
        raise AssertionError("sampled")

    assert CpuThreadChooser(1, cpus=[0], sample=failing_sample).update() == 1


def test_unreadable_cpu_times_keep_the_threads() -> None:
    def unreadable(_cpus: list[int]) -> CpuSample:
        raise OSError("no /proc here")

    assert CpuThreadChooser(4, cpus=[0, 1, 2, 3], sample=unreadable).update() == 4


def test_the_real_sample_reads_this_machine() -> None:
    first = sample_cpu([0])
    assert first.busy_s > 0 and first.own_s > 0 and first.wall_s > 0


async def test_the_worker_updates_its_threads_before_its_model_steps(
    tiny_mistral_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[threading.Thread] = []

    class RecordingChooser:
        def __init__(self, max_threads: int) -> None:
            self.max_threads = max_threads

        def update(self) -> int:
            calls.append(threading.current_thread())
            return self.max_threads

    monkeypatch.setattr(scheduler_module, "CpuThreadChooser", RecordingChooser)
    backend = load_tiny_backend(tiny_mistral_dir)
    try:
        _text, final = await collect_text(
            backend, GenerationRequest(prompt_token_ids=(5, 6, 7, 8), max_new_tokens=4)
        )
        assert final.finish_reason == "length"
        assert calls and {thread.name for thread in calls} == {"roost-engine-worker"}
    finally:
        backend.scheduler.close()
    off = load_tiny_backend(tiny_mistral_dir, adapt_cpu_threads=False)
    try:
        assert off.scheduler.cpu_threads is None
    finally:
        off.scheduler.close()
