"""Quality benchmark, section 2: cross-file completion with vs without project context, by budget.

    flock /tmp/cpu0.lock taskset -c 0 env OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 \\
        .venv/bin/python bench/crossfile_bench.py --cases 45 --budgets 512,2048 --json OUT.json
    .venv/bin/python bench/crossfile_bench.py --report OUT.json[,MORE.json]   # tables from saved runs
    ... --prompts DIR   # also write each "with" prompt as the model saw it (to read the misses)
    ... --reuse-without OUT.json --shares 0.5,0.2,0.3   # a context-side variant: "with" only, "without" reused
    ... --cases 90 --skip 45   # confirm on the next 45 cursors of the same pool
    ... --model default-1.5b --only unseen   # another model.name, on the cursors whose name is not earlier
    ... --member-choices off   # the answer's first word not held to the receiver's members ("with" only)
    ... --fit-prior-weight 0   # the receiver's names without their line-fit prior ("with" only)
    ... --choice-scores SCORES.json   # also record each constrained pick's allowed tokens and log-probs
        # (to score a ranking among the receiver's names offline, as session 12 did: docs/benchmarks.md)
    .venv/bin/python bench/crossfile_bench.py --choice-coverage --cases 2000   # no model: at how many
        # receiver.▮ cursors of the whole pool the start choices apply, and how often they shut the gold out
    ... --choice-coverage --confident-guess 0.6   # the same with another bar for an untyped receiver's guess
    ... --only guessed --cases 2000 [--confident-guess inf]   # the cursors an untyped receiver's guess holds
    .venv/bin/python bench/crossfile_bench.py --gold-in-prompt-only --cases 180 --budgets 1024   # no model:
        # why the gold definition is or is not in the packed 'with' prompt (bench/gold_placement.py)

What: for cursors where a line uses a function or class defined in another file of the same project (the
jedi-labelled cases of ``bench/retrieval_bench.py``, nine real projects outside this repository, cached in
$ROOST_BENCH_CACHE), the bundled model completes the rest of the line twice under the same total token
budget: **with** project context and **without** it (the baseline, same run, same prompts otherwise).

How: every prompt comes from the product's one prompt builder,
:func:`roost.lsp.core.completion.prompt.build_prompt` (the server's default budget split; the packer
water-fills prefix and suffix, so "without" spends the whole budget on the file itself), with the project's
:class:`~roost.context.retrieval.Retriever` for "with" and ``retriever=None`` for "without". The model is the
in-process backend the server loads with its default configuration (Qwen2.5-Coder-0.5B, int8 CPU weights;
``--model`` sets ``model.name`` for both sides, e.g. ``default-1.5b`` with its packages importable), greedy, at most 24 new tokens, stopped at the end of the line; the answer goes through the format's
``parse_answer`` (no post-processing filters, no gate: the model's answer is what is scored). "With" sends the
prompt's start choices as the server does (``completion.member_choices``: at ``receiver.▮`` the answer's first
word is one of the receiver's names, when the index knows them all, each with its line-fit prior);
"without" has no project, so none.

Metrics per case: **exact match** of the line's rest (whitespace-trimmed) and **identifier match** (the
suggestion's leading identifier is the gold cross-file name: the cursor sits at the start of the reference).
Reported per budget × {with, without} × {seen, unseen, all} and per project, where "unseen" cursors are
those whose name appears nowhere earlier in the file (CrossCodeEval's condition: only the project can tell
the model the name). Issue quality's targets: unseen identifier match with context ≥ 2× without; exact
match with context ≥ without on all cursors.

Cases: round-robin over the projects; within a project unseen and seen cursors alternate, unseen first, so at
least half of the picked cases are unseen (the cases that matter, and the rarer ones in real code).

Cost on one core of the 2-core machine: about 12 s per case at 512 tokens (with + without), 22 s at 1,024,
45 s at 2,048, plus indexing each project (seconds; sympy about a minute) and the model load.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import json
import math
import os
import re
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from product_server import model_cache_dir
from retrieval_bench import PROJECTS, Case, _rank, cut_buffer, load_cases, name_seen_before, project_files

MAX_NEW_TOKENS = 24
GROUPS = ("unseen", "seen", "all")
_IDENTIFIER = re.compile(r"[A-Za-z_]\w*")


# ------------------------------------------------------------------------------------ pure helpers


def leading_identifier(suggestion: str) -> str:
    """The identifier the suggestion starts with ("" when it starts with anything else)."""
    found = _IDENTIFIER.match(suggestion.lstrip())
    return found.group(0) if found else ""


def identifier_match(suggestion: str, name: str) -> bool:
    """Whether the suggestion starts with ``name`` as a whole identifier (``foo`` does not match ``foobar``)."""
    return leading_identifier(suggestion) == name


def exact_match(suggestion: str, target: str) -> bool:
    return suggestion.strip() == target.strip()


def pick_cases(per_project: dict[str, list[tuple[Case, bool]]], total: int) -> list[tuple[str, Case, bool]]:
    """``total`` cases, round-robin over the projects; within a project its picks alternate unseen, seen,
    unseen, … (``seen`` flag False first), falling back to the other kind when one runs out."""
    queues = {
        name: ([c for c in cases if not c[1]], [c for c in cases if c[1]])
        for name, cases in per_project.items()
    }
    taken = dict.fromkeys(per_project, 0)
    picked: list[tuple[str, Case, bool]] = []
    while len(picked) < total and any(unseen or seen for unseen, seen in queues.values()):
        for name, (unseen, seen) in queues.items():
            if len(picked) >= total:
                break
            first, second = (unseen, seen) if taken[name] % 2 == 0 else (seen, unseen)
            queue = first or second
            if queue:
                case, flag = queue.pop(0)
                picked.append((name, case, flag))
                taken[name] += 1
    return picked


@dataclass
class Answer:
    suggestion: str
    exact: bool
    identifier: bool
    prompt_tokens: int
    name_in_prompt: bool  # the gold name appears anywhere in the prompt (suffix or context included)
    gold_in_prompt: bool  # the gold definition's first line is inside a context item of the prompt
    context_items: int
    seconds: float
    start_choices: int = 0  # names the answer's first word was held to (0: not constrained)


@dataclass
class CaseResult:
    project: str
    file: str
    line: int
    col: int
    name: str
    gold_path: str
    gold_line: int
    seen: bool
    target: str
    line_before: str  # the cursor's line up to the cursor
    answers: dict[str, dict[str, Answer]]  # budget (as text) → "with" | "without" → answer


def summarize(
    results: Sequence[CaseResult], budgets: Iterable[int], project: str | None = None
) -> dict[str, dict[str, dict[str, tuple[int, int, int]]]]:
    """budget → group → mode → (exact hits, identifier hits, cases)."""
    table: dict[str, dict[str, dict[str, tuple[int, int, int]]]] = {}
    for budget in budgets:
        key = str(budget)
        table[key] = {}
        for group in GROUPS:
            chosen = [
                r
                for r in results
                if key in r.answers
                and (project is None or r.project == project)
                and (group == "all" or r.seen == (group == "seen"))
            ]
            table[key][group] = {
                mode: (
                    sum(r.answers[key][mode].exact for r in chosen),
                    sum(r.answers[key][mode].identifier for r in chosen),
                    len(chosen),
                )
                for mode in ("with", "without")
            }
    return table


def _ratio(a: int, b: int) -> str:
    if b == 0:
        return "  inf" if a else "    -"
    return f"{a / b:5.2f}"


def format_tables(results: Sequence[CaseResult]) -> str:
    budgets = sorted({int(b) for r in results for b in r.answers})
    out: list[str] = []
    header = (
        f"{'budget':>6} {'cursors':8} {'n':>3} | {'EM with':>11} {'EM w/o':>11} {'ratio':>5} | "
        f"{'ident with':>11} {'ident w/o':>11} {'ratio':>5}"
    )

    def cell(hits: int, count: int) -> str:
        return f"{hits:>2}/{count:<2} {hits / count:4.0%}" if count else f"{'-':>11}"

    def rows(table: dict[str, dict[str, dict[str, tuple[int, int, int]]]], label: str = "") -> None:
        for budget in budgets:
            for group in GROUPS:
                em_w, id_w, n = table[str(budget)][group]["with"]
                em_o, id_o, _ = table[str(budget)][group]["without"]
                if not n:
                    continue
                out.append(
                    f"{budget:>6} {(label or group):8} {n:>3} | {cell(em_w, n)} {cell(em_o, n)} "
                    f"{_ratio(em_w, em_o)} | {cell(id_w, n)} {cell(id_o, n)} {_ratio(id_w, id_o)}"
                )

    out.append("Cross-file completion, with vs without project context (same total budget)")
    out.append(header)
    rows(summarize(results, budgets))
    gold = [
        (
            budget,
            sum(
                r.answers[str(budget)]["with"].gold_in_prompt
                for r in results
                if r.seen == seen and str(budget) in r.answers
            ),
            seen,
        )
        for budget in budgets
        for seen in (False, True)
    ]
    out.append("\nGold definition inside the 'with' prompt's context (retrieval recall at that budget)")
    for budget, hits, seen in gold:
        count = sum(1 for r in results if r.seen == seen and str(budget) in r.answers)
        out.append(f"{budget:>6} {'seen' if seen else 'unseen':8} {hits}/{count}")
    # "Unseen" looks only above the cursor; the code below it (in the prompt's suffix) may still name it.
    out.append("\nGold name anywhere in the prompt (suffix or context included), with / without")
    for budget in budgets:
        for seen in (False, True):
            chosen = [r for r in results if r.seen == seen and str(budget) in r.answers]
            named = [
                sum(r.answers[str(budget)][mode].name_in_prompt for r in chosen)
                for mode in ("with", "without")
            ]
            out.append(
                f"{budget:>6} {'seen' if seen else 'unseen':8} {named[0]}/{len(chosen)} / {named[1]}/{len(chosen)}"
            )
    out.append("\nPer project (all cursors): EM and identifier match, with / without")
    out.append(header.replace("cursors ", "project "))
    for project in sorted({r.project for r in results}):
        table = summarize(results, budgets, project)
        for budget in budgets:
            em_w, id_w, n = table[str(budget)]["all"]["with"]
            em_o, id_o, _ = table[str(budget)]["all"]["without"]
            out.append(
                f"{budget:>6} {project[:8]:8} {n:>3} | {cell(em_w, n)} {cell(em_o, n)} {_ratio(em_w, em_o)} | "
                f"{cell(id_w, n)} {cell(id_o, n)} {_ratio(id_w, id_o)}"
            )
    seconds = {
        (budget, mode): [r.answers[str(budget)][mode].seconds for r in results if str(budget) in r.answers]
        for budget in budgets
        for mode in ("with", "without")
    }
    tokens = {
        (budget, mode): [
            r.answers[str(budget)][mode].prompt_tokens for r in results if str(budget) in r.answers
        ]
        for budget in budgets
        for mode in ("with", "without")
    }
    out.append("\nMean prompt tokens and seconds per suggestion (prompt build + generation, this run's CPU)")
    for (budget, mode), values in seconds.items():
        if values:
            mean_tokens = sum(tokens[(budget, mode)]) / len(values)
            out.append(f"{budget:>6} {mode:8} {mean_tokens:7.0f} tok {sum(values) / len(values):6.1f} s")
    return "\n".join(out)


def load_results(paths: Iterable[str]) -> list[CaseResult]:
    """Saved runs, merged by cursor (a later file adds its budgets to the same cursor)."""
    merged: dict[tuple[str, str, int, int], CaseResult] = {}
    for path in paths:
        for raw in json.loads(Path(path).read_text())["cases"]:
            answers = {
                budget: {mode: Answer(**answer) for mode, answer in modes.items()}
                for budget, modes in raw.pop("answers").items()
            }
            result = CaseResult(**raw, answers=answers)
            key = (result.project, result.file, result.line, result.col)
            if key in merged:
                merged[key].answers.update(answers)
            else:
                merged[key] = result
    return list(merged.values())


# --------------------------------------------------------------------------------------- the run


@dataclass
class Project:
    root: Path
    retriever: Any
    texts: dict[str, str]

    def text_of(self, file: str) -> str:
        """``file``'s text (workspace-relative), read once."""
        text = self.texts.get(file)
        if text is None:
            text = self.texts[file] = (self.root / file).read_text(encoding="utf-8", errors="replace")
        return text


def open_project(name: str) -> Project:
    from roost.context.retrieval import Retriever
    from roost.context.retrieval.standalone import ParsedWorkspace
    from roost.engine.gate.secrets import redact

    root, package = PROJECTS[name]
    files = project_files(root, package)
    started = time.perf_counter()
    retriever = Retriever(ParsedWorkspace(root, files=files), redact=redact)
    retriever.warm()  # as the server does before it reports "ready"
    print(f"  indexed {name} ({len(files)} files) in {time.perf_counter() - started:.1f} s", file=sys.stderr)
    return Project(root, retriever, {})


def _gold_in(items: Sequence[Any], case: Case) -> bool:
    """Whether the gold definition is shown, by retrieval_bench's hit rule (its recall)."""
    return _rank([(item.path, item.start_line, item.end_line, item.text) for item in items], case) is not None


def cursor_document(project: Project, case: Case) -> tuple[str, Any]:
    """The case's file text, and the document the product completes at its cursor (the buffer cut there, as
    the editor holds it while the line is typed): a ``PromptDocument``."""
    from roost.lsp.core.completion.prompt import PromptDocument

    text = project.text_of(case.file)
    buffer = cut_buffer(text, case.line, case.col)
    offset = sum(len(t) + 1 for t in buffer.split("\n")[: case.line]) + case.col
    return text, PromptDocument(case.file, "python", buffer, case.line, case.col, offset)


async def run_case(
    backend: Any,
    tools: Any,
    project: Project,
    name: str,
    case: Case,
    seen: bool,
    budgets: Sequence[int],
    prompts: Path | None = None,
    split: Any = None,
    reused: dict[str, Answer] | None = None,
    min_file_tokens: int | None = None,
    member_choices: bool = True,
) -> CaseResult:
    from roost.engine.prompts.packer import BudgetSplit
    from roost.lsp.core.completion.prompt import PromptSettings, build_prompt

    text, document = cursor_document(project, case)
    line_text = text.split("\n")[case.line]
    result = CaseResult(
        name, case.file, case.line, case.col, case.name, case.gold_path, case.gold_line, seen,
        line_text[case.col :].strip(), line_text[: case.col], {},
    )  # fmt: skip
    for budget in budgets:
        settings = PromptSettings(budget=budget, split=split or BudgetSplit())
        if min_file_tokens is not None:
            settings = dataclasses.replace(settings, min_file_tokens=min_file_tokens)
        answers: dict[str, Answer] = {}
        for mode, retriever in (("without", None), ("with", project.retriever)):
            if mode == "without" and reused is not None and str(budget) in reused:
                # "Without" gives the file the whole budget: context-side variants do not change it.
                answers[mode] = reused[str(budget)]
                continue
            started = time.perf_counter()
            built = build_prompt(
                document,
                settings,
                tools,
                retriever=retriever,
                buffer_limit=None,
                repo_name=project.root.name,
            )
            if prompts is not None and mode == "with":
                prompts.mkdir(parents=True, exist_ok=True)
                (prompts / f"{name}_{case.name}_{case.line + 1}_{budget}.txt").write_text(built.prompt.text)
            # As the server sends it (``completion.member_choices``); "without" has no retriever, so none.
            choices = built.start_choices if member_choices else ()
            request = built.prompt.to_request(max_new_tokens=MAX_NEW_TOKENS, start_choices=choices)
            # Only the rest of the line is scored: stop at its end, as the server does for a one-line shape.
            request = dataclasses.replace(request, stop_sequences=(*request.stop_sequences, "\n"))
            parts: list[str] = []
            async with contextlib.aclosing(backend.generate(request)) as stream:
                async for chunk in stream:
                    parts.append(chunk.text)
            raw = "".join(parts)
            suggestion = tools.prompt_format.parse_answer(raw, built.prompt).split("\n")[0].strip()
            answers[mode] = Answer(
                suggestion=suggestion,
                exact=exact_match(suggestion, result.target),
                identifier=identifier_match(suggestion, case.name),
                prompt_tokens=built.tokens,
                name_in_prompt=re.search(rf"(?<!\w){re.escape(case.name)}(?!\w)", built.prompt.text)
                is not None,
                gold_in_prompt=_gold_in(built.items, case),
                context_items=len(built.items),
                seconds=time.perf_counter() - started,
                start_choices=len(choices),
            )
        result.answers[str(budget)] = answers
    return result


@dataclass
class Coverage:
    """At ``receiver.▮`` cursors: how many there are, at how many the answer's first word is held to the
    receiver's names, and at how many of those the gold name is not among them (a certain miss)."""

    cursors: int = 0
    constrained: int = 0
    gold_excluded: int = 0


_AFTER_RECEIVER = re.compile(r"\.\s*\Z")


def receiver_names(project: Project, case: Case) -> tuple[str, ...] | None:
    """The names retrieval offers as start choices at the cursor (``RetrievalResult.member_names``), or None
    where the cursor does not follow ``receiver.`` (no model)."""
    from roost.context.retrieval.retriever import RetrievalRequest

    text = project.text_of(case.file)
    if not _AFTER_RECEIVER.search(text.split("\n")[case.line][: case.col]):
        return None
    request = RetrievalRequest(case.file, cut_buffer(text, case.line, case.col), case.line, case.col)
    return project.retriever.retrieve(request, len, 4000).member_names


def held_by_guess(project: Project, case: Case) -> bool:
    """Whether the cursor's start choices come from its receiver's guessed classes (an untyped receiver,
    ``members.confident_guesses``): names offered with the product's bar for a guess, none with no guess."""
    from roost.context.retrieval import members

    bar = members.CONFIDENT_GUESS
    try:
        offered = receiver_names(project, case)
        members.CONFIDENT_GUESS = math.inf
        typed = receiver_names(project, case)
    finally:
        members.CONFIDENT_GUESS = bar
    return bool(offered) and not typed


def choice_coverage(
    picked: Sequence[tuple[str, Case, bool]], projects: dict[str, Project]
) -> dict[str, Coverage]:
    """Per group (unseen, seen, all): :class:`Coverage` of the names retrieval offers as start choices at the
    picked cursors that follow ``receiver.`` (no model)."""
    coverage = {group: Coverage() for group in GROUPS}
    for name, case, seen in picked:
        names = receiver_names(projects[name], case)
        if names is None:
            continue
        for group in ("seen" if seen else "unseen", "all"):
            coverage[group].cursors += 1
            coverage[group].constrained += bool(names)
            coverage[group].gold_excluded += bool(names) and case.name not in names
    return coverage


def format_coverage(coverage: dict[str, Coverage]) -> str:
    out = ["Start choices at receiver.▮ cursors: constrained / cursors, gold name shut out"]
    for group, counts in coverage.items():
        out.append(
            f"{group:8} {counts.constrained:>4} / {counts.cursors:<4} gold excluded {counts.gold_excluded}"
        )
    return "\n".join(out)


class ChoiceScores:
    """Records every constrained pick of the answer's first word (``--choice-scores``): the cursor, the
    text written so far, the choices, each allowed token's text and log-probability, and the token picked.
    A wrapper around the engine's ``pick_choice_token``, which it calls unchanged."""

    def __init__(self, decode: Callable[[int], str]) -> None:
        self.decode = decode
        self.cursor: list[Any] = []
        self.records: list[dict[str, Any]] = []

    def wrap(self, pick: Callable[..., int | None]) -> Callable[..., int | None]:
        import torch

        from roost.engine.start_choices import allowed_choice_tokens

        def recording_pick(
            logits: Any, index: Any, written: str, choices: Sequence[str], *rest: Any
        ) -> int | None:
            token = pick(logits, index, written, choices, *rest)
            ids, _complete = allowed_choice_tokens(index, written, choices)
            ids = ids[ids < logits.shape[-1]]
            log_probs = torch.log_softmax(logits.float(), dim=-1)[ids.to(logits.device)].tolist()
            self.records.append(
                {
                    "cursor": list(self.cursor),
                    "written": written,
                    "choices": list(choices),
                    "tokens": [
                        [self.decode(int(i)), lp] for i, lp in zip(ids.tolist(), log_probs, strict=True)
                    ],
                    "picked": None if token is None else self.decode(token),
                }
            )
            return token

        return recording_pick


def select_cursors(
    picked: Sequence[tuple[str, Case, bool]], only: str | None
) -> list[tuple[str, Case, bool]]:
    """The picked cursors of one group (``"unseen"``/``"seen"``), in pick order; all of them otherwise
    (``"guessed"`` needs the projects: see :func:`held_by_guess`). Filtering after picking keeps each
    cursor's place in the pool, so a run of one group scores the same cursors as that group of a full run
    with the same ``--cases``/``--skip``."""
    if only not in ("unseen", "seen"):
        return list(picked)
    return [pick for pick in picked if pick[2] == (only == "seen")]


def bench_config(
    model: str = "default", suffix_first: bool | None = None, member_choices: bool | None = None
) -> Any:
    """The server's configuration for this bench: the product's defaults with ``model.name`` = ``model``
    and, if not None, ``completion.suffix_first`` and ``completion.member_choices``. "With" and "without"
    share it (only retrieval differs)."""
    from roost.lsp.config import RoostConfig

    config = RoostConfig()
    config = dataclasses.replace(config, model=dataclasses.replace(config.model, name=model))
    if suffix_first is not None:
        config = dataclasses.replace(
            config, completion=dataclasses.replace(config.completion, suffix_first=suffix_first)
        )
    if member_choices is not None:
        config = dataclasses.replace(
            config, completion=dataclasses.replace(config.completion, member_choices=member_choices)
        )
    return config


def load_tools(suffix_first: bool | None = None, model: str = "default") -> Any:
    """The prompt tools :func:`load_backend` gives, from the model's tokenizer alone (no weights): the same
    format (the in-process engine heals forced starts) and the same token counts."""
    from transformers import AutoTokenizer

    from roost.engine.backends.transformers_backend import resolve_model_location
    from roost.lsp.core.completion.prompt import FunctionCounter, PromptTools
    from roost.lsp.core.engine_adapter import prompt_family, prompt_format_for, transformers_options

    os.environ.setdefault("ROOST_CACHE_DIR", model_cache_dir())
    config = bench_config(model, suffix_first)
    directory, _, _ = resolve_model_location(transformers_options(config))
    tokenizer = AutoTokenizer.from_pretrained(str(directory))

    def count(text: str) -> int:
        return len(tokenizer(text, add_special_tokens=False)["input_ids"])

    family = prompt_family(config, directory)
    return PromptTools(
        prompt_format_for(config, family, tokenizer, heals_forced_start=True), FunctionCounter(count)
    )


def gold_placements(
    picked: Sequence[tuple[str, Case, bool]],
    projects: dict[str, Project],
    tools: Any,
    budget: int,
    min_file_tokens: int | None = None,
) -> list[Any]:
    """For each picked cursor, where its gold definition is in the 'with' prompt the product builds at
    ``budget`` (:func:`gold_placement.classify`; no model)."""
    from gold_placement import classify

    from roost.context.retrieval.retriever import RetrievalRequest
    from roost.lsp.core.completion.prompt import PromptSettings, build_prompt

    settings = PromptSettings(budget=budget)
    if min_file_tokens is not None:
        settings = dataclasses.replace(settings, min_file_tokens=min_file_tokens)
    placements = []
    for name, case, seen in picked:
        project = projects[name]
        text, document = cursor_document(project, case)
        buffer = document.text
        built = build_prompt(
            document, settings, tools, retriever=project.retriever, buffer_limit=None,
            repo_name=project.root.name,
        )  # fmt: skip
        line_before = text.split("\n")[case.line][: case.col]
        whole = project.retriever.candidates(RetrievalRequest(case.file, buffer, case.line, case.col))
        placements.append(
            classify(
                built,
                case,
                tools.counter.count,
                project=name,
                seen=seen,
                line_before=line_before,
                candidates=whole,
            )  # fmt: skip
        )
    return placements


def load_backend(suffix_first: bool | None = None, model: str = "default") -> tuple[Any, Any]:
    """The backend and prompt tools the server has with its default configuration and ``model.name`` =
    ``model`` (``suffix_first``: ``completion.suffix_first`` if not None)."""
    from roost.lsp.core.completion.prompt import FunctionCounter, PromptTools
    from roost.lsp.core.engine_adapter import (
        hf_tokenizer_of,
        load_transformers_backend,
        model_source,
        prompt_family,
        prompt_format_for,
    )

    os.environ.setdefault("ROOST_CACHE_DIR", model_cache_dir())
    config = bench_config(model, suffix_first)
    started = time.perf_counter()
    backend = load_transformers_backend(config)
    source = model_source(backend)
    family = prompt_family(config, Path(source) if source else None)
    heals = bool(getattr(backend, "heals_forced_start", False))
    tools = PromptTools(
        prompt_format_for(config, family, hf_tokenizer_of(backend), heals_forced_start=heals),
        FunctionCounter(backend.count_tokens),
    )
    print(f"  loaded {backend.name} in {time.perf_counter() - started:.0f} s", file=sys.stderr)
    return backend, tools


def save(path: str | None, args: argparse.Namespace, results: list[CaseResult]) -> None:
    if not path:
        return
    payload = {"args": vars(args), "cases": [asdict(r) for r in results]}
    Path(path).write_text(json.dumps(payload, indent=1))


async def run(args: argparse.Namespace, progress: Callable[[str], None]) -> list[CaseResult]:
    budgets = [int(b) for b in args.budgets.split(",")]
    names = args.projects.split(",")
    labelled: dict[str, list[tuple[Case, bool]]] = {}
    for name in names:
        root, _ = PROJECTS[name]
        cases = load_cases(name, args.pool)
        texts = {c.file: (root / c.file).read_text(encoding="utf-8", errors="replace") for c in cases}
        labelled[name] = [(c, name_seen_before(texts[c.file], c)) for c in cases]
    # --skip: the first picks were measured already (a confirmation on further cursors of the same pool).
    picked = select_cursors(pick_cases(labelled, args.cases)[args.skip :], args.only)
    unseen = sum(not seen for _, _, seen in picked)
    progress(
        f"{len(picked)} cases ({unseen} unseen) over {len(names)} projects, budgets {budgets}, "
        f"model {args.model!r}"
    )
    projects = {name: open_project(name) for name in dict.fromkeys(name for name, _, _ in picked)}
    if args.only == "guessed":  # by the product's bar for a guess, whatever --confident-guess says
        picked = [pick for pick in picked if held_by_guess(projects[pick[0]], pick[1])]
        progress(f"{len(picked)} of them held to an untyped receiver's guessed classes' names")
    if args.confident_guess is not None:
        from roost.context.retrieval import members

        members.CONFIDENT_GUESS = args.confident_guess  # a bench-only override of the product's constant
    if args.choice_coverage:
        print(format_coverage(choice_coverage(picked, projects)))
        return []
    if args.gold_in_prompt_only:
        from gold_placement import format_placements

        tools = load_tools(None if args.suffix_first is None else args.suffix_first == "on", args.model)
        by_budget: dict[str, list[Any]] = {}
        for budget in budgets:
            placements = gold_placements(picked, projects, tools, budget, args.min_file_tokens)
            by_budget[str(budget)] = [asdict(p) for p in placements]
            print(f"budget {budget}")
            print(format_placements(placements))
        if args.json:
            Path(args.json).write_text(json.dumps({"args": vars(args), "placements": by_budget}, indent=1))
        return []
    backend, tools = load_backend(
        None if args.suffix_first is None else args.suffix_first == "on", args.model
    )
    member_choices = bench_config(
        member_choices=None if args.member_choices is None else args.member_choices == "on"
    ).completion.member_choices
    split = None
    if args.shares:
        from roost.engine.prompts.packer import BudgetSplit

        split = BudgetSplit(*(float(x) for x in args.shares.split(",")))
    reuse: dict[tuple[str, str, int, int], dict[str, Answer]] = {}
    if args.reuse_without:
        for old in load_results(args.reuse_without.split(",")):
            reuse[(old.project, old.file, old.line, old.col)] = {
                budget: modes["without"] for budget, modes in old.answers.items()
            }
    if args.fit_prior_weight is not None:
        from roost.lsp.core.completion import prompt

        prompt.FIT_PRIOR_WEIGHT = args.fit_prior_weight  # a bench-only override of the product's constant
    results: list[CaseResult] = []
    scores: ChoiceScores | None = None
    if args.choice_scores:
        import roost.engine.scheduler as scheduler
        from roost.lsp.core.engine_adapter import hf_tokenizer_of

        tokenizer: Any = hf_tokenizer_of(backend)
        if tokenizer is None:
            raise SystemExit("--choice-scores needs the in-process model's tokenizer")
        scores = ChoiceScores(lambda token: tokenizer.decode([token]))
        scheduler.pick_choice_token = scores.wrap(scheduler.pick_choice_token)  # the bench's own process
    started = time.perf_counter()
    try:
        for index, (name, case, seen) in enumerate(picked, 1):
            if scores is not None:
                scores.cursor = [name, case.file, case.line, case.col, case.name]
            prompts = Path(args.prompts) if args.prompts else None
            result = await run_case(
                backend, tools, projects[name], name, case, seen, budgets, prompts, split,
                reuse.get((name, case.file, case.line, case.col)), args.min_file_tokens, member_choices,
            )  # fmt: skip
            results.append(result)
            save(args.json, args, results)
            if scores is not None:
                Path(args.choice_scores).write_text(json.dumps(scores.records))
            marks = " ".join(
                f"{b}:{'E' if a['with'].exact else '.'}{'I' if a['with'].identifier else '.'}/"
                f"{'E' if a['without'].exact else '.'}{'I' if a['without'].identifier else '.'}"
                for b, a in result.answers.items()
            )
            progress(
                f"{index}/{len(picked)} {time.perf_counter() - started:.0f} s {name} "
                f"{'seen  ' if seen else 'unseen'} {case.name}: {marks} (with/without)"
            )
    finally:
        await backend.aclose()
    return results


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--cases", type=int, default=45, help="cursors in all, round-robin over projects")
    parser.add_argument("--skip", type=int, default=0, help="leave out the first N of the picked cursors")
    parser.add_argument("--budgets", default="512,2048", help="total prompt tokens, comma-separated")
    parser.add_argument("--projects", default=",".join(PROJECTS))
    parser.add_argument("--pool", type=int, default=150, help="labelled cases per project to pick from")
    parser.add_argument(
        "--model",
        default="default",
        help="model.name for 'with' and 'without' alike (e.g. default-1.5b; default: the bundled 0.5B)",
    )
    parser.add_argument(
        "--only",
        choices=("unseen", "seen", "guessed"),
        default=None,
        help="keep only these of the picked cursors (after --cases/--skip): unseen = name not earlier; "
        "guessed = start choices from an untyped receiver's guessed classes",
    )
    parser.add_argument("--json", help="write every case's answers here (rewritten after each case)")
    parser.add_argument("--prompts", help="write each 'with' prompt here, one file per case and budget")
    parser.add_argument(
        "--suffix-first",
        choices=("on", "off"),
        default=None,
        help="completion.suffix_first for the prompts (default: the product's default)",
    )
    parser.add_argument(
        "--member-choices",
        choices=("on", "off"),
        default=None,
        help="completion.member_choices for 'with' (default: the product's default)",
    )
    parser.add_argument(
        "--fit-prior-weight",
        type=float,
        help="the start choices' line-fit prior per unit of fit (default: the product's; 0: the model alone)",
    )
    parser.add_argument(
        "--choice-scores",
        help="write every constrained first-word pick here (JSON): allowed tokens, log-probs, the pick",
    )
    parser.add_argument(
        "--choice-coverage",
        action="store_true",
        help="no model: count the receiver.▮ cursors held to the receiver's names, and those whose gold is not one",
    )
    parser.add_argument(
        "--gold-in-prompt-only",
        action="store_true",
        help="no model: why the gold definition is or is not in each 'with' prompt (class counts)",
    )
    parser.add_argument(
        "--confident-guess",
        type=float,
        help="the guess score at which an untyped receiver's guessed classes give the start choices "
        "(default: the product's members.CONFIDENT_GUESS)",
    )
    parser.add_argument("--shares", help="prefix,suffix,context budget shares (default: the product's)")
    parser.add_argument(
        "--min-file-tokens",
        type=int,
        help="context.min_file_tokens (default: the product's; 0: shares alone)",
    )
    parser.add_argument(
        "--reuse-without",
        help="take the 'without' answers from these saved runs (comma-separated JSON) instead of "
        "generating them: they do not depend on context-side variants",
    )
    parser.add_argument("--report", help="print the tables of saved runs (comma-separated JSON files)")
    args = parser.parse_args()
    if args.report:
        results = load_results(args.report.split(","))
    else:
        results = asyncio.run(run(args, lambda line: print(line, file=sys.stderr, flush=True)))
    if results:
        print(format_tables(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
