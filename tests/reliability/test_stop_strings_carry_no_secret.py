"""Trust: a stop string is sent to the model server with the prompt, so it must give away nothing the
prompt's redaction took out.

A multi-line completion stops at the suffix's next line (``suffix_echo_stop``): that line is copied from the
document, and when it holds a secret the OpenAI-compatible backend sent it in the request's ``stop`` list,
outside every text the redacting backend scanned.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from fake_openai import FakeOpenAI
from lsp_harness import lsp_session
from lsprotocol import types
from pytest_lsp import client_capabilities
from reliability_support import SERVE_COMMAND, every_prompt_text, fake_backend_options

from roost.engine.backends.redacting import redact_request
from roost.engine.types import GenerationRequest

AWS_KEY = "AKIAQ3EGRTWXZ7PLM4NB"
KEY_LINE = "MIIEpAIBAAKCAQEA3Tz2mR8pQ7vX1kLwbN5sYcE0aH5jK2sU9dLq"
DOCUMENT = f'''def run():
    total = 1

    key = "{AWS_KEY}"
    return total
'''


def _capabilities() -> types.ClientCapabilities:
    capabilities = client_capabilities("visual-studio-code")
    capabilities.text_document.inline_completion = types.InlineCompletionClientCapabilities()
    return capabilities


async def test_the_line_after_the_cursor_holding_a_secret_is_not_sent_as_a_stop(
    tmp_path: Path, recording_backend: FakeOpenAI
) -> None:
    root = tmp_path / "ws"
    root.mkdir()
    (root / "job.py").write_text(DOCUMENT)
    async with lsp_session(
        root,
        initialization_options=fake_backend_options(
            recording_backend, completion={"debounce_ms": 0, "multiline": "always"}
        ),
        capabilities=_capabilities(),
        command=SERVE_COMMAND,
    ) as session:
        await session.wait_for_status("ready")
        uri = session.open("job.py", DOCUMENT)
        await asyncio.wait_for(
            session.client.text_document_inline_completion_async(
                types.InlineCompletionParams(
                    text_document=types.TextDocumentIdentifier(uri=uri),
                    position=types.Position(line=2, character=0),  # the empty line above the key
                    context=types.InlineCompletionContext(
                        trigger_kind=types.InlineCompletionTriggerKind.Invoked
                    ),
                )
            ),
            20,
        )
    assert len(recording_backend.requests) == 1, "the document is completed"
    assert "[REDACTED]" in recording_backend.requests[0]["prompt"]
    assert AWS_KEY not in every_prompt_text(recording_backend)


def test_a_stop_holding_a_piece_of_a_redacted_value_is_dropped_and_plain_stops_are_kept() -> None:
    # A key block's body line is no secret to the scanner on its own; it is one inside the block.
    suffix = (
        f"\n-----BEGIN RSA PRIVATE KEY-----\n{KEY_LINE}\n-----END RSA PRIVATE KEY-----\n    return total\n"
    )
    request = GenerationRequest(
        prompt="def run():\n",
        suffix=suffix,
        stop_sequences=("\n\n\n", f"{KEY_LINE}\n", f'    key = "{AWS_KEY}"\n', "    return total\n"),
    )
    sent = redact_request(request)
    assert sent.stop_sequences == ("\n\n\n", "    return total\n")
