"""Cold indexing in worker processes (fork when single-threaded, fork server from a background thread)
gives the same graph as in-process parsing; the background start answers queries while it runs."""

from __future__ import annotations

import threading
from pathlib import Path

from index_support import graph_snapshot, make_index

from roost.context.index import IndexProgress


def make_workspace(root: Path, modules: int = 80) -> Path:
    (root / "pkg").mkdir(parents=True)
    (root / "pkg/__init__.py").write_text("from .m0 import f0\n")
    for number in range(modules):
        previous = f"from .m{number - 1} import f{number - 1}\n" if number else "import os\n"
        (root / f"pkg/m{number}.py").write_text(
            f'{previous}\n\nclass C{number}:\n    """Class {number}."""\n\n    def method(self):\n        return {number}\n\n\n'
            f"def f{number}():\n    return C{number}()\n"
        )
    (root / "pkg/binary.py").write_bytes(b"\x00\x01" * 10)
    return root


def test_pool_equals_in_process(tmp_path):
    root = make_workspace(tmp_path / "ws")
    single = make_index(root, tmp_path / "c1", workers=1)
    single.index()
    pooled = make_index(root, tmp_path / "c2", workers=2, batch_size=8)
    updates: list[IndexProgress] = []
    report = pooled.index(updates.append)
    assert report.parsed == 82 and report.skipped == 1
    assert graph_snapshot(pooled) == graph_snapshot(single)
    assert pooled.worker_cpu_seconds > 0
    parsing = [u for u in updates if u.phase == "parsing"]
    assert parsing[-1].done == parsing[-1].total == 82
    assert [u.done for u in parsing] == sorted(u.done for u in parsing)
    single.close()
    pooled.close()


def test_background_start_answers_while_indexing(tmp_path):
    root = make_workspace(tmp_path / "ws")
    index = make_index(root, tmp_path / "c", workers=2, batch_size=4)
    seen_partial = threading.Event()

    def progress(update: IndexProgress) -> None:
        # Called on the indexing thread: the index already answers with what it knows.
        if update.phase == "parsing" and 0 < update.done < update.total:
            assert len(index.files()) >= 1
            seen_partial.set()

    assert index.files() == []  # nothing known yet, but no error
    future = index.start(progress)
    report = future.result(timeout=120)
    assert index.ready and index.wait(0)
    assert report.parsed == 82
    assert seen_partial.is_set()
    assert index.dependencies("pkg/m5.py") == ["pkg/m4.py"]
    index.close()
    index.close()  # idempotent


def test_two_argument_progress_callback(tmp_path):
    root = make_workspace(tmp_path / "ws", modules=3)
    calls: list[tuple[int, int]] = []
    index = make_index(root, tmp_path / "c")
    index.index(lambda done, total: calls.append((done, total)))
    assert calls[-1] == (5, 5)
    index.close()
