"""A small project written to disk as crossfile_bench's :class:`Project` (its retriever warmed, no labels),
for the bench's no-model modes' tests."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))

from crossfile_bench import Project  # noqa: E402

from roost.context.retrieval import Retriever  # noqa: E402
from roost.context.retrieval.standalone import ParsedWorkspace  # noqa: E402


def written_project(root: Path, files: dict[str, str]) -> Project:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    retriever = Retriever(ParsedWorkspace(root, files=list(files)), redact=lambda text: text)
    retriever.warm()
    return Project(root, retriever, {})
