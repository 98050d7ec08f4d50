"""bench/crossfile_bench.py's --choice-scores: the recorder around the engine's constrained pick passes the
pick through unchanged and keeps each allowed token's text and log-probability, for scoring a ranking among
the receiver's names offline."""

from __future__ import annotations

import math
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))

from crossfile_bench import ChoiceScores  # noqa: E402

from roost.engine.forced_start import ForcedStartIndex  # noqa: E402
from roost.engine.start_choices import pick_choice_token  # noqa: E402

TEXTS = ["parse", "str", "pars", "close", "(", "e"]


def test_the_recorder_keeps_the_allowed_tokens_scores_and_the_pick() -> None:
    scores = ChoiceScores(lambda token: TEXTS[token])
    scores.cursor = ["email", "parser.py", 10, 4, "parsestr"]
    pick = scores.wrap(pick_choice_token)
    logits = torch.tensor([1.0, 0.0, 2.0, 5.0, 0.0, 0.0])
    index = ForcedStartIndex(TEXTS)
    assert pick(logits, index, "", ("parse", "parsestr"), set(), 0.0, None) == TEXTS.index("pars")
    (record,) = scores.records
    assert record["cursor"] == ["email", "parser.py", 10, 4, "parsestr"] and record["picked"] == "pars"
    tokens = dict(record["tokens"])
    # Only the tokens on the way to a choice ("close" is the model's favourite but not allowed).
    assert set(tokens) == {"parse", "pars"}
    total = math.log(sum(math.exp(x) for x in logits.tolist()))
    assert math.isclose(tokens["pars"], 2.0 - total, rel_tol=1e-5)
