"""A server error whose report cannot be sent (the client gone: stdout closed by ``exit`` while cancelled
requests still answer) is logged once. pygls reports a failed send as a new server error, so reporting
that one to the client as well recursed until the interpreter's recursion limit, each level formatting
a longer traceback: minutes of CPU in a server that was exiting."""

from __future__ import annotations

from pygls.exceptions import JsonRpcInternalError

from roost.lsp.server import create_server


class ClosedOutput:
    def __init__(self) -> None:
        self.writes = 0

    def write(self, data: bytes) -> None:
        self.writes += 1
        raise ValueError("I/O operation on closed file")

    def close(self) -> None:
        pass


def test_a_report_that_cannot_be_sent_is_not_reported_again() -> None:
    server = create_server()
    output = ClosedOutput()
    server.protocol.set_writer(output)
    server.report_server_error(ValueError("I/O operation on closed file"), JsonRpcInternalError)
    assert output.writes == 1  # the one attempt to show the error; its failure is only logged
    server.report_server_error(ValueError("another failure"), JsonRpcInternalError)
    assert output.writes == 2  # and the next error is reported again
