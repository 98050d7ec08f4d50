"""A workspace folder removed at run time (``workspace/didChangeWorkspaceFolders``): the status counts only
the folders still served, and the folder whose file set the engine stays that folder for the server's life,
even in a client that sends no ``rootUri`` (its root would move to the next folder).

The real ``roost serve --stdio`` over the raw client.
"""

from __future__ import annotations

import sys
from pathlib import Path

_RELIABILITY = Path(__file__).resolve().parents[1] / "reliability"
if str(_RELIABILITY) not in sys.path:
    sys.path.insert(0, str(_RELIABILITY))

from raw_client import Message, RawClient  # noqa: E402
from test_multi_root import ALPHA_MARKER, BETA_MARKER, _folder, _folders_changed, _wait_ready  # noqa: E402


def _ready_with(client: RawClient, count: str, timeout: float = 30.0) -> Message:
    return client.wait_for(
        lambda m: (
            m.get("method") == "roost/status"
            and m["params"]["state"] == "ready"
            and f"({count} files indexed)" in m["params"]["message"]
        ),
        timeout,
    )


def _initialize_without_root(client: RawClient, folders: tuple[Path, ...]) -> None:
    """``initialize`` as a client that names only its workspace folders (no rootUri, no rootPath)."""
    client.request(
        "initialize",
        {
            "processId": None,
            "capabilities": {},
            "workspaceFolders": [{"uri": f.resolve().as_uri(), "name": f.name} for f in folders],
        },
        timeout=60,
    )
    client.notify("initialized", {})


def test_the_ready_status_stops_counting_a_removed_folder_s_files(tmp_path: Path) -> None:
    alpha = _folder(tmp_path / "alpha", ALPHA_MARKER)
    beta = _folder(tmp_path / "beta", BETA_MARKER)
    (beta / "more.py").write_text("def more():\n    return 1\n")
    with RawClient(alpha) as client:
        client.initialize(more_folders=(beta,))
        assert "(3 files indexed)" in _wait_ready(client)["params"]["message"]
        _folders_changed(client, removed=(beta,))
        status = _ready_with(client, "1")
    assert status["params"]["percentage"] == 100, status


def test_the_engine_folder_stays_the_first_one_after_it_is_removed(tmp_path: Path) -> None:
    alpha = _folder(tmp_path / "alpha", ALPHA_MARKER)
    beta = _folder(tmp_path / "beta", BETA_MARKER)
    gamma = _folder(tmp_path / "gamma", "GAMMA")
    (beta / "roost.toml").write_text('[context]\nbudget = 900\n[gate]\nunscanned = "pass"\n')
    (gamma / "roost.toml").write_text('[backend]\nserver = "vllm"\n')
    with RawClient(alpha) as client:
        _initialize_without_root(client, (alpha, beta))
        _wait_ready(client)
        _folders_changed(client, removed=(alpha,))
        # beta's file still may not set the engine: its gate key stays ignored, its budget its own.
        uri = (beta / "m.py").resolve().as_uri()
        effective = client.request("roost/effectiveConfiguration", {"uri": uri})["result"]
        _folders_changed(client, added=(gamma,))
        warning = client.wait_for(
            lambda m: m.get("method") == "window/showMessage" and "backend.server" in m["params"]["message"]
        )
    assert effective["settings"]["context"]["budget"] == 900, effective["settings"]["context"]
    assert effective.get("ignoredEngineKeys") == ["gate.unscanned"], effective
    assert effective["settings"]["gate"]["unscanned"] != "pass", effective["settings"]["gate"]
    message = warning["params"]["message"]
    assert "(alpha)" in message and "(beta)" not in message, message
