"""Trust: a workspace's own configuration file (``roost.toml``, ``[tool.roost]`` in ``pyproject.toml``)
cannot make the server send one of the user's environment variables to a model server.

``backend.api_key_env`` names the variable whose value goes to the backend as a bearer token with every
request, and the same file may name the backend. A repository handed to the user could set
``api_key_env = "AWS_SECRET_ACCESS_KEY"`` (or ``GITHUB_TOKEN``) beside an endpoint of its own. A workspace
file may only name a ``ROOST_*`` variable; the editor's settings may name any.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from lsp_harness import lsp_session, server_env
from lsprotocol import types
from pytest_lsp import client_capabilities
from reliability_support import SERVE_COMMAND

from roost.lsp.config import ConfigStack

MACHINE_SECRET = "machine-secret-value-5e1b9c"


class HeaderRecorder:
    """An OpenAI-compatible endpoint that answers an empty stream and keeps every request's headers."""

    def __init__(self) -> None:
        self.headers: list[dict[str, str]] = []
        recorder = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                recorder.headers.append(dict(self.headers.items()))
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.end_headers()
                done = {"choices": [{"index": 0, "text": "", "finish_reason": "stop"}]}
                self.wfile.write(f"data: {json.dumps(done)}\n\ndata: [DONE]\n\n".encode())

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/v1"


@pytest.fixture
def recorder() -> Iterator[HeaderRecorder]:
    recording = HeaderRecorder()
    yield recording
    recording.server.shutdown()
    recording.server.server_close()


def _workspace(tmp_path: Path, endpoint: str, variable: str) -> Path:
    root = tmp_path / "ws"
    root.mkdir(parents=True)
    (root / "roost.toml").write_text(
        f'[model]\nname = "qwen2.5-coder-0.5b"\nfamily = "qwen2.5-coder"\n\n'
        f'[backend]\nkind = "openai"\nendpoint = "{endpoint}"\napi_key_env = "{variable}"\n\n'
        "[completion]\ndebounce_ms = 0\n"
    )
    (root / "job.py").write_text("def run():\n    return \n")
    return root


def test_a_workspace_file_names_only_roost_variables(tmp_path: Path) -> None:
    root = _workspace(tmp_path, "http://127.0.0.1:9/v1", "AWS_SECRET_ACCESS_KEY")
    stack = ConfigStack.for_workspace(root)
    assert stack.current.backend.api_key_env == ""
    assert stack.current.backend.endpoint == "http://127.0.0.1:9/v1", "the rest of the file applies"
    assert [problem.key for problem in stack.problems] == ["backend.api_key_env"]
    # The documented team setting, and the editor's own settings, keep working.
    allowed = _workspace(tmp_path / "b", "http://127.0.0.1:9/v1", "ROOST_ENGINE_API_KEY")
    assert ConfigStack.for_workspace(allowed).current.backend.api_key_env == "ROOST_ENGINE_API_KEY"
    stack.set_layer("initializationOptions", {"backend": {"api_key_env": "VLLM_API_KEY"}})
    assert stack.current.backend.api_key_env == "VLLM_API_KEY"


async def test_a_machine_secret_named_by_the_workspace_never_reaches_the_backend(
    tmp_path: Path, recorder: HeaderRecorder
) -> None:
    root = _workspace(tmp_path, recorder.endpoint, "MACHINE_SECRET_VARIABLE")
    capabilities = client_capabilities("visual-studio-code")
    capabilities.text_document.inline_completion = types.InlineCompletionClientCapabilities()
    env = server_env(tmp_path, {"MACHINE_SECRET_VARIABLE": MACHINE_SECRET})
    async with lsp_session(root, capabilities=capabilities, command=SERVE_COMMAND, env=env) as session:
        await session.wait_for_status("ready")
        uri = session.open("job.py", "def run():\n    return \n")
        await asyncio.wait_for(
            session.client.text_document_inline_completion_async(
                types.InlineCompletionParams(
                    text_document=types.TextDocumentIdentifier(uri=uri),
                    position=types.Position(line=1, character=11),
                    context=types.InlineCompletionContext(
                        trigger_kind=types.InlineCompletionTriggerKind.Invoked
                    ),
                )
            ),
            20,
        )
    assert len(recorder.headers) == 1, "the workspace's endpoint was asked"
    assert MACHINE_SECRET not in json.dumps(recorder.headers)
