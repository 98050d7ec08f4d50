"""bench/crossfile_bench.py --gold-in-prompt-only (bench/gold_placement.py): with no model, why each cursor's
gold definition is or is not in the packed 'with' prompt."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))

from crossfile_bench import Project, gold_placements  # noqa: E402
from crossfile_projects import written_project  # noqa: E402
from gold_placement import (  # noqa: E402
    IN_PROMPT,
    NOT_RETRIEVED,
    QUESTIONABLE,
    TOO_LONG,
    format_placements,
    placement_counts,
)
from retrieval_bench import Case  # noqa: E402

from roost.engine.prompts.family import make_format  # noqa: E402
from roost.lsp.core.completion.prompt import FunctionCounter, PromptTools  # noqa: E402

LONG_PARAMETERS = "".join(f"    rate_{i}=0.{i},\n" for i in range(120))
FILES = {
    "shop/__init__.py": "",
    "shop/prices.py": "def net_price(amount):\n    return amount\n",
    # A long signature: its snippet costs more than a small budget's context share.
    "shop/bulk.py": f"def bulk_price(\n    amount,\n{LONG_PARAMETERS}):\n    return amount\n",
    "shop/labels.py": "def label(amount):\n    return str(amount)\n",
    "shop/app.py": (
        "from shop import prices\n"
        "from shop.bulk import bulk_price\n"
        "from shop.labels import label\n\n\n"
        "def total(amount):\n"
        "    return prices.net_price(amount)\n\n\n"
        "def big(amount):\n"
        "    return bulk_price(amount)\n"
    ),
}


def _project(tmp_path: Path) -> Project:
    return written_project(tmp_path, FILES)


def test_each_cursor_gets_the_class_of_where_its_gold_ended_up(tmp_path: Path) -> None:
    projects = {"shop": _project(tmp_path)}
    tools = PromptTools(make_format("qwen2.5-coder"), FunctionCounter(lambda t: len(t) // 3 + 1))
    in_prompt = Case("shop/app.py", 6, 18, "net_price", "shop/prices.py", 0, "def net_price(amount):")
    # Labelled with a definition of the name elsewhere, while the prompt shows one: the label is in doubt.
    questionable = Case("shop/app.py", 6, 18, "net_price", "shop/old.py", 0, "def net_price(amount):")
    # Labelled with a name nothing defines: no candidate shows it.
    missing = Case("shop/app.py", 6, 18, "gross_price", "shop/other.py", 0, "def gross_price(amount):")
    long_gold = Case("shop/app.py", 10, 11, "bulk_price", "shop/bulk.py", 0, "def bulk_price(")
    picked = [("shop", in_prompt, False), ("shop", questionable, False), ("shop", missing, False)]
    placements = gold_placements([*picked, ("shop", long_gold, True)], projects, tools, 1024)
    assert [p.placement for p in placements] == [IN_PROMPT, QUESTIONABLE, NOT_RETRIEVED, IN_PROMPT]
    # At a small budget the long function's snippet is over the whole context share; the short one fits.
    small = gold_placements([("shop", long_gold, True), picked[0]], projects, tools, 650, min_file_tokens=600)
    assert [p.placement for p in small] == [TOO_LONG, IN_PROMPT]
    assert small[0].gold_tokens > small[0].context_budget
    counts = placement_counts(placements)
    assert (counts["unseen"][IN_PROMPT], counts["unseen"][NOT_RETRIEVED], counts["all"][IN_PROMPT]) == (
        1,
        1,
        2,
    )
    assert "not retrieved" in format_placements(placements)
