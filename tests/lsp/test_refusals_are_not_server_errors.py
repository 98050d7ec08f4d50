"""A request a handler refuses on purpose (JsonRpcInvalidParams with the reason: "no applicable change",
a path outside the workspace, an unknown fix-up session) is answered with that error and logged as a
refusal; it is not a server fault. Found driving the server: every refused code action logged "server error
from FeatureRequestError" with a traceback at ERROR, which the server forwards to the editor's output."""

from __future__ import annotations

import logging

import pytest
from pygls.exceptions import FeatureRequestError, JsonRpcInvalidParams

from roost.lsp.server import create_server


class Output:
    def __init__(self) -> None:
        self.writes = 0

    def write(self, data: bytes) -> None:
        self.writes += 1

    def close(self) -> None:
        pass


def test_a_refusal_is_logged_as_information(caplog: pytest.LogCaptureFixture) -> None:
    server = create_server()
    output = Output()
    server.protocol.set_writer(output)
    with caplog.at_level(logging.DEBUG, logger="roost"):
        server.report_server_error(
            JsonRpcInvalidParams("Roost: add a docstring: no applicable change"), FeatureRequestError
        )
    assert not [r for r in caplog.records if r.name.startswith("roost") and r.levelno >= logging.WARNING]
    assert any("no applicable change" in r.getMessage() for r in caplog.records)
    assert output.writes == 0


def test_a_failure_is_still_a_server_error(caplog: pytest.LogCaptureFixture) -> None:
    server = create_server()
    server.protocol.set_writer(Output())
    with caplog.at_level(logging.DEBUG, logger="roost"):
        server.report_server_error(ValueError("boom"), FeatureRequestError)
    (error,) = [r for r in caplog.records if r.name.startswith("roost") and r.levelno >= logging.ERROR]
    assert "server error" in error.getMessage() and "ValueError: boom" in error.getMessage()
