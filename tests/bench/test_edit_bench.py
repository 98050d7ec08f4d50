"""bench/edit_bench.py keeps what each path's model answered, so a task one path loses can be read: the
product's turns from the server's fix-up store, the replacement of the selection, chunked runs joined."""

from __future__ import annotations

import json
import sys
from dataclasses import asdict
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))

from edit_bench import Task, _session_turns, print_report, report_from, score, write_answers  # noqa: E402

from roost.lsp.core.fixups.store import FixupSession, FixupStore  # noqa: E402

BEFORE = "import math\n\n\n"
SELECTION = "def area(r):\n    return math.pi * r\n"
AFTER = "\n\nprint(area(1))\n"
TEST = "def check(candidate):\n    assert abs(candidate(2) - 4 * 3.141592653589793) < 1e-9\n"


def _task() -> Task:
    text = BEFORE + SELECTION + AFTER
    return Task("fix", "HumanEval/0", text, len(BEFORE), len(BEFORE) + len(SELECTION), TEST, "area")


def test_score_keeps_the_answer_and_what_replaced_the_selection() -> None:
    task = _task()
    fixed = "def area(r):\n    return math.pi * r * r\n"
    result = score(task, BEFORE + fixed + AFTER, False, 1.0, answer=f"```python\n{fixed}```")
    assert result.passed and not result.outside_selection_changed
    assert result.replacement == fixed
    assert result.answer.startswith("```python")


def test_the_product_answers_are_read_from_the_fixup_store_with_every_turn(tmp_path: Path) -> None:
    store = FixupStore(tmp_path / "fixups.sqlite3")
    session = FixupSession(id="s1", root=str(tmp_path), path="a.py", range={}, instruction="fix the bug")
    session.turns = [("fix the bug", "first answer"), ("Your answer does not parse: …", "second answer")]
    store.save(session)
    turns = _session_turns(store, "s1")
    assert "turn 1: fix the bug\nfirst answer" in turns
    assert "turn 2: Your answer does not parse" in turns and turns.endswith("second answer")
    assert _session_turns(store, "") == "" and _session_turns(store, "missing") == ""


def test_answers_are_written_side_by_side_and_chunks_report_as_one(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    task = _task()
    product = score(task, task.text, True, 2.0, "refused: would no longer parse", "--- turn 1: fix\n```py")
    raw = score(task, BEFORE + "def area(r):\n    return math.pi * r * r\n" + AFTER, False, 1.0, answer="ok")
    write_answers(tmp_path / "answers", [task], [product], [raw])
    (written,) = (tmp_path / "answers").iterdir()
    text = written.read_text()
    assert "## product (passed=False" in text and "refused: would no longer parse" in text
    assert "## raw (passed=True" in text and "math.pi * r * r" in text

    chunks = []
    for number, (mine, other) in enumerate([([product], []), ([], [raw])]):
        chunk = tmp_path / f"chunk{number}.json"
        chunk.write_text(
            json.dumps({"product": [asdict(r) for r in mine], "raw": [asdict(r) for r in other]})
        )
        chunks.append(str(chunk))
    assert report_from(chunks) == 0
    report = capsys.readouterr().out
    assert "fix          1  product" in report and "fix          1  raw" in report
    assert "HumanEval/0: only raw passes" in report
    print_report([], [])  # nothing measured prints only the header


def test_whether_the_code_changed_is_kept_and_reported(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # "No applicable change" and a copy with only its layout changed are the same code; a fix is not.
    task = _task()
    assert score(task, task.text, True, 1.0).code_changed is False
    relaid = BEFORE + "def area(r):\n\n    return math.pi * r\n" + AFTER
    assert score(task, relaid, False, 1.0).code_changed is False
    fixed = score(task, BEFORE + "def area(r):\n    return math.pi * r * r\n" + AFTER, False, 1.0)
    assert fixed.code_changed is True
    # A --json file written before the field was kept reports "-" for it, not a count.
    older = {key: value for key, value in asdict(fixed).items() if key != "code_changed"}
    chunk = tmp_path / "older.json"
    chunk.write_text(json.dumps({"product": [asdict(fixed)], "raw": [older]}))
    assert report_from([str(chunk)]) == 0
    lines = capsys.readouterr().out.split("\n")
    assert "1/1  p50" in next(line for line in lines if "product" in line and "fix" in line)
    assert " -  p50" in next(line for line in lines if " raw " in line)
