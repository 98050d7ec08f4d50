"""A seeded random LSP session against the real ``roost serve --stdio`` (through :class:`RawClient`, so that
it can send what no client library would), with the editor's side of every open document kept here.

:class:`SessionFuzz` takes steps (open, full and incremental changes with ranges anywhere, close, save,
inline completions and code actions at random places, cancelled requests, odd configurations, files
created and deleted on disk) and after each checks the invariants: every request answered exactly once
within a bounded wait, the server alive, each Range it returns inside the document as the client has it,
and the server's text of each open document (``roost/debugStats``' digests) equal to the client's.
"""

from __future__ import annotations

import hashlib
import json
import queue
import random
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import unquote

from raw_client import Message, RawClient

RESPONSE_TIMEOUT_S = 30.0
# The only line ends of LSP (the spec: "\n", "\r\n" and "\r"); form feeds, U+2028 and the like are text.
_LINE_END = re.compile(r"\r\n|\r|\n")

EXTENSIONS = {
    ".py": "python",
    ".ts": "typescript",
    ".go": "go",
    ".rs": "rust",
    ".java": "java",
    ".txt": "plaintext",
}
SNIPPETS = {
    ".py": [
        "def area(r):",
        "    return 3.14 * r * r",
        "class Shape:",
        "    pass",
        "import os",
        "x = area(2)",
    ],
    ".ts": ["export function area(r: number) {", "  return r * r;", "}", "import { a } from './a';"],
    ".go": ["package main", "func area(r float64) float64 {", "\treturn r * r", "}", 'import "fmt"'],
    ".rs": ["fn area(r: f64) -> f64 {", "    r * r", "}", "use crate::shapes;", "pub struct S;"],
    ".java": ["class Shape {", "  double area(double r) {", "    return r * r;", "  }", "}"],
    ".txt": ["plain words", "more words"],
}
# Characters whose UTF-16, UTF-8 and code point counts differ, and ones only some libraries call line ends.
ODD_TEXT = [
    "😀",
    "𝔘",
    "e\u0301",
    "\u00e9",
    "\x00",
    "\t",
    "\x0c",
    "\x0b",
    "\u2028",
    "\x85",
    "\u4e2d",
    "\ufeff",
    " ",
]
LINE_ENDS = ["\n", "\r\n", "\r"]


def lines_of(text: str) -> list[str]:
    """The document's lines as LSP counts them, without their ends."""
    return _LINE_END.split(text)


def utf16_len(text: str) -> int:
    return sum(2 if ord(char) > 0xFFFF else 1 for char in text)


def offset_of(text: str, line: int, character: int) -> int:
    """The string offset of an LSP position, clamped as the spec says: a line past the end is the end of
    the document, a character past the line's end is the line's end."""
    starts = [0] + [match.end() for match in _LINE_END.finditer(text)]
    if line >= len(starts):
        return len(text)
    start = starts[line]
    end_match = _LINE_END.search(text, start)
    end = end_match.start() if end_match else len(text)
    units = 0
    offset = start
    while offset < end and units < character:
        units += 2 if ord(text[offset]) > 0xFFFF else 1
        offset += 1
    return offset


def inside(text: str, position: dict[str, Any]) -> bool:
    lines = lines_of(text)
    line, character = position["line"], position["character"]
    return 0 <= line < len(lines) and 0 <= character <= utf16_len(lines[line])


@dataclass
class Document:
    uri: str
    suffix: str
    text: str
    version: int = 1


@dataclass
class Failure:
    step: int
    what: str


@dataclass
class SessionFuzz:
    client: RawClient
    root: Path
    rng: random.Random
    long_lines: int = 3000
    settings: dict[str, Any] = field(default_factory=dict)  # the initializationOptions (the fake backend)
    documents: dict[str, Document] = field(default_factory=dict)
    trail: list[str] = field(default_factory=list)  # the steps taken, to replay a failure by hand
    answered: set[Any] = field(default_factory=set)
    counts: Counter[str] = field(default_factory=Counter)  # what the answers were, to see what was tested
    steps: int = 0

    # -- the wire --------------------------------------------------------------------------------
    def _poll(self, timeout: float) -> Message | None:
        try:
            message = self.client._messages.get(timeout=timeout)
        except queue.Empty:
            return None
        if message is None:
            raise AssertionError(f"the server closed its output (exit code {self.client.process.poll()})")
        return message

    def _take(self, message: Message) -> Message | None:
        """A response is returned; the server's own requests are answered; notifications dropped."""
        if "method" in message:
            if "id" in message:  # workDoneProgress/create, registerCapability, configuration: accept
                self.client.send({"jsonrpc": "2.0", "id": message["id"], "result": None})
            elif message["method"] in ("window/showMessage", "window/logMessage"):
                text, severity = message["params"]["message"], message["params"]["type"]
                # Errors are for the user's mistakes (a bad setting), never for the server's own.
                assert severity != 1 or "configuration" in text, f"an error shown to the user: {text[:2000]}"
            return None
        msg_id = message.get("id")
        assert msg_id not in self.answered, f"a second response to request {msg_id}: {message}"
        self.answered.add(msg_id)
        return message

    def request(
        self, method: str, params: Any, cancel: bool = False, meanwhile: Callable[[], None] | None = None
    ) -> Message:
        """Send a request (cancelled at once when ``cancel``; ``meanwhile`` runs before its answer is read)."""
        msg_id = self.client.new_id()
        self.trail.append(f"request {method} {json.dumps(params)[:400]}" + (" (cancelled)" if cancel else ""))
        self.client.send({"jsonrpc": "2.0", "id": msg_id, "method": method, "params": params})
        if cancel:
            self.client.notify("$/cancelRequest", {"id": msg_id})
        if meanwhile is not None:
            meanwhile()
        return self._response(msg_id, method)

    def _response(self, msg_id: int, method: str) -> Message:
        import time

        deadline = time.monotonic() + RESPONSE_TIMEOUT_S
        while (remaining := deadline - time.monotonic()) > 0:
            message = self._poll(remaining)
            if message is None:
                break
            taken = self._take(message)
            if taken is not None and taken.get("id") == msg_id:
                assert ("result" in taken) != ("error" in taken), f"neither or both result and error: {taken}"
                error = taken.get("error")
                self.counts[f"{method} " + (f"error {error.get('code')}" if error else "answered")] += 1
                return taken
            if taken is not None:
                raise AssertionError(f"a response to {taken.get('id')} nobody is waiting for: {taken}")
        raise AssertionError(f"no response to {method} (id {msg_id}) within {RESPONSE_TIMEOUT_S} s")

    def notify(self, method: str, params: Any) -> None:
        self.trail.append(f"notify {method} {json.dumps(params)[:400]}")
        self.client.notify(method, params)

    # -- text ------------------------------------------------------------------------------------
    def _line(self, suffix: str) -> str:
        roll = self.rng.random()
        if roll < 0.5:
            return self.rng.choice(SNIPPETS[suffix])
        if roll < 0.9:
            parts = [self.rng.choice(SNIPPETS[suffix] + ODD_TEXT) for _ in range(self.rng.randint(1, 4))]
            return "".join(parts)
        return self.rng.choice(["x", "😀", "e\u0301", "ab"]) * self.rng.randint(1, self.long_lines)

    def random_text(self, suffix: str, max_lines: int = 12) -> str:
        pieces = []
        for _ in range(self.rng.randint(0, max_lines)):
            pieces.append(self._line(suffix))
            pieces.append(self.rng.choice(LINE_ENDS))
        if pieces and self.rng.random() < 0.3:
            pieces.pop()  # no line end at the end
        return "".join(pieces)

    def random_position(self, text: str, valid: bool = True) -> dict[str, int]:
        lines = lines_of(text)
        if not valid and self.rng.random() < 0.5:
            return {"line": self.rng.randint(0, len(lines) + 3), "character": self.rng.randint(0, 200)}
        line = self.rng.randrange(len(lines))
        # A character on a code point boundary (the middle of a surrogate pair is no place an editor sends).
        columns = [0]
        for char in lines[line]:
            columns.append(columns[-1] + (2 if ord(char) > 0xFFFF else 1))
        return {"line": line, "character": self.rng.choice(columns)}

    def random_range(self, text: str, valid: bool = True) -> dict[str, Any]:
        a, b = self.random_position(text, valid), self.random_position(text, valid)
        if (a["line"], a["character"]) > (b["line"], b["character"]):
            a, b = b, a
        return {"start": a, "end": b}

    # -- steps -----------------------------------------------------------------------------------
    def new_uri(self) -> tuple[str, str]:
        suffix = self.rng.choice(list(EXTENSIONS))
        # Names the editor percent-encodes in the URI (a space, a non-ASCII letter) as well as plain ones.
        stem = self.rng.choice(["f", "f", "my f", "caf\u00e9"])
        name = f"{stem}{self.rng.randint(0, 6)}{suffix}"
        kind = self.rng.random()
        if kind < 0.75:
            return (self.root / "pkg" / name).resolve().as_uri(), suffix
        if kind < 0.85:
            return f"untitled:Untitled-{self.rng.randint(1, 3)}", suffix
        if kind < 0.92:
            return f"file:///nonexistent/outside/{name}", suffix
        return f"vscode-notebook-cell:/ws/nb.ipynb#W{self.rng.randint(0, 3)}s{suffix}", suffix

    def step_open(self) -> None:
        uri, suffix = self.new_uri()
        text = self.random_text(suffix)
        self.notify(
            "textDocument/didOpen",
            {"textDocument": {"uri": uri, "languageId": EXTENSIONS[suffix], "version": 1, "text": text}},
        )
        self.documents[uri] = Document(uri, suffix, text)

    def _some_document(self) -> Document | None:
        return self.rng.choice(list(self.documents.values())) if self.documents else None

    def step_change(self) -> None:
        document = self._some_document()
        if document is None:
            return self.step_open()
        changes = []
        for _ in range(self.rng.randint(1, 3)):
            if self.rng.random() < 0.1:
                new_text = self.random_text(document.suffix)
                changes.append({"text": new_text})
                document.text = new_text
                continue
            change_range = self.random_range(document.text, valid=self.rng.random() < 0.8)
            insert = self.rng.choice(["", "", self._line(document.suffix), self.rng.choice(LINE_ENDS)])
            if self.rng.random() < 0.2:
                insert = self.random_text(document.suffix, 3)
            start = offset_of(
                document.text, change_range["start"]["line"], change_range["start"]["character"]
            )
            end = offset_of(document.text, change_range["end"]["line"], change_range["end"]["character"])
            document.text = document.text[:start] + insert + document.text[max(start, end) :]
            changes.append({"range": change_range, "text": insert})
        document.version += 1
        self.notify(
            "textDocument/didChange",
            {"textDocument": {"uri": document.uri, "version": document.version}, "contentChanges": changes},
        )

    def step_close(self) -> None:
        document = self._some_document()
        if document is None:
            return
        self.notify("textDocument/didClose", {"textDocument": {"uri": document.uri}})
        del self.documents[document.uri]

    def step_save(self) -> None:
        document = self._some_document()
        if document is None:
            return
        params: dict[str, Any] = {"textDocument": {"uri": document.uri}}
        if self.rng.random() < 0.5:
            params["text"] = document.text
        if document.uri.startswith("file:") and self.rng.random() < 0.5 and "outside" not in document.uri:
            Path(_path_of(document.uri)).write_bytes(document.text.encode("utf-8"))
        self.notify("textDocument/didSave", params)

    def _target(self) -> tuple[str, str]:
        document = self._some_document()
        if document is None or self.rng.random() < 0.05:
            uri, _ = self.new_uri()
            return uri, ""
        return document.uri, document.text

    def step_inline(self) -> None:
        uri, text = self._target()
        position = self.random_position(text, valid=self.rng.random() < 0.8)
        trigger = self.rng.choice([1, 2])  # Invoked, Automatic
        params = {"textDocument": {"uri": uri}, "position": position, "context": {"triggerKind": trigger}}
        response = self.request("textDocument/inlineCompletion", params, cancel=self.rng.random() < 0.2)
        result = response.get("result")
        items = result.get("items", []) if isinstance(result, dict) else result or []
        self.counts["inline items"] += len(items)
        for item in items:
            if item.get("range"):
                self._check_range(uri, item["range"], "an inline completion's range")

    def step_inline_while_typing(self) -> None:
        """A completion whose document changes or closes before the answer: any answer, but exactly one."""
        document = self._some_document()
        if document is None:
            return self.step_open()
        params = {
            "textDocument": {"uri": document.uri},
            "position": self.random_position(document.text),
            "context": {"triggerKind": 2},
        }
        meanwhile = self.step_close if self.rng.random() < 0.2 else self.step_change
        self.request("textDocument/inlineCompletion", params, meanwhile=meanwhile)

    def step_completion_list(self) -> None:
        """The completion-list fallback (this client has no inline completion capability)."""
        uri, text = self._target()
        params = {
            "textDocument": {"uri": uri},
            "position": self.random_position(text, valid=self.rng.random() < 0.8),
        }
        response = self.request("textDocument/completion", params, cancel=self.rng.random() < 0.1)
        result = response.get("result")
        items = result.get("items", []) if isinstance(result, dict) else result or []
        self.counts["completion list items"] += len(items)
        for item in items:
            if item.get("textEdit"):
                self._check_range(uri, item["textEdit"]["range"], "a completion item's edit")

    def step_unopened(self) -> None:
        """Changes, saves and closes of a document the editor never opened (a client bug): no crash."""
        uri, suffix = self.new_uri()
        if uri in self.documents:
            return
        method = self.rng.choice(["textDocument/didChange", "textDocument/didClose", "textDocument/didSave"])
        change = {"range": self.random_range("x\ny"), "text": self._line(suffix)}
        self.notify(method, {"textDocument": {"uri": uri, "version": 3}, "contentChanges": [change]})

    def step_code_action(self) -> None:
        uri, text = self._target()
        params = {
            "textDocument": {"uri": uri},
            "range": self.random_range(text, valid=self.rng.random() < 0.8),
            "context": {"diagnostics": [], "triggerKind": self.rng.choice([1, 2])},
        }
        # Drawn before the answer, whose length depends on timing: the walk stays the same for a seed.
        cancel, resolve = self.rng.random() < 0.1, self.rng.random() < 0.5
        response = self.request("textDocument/codeAction", params, cancel=cancel)
        for action in response.get("result") or []:
            self.trail.append(f"  answered {json.dumps(action)[:600]}")
            self._check_edit(action.get("edit"))
            if "data" in action and resolve:
                resolved = self.request("codeAction/resolve", action)
                self._check_edit((resolved.get("result") or {}).get("edit"))

    def step_configuration(self) -> None:
        # Settings that carry a Roost table are all of the editor's settings (they replace the
        # initializationOptions, README "Configuration"), so each odd value comes with the backend's.
        odd = self.rng.choice(
            [
                {"completion": {"debounce_ms": self.rng.choice([-1, 0, 10**9, "x", None])}},
                {"completion": []},
                {"index": {"max_file_bytes": self.rng.choice([0, 100, "big", 10**12])}},
                {"no_such_section": {"a": 1}},
                {"gate": "strict"},
                {},
            ]
        )
        settings = self.rng.choice(
            [None, [], 5, "roost", {"roost": None}, {"roost": {**self.settings, **odd}}]
        )
        self.notify("workspace/didChangeConfiguration", {"settings": settings})

    def step_disk(self) -> None:
        suffix = self.rng.choice(list(EXTENSIONS))
        path = self.root / "pkg" / f"d{self.rng.randint(0, 4)}{suffix}"
        if path.exists() and self.rng.random() < 0.5:
            path.unlink()
            kind = 3
        else:
            kind = 2 if path.exists() else 1
            path.write_bytes(self.random_text(suffix).encode("utf-8"))
        self.notify(
            "workspace/didChangeWatchedFiles", {"changes": [{"uri": path.resolve().as_uri(), "type": kind}]}
        )

    # -- invariants --------------------------------------------------------------------------------
    def _text_of(self, uri: str) -> str | None:
        if uri in self.documents:
            return self.documents[uri].text
        path = _path_of(uri)
        if path is not None and Path(path).is_file():
            return Path(path).read_text(encoding="utf-8", errors="replace")
        return None

    def _check_range(self, uri: str, text_range: dict[str, Any], what: str) -> None:
        text = self._text_of(uri)
        if text is None:
            return
        for end in ("start", "end"):
            assert inside(text, text_range[end]), f"{what} {text_range} is not inside {uri}: {text!r}"

    def _check_edit(self, edit: dict[str, Any] | None) -> None:
        if not edit:
            return
        for uri, edits in (edit.get("changes") or {}).items():
            for text_edit in edits:
                self._check_range(uri, text_edit["range"], "a code action's edit")
                self.counts["edits checked"] += 1
        for change in edit.get("documentChanges") or []:
            for text_edit in change.get("edits", []):
                self._check_range(change["textDocument"]["uri"], text_edit["range"], "a code action's edit")
                self.counts["edits checked"] += 1

    def check(self) -> None:
        assert self.client.alive(), "the server exited"
        stats = self.request("roost/debugStats", None)
        assert "result" in stats, f"debugStats failed: {stats}"
        digests = stats["result"]["documentDigests"]  # keyed by the unquoted URI, as pygls keeps them
        expected = {
            unquote(uri): hashlib.sha256(document.text.encode("utf-8")).hexdigest()
            for uri, document in self.documents.items()
        }
        for uri in expected.keys() | digests.keys():
            assert digests.get(uri) == expected.get(uri), (
                f"the server's text of {uri} differs from the editor's"
            )

    STEPS: ClassVar[dict[str, float]] = {
        "open": 1.0,
        "change": 6.0,
        "close": 0.5,
        "save": 0.5,
        "inline": 2.0,
        "code_action": 1.0,
        "configuration": 0.3,
        "disk": 0.5,
        "inline_while_typing": 0.5,
        "completion_list": 0.5,
        "unopened": 0.2,
    }

    def run(self, steps: int, on_step: Callable[[int], None] | None = None) -> None:
        names = list(self.STEPS)
        weights = [self.STEPS[name] for name in names]
        for number in range(steps):
            self.steps = number
            name = self.rng.choices(names, weights)[0]
            getattr(self, f"step_{name}")()
            self.check()
            if on_step is not None:
                on_step(number)

    def replay(self, last: int = 15) -> str:
        return "\n".join(self.trail[-last:])


def _path_of(uri: str) -> str | None:
    if not uri.startswith("file://"):
        return None
    from urllib.parse import urlparse

    return unquote(urlparse(uri).path)
