"""The pure helpers of bench/latency_bench.py's prefetch A/B: which servers run, what the client sends
while the cursor rests, how the server's counters are read, and how the two columns are reported."""

from __future__ import annotations

import sys
from pathlib import Path
from types import SimpleNamespace

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))

from latency_bench import (  # noqa: E402
    Answer,
    Prefetch,
    ServerRun,
    cursor_idle_params,
    first_request_tokens,
    prefetch_conditions,
    prefetch_counts,
    prefetch_table,
    server_key,
)


def _first(prompt: int, reused: int, text: str = "x = 1", source: str = "model") -> Answer:
    return Answer("first", 1000.0, text, source, prompt_tokens=prompt, reused_tokens=reused, prefill_s=0.5)


def _run(firsts: list[Answer], ms: float, prefetch: dict[str, int]) -> ServerRun:
    return ServerRun(
        first_ms=[ms] * len(firsts),
        first_load=[1.0] * len(firsts),
        non_matching_ms=[800.0],
        suggestions=[a.text for a in firsts],
        block_ms=[ms] * len(firsts),
        firsts=firsts,
        dwell_s=3.0,
        prefetch=prefetch,
    )


def test_off_is_the_bench_as_it_was_and_both_differs_only_in_the_setting() -> None:
    assert prefetch_conditions("off", 3.0) == [Prefetch("off", None, None)]
    assert prefetch_conditions("on", 6.0) == [Prefetch("on", True, 6.0)]
    on, off = prefetch_conditions("both", 3.0)
    assert (on.setting, off.setting) == (True, False)
    assert on.dwell_s == off.dwell_s == 3.0  # the baseline rests as long, and is sent the notification too


def test_server_names_without_prefetch_stay_as_they_were() -> None:
    plain = Prefetch("off", None, None)
    assert server_key("on", "on", plain, suffix_ab=False) == "on"
    assert server_key("off", "on", plain, suffix_ab=True) == "off, suffix_first = on"
    on, off = prefetch_conditions("both", 3.0)
    assert server_key("auto", "on", on, suffix_ab=False) != server_key("auto", "on", off, suffix_ab=False)


def test_cursor_idle_params_follow_the_contract() -> None:
    assert cursor_idle_params("file:///w/a.py", 12, 8) == {
        "textDocument": {"uri": "file:///w/a.py"},
        "position": {"line": 12, "character": 8},
    }


def test_prefetch_counters_are_read_from_a_dict_or_pygls_object_and_absent_on_older_servers() -> None:
    counters = {"notifications": 4, "started": 3, "warmedTokens": 2700}
    assert prefetch_counts({"rssBytes": 1, "prefetch": counters}) == counters
    assert prefetch_counts(SimpleNamespace(prefetch=SimpleNamespace(**counters))) == counters
    assert prefetch_counts({"rssBytes": 1}) == {}
    # A counter the server reports is read with the others.
    assert prefetch_counts({"prefetch": {**counters, "quickAnswers": 5}})["quickAnswers"] == 5


def test_first_request_tokens_are_medians_over_model_calls_only() -> None:
    run = _run([_first(900, 880), _first(910, 900), _first(0, 0, source="cache"), _first(920, 0)], 500.0, {})
    assert first_request_tokens(run) == (910, 880, 20)


def test_prefetch_table_puts_both_columns_side_by_side_with_reused_and_prefilled_tokens() -> None:
    on = _run(
        [_first(900, 890), _first(920, 910)], 1200.0, {"notifications": 2, "started": 2, "warmedTokens": 1800}
    )
    off = _run(
        [_first(900, 0), _first(920, 0, text="y = 2")],
        5000.0,
        {"notifications": 2, "started": 0, "warmedTokens": 0},
    )
    lines = prefetch_table(on, off, 3.0, [4000.0, 4400.0])
    text = "\n".join(lines)
    assert "rested 3 s" in lines[0] and "identical first suggestions 1/2" in lines[0]
    tokens = next(line for line in lines if "reused" in line)
    assert "910 / 900 / 10" in tokens and "910 / 0 / 910" in tokens
    first = next(line for line in lines if line.strip().startswith("first suggestion"))
    assert first.split()[-9:] == ["1200", "/", "1200", "5000", "/", "5000", "4200", "/", "4400"]
    assert "2 / 2 / 1800 / -" in text and "2 / 0 / 0 / -" in text  # no quickAnswers from these servers


def test_an_early_first_line_takes_the_generation_figures_its_follow_up_reports() -> None:
    early = Answer("first", 900.0, "else:", "model", early=True, built_prompt_tokens=910)
    early.adopt_generation(_first(910, 905))
    assert (early.prompt_tokens, early.reused_tokens, early.prefill_s) == (910, 905, 0.5)


def test_prefetch_table_says_when_no_figures_came_and_what_was_prefetched_while_resting() -> None:
    early = [Answer("first", 900.0, "else:", "model", early=True, built_prompt_tokens=910)] * 3
    on = _run(early, 900.0, {"notifications": 3, "started": 3, "warmedTokens": 2000})
    on.warmed_while_resting = [900, 600, 500]
    off = _run(early, 5000.0, {"notifications": 3, "started": 0, "warmedTokens": 0})
    off.warmed_while_resting = [0, 0, 0]
    lines = prefetch_table(on, off, 6.0, [])
    tokens = next(line for line in lines if "reused" in line)
    assert tokens.split()[-2:] == ["n/a", "n/a"]
    rested = next(line for line in lines if "while resting" in line)
    assert "600 / 910" in rested and "0 / 910" in rested
