"""bench/crossfile_bench.py's --model and --only: which server configuration a run uses and which of the
picked cursors it scores."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))

from crossfile_bench import bench_config, select_cursors  # noqa: E402
from retrieval_bench import Case  # noqa: E402

from roost.lsp.config import RoostConfig  # noqa: E402


def _pick(name: str, seen: bool) -> tuple[str, Case, bool]:
    return ("p", Case("pkg/a.py", 1, 4, name, "pkg/b.py", 0, f"def {name}():"), seen)


def test_the_default_is_the_products_configuration() -> None:
    assert bench_config() == RoostConfig()


def test_model_sets_model_name_and_nothing_else() -> None:
    config = bench_config("default-1.5b")
    assert config.model.name == "default-1.5b"
    # Same prompt settings as the 0.5B baseline: only the model differs between the two runs.
    assert config.completion == RoostConfig().completion
    assert config.context == RoostConfig().context
    assert config.backend == RoostConfig().backend


def test_suffix_first_is_applied_with_the_model() -> None:
    config = bench_config("default-1.5b", suffix_first=False)
    assert config.model.name == "default-1.5b"
    assert config.completion.suffix_first is False


def test_select_cursors_keeps_one_group_in_pick_order() -> None:
    picked = [_pick("u1", False), _pick("s1", True), _pick("u2", False), _pick("s2", True)]
    assert [case.name for _, case, _ in select_cursors(picked, "unseen")] == ["u1", "u2"]
    assert [case.name for _, case, _ in select_cursors(picked, "seen")] == ["s1", "s2"]
    assert select_cursors(picked, None) == picked
