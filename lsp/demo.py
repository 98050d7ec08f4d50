"""``roost demo``: a real LSP client (pygls's) drives ``roost serve --stdio`` on ``examples/`` through the
main job, printing what happens for a person: indexing with progress, an inline completion that needs a
definition from another file (the chosen context and the stage timings), an insecure suggestion blocked
by the gate, a cross-file code action as a unified diff, and a two-turn fix-up.

Nothing is written to disk: edits the server sends are applied to in-memory copies and shown as diffs.
"""

from __future__ import annotations

import asyncio
import difflib
import os
import sys
import time
from pathlib import Path
from typing import Any

from lsprotocol import types
from pygls.lsp.client import LanguageClient

from roost.lsp.version import VERSION

SERVER_COMMAND = [sys.executable, "-m", "roost.lsp.cli", "serve", "--stdio"]

COMPLETION_FILE = "shop/services/checkout.py"
COMPLETION_TAIL = "\n\ndef total_cents(cart) -> int:\n    return price_cart(cart)."
INSECURE_FILE = "shop/services/runner.py"
INSECURE_TEXT = (
    '"""Running maintenance commands."""\n\nimport subprocess\n\n\n'
    'def run(command: str) -> int:\n    """Run a command line typed by the user."""\n'
    "    return subprocess.call(command, shell="
)
MOVE_FILE = "shop/services/pricing.py"
MOVE_SYMBOL = "price_cart"
MOVE_TARGET = "shop/services/checkout.py"
FIXUP_FILE = "shop/utils/money.py"
FIXUP_SYMBOL = "def format_money"
FIXUP_TURNS = (
    "Add a check that raises ValueError when the amount is negative.",
    "Make the error message say: amount must not be negative, and include the amount.",
)


class Printer:
    def __init__(self, out: Any = None) -> None:
        self.out = out or sys.stdout

    def section(self, title: str) -> None:
        print(f"\n== {title} " + "=" * max(0, 70 - len(title)), file=self.out, flush=True)

    def line(self, text: str = "") -> None:
        print(text, file=self.out, flush=True)

    def block(self, text: str, indent: str = "    ") -> None:
        for line in text.rstrip("\n").split("\n"):
            print(indent + line, file=self.out)
        self.out.flush()


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if hasattr(value, "_asdict"):
        return {k: _plain(v) for k, v in value._asdict().items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


PlainTextEdit = types.TextEdit | types.AnnotatedTextEdit


def text_changes(edit: types.WorkspaceEdit) -> list[tuple[str, list[PlainTextEdit]]]:
    """(uri, edits) for each change of ``edit``. The demo applies plain text edits only; a file
    creation, rename or deletion, or a snippet, is refused with its name (not an AttributeError)."""
    changes: list[tuple[str, list[PlainTextEdit]]] = []
    for change in edit.document_changes or []:
        if not isinstance(change, types.TextDocumentEdit):
            raise TypeError(f"the demo applies text edits only, not {type(change).__name__}")
        edits: list[PlainTextEdit] = []
        for text_edit in change.edits:
            if isinstance(text_edit, types.SnippetTextEdit):
                raise TypeError("the demo applies text edits only, not SnippetTextEdit")
            edits.append(text_edit)
        changes.append((change.text_document.uri, edits))
    return changes


def apply_text_edits(text: str, edits: list[PlainTextEdit]) -> str:
    lines = text.split("\n")

    def offset(position: types.Position) -> int:
        line = min(position.line, len(lines) - 1)
        start = sum(len(part) + 1 for part in lines[:line])
        prefix = (
            lines[line].encode("utf-16-le")[: position.character * 2].decode("utf-16-le", errors="ignore")
        )
        return start + len(prefix)

    for edit in sorted(edits, key=lambda e: offset(e.range.start), reverse=True):
        text = text[: offset(edit.range.start)] + edit.new_text + text[offset(edit.range.end) :]
    return text


class DemoClient:
    """The client side of the demo. Buffers live here; the disk is only read."""

    def __init__(self, root: Path, printer: Printer, initialization_options: dict[str, Any]) -> None:
        self.root = root
        self.printer = printer
        self.options = initialization_options
        self.client = LanguageClient("roost-demo", VERSION)
        self.buffers: dict[str, tuple[str, int]] = {}  # uri → (text, version)
        self.statuses: list[dict[str, Any]] = []
        self._last_progress = ""
        self.last_accept_id: Any = None
        self._register_handlers()

    def _register_handlers(self) -> None:
        client = self.client

        @client.feature("roost/status")
        def status(params: Any) -> None:
            plain = _plain(params)
            self.statuses.append(plain)
            if plain.get("state") in ("loading_model", "degraded", "error"):
                self.printer.line(f"  [status] {plain.get('state')}: {plain.get('message')}")

        @client.feature(types.WINDOW_WORK_DONE_PROGRESS_CREATE)
        def create_progress(params: types.WorkDoneProgressCreateParams) -> None:
            return None

        @client.feature(types.PROGRESS)
        def progress(params: types.ProgressParams) -> None:
            value = _plain(params.value) if not isinstance(params.value, dict) else params.value
            kind = value.get("kind")
            if kind == "begin":
                self.printer.line(f"  [progress] {value.get('title')}: {value.get('message', '')}")
            elif kind == "report" and value.get("percentage") is not None:
                text = f"  [progress] {value.get('percentage'):3d}% {value.get('message', '')}"
                if text != self._last_progress and "fix-up" not in str(value.get("message", "")):
                    self._last_progress = text
                    if len(str(value.get("message", ""))) < 60:
                        self.printer.line(text)
            elif kind == "end":
                self.printer.line(f"  [progress] done: {value.get('message', '')}")

        @client.feature(types.WINDOW_SHOW_MESSAGE)
        def show_message(params: types.ShowMessageParams) -> None:
            self.printer.line(f"  [message] {params.message}")

        @client.feature(types.WORKSPACE_APPLY_EDIT)
        def apply_edit(params: types.ApplyWorkspaceEditParams) -> types.ApplyWorkspaceEditResult:
            for uri, edits in text_changes(params.edit):
                text, version = self.buffers.get(uri) or (self.read(uri), 0)
                self.change(uri, apply_text_edits(text, edits))
            return types.ApplyWorkspaceEditResult(applied=True)

    # -- buffers -----------------------------------------------------------------------------------------
    def uri(self, relative: str) -> str:
        return (self.root / relative).resolve().as_uri()

    def read(self, uri: str) -> str:
        return Path(uri.removeprefix("file://")).read_text(encoding="utf-8")

    def open(self, relative: str, text: str | None = None) -> str:
        uri = self.uri(relative)
        text = self.read(uri) if text is None else text
        self.buffers[uri] = (text, 1)
        self.client.text_document_did_open(
            types.DidOpenTextDocumentParams(
                text_document=types.TextDocumentItem(uri=uri, language_id="python", version=1, text=text)
            )
        )
        return uri

    def change(self, uri: str, text: str) -> None:
        _, version = self.buffers.get(uri, ("", 0))
        self.buffers[uri] = (text, version + 1)
        self.client.text_document_did_change(
            types.DidChangeTextDocumentParams(
                text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=version + 1),
                content_changes=[types.TextDocumentContentChangeWholeDocument(text=text)],
            )
        )

    # -- session -------------------------------------------------------------------------------------------
    async def start(self) -> None:
        await self.client.start_io(*SERVER_COMMAND, env=dict(os.environ))
        capabilities = types.ClientCapabilities(
            window=types.WindowClientCapabilities(work_done_progress=True),
            text_document=types.TextDocumentClientCapabilities(
                inline_completion=types.InlineCompletionClientCapabilities(),
                code_action=types.CodeActionClientCapabilities(
                    resolve_support=types.ClientCodeActionResolveOptions(properties=["edit"]),
                    data_support=True,
                ),
            ),
            workspace=types.WorkspaceClientCapabilities(
                apply_edit=True,
                workspace_edit=types.WorkspaceEditClientCapabilities(document_changes=True),
            ),
        )
        await self.client.initialize_async(
            types.InitializeParams(
                capabilities=capabilities,
                root_uri=self.root.resolve().as_uri(),
                workspace_folders=[
                    types.WorkspaceFolder(uri=self.root.resolve().as_uri(), name=self.root.name)
                ],
                initialization_options=self.options,
                client_info=types.ClientInfo(name="roost-demo", version=VERSION),
            )
        )
        self.client.initialized(types.InitializedParams())

    async def wait_for(self, states: tuple[str, ...], timeout: float) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for status in reversed(self.statuses):
                if status.get("state") in states:
                    return status
            await asyncio.sleep(0.05)
        raise TimeoutError(f"the server did not reach {states} within {timeout:.0f} s")

    async def stop(self) -> None:
        try:
            await asyncio.wait_for(self.client.shutdown_async(None), timeout=20)
            self.client.exit(None)
        except Exception:  # noqa: BLE001 - the demo is over either way
            pass
        await self.client.stop()

    async def details(self, uri: str) -> dict[str, Any]:
        return (
            _plain(await self.client.protocol.send_request_async("roost/completionDetails", {"uri": uri}))
            or {}
        )

    async def inline(self, uri: str) -> tuple[list[str], dict[str, Any]]:
        text, _ = self.buffers[uri]
        lines = text.split("\n")
        position = types.Position(line=len(lines) - 1, character=len(lines[-1].encode("utf-16-le")) // 2)
        result = await self.client.text_document_inline_completion_async(
            types.InlineCompletionParams(
                text_document=types.TextDocumentIdentifier(uri=uri),
                position=position,
                context=types.InlineCompletionContext(trigger_kind=types.InlineCompletionTriggerKind.Invoked),
            )
        )
        items = result.items if isinstance(result, types.InlineCompletionList) else (result or [])
        texts = [
            item.insert_text if isinstance(item.insert_text, str) else item.insert_text.value
            for item in items
        ]
        return texts, await self.details(uri)

    async def command(self, name: str, argument: Any) -> Any:
        result = await self.client.workspace_execute_command_async(
            types.ExecuteCommandParams(command=name, arguments=[argument])
        )
        return _plain(result) or {}


def workspace_edit_diff(client: DemoClient, edit: Any) -> str:
    """A unified diff of what ``edit`` (a WorkspaceEdit, structured or plain JSON) would change."""
    converter = client.client.protocol._converter  # noqa: SLF001 - lsprotocol's converter
    if isinstance(edit, dict):
        edit = converter.structure(edit, types.WorkspaceEdit)
    out: list[str] = []
    for uri, edits in text_changes(edit):
        before = client.buffers[uri][0] if uri in client.buffers else client.read(uri)
        after = apply_text_edits(before, edits)
        relative = Path(uri.removeprefix("file://")).resolve().relative_to(client.root.resolve()).as_posix()
        out.extend(
            difflib.unified_diff(
                before.splitlines(keepends=True),
                after.splitlines(keepends=True),
                f"a/{relative}",
                f"b/{relative}",
            )
        )
    return "".join(out)


async def run_demo(
    root: Path, initialization_options: dict[str, Any], printer: Printer, timeout: float
) -> int:
    client = DemoClient(root, printer, initialization_options)
    printer.line(f"Roost {VERSION} demo on {root}")
    printer.line(
        "A real LSP client talks to `roost serve --stdio`, as an editor does. Nothing is written to disk."
    )
    await client.start()
    try:
        return await _walk_through(client, printer, timeout)
    finally:
        await client.stop()


async def _walk_through(client: DemoClient, printer: Printer, timeout: float) -> int:
    printer.section("1. Indexing the workspace")
    ready = await client.wait_for(("ready", "error"), timeout)
    printer.line(f"  {ready.get('message')}")

    printer.section("2. Inline completion that needs another file")
    uri = client.open(COMPLETION_FILE, client.read(client.uri(COMPLETION_FILE)) + COMPLETION_TAIL)
    printer.line(f"  {COMPLETION_FILE}, cursor at the end of:")
    printer.block(COMPLETION_TAIL.strip("\n"))
    printer.line("  (the model is loaded on first use)")
    texts, details = await client.inline(uri)
    printer.line("  Context chosen from the project graph:")
    for item in details.get("context", []):
        printer.line(
            f"    {item['path']}:{item['start_line'] + 1}-{item['end_line'] + 1}  {item['kind']:<10} "
            f"score {item['score']:.2f}  {item['tokens']:>4} tokens  {item['reason']}"
        )
    if not details.get("context"):
        printer.line("    (none)")
    timings = details.get("timings_ms", {})
    printer.line("  Stage timings (ms): " + ", ".join(f"{k} {v:.1f}" for k, v in timings.items()))
    if texts:
        printer.line("  Suggestion (ghost text):")
        printer.block(f"return price_cart(cart).{texts[0]}", indent="    ")
        # Accept it, as the editor would: the buffer changes and the accept is counted (local metrics).
        client.change(uri, client.buffers[uri][0] + texts[0] + "\n")
        if client.last_accept_id is not None:
            await client.command("roost.accepted", client.last_accept_id)
    else:
        printer.line(f"  No suggestion ({details.get('source')}: {details.get('message') or 'empty'})")
    if details.get("source") in ("unavailable", "error"):
        printer.line("  The model is not available; the rest of the demo needs it.")
        return 1

    printer.section("3. An insecure suggestion meets the security gate")
    insecure_uri = client.open(INSECURE_FILE, INSECURE_TEXT)
    printer.line(f"  {INSECURE_FILE}, cursor after `shell=`:")
    printer.block(INSECURE_TEXT.split("\n\n\n", 1)[1])
    texts, details = await client.inline(insecure_uri)
    for blocked in details.get("blocked", []):
        printer.line(f"  Blocked: the model suggested {blocked['text']!r}")
        for finding in blocked["findings"]:
            printer.line(f"    {finding}")
    if texts:
        printer.line(f"  Shown (passed the gate): {texts[0]!r}")
    elif not details.get("blocked"):
        printer.line(f"  Nothing suggested ({details.get('source')}).")
    else:
        printer.line("  Nothing insecure reached the editor.")

    printer.section("4. Cross-file code action: Move symbol to module")
    move_uri = client.open(MOVE_FILE)
    move_text = client.buffers[move_uri][0]
    line = next(i for i, text in enumerate(move_text.split("\n")) if text.startswith(f"def {MOVE_SYMBOL}"))
    position = types.Position(line=line, character=5)
    actions = await client.client.text_document_code_action_async(
        types.CodeActionParams(
            text_document=types.TextDocumentIdentifier(uri=move_uri),
            range=types.Range(start=position, end=position),
            context=types.CodeActionContext(diagnostics=[]),
        )
    )
    action = next(
        (a for a in actions or [] if isinstance(a, types.CodeAction) and a.title.endswith(MOVE_TARGET)), None
    )
    if action is None:
        printer.line("  The action was not offered.")
    else:
        printer.line(f"  {action.title}")
        resolved = await client.client.code_action_resolve_async(action)
        printer.block(workspace_edit_diff(client, resolved.edit), indent="  ")

    printer.section("5. A two-turn fix-up")
    fix_uri = client.open(FIXUP_FILE)
    fix_text = client.buffers[fix_uri][0]
    lines = fix_text.split("\n")
    first = next(i for i, text in enumerate(lines) if text.startswith(FIXUP_SYMBOL))
    last = first + 1
    while (
        last < len(lines) and (lines[last].startswith(" ") or not lines[last].strip()) and last < first + 12
    ):
        if not lines[last].strip() and (last + 1 >= len(lines) or not lines[last + 1].startswith(" ")):
            break
        last += 1
    selection = {"start": {"line": first, "character": 0}, "end": {"line": last, "character": 0}}
    printer.line(f"  {FIXUP_FILE}, selection:")
    printer.block("\n".join(lines[first:last]))
    session_id = None
    for turn, message in enumerate(FIXUP_TURNS, start=1):
        printer.line(f"  Turn {turn}: {message}")
        if session_id is None:
            answer = await client.command(
                "roost.fixup.start", {"uri": fix_uri, "range": selection, "instruction": message}
            )
            session_id = answer.get("session")
        else:
            answer = await client.command("roost.fixup.reply", {"session": session_id, "message": message})
        printer.line(f"  Roost: {answer.get('message')}")
        if answer.get("edit"):
            printer.block(workspace_edit_diff(client, answer["edit"]), indent="  ")
    if session_id is not None:
        accepted = await client.command("roost.fixup.accept", {"session": session_id})
        printer.line(f"  Accepted: {accepted.get('message')} (applied to the demo's in-memory buffer)")
    printer.section("Done")
    printer.line(
        "  Open the same folder in VS Code or Neovim with the Roost extension to do this in an editor."
    )
    return 0


def default_examples_root() -> Path:
    return Path(__file__).resolve().parent.parent / "examples"
