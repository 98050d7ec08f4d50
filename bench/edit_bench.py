"""Edit benchmark: model-driven edits through the product (a fix-up over LSP) and through the raw model given
a plain chat prompt, side by side, same model, same greedy settings, same tasks, in the same run.

    nice .venv/bin/python bench/edit_bench.py [--per-kind 10] [--kinds fix,docstring,hints] [--max-chars N]
                                              [--tasks FROM:TO] [--only product|raw] [--json OUT]
                                              [--answers DIR]
    .venv/bin/python bench/edit_bench.py --report OUT1.json OUT2.json …   # one table of chunked runs

``--json`` keeps, per task and path, the model's answers (the product's every turn, retries included, read
from the server's fix-up session store), the text that replaced the selection and whether the code changed
(the file's Python AST differs from the task's; the report's "changed" column); ``--answers DIR`` writes
one readable file per task with both paths side by side, so a loss can be read. ``--tasks`` runs a slice
of the task list (the list is the same for the same ``--per-kind``/``--kinds``/``--max-chars``), so a long
run splits into chunks whose ``--json`` files ``--report`` joins.

Data: ``../shared/eval/humaneval_infilling/SingleLine.jsonl.gz``. Each HumanEval problem appears there
many times (one row per hole); ``prompt + canonical_solution + suffix`` is the whole solution file, so one
row per problem is kept and ``--per-kind`` problems are taken evenly spaced over them. The selection is the
entry-point function (from ``def`` to its last line). Task kinds:

- **fix**: a bug is injected into the function's body (the first of a fixed list of operator / constant
  mutations that makes the task's tests fail); instruction "fix the bug". Scored by the tests.
- **docstring**: the function's docstring removed; instruction "add a docstring that explains this code".
  Scored: the file still parses, the tests still pass, and the function has a docstring.
- **hints**: the function's parameter and return annotations removed; instruction "add type hints to
  this function". Scored: still parses, tests pass, every parameter and the return are annotated.

Paths:

1. **product**: one real ``roost serve --stdio`` (the bundled model, loaded once), a client as an editor:
   the file is opened, ``roost.fixup.start`` is run on the selection, the returned workspace edit is
   applied. A refused proposal leaves the file as it was (and scores as such).
2. **raw**: the same weights loaded in this process through the server's loader, given a plain chat
   prompt (the instruction and the selection in one fenced block, no system prompt of ours), greedy, the
   same token budget the product gives the edit; the first fenced block of the answer (else the whole
   answer) replaces the selection — what a user pasting the chat's code would get.

Generated code runs only in a subprocess (``python -I``) with a timeout, in a scratch directory. The two
model runs happen one after the other (never two model processes at once).
"""

from __future__ import annotations

import argparse
import ast
import asyncio
import contextlib
import gzip
import json
import re
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from product_server import model_cache_dir, serve_command
from quality_bench import program_passes

REPO = Path(__file__).resolve().parent.parent
DATA = REPO.parent / "shared" / "eval" / "humaneval_infilling" / "SingleLine.jsonl.gz"
REQUEST_TIMEOUT_S = 300.0
INSTRUCTIONS = {
    "fix": "fix the bug",
    "docstring": "add a docstring that explains this code",
    "hints": "add type hints to this function",
}
# Mutations tried in order on the function body's lines; the first that makes the tests fail is the bug.
MUTATIONS = (
    (" < ", " <= "),
    (" > ", " >= "),
    (" <= ", " < "),
    (" >= ", " > "),
    (" == ", " != "),
    (" != ", " == "),
    (" + 1", " + 2"),
    (" - 1", " - 2"),
    (" + ", " - "),
    (" - ", " + "),
    (" and ", " or "),
    (" or ", " and "),
    ("True", "False"),
    ("False", "True"),
    ("range(1, ", "range(2, "),
    ("[1:]", "[2:]"),
)


@dataclass(frozen=True)
class Task:
    kind: str
    task_id: str
    text: str  # the file as the user has it
    start: int  # the selection (the entry-point function), as offsets
    end: int
    test: str
    entry_point: str

    @property
    def instruction(self) -> str:
        return INSTRUCTIONS[self.kind]


@dataclass
class Result:
    kind: str
    task_id: str
    passed: bool
    parses: bool
    outside_selection_changed: bool
    refused: bool
    seconds: float
    message: str = ""
    # What the model said (the product's every turn, "turn N:" headed, retries included) and what
    # replaced the selection: how a loss is read.
    answer: str = ""
    replacement: str = ""
    # Whether the file's Python AST differs from the task's (the code changed, not only its layout);
    # None in --json files written before it was kept.
    code_changed: bool | None = None


# ------------------------------------------------------------------------------------------ tasks


def _problems() -> list[dict[str, Any]]:
    with gzip.open(DATA, "rt", encoding="utf-8") as handle:
        rows = [json.loads(line) for line in handle if line.strip()]
    by_problem: dict[str, dict[str, Any]] = {}
    for row in rows:
        problem = row["task_id"].split("/")[1] + "/" + row["task_id"].split("/")[2]
        by_problem.setdefault(problem, row)
    return list(by_problem.values())


def _function(tree: ast.Module, name: str) -> ast.FunctionDef | None:
    return next((n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == name), None)


def _line_offsets(text: str) -> list[int]:
    offsets = [0]
    for line in text.split("\n"):
        offsets.append(offsets[-1] + len(line) + 1)
    return offsets


def _selection(text: str, name: str) -> tuple[int, int] | None:
    function = _function(ast.parse(text), name)
    if function is None or function.end_lineno is None:
        return None
    offsets = _line_offsets(text)
    return offsets[function.lineno - 1], min(len(text), offsets[function.end_lineno])


def _inject_bug(text: str, start: int, end: int, row: dict[str, Any]) -> str | None:
    function = text[start:end]
    tree = _function(ast.parse(text), row["entry_point"])
    assert tree is not None
    body_from = 1
    if ast.get_docstring(tree) is not None and tree.body[0].end_lineno is not None:
        body_from = tree.body[0].end_lineno - tree.lineno + 1
    lines = function.split("\n")
    for index in range(body_from, len(lines)):
        for old, new in MUTATIONS:
            if old in lines[index]:
                mutated = [*lines[:index], lines[index].replace(old, new, 1), *lines[index + 1 :]]
                candidate = text[:start] + "\n".join(mutated) + text[end:]
                if not passes(candidate, row["test"], row["entry_point"]):
                    return candidate
    return None


def _without_docstring(text: str, name: str) -> str | None:
    function = _function(ast.parse(text), name)
    if function is None or ast.get_docstring(function) is None or len(function.body) < 2:
        return None
    doc = function.body[0]
    assert doc.end_lineno is not None
    lines = text.split("\n")
    return "\n".join(lines[: doc.lineno - 1] + lines[doc.end_lineno :])


def _without_annotations(text: str, name: str) -> str | None:
    tree = ast.parse(text)
    function = _function(tree, name)
    if function is None or function.end_lineno is None:
        return None
    arguments = function.args
    every = [*arguments.posonlyargs, *arguments.args, *arguments.kwonlyargs]
    if not any(a.annotation for a in every) and function.returns is None:
        return None
    for argument in every:
        argument.annotation = None
    function.returns = None
    lines = text.split("\n")
    signature_end = function.body[0].lineno - 1  # the def line(s) end before the first statement
    header = ast.unparse(function).split("\n", 1)[0]
    return "\n".join(lines[: function.lineno - 1] + [header] + lines[signature_end:])


def load_tasks(per_kind: int, kinds: list[str], max_chars: int = 0) -> list[Task]:
    problems = _problems()
    tasks: list[Task] = []
    for kind in kinds:
        made = 0
        for index in range(len(problems)):
            if made >= per_kind:
                break
            # Evenly spaced, then the next ones when a problem does not fit the kind.
            row = problems[(index * len(problems) // max(per_kind, 1) + index // per_kind) % len(problems)]
            text = row["prompt"] + row["canonical_solution"] + row["suffix"]
            try:
                span = _selection(text, row["entry_point"])
                if span is None:
                    continue
                if kind == "fix":
                    changed = _inject_bug(text, *span, row)
                elif kind == "docstring":
                    changed = _without_docstring(text, row["entry_point"])
                else:
                    changed = _without_annotations(text, row["entry_point"])
                if changed is None or any(t.text == changed for t in tasks):
                    continue
                span = _selection(changed, row["entry_point"])
            except SyntaxError:
                continue
            if span is None or (max_chars and span[1] - span[0] > max_chars):
                continue
            tasks.append(Task(kind, row["task_id"], changed, *span, row["test"], row["entry_point"]))
            made += 1
    return tasks


# ------------------------------------------------------------------------------------------ scoring


def passes(text: str, test: str, entry_point: str) -> bool:
    return program_passes(f"{text}\n\n{test}\ncheck({entry_point})\n")


def asked_thing_present(task: Task, tree: ast.Module) -> bool:
    function = _function(tree, task.entry_point)
    if function is None:
        return False
    if task.kind == "docstring":
        return bool(ast.get_docstring(function))
    if task.kind == "hints":
        arguments = function.args
        every = [*arguments.posonlyargs, *arguments.args, *arguments.kwonlyargs]
        return function.returns is not None and all(a.annotation is not None for a in every)
    return True


def score(
    task: Task, result_text: str, refused: bool, seconds: float, message: str = "", answer: str = ""
) -> Result:
    try:
        tree = ast.parse(result_text)
        parses = True
    except SyntaxError:
        parses = False
    code_changed = not parses or ast.dump(tree) != ast.dump(ast.parse(task.text))
    passed = parses and passes(result_text, task.test, task.entry_point)
    passed = passed and asked_thing_present(task, tree)
    after = len(task.text) - task.end
    outside = not (
        result_text.startswith(task.text[: task.start])
        and result_text.endswith(task.text[task.end :])
        and len(result_text) >= task.start + after
    )
    replacement = result_text[task.start : len(result_text) - after] if not outside else result_text
    return Result(
        task.kind,
        task.task_id,
        passed,
        parses,
        outside,
        refused,
        seconds,
        message[:300],
        answer,
        replacement,
        code_changed,
    )


# ------------------------------------------------------------------------------- product over LSP


def _apply(text: str, edit: dict[str, Any] | None) -> str:
    if not edit:
        return text
    offsets = _line_offsets(text)

    def offset(position: dict[str, int]) -> int:
        return offsets[position["line"]] + position["character"]  # HumanEval files are ASCII

    changes = [e for change in edit.get("documentChanges") or [] for e in change["edits"]]
    for text_edit in sorted(changes, key=lambda e: offset(e["range"]["start"]), reverse=True):
        low, high = offset(text_edit["range"]["start"]), offset(text_edit["range"]["end"])
        text = text[:low] + text_edit["newText"] + text[high:]
    return text


def _session_turns(store: Any, session_id: str) -> str:
    """The model's answers of a fix-up session as the server stored them (the LSP reply carries only the
    edit and the message), each turn headed by the user message that asked for it."""
    session = store.load(session_id) if session_id else None
    if session is None:
        return ""
    return "\n".join(
        f"--- turn {number}: {user[:200]}\n{answer}" for number, (user, answer) in enumerate(session.turns, 1)
    )


async def run_product(
    tasks: list[Task], progress: Callable[[str], None], first_number: int = 1
) -> list[Result]:
    """``first_number``: the first task's position in the whole task list. Files are named by it, and the
    name is in the fix-up's prompt, so a chunk of a run asks exactly what the whole run asks."""
    sys.path.insert(0, str(REPO / "tests"))
    from lsp_harness import lsp_session, server_env
    from lsprotocol import types

    from roost.lsp.core.fixups.store import FixupStore

    cache = model_cache_dir()
    command = serve_command()
    results: list[Result] = []
    with tempfile.TemporaryDirectory() as tmp:
        workspace = Path(tmp) / "workspace"
        workspace.mkdir()
        env = server_env(Path(tmp), {"ROOST_CACHE_DIR": cache})
        store = FixupStore(Path(env["ROOST_STATE_DIR"]) / "fixups.sqlite3")
        async with lsp_session(workspace, env=env, command=command) as session:
            await session.wait_for_status("ready", timeout=600)
            for number, task in enumerate(tasks, first_number):
                name = f"{task.kind}_{number}.py"
                (workspace / name).write_text(task.text)
                uri = session.open(name, task.text, language_id="python")
                offsets = _line_offsets(task.text)
                start_line = offsets.index(task.start)
                end_line = offsets.index(task.end) if task.end in offsets else task.text.count("\n")
                selection = {
                    "start": {"line": start_line, "character": 0},
                    "end": {"line": end_line, "character": task.end - offsets[end_line]},
                }
                started = time.perf_counter()
                try:
                    answer = await asyncio.wait_for(
                        session.client.workspace_execute_command_async(
                            types.ExecuteCommandParams(
                                command="roost.fixup.start",
                                arguments=[{"uri": uri, "range": selection, "instruction": task.instruction}],
                            )
                        ),
                        REQUEST_TIMEOUT_S,
                    )
                    plain = answer if isinstance(answer, dict) else answer._asdict()
                    edit, message = plain.get("edit"), str(plain.get("message") or "")
                    turns = _session_turns(store, str(plain.get("session") or ""))
                except Exception as error:  # a failed request scores as no change, with the reason
                    edit, message, turns = None, f"request failed: {error}", ""
                seconds = time.perf_counter() - started
                session.client.text_document_did_close(
                    types.DidCloseTextDocumentParams(text_document=types.TextDocumentIdentifier(uri=uri))
                )
                results.append(score(task, _apply(task.text, edit), edit is None, seconds, message, turns))
                progress(
                    f"product {task.kind} {len(results)}/{len(tasks)} {task.task_id}: {results[-1].passed}"
                )
    return results


# ------------------------------------------------------------------------------ raw model in process


def load_backend() -> Any:
    from roost.lsp.config import RoostConfig
    from roost.lsp.core.engine_adapter import load_transformers_backend

    return load_transformers_backend(RoostConfig())


_FIRST_FENCE = re.compile(r"```[^\n]*\n(.*?)\n?```", re.DOTALL)


async def run_raw(backend: Any, tasks: list[Task], progress: Callable[[str], None]) -> list[Result]:
    from roost.engine.types import ChatMessage, GenerationRequest, RequestPriority
    from roost.lsp.core.model_edits import answer_token_budget

    results = []
    for number, task in enumerate(tasks, 1):
        selection = task.text[task.start : task.end]
        prompt = f"{task.instruction}\n\n```python\n{selection.rstrip()}\n```"
        budget = answer_token_budget(backend.count_tokens(selection))  # the product's, for the same selection
        request = GenerationRequest(
            messages=(ChatMessage("user", prompt),),
            max_new_tokens=budget,
            temperature=0.0,
            priority=RequestPriority.EDIT,
        )
        started = time.perf_counter()
        parts: list[str] = []
        async with contextlib.aclosing(backend.generate(request)) as stream:
            async for chunk in stream:
                parts.append(chunk.text)
        seconds = time.perf_counter() - started
        answer = "".join(parts)
        fenced = _FIRST_FENCE.search(answer)
        code = fenced.group(1) if fenced else answer
        if selection.endswith("\n") and not code.endswith("\n"):
            code += "\n"
        result_text = task.text[: task.start] + code + task.text[task.end :]
        results.append(score(task, result_text, False, seconds, answer=answer))
        progress(f"raw {task.kind} {number}/{len(tasks)} {task.task_id}: {results[-1].passed}")
    return results


# ------------------------------------------------------------------------------------------ report


def _rate(results: list[Result], field: str) -> str:
    if not results:
        return "-"
    hits = sum(1 for r in results if getattr(r, field))
    return f"{hits / len(results):.2f} ({hits}/{len(results)})"


def _changed(results: list[Result]) -> str:
    """Code changed, over the results that know it (older --json files do not): "-" when none does."""
    known = [r for r in results if r.code_changed is not None]
    return f"{sum(1 for r in known if r.code_changed)}/{len(known)}" if known else "-"


def print_report(product: list[Result], raw: list[Result]) -> None:
    print(f"\nedit benchmark, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, greedy, bundled model")
    header = (
        f"{'kind':<10} {'N':>3}  {'path':<8} {'score':>12} {'parses':>12} {'outside':>12} {'refused':>12}"
        f" {'changed':>8}"
    )
    print(header)
    for kind in dict.fromkeys(r.kind for r in [*product, *raw]):
        for name, results in (("product", product), ("raw", raw)):
            mine = [r for r in results if r.kind == kind]
            if not mine:
                continue
            p50 = sorted(r.seconds for r in mine)[len(mine) // 2]
            print(
                f"{kind:<10} {len(mine):>3}  {name:<8} {_rate(mine, 'passed'):>12} {_rate(mine, 'parses'):>12} "
                f"{_rate(mine, 'outside_selection_changed'):>12} {_rate(mine, 'refused'):>12} "
                f"{_changed(mine):>8}  p50 {p50:.1f}s"
            )
    raw_by_task = {(r.kind, r.task_id): r for r in raw}
    for result in product:
        other = raw_by_task.get((result.kind, result.task_id))
        if other is not None and other.passed != result.passed:
            winner = "raw" if other.passed else "product"
            print(f"  {result.kind} {result.task_id}: only {winner} passes")


def write_answers(directory: Path, tasks: list[Task], product: list[Result], raw: list[Result]) -> None:
    """One file per task: the selection, then each path's answer and what replaced the selection."""
    directory.mkdir(parents=True, exist_ok=True)
    by_path = {"product": product, "raw": raw}
    for task in tasks:
        parts = [
            f"# {task.kind} {task.task_id}: {task.instruction}\n\n## selection\n{task.text[task.start : task.end]}"
        ]
        for name, results in by_path.items():
            mine = next((r for r in results if (r.kind, r.task_id) == (task.kind, task.task_id)), None)
            if mine is None:
                continue
            verdict = f"passed={mine.passed} parses={mine.parses} refused={mine.refused}"
            verdict += f" changed={mine.code_changed}"
            parts.append(f"## {name} ({verdict}) {mine.message}\n### answer\n{mine.answer}")
            parts.append(f"### replacement\n{mine.replacement}")
        name = f"{task.kind}_{task.task_id.replace('/', '_')}.md"
        (directory / name).write_text("\n\n".join(parts) + "\n", encoding="utf-8")


def _slice(tasks: list[Task], spec: str) -> list[Task]:
    if not spec:
        return tasks
    low, _, high = spec.partition(":")
    return tasks[int(low or 0) : int(high) if high else None]


def _results(rows: list[dict[str, Any]]) -> list[Result]:
    return [Result(**row) for row in rows]


def report_from(paths: list[str]) -> int:
    """One table of the ``--json`` files of chunked runs (a task measured twice counts once: the last)."""
    product: dict[tuple[str, str], Result] = {}
    raw: dict[tuple[str, str], Result] = {}
    for path in paths:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        for result in _results(data["product"]):
            product[(result.kind, result.task_id)] = result
        for result in _results(data["raw"]):
            raw[(result.kind, result.task_id)] = result
    print_report(list(product.values()), list(raw.values()))
    return 0


async def main_async(args: argparse.Namespace) -> int:
    if args.report:
        return report_from(args.report)
    kinds = [k for k in args.kinds.split(",") if k]
    tasks = _slice(load_tasks(args.per_kind, kinds, args.max_chars), args.tasks)

    def progress(line: str) -> None:
        print(line, file=sys.stderr, flush=True)

    first_number = 1 + int(args.tasks.partition(":")[0] or 0)
    product = await run_product(tasks, progress, first_number) if args.only in ("", "product") else []
    raw: list[Result] = []
    if args.only in ("", "raw"):
        backend = load_backend()
        raw = await run_raw(backend, tasks, progress)
    print_report(product, raw)
    if args.json:
        Path(args.json).write_text(
            json.dumps({"product": [asdict(r) for r in product], "raw": [asdict(r) for r in raw]}, indent=1)
        )
    if args.answers:
        write_answers(Path(args.answers), tasks, product, raw)
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--per-kind", type=int, default=10)
    parser.add_argument("--kinds", default="fix,docstring,hints")
    # Long functions take minutes each on a 2-core CPU; a cap keeps a development run short.
    parser.add_argument("--max-chars", type=int, default=0, help="skip selections longer than this")
    parser.add_argument("--tasks", default="", help="FROM:TO, a slice of the task list (chunked runs)")
    parser.add_argument("--only", choices=("", "product", "raw"), default="")
    parser.add_argument("--json", default="", help="results with each task's answers")
    parser.add_argument("--answers", default="", help="a directory: one readable file per task")
    parser.add_argument("--report", nargs="+", default=[], help="print one table of these --json files")
    return asyncio.run(main_async(parser.parse_args()))


if __name__ == "__main__":
    sys.exit(main())
