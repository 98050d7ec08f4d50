"""Roost's JSON-RPC protocol: pygls's ``LanguageServerProtocol`` with two repairs.

* **Every request gets an answer.** pygls turns a message whose params do not fit the LSP schema (a
  position given as a string, a line of -1 or 2**40, params as a list, a missing ``textDocument``) into an
  exception raised out of its reader, which logs it and moves on: the editor's request waits forever. Here
  such a message becomes an :class:`UnreadableMessage` that :meth:`RoostProtocol.handle_message` answers
  with JSON-RPC -32602 (InvalidParams) and a readable list of what was wrong, where the id is known.
* **Notifications leave nothing behind.** See :meth:`RoostProtocol._execute_handler`.
* **Nothing but ``exit`` after ``shutdown``.** See :meth:`RoostProtocol._refused_after_shutdown`.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable, Generator
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any

import cattrs
from cattrs.v import format_exception
from lsprotocol import types
from lsprotocol.types import ResponseError
from pygls.exceptions import JsonRpcException, JsonRpcInvalidParams
from pygls.protocol import LanguageServerProtocol
from pygls.protocol.json_rpc import RPCRequest
from pygls.protocol.language_server import lsp_method

from roost.lsp.framing import FramingFault, log_fault
from roost.lsp.text_documents import is_open, with_lsp_lines

log = logging.getLogger(__name__)

INVALID_REQUEST = -32600
INVALID_PARAMS = -32602
PARSE_ERROR = -32700
# How many field problems an error message lists: enough to fix the client, short enough to read.
_MAX_PROBLEMS_SHOWN = 5


@dataclass(frozen=True)
class UnreadableMessage:
    """A message that could not be read as what its ``method`` (or response id) says it is."""

    id: int | str | None  # None for a notification, or when the id itself is unusable
    method: str
    kind: str  # "request", "notification" or "response"
    problem: str
    code: int = INVALID_PARAMS
    jsonrpc: str = "2.0"


def describe_structuring_error(error: BaseException) -> str:
    """``cattrs``'s validation tree as ``what @ $.path`` lines; a ``ValueError`` keeps its own text
    (lsprotocol's range validators say ``Position.line should be in range [0:2147483647], but was -1``)."""

    def describe(exc: BaseException, type_: Any) -> str:
        if isinstance(exc, ValueError) and not isinstance(exc, cattrs.BaseValidationError):
            return str(exc)
        return format_exception(exc, type_)

    if isinstance(error, cattrs.BaseValidationError):
        problems = cattrs.transform_error(error, format_exception=describe)
    else:
        problems = [f"{type(error).__name__}: {error}"]
    shown = "; ".join(problems[:_MAX_PROBLEMS_SHOWN])
    more = len(problems) - _MAX_PROBLEMS_SHOWN
    return shown + (f" (and {more} more)" if more > 0 else "")


def _usable_id(value: Any) -> int | str | None:
    # JSON-RPC ids are strings or integers; ``true`` is a JSON boolean, not an id.
    if isinstance(value, str) or (isinstance(value, int) and not isinstance(value, bool)):
        return value
    return None


_HEAD_ID = re.compile(rb'"id"\s*:\s*(-?\d+|"(?:[^"\\]|\\.)*")')
_HEAD_METHOD = re.compile(rb'"method"\s*:\s*("(?:[^"\\]|\\.)*")')


def _request_in_head(head: bytes) -> tuple[int | str, str] | None:
    """(id, method) of the request a skipped body begins with. Only what comes before ``"params"`` counts:
    an ``"id"`` inside the params is not the message's."""
    before_params = head.split(b'"params"', 1)[0]
    id_match, method_match = _HEAD_ID.search(before_params), _HEAD_METHOD.search(before_params)
    if id_match is None or method_match is None:
        return None
    try:
        msg_id, method = json.loads(id_match.group(1)), json.loads(method_match.group(1))
    except ValueError:
        return None
    usable = _usable_id(msg_id)
    return (usable, str(method)) if usable is not None else None


def _kind_of(data: dict[str, Any]) -> str:
    if "id" not in data:
        return "notification"
    return "request" if "method" in data else "response"


class RoostProtocol(LanguageServerProtocol):
    # The id of the ``shutdown`` request, once one has been received (see _refused_after_shutdown).
    _shutdown_request_id: int | str | None = None
    _shutdown_requested = False

    # -- positions are UTF-16 ---------------------------------------------------------------------
    @lsp_method(types.INITIALIZE)
    def lsp_initialize(self, params: types.InitializeParams) -> Generator[Any, Any, types.InitializeResult]:
        """pygls' initialize, with UTF-16 as the only position encoding on offer. Roost counts every column
        it reads or sends in UTF-16 code units (cursor offsets, edit ranges, diagnostics), the encoding
        every client must support; pygls would otherwise take the client's first choice (Neovim >= 0.10
        offers utf-8 first), and every position after a non-ASCII character would then be misread."""
        general = params.capabilities.general
        if general is not None and general.position_encodings is not None:
            general.position_encodings = [types.PositionEncodingKind.Utf16]
        result = yield from super().lsp_initialize(params)
        # pygls made its workspace in there; no document can be open before initialize is answered.
        self._workspace = with_lsp_lines(self.workspace)
        return result

    @lsp_method(types.TEXT_DOCUMENT_DID_CHANGE)
    def lsp_text_document__did_change(
        self, params: types.DidChangeTextDocumentParams
    ) -> Generator[Any, Any, None]:
        """pygls' didChange, except that a change of a document the editor never opened (or closed: a
        client's slip) is logged and dropped; pygls raised a KeyError, which the user saw as a server error
        on every keystroke."""
        uri = params.text_document.uri
        if not is_open(self.workspace, uri):
            log.warning("didChange of %s, which the editor has not opened; ignored", uri)
            return
        yield from super().lsp_text_document__did_change(params)

    # -- every request gets an answer -------------------------------------------------------------
    def handle_body(self, body: bytes) -> None:
        """One framed message body, from :mod:`roost.lsp.framing`: decoded, read and dispatched; nothing it
        contains can raise out of here (the reader must keep reading)."""
        try:
            data = json.loads(body)
        except (ValueError, RecursionError) as exc:  # not UTF-8, not JSON, or nested too deep
            self.answer_parse_error(str(exc)[:200])
            return
        try:
            self.handle_message(self.structure_top_level(data))
        except Exception as exc:  # noqa: BLE001 - logged and reported; the next message is read as usual
            log.exception("could not handle a message")
            self._server._report_server_error(exc, JsonRpcException)

    def structure_message(self, data: dict[str, Any]) -> Any:
        """pygls's structuring, except that a message it cannot read comes back as an
        :class:`UnreadableMessage` instead of an exception that loses the request's id."""
        if "jsonrpc" not in data:
            # pygls calls this for every JSON object of a message (``json.loads``'s object_hook), inner
            # ones first: an object without ``jsonrpc`` is part of a message, left as it is.
            return data
        try:
            return super().structure_message(data)
        except Exception as exc:  # noqa: BLE001 - whatever the structuring raised, the client hears why
            cause = exc.__cause__ or exc
            return UnreadableMessage(
                id=_usable_id(data.get("id")),
                method=str(data.get("method", "")),
                kind=_kind_of(data),
                problem=describe_structuring_error(cause),
            )

    def structure_top_level(self, data: Any) -> Any:
        """A whole decoded message, as the stdio reader hands it over: anything that is not one JSON-RPC
        2.0 object is an invalid request (batches are not part of LSP)."""
        if not isinstance(data, dict):
            return UnreadableMessage(
                None, "", "request", f"expected one JSON object, got {type(data).__name__}", INVALID_REQUEST
            )
        if data.get("jsonrpc") != self.VERSION:
            return UnreadableMessage(
                _usable_id(data.get("id")),
                str(data.get("method", "")),
                _kind_of(data),
                f'"jsonrpc" must be "{self.VERSION}"',
                INVALID_REQUEST,
            )
        return self.structure_message(data)

    def handle_message(self, message: Any) -> None:
        if isinstance(message, UnreadableMessage):
            self._answer_unreadable(message)
            return
        if self._refused_after_shutdown(message):
            return
        super().handle_message(message)

    @property
    def shutdown_requested(self) -> bool:
        """Whether the client has sent ``shutdown`` (answered or not yet)."""
        return self._shutdown_requested

    # -- nothing but exit after shutdown ----------------------------------------------------------
    def _refused_after_shutdown(self, message: Any) -> bool:
        """Whether ``message`` was answered or dropped here because ``shutdown`` came before it. LSP: a
        request after ``shutdown`` errors with InvalidRequest, and ``exit`` is what follows. pygls 2.1.1
        gets this wrong both ways: until the shutdown hooks are done (the engine's worker joined, which
        may take a forward pass) it serves requests against services being closed, and lets a
        ``$/cancelRequest`` cancel the shutdown itself (answered "cancelled", its hooks run, the server
        never counts as shut down); once it has answered, it drops requests without a word (the client's
        request waits for good). So from the ``shutdown`` request on: requests get InvalidRequest,
        notifications other than ``exit`` are dropped, except that a ``$/cancelRequest`` may still end a
        request that was running before the shutdown; responses to the server's own requests pass."""
        method = getattr(message, "method", None)
        if method is None:  # a response to one of the server's requests
            return False
        if not self._shutdown_requested:
            if method == types.SHUTDOWN and isinstance(message, RPCRequest):
                self._shutdown_requested, self._shutdown_request_id = True, message.id
            return False
        if method == types.EXIT:
            return False
        if isinstance(message, RPCRequest):
            log.info("request %r (id %r) after shutdown: answered InvalidRequest", method, message.id)
            self._send_error(message.id, INVALID_REQUEST, f"{method}: the server is shutting down")
            return True
        if (
            method == types.CANCEL_REQUEST
            and getattr(message.params, "id", None) != self._shutdown_request_id
        ):
            return False
        log.info("notification %r after shutdown: dropped", method)
        return True

    def _answer_unreadable(self, message: UnreadableMessage) -> None:
        log.warning("unreadable %s %r (id %r): %s", message.kind, message.method, message.id, message.problem)
        if message.kind == "notification":
            return  # nobody waits for an answer
        if message.kind == "response":
            # A reply to one of our requests that does not fit its result type: fail the waiting future
            # rather than leave whoever awaits it hanging.
            future = None
            if message.id is not None:
                future = self._request_futures.pop(message.id, None)
                self._result_types.pop(message.id, None)
            if future is not None and not future.done():
                future.set_exception(JsonRpcInvalidParams(f"unreadable response: {message.problem}"))
            return
        label = f"{message.method}: " if message.method else ""
        text = (
            f"{label}invalid params: {message.problem}"
            if message.code == INVALID_PARAMS
            else label + message.problem
        )
        self._send_error(message.id, message.code, text)

    def handle_framing_fault(self, fault: FramingFault) -> None:
        """A message the framing skipped: logged, and answered when its head shows a request (an id and a
        method before the params), since its sender would wait forever."""
        log_fault(fault)
        request = _request_in_head(fault.head)
        if request is not None:
            msg_id, method = request
            self._send_error(msg_id, INVALID_REQUEST, f"{method}: {fault.reason}")

    def answer_parse_error(self, problem: str) -> None:
        """A body that is not JSON: JSON-RPC answers it with -32700 and a null id."""
        log.warning("message is not JSON: %s", problem)
        self._send_error(None, PARSE_ERROR, f"parse error: {problem}")

    def _send_error(self, msg_id: int | str | None, code: int, message: str) -> None:
        if msg_id is None:
            # JSON-RPC answers a message whose id is unknown with ``"id": null``, which pygls's
            # response type would leave out.
            self._send_data(
                {"jsonrpc": self.VERSION, "id": None, "error": {"code": code, "message": message}}
            )
            return
        self._send_response(msg_id, error=ResponseError(code=code, message=message))

    # -- notifications leave nothing behind -------------------------------------------------------
    def _execute_handler(
        self,
        msg_id: Any,
        handler: Any,
        callback: Callable[[Future[Any]], None],
        args: tuple[Any, ...] | None = None,
        kwargs: dict[str, Any] | None = None,
    ) -> None:
        """pygls 2.1.1 files the future of every async, threaded or generator handler under its message
        id in ``_request_futures``, and only the response path of a *request* removes it: each
        notification (every ``didChange`` keystroke) and each step of a generator handler leaves a
        finished future there for good (+1,000 entries per 1,000 keystrokes). Forget the future as soon as
        it is done. Remove this override when pygls drops finished notification futures itself (check
        ``JsonRPCProtocol._check_handler_result`` / ``_execute_handler`` after upgrading pygls past 2.1.1;
        ``tests/reliability/test_notification_futures_bounded.py`` says whether it is still needed)."""

        def forget_then_callback(future: Future[Any]) -> None:
            # Only this future: a client may reuse an id once its request has been answered.
            if self._request_futures.get(msg_id) is future:
                self._request_futures.pop(msg_id, None)
            callback(future)

        super()._execute_handler(msg_id, handler, forget_then_callback, args, kwargs)

    def held_futures(self) -> int:
        """How many handler futures pygls holds (requests in flight, and leaks if any)."""
        return len(self._request_futures)
