"""The index while it is busy: editor events that arrive while a (re)index holds it must not wait for it,
and the graph must still end as a fresh index of the same files gives it."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from graph_dump import canonical_graph, differences, fresh_graph
from index_support import make_index, write_files

from roost.context.index import IndexProgress
from roost.context.indexing import POOL_THRESHOLD

# Long enough to tell "waits for the held index" from "returns"; never reached by a close that returns.
HANG_S = 10.0


def test_closing_a_buffer_while_the_cold_index_runs_does_not_wait_for_it(tmp_path: Path) -> None:
    root = write_files(tmp_path / "ws", {"a.py": "def on_disk():\n    return 1\n", "b.py": "import a\n"})
    parsing, release = threading.Event(), threading.Event()

    def hold_at_parsing(update: IndexProgress) -> None:
        if update.phase == "parsing" and not parsing.is_set():
            parsing.set()
            release.wait()

    index = make_index(root, tmp_path / "cache")
    try:
        future = index.start(progress=hold_at_parsing)
        assert parsing.wait(HANG_S)
        index.set_buffer("a.py", "def typed_in_the_editor():\n    return 2\n")
        closing = threading.Thread(target=index.close_buffer, args=("a.py",), daemon=True)
        closing.start()
        closing.join(HANG_S)
        # The server applies buffer events on one thread: a close that waits for the cold index holds
        # back every later edit, and each query then waits for those edits.
        assert not closing.is_alive(), "close_buffer waited for the running cold index"
    finally:
        release.set()
    future.result(timeout=60)
    index.close()  # lets the deferred read of the closed file's disk text finish
    assert [d.name for d in index.symbols("a.py")] == ["on_disk"]
    assert differences(canonical_graph(index), fresh_graph(root)) == []


def test_a_buffer_closed_without_being_saved_leaves_the_file_set(tmp_path: Path) -> None:
    root = write_files(tmp_path / "ws", {"a.py": "from newmod import thing\n"})
    with make_index(root, tmp_path / "cache") as index:
        index.index()
        index.set_buffer("newmod.py", "def thing():\n    return 1\n")
        index.close_buffer("newmod.py")  # never written to disk
        write_files(root, {"other.py": "VALUE = 1\n"})
        index.refresh_paths([root / "other.py"])  # the file set changed: imports are resolved again
        assert index.dependencies("a.py") == []
        assert differences(canonical_graph(index), fresh_graph(root)) == []


@pytest.mark.parametrize("workers", [1, 2], ids=["in-process", "worker-pool"])
def test_closing_the_index_stops_its_cold_index(tmp_path: Path, workers: int) -> None:
    files = {f"pkg/m{n}.py": f"def f{n}():\n    return {n}\n" for n in range(POOL_THRESHOLD * 4)}
    root = write_files(tmp_path / "ws", files)
    index = make_index(root, tmp_path / "cache", workers=workers, batch_size=4)

    def close_at_the_first_batch(update: IndexProgress) -> None:
        if update.phase == "parsing" and update.done > 0 and not index.ready:
            # The server's shutdown closes the index from the event loop; here from the index thread itself,
            # so the test knows the close came after exactly one batch.
            index.close()

    index.start(progress=close_at_the_first_batch).result(timeout=120)
    # Shutting down must not wait for the whole workspace to be parsed: the rest is parsed on next start.
    assert len(index.files()) < len(files)
    with make_index(root, tmp_path / "cache", workers=workers) as restarted:
        report = restarted.index()
        assert 0 < report.reused < len(files)
        assert differences(canonical_graph(restarted), fresh_graph(root)) == []


def test_a_deleted_working_directory_does_not_stop_parsing(tmp_path: Path, monkeypatch) -> None:
    # An editor starts the server in the workspace folder; a fresh clone deletes and recreates it, and the
    # server's working directory stays the deleted one, which a worker pool cannot start from.
    gone = tmp_path / "gone"
    gone.mkdir()
    monkeypatch.chdir(gone)
    gone.rmdir()
    files = {f"pkg/m{n}.py": f"def f{n}():\n    return {n}\n" for n in range(POOL_THRESHOLD * 2)}
    root = write_files(tmp_path / "ws", files)
    with make_index(root, tmp_path / "cache", workers=2) as index:
        index.start().result(timeout=120)  # from a thread, as in the server: the pool's fork server
        assert len(index.files()) == len(files)


def test_closing_the_index_from_its_own_thread_with_a_closed_buffer_pending(tmp_path: Path) -> None:
    root = write_files(tmp_path / "ws", {"a.py": "def on_disk():\n    return 1\n", "b.py": "import a\n"})
    index = make_index(root, tmp_path / "cache")
    index.set_buffer("a.py", "def typed():\n    return 2\n")

    def close_everything_at_parsing(update: IndexProgress) -> None:
        if update.phase == "parsing" and not index.ready:
            index.close_buffer("a.py")  # deferred: the index thread holds the index
            index.close()  # a listener on the index thread: must not wait for what waits for this thread

    future = index.start(progress=close_everything_at_parsing)
    done = threading.Event()
    future.add_done_callback(lambda _future: done.set())
    assert done.wait(HANG_S), "close() on the index thread waited for the index thread"
