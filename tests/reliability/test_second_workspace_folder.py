"""A multi-root window (VS Code with two folders): a file of the second folder is refused with what to do.

A server serves the window's first folder (its index, its roost.toml, its secrets). A file of another folder
was refused as "outside the workspace", which reads like a bug to a user who opened that folder in the same
window; the refusal now names the folder, the one served, and what to do (found by the clients session).
"""

from __future__ import annotations

from pathlib import Path

from raw_client import RawClient
from reliability_support import FakeOpenAI, fake_backend_options


def test_a_file_of_the_second_workspace_folder_is_refused_with_what_to_do(tmp_path: Path) -> None:
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
    texts, details = answers["beta"]
    assert texts == [] and details["source"] == "refused", details
    assert "workspace folder beta" in details["message"] and "alpha" in details["message"], details["message"]
    assert "window of its own" in details["message"], details["message"]
