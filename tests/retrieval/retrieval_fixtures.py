"""Helpers shared by the retrieval tests (imported by name: the test folder is on ``sys.path``)."""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from pathlib import Path

from roost.context.retrieval import RetrievalRequest, Retriever
from roost.context.retrieval.standalone import ParsedWorkspace


def request_at_marker(path: str, text: str, marker: str = "<|>") -> RetrievalRequest:
    """A request whose cursor sits where ``marker`` is in ``text`` (the marker removed)."""
    text = textwrap.dedent(text).lstrip("\n")
    offset = text.index(marker)
    text = text.replace(marker, "", 1)
    line = text.count("\n", 0, offset)
    col = offset - (text.rfind("\n", 0, offset) + 1)
    return RetrievalRequest(path, text, line, col)


def retriever_for(root: Path, redact: Callable[[str], str] = lambda text: text) -> Retriever:
    return Retriever(ParsedWorkspace(root), redact=redact)
