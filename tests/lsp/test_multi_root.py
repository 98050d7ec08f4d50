"""One server serves every workspace folder of a multi-root window (VS Code, generic clients): each folder
has its own index, settings (exclusions) and secrets, all share one model, and a document's prompt is built
from its own folder only. Every byte the recording backend receives counts: a folder's code never reaches a
prompt for another folder's document.

The real ``roost serve --stdio`` over the raw client, with the recording fake backend of the trust tests.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

_RELIABILITY = Path(__file__).resolve().parents[1] / "reliability"
if str(_RELIABILITY) not in sys.path:
    sys.path.insert(0, str(_RELIABILITY))

from raw_client import Message, RawClient  # noqa: E402
from reliability_support import FakeOpenAI, every_prompt_text, fake_backend_options  # noqa: E402

ALPHA_MARKER = "ALPHA_ONLY_7f3a"
BETA_MARKER = "BETA_ONLY_9c1e"
# A document that calls a function each folder defines in its own helpers.py: retrieval brings that
# definition (and its marker) into the prompt, from the document's own folder.
CALLER = "from helpers import compute\n\n\ndef use():\n    return compute("
CALLER_CURSOR = (4, 19)


def _folder(root: Path, marker: str) -> Path:
    root.mkdir(parents=True)
    (root / "helpers.py").write_text(f'def compute(value):\n    return "{marker}" + str(value)\n')
    return root


def _wait_ready(client: RawClient, timeout: float = 120.0) -> Message:
    """The next ``ready`` status that counts indexed files (every folder's index done)."""
    return client.wait_for(
        lambda m: (
            m.get("method") == "roost/status"
            and m["params"]["state"] == "ready"
            and "files indexed" in m["params"]["message"]
        ),
        timeout,
    )


def _complete(client: RawClient, path: Path, text: str = CALLER, at: tuple[int, int] = CALLER_CURSOR) -> Any:
    uri = path.resolve().as_uri()
    client.open_document(uri, text)
    return client.inline_completion(uri, *at)


def _sent_since(fake: FakeOpenAI, start: int) -> str:
    return "\n".join(json.dumps(body) for body in fake.completion_requests()[start:])


def _folders_changed(client: RawClient, added: tuple[Path, ...] = (), removed: tuple[Path, ...] = ()) -> None:
    def folders(paths: tuple[Path, ...]) -> list[dict[str, str]]:
        return [{"uri": p.resolve().as_uri(), "name": p.name} for p in paths]

    client.notify(
        "workspace/didChangeWorkspaceFolders",
        {"event": {"added": folders(added), "removed": folders(removed)}},
    )


def _poll(condition: Callable[[], bool], timeout: float = 30.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.2)
    return condition()


def test_the_server_advertises_workspace_folder_changes(tmp_path: Path) -> None:
    alpha = _folder(tmp_path / "alpha", ALPHA_MARKER)
    with RawClient(alpha) as client:
        capabilities = client.initialize()["result"]["capabilities"]
    folders = capabilities["workspace"]["workspaceFolders"]
    assert folders["supported"] is True and folders["changeNotifications"] is True, folders


def test_each_folder_s_prompts_come_from_its_own_index_only(tmp_path: Path) -> None:
    alpha = _folder(tmp_path / "alpha", ALPHA_MARKER)
    beta = _folder(tmp_path / "beta", BETA_MARKER)
    with FakeOpenAI(rules=[("", "value)")]) as fake, RawClient(alpha) as client:
        client.initialize({"roost": fake_backend_options(fake)}, more_folders=(beta,))
        assert "2 files indexed" in _wait_ready(client)["params"]["message"]
        texts, details = _complete(client, beta / "caller.py")
        assert texts == ["value)"], details
        beta_prompts = every_prompt_text(fake)
        assert BETA_MARKER in beta_prompts, "the completion in beta did not see beta's definition"
        assert ALPHA_MARKER not in beta_prompts, "alpha's code reached a prompt for a beta document"
        sent = len(fake.completion_requests())
        texts, details = _complete(client, alpha / "caller.py")
        assert texts == ["value)"], details
        alpha_prompts = _sent_since(fake, sent)
    assert ALPHA_MARKER in alpha_prompts and BETA_MARKER not in alpha_prompts


def test_a_folder_s_secrets_and_exclusions_are_its_own(tmp_path: Path) -> None:
    alpha = _folder(tmp_path / "alpha", ALPHA_MARKER)
    beta = _folder(tmp_path / "beta", BETA_MARKER)
    (beta / "roost.toml").write_text('[completion]\nexclude = ["generated/**"]\n')
    for folder in (alpha, beta):
        (folder / "generated").mkdir()
    with FakeOpenAI(rules=[("", "pass")]) as fake, RawClient(alpha) as client:
        client.initialize({"roost": fake_backend_options(fake)}, more_folders=(beta,))
        _wait_ready(client)
        texts, details = _complete(client, beta / ".env", "TOKEN=", (0, 6))
        assert texts == [] and details["source"] == "refused" and "secret" in details["message"], details
        texts, details = _complete(client, beta / "generated" / "g.py", "x = ", (0, 4))
        assert texts == [] and details["source"] == "refused" and "excluded" in details["message"], details
        # beta's exclusions are beta's: alpha's generated/ completes.
        texts, details = _complete(client, alpha / "generated" / "g.py", "x = ", (0, 4))
        assert texts == ["pass"], details


def test_a_document_outside_every_folder_is_still_refused(tmp_path: Path) -> None:
    alpha = _folder(tmp_path / "alpha", ALPHA_MARKER)
    beta = _folder(tmp_path / "beta", BETA_MARKER)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    with FakeOpenAI(rules=[("", "pass")]) as fake, RawClient(alpha) as client:
        client.initialize({"roost": fake_backend_options(fake)}, more_folders=(beta,))
        texts, details = _complete(client, elsewhere / "loose.py", "x = ", (0, 4))
    assert texts == [] and details["source"] == "refused", details
    assert "outside the workspace" in details["message"], details["message"]
    assert fake.completion_requests() == []


def test_a_nested_folder_serves_its_documents_with_its_own_settings(tmp_path: Path) -> None:
    outer = _folder(tmp_path / "outer", ALPHA_MARKER)
    inner = _folder(outer / "inner", BETA_MARKER)
    (inner / "roost.toml").write_text('[completion]\nexclude = ["private.py"]\n')
    with FakeOpenAI(rules=[("", "value)")]) as fake, RawClient(outer) as client:
        client.initialize({"roost": fake_backend_options(fake)}, more_folders=(inner,))
        _wait_ready(client)
        texts, details = _complete(client, inner / "private.py", "x = ", (0, 4))
        assert details["source"] == "refused" and "excluded" in details["message"], details
        texts, details = _complete(client, inner / "caller.py")
        assert texts == ["value)"], details
        prompts = every_prompt_text(fake)
    # The inner folder's helpers.py, not the outer's, is the caller's `helpers` module.
    assert BETA_MARKER in prompts and ALPHA_MARKER not in prompts


def test_another_folder_s_engine_settings_are_ignored_with_a_warning(tmp_path: Path) -> None:
    alpha = _folder(tmp_path / "alpha", ALPHA_MARKER)
    beta = _folder(tmp_path / "beta", BETA_MARKER)
    # The user settings name the model (they win over every folder's file); beta's file picks a gate
    # policy and a model server of its own, which only the first folder's file may.
    (beta / "roost.toml").write_text(
        '[gate]\nunscanned = "pass"\n[backend]\nserver = "vllm"\n[context]\nbudget = 900\n'
    )
    with FakeOpenAI(rules=[("", "value)")]) as fake, RawClient(alpha) as client:
        client.initialize({"roost": fake_backend_options(fake)}, more_folders=(beta,))
        warning = client.wait_for(
            lambda m: m.get("method") == "window/showMessage" and "gate.unscanned" in m["params"]["message"]
        )
        _wait_ready(client)
        texts, details = _complete(client, beta / "caller.py")
        assert texts == ["value)"], details
    message = warning["params"]["message"]
    assert warning["params"]["type"] == 2 and "beta" in message and "ignored" in message, message
    assert "backend.server" in message and "context.budget" not in message, message  # budget: beta's own
    models = {body.get("model") for body in fake.completion_requests()}
    assert models == {"qwen2.5-coder-0.5b"}, models


def test_an_untrusted_window_reads_every_folder_s_file_as_untrusted(tmp_path: Path) -> None:
    alpha = _folder(tmp_path / "alpha", ALPHA_MARKER)
    beta = _folder(tmp_path / "beta", BETA_MARKER)
    (beta / "roost.toml").write_text('[completion]\nexclude = ["**/*.py"]\n')
    with FakeOpenAI(rules=[("", "pass")]) as fake, RawClient(alpha) as client:
        options = {"roost": fake_backend_options(fake), "roostWorkspaceTrusted": False}
        client.initialize(options, more_folders=(beta,))
        texts, details = _complete(client, beta / "m.py", "def f():\n    return ", (1, 11))
    assert texts == ["pass"], details  # the untrusted file's completion.exclude was left out


def test_folders_added_and_removed_at_run_time_start_and_stop_their_index(tmp_path: Path) -> None:
    alpha = _folder(tmp_path / "alpha", ALPHA_MARKER)
    beta = _folder(tmp_path / "beta", BETA_MARKER)
    with FakeOpenAI(rules=[("", "value)")]) as fake, RawClient(alpha) as client:
        client.initialize({"roost": fake_backend_options(fake)})
        _wait_ready(client)
        texts, details = _complete(client, alpha / "caller.py")
        assert texts == ["value)"], details
        before = client.request("roost/debugStats", None)["result"]
        assert before["indexedFolders"] == 1, before

        _folders_changed(client, added=(beta,))
        _wait_ready(client)
        sent = len(fake.completion_requests())
        texts, details = _complete(client, beta / "caller.py")
        assert texts == ["value)"], details
        prompts = _sent_since(fake, sent)
        assert BETA_MARKER in prompts and ALPHA_MARKER not in prompts
        with_beta = client.request("roost/debugStats", None)["result"]
        assert with_beta["indexedFolders"] == 2, with_beta
        assert with_beta["threads"].get("roost-buffers", 0) == 2, with_beta["threads"]

        _folders_changed(client, removed=(beta,))
        texts, details = _complete(client, beta / "other.py", "x = ", (0, 4))
        assert texts == [] and details["source"] == "refused", details

        def folder_threads(stats: dict[str, Any]) -> dict[str, int]:
            # The shared executors' pools (asyncio's default executor, ThreadPoolExecutor) grow lazily
            # with the load on the machine, whatever the folders do: not a folder's to give back.
            return {
                name: count
                for name, count in stats["threads"].items()
                if not name.startswith(("asyncio", "ThreadPoolExecutor"))
            }

        def threads_back() -> bool:
            after = client.request("roost/debugStats", None)["result"]
            return after["indexedFolders"] == 1 and all(
                folder_threads(after).get(name, 0) <= count for name, count in folder_threads(before).items()
            )

        assert _poll(threads_back), (before["threads"], client.request("roost/debugStats", None)["result"])
        after = client.request("roost/debugStats", None)["result"]
        assert set(folder_threads(after)) <= set(folder_threads(before)), (
            before["threads"],
            after["threads"],
        )


def test_a_code_action_in_the_second_folder_edits_that_folder(tmp_path: Path) -> None:
    alpha = _folder(tmp_path / "alpha", ALPHA_MARKER)
    beta = _folder(tmp_path / "beta", BETA_MARKER)
    (beta / "shapes.py").write_text("def rectangle_area(width, height):\n    return width * height\n")
    with RawClient(alpha) as client:
        client.initialize(more_folders=(beta,))
        _wait_ready(client)
        uses = beta / "report.py"
        uri = uses.resolve().as_uri()
        client.open_document(uri, "def report(w, h):\n    print(rectangle_area(w, h))\n")
        place = {"start": {"line": 1, "character": 10}, "end": {"line": 1, "character": 10}}
        params = {"textDocument": {"uri": uri}, "range": place, "context": {"diagnostics": []}}
        actions = client.request("textDocument/codeAction", params)["result"]
    imports = [a for a in actions if "rectangle_area" in a["title"] and "import" in a["title"].lower()]
    assert imports, [a["title"] for a in actions]
    changes = imports[0]["edit"]["documentChanges"]
    assert [c["textDocument"]["uri"] for c in changes] == [uri], changes
    assert "from shapes import rectangle_area" in json.dumps(changes), changes


def test_the_effective_configuration_of_a_document_is_its_folder_s(tmp_path: Path) -> None:
    alpha = _folder(tmp_path / "alpha", ALPHA_MARKER)
    beta = _folder(tmp_path / "beta", BETA_MARKER)
    (beta / "roost.toml").write_text('[context]\nbudget = 900\n[gate]\nunscanned = "pass"\n')
    with RawClient(alpha) as client:
        client.initialize(more_folders=(beta,))
        first = client.request("roost/effectiveConfiguration", None)["result"]
        uri = (beta / "m.py").resolve().as_uri()
        second = client.request("roost/effectiveConfiguration", {"uri": uri})["result"]
    assert second["settings"]["context"]["budget"] == 900 != first["settings"]["context"]["budget"]
    assert second["settings"]["gate"] == first["settings"]["gate"], "the gate is the first folder's"
    assert second["ignoredEngineKeys"] == ["gate.unscanned"] and second["workspaceFile"].endswith(
        "roost.toml"
    )


def test_a_fix_up_in_the_second_folder_stays_in_that_folder(tmp_path: Path) -> None:
    alpha = _folder(tmp_path / "alpha", ALPHA_MARKER)
    beta = _folder(tmp_path / "beta", BETA_MARKER)
    first = "```python\ndef area(r: float) -> float:\n    return 3.14 * r * r\n```"
    second = '```python\ndef area(r: float) -> float:\n    """Area."""\n    return 3.14 * r * r\n```'
    rules = [("also add a docstring", second), ("add type hints", first)]
    with FakeOpenAI(rules=rules) as fake, RawClient(alpha) as client:
        client.initialize({"roost": fake_backend_options(fake)}, more_folders=(beta,))
        _wait_ready(client)
        uri = (beta / "circle.py").resolve().as_uri()
        client.open_document(uri, "def area(r):\n    return 3.14 * r * r\n")
        selection = {"start": {"line": 0, "character": 0}, "end": {"line": 2, "character": 0}}
        argument = {"uri": uri, "range": selection, "instruction": "add type hints"}
        started = client.request(
            "workspace/executeCommand", {"command": "roost.fixup.start", "arguments": [argument]}
        )
        proposal = started["result"]
        assert proposal and proposal["edit"], started
        assert {c["textDocument"]["uri"] for c in proposal["edit"]["documentChanges"]} == {uri}
        # A later turn names only the session: it is found in the folder it was started in.
        reply = {"session": proposal["session"], "message": "also add a docstring"}
        revised = client.request(
            "workspace/executeCommand", {"command": "roost.fixup.reply", "arguments": [reply]}
        )
        assert revised.get("result") and revised["result"]["edit"], revised
        assert {c["textDocument"]["uri"] for c in revised["result"]["edit"]["documentChanges"]} == {uri}
        prompts = every_prompt_text(fake)
    assert ALPHA_MARKER not in prompts
