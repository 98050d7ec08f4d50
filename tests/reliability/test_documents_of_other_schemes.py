"""Trust: a document that is no ``file:`` on disk is judged by the names in its URI, as the file it shows.

The policy let every URI not spelled ``file:`` through as an unsaved buffer: the old side of a diff of
``.env`` (``git:/ws/.env?…``), a ``fugitive://`` buffer of it in Neovim, ``untitled:/ws/.env`` (a new file
not yet saved) and ``FILE:///ws/.env`` (URI schemes are case-insensitive) were completed, their text sent
to the model. A URI whose path cannot be resolved (a percent-encoded NUL) answers like any other.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from fake_openai import FakeOpenAI
from lsp_harness import LspSession, lsp_session
from lsprotocol import types
from pytest_lsp import client_capabilities
from reliability_support import SERVE_COMMAND, every_prompt_text, fake_backend_options

from roost.lsp.core.document_policy import Allowed, Refused, document_policy

ENV_VALUE = "plain-env-value-3f9a"
ENV = f"DATABASE_NAME={ENV_VALUE}\nDEBUG=1\n"


def _other_scheme_uris(root: Path) -> list[str]:
    env = f"{root.as_posix()}/.env"
    return [
        f"git:{env}?%7B%22path%22%3A%22{env}%22%2C%22ref%22%3A%22HEAD%22%7D",
        f"fugitive://{root.as_posix()}/.git//0/.env",
        f"untitled:{env}",
        f"FILE://{env}",
    ]


def test_other_schemes_are_judged_by_the_names_in_their_path(tmp_path: Path) -> None:
    for uri in _other_scheme_uris(tmp_path):
        assert isinstance(document_policy(uri, root=tmp_path, is_open=True), Refused), uri
    for uri in ("untitled:Untitled-1", f"vscode-notebook-cell:{tmp_path.as_posix()}/nb.ipynb#W0"):
        assert isinstance(document_policy(uri, root=tmp_path, is_open=True), Allowed), uri
    nul = f"{tmp_path.as_uri()}/app%00.py"
    assert isinstance(document_policy(nul, root=tmp_path, is_open=True), Allowed | Refused)


async def _inline(session: LspSession, uri: str) -> object:
    return await asyncio.wait_for(
        session.client.text_document_inline_completion_async(
            types.InlineCompletionParams(
                text_document=types.TextDocumentIdentifier(uri=uri),
                position=types.Position(line=1, character=3),
                context=types.InlineCompletionContext(trigger_kind=types.InlineCompletionTriggerKind.Invoked),
            )
        ),
        20,
    )


@pytest.mark.parametrize("which", range(4))
async def test_a_secret_file_shown_under_another_scheme_is_not_completed(
    tmp_path: Path, recording_backend: FakeOpenAI, which: int
) -> None:
    root = tmp_path / "ws"
    root.mkdir()
    (root / ".env").write_text(ENV)
    (root / "job.py").write_text("def run():\n    return \n")
    capabilities = client_capabilities("visual-studio-code")
    capabilities.text_document.inline_completion = types.InlineCompletionClientCapabilities()
    uri = _other_scheme_uris(root.resolve())[which]
    async with lsp_session(
        root,
        initialization_options=fake_backend_options(recording_backend),
        capabilities=capabilities,
        command=SERVE_COMMAND,
    ) as session:
        await session.wait_for_status("ready")
        session.client.text_document_did_open(
            types.DidOpenTextDocumentParams(
                text_document=types.TextDocumentItem(uri=uri, language_id="python", version=1, text=ENV)
            )
        )
        result = await _inline(session, uri)
        assert result is None or not getattr(result, "items", result)
        # The server still completes a plain file afterwards, so the refusal above was the policy's.
        await _inline(session, session.open("job.py"))
    assert len(recording_backend.requests) == 1
    assert ENV_VALUE not in every_prompt_text(recording_backend)
