"""``roost complete``: one inline completion through the whole pipeline, from the command line.

    roost complete ROOT FILE:LINE:COL [--buffer PATH] [--json] [--timings] [--max-tokens N]
                   [--model M] [--endpoint URL]

LINE and COL are 1-based (COL counts characters), as in ``roost context``. The command starts the real
language server (``roost serve --stdio``) on ROOT and asks it, the way an editor does, for an inline
completion at the cursor: index → context → prompt → model → post-processing → gate all run exactly as
in the editor, with the workspace's own configuration. The suggestion goes to stdout; ``--timings``
adds the stage times (stderr), ``--json`` prints one object with the suggestion, the gate's decisions,
the chosen context and the timings. Nothing is written to the workspace. A file the server's document
policy refuses (a secret file such as ``.env``, an excluded file) gets no suggestion and the reason, like
in the editor; nothing of it reaches the model.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lsprotocol import types

from roost.context.languages import language_for_path
from roost.lsp.cli.registry import Command
from roost.lsp.demo import DemoClient, Printer

# A one-shot request has no typing rhythm to wait for.
_ONE_SHOT_OPTIONS: dict[str, Any] = {"completion": {"debounce_ms": 0}}
_FAILED_SOURCES = ("unavailable", "error")


class CompleteError(ValueError):
    """A request the command cannot serve (bad position, missing file); reported, never raised out."""


@dataclass(frozen=True)
class Cursor:
    root: Path
    rel_path: str  # workspace-relative, POSIX
    text: str  # the document (the file, or --buffer)
    line: int  # 1-based
    col: int  # 1-based, characters

    @property
    def lsp_character(self) -> int:
        """LSP positions count UTF-16 code units."""
        line_text = self.text.split("\n")[self.line - 1]
        return len(line_text[: self.col - 1].encode("utf-16-le")) // 2


def parse_position(position: str) -> tuple[str, int, int]:
    file, sep1, col = position.rpartition(":")
    file, sep2, line = file.rpartition(":")
    if not sep1 or not sep2 or not file:
        raise CompleteError(f"expected FILE:LINE:COL, got {position!r}")
    try:
        return file, int(line), int(col)
    except ValueError as error:
        raise CompleteError(f"LINE and COL must be integers in {position!r}") from error


def resolve_cursor(root_arg: str, position: str, buffer_path: str | None) -> Cursor:
    """Everything that can be checked before a server is started, with a clear message."""
    root = Path(root_arg).expanduser()
    if not root.is_dir():
        raise CompleteError(f"workspace root {root} is not a directory")
    root = root.resolve()
    file, line, col = parse_position(position)
    path = Path(file).expanduser()
    absolute = (path if path.is_absolute() else root / path).resolve()
    try:
        rel_path = absolute.relative_to(root).as_posix()
    except ValueError as error:
        raise CompleteError(f"{file} is outside the workspace {root}") from error
    source = Path(buffer_path) if buffer_path else absolute
    try:
        text = source.read_text(encoding="utf-8", errors="replace")
    except OSError as error:
        what = f"--buffer {buffer_path}" if buffer_path else rel_path
        raise CompleteError(f"cannot read {what}: {error.strerror or error}") from error
    lines = text.split("\n")
    if line < 1 or col < 1:
        raise CompleteError(f"LINE and COL are 1-based, got {line}:{col}")
    if line > len(lines):
        raise CompleteError(f"line {line} is past the end of {rel_path} ({len(lines)} lines)")
    length = len(lines[line - 1].rstrip("\r"))
    if col > length + 1:
        raise CompleteError(f"column {col} is past the end of line {line} ({length} characters)")
    return Cursor(root, rel_path, text, line, col)


def _language_id(rel_path: str) -> str:
    language = language_for_path(rel_path)
    return language.name if language else "plaintext"


async def complete_once(cursor: Cursor, options: dict[str, Any], timeout: float) -> dict[str, Any]:
    """Start ``roost serve --stdio`` on the workspace, open the document, ask for one inline completion.

    Returns the server's own account of it (``roost/completionDetails``: suggestions, source, gate
    decisions, chosen context, stage timings) plus the client-side wall times."""
    # The demo's client is the real protocol client; its narration is not wanted here.
    client = DemoClient(cursor.root, Printer(io.StringIO()), options)

    @client.client.feature(types.WINDOW_LOG_MESSAGE)
    def log_message(params: types.LogMessageParams) -> None:
        return None  # the server's log lines are for its log file, not for this command's output

    started = time.perf_counter()
    await client.start()
    try:
        await client.wait_for(("ready", "error"), timeout)
        ready = time.perf_counter()
        uri = (cursor.root / cursor.rel_path).as_uri()
        client.buffers[uri] = (cursor.text, 1)
        client.client.text_document_did_open(
            types.DidOpenTextDocumentParams(
                text_document=types.TextDocumentItem(
                    uri=uri, language_id=_language_id(cursor.rel_path), version=1, text=cursor.text
                )
            )
        )
        position = types.Position(line=cursor.line - 1, character=cursor.lsp_character)
        result = await asyncio.wait_for(
            client.client.text_document_inline_completion_async(
                types.InlineCompletionParams(
                    text_document=types.TextDocumentIdentifier(uri=uri),
                    position=position,
                    context=types.InlineCompletionContext(
                        trigger_kind=types.InlineCompletionTriggerKind.Invoked
                    ),
                )
            ),
            timeout,
        )
        answered = time.perf_counter()
        details = await client.details(uri)
    finally:
        await client.stop()
    items = result.items if isinstance(result, types.InlineCompletionList) else (result or [])
    shown = [
        item.insert_text if isinstance(item.insert_text, str) else item.insert_text.value for item in items
    ]
    details = dict(details)
    details["texts"] = shown  # what the editor would show: the reply itself is the authority
    details["client_ms"] = {
        "server_start_and_index": round((ready - started) * 1000.0, 2),
        "request": round((answered - ready) * 1000.0, 2),
    }
    return details


def _verdict(details: dict[str, Any]) -> str:
    if details.get("source") in _FAILED_SOURCES:
        return "unavailable"
    if details.get("source") == "refused":
        return "refused"  # the server's document policy: a secret or excluded file; the message says which
    if details.get("texts"):
        return "passed"
    return "blocked" if details.get("blocked") else "empty"


def json_payload(cursor: Cursor, details: dict[str, Any]) -> dict[str, Any]:
    texts = details.get("texts") or []
    return {
        "file": cursor.rel_path,
        "line": cursor.line,
        "col": cursor.col,
        "suggestion": texts[0] if texts else None,
        "suggestions": texts,
        "source": details.get("source"),
        "shape": details.get("shape"),
        "message": details.get("message") or "",
        "verdict": _verdict(details),
        "blocked": details.get("blocked", []),
        # Lines 1-based here, like the command's own FILE:LINE:COL.
        "context": [
            {**item, "start_line": item["start_line"] + 1, "end_line": item["end_line"] + 1}
            for item in details.get("context", [])
        ],
        "timings_ms": details.get("timings_ms", {}),
        "client_ms": details.get("client_ms", {}),
    }


def _print_human(details: dict[str, Any], timings: bool) -> None:
    texts = details.get("texts") or []
    if texts:
        sys.stdout.write(texts[0] + ("" if texts[0].endswith("\n") else "\n"))
    for blocked in details.get("blocked", []):
        print(f"roost complete: the gate blocked {blocked['text']!r}", file=sys.stderr)
        for finding in blocked["findings"]:
            print(f"    {finding}", file=sys.stderr)
    if not texts:
        why = details.get("message") or details.get("source") or "empty"
        print(f"roost complete: no suggestion ({why})", file=sys.stderr)
    if timings:
        stages = details.get("timings_ms", {})
        print("stage timings (ms): " + ", ".join(f"{k} {v:.1f}" for k, v in stages.items()), file=sys.stderr)
        client = details.get("client_ms", {})
        print("client (ms): " + ", ".join(f"{k} {v:.1f}" for k, v in client.items()), file=sys.stderr)


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("root", metavar="ROOT", help="workspace root")
    parser.add_argument("position", metavar="FILE:LINE:COL", help="cursor (1-based line and column)")
    parser.add_argument(
        "--buffer", metavar="PATH", help="file holding the full document text (an unsaved buffer)"
    )
    parser.add_argument("--json", action="store_true", help="one machine-readable JSON object")
    parser.add_argument("--timings", action="store_true", help="print the stage timings (stderr)")
    parser.add_argument(
        "--max-tokens",
        type=int,
        default=None,
        metavar="N",
        help="most tokens to generate (default: configured)",
    )
    parser.add_argument(
        "--model", default=None, help="model setting (default: the workspace's configuration)"
    )
    parser.add_argument(
        "--endpoint",
        default=None,
        metavar="URL",
        help="use an OpenAI-compatible server (e.g. http://127.0.0.1:8000/v1) instead of the configured backend",
    )
    parser.add_argument(
        "--timeout", type=float, default=600.0, help="seconds to wait for indexing, and for the answer"
    )


def run(args: argparse.Namespace) -> int:
    try:
        cursor = resolve_cursor(args.root, args.position, args.buffer)
    except CompleteError as error:
        print(f"roost complete: {error}", file=sys.stderr)
        return 2
    options: dict[str, Any] = {key: dict(value) for key, value in _ONE_SHOT_OPTIONS.items()}
    if args.max_tokens is not None:
        options["completion"]["max_tokens"] = args.max_tokens
    if args.model:
        options["model"] = {"name": args.model}
    if args.endpoint:
        options["backend"] = {"kind": "openai", "endpoint": args.endpoint}
    try:
        details = asyncio.run(complete_once(cursor, options, args.timeout))
    except KeyboardInterrupt:
        return 130
    except Exception as error:  # a readable line, not a traceback
        print(f"roost complete: {type(error).__name__}: {error}", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps(json_payload(cursor, details), indent=2))
    else:
        _print_human(details, args.timings)
    return 1 if details.get("source") in _FAILED_SOURCES else 0


COMMAND = Command(
    name="complete",
    help="one inline completion at FILE:LINE:COL through the whole pipeline (index → model → gate)",
    configure=configure,
    run=run,
    order=45,
)
