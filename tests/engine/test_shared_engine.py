"""The shared local engine: started once as a separate process, found again by the next editor."""

from __future__ import annotations

import json
import os
import signal
import urllib.error
import urllib.request
from pathlib import Path

import pytest

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
        # The engine it started needs the random key kept in the owner-only state file.
        assert state["api_key"] and (tmp_path / "engine.json").stat().st_mode & 0o077 == 0
        body = json.dumps({"prompt": [1, 1500, 1600], "max_tokens": 4}).encode()
        headers = {"Content-Type": "application/json"}
        request = urllib.request.Request(f"{url}/v1/completions", data=body, headers=headers)
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(request, timeout=60)  # noqa: S310 - local test server
        assert refused.value.code == 401
        headers["Authorization"] = f"Bearer {state['api_key']}"
        request = urllib.request.Request(f"{url}/v1/completions", data=body, headers=headers)
        with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310 - local test server
            assert json.loads(response.read())["usage"]["completion_tokens"] == 4
    finally:
        os.kill(state["pid"], signal.SIGTERM)
