"""A workspace folder nested in another folder of the window: the outer folder's exclusions still hold for
the files of the inner one (adding ``ws/sub`` to the window must not lift ``ws/roost.toml``'s
``sub/private/**``).

The real ``roost serve --stdio`` over the raw client, with the recording fake backend.
"""

from __future__ import annotations

import sys
from pathlib import Path

_RELIABILITY = Path(__file__).resolve().parents[1] / "reliability"
if str(_RELIABILITY) not in sys.path:
    sys.path.insert(0, str(_RELIABILITY))

from raw_client import RawClient  # noqa: E402
from reliability_support import FakeOpenAI, fake_backend_options  # noqa: E402
from test_multi_root import ALPHA_MARKER, _complete, _folder, _wait_ready  # noqa: E402

from roost.lsp.core.workspace_folders import rebased_exclusion  # noqa: E402

PRIVATE_MARKER = "PRIVATE_ONLY_5d2b"


def test_an_outer_folder_s_exclusion_holds_in_a_folder_nested_in_it(tmp_path: Path) -> None:
    outer = _folder(tmp_path / "ws", ALPHA_MARKER)
    (outer / "roost.toml").write_text('[index]\nexclude = ["sub/private/**"]\n')
    inner = outer / "sub"
    (inner / "private").mkdir(parents=True)
    with FakeOpenAI() as fake, RawClient(outer) as client:
        client.initialize({"roost": fake_backend_options(fake)}, more_folders=(inner,))
        _wait_ready(client)
        texts, details = _complete(
            client, inner / "private" / "keys.py", f'TOKEN = "{PRIVATE_MARKER}"\nx = ', (1, 4)
        )
        assert texts == [] and details["source"] == "refused", details
        # Outside the excluded path the inner folder serves as usual.
        _, details = _complete(client, inner / "public.py", "x = ", (0, 4))
        assert details["source"] != "refused", details
        prompts = "\n".join(str(body) for body in fake.completion_requests())
    assert PRIVATE_MARKER not in prompts


def test_an_outer_folder_s_excluded_code_never_reaches_a_prompt_of_the_nested_folder(tmp_path: Path) -> None:
    outer = _folder(tmp_path / "ws", ALPHA_MARKER)
    (outer / "roost.toml").write_text('[index]\nexclude = ["sub/private/**"]\n')
    inner = outer / "sub"
    (inner / "private").mkdir(parents=True)
    (inner / "private" / "vault.py").write_text(
        f'def unlock_vault(value):\n    return "{PRIVATE_MARKER}" + str(value)\n'
    )
    with FakeOpenAI() as fake, RawClient(outer) as client:
        client.initialize({"roost": fake_backend_options(fake)}, more_folders=(inner,))
        _wait_ready(client)
        caller = "from private.vault import unlock_vault\n\n\ndef use():\n    return unlock_vault("
        _, details = _complete(client, inner / "public.py", caller, (4, 24))
        assert details["source"] != "refused", details
        prompts = "\n".join(str(body) for body in fake.completion_requests())
    assert prompts, "a prompt was sent"
    assert PRIVATE_MARKER not in prompts
    # The document is named in its own folder (public.py), not in the folder around it.
    assert "sub/public.py" not in prompts


def test_an_outer_folder_s_exclusions_rebased_into_its_subfolder() -> None:
    assert rebased_exclusion("sub/private/**", ("sub",)) == ["/private/**"]
    assert rebased_exclusion("/sub/private", ("sub",)) == ["/private"]
    assert rebased_exclusion("*.pem", ("sub",)) == ["*.pem"]
    assert rebased_exclusion("**/keys", ("sub",)) == ["/**/keys"]
    assert rebased_exclusion("other/x", ("sub",)) == []
    # One that covers the subfolder itself covers all of it.
    assert rebased_exclusion("sub/", ("a", "sub")) == ["*"]
    assert rebased_exclusion("a/**", ("a", "sub")) == ["*"]
    assert rebased_exclusion("!sub/keep", ("sub",)) == []


def test_an_outer_folder_served_after_its_nested_folder_still_excludes_from_it(tmp_path: Path) -> None:
    first = _folder(tmp_path / "first", ALPHA_MARKER)
    outer = tmp_path / "ws"
    inner = outer / "sub"
    (inner / "private").mkdir(parents=True)
    (outer / "roost.toml").write_text('[index]\nexclude = ["sub/private/**"]\n')
    (inner / "private" / "vault.py").write_text(
        f'def unlock_vault(value):\n    return "{PRIVATE_MARKER}" + str(value)\n'
    )
    with FakeOpenAI() as fake, RawClient(first) as client:
        # The editor names the nested folder before the one around it.
        client.initialize({"roost": fake_backend_options(fake)}, more_folders=(inner, outer))
        _wait_ready(client)
        caller = "from private.vault import unlock_vault\n\n\ndef use():\n    return unlock_vault("
        _, details = _complete(client, inner / "public.py", caller, (4, 24))
        assert details["source"] != "refused", details
        prompts = "\n".join(str(body) for body in fake.completion_requests())
    assert prompts, "a prompt was sent"
    assert PRIVATE_MARKER not in prompts
