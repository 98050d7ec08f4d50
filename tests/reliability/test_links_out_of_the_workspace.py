"""Trust: the index never reads a file through a symbolic link that leads out of the workspace or to a
secret file. What the index reads is retrieved into prompts (definitions, default values, member lists of
files the editor never opened), and a workspace handed to the user can hold ``app/linked.py ->
~/project-b/creds.py`` or ``lib -> /home/user``. The editor's own documents were already judged by their
target (``document_policy``); the index followed every link.
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

from fake_openai import FakeOpenAI
from lsp_harness import lsp_session
from lsprotocol import types
from pytest_lsp import client_capabilities
from reliability_support import SERVE_COMMAND, every_prompt_text, fake_backend_options

from roost.context.options import IndexOptions
from roost.context.scanning import scan_workspace, stat_file

LINKED_FILE_SECRET = "plain-linked-file-value-1c7e"
LINKED_DIR_SECRET = "plain-linked-dir-value-8d2a"
MAIN = """from app.linked import outside_helper
from lib.mod import lib_helper


def run():
    outside_helper(
    lib_helper(
"""


def _plant(tmp_path: Path) -> Path:
    root, outside = tmp_path / "ws", tmp_path / "outside"
    (root / "app").mkdir(parents=True)
    outside.mkdir()
    (outside / "creds.py").write_text(f'def outside_helper(x="{LINKED_FILE_SECRET}"):\n    return x\n')
    (outside / "mod.py").write_text(f'def lib_helper(y="{LINKED_DIR_SECRET}"):\n    return y\n')
    (root / "app" / "__init__.py").write_text("")
    (root / "app" / "main.py").write_text(MAIN)
    (root / "app" / "inside.py").write_text("def inside_helper():\n    return 1\n")
    (root / ".env").write_text("DATABASE_NAME=plain-env-value\n")
    os.symlink(outside / "creds.py", root / "app" / "linked.py")
    os.symlink(outside, root / "lib")
    os.symlink(root / ".env", root / "app" / "settings_copy.py")
    os.symlink(root / "app" / "inside.py", root / "app" / "alias.py")
    return root


def test_the_scan_skips_links_out_of_the_workspace_and_to_secret_files(tmp_path: Path) -> None:
    root = _plant(tmp_path)
    options = IndexOptions()
    scanned = scan_workspace(root, options)
    assert sorted(scanned) == ["app/__init__.py", "app/alias.py", "app/inside.py", "app/main.py"]
    # A rescan of the linked directory (the watcher's path) and a single file's change alike.
    assert scan_workspace(root / "lib", options, log_prefix="lib/", workspace_root=root) == {}
    assert stat_file(root, "app/linked.py", options) is None
    assert stat_file(root, "app/settings_copy.py", options) is None
    assert stat_file(root, "app/alias.py", options) is not None, "a link inside the workspace is kept"


async def test_code_behind_a_link_out_of_the_workspace_is_never_retrieved(
    tmp_path: Path, recording_backend: FakeOpenAI
) -> None:
    root = _plant(tmp_path)
    capabilities = client_capabilities("visual-studio-code")
    capabilities.text_document.inline_completion = types.InlineCompletionClientCapabilities()
    async with lsp_session(
        root,
        initialization_options=fake_backend_options(recording_backend),
        capabilities=capabilities,
        command=SERVE_COMMAND,
    ) as session:
        await session.wait_for_status("ready")
        uri = session.open("app/main.py", MAIN)
        for line, text in ((5, "    outside_helper("), (6, "    lib_helper(")):
            await asyncio.wait_for(
                session.client.text_document_inline_completion_async(
                    types.InlineCompletionParams(
                        text_document=types.TextDocumentIdentifier(uri=uri),
                        position=types.Position(line=line, character=len(text)),
                        context=types.InlineCompletionContext(
                            trigger_kind=types.InlineCompletionTriggerKind.Invoked
                        ),
                    )
                ),
                20,
            )
    assert len(recording_backend.requests) == 2, "both cursors are completed"
    sent = every_prompt_text(recording_backend)
    assert LINKED_FILE_SECRET not in sent and LINKED_DIR_SECRET not in sent
