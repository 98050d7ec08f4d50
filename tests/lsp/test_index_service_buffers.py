"""IndexService's buffer worker: updates apply off the calling thread, in order, bursts merged into one
whole-text update, and buffers over ``max_file_bytes`` kept out of the index."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from roost.context.buffers import BufferEdit
from roost.context.options import IndexOptions
from roost.lsp.core.index_service import IndexService


def _service(root: Path, max_file_bytes: int = 1_000_000) -> IndexService:
    options = IndexOptions(cache_dir=root / "cache", persist=False, max_file_bytes=max_file_bytes)
    return IndexService(root, options, watch=False)


def _insert(line: int, text: str) -> Callable[[], list[BufferEdit] | None]:
    """The edits of inserting ``text`` at the start of ``line``, as the handler hands them to the core."""
    return lambda: [BufferEdit(line, 0, line, 0, text)]


def _whole_text() -> list[BufferEdit] | None:
    return None  # the change replaced the whole document: only the new text says what it is


def test_a_burst_of_edits_ends_with_the_last_text_in_the_index(tmp_path: Path) -> None:
    service = _service(tmp_path)
    try:
        text = ""
        service.update_buffer("m.py", text)
        for number in range(200):
            added = f"def f{number}():\n    pass\n"
            service.apply_changes("m.py", text + added, _insert(2 * number, added))
            text += added
        service.close_buffer("m.py")
        service.update_buffer("m.py", text + "def last():\n    pass\n")
        assert service.wait_for_buffer_updates(timeout=60)
        assert service.queued_buffer_updates() == 0
        names = {d.name for d in service.workspace_index.file_facts("m.py").definitions}
        assert {"f0", "f199", "last"} <= names
    finally:
        service.close()


def test_a_buffer_over_the_limit_is_kept_out_of_the_index_until_it_shrinks(tmp_path: Path) -> None:
    service = _service(tmp_path, max_file_bytes=100)
    try:
        small = "def small():\n    pass\n"
        service.update_buffer("m.py", small)
        service.wait_for_buffer_updates(timeout=60)
        assert service.workspace_index.buffer_text("m.py") == small
        big = small + "# padding\n" * 20
        assert service.over_limit(big)
        service.apply_changes("m.py", big, _insert(2, "# padding\n" * 20))
        service.wait_for_buffer_updates(timeout=60)
        assert service.is_oversized("m.py") and service.workspace_index.buffer_text("m.py") is None
        service.apply_changes("m.py", small, _whole_text)
        service.wait_for_buffer_updates(timeout=60)
        assert not service.is_oversized("m.py") and service.workspace_index.buffer_text("m.py") == small
    finally:
        service.close()


def test_a_multibyte_text_is_measured_in_utf8_bytes(tmp_path: Path) -> None:
    service = _service(tmp_path, max_file_bytes=100)
    try:
        assert not service.over_limit("é" * 50)  # 100 bytes
        assert service.over_limit("é" * 51)  # 102 bytes in 51 characters
    finally:
        service.close()


def test_a_query_about_one_file_waits_for_that_files_edits_only(tmp_path: Path) -> None:
    import threading

    service = _service(tmp_path)
    release = threading.Event()
    try:
        service.update_buffer("a.py", "def a():\n    pass\n")
        service.wait_for_buffer_updates(timeout=60)
        service.after_buffer_updates(lambda: release.wait(30))  # the worker is busy with another job
        service.update_buffer("b.py", "def b():\n    pass\n")
        # a.py has nothing queued: answered now, without waiting for the busy worker.
        assert service.wait_for_buffer_updates("a.py", timeout=0.0)
        assert {d.name for d in service.file_facts("a.py").definitions} == {"a"}
        assert not service.wait_for_buffer_updates("b.py", timeout=0.0)
        release.set()
        assert service.wait_for_buffer_updates("b.py", timeout=60)
        assert {d.name for d in service.file_facts("b.py").definitions} == {"b"}
    finally:
        release.set()
        service.close()
