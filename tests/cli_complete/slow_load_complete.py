"""``roost complete`` whose in-process model load is slow: a test double run as a script by
``test_complete.py`` (``python slow_load_complete.py REPORT.json ARGS…``).

The model load (``load_transformers_backend``) is replaced by one that holds until the command has told
the user it timed out (its line on stderr), or 30 s at most, then returns a fake backend whose worker
thread, like the engine's, runs until the backend is closed. After the command returns, the report says
whether the timeout was told before the load ended, whether the backend was closed, and which threads
are left."""

from __future__ import annotations

import io
import json
import sys
import threading
from typing import Any

from roost.engine.types import GenerationRequest, TextChunk

TIMED_OUT = "took longer than"
TOLD_WAIT_S = 30.0

told_timeout = threading.Event()
report: dict[str, Any] = {"load_started": False, "told_before_load_ended": None, "closed": False}


class RecordingStderr(io.TextIOBase):
    """stderr, also watched for the timeout's line."""

    def __init__(self, stream: Any) -> None:
        self._stream = stream

    def write(self, text: str) -> int:
        if TIMED_OUT in text:
            told_timeout.set()
        return self._stream.write(text)

    def flush(self) -> None:
        self._stream.flush()

    def isatty(self) -> bool:
        return False


class FakeEngineBackend:
    """Stands for the loaded in-process engine: a worker thread that runs until ``aclose``."""

    name = "fake-engine"

    def __init__(self) -> None:
        self._closing = threading.Event()
        self._worker = threading.Thread(target=self._closing.wait, name="fake-engine-worker", daemon=True)
        self._worker.start()

    async def generate(self, request: GenerationRequest) -> Any:  # pragma: no cover - never asked
        raise AssertionError("the timed-out request reached the backend")
        yield TextChunk("")

    async def aclose(self) -> None:
        report["closed"] = True
        self._closing.set()
        self._worker.join()


def slow_load(config: Any, progress: Any = None) -> FakeEngineBackend:
    report["load_started"] = True
    report["told_before_load_ended"] = told_timeout.wait(TOLD_WAIT_S)
    return FakeEngineBackend()


def main() -> int:
    from roost.lsp.cli import main as roost_main
    from roost.lsp.core import services

    services.load_transformers_backend = slow_load  # type: ignore[assignment]
    sys.stderr = RecordingStderr(sys.stderr)  # type: ignore[assignment]
    report_path, *argv = sys.argv[1:]
    report["rc"] = roost_main(["complete", *argv])
    report["threads"] = sorted(thread.name for thread in threading.enumerate() if thread.is_alive())
    with open(report_path, "w", encoding="utf-8") as out:
        json.dump(report, out)
    return 0


if __name__ == "__main__":  # not when a spawned index worker imports this module
    sys.exit(main())
