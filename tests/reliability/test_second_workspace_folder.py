"""A multi-root window (VS Code with two folders): a file of the second folder completes like one of the
first.

A server served only the window's first folder and refused the others' files ("open it in a window of its
own"); it now serves every folder, each with its own index, settings and secrets, and one model
(tests/lsp/test_multi_root.py has the isolation between folders).
"""

from __future__ import annotations

from pathlib import Path

from raw_client import RawClient
from reliability_support import FakeOpenAI, fake_backend_options


def test_a_file_of_the_second_workspace_folder_completes(tmp_path: Path) -> None:
    first, second = tmp_path / "alpha", tmp_path / "beta"
    first.mkdir()
    second.mkdir()
    text = "def f():\n    return "
    with FakeOpenAI(rules=[("", "pass")]) as fake, RawClient(first) as client:
        client.initialize(fake_backend_options(fake), more_folders=(second,))
        answers = {}
        for folder in (first, second):
            uri = (folder / "job.py").resolve().as_uri()
            client.open_document(uri, text)
            answers[folder.name] = client.inline_completion(uri, 1, 11)
    assert answers["alpha"][0] == ["pass"], answers["alpha"][1]
    assert answers["beta"][0] == ["pass"], answers["beta"][1]
