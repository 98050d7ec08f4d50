"""The index store when it cannot be written: a store directory the server may not write to (a shared or
read-only cache) is not damage: the store is kept, the index runs in memory, and the log says why."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from index_support import make_index, write_files

_DROP_WRITE_ANYTHING = "-dac_override,-dac_read_search"
_INDEX_ONCE = """
import logging, sys
from pathlib import Path
from roost.context.index import WorkspaceIndex
from roost.context.options import IndexOptions
logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(message)s")
with WorkspaceIndex(Path(sys.argv[1]), IndexOptions(cache_dir=Path(sys.argv[2]), workers=1)) as index:
    index.index()
    print(len(index.files()))
"""


def _bound_by_permissions(probe: Path) -> list[str]:
    """A command prefix under which file permissions apply (root ignores them), or skip."""
    if os.geteuid() != 0:
        return []
    if shutil.which("setpriv") is None:
        pytest.skip("running as root and setpriv is not available to drop the write-anything capability")
    prefix = ["setpriv", f"--bounding-set={_DROP_WRITE_ANYTHING}", f"--inh-caps={_DROP_WRITE_ANYTHING}"]
    probe.mkdir(mode=0o555)
    try:
        tried = subprocess.run([*prefix, "touch", str(probe / "x")], capture_output=True, timeout=10)
    finally:
        probe.chmod(0o755)
    if tried.returncode == 0:
        pytest.skip("setpriv could not take away root's capability to write anywhere here")
    return prefix


def test_a_read_only_store_directory_is_not_taken_for_damage(tmp_path: Path) -> None:
    prefix = _bound_by_permissions(tmp_path / "probe")
    root = write_files(tmp_path / "ws", {"a.py": "def a():\n    return 1\n", "b.py": "import a\n"})
    cache = tmp_path / "cache"
    with make_index(root, cache) as index:
        index.index()
    store_dir = cache / "index"
    kept = sorted(os.listdir(store_dir))
    store_dir.chmod(0o555)
    try:
        run = subprocess.run(
            [*prefix, sys.executable, "-c", _INDEX_ONCE, str(root), str(cache)],
            capture_output=True,
            text=True,
            timeout=120,
        )
    finally:
        store_dir.chmod(0o755)
    assert run.returncode == 0, run.stderr
    assert run.stdout.split() == ["2"]
    assert "damaged" not in run.stderr, run.stderr
    assert "indexing without persistence" in run.stderr
    assert sorted(os.listdir(store_dir)) == kept


def test_a_store_found_damaged_when_its_rows_are_read_is_reported_rebuilt(tmp_path: Path) -> None:
    files = {f"pkg/m{n}.py": f"def f{n}():\n    return {n}\n" * 20 for n in range(100)}
    root = write_files(tmp_path / "ws", files)
    with make_index(root, tmp_path / "cache") as index:
        index.index()
        store_path = index.store_path
    assert store_path is not None
    # Damage inside the rows' pages (the first 64 KB page, the schema, stays sound: the store opens).
    data = bytearray(store_path.read_bytes())
    for offset in range(70_000, len(data), 997):
        data[offset] ^= 0xFF
    store_path.write_bytes(bytes(data))
    with make_index(root, tmp_path / "cache") as restarted:
        report = restarted.index()
        assert (report.parsed, report.store_rebuilt) == (len(files), True)
        assert len(restarted.files()) == len(files)
