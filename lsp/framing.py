"""LSP base-protocol framing (``Content-Length: N`` headers, a blank line, N bytes of JSON), bounded.

pygls's stdio reader trusts the header: ``Content-Length: 1000000000000000`` asks for a petabyte and
kills the process with a MemoryError, and a header it cannot read (``Content-Length: abc``) is skipped
without a word while the body that follows is read as headers, so every later message is lost.

:class:`MessageFramer` is a pure, incremental parser: bytes in, whole bodies and faults out. It never
holds more than one message of at most ``max_message_bytes`` plus one header line. A header it cannot use
(unreadable, or announcing more than the bound) is a :class:`FramingFault`; the parser then resynchronises
on the next valid ``Content-Length: N`` header wherever it appears, so the skipped body (which follows the
bad header and runs into the next header without a line break) is scanned, never stored. Scanning is safe:
a header needs real CR/LF bytes, which JSON can only carry between tokens, never next to a
``Content-Length:`` outside a string.

:func:`read_frames` drives a framer from any chunk source (stdin in a thread, or a socket).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

log = logging.getLogger(__name__)

DEFAULT_MAX_MESSAGE_BYTES = 64 * 1024 * 1024
# A header line longer than this is not a header: its bytes are dropped as they come (keeping a tail
# long enough to hold a ``Content-Length`` header that starts inside it).
MAX_HEADER_LINE_BYTES = 64 * 1024
_HEADER_TAIL_BYTES = 128
READ_CHUNK_BYTES = 64 * 1024

_CONTENT_LENGTH = re.compile(rb"content-length:[ \t]*(\d+)[ \t]*\r?\n\Z", re.IGNORECASE)
_CONTENT_LENGTH_NAME = re.compile(rb"content-length:", re.IGNORECASE)
# How much of a skipped body is kept to tell who is waiting for an answer.
SKIPPED_HEAD_BYTES = 512
# Longer than any length we accept: no need to turn a million digits into an int.
_MAX_LENGTH_DIGITS = 19


@dataclass(frozen=True)
class FramingFault:
    """A header the framer could not use; the message it belonged to is dropped. For a message over the
    limit, ``head`` holds the first bytes of its body (up to the first line break), enough to find the id
    of a request and answer it."""

    reason: str
    head: bytes = b""


Frame = bytes | FramingFault


class MessageFramer:
    """Feed it bytes as they arrive; it returns each whole message body and each fault, in order."""

    def __init__(self, max_message_bytes: int = DEFAULT_MAX_MESSAGE_BYTES) -> None:
        if max_message_bytes < 1:
            raise ValueError(f"max_message_bytes must be positive, got {max_message_bytes}")
        self.max_message_bytes = max_message_bytes
        self._buffer = bytearray()
        self._pending_length: int | None = None  # a valid Content-Length seen in the current header block
        self._body_length: int | None = None  # reading a body of this many bytes
        self._line_overflowed = False  # the current line outgrew MAX_HEADER_LINE_BYTES
        # A message over the limit: its fault waits for the head of its body (after the blank line).
        self._oversized: FramingFault | None = None
        self._capturing_head = False

    def feed(self, data: bytes) -> list[Frame]:
        self._buffer += data
        frames: list[Frame] = []
        while True:
            if self._body_length is not None:
                if len(self._buffer) < self._body_length:
                    return frames
                frames.append(bytes(self._buffer[: self._body_length]))
                del self._buffer[: self._body_length]
                self._body_length = None
                continue
            if self._capturing_head:
                fault = self._skipped_head()
                if fault is None:
                    return frames  # wait for more of the skipped body
                frames.append(fault)
            end = self._buffer.find(b"\n")
            if end < 0:
                self._drop_overlong_line_head()
                return frames
            line = bytes(self._buffer[: end + 1])
            del self._buffer[: end + 1]
            fault = self._header_line(line)
            if fault is not None:
                frames.append(fault)

    def _skipped_head(self) -> FramingFault | None:
        """The oversized message's fault with the head of its body, once enough of it is here (the bytes
        stay in the buffer: the scan for the next header goes over them)."""
        end = self._buffer.find(b"\n", 0, SKIPPED_HEAD_BYTES)
        if end < 0 and len(self._buffer) < SKIPPED_HEAD_BYTES:
            return None
        head = bytes(self._buffer[: end if end >= 0 else SKIPPED_HEAD_BYTES])
        fault, self._oversized, self._capturing_head = self._oversized, None, False
        assert fault is not None
        return FramingFault(fault.reason, head)

    def _drop_overlong_line_head(self) -> None:
        if len(self._buffer) > MAX_HEADER_LINE_BYTES:
            del self._buffer[:-_HEADER_TAIL_BYTES]
            self._line_overflowed = True

    def _header_line(self, line: bytes) -> FramingFault | None:
        overflowed, self._line_overflowed = self._line_overflowed, False
        if not line.strip():
            # The blank line ends a header block: a body follows if the block said how long it is.
            if self._pending_length is not None:
                self._body_length, self._pending_length = self._pending_length, None
            elif self._oversized is not None:
                self._capturing_head = True
            return None
        match = _CONTENT_LENGTH.search(line)
        if match:
            # A new message begins; an oversized one whose body never came is reported without a head.
            earlier = self._oversized
            self._oversized = self._content_length(match.group(1))
            return earlier
        if overflowed or _CONTENT_LENGTH_NAME.search(line):
            # Whatever this block announced can no longer be trusted: wait for the next valid header.
            self._pending_length = None
            if _CONTENT_LENGTH_NAME.search(line):
                return FramingFault(f"unreadable header {_shown(line)}; skipped to the next message")
        # Other headers (Content-Type) and leftovers of a skipped body are ignored.
        return None

    def _content_length(self, digits: bytes) -> FramingFault | None:
        """None for a usable length (pending until the blank line), else the fault of the oversized
        message, which the caller holds until the head of its body is here."""
        length = int(digits) if len(digits) <= _MAX_LENGTH_DIGITS else None
        if length is None or length > self.max_message_bytes:
            self._pending_length = None
            return FramingFault(
                f"message of {digits.decode()[:30]} bytes is over the limit of {self.max_message_bytes} bytes"
                " (roost serve --max-message-bytes); skipped to the next message"
            )
        self._pending_length = length
        return None

    @property
    def buffered_bytes(self) -> int:
        return len(self._buffer)


def _shown(line: bytes) -> str:
    text = line.strip()[:80].decode("utf-8", "replace")
    return repr(text)


def log_fault(fault: FramingFault) -> None:
    log.error("LSP framing: %s", fault.reason)


async def read_frames(
    read_chunk: Callable[[], Awaitable[bytes]],
    framer: MessageFramer,
    on_body: Callable[[bytes], None],
    should_stop: Callable[[], bool] = lambda: False,
    on_fault: Callable[[FramingFault], None] = log_fault,
) -> None:
    """Read until end of input (an empty chunk) or ``should_stop``; each body goes to ``on_body``, each
    fault to ``on_fault``, and reading goes on."""
    while not should_stop():
        chunk = await read_chunk()
        if not chunk:
            return
        for frame in framer.feed(chunk):
            if isinstance(frame, FramingFault):
                on_fault(frame)
            else:
                on_body(frame)
            if should_stop():
                return
