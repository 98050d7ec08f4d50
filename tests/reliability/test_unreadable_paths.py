"""Trust, point 9: an unreadable directory, file or ``.gitignore`` is skipped with one log line, and the rest
of the workspace is indexed (one such directory used to fail the whole index: "indexing failed: Permission
denied …/.gitignore", 0 files indexed).

Tests usually run as root, which reads anything; the server is then started without the capabilities that
let root ignore permissions (``setpriv`` drops CAP_DAC_OVERRIDE and CAP_DAC_READ_SEARCH), so a mode-000
path is as unreadable to it as to an ordinary user.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from index_helpers import POOL_SIZED, SERVE_COMMAND, indexed_count, indexed_files, wait_until, write_modules
from lsp_harness import lsp_session, server_env

_DROP_READ_ANYTHING = "-dac_override,-dac_read_search"
_UNPRIVILEGED = ["setpriv", f"--bounding-set={_DROP_READ_ANYTHING}", f"--inh-caps={_DROP_READ_ANYTHING}"]


def _server_command(probe: Path) -> list[str]:
    """The serve command, run so that permissions apply to it (or skip when that cannot be arranged)."""
    if os.geteuid() != 0:
        return SERVE_COMMAND
    if shutil.which("setpriv") is None:
        pytest.skip("running as root and setpriv is not available to drop the read-anything capability")
    probe.write_text("secret\n")
    probe.chmod(0)
    try:
        dropped = subprocess.run([*_UNPRIVILEGED, "cat", str(probe)], capture_output=True, timeout=10)
    finally:
        probe.chmod(0o600)
    if dropped.returncode == 0:
        pytest.skip("setpriv could not take away root's capability to read anything here")
    return [*_UNPRIVILEGED, *SERVE_COMMAND]


@pytest.fixture
def unreadable_workspace(tmp_path: Path) -> Iterator[Path]:
    """A pool-sized workspace with a mode-000 directory, a directory that can be listed but not entered, a
    mode-000 file and a mode-000 ``.gitignore``; permissions are restored afterwards so pytest can clean."""
    workspace = tmp_path / "workspace"
    write_modules(workspace, POOL_SIZED)
    locked = workspace / "locked"
    (locked / "deep").mkdir(parents=True)
    (locked / "hidden.py").write_text("def hidden():\n    pass\n")
    (locked / ".gitignore").write_text("*.tmp\n")
    not_searchable = workspace / "listed_only"
    not_searchable.mkdir()
    (not_searchable / "unseen.py").write_text("def unseen():\n    pass\n")
    (not_searchable / ".gitignore").write_text("build/\n")
    private = workspace / "private.py"
    private.write_text("def private():\n    pass\n")
    guarded = workspace / "guarded"
    guarded.mkdir()
    (guarded / "kept.py").write_text("def kept():\n    pass\n")
    (guarded / ".gitignore").write_text("ignored.py\n")
    (guarded / "ignored.py").write_text("def ignored():\n    pass\n")
    restricted = {locked: 0o755, not_searchable: 0o755, private: 0o644, guarded / ".gitignore": 0o644}
    locked.chmod(0)
    not_searchable.chmod(0o644)  # readable (listable) but without the search bit: nothing inside opens
    private.chmod(0)
    (guarded / ".gitignore").chmod(0)
    try:
        yield workspace
    finally:
        for path, mode in restricted.items():
            path.chmod(mode)


async def test_unreadable_paths_are_skipped_and_the_rest_is_indexed(
    tmp_path: Path, unreadable_workspace: Path
) -> None:
    command = _server_command(tmp_path / "probe")
    cache = tmp_path / "cache"
    env = server_env(tmp_path, {"ROOST_CACHE_DIR": str(cache)})
    async with lsp_session(unreadable_workspace, command=command, env=env, cwd=tmp_path) as session:
        ready = await session.wait_for_status("ready", timeout=60)
        failures = [status for status in session.statuses if "failed" in str(status.get("message"))]
        cold_index_log = (tmp_path / "state" / "logs" / "roost.log").read_text(
            encoding="utf-8", errors="replace"
        )
        # Disk changes next to an unreadable path still reach the index (one batch of the watcher).
        (unreadable_workspace / "listed_only" / "late.py").write_text("def late():\n    pass\n")
        (unreadable_workspace / "pkg" / "late.py").write_text("def late():\n    pass\n")
        late_indexed = await wait_until(
            lambda: "pkg/late.py" in (indexed_files(unreadable_workspace, cache) or set()), 20
        )

    assert not failures, failures
    assert late_indexed, "a file created after the index, beside an unreadable one, was not indexed"
    # The modules, and guarded/ without its unreadable .gitignore's rule (kept.py and ignored.py).
    assert indexed_count(ready) == POOL_SIZED + 2
    for unreadable in ("locked", "listed_only", "private.py", "guarded/.gitignore"):
        lines = [line for line in cold_index_log.splitlines() if "skipped" in line and unreadable in line]
        assert len(lines) == 1, f"expected one log line for {unreadable}, got {lines}"
