"""bench/crossfile_bench.py --choice-coverage: at the picked ``receiver.▮`` cursors, how many are held to the
receiver's names and at how many the gold is not one of them (no model); --only guessed: the cursors held to
an untyped receiver's guessed classes' names."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))

from crossfile_bench import Project, choice_coverage, format_coverage, held_by_guess  # noqa: E402
from crossfile_projects import written_project  # noqa: E402
from retrieval_bench import Case  # noqa: E402

FILES = {
    "shop/__init__.py": "",
    "shop/prices.py": "def net_price(amount):\n    return amount\n",
    "shop/app.py": (
        "from shop import prices\n\n\n"
        "def total(amount):\n"
        "    return prices.net_price(amount)\n\n\n"
        "def label(amount):\n"
        "    return str(amount)\n\n\n"
        "def pipe(reader):\n"
        "    reader.feed_data(b'')\n"
        "    reader.feed_eof()\n"
    ),
    "shop/streams.py": (
        "class StreamReader:\n    def feed_data(self, data):\n        pass\n\n"
        "    def feed_eof(self):\n        pass\n"
    ),
}


def _project(tmp_path: Path) -> Project:
    return written_project(tmp_path, FILES)


def _case(line: int, col: int, name: str) -> Case:
    return Case("shop/app.py", line, col, name, "shop/prices.py", 0, "def net_price(amount):")


def test_counts_receiver_cursors_those_held_to_names_and_those_that_shut_the_gold_out(tmp_path: Path) -> None:
    projects = {"shop": _project(tmp_path)}
    picked = [
        (
            "shop",
            _case(4, 18, "net_price"),
            False,
        ),  # ``prices.▮net_price``: a module's names, gold among them
        ("shop", _case(4, 18, "gross_price"), True),  # the same cursor labelled with a name it does not offer
        ("shop", _case(8, 11, "str"), False),  # not after ``receiver.``: not counted
    ]
    coverage = choice_coverage(picked, projects)
    assert (coverage["unseen"].cursors, coverage["unseen"].constrained, coverage["unseen"].gold_excluded) == (
        1,
        1,
        0,
    )
    assert (coverage["seen"].cursors, coverage["seen"].constrained, coverage["seen"].gold_excluded) == (
        1,
        1,
        1,
    )
    assert (coverage["all"].cursors, coverage["all"].constrained, coverage["all"].gold_excluded) == (2, 2, 1)
    assert "gold excluded 1" in format_coverage(coverage)


def test_guessed_cursors_are_those_whose_names_come_from_an_untyped_receivers_guess(tmp_path: Path) -> None:
    project = _project(tmp_path)
    # ``reader`` is an untyped parameter; its name and the ``feed_data`` used on it point at StreamReader.
    assert held_by_guess(project, _case(13, 11, "feed_eof"))
    assert not held_by_guess(project, _case(4, 18, "net_price"))  # a typed receiver: the module
    assert not held_by_guess(project, _case(8, 11, "str"))  # not after ``receiver.``
