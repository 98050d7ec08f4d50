"""The server's log file at its default level holds no code: pygls logged every message the server sent
("Sending data: …", at INFO), so each suggestion and code edit was written to roost.log."""

from __future__ import annotations

from pathlib import Path

from fake_openai import FakeOpenAI
from raw_client import RawClient
from reliability_support import fake_backend_options

SUGGESTION = "compute_quarterly_ledger_total(rows)"


def _complete(root: Path, log_level: str) -> tuple[str, str]:
    with FakeOpenAI(rules=[("def total(", SUGGESTION)]) as fake:
        client = RawClient(root)
        try:
            options = {**fake_backend_options(fake), "log": {"level": log_level}}
            client.initialize(options)
            uri = (root / "pkg" / "ledger.py").resolve().as_uri()
            text = "def total(rows):\n    return \n"
            client.notify(
                "textDocument/didOpen",
                {"textDocument": {"uri": uri, "languageId": "python", "version": 1, "text": text}},
            )
            answer = client.request(
                "textDocument/inlineCompletion",
                {
                    "textDocument": {"uri": uri},
                    "position": {"line": 1, "character": 11},
                    "context": {"triggerKind": 1},
                },
                timeout=60,
            )
            shown = str(answer.get("result"))
        finally:
            log = client.log_text()
            client.close()
    return shown, log


def test_the_default_log_holds_no_suggestion_and_a_debug_log_may(tmp_path: Path) -> None:
    root = tmp_path / "ws"
    (root / "pkg").mkdir(parents=True)
    (root / "pkg" / "__init__.py").write_text("")
    shown, log = _complete(root, "info")
    assert SUGGESTION in shown, shown  # the editor got it
    assert log, "the server wrote no log"
    assert SUGGESTION not in log
    shown, debug_log = _complete(root, "debug")
    assert SUGGESTION in shown and SUGGESTION in debug_log  # asked for: the messages are there
