"""Inline completion with the real offline model (Qwen2.5-Coder-0.5B), end to end over stdio: the cursor
needs a definition from another file, retrieval brings it, the model completes, the gate passes it."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from lsp_harness import REPO_ROOT, lsp_session, server_env
from lsprotocol import types
from model_packages import shared_model_cache, skip_without_default_model
from pytest_lsp import client_capabilities

pytestmark = pytest.mark.model


async def test_inline_completion_with_the_real_model_uses_cross_file_context(tmp_path: Path) -> None:
    skip_without_default_model()
    root = tmp_path / "examples"
    shutil.copytree(
        REPO_ROOT / "examples", root, ignore=shutil.ignore_patterns("__pycache__", "node_modules")
    )
    capabilities = client_capabilities("visual-studio-code")
    capabilities.text_document.inline_completion = types.InlineCompletionClientCapabilities()
    # The whole prompt (with its context) even where the CPU could not prefill it within the first answer's
    # time (completion.first_answer_ms: tests/lsp_features/test_quick_prompt.py).
    options = {
        "completion": {"max_tokens": 12, "debounce_ms": 0, "first_answer_ms": 0},
        "context": {"budget": 768},
    }
    text = (root / "shop/services/checkout.py").read_text() + (
        "\n\ndef total_cents(cart) -> int:\n    return price_cart(cart)."
    )
    env = server_env(tmp_path, {"ROOST_CACHE_DIR": shared_model_cache()})
    async with lsp_session(
        root, initialization_options=options, capabilities=capabilities, env=env
    ) as session:
        await session.wait_for_status("ready", timeout=120)
        uri = session.open("shop/services/checkout.py", text)
        lines = text.split("\n")
        result = await session.client.text_document_inline_completion_async(
            types.InlineCompletionParams(
                text_document=types.TextDocumentIdentifier(uri=uri),
                position=types.Position(line=len(lines) - 1, character=len(lines[-1])),
                context=types.InlineCompletionContext(trigger_kind=types.InlineCompletionTriggerKind.Invoked),
            )
        )
        details = await session.client.protocol.send_request_async("roost/completionDetails", {"uri": uri})
        assert details.source == "model", details
        assert result is not None and result.items and result.items[0].insert_text.strip()
        context_paths = {item.path for item in details.context}
        assert "shop/services/pricing.py" in context_paths, context_paths
        assert details.timings_ms.model > 0 and details.timings_ms.retrieval >= 0
        assert any(status["state"] == "loading_model" for status in session.statuses)
