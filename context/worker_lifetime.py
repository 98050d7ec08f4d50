"""Index workers never outlive the process that started them.

The cold index parses in a process pool. With the fork server (the LSP server, which has threads), a
worker is a child of the fork server, not of the server, and every worker holds the ends of the pool's
pipes that keep the fork server (its "alive" pipe) and multiprocessing's resource tracker (its command
pipe) running. When the server dies without closing the pool (``kill -9``, a crash, the OOM killer), the
workers wait for work forever and keep both helpers alive: about 120 MB each, for as long as the machine
runs. So each worker watches the server itself and exits the moment it is gone; the fork server and the
resource tracker then see their pipes close and exit on their own.
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys
import threading

import psutil

from roost.context.options import IndexOptions
from roost.context.parsing import init_worker

# How often a worker checks that the process which started the pool is still there.
_WATCH_INTERVAL_S = 0.5
_PR_SET_PDEATHSIG = 1


def init_pool_worker(owner_pid: int, root: str, files: list[str], options: IndexOptions) -> None:
    """The pool's initializer: tie this worker's life to ``owner_pid`` (the process that made the pool),
    then prepare it for parsing like :func:`roost.context.parsing.init_worker`."""
    exit_when_gone(owner_pid)
    init_worker(root, files, options)


def exit_when_gone(owner_pid: int) -> None:
    """Exit this process as soon as ``owner_pid`` has died (or is a zombie nobody reaped yet).

    A watchdog thread polls the owner, identified by pid *and* start time so a reused pid is not mistaken
    for it. Where the owner is the direct parent on Linux, the kernel's parent-death signal also kills this
    process at once (a fork-context pool; the fork server's workers have the fork server as parent)."""
    try:
        owner = psutil.Process(owner_pid)
    except psutil.NoSuchProcess:
        os._exit(1)
    if os.getppid() == owner_pid:
        _kill_on_parent_death()
    threading.Thread(target=_watch, args=(owner,), name="roost-worker-lifetime", daemon=True).start()


def _watch(owner: psutil.Process) -> None:
    stopped = threading.Event()  # never set: a sleep that needs no busy loop
    while _is_alive(owner):
        stopped.wait(_WATCH_INTERVAL_S)
    # Nothing is left to hand results to; os._exit does not wait for the pool's threads or queues.
    os._exit(1)


def _is_alive(owner: psutil.Process) -> bool:
    try:
        # is_running() compares the start time as well: a new process that got the same pid is not it.
        return owner.is_running() and owner.status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


def _kill_on_parent_death() -> None:
    """Linux ``prctl(PR_SET_PDEATHSIG, SIGKILL)``; silently nothing elsewhere (the watchdog still runs)."""
    if not sys.platform.startswith("linux"):
        return
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0)
    except (OSError, AttributeError):
        pass
