"""The core's own ``file:`` URI → path (lsp/core/file_uris.py) reads URIs as pygls does."""

from __future__ import annotations

from pathlib import Path

import pytest
from pygls.uris import to_fs_path

from roost.lsp.core.file_uris import file_uri_to_path

URIS = [
    "file:///home/user/project/m.py",
    "file:///home/user/my%20project/caf%C3%A9.py",
    "file:///C:/Users/me/m.py",
    "file://server/share/m.py",
    "file:///tmp/a%23b.py",
    "untitled:Untitled-1",
    "https://example.com/m.py",
]


@pytest.mark.parametrize("uri", URIS)
def test_file_uris_become_the_paths_pygls_gives(uri: str) -> None:
    expected = to_fs_path(uri)
    assert file_uri_to_path(uri) == (Path(expected) if expected is not None else None)
