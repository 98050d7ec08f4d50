"""Issue "quality", edits: the edited range is all a proposal touches. An edit block that changes the
selection's own file outside the selection is not applied (adding an import the new code needs is)."""

from __future__ import annotations

from pathlib import Path

from roost.engine.gate.gate import Gate
from roost.lsp.core.model_edits import Proposal, build_proposal
from roost.lsp.core.workspace_documents import Documents, OpenDocument, Snapshot

TEXT = "import os\n\n\ndef keep():\n    return 1\n\n\ndef area(r):\n    return 3.14 * r * r\n"


def _proposal(answer: str) -> Proposal:
    snapshot = Snapshot("m.py", TEXT, 1, "python")
    root = Path("/w")
    documents = Documents(
        root, lambda path: OpenDocument(TEXT, 1, "python") if path == root / "m.py" else None
    )
    start = TEXT.index("def area")
    return build_proposal(answer, documents, snapshot, (start, len(TEXT)), Gate())


def test_a_block_outside_the_selection_is_not_applied() -> None:
    answer = (
        "m.py\n<<<<<<< SEARCH\ndef keep():\n    return 1\n=======\ndef keep():\n    return 2\n>>>>>>> REPLACE\n"
        "m.py\n<<<<<<< SEARCH\n    return 3.14 * r * r\n=======\n    return 3.14159 * r * r\n>>>>>>> REPLACE\n"
    )
    proposal = _proposal(answer)
    (edit,) = proposal.edits
    assert edit.apply() == TEXT.replace("3.14 *", "3.14159 *")
    assert any("outside the selection" in problem for problem in proposal.problems)


def test_an_added_import_is_allowed() -> None:
    answer = (
        "m.py\n<<<<<<< SEARCH\nimport os\n=======\nimport math\nimport os\n>>>>>>> REPLACE\n"
        "m.py\n<<<<<<< SEARCH\n    return 3.14 * r * r\n=======\n    return math.pi * r * r\n>>>>>>> REPLACE\n"
    )
    (edit,) = _proposal(answer).edits
    assert edit.apply() == "import math\n" + TEXT.replace("3.14 *", "math.pi *")
