"""``roost complete``: one inline completion through the whole pipeline, from the command line.

    roost complete ROOT FILE:LINE:COL [--buffer PATH] [--json] [--timings] [--max-tokens N]
                   [--model M] [--endpoint URL]

LINE and COL are 1-based (COL counts characters), as in ``roost context``. The command runs, in process,
the core the language server runs for an editor's inline completion (``roost.lsp.core``): the workspace's
own configuration (loaded as ``roost context`` and the server load it), the services (index, retrieval,
model backend, gate), the document policy and the completion pipeline: index → context → prompt → model →
post-processing → gate. Status lines and progress bars (indexing; the first run's model join and
conversion, about a minute) go to stderr. The suggestion goes to stdout; ``--timings`` adds the stage
times (stderr), ``--json`` prints one object with the suggestion, the gate's decisions, the chosen context
and the timings. Nothing is written to the workspace. A file the document policy refuses (a secret file
such as ``.env``, an excluded file) gets no suggestion and the reason, like in the editor; nothing of it
reaches the index or the model.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from roost.lsp.cli.progress_bar import TerminalProgressBar
from roost.lsp.cli.registry import Command
from roost.lsp.config import RoostConfig
from roost.lsp.core.completion.details import outcome_details
from roost.lsp.core.completion.one_shot import OneShotCompletion, OneShotDocument, complete_once
from roost.lsp.core.context_preview import PreviewError, workspace_config
from roost.lsp.core.events import ProgressReport, StatusState
from roost.lsp.logs import configure_file_logging

# A one-shot request has no typing rhythm to wait for, and no later disk changes to follow.
_ONE_SHOT_OPTIONS: dict[str, dict[str, Any]] = {"completion": {"debounce_ms": 0}, "index": {"watch": False}}
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
    def document(self) -> OneShotDocument:
        return OneShotDocument(self.root, self.rel_path, self.text, self.line - 1, self.col - 1)


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


class TerminalEvents:
    """What the services tell the user, on a terminal's stderr: one line per status change (indexing,
    loading the model, ready, error), errors once, and progress bars (one plain line per step off a
    terminal, at most one per tenth of the work)."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self._given_stream = stream
        self._state: StatusState = "starting"
        self._message = ""
        self._errors_shown: set[str] = set()
        self._shown: set[str] = set()  # the error messages printed

    @property
    def _stream(self) -> TextIO:
        # sys.stderr looked up at each line: while a bar is live on a terminal, rich's proxy in its place
        # prints the line above the bar instead of through it.
        return self._given_stream or sys.stderr

    @property
    def status_state(self) -> StatusState:
        return self._state

    @property
    def status_message(self) -> str:
        return self._message

    def send_status(self, state: StatusState, message: str = "", percentage: int | None = None) -> None:
        changed = state != self._state
        self._state, self._message = state, message
        if changed and message and state != "error":  # an error is shown once by show_error_once
            print(message, file=self._stream, flush=True)

    def show_error_once(self, key: str, message: str) -> None:
        if key not in self._errors_shown:
            self._errors_shown.add(key)
            self._shown.add(message)
            print(message, file=self._stream, flush=True)

    def progress_report(self, title: str) -> ProgressReport:
        return TerminalProgress(title, self._stream)

    def has_shown(self, message: str) -> bool:
        return bool(message) and message in self._shown


class TerminalProgress:
    """One :class:`~roost.lsp.core.events.ProgressReport` as a :class:`TerminalProgressBar`."""

    def __init__(self, title: str, stream: TextIO) -> None:
        self._bar = TerminalProgressBar(title, stream)
        # Off a terminal every step is a line: only a new tenth of the work (or a new message) is one.
        self._tty = stream.isatty()
        self._step = 1 if self._tty else 10
        self._last: tuple[int | None, str] | None = None
        self._last_message = ""

    async def begin(self, message: str = "") -> None:
        self._show(message, 0)

    def report(self, message: str, percentage: int | None = None) -> None:
        self._show(message, percentage)

    def end(self, message: str = "") -> None:
        if message or self._tty:  # a full bar on a terminal; off it, no "done" line without news
            self._bar(message or self._last_message, 1.0)
        self._bar.close()

    def _show(self, message: str, percentage: int | None) -> None:
        step = None if percentage is None else max(0, min(100, percentage)) // self._step
        key = (step, message if percentage is None else "")
        if key == self._last or not (message or self._tty):  # off a terminal a line without news is noise
            return
        self._last, self._last_message = key, message
        # Below 1.0 until ``end``: the bar closes itself at 1.0, and the end's message is the summary.
        self._bar(message, None if percentage is None else min(percentage, 99) / 100.0)


def completion_details(result: OneShotCompletion) -> dict[str, Any]:
    """The completion as the server's ``roost/completionDetails`` describes it (0-based lines), with
    ``texts`` (what an editor would show) and ``client_ms`` (this command's wall times)."""
    details: dict[str, Any] = outcome_details(result.outcome)
    details["client_ms"] = {name: round(ms, 2) for name, ms in result.wall_ms.items()}
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


def _print_human(details: dict[str, Any], timings: bool, shown_already: bool) -> None:
    texts = details.get("texts") or []
    if texts:
        sys.stdout.write(texts[0] + ("" if texts[0].endswith("\n") else "\n"))
    for blocked in details.get("blocked", []):
        print(f"roost complete: the gate blocked {blocked['text']!r}", file=sys.stderr)
        for finding in blocked["findings"]:
            print(f"    {finding}", file=sys.stderr)
    if not texts:
        # A failure the services reported (no model, server down) was printed with its fix already.
        why = details.get("source") if shown_already else details.get("message") or details.get("source")
        why = why or "empty"
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
        "--timeout", type=float, default=600.0, help="seconds to wait for indexing, then for the answer"
    )


def one_shot_config(root: Path, args: argparse.Namespace) -> RoostConfig:
    """The workspace's configuration, as the server loads it, with this command's options in the layer an
    editor's settings take."""
    options: dict[str, dict[str, Any]] = {key: dict(value) for key, value in _ONE_SHOT_OPTIONS.items()}
    if args.max_tokens is not None:
        options["completion"]["max_tokens"] = args.max_tokens
    if args.model:
        options["model"] = {"name": args.model}
    if args.endpoint:
        options["backend"] = {"kind": "openai", "endpoint": args.endpoint}
    return workspace_config(root, options)


def run(args: argparse.Namespace) -> int:
    try:
        cursor = resolve_cursor(args.root, args.position, args.buffer)
        config = one_shot_config(cursor.root, args)
    except (CompleteError, PreviewError) as error:
        print(f"roost complete: {error}", file=sys.stderr)
        return 2
    # As in the server: log lines go to the log file, not to this command's output.
    logging.basicConfig(level=logging.WARNING, handlers=[logging.NullHandler()])
    configure_file_logging(config.log.level)
    events = TerminalEvents()
    try:
        result = asyncio.run(_complete_or_tell_timeout(cursor, config, events, args.timeout))
    except KeyboardInterrupt:
        return 130
    except Exception as error:  # a readable line, not a traceback
        print(f"roost complete: {type(error).__name__}: {error}", file=sys.stderr)
        return 1
    if result is None:  # timed out, and told
        return 1
    details = completion_details(result)
    if args.json:
        print(json.dumps(json_payload(cursor, details), indent=2))
    else:
        _print_human(details, args.timings, events.has_shown(result.outcome.message))
    return 1 if details.get("source") in _FAILED_SOURCES else 0


async def _complete_or_tell_timeout(
    cursor: Cursor, config: RoostConfig, events: TerminalEvents, timeout: float
) -> OneShotCompletion | None:
    """The completion, or None once a timeout has been told. Told here, at once: ``asyncio.run`` then
    waits for a model load under way (a load cannot be interrupted; the services close the backend it
    ends with), which may take minutes."""
    try:
        return await complete_once(cursor.document, config, events, timeout)
    except TimeoutError as error:
        print(f"roost complete: {error}", file=sys.stderr, flush=True)
        if events.status_state == "loading_model":
            print(
                "roost complete: the model load under way cannot be interrupted; the engine is closed "
                "once it has loaded",
                file=sys.stderr,
                flush=True,
            )
        return None


COMMAND = Command(
    name="complete",
    help="one inline completion at FILE:LINE:COL through the whole pipeline (index → model → gate)",
    configure=configure,
    run=run,
    order=45,
)
