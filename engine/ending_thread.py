"""Run torch work that is not the engine worker's on a thread that ends when the work does.

Why: torch's CPU kernels run on OpenMP (libgomp), which keeps a team of helper threads for every thread
that ever ran a parallel region, for that thread's whole life. Once it manages more threads than there are
CPUs, libgomp stops spinning between parallel regions (100 spins instead of 300,000), so each kernel call
of the engine's worker then sleeps and pays a futex wake — ~170 int8 matmuls a decode step. A model loaded
on the caller's thread (an executor thread that stays in its pool, the main thread) left such a team
behind: decode 65–67 ms a token vs 42–50 ms when the load's thread had ended (two threads, the bundled
0.5B; docs/benchmarks.md, session 14). A thread that ends takes its team with it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def run_in_ending_thread(work: Callable[[], T], name: str) -> T:
    """``work()`` on a new thread, waited for; its result, or its exception re-raised here."""
    outcome: dict[str, object] = {}

    def run() -> None:
        try:
            outcome["result"] = work()
        except BaseException as error:  # noqa: BLE001 - handed to the caller as it was
            outcome["error"] = error

    thread = threading.Thread(target=run, name=name, daemon=True)
    thread.start()
    thread.join()
    if "error" in outcome:
        raise outcome["error"]  # type: ignore[misc]
    return outcome["result"]  # type: ignore[return-value]
