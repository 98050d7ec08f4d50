"""The index under a hostile file tree: names that are not UTF-8, symlinks leading out of the workspace,
files replaced by directories. Each scenario ends with the graph a fresh index of the same tree gives,
and with a warm restart that reuses the store and gives that graph again."""

from __future__ import annotations

import errno
import os
import shutil
import time
from pathlib import Path

import pytest
from graph_dump import canonical_graph, differences, fresh_graph
from index_support import make_index, write_files
from watchdog.observers.api import BaseObserver

from roost.context import watching

# A file name with bytes that are not UTF-8 (Linux allows any byte but / and NUL in a name).
NOT_UTF8_NAME = os.fsdecode(b"caf\xe9_\xff.py")


def assert_like_a_fresh_index(index, root: Path) -> None:
    assert differences(canonical_graph(index), fresh_graph(root)) == []


def test_a_file_name_that_is_not_utf8_is_indexed_and_persisted(tmp_path):
    root = tmp_path / "ws"
    root.mkdir()
    (root / "good.py").write_text("def good():\n    return 1\n")
    (root / NOT_UTF8_NAME).write_text("def odd():\n    return 2\n")

    with make_index(root, tmp_path / "cache") as index:
        index.index()
        assert sorted(index.files()) == sorted(["good.py", NOT_UTF8_NAME])
        assert_like_a_fresh_index(index, root)

    with make_index(root, tmp_path / "cache") as warm:
        report = warm.index()
        assert (report.parsed, report.reused) == (0, 2)
        assert_like_a_fresh_index(warm, root)
        # A deletion reaches the store too: the next start does not bring the file back.
        (root / NOT_UTF8_NAME).unlink()
        warm.refresh_paths([root / NOT_UTF8_NAME])
        assert warm.files() == ["good.py"]

    with make_index(root, tmp_path / "cache") as again:
        again.index()
        assert again.files() == ["good.py"]


def test_a_workspace_whose_name_is_not_utf8_is_persisted(tmp_path):
    root = tmp_path / NOT_UTF8_NAME.removesuffix(".py")
    root.mkdir()
    (root / "good.py").write_text("def good():\n    return 1\n")
    with make_index(root, tmp_path / "cache") as index:
        index.index()
        assert index.store_path is not None and index.store_path.exists()
    with make_index(root, tmp_path / "cache") as warm:
        report = warm.index()
        assert (report.parsed, report.reused, report.store_rebuilt) == (0, 1, False)
        assert_like_a_fresh_index(warm, root)


def test_a_symlink_loop_in_a_batch_of_disk_changes_costs_nothing_else(tmp_path):
    root = tmp_path / "ws"
    root.mkdir()
    (root / "good.py").write_text("def good():\n    return 1\n")
    with make_index(root, tmp_path / "cache") as index:
        index.index()
        (root / "self.py").symlink_to(root / "self.py")  # resolving it loops
        (root / "new.py").write_text("def new():\n    return 2\n")
        index.refresh_paths([root / "self.py", root / "new.py"])
        assert index.files() == ["good.py", "new.py"]
        assert_like_a_fresh_index(index, root)


def _converges(index, root: Path, timeout_s: float = 30.0) -> list[str]:
    """The differences left between the index and a fresh index of ``root`` once the watcher had up to
    ``timeout_s`` to catch up (a bound on convergence, not a speed check)."""
    deadline = time.monotonic() + timeout_s
    while True:
        left = differences(canonical_graph(index), fresh_graph(root))
        if not left or time.monotonic() > deadline:
            return left
        time.sleep(0.2)


def test_a_workspace_folder_deleted_and_made_again_is_watched_again(tmp_path):
    root = write_files(tmp_path / "ws", {"a.py": "def a():\n    return 1\n", "pkg/b.py": "import a\n"})
    with make_index(root, tmp_path / "cache", watch_debounce_s=0.05, watch_max_delay_s=0.2) as index:
        index.index()
        index.watch()
        shutil.rmtree(root)  # a fresh clone: the folder goes, and comes back with other files
        deadline = time.monotonic() + 30
        while index.files() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert index.files() == []
        write_files(root, {"a.py": "def a_again():\n    return 2\n", "pkg/c.py": "from a import a_again\n"})
        assert _converges(index, root) == []
        write_files(root, {"pkg/d.py": "def later():\n    return 3\n"})  # and later changes are heard
        assert _converges(index, root) == []


@pytest.mark.parametrize("folder", ["", "sub/"], ids=["root", "nested"])
def test_a_changed_gitignore_lets_in_what_it_no_longer_ignores(tmp_path, folder):
    files = {f"{folder}.gitignore": "gen/\n", f"{folder}gen/g.py": "def generated():\n    return 1\n"}
    root = write_files(tmp_path / "ws", {**files, f"{folder}old/o.py": "def old():\n    return 2\n"})
    with make_index(root, tmp_path / "cache") as index:
        index.index()
        assert index.files() == [f"{folder}old/o.py"]
        write_files(
            root, {f"{folder}.gitignore": "old/\n"}
        )  # a checkout of a branch that ignores other things
        index.refresh_paths([root / f"{folder}.gitignore"])
        assert index.files() == [f"{folder}gen/g.py"]
        assert_like_a_fresh_index(index, root)


def test_a_tree_past_inotifys_limits_is_rescanned_instead(tmp_path, monkeypatch, caplog):
    def limit_reached(*_args, **_kwargs):
        raise OSError(errno.ENOSPC, "inotify watch limit reached")

    monkeypatch.setattr(BaseObserver, "schedule", limit_reached)
    monkeypatch.setattr(watching, "RESCAN_S", 0.1)
    root = write_files(tmp_path / "ws", {"a.py": "def a():\n    return 1\n"})
    with make_index(root, tmp_path / "cache", watch_debounce_s=0.05, watch_max_delay_s=0.2) as index:
        index.index()
        index.watch()
        write_files(root, {"b.py": "import a\n\ndef b():\n    return 2\n"})
        (root / "a.py").unlink()
        assert _converges(index, root) == []
    assert any("rescanning it every" in record.getMessage() for record in caplog.records)
