"""Trust, point 3: no secret of the workspace, or of the machine, reaches a model backend.

Distinct secrets (AWS key ids, GitHub tokens, a private key block, a password assignment) are planted in
every place a prompt used to be built from: the open document being completed, an open ``.env`` and
``secrets.py``, a file the user excluded (``completion.exclude``), a file inside the workspace the editor
never opened, files outside the workspace (asked for by URI without opening them, then opened), a file
that imports the edited one (the "edit selection" action adds it as related code) and a fix-up's
conversation (the user's message and the model's earlier answer). Every path is driven through the real
server against a backend that records each request; the test checks that the paths that should reach
the backend did, and that no planted secret is in anything it received.
"""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path
from typing import Any

import pytest
from fake_openai import FakeOpenAI
from lsp_harness import LspSession, lsp_session
from lsprotocol import types
from pygls.exceptions import JsonRpcException
from pytest_lsp import client_capabilities
from reliability_support import SERVE_COMMAND, every_prompt_text, fake_backend_options

from roost.engine.gate.secrets import scan_secrets

TIMEOUT_S = 20.0

# One distinct secret per place, so a failure names the path that leaked.
SECRETS = {
    "buffer-aws": "AKIAQ3EGRTWXZ7PLM4NB",
    "buffer-password": "Zq8#vLm2!pR7tYw4",
    "buffer-private-key": "MIIEpAIBAAKCAQEA3Tz2mR8pQ7vX1kLwbN5sYcE",
    "env-aws": "AKIAZ7RM2KX4TQW9B3NV",
    "env-plain": "plain-env-value-7c1e",  # no pattern finds this one: only the file rule keeps it out
    "secrets-py-github": "ghp_R4nD0mT0k3nF0rS3cr3tsPyF1l3xxxxxxxxx1",
    "secrets-py-plain": "plain-secrets-py-value-2b9d",
    "unopened-github": "ghp_Un0p3n3dF1l3T0k3nV4lu3xxxxxxxxxxxxx2",
    "outside-aws": "AKIAVN3Q8XW2MZR7TK4P",
    "outside-plain": "plain-outside-value-5f3a",
    "aws-credentials-plain": "plain-aws-credentials-9e8d",
    "dependent-github": "ghp_D3p3nd3ntF1l3T0k3nV4lu3xxxxxxxxxxxx3",
    "fixup-message-aws": "AKIAPW5XK3MR8ZQ2TN7V",
    "excluded-plain": "plain-excluded-value-4a6c",
    "fixup-answer-github": "ghp_F1xupAnsw3rT0k3nV4lu3xxxxxxxxxxxxxx4",
}
PATTERN_SECRETS = [name for name in SECRETS if "plain" not in name]

CONFIG = f'''"""Service configuration."""

AWS_KEY_ID = "{SECRETS["buffer-aws"]}"
DB_PASSWORD = "{SECRETS["buffer-password"]}"
# BEFORE_KEY
SIGNING_KEY = """-----BEGIN RSA PRIVATE KEY-----
{SECRETS["buffer-private-key"]}
R8pQ7vX1kLwbN5sYcE3Tz2mMIIEpAIBAAKCAQEA
-----END RSA PRIVATE KEY-----"""
# AFTER_KEY


def connect(host):
    return host


def endpoint():
    return '''
CONNECT_LINE = CONFIG.split("\n").index("def connect(host):")
CLIENT = f"""from app.config import connect

API_TOKEN = "{SECRETS["dependent-github"]}"
session = connect(API_TOKEN)
"""
ENV = f"AWS_ACCESS_KEY_ID={SECRETS['env-aws']}\nDATABASE_NAME={SECRETS['env-plain']}\n"
SECRETS_PY = f'GITHUB_TOKEN = "{SECRETS["secrets-py-github"]}"\nNAME = "{SECRETS["secrets-py-plain"]}"\n'
UNOPENED = f'TOKEN = "{SECRETS["unopened-github"]}"\n\n\ndef helper():\n    return \n'
OUTSIDE = (
    f'KEY = "{SECRETS["outside-aws"]}"\nNAME = "{SECRETS["outside-plain"]}"\n\n\ndef f():\n    return \n'
)
AWS_CREDENTIALS = f"[default]\naws_access_key_id = {SECRETS['aws-credentials-plain']}\n"
PRIVATE = f'NAME = "{SECRETS["excluded-plain"]}"\nX = 1\n'
FIXUP_ANSWER = (
    f'```python\ndef connect(host):\n    token = "{SECRETS["fixup-answer-github"]}"\n    return host\n```'
)


def _capabilities() -> types.ClientCapabilities:
    capabilities = client_capabilities("visual-studio-code")
    capabilities.text_document.inline_completion = types.InlineCompletionClientCapabilities()
    return capabilities


def _plant(tmp_path: Path) -> Path:
    root = tmp_path / "ws"
    (root / "app").mkdir(parents=True)
    (root / "app" / "__init__.py").write_text("")
    (root / "app" / "config.py").write_text(CONFIG)
    (root / "app" / "client.py").write_text(CLIENT)
    (root / "app" / "unopened.py").write_text(UNOPENED)
    (root / "app" / "secrets.py").write_text(SECRETS_PY)
    (root / "app" / "private").mkdir()
    (root / "app" / "private" / "notes.py").write_text(PRIVATE)
    (root / ".env").write_text(ENV)
    (tmp_path / "outside").mkdir()
    (tmp_path / "outside" / "creds.py").write_text(OUTSIDE)
    (tmp_path / "home" / ".aws").mkdir(parents=True)
    (tmp_path / "home" / ".aws" / "credentials").write_text(AWS_CREDENTIALS)
    return root


async def _inline(session: LspSession, uri: str, line: int, character: int) -> Any:
    return await asyncio.wait_for(
        session.client.text_document_inline_completion_async(
            types.InlineCompletionParams(
                text_document=types.TextDocumentIdentifier(uri=uri),
                position=types.Position(line=line, character=character),
                context=types.InlineCompletionContext(trigger_kind=types.InlineCompletionTriggerKind.Invoked),
            )
        ),
        TIMEOUT_S,
    )


async def _refused(session: LspSession, fake: FakeOpenAI, uri: str, line: int, character: int) -> str:
    """Complete at ``uri``; the result must be empty, no request sent; returns the reason given."""
    before = len(fake.requests)
    result = await _inline(session, uri, line, character)
    assert result is None or not result.items
    assert len(fake.requests) == before, f"{uri} must not reach the backend"
    details = await session.client.protocol.send_request_async("roost/completionDetails", {"uri": uri})
    assert details.source == "refused"
    return str(details.message)


async def _command(session: LspSession, name: str, argument: dict[str, Any]) -> Any:
    return await asyncio.wait_for(
        session.client.workspace_execute_command_async(
            types.ExecuteCommandParams(command=name, arguments=[argument])
        ),
        TIMEOUT_S,
    )


def _line_distance(text: str, first: str, second: str) -> int:
    lines = text.split("\n")
    return next(i for i, x in enumerate(lines) if second in x) - next(
        i for i, x in enumerate(lines) if first in x
    )


def test_the_gate_detects_every_planted_secret() -> None:
    for name in PATTERN_SECRETS:
        value = SECRETS[name]
        planted = {
            "buffer-password": CONFIG,
            "buffer-private-key": CONFIG,
        }.get(name, f'VALUE = "{value}"\n')
        found = [planted[h.start : h.end] for h in scan_secrets(planted)]
        assert any(value in hit for hit in found), f"the gate's patterns must detect {name}"


def test_every_text_field_of_a_request_is_redacted_and_token_ids_are_refused() -> None:
    from roost.engine.backends.redacting import redact_request
    from roost.engine.types import ChatMessage, GenerationRequest, UnsupportedRequestError

    chat = GenerationRequest(
        messages=(ChatMessage("system", "be brief"), ChatMessage("user", CONFIG)),
        assistant_prefill=f'```python\nKEY = "{SECRETS["buffer-aws"]}"\n',
    )
    fim = GenerationRequest(prompt=CONFIG, suffix=CLIENT)
    redacted = [redact_request(chat), redact_request(fim)]
    texts = [m.content for m in redacted[0].messages or ()] + [
        redacted[0].assistant_prefill,
        redacted[1].prompt or "",
        redacted[1].suffix or "",
    ]
    assert not [name for name, value in SECRETS.items() if any(value in text for text in texts)]
    assert (redacted[1].prompt or "").count("\n") == CONFIG.count("\n"), "placeholders keep the line count"
    with pytest.raises(UnsupportedRequestError):
        redact_request(GenerationRequest(prompt_token_ids=(1, 2, 3)))


@pytest.mark.parametrize("cut", [4, 12, 19])
def test_a_secret_split_between_the_prompt_and_its_forced_start_is_redacted_whole(cut: int) -> None:
    from roost.engine.backends.redacting import redact_request
    from roost.engine.types import GenerationRequest

    # Token healing leaves the cursor's partial word out of the prompt; the cursor may sit in a key.
    line = f'KEY = "{SECRETS["buffer-aws"]}'
    prompt, forced = "x = 1\n" + line[: len('KEY = "') + cut], line[len('KEY = "') + cut :]
    redacted = redact_request(GenerationRequest(prompt=prompt, forced_start=forced))
    sent = (redacted.prompt or "") + redacted.forced_start
    assert SECRETS["buffer-aws"][:cut] not in sent and SECRETS["buffer-aws"][cut:] not in sent
    assert sent.startswith("x = 1\n") and "[REDACTED]" in sent
    # Nothing to redact: the split is kept (the forced start stays forced).
    plain = redact_request(GenerationRequest(prompt="def f():\n", forced_start="    retu"))
    assert (plain.prompt, plain.forced_start) == ("def f():\n", "    retu")


def test_values_of_secret_files_are_redacted_wherever_they_were_copied() -> None:
    from roost.engine.backends.redacting import known_secrets_redactor

    # What the server collects from .env at start-up: a credential and two plain settings.
    known = frozenset({SECRETS["env-plain"], "localhost", "production"})
    redact = known_secrets_redactor(lambda: known)
    code = f'db = connect("{SECRETS["env-plain"]}", host="localhost")\nmode = "production"\n'
    assert redact(code) == 'db = connect("[REDACTED]", host="localhost")\nmode = "production"\n'


async def test_no_planted_secret_reaches_the_backend(tmp_path: Path, recording_backend: FakeOpenAI) -> None:
    root = _plant(tmp_path)
    fake = recording_backend
    fake.rules.insert(0, ("add type hints", FIXUP_ANSWER))
    async with lsp_session(
        root,
        initialization_options=fake_backend_options(
            fake, completion={"debounce_ms": 0, "exclude": ["app/private/"]}
        ),
        capabilities=_capabilities(),
        command=SERVE_COMMAND,
    ) as session:
        await session.wait_for_status("ready")

        # 1. The open document being completed: asked, and redacted with its line count kept.
        config_uri = session.open("app/config.py", CONFIG)
        last = CONFIG.split("\n")
        await _inline(session, config_uri, len(last) - 1, len(last[-1]))
        assert len(fake.requests) == 1, "the open document is completed"
        prompt = fake.requests[-1]["prompt"]
        assert "def connect(host):" in prompt and "[REDACTED]" in prompt
        assert _line_distance(prompt, "# BEFORE_KEY", "# AFTER_KEY") == _line_distance(
            CONFIG, "# BEFORE_KEY", "# AFTER_KEY"
        ), "a redacted private key keeps its lines"

        # 2. Open secret files: no prompt at all, whatever their values look like.
        env_uri = session.open(".env", ENV, language_id="dotenv")
        assert "secret files (.env)" in await _refused(session, fake, env_uri, 1, 5)
        secrets_uri = session.open("app/secrets.py", SECRETS_PY)
        assert "secret files (secrets.py)" in await _refused(session, fake, secrets_uri, 1, 4)

        # …and so are the user's exclusions (completion.exclude here; index.exclude counts too).
        private_uri = session.open("app/private/notes.py", PRIVATE)
        assert "excluded files" in await _refused(session, fake, private_uri, 1, 4)

        # 3. Files the editor never opened, inside and outside the workspace: never read for a prompt.
        assert "not opened" in await _refused(session, fake, session.uri("app/unopened.py"), 4, 11)
        outside = (tmp_path / "outside" / "creds.py").as_uri()
        assert "not opened" in await _refused(session, fake, outside, 5, 11)
        credentials = (tmp_path / "home" / ".aws" / "credentials").as_uri()
        await _refused(session, fake, credentials, 1, 10)
        # …and opened, a file outside the workspace still gets no prompt.
        session.client.text_document_did_open(
            types.DidOpenTextDocumentParams(
                text_document=types.TextDocumentItem(
                    uri=outside, language_id="python", version=1, text=OUTSIDE
                )
            )
        )
        assert "outside the workspace" in await _refused(session, fake, outside, 5, 11)

        # 4. "Edit selection": the file that imports the edited one goes to the model as related code.
        actions = await asyncio.wait_for(
            session.client.text_document_code_action_async(
                types.CodeActionParams(
                    text_document=types.TextDocumentIdentifier(uri=config_uri),
                    range=types.Range(
                        start=types.Position(line=CONNECT_LINE, character=0),
                        end=types.Position(line=CONNECT_LINE + 2, character=0),
                    ),
                    context=types.CodeActionContext(diagnostics=[]),
                )
            ),
            TIMEOUT_S,
        )
        edit = next(
            a
            for a in actions or []
            if isinstance(a, types.CodeAction) and a.title == "Roost: add a docstring"
        )
        before = len(fake.requests)
        with contextlib.suppress(JsonRpcException):  # the scripted answer need not make an applicable edit
            await asyncio.wait_for(session.client.code_action_resolve_async(edit), TIMEOUT_S)
        assert len(fake.requests) == before + 1
        assert "app/client.py" in every_prompt_text(fake), "the dependent file was sent as related code"

        # 5. Fix-up history: the user's message and the model's earlier answer go back with the reply.
        selection = {
            "start": {"line": CONNECT_LINE, "character": 0},
            "end": {"line": CONNECT_LINE + 2, "character": 0},
        }
        started = await _command(
            session,
            "roost.fixup.start",
            {
                "uri": config_uri,
                "range": selection,
                "instruction": f"add type hints; key {SECRETS['fixup-message-aws']}",
            },
        )
        session_id = started["session"] if isinstance(started, dict) else started.session
        await _command(session, "roost.fixup.reply", {"session": session_id, "message": "shorter please"})
        last_chat = fake.requests[-1]["messages"]
        assert any(m["role"] == "assistant" and "def connect" in m["content"] for m in last_chat), (
            "the reply carried the conversation so far"
        )

    sent = every_prompt_text(fake)
    leaked = [name for name, value in SECRETS.items() if value in sent]
    assert leaked == [], f"secrets reached the backend: {leaked}"
