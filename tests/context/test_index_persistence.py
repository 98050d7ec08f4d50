"""The SQLite store: warm start, change detection, rebuild on schema change or damage, kill -9 safety."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from index_support import copy_fixture, graph_snapshot, make_index

import roost.context.store as store_module


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    return copy_fixture("pyproj", tmp_path)


def fresh_snapshot(root: Path, tmp_path: Path) -> dict:
    index = make_index(root, tmp_path / f"fresh-{time.monotonic_ns()}")
    index.index()
    snapshot = graph_snapshot(index)
    index.close()
    return snapshot


def test_warm_start_reuses_everything(workspace, tmp_path):
    cache = tmp_path / "cache"
    first = make_index(workspace, cache)
    cold = first.index()
    expected = graph_snapshot(first)
    first.close()
    assert cold.parsed == 8 and cold.reused == 0
    assert first.store_path is not None and first.store_path.is_relative_to(cache)

    second = make_index(workspace, cache)
    warm = second.index()
    assert (warm.parsed, warm.reused) == (0, 8)
    assert graph_snapshot(second) == expected
    second.close()


def test_changed_file_reparsed_touched_file_not(workspace, tmp_path):
    cache = tmp_path / "cache"
    make_index(workspace, cache).index()
    circle = workspace / "src/shapes/circle.py"
    circle.write_text(circle.read_text() + "\n\ndef added():\n    pass\n")
    base = workspace / "src/shapes/base.py"
    stat = base.stat()
    os.utime(base, ns=(stat.st_atime_ns, stat.st_mtime_ns + 5_000_000_000))  # touched, same content

    index = make_index(workspace, cache)
    report = index.index()
    assert report.parsed == 1
    assert "added" in [d.name for d in index.symbols("src/shapes/circle.py")]
    index.close()
    again = make_index(workspace, cache)
    assert again.index().parsed == 0  # the new mtime of base.py was recorded
    again.close()


def test_added_and_removed_files_re_resolve_persistently(workspace, tmp_path):
    cache = tmp_path / "cache"
    make_index(workspace, cache).index()
    (workspace / "src/shapes/missing.py").write_text("nothing = None\n")
    (workspace / "tests/helpers.py").unlink()

    index = make_index(workspace, cache)
    report = index.index()
    assert (report.parsed, report.removed) == (1, 1)
    assert "src/shapes/missing.py" in index.dependencies("scripts/report.py")
    assert index.dependencies("tests/test_circle.py") == ["src/shapes/circle.py"]
    expected = graph_snapshot(index)
    index.close()
    assert expected == fresh_snapshot(workspace, tmp_path)

    warm = make_index(workspace, cache)
    assert warm.index().parsed == 0
    assert graph_snapshot(warm) == expected
    warm.close()


def test_schema_change_rebuilds(workspace, tmp_path, monkeypatch):
    cache = tmp_path / "cache"
    make_index(workspace, cache).index()
    monkeypatch.setattr(store_module, "SCHEMA_VERSION", store_module.SCHEMA_VERSION + 100)
    index = make_index(workspace, cache)
    report = index.index()
    assert report.store_rebuilt and report.parsed == 8
    index.close()


def test_corrupt_database_file_rebuilds(workspace, tmp_path):
    cache = tmp_path / "cache"
    first = make_index(workspace, cache)
    first.index()
    expected = graph_snapshot(first)
    db = first.store_path
    first.close()
    for suffix in ("-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    db.write_bytes(b"this is not a database" * 100)

    index = make_index(workspace, cache)
    report = index.index()
    assert report.store_rebuilt and report.parsed == 8
    assert graph_snapshot(index) == expected
    index.close()


def test_damaged_record_rebuilds(workspace, tmp_path):
    cache = tmp_path / "cache"
    first = make_index(workspace, cache)
    first.index()
    expected = graph_snapshot(first)
    db = first.store_path
    first.close()
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE files SET resolutions = x'deadbeef' WHERE path = 'scripts/report.py'")

    index = make_index(workspace, cache)
    report = index.index()
    assert report.store_rebuilt
    assert graph_snapshot(index) == expected
    index.close()


KILLER = textwrap.dedent(
    """
    import os, signal, sys
    from pathlib import Path
    from roost.context.index import WorkspaceIndex
    from roost.context.options import IndexOptions

    root, cache = Path(sys.argv[1]), Path(sys.argv[2])
    index = WorkspaceIndex(root, IndexOptions(cache_dir=cache, workers=1, batch_size=8))

    def progress(update):
        if update.phase == "parsing" and update.done >= 100:
            os.kill(os.getpid(), signal.SIGKILL)

    index.index(progress)
    """
)


def test_kill_9_mid_indexing_leaves_a_correct_store(tmp_path):
    root = tmp_path / "big"
    (root / "pkg").mkdir(parents=True)
    (root / "pkg/__init__.py").write_text("")
    for number in range(300):
        imports = f"from pkg.m{number - 1} import f{number - 1}\n" if number else ""
        (root / f"pkg/m{number}.py").write_text(f"{imports}\n\ndef f{number}():\n    return {number}\n")
    cache = tmp_path / "cache"
    result = subprocess.run(
        [sys.executable, "-c", KILLER, str(root), str(cache)], capture_output=True, timeout=120
    )
    assert result.returncode == -signal.SIGKILL, result.stderr.decode()

    index = make_index(root, cache)
    report = index.index()
    assert 0 < report.reused < 301  # what was committed before the kill is reused...
    assert report.parsed == 301 - report.reused  # ...and the rest parsed now
    assert graph_snapshot(index) == fresh_snapshot(root, tmp_path)
    index.close()


def test_cache_dir_from_environment(workspace, tmp_path, monkeypatch):
    monkeypatch.setenv("ROOST_CACHE_DIR", str(tmp_path / "envcache"))
    from roost.context.index import WorkspaceIndex

    index = WorkspaceIndex(workspace)
    index.index()
    assert index.store_path.is_relative_to(tmp_path / "envcache")
    index.close()


def test_no_persistence_option(workspace, tmp_path):
    index = make_index(workspace, tmp_path / "cache", persist=False)
    index.index()
    assert index.store_path is None and not (tmp_path / "cache").exists()
    index.close()
