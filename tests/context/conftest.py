"""Fixtures shared by the context tests."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from roost.context.index import WorkspaceIndex
from roost.context.options import IndexOptions


@pytest.fixture
def open_index(tmp_path: Path) -> Iterator[Callable[[Path], WorkspaceIndex]]:
    """Index a directory in process (one worker), each with its own cache; closed after the test."""
    opened: list[WorkspaceIndex] = []

    def make(root: Path) -> WorkspaceIndex:
        index = WorkspaceIndex(root, IndexOptions(cache_dir=tmp_path / f"cache{len(opened)}", workers=1))
        index.index()
        opened.append(index)
        return index

    yield make
    for index in opened:
        index.close()
