"""``roost context --json`` shows the prompt the language server sends, byte for byte.

The server runs over stdio with the real LSP client, its backend an OpenAI-compatible model server (the
recording test double in fake_openai.py): the prompt is captured on the wire, after the server's
redaction (a credential in the document is redacted on both sides). The workspace's roost.toml configures both the server and the preview. Cursors: mid-line,
end of line, an empty line (multi-line), and cursors whose completion needs another file's definitions;
budgets 256 to 2048 with different shares (one set summing above 1: weights, normalised)."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from fake_openai import FakeOpenAI
from lsp_harness import lsp_session, server_env
from lsprotocol import types
from model_packages import shared_model_cache, skip_without_default_model
from pytest_lsp import client_capabilities

ORDERS = '''"""Orders and their totals."""

from shop.shapes import Circle, circle_area


class Order:
    """A customer's order of circular things."""

    def __init__(self, customer: str) -> None:
        self.customer = customer
        self.items: list[Circle] = []

    def add(self, radius: float) -> None:
        self.items.append(Circle(radius))

    def area(self) -> float:
        total = 0.0
        for item in self.items:
            total += circle_area(item)
        return total

    def describe(self) -> str:
        lines = [f"order for {self.customer}"]
        for index, item in enumerate(self.items):
            lines.append(f"{index}: radius {item.radius}")

        return "\\n".join(lines)


def biggest(orders: list[Order]) -> Order:
    return max(orders, key=lambda order: order.area())


def cheapest(orders: list[Order]) -> Order:
    return min(orders, key=lambda order: order.area())


# A credential in the code: the server redacts every prompt it sends, and so must the preview.
PRICING_TOKEN = "ghp_a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8"
'''


@dataclass(frozen=True)
class Cursor:
    name: str
    path: str
    line: int  # 0-based
    marker: str  # the cursor goes right after the first occurrence of this text on the line ("" = col 0)
    at_end: bool = False


CURSORS = (
    Cursor("mid-line, cross-file", "shop/main.py", 4, "return sum(circle_area("),
    Cursor("end of line, cross-file member", "shop/report.py", 5, "", at_end=True),
    Cursor("empty line in a method", "shop/orders.py", 25, ""),
    Cursor("mid-line, imported name", "shop/orders.py", 18, "total += circle_"),
)
CONFIGS = (
    (256, (0.35, 0.15, 0.50)),
    (1024, (0.6, 0.2, 0.6)),  # sums to 1.4: weights
    (2048, (0.2, 0.1, 0.7)),
)


def _config_toml(endpoint: str, budget: int, shares: tuple[float, float, float]) -> str:
    prefix, suffix, context = shares
    return (
        f'[backend]\nkind = "openai"\nendpoint = "{endpoint}"\ntimeout_s = 10.0\n\n'
        '[model]\nname = "qwen2.5-coder-0.5b"\nfamily = "qwen2.5-coder"\n\n'
        "[completion]\ndebounce_ms = 0\n\n"
        f"[context]\nbudget = {budget}\nprefix_share = {prefix}\nsuffix_share = {suffix}\n"
        f"context_share = {context}\n"
        # The shares as written, also at 256 tokens (the file-first default would leave no context there).
        "min_file_tokens = 0\n"
    )


def _position(root: Path, cursor: Cursor) -> types.Position:
    text = (root / cursor.path).read_text()
    line = text.split("\n")[cursor.line]
    if cursor.at_end:
        return types.Position(line=cursor.line, character=len(line))
    if not cursor.marker:
        return types.Position(line=cursor.line, character=0)
    found = line.find(cursor.marker)
    assert found >= 0, (cursor, line)
    return types.Position(line=cursor.line, character=found + len(cursor.marker))


def _roost_context(root: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "roost.lsp.cli", "context", str(root), *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )


def _preview(
    root: Path, env: dict[str, str], path: str, position: types.Position, *args: str
) -> dict[str, object]:
    done = _roost_context(root, env, f"{path}:{position.line + 1}:{position.character + 1}", "--json", *args)
    assert done.returncode == 0, done.stderr
    payload = json.loads(done.stdout)
    assert isinstance(payload, dict)
    return payload


def _inline_capabilities() -> types.ClientCapabilities:
    capabilities = client_capabilities("visual-studio-code")
    assert capabilities.text_document is not None
    capabilities.text_document.inline_completion = types.InlineCompletionClientCapabilities()
    return capabilities


async def _server_prompts(
    root: Path, env: dict[str, str], fake: FakeOpenAI, cursors: tuple[Cursor, ...]
) -> dict[str, str]:
    """The prompt the server sent the model for each cursor, one document open at a time (another open
    document would be context the preview cannot know of)."""
    prompts: dict[str, str] = {}
    async with lsp_session(root, capabilities=_inline_capabilities(), env=env) as session:
        await session.wait_for_status("ready")
        for cursor in cursors:
            sent_before = len(fake.completion_requests())
            uri = session.open(cursor.path)
            await session.client.text_document_inline_completion_async(
                types.InlineCompletionParams(
                    text_document=types.TextDocumentIdentifier(uri=uri),
                    position=_position(root, cursor),
                    context=types.InlineCompletionContext(
                        trigger_kind=types.InlineCompletionTriggerKind.Invoked
                    ),
                )
            )
            session.client.text_document_did_close(
                types.DidCloseTextDocumentParams(text_document=types.TextDocumentIdentifier(uri=uri))
            )
            sent = fake.completion_requests()[sent_before:]
            assert len(sent) == 1, (cursor, sent)
            prompts[cursor.name] = sent[0]["prompt"]
    return prompts


@pytest.mark.parametrize(("budget", "shares"), CONFIGS, ids=[str(budget) for budget, _ in CONFIGS])
async def test_roost_context_shows_the_prompt_the_server_sends(
    workspace: Path, tmp_path: Path, budget: int, shares: tuple[float, float, float]
) -> None:
    (workspace / "shop" / "orders.py").write_text(ORDERS)
    env = server_env(tmp_path)
    with FakeOpenAI() as fake:
        (workspace / "roost.toml").write_text(_config_toml(fake.endpoint, budget, shares))
        sent = await _server_prompts(workspace, env, fake, CURSORS)

    shapes = set()
    cross_file = 0
    for cursor in CURSORS:
        preview = _preview(workspace, env, cursor.path, _position(workspace, cursor))
        assert preview["prompt"] == sent[cursor.name], cursor.name
        assert preview["budgets"]["total"] == budget  # type: ignore[index]
        shapes.add(preview["shape"])
        items = preview["items"]
        assert isinstance(items, list)
        cross_file += any(item["path"] != cursor.path for item in items)
    assert shapes == {"single", "multi"}
    assert cross_file >= 2, "cursors whose prompt holds another file's code"
    if budget == 256:
        # The smallest budget trims the document: the comparison covers the packer's cuts too.
        assert '"""Orders and their totals."""' not in sent["empty line in a method"]
    if budget == 2048:
        # The whole file fits, credential included: redacted on the wire and in the preview alike.
        assert 'PRICING_TOKEN = "[REDACTED]' in sent["empty line in a method"]
        assert "ghp_a1B2" not in sent["empty line in a method"]


def test_config_overrides_stand_for_an_editors_settings(workspace: Path, tmp_path: Path) -> None:
    """``--config section.key=VALUE`` (TOML or plain text) layers over the workspace's file, as the
    server's initializationOptions do; a bad value is reported, not a traceback."""
    env = server_env(tmp_path)
    position = types.Position(line=4, character=4)
    overrides = ("--config", "backend.kind=openai", "--config", 'model.family="qwen2.5-coder"')
    budget = ("--config", "context.budget=128", "--config", "context.min_file_tokens=0")
    preview = _preview(workspace, env, "shop/main.py", position, *overrides, *budget)
    assert preview["budgets"] == {"total": 128, "prefix": 44, "suffix": 19, "context": 64}
    assert isinstance(preview["prompt_tokens"], int) and preview["prompt_tokens"] <= 128
    bad = _roost_context(workspace, env, "shop/main.py:5:5", *overrides, "--config", "context.budget=lots")
    assert bad.returncode == 2 and "context.budget" in bad.stderr and "Traceback" not in bad.stderr


@pytest.mark.model
async def test_roost_context_matches_the_in_process_model_server(workspace: Path, tmp_path: Path) -> None:
    """With the default in-process model (the server's own tokenizer counts): the server reports the chosen
    context and the prompt's size (roost/completionDetails), which must be the preview's."""
    skip_without_default_model()
    (workspace / "shop" / "orders.py").write_text(ORDERS)
    (workspace / "roost.toml").write_text(
        # The whole prompt always: a first answer from a shorter one (first_answer_ms) is not what the preview shows.
        "[completion]\ndebounce_ms = 0\nmax_tokens = 4\nfirst_answer_ms = 0\n\n[context]\nbudget = 384\n"
    )
    env = server_env(tmp_path, {"ROOST_CACHE_DIR": shared_model_cache()})
    cursor = CURSORS[3]
    position = _position(workspace, cursor)
    async with lsp_session(workspace, capabilities=_inline_capabilities(), env=env) as session:
        await session.wait_for_status("ready", timeout=120)
        uri = session.open(cursor.path)
        await session.client.text_document_inline_completion_async(
            types.InlineCompletionParams(
                text_document=types.TextDocumentIdentifier(uri=uri),
                position=position,
                context=types.InlineCompletionContext(trigger_kind=types.InlineCompletionTriggerKind.Invoked),
            )
        )
        details = await session.client.protocol.send_request_async("roost/completionDetails", {"uri": uri})
    preview = _preview(workspace, env, cursor.path, position)
    assert details.source in ("model", "empty"), details  # the model answered (whatever it said)
    assert details.prompt_tokens > 0
    assert details.prompt_tokens == preview["prompt_tokens"]
    assert details.shape == preview["shape"]
    # The in-process engine heals: the prompt stops before the partial word, which is forced.
    assert preview["forced_start"] == " circle_"
    assert str(preview["prompt"]).endswith("total +=")
    server_items = [
        (item.path, item.start_line + 1, item.end_line + 1, item.tokens) for item in details.context
    ]
    preview_items = [
        (item["path"], item["start_line"], item["end_line"], item["tokens"])
        for item in preview["items"]  # type: ignore[attr-defined]
    ]
    assert server_items == preview_items
