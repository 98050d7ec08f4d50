"""bench/crossfile_bench.py's --member-choices: 'with' sends the prompt's start choices as the server does
(completion.member_choices), and a saved run from before the option still loads."""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))

from crossfile_bench import bench_config, load_results  # noqa: E402

from roost.lsp.config import RoostConfig  # noqa: E402


def test_member_choices_follow_the_product_unless_set() -> None:
    assert bench_config().completion.member_choices is RoostConfig().completion.member_choices
    off = bench_config(member_choices=False)
    assert off.completion.member_choices is False
    assert off.completion.suffix_first == RoostConfig().completion.suffix_first


def test_a_run_saved_before_start_choices_were_recorded_loads(tmp_path: Path) -> None:
    answer = {
        "suggestion": "x",
        "exact": False,
        "identifier": False,
        "prompt_tokens": 10,
        "name_in_prompt": False,
        "gold_in_prompt": False,
        "context_items": 0,
        "seconds": 1.0,
    }
    case = {
        "project": "p", "file": "a.py", "line": 1, "col": 2, "name": "n", "gold_path": "b.py", "gold_line": 0,
        "seen": False, "target": "n()", "line_before": "x.", "answers": {"1024": {"with": answer, "without": answer}},
    }  # fmt: skip
    saved = tmp_path / "old.json"
    saved.write_text(json.dumps({"args": {}, "cases": [case]}))
    (result,) = load_results([str(saved)])
    assert result.answers["1024"]["with"].start_choices == 0
