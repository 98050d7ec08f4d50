"""At ``receiver.▮`` retrieval also says how well each name the receiver offers fits the line being typed
(the start choices' prior): words shared with the line and the lines above, a class where the line wants
one, private names lower; nothing away from ``receiver.▮``."""

from __future__ import annotations

import pytest
from retrieval_fixtures import request_at_marker, retriever_for

from roost.context.retrieval.model import RetrievalResult

pytestmark = pytest.mark.usefixtures("half_typed_buffers")

FILES = {
    "jobs/__init__.py": "",
    "jobs/tasks.py": (
        "class Job:\n    pass\n\n\ndef gather(*parts):\n    return parts\n\n\n"
        "def wait_all(part):\n    return part\n\n\ndef _reset():\n    pass\n"
    ),
}


def _fits(make_project, source: str) -> dict[str, float]:
    root = make_project({**FILES, "app.py": ""})
    result: RetrievalResult = retriever_for(root).retrieve(request_at_marker("app.py", source), len, 6000)
    assert len(result.member_fits) == len(result.member_names)
    return dict(zip(result.member_names, result.member_fits, strict=True))


def test_a_name_sharing_a_word_with_the_line_fits_better(make_project) -> None:
    fits = _fits(make_project, "from jobs import tasks\n\nresults = tasks.<|>\n")
    assert fits["gather"] == fits["wait_all"] == 0.0 and fits["_reset"] < 0.0
    fits = _fits(make_project, "from jobs import tasks\n\nwait_result = tasks.<|>\n")
    assert fits["wait_all"] > fits["gather"] == 0.0


def test_a_class_fits_where_the_line_wants_one_and_the_typed_fragment_counts_for_none(make_project) -> None:
    fits = _fits(make_project, "from jobs import tasks\n\nif isinstance(x, tasks.<|>\n")
    assert fits["Job"] > 0.0 > fits["gather"]
    # ``wait`` typed: every offered name starts with it, so it is no word of the line.
    fits = _fits(make_project, "from jobs import tasks\n\nx = tasks.wait<|>\n")
    assert fits["wait_all"] == 0.0


def test_no_fits_away_from_a_receiver(make_project) -> None:
    assert _fits(make_project, "from jobs import tasks\n\nresult = <|>\n") == {}
