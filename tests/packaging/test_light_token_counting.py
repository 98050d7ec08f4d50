"""Prompt packing counts tokens exactly in the light install (no torch, no transformers): the model
directory's ``tokenizer.json`` through the ``tokenizers`` library gives transformers' own counts, special
tokens included; mistral-common's tekken needs neither."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from model_packages import skip_without_default_model

TEXTS = [
    "",
    "<|fim_middle|>",
    "def total_cents(cart) -> int:\n    return price_cart(cart).",
    "<|fim_prefix|>import os\n<|fim_suffix|>\n<|fim_middle|>",
    "    naïve = 'ünïcödé' + \"日本語\"  # comment\t\r\n",
    "<|repo_name|>shop\n<|file_sep|>shop/models.py\nclass Cart: ...",
]

_COUNT_WITHOUT_TRANSFORMERS = """
import json, sys

# As in the light install, where neither is installed: importing fails and find_spec answers None.
sys.modules["torch"] = None
sys.modules["transformers"] = None
from roost.engine.prompts.tokens import TekkenTokenCounter, TransformersTokenCounter

texts = json.loads(sys.argv[2])
counter = TransformersTokenCounter.from_pretrained(sys.argv[1])
tekken = TekkenTokenCounter.bundled()
print(json.dumps({"hf": [counter.count(t) for t in texts], "tekken": [tekken.count(t) for t in texts]}))
"""


@pytest.fixture(scope="module")
def model_dir() -> Path:
    skip_without_default_model()
    pytest.importorskip("transformers", reason="the reference counts come from transformers")
    from roost.engine.models.default import ensure_default_model

    return ensure_default_model()  # converted once per machine (about a minute the first time)


def test_counts_without_transformers_equal_transformers_counts(model_dir: Path, tmp_path: Path) -> None:
    from roost.engine.prompts.tokens import TekkenTokenCounter, TransformersTokenCounter

    reference = TransformersTokenCounter.from_pretrained(model_dir)
    tekken = TekkenTokenCounter.bundled()
    probe = subprocess.run(
        [sys.executable, "-c", _COUNT_WITHOUT_TRANSFORMERS, str(model_dir), json.dumps(TEXTS)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=120,
    )
    assert probe.returncode == 0, probe.stderr[-3000:]
    light = json.loads(probe.stdout.strip().splitlines()[-1])
    assert light["hf"] == [reference.count(text) for text in TEXTS]
    assert light["tekken"] == [tekken.count(text) for text in TEXTS]
    assert light["hf"][1] == 1  # a FIM marker is one token, as the model sees it


def test_a_model_directory_without_tokenizer_json_names_what_is_missing(tmp_path: Path) -> None:
    from roost.engine.prompts.tokens import TransformersTokenCounter

    with pytest.raises(FileNotFoundError, match="tokenizer.json.*roost\\[local\\]"):
        TransformersTokenCounter.from_tokenizer_json(tmp_path)
