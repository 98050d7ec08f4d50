"""A tiny raw JSON-RPC client over the real server's stdio, for tests that must send bytes no LSP client
library would (badly typed params, broken framing). It starts ``roost serve --stdio`` the way an editor
does, writes whatever it is given, and reads framed messages back with a timeout on a reader thread."""

from __future__ import annotations

import json
import queue
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

from lsp_harness import server_env

# The ``roost`` console script, as editors start it (the same command as conftest's SERVE_COMMAND).
SERVE_COMMAND = [str(Path(sys.executable).parent / "roost"), "serve", "--stdio"]
Message = dict[str, Any]


def frame(body: bytes | str) -> bytes:
    data = body.encode() if isinstance(body, str) else body
    return b"Content-Length: %d\r\n\r\n" % len(data) + data


class RawClient:
    def __init__(
        self,
        root: Path,
        extra_args: list[str] | None = None,
        env: dict[str, str] | None = None,
        stderr: IO[bytes] | None = None,
        command: list[str] | None = None,
    ):
        self.root = root
        self.state_dir = root.parent / "state"
        self.process = subprocess.Popen(
            [*(command or SERVE_COMMAND), *(extra_args or [])],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL if stderr is None else stderr,
            env=server_env(root.parent, env),
            cwd=root,
        )
        self._messages: queue.Queue[Message | None] = queue.Queue()
        self._pending: list[Message] = []
        self._next_id = 1000
        threading.Thread(target=self._read, daemon=True).start()

    # -- low level -------------------------------------------------------------------------------
    def write(self, data: bytes) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(data)
        self.process.stdin.flush()

    def send(self, message: Message) -> None:
        self.write(frame(json.dumps(message)))

    def _read(self) -> None:
        stream = self.process.stdout
        assert stream is not None
        while True:
            length = None
            while True:
                line = stream.readline()
                if not line:
                    self._messages.put(None)
                    return
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":", 1)[1])
                elif line in (b"\r\n", b"\n") and length is not None:
                    break
            self._messages.put(json.loads(stream.read(length)))

    def wait_for(self, matches: Callable[[Message], bool], timeout: float = 20.0) -> Message:
        """The first message (already received or coming) that ``matches``; others are kept."""
        for index, message in enumerate(self._pending):
            if matches(message):
                return self._pending.pop(index)
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError("no matching message from the server")
            try:
                message = self._messages.get(timeout=remaining)
            except queue.Empty:
                continue
            if message is None:
                raise ConnectionError(f"the server closed its output (exit code {self.process.poll()})")
            if matches(message):
                return message
            self._pending.append(message)

    # -- JSON-RPC ---------------------------------------------------------------------------------
    def new_id(self) -> int:
        self._next_id += 1
        return self._next_id

    def request(self, method: str, params: Any, timeout: float = 20.0) -> Message:
        msg_id = self.new_id()
        self.send({"jsonrpc": "2.0", "id": msg_id, "method": method, "params": params})
        return self.response(msg_id, timeout)

    def response(self, msg_id: Any, timeout: float = 20.0) -> Message:
        return self.wait_for(lambda m: m.get("id") == msg_id and "method" not in m, timeout)

    def notify(self, method: str, params: Any) -> None:
        self.send({"jsonrpc": "2.0", "method": method, "params": params})

    def initialize(self, initialization_options: Any = None, more_folders: tuple[Path, ...] = ()) -> Message:
        """``initialize`` with the root as the first workspace folder (``more_folders`` after it), then
        ``initialized``."""
        uri = self.root.resolve().as_uri()
        folders = [self.root, *more_folders]
        result = self.request(
            "initialize",
            {
                "processId": None,
                "rootUri": uri,
                "capabilities": {},
                "workspaceFolders": [{"uri": f.resolve().as_uri(), "name": f.name} for f in folders],
                "initializationOptions": initialization_options,
            },
            timeout=60,
        )
        self.notify("initialized", {})
        return result

    def open_document(self, uri: str, text: str, language_id: str = "python") -> None:
        self.notify(
            "textDocument/didOpen",
            {"textDocument": {"uri": uri, "languageId": language_id, "version": 1, "text": text}},
        )

    def inline_completion(self, uri: str, line: int, character: int) -> tuple[list[str], Message]:
        """An invoked inline completion at (line, character): the items' texts, and the server's
        ``roost/completionDetails`` for it (its source, message, ...)."""
        params = {
            "textDocument": {"uri": uri},
            "position": {"line": line, "character": character},
            "context": {"triggerKind": 1},
        }
        result = self.request("textDocument/inlineCompletion", params)["result"]
        details = self.request("roost/completionDetails", {"uri": uri})["result"]
        return [item["insertText"] for item in (result or {}).get("items", [])], details

    def alive(self) -> bool:
        return self.process.poll() is None

    def log_text(self) -> str:
        path = self.state_dir / "logs" / "roost.log"
        return path.read_text(encoding="utf-8", errors="replace") if path.exists() else ""

    def close(self) -> None:
        if self.alive():
            try:
                self.request("shutdown", None, timeout=10)
                self.notify("exit", None)
                self.process.wait(timeout=10)
            except (TimeoutError, ConnectionError, OSError, subprocess.TimeoutExpired):
                pass
        if self.alive():
            self.process.kill()
            self.process.wait(timeout=10)
        for stream in (self.process.stdin, self.process.stdout):
            if stream is not None:
                stream.close()

    def __enter__(self) -> RawClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
