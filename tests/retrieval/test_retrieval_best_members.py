"""At ``receiver.|`` the few best-fitting members can be shown in one short listing placed last (nearest
the cursor), as declarations or as calls on the receiver (``RetrievalOptions.best_members``)."""

from __future__ import annotations

import pytest
from retrieval_fixtures import request_at_marker

from roost.context.retrieval import CandidateKind, Retriever
from roost.context.retrieval.options import RetrievalOptions
from roost.context.retrieval.standalone import ParsedWorkspace

pytestmark = pytest.mark.usefixtures("half_typed_buffers")


def test_short_listing_has_the_best_fitting_members_best_last(make_project):
    # ``response = debug.`` among 41 functions: the short listing holds the 4 that fit best, the best on
    # the last line, and comes before every other item in rank (so the prompt renders it last).
    root = make_project(
        {
            "web/__init__.py": "",
            "web/debug.py": "def technical_500_response(request, exc_type, exc_value, tb):\n    return None\n\n\n"
            + "def response_for(value):\n    return None\n\n\n"
            + "".join(f"def helper_{i}(request, value):\n    return value\n\n\n" for i in range(39)),
            "web/handlers.py": "",
        }
    )
    request = request_at_marker(
        "web/handlers.py",
        """
        from web import debug


        def handle_uncaught_exception(request, resolver, exc_info):
            response = debug.<|>
        """,
    )
    options = RetrievalOptions(best_members=4, best_members_form="declaration")
    retriever = Retriever(ParsedWorkspace(root), redact=lambda text: text, options=options)
    result = retriever.retrieve(request, len, 6000, prefix_budget=4200, suffix_budget=1800)
    short = result.items[0]
    lines = short.text.splitlines()
    assert short.kind is CandidateKind.MEMBERS and len(lines) == 4
    # Both names share ``response`` with the line; the first takes what is at hand (``request``) too.
    assert lines[-1] == "def technical_500_response(request, exc_type, exc_value, tb): ..."
    assert lines[-2] == "def response_for(value): ..."
    # Written as calls on the receiver instead, ``self`` left out.
    calls = Retriever(
        ParsedWorkspace(root),
        redact=lambda text: text,
        options=RetrievalOptions(best_members=2, best_members_form="call"),
    )
    result = calls.retrieve(request, len, 6000, prefix_budget=4200, suffix_budget=1800)
    assert result.items[0].text.splitlines() == [
        "debug.response_for(value)",
        "debug.technical_500_response(request, exc_type, exc_value, tb)",
    ]
