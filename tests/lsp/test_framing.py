"""The bounded LSP framing parser (roost.lsp.framing.MessageFramer), byte by byte."""

from __future__ import annotations

from roost.lsp.framing import MAX_HEADER_LINE_BYTES, FramingFault, MessageFramer


def frame(body: bytes) -> bytes:
    return b"Content-Length: %d\r\n\r\n" % len(body) + body


def bodies(frames: list) -> list[bytes]:
    return [f for f in frames if isinstance(f, bytes)]


def faults(frames: list) -> list[FramingFault]:
    return [f for f in frames if isinstance(f, FramingFault)]


def test_whole_messages_split_anywhere_come_out_whole_and_in_order() -> None:
    stream = frame(b'{"a":1}') + frame(b'{"b":2}')
    framer = MessageFramer(100)
    out: list = []
    for byte in stream:
        out += framer.feed(bytes([byte]))
    assert out == [b'{"a":1}', b'{"b":2}']


def test_other_headers_are_ignored() -> None:
    framer = MessageFramer(100)
    out = framer.feed(
        b"Content-Length: 2\r\nContent-Type: application/vscode-jsonrpc; charset=utf-8\r\n\r\n{}"
    )
    assert out == [b"{}"]


def test_an_oversized_length_is_a_fault_and_the_next_header_resynchronises() -> None:
    framer = MessageFramer(100)
    skipped = b'{"jsonrpc":"2.0","method":"x","params":{"text":"' + b"a" * 150 + b'"}}'
    out = framer.feed(b"Content-Length: 1000000000000000\r\n\r\n" + skipped + frame(b'{"ok":1}'))
    assert bodies(out) == [b'{"ok":1}']
    assert len(faults(out)) == 1 and "over the limit of 100 bytes" in faults(out)[0].reason


def test_a_length_with_a_million_digits_is_not_turned_into_an_int() -> None:
    framer = MessageFramer(100)
    out = framer.feed(b"Content-Length: " + b"9" * 1_000 + b"\r\n\r\n" + frame(b"{}"))
    assert bodies(out) == [b"{}"] and len(faults(out)) == 1


def test_a_non_numeric_length_is_a_fault_and_the_next_header_resynchronises() -> None:
    framer = MessageFramer(100)
    out = framer.feed(b"Content-Length: abc\r\n\r\n" + b'{"lost":true}' + frame(b'{"ok":1}'))
    assert bodies(out) == [b'{"ok":1}']
    assert "unreadable header 'Content-Length: abc'" in faults(out)[0].reason


def test_a_header_inside_a_skipped_json_string_is_not_taken_for_a_real_one() -> None:
    # JSON escapes CR/LF inside strings, so the text of a header inside a body never matches.
    framer = MessageFramer(1000)
    skipped = b'{"text":"Content-Length: 3\\r\\n\\r\\nabc"}'
    out = framer.feed(b"Content-Length: x\r\n\r\n" + skipped + frame(b'{"ok":1}'))
    assert bodies(out) == [b'{"ok":1}']


def test_an_endless_line_is_dropped_as_it_comes_and_memory_stays_bounded() -> None:
    framer = MessageFramer(100)
    for _ in range(50):
        assert framer.feed(b"x" * 65536) == []
        assert framer.buffered_bytes <= MAX_HEADER_LINE_BYTES + 65536
    # A header glued to the end of the junk still counts.
    assert bodies(framer.feed(b"Content-Length: 2\r\n\r\n{}")) == [b"{}"]


def test_a_body_at_the_limit_is_accepted() -> None:
    framer = MessageFramer(10)
    assert framer.feed(frame(b"0123456789")) == [b"0123456789"]
    out = framer.feed(frame(b"01234567890") + frame(b"{}"))
    assert len(faults(out)) == 1 and bodies(out) == [b"{}"]


def test_an_oversized_message_reports_the_head_of_its_body() -> None:
    framer = MessageFramer(50)
    body = (
        b'{"jsonrpc":"2.0","id":7,"method":"workspace/executeCommand","params":{"x":"' + b"a" * 200 + b'"}}'
    )
    out = framer.feed(frame(body) + frame(b'{"ok":1}'))
    (fault,) = faults(out)
    assert fault.head.startswith(b'{"jsonrpc":"2.0","id":7,"method"') and len(fault.head) <= 512
    assert bodies(out) == [b'{"ok":1}']


def test_an_oversized_header_whose_body_never_comes_is_still_reported() -> None:
    framer = MessageFramer(50)
    out = framer.feed(b"Content-Length: 999999\r\n" + frame(b"{}"))
    assert len(faults(out)) == 1 and faults(out)[0].head == b""
    assert bodies(out) == [b"{}"]
