"""A stored row whose facts no longer decode, inside a sound SQLite file: checking every row at load would
triple the warm start, so the file is parsed again when a query first decodes the row, its row rewritten,
and the query answered with the fresh facts (found by the index robustness session: the file showed no
symbols until its content changed)."""

from __future__ import annotations

import logging
import sqlite3
import threading
from pathlib import Path

import pytest
from graph_dump import canonical_graph, fresh_graph, only_stored_fields, stored_graph
from index_support import make_index, write_files

from roost.context.codec import decode_facts, encode_facts
from roost.context.facts import FileFacts
from roost.context.graph import CodeGraph

FILES = {
    "pkg/__init__.py": "",
    "pkg/m1.py": "from pkg.m2 import g\n\n\nclass Shape:\n    def area(self):\n        return g()\n\n\ndef f1():\n    return 1\n",
    "pkg/m2.py": "def g():\n    return 2\n",
    "main.py": "from pkg.m1 import Shape, f1\n\nprint(Shape().area(), f1())\n",
}
DAMAGED = "pkg/m1.py"


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return write_files(tmp_path / "ws", FILES)


def _damage_row(root: Path, cache: Path) -> Path:
    first = make_index(root, cache)
    first.index()
    db = first.store_path
    first.close()
    assert db is not None
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE files SET facts = x'00' WHERE path = ?", (DAMAGED,))
    return db


def _stored_blob(db: Path, path: str) -> bytes:
    with sqlite3.connect(db) as conn:
        return conn.execute("SELECT facts FROM files WHERE path = ?", (path,)).fetchone()[0]


def _damage_logs(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if "damaged" in r.getMessage()]


def test_a_damaged_row_is_parsed_again_by_the_query_that_finds_it(root, tmp_path, caplog):
    fresh = fresh_graph(root)
    db = _damage_row(root, tmp_path / "cache")

    with caplog.at_level(logging.INFO, logger="roost.context"):
        index = make_index(root, tmp_path / "cache")
        report = index.index()
        assert not report.store_rebuilt and report.parsed == 0  # the warm start itself trusts the rows
        symbols = [d.qualified_name for d in index.symbols(DAMAGED)]
        assert symbols == [d[0] for d in fresh[DAMAGED]["symbols"]] == ["Shape", "Shape.area", "f1"]
        assert canonical_graph(index) == fresh
        index.close()
    assert len(_damage_logs(caplog)) == 1 and DAMAGED in _damage_logs(caplog)[0]

    # The row was rewritten: it decodes, it says what a fresh index says, a second restart parses nothing.
    decode_facts(_stored_blob(db, DAMAGED))
    assert stored_graph(db) == only_stored_fields(fresh)
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="roost.context"):
        again = make_index(root, tmp_path / "cache")
        assert again.index().parsed == 0
        assert canonical_graph(again) == fresh
        again.close()
    assert _damage_logs(caplog) == []


def test_imports_and_the_name_index_find_and_mend_a_damaged_row(root, tmp_path):
    fresh = fresh_graph(root)
    _damage_row(root, tmp_path / "cache")
    index = make_index(root, tmp_path / "cache")
    index.index()
    # Building the name index decodes every row: the first lookup by name already sees the file's names.
    assert [(loc.path, loc.qualified_name) for loc in index.find_symbols("f1")] == [(DAMAGED, "f1")]
    assert sorted(repr(edge.imp) for edge in index.imports(DAMAGED)) == sorted(
        imp for imp, _ in fresh[DAMAGED]["imports"]
    )
    assert index.definitions_at("main.py", 0, len("from pkg.m1 import ")) != []
    index.close()


def test_a_damaged_row_found_while_an_index_runs_is_mended_when_it_ends(root, tmp_path):
    fresh = fresh_graph(root)
    _damage_row(root, tmp_path / "cache")
    index = make_index(root, tmp_path / "cache")
    index.index()
    # A (re)index holds the index lock for as long as it runs: the query must not wait for it.
    with index._index_lock:
        assert index.symbols(DAMAGED) == []
    index.close()  # waits for the deferred re-read
    assert canonical_graph(index) == fresh


def test_the_graph_hands_a_damaged_record_to_its_repair_outside_its_lock():
    other_thread_could_read: list[bool] = []

    def repair(path: str) -> None:
        # Another query must get through while the file is being parsed again.
        reader = threading.Thread(target=graph.files)
        reader.start()
        reader.join(timeout=5)
        other_thread_could_read.append(not reader.is_alive())
        graph.put(path, "python", (), blob=encode_facts(FileFacts(path, "python")), definitions_count=0)

    graph = CodeGraph(on_damaged=repair)
    graph.put("a.py", "python", (), blob=b"\x00", definitions_count=3)
    assert graph.facts("a.py") == FileFacts("a.py", "python")
    assert other_thread_could_read == [True]
    assert graph.facts("a.py") == FileFacts("a.py", "python")
    assert other_thread_could_read == [True]  # mended once
