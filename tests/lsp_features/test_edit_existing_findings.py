"""An edit not asked to fix findings ("add a docstring", "add type hints") is not refused for a finding
its selection already had, on a line it keeps as it was. Found driving the server: "Roost: add a
docstring" on ``def run(cmd): return subprocess.call(cmd, shell=True)`` was refused every time ("an edit
was blocked by the security gate"): the rewritten selection repeats the flagged line. A finding the edit
writes is still refused, and so is any finding where the request is about findings (a security fix)."""

from __future__ import annotations

from pathlib import Path

from roost.engine.gate.gate import Gate
from roost.lsp.core.model_edits import Proposal, build_proposal
from roost.lsp.core.workspace_documents import Documents, OpenDocument, Snapshot

TEXT = "import os\nimport subprocess\n\n\ndef run(cmd):\n    return subprocess.call(cmd, shell=True)\n"
DOCUMENTED = 'def run(cmd):\n    """Run a shell command."""\n    return subprocess.call(cmd, shell=True)\n'
WORSE = 'def run(cmd):\n    """Run a shell command."""\n    os.system(cmd)\n    return subprocess.call(cmd, shell=True)\n'


def _proposal(answer: str, tolerate: bool) -> Proposal:
    root = Path("/w")
    documents = Documents(
        root, lambda path: OpenDocument(TEXT, 1, "python") if path == root / "m.py" else None
    )
    start = TEXT.index("def run")
    return build_proposal(
        f"```python\n{answer}```",
        documents,
        Snapshot("m.py", TEXT, 1, "python"),
        (start, len(TEXT)),
        Gate(),
        tolerate_existing_findings=tolerate,
    )


def test_a_finding_the_selection_had_does_not_refuse_a_docstring() -> None:
    proposal = _proposal(DOCUMENTED, tolerate=True)
    (edit,) = proposal.edits
    assert edit.apply() == TEXT.replace("def run(cmd):\n", 'def run(cmd):\n    """Run a shell command."""\n')
    assert any("B602" in finding for finding in proposal.findings), "still shown"


def test_a_finding_the_edit_writes_is_refused() -> None:
    proposal = _proposal(WORSE, tolerate=True)
    assert not proposal.edits
    assert any("blocked by the security gate" in problem for problem in proposal.problems)


def test_a_request_about_findings_is_refused_for_any() -> None:
    assert not _proposal(DOCUMENTED, tolerate=False).edits
