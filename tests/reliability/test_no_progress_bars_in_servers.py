"""The servers disable tqdm's bars before anything imports it (engine/progress_bars.py): a bar's lock and
monitor thread once held a `roost serve` at exit, its client gone."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

PROBE = """
import sys
from roost.lsp.cli import main
sys.argv = ["roost", "serve", "--stdio"]
from roost.lsp.cli.commands import serve
serve.create_server = lambda: type("S", (), {"services": {}, "start_io": lambda self: None, "exit_code": 0})()
main()
import os
import tqdm
bar = tqdm.tqdm(range(3))
print("disabled" if bar.disable else "enabled", os.environ["TQDM_DISABLE"])
"""


@pytest.mark.parametrize("preset", [None, "yes"])
def test_roost_serve_disables_tqdm_bars_unless_the_user_set_the_variable(preset: str | None) -> None:
    env = {key: value for key, value in os.environ.items() if key != "TQDM_DISABLE"}
    if preset is not None:
        env["TQDM_DISABLE"] = preset
    result = subprocess.run(
        [sys.executable, "-c", PROBE], env=env, capture_output=True, text=True, timeout=120, check=True
    )
    # A disabled bar starts no monitor thread and takes no lock when closed; a user's own value is kept.
    assert result.stdout.split() == ["disabled", preset or "1"], result


LOAD_PROBE = """
import sys, threading
from roost.engine.backends.transformers_backend import TransformersBackend, TransformersOptions
from roost.engine.scheduler import SchedulerOptions
backend = TransformersBackend.load(
    TransformersOptions(model=sys.argv[1], device="cpu", scheduler=SchedulerOptions(calibration_tokens=0))
)
from tqdm._monitor import TMonitor
print(sum(isinstance(t, TMonitor) for t in threading.enumerate()))
backend.scheduler.close()
"""


def test_a_model_load_starts_no_tqdm_monitor_even_without_the_variable(tmp_path: Path) -> None:
    """transformers' "Loading weights" bar is turned off at the load itself (a process that imported tqdm
    before the servers' variable was set, or a library use of the engine)."""
    from tiny_mistral import save_tiny_mistral

    directory = save_tiny_mistral(tmp_path / "tiny")
    env = {key: value for key, value in os.environ.items() if key != "TQDM_DISABLE"}
    result = subprocess.run(
        [sys.executable, "-c", LOAD_PROBE, str(directory)],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    assert result.stdout.split()[-1] == "0", result
