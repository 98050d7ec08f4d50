"""End-to-end harness: start ``roost serve --stdio`` as a subprocess and drive it as a real LSP client
(pytest-lsp's client over stdio). Shared by every area's end-to-end tests.

    async with lsp_session(workspace) as session:
        result = await session.client.text_document_inline_completion_async(...)
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lsprotocol import types
from pytest_lsp import LanguageClient, client_capabilities
from pytest_lsp.client import make_test_lsp_client

REPO_ROOT = Path(__file__).resolve().parent.parent
SERVER_COMMAND = [sys.executable, "-m", "roost.lsp.cli", "serve", "--stdio"]


@dataclass
class LspSession:
    client: LanguageClient
    root: Path
    initialize_result: types.InitializeResult | None = None
    statuses: list[dict[str, Any]] = field(default_factory=list)
    notifications: dict[str, list[Any]] = field(default_factory=dict)
    applied_edits: list[types.ApplyWorkspaceEditParams] = field(default_factory=list)

    def uri(self, relative: str) -> str:
        return (self.root / relative).resolve().as_uri()

    def open(self, relative: str, text: str | None = None, language_id: str | None = None) -> str:
        path = self.root / relative
        uri = self.uri(relative)
        self.client.text_document_did_open(
            types.DidOpenTextDocumentParams(
                text_document=types.TextDocumentItem(
                    uri=uri,
                    language_id=language_id or _language_id(path),
                    version=1,
                    text=path.read_text(encoding="utf-8") if text is None else text,
                )
            )
        )
        return uri

    async def wait_for_status(self, state: str, timeout: float = 60.0) -> dict[str, Any]:
        async def poll() -> dict[str, Any]:
            while True:
                for status in self.statuses:
                    if status.get("state") == state:
                        return status
                await asyncio.sleep(0.02)

        return await asyncio.wait_for(poll(), timeout)


def _language_id(path: Path) -> str:
    return {
        ".py": "python",
        ".ts": "typescript",
        ".tsx": "typescriptreact",
        ".js": "javascript",
        ".go": "go",
        ".rs": "rust",
        ".java": "java",
    }.get(path.suffix, "plaintext")


def server_env(tmp_root: Path, extra: dict[str, str] | None = None) -> dict[str, str]:
    """The server's environment: its cache and state go to the test's temporary directory, except the
    converted default model, which is shared (converting it takes a minute)."""
    env = dict(os.environ)
    env["ROOST_STATE_DIR"] = str(tmp_root / "state")
    env.setdefault("ROOST_CACHE_DIR", str(tmp_root / "cache"))
    env["PYTHONUNBUFFERED"] = "1"
    if extra:
        env.update(extra)
    return env


@contextlib.asynccontextmanager
async def lsp_session(
    root: Path,
    *,
    initialization_options: Any = None,
    capabilities: types.ClientCapabilities | None = None,
    command: list[str] | None = None,
    env: dict[str, str] | None = None,
    state_dir: Path | None = None,
    cwd: Path | None = None,
) -> AsyncIterator[LspSession]:
    client = make_test_lsp_client()
    session = LspSession(client=client, root=root)

    @client.feature("roost/status")
    def on_status(params: Any) -> None:
        session.statuses.append(_plain(params))

    @client.feature(types.WORKSPACE_APPLY_EDIT)
    def on_apply_edit(params: types.ApplyWorkspaceEditParams) -> types.ApplyWorkspaceEditResult:
        session.applied_edits.append(params)
        return types.ApplyWorkspaceEditResult(applied=True)

    extra: dict[str, Any] = {"cwd": str(cwd)} if cwd is not None else {}
    await client.start_io(
        *(command or SERVER_COMMAND), env=env or server_env(state_dir or root.parent), **extra
    )
    try:
        session.initialize_result = await asyncio.wait_for(
            client.initialize_session(
                types.InitializeParams(
                    capabilities=capabilities or client_capabilities("visual-studio-code"),
                    root_uri=root.resolve().as_uri(),
                    workspace_folders=[types.WorkspaceFolder(uri=root.resolve().as_uri(), name=root.name)],
                    initialization_options=initialization_options,
                )
            ),
            timeout=60,
        )
        yield session
    finally:
        with contextlib.suppress(Exception):
            await asyncio.wait_for(client.shutdown_session(), timeout=20)
        server = client._server
        if server is not None and server.returncode is None:
            # The shutdown was refused (the test had shut the server down: a second one is an
            # InvalidRequest) or timed out, so pytest-lsp sent no exit: client.stop() would wait for a
            # server that waits for it. Send it, and kill a server that still does not go.
            with contextlib.suppress(Exception):
                client.exit(None)
            try:
                await asyncio.wait_for(server.wait(), timeout=10)
            except TimeoutError:
                server.kill()
        await client.stop()


def _plain(params: Any) -> Any:
    """Custom notifications arrive as namedtuples; turn them into plain dicts."""
    if isinstance(params, dict):
        return params
    if hasattr(params, "_asdict"):  # pygls decodes unknown params as namedtuples
        return {key: _plain(value) for key, value in params._asdict().items()}
    if hasattr(params, "__dict__"):
        return {key: _plain(value) for key, value in vars(params).items()}
    if isinstance(params, list | tuple):
        return [_plain(value) for value in params]
    return params
