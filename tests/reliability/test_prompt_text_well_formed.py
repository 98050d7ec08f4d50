"""A prompt holds only text a backend can encode: a document whose file name is not UTF-8 (``caf%E9.py``:
the path Roost names in the prompt comes out of ``os.fsdecode`` with lone surrogates) or whose text holds a
lone surrogate (JSON lets an editor send ``"\\ud800"``) still gets its completion.

Before: the HTTP backend's request body could not be encoded ("surrogates not allowed"), the completion
failed and the client got nothing (found by the index robustness session). Lone surrogates now reach the
model as U+FFFD, one character for one, so offsets within the prompt's parts stay as they were.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from raw_client import RawClient
from reliability_support import FakeOpenAI, fake_backend_options


def _complete(root: Path, uri: str, text: str, line: int, character: int) -> tuple[list[str], dict, list]:
    with FakeOpenAI(rules=[("", "pass")]) as fake, RawClient(root) as client:
        client.initialize(fake_backend_options(fake))
        client.open_document(uri, text)
        texts, details = client.inline_completion(uri, line, character)
        bodies = [json.dumps(request) for request in fake.requests]
    return texts, details, bodies


@pytest.mark.parametrize("blank", [False, True], ids=["code", "blank file"])
def test_a_file_name_that_is_not_utf8_gets_completions(tmp_path: Path, blank: bool) -> None:
    root = tmp_path / "ws"
    (root / "pkg").mkdir(parents=True)
    text = "" if blank else "def f():\n    return "
    # The file is on disk under its raw bytes, as a Latin-1 system or an archive made it.
    (root / "pkg" / "caf\udce9_\udcff.py").write_bytes(text.encode())
    uri = (root / "pkg").as_uri() + "/caf%E9_%FF.py"
    texts, details, bodies = _complete(root, uri, text, 0 if blank else 1, 0 if blank else 11)
    assert details["source"] != "refused", details["message"]
    assert "error" not in details["source"], details
    assert texts == ["pass"], details
    assert bodies, "the backend was never asked"


def test_a_lone_surrogate_in_the_document_reaches_the_model_as_a_replacement_character(
    tmp_path: Path,
) -> None:
    root = tmp_path / "ws"
    root.mkdir()
    uri = (root / "m.py").as_uri()
    text = 'NAME = "\ud800"\ndef f():\n    return '
    texts, details, bodies = _complete(root, uri, text, 2, 11)
    assert texts == ["pass"], details
    assert any("\\ufffd" in body for body in bodies), bodies
