"""A long random LSP session against the real server (:mod:`session_fuzz`): whatever a client sends (ranges
past the end, CR and CRLF line ends, form feeds and U+2028, astral and combining characters, NUL bytes, long
lines, percent-encoded and non-file URIs, cancelled requests, changes while a completion runs, odd
configurations, files changing on disk), every request is answered exactly once within 30 s, the server
stays up, logs no traceback and shows the user no error of its own, its ranges lie inside the documents,
its text of each open document is the editor's (``roost/debugStats``' digests), and the index applies
every change as edits without re-syncing.

In CI it runs one fixed seed for 800 steps (about 25 s; the walk is the same for a seed, though the
server's answers depend on timing). For a longer hunt, on one core:

    ROOST_FUZZ_SEEDS=1,2,3,4 ROOST_FUZZ_STEPS=5000 taskset -c 1 nice \
        .venv/bin/python -m pytest tests/reliability/test_session_fuzz.py -s

(``ROOST_FUZZ_SEEDS``: comma-separated seeds, one session each; ``ROOST_FUZZ_STEPS``: steps per session;
``ROOST_FUZZ_LONG_LINES``: how many times a long line repeats its piece, 3000 by default.) ``-s`` prints
what the server answered per seed; a failure names the seed and step and lists the last steps sent.
"""

from __future__ import annotations

import os
import random
import re
from pathlib import Path

import pytest
from fake_openai import FakeOpenAI
from raw_client import RawClient
from reliability_support import fake_backend_options
from session_fuzz import SessionFuzz

SEEDS = [int(seed) for seed in os.environ.get("ROOST_FUZZ_SEEDS", "20261207").split(",")]
STEPS = int(os.environ.get("ROOST_FUZZ_STEPS", "800"))
LONG_LINES = int(os.environ.get("ROOST_FUZZ_LONG_LINES", "3000"))
ANSWERS = [("Shape", "    pass\n"), ("area", "r * r\nreturn x"), ("", "pass")]


def _tracebacks(text: str) -> list[str]:
    return [block for block in re.split(r"\n(?=\S)", text) if "Traceback (most recent call last)" in block]


@pytest.mark.parametrize("seed", SEEDS)
def test_random_session_keeps_the_server_answering_and_in_sync(tmp_path: Path, seed: int) -> None:
    root = tmp_path / "ws"
    (root / "pkg").mkdir(parents=True)
    (root / "pkg" / "shapes.py").write_text("class Shape:\n    pass\n\n\ndef area(r):\n    return r * r\n")
    stderr_path = tmp_path / "stderr.txt"
    with FakeOpenAI(rules=ANSWERS) as fake, stderr_path.open("wb") as stderr:
        client = RawClient(root, stderr=stderr)
        options = fake_backend_options(fake)
        fuzz = SessionFuzz(client, root, random.Random(seed), long_lines=LONG_LINES, settings=options)
        try:
            client.initialize(options)
            fuzz.run(STEPS)
        except AssertionError as error:
            raise AssertionError(
                f"seed {seed}, step {fuzz.steps}: {error}\nlast steps:\n{fuzz.replay()}"
            ) from None
        finally:
            log = client.log_text()
            client.close()
            print(f"seed {seed}: {fuzz.steps + 1} steps; answers: {dict(sorted(fuzz.counts.items()))}")
    problems = _tracebacks(log) + _tracebacks(stderr_path.read_text(errors="replace"))
    assert not problems, f"seed {seed}: tracebacks in the server's log:\n" + "\n".join(problems[:3])
    # The index applies each change as edits and compares the result with the editor's text: a re-sync
    # means the edits were read differently from the editor's document (its text is right, but slow).
    errors = [line for line in log.splitlines() if "server error" in line]
    assert not errors, f"seed {seed}: errors that reached pygls: {errors[:3]}"
    resyncs = [line for line in log.splitlines() if "re-syncing" in line]
    assert not resyncs, f"seed {seed}: the index's buffer drifted {len(resyncs)} times: {resyncs[:3]}"
