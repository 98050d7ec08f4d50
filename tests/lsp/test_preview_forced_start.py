"""``roost context`` shows the forced start the engine will use: with the model's tokenizer, the token
healing cut of the engine (``token_healing.healing_backup``: ``().`` at ``foo().▮``), not the prompt
format's one punctuation mark; without one, the format's cut, said to be that."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from roost.engine.tokenizer import MistralCommonTokenizer
from roost.lsp.config import RoostConfig
from roost.lsp.core.context_preview import ContextPreview, Preview, prompt_tools

SOURCE = "def foo():\n    return 1\n\n\nvalue = foo().\n"


def _preview(root: Path, tokenizer: MistralCommonTokenizer | None) -> Preview:
    (root / "app.py").write_text(SOURCE)
    config = RoostConfig()
    # The shared engine's format: suffix first, the cursor's partial word forced (healed by the engine).
    config = replace(config, backend=replace(config.backend, kind="shared"))
    preview = ContextPreview(root, config, prompt_tools(config), tokenizer=tokenizer)
    try:
        return preview.preview("app.py", 5, len("value = foo().") + 1)
    finally:
        preview.close()


def test_the_engines_forced_start_is_shown_where_the_tokenizer_is_known(tmp_path: Path) -> None:
    answer = _preview(tmp_path, MistralCommonTokenizer.bundled_tekken())
    assert answer.forced_by_tokenizer
    assert answer.forced_start == "()."  # tekken writes `().` as one token, as Qwen2.5 does
    assert answer.prompt.endswith("value = foo")


def test_without_a_tokenizer_the_formats_cut_is_shown_and_said_to_be_that(tmp_path: Path) -> None:
    answer = _preview(tmp_path, None)
    assert not answer.forced_by_tokenizer
    assert answer.forced_start == "."
    assert answer.prompt.endswith("value = foo()")
