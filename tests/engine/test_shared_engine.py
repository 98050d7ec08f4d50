"""The shared local engine: started once as a separate process, found again by the next editor."""

from __future__ import annotations

import json
import os
import signal
import urllib.request
from pathlib import Path

from roost.engine.shared import SharedEngineOptions, is_healthy, shared_engine_url


def test_started_once_then_reused(tiny_mistral_dir: Path, tmp_path: Path) -> None:
    options = SharedEngineOptions(
        model=str(tiny_mistral_dir), dtype="float32", device="cpu", state_dir=str(tmp_path)
    )
    url = shared_engine_url(options)
    state = json.loads((tmp_path / "engine.json").read_text())
    try:
        assert url.startswith("http://127.0.0.1:") and is_healthy(url)["status"] == "ok"
        assert shared_engine_url(options) == url  # found, not started again
        assert json.loads((tmp_path / "engine.json").read_text())["pid"] == state["pid"]
        body = json.dumps({"prompt": [1, 1500, 1600], "max_tokens": 4}).encode()
        request = urllib.request.Request(
            f"{url}/v1/completions", data=body, headers={"Content-Type": "application/json"}
        )
        with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310 - local test server
            assert json.loads(response.read())["usage"]["completion_tokens"] == 4
    finally:
        os.kill(state["pid"], signal.SIGTERM)
