"""Quality benchmark, section 1: HumanEval infilling pass@1 through the product and through the raw model.

    nice .venv/bin/python bench/quality_bench.py [--single 150] [--multi 100] [--max-tokens 96]
                                                 [--stages] [--only product|raw|stages] [--json OUT]
                                                 [--compare-psm]

``--first-answer-ms N``: the product server's ``completion.first_answer_ms`` (0: the whole prompt always;
default: the product's, which on a CPU answers a prompt too long to prefill in that time from a shorter one).

``--cpu-decode-weights int8|int4``: ``model.cpu_decode_weights`` for the product server and the raw loader
alike (default: the product's, int8; int4 decodes every layer from a lossy 4-bit copy).

``--compare-psm``: the product a second time with ``completion.suffix_first`` off (prefix-first FIM
prompts, as before token healing), same tasks, same run: the A/B of the suffix-first prompt.

Data: ``../shared/eval/humaneval_infilling/{SingleLine,MultiLine}.jsonl.gz`` (OpenAI's HumanEval-infilling).
N tasks of each variant are taken evenly spaced over the file, so they cover many HumanEval problems (the
file lists a problem's holes next to each other). The same tasks go through:

1. **product**: the real ``roost serve --stdio`` (one long-lived server, so the model loads once), driven by
   an LSP client as an editor drives it: one document per task (``prompt + suffix``, opened over
   ``didOpen`` in an empty workspace, never written to disk, so no task sees another's solution), an
   inline completion requested with the cursor at the hole (the start of the line after ``prompt``), the
   first suggestion taken as is. When the server answered with the first line of a multi-line suggestion
   early (``completion.first_line_early``, on by default where the model runs on this machine's CPU; the
   details say ``early_first_line``), the simulated user accepts it (inserts it, the cursor after it) and
   asks once more there, as an editor does after an accept: when that answer is the rest of the same
   generation (in flight or cached) the completion is the two joined, so multi-line pass@1 stays
   comparable with the setting off (``--first-line-early off``); a new model call's answer there is a new
   suggestion (the block was that one line), not joined, and the task's time is then the first line's.
2. **raw**: the same weights (the bundled Qwen2.5-Coder-0.5B or ``--model``'s, loaded in this process through the same
   configuration and loader as the server's in-process backend) given a plain FIM prompt
   ``<|fim_prefix|>{prompt}<|fim_suffix|>{suffix}<|fim_middle|>``, stopped at the family's FIM stop
   tokens, greedy, the same max tokens.
3. with ``--stages``: the product's own pipeline in this process on the same backend object, with the
   model's raw answer recorded before post-processing, so a lost task can be told apart: lost by the
   prompt and the generation settings (raw answer already wrong) or by post-processing and the gate
   (raw answer right, suggestion wrong).

Scoring (both paths alike): the hole is made of whole lines, so the completion is joined to the suffix on
a line boundary (a newline is added when it has none); single-line tasks keep only the completion's first
line (the benchmark's protocol: the completion cut at its first newline). ``prompt + completion + suffix
+ test + check(entry_point)`` runs in a subprocess with a timeout (never in this process).

The two model runs happen one after the other (never two model processes at once).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gzip
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from product_server import first_inline_suggestion, model_cache_dir, serve_command

REPO = Path(__file__).resolve().parent.parent
DATA = REPO.parent / "shared" / "eval" / "humaneval_infilling"
VARIANTS = {"single": "SingleLine.jsonl.gz", "multi": "MultiLine.jsonl.gz"}
RUN_TIMEOUT_S = 10.0
REQUEST_TIMEOUT_S = 180.0


@dataclass(frozen=True)
class Task:
    variant: str  # single | multi
    task_id: str
    prompt: str
    suffix: str
    solution: str
    test: str
    entry_point: str

    @property
    def file_name(self) -> str:
        """Named after its function, as a user would name it (one task is open at a time)."""
        return f"{self.entry_point}.py"


@dataclass
class Result:
    completion: str
    passed: bool
    seconds: float
    detail: dict[str, Any] = field(default_factory=dict)


def load_tasks(variant: str, count: int) -> list[Task]:
    """``count`` tasks evenly spaced over the variant's file (deterministic)."""
    with gzip.open(DATA / VARIANTS[variant], "rt", encoding="utf-8") as handle:
        rows = [json.loads(line) for line in handle if line.strip()]
    count = min(count, len(rows))
    picked = [rows[i * len(rows) // count] for i in range(count)] if count else []
    return [
        Task(
            variant,
            row["task_id"],
            row["prompt"],
            row["suffix"],
            row["canonical_solution"],
            row["test"],
            row["entry_point"],
        )
        for row in picked
    ]


# ------------------------------------------------------------------------------------------ scoring


def program_of(task: Task, completion: str) -> str:
    """The program the task's tests run against: the hole is whole lines, so the completion ends on a line
    boundary; single-line tasks keep the first line only."""
    if task.variant == "single":
        completion = completion.split("\n", 1)[0]
    if not completion.endswith("\n"):
        completion += "\n"
    return f"{task.prompt}{completion}{task.suffix}\n{task.test}\ncheck({task.entry_point})\n"


def passes(task: Task, completion: str) -> bool:
    return program_passes(program_of(task, completion))


def program_passes(program: str) -> bool:
    """Run a generated program in a subprocess (isolated, timed out, in a scratch directory); True when it
    exits cleanly. Generated code never runs in the benchmark's own process."""
    with tempfile.TemporaryDirectory() as scratch:
        try:
            finished = subprocess.run(
                [sys.executable, "-I", "-c", program],
                cwd=scratch,
                capture_output=True,
                timeout=RUN_TIMEOUT_S,
                env={"PATH": os.environ.get("PATH", "")},
            )
        except subprocess.TimeoutExpired:
            return False
    return finished.returncode == 0


# ------------------------------------------------------------------------------- product over LSP


async def run_product(
    tasks: list[Task],
    max_tokens: int,
    progress: Callable[[str], None],
    first_line_early: str = "auto",
    suffix_first: bool = True,
    model: str = "default",
    first_answer_ms: int | None = None,
    cpu_decode_weights: str | None = None,
) -> list[Result]:
    """Every task through one real ``roost serve --stdio``, asked as an editor asks."""
    sys.path.insert(0, str(REPO / "tests"))
    from lsp_harness import lsp_session, server_env
    from lsprotocol import types
    from pytest_lsp import client_capabilities

    capabilities = client_capabilities("visual-studio-code")
    capabilities.text_document.inline_completion = types.InlineCompletionClientCapabilities()
    model_options: dict[str, Any] = {"name": model}
    if cpu_decode_weights is not None:  # otherwise the product's default
        model_options["cpu_decode_weights"] = cpu_decode_weights
    options = {
        "model": model_options,
        "completion": {
            "max_tokens": max_tokens,
            "debounce_ms": 0,
            "first_line_early": first_line_early,
            "suffix_first": suffix_first,
        },
    }
    if first_answer_ms is not None:  # otherwise the product's default
        options["completion"]["first_answer_ms"] = first_answer_ms
    cache = model_cache_dir()
    command = serve_command()
    results: list[Result] = []
    with tempfile.TemporaryDirectory() as tmp:
        workspace = Path(tmp) / "workspace"
        workspace.mkdir()
        env = server_env(Path(tmp), {"ROOST_CACHE_DIR": cache})
        async with lsp_session(
            workspace, initialization_options=options, capabilities=capabilities, env=env, command=command
        ) as session:
            await session.wait_for_status("ready", timeout=600)
            for number, task in enumerate(tasks, 1):
                text = task.prompt + task.suffix
                uri = session.open(task.file_name, text, language_id="python")
                line = task.prompt.count("\n")
                character = len(task.prompt.rsplit("\n", 1)[-1].encode("utf-16-le")) // 2
                started = time.perf_counter()
                completion = await first_inline_suggestion(
                    session.client, uri, line, character, invoked=True, timeout_s=REQUEST_TIMEOUT_S
                )
                seconds = time.perf_counter() - started
                details = await session.client.protocol.send_request_async(
                    "roost/completionDetails", {"uri": uri}
                )
                detail = _plain_details(details)
                if getattr(details, "early_first_line", False) and completion:
                    # Accept the first line and ask again at the cursor after it: the rest of the block.
                    detail["first_line_seconds"] = seconds
                    session.client.text_document_did_change(
                        types.DidChangeTextDocumentParams(
                            text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=2),
                            content_changes=[
                                types.TextDocumentContentChangeWholeDocument(
                                    text=task.prompt + completion + task.suffix
                                )
                            ],
                        )
                    )
                    after = task.prompt + completion
                    rest = await first_inline_suggestion(
                        session.client,
                        uri,
                        after.count("\n"),
                        len(after.rsplit("\n", 1)[-1].encode("utf-16-le")) // 2,
                        invoked=False,
                        timeout_s=REQUEST_TIMEOUT_S,
                    )
                    rest_seconds = time.perf_counter() - started
                    rest_details = await session.client.protocol.send_request_async(
                        "roost/completionDetails", {"uri": uri}
                    )
                    detail["rest"] = rest
                    detail["rest_source"] = getattr(rest_details, "source", "?")
                    if detail["rest_source"] in ("in_flight", "cache"):  # the same block's rest
                        completion += rest
                        seconds = rest_seconds
                session.client.text_document_did_close(
                    types.DidCloseTextDocumentParams(text_document=types.TextDocumentIdentifier(uri=uri))
                )
                results.append(Result(completion, passes(task, completion), seconds, detail))
                progress(f"product {task.variant} {number}/{len(tasks)} {task.task_id}: {results[-1].passed}")
    return results


def _plain_details(details: Any) -> dict[str, Any]:
    def plain(value: Any) -> Any:
        if hasattr(value, "_asdict"):
            return {k: plain(v) for k, v in value._asdict().items()}
        if isinstance(value, dict):
            return {k: plain(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [plain(v) for v in value]
        return value

    described = plain(details) or {}
    keys = ("source", "shape", "texts", "blocked", "message", "context", "early_first_line", "quick_prompt")
    return {key: described.get(key) for key in keys}


# ------------------------------------------------------------------------------ raw model in process


def load_backend(model: str = "default", cpu_decode_weights: str | None = None) -> Any:
    """The backend the server loads (same configuration defaults, same loader, same weights)."""
    from roost.lsp.config import RoostConfig
    from roost.lsp.core.engine_adapter import load_transformers_backend

    config = RoostConfig()
    config.model.name = model
    if cpu_decode_weights is not None:
        config.model.cpu_decode_weights = cpu_decode_weights  # type: ignore[assignment]
    return load_transformers_backend(config)


async def generate(backend: Any, request: Any) -> str:
    parts: list[str] = []
    async with contextlib.aclosing(backend.generate(request)) as stream:
        async for chunk in stream:
            parts.append(chunk.text)
    return "".join(parts)


def raw_fim_request(task: Task, max_tokens: int) -> Any:
    """A plain FIM prompt: no file header, no context, no post-processing; the family's FIM stops.
    Single-line tasks also stop at the first newline (the protocol cuts there anyway)."""
    from roost.engine.prompts.qwen import FIM_MIDDLE, FIM_PREFIX, FIM_SUFFIX, QwenCoderFormat
    from roost.engine.types import GenerationRequest

    return GenerationRequest(
        prompt=f"{FIM_PREFIX}{task.prompt}{FIM_SUFFIX}{task.suffix}{FIM_MIDDLE}",
        max_new_tokens=max_tokens,
        temperature=0.0,
        stop_token_strings=QwenCoderFormat().stop_token_strings,
        stop_sequences=("\n",) if task.variant == "single" else (),
    )


async def run_raw(
    backend: Any, tasks: list[Task], max_tokens: int, progress: Callable[[str], None]
) -> list[Result]:
    results = []
    for number, task in enumerate(tasks, 1):
        started = time.perf_counter()
        completion = await generate(backend, raw_fim_request(task, max_tokens))
        seconds = time.perf_counter() - started
        results.append(Result(completion, passes(task, completion), seconds))
        progress(f"raw {task.variant} {number}/{len(tasks)} {task.task_id}: {results[-1].passed}")
    return results


# -------------------------------------------------------------------- the product's stages in process


class RecordingBackend:
    """Forwards to the real backend and keeps each request and its raw answer (the instrument that shows
    what the model said before post-processing)."""

    def __init__(self, backend: Any) -> None:
        self.backend = backend
        self.requests: list[Any] = []
        self.answers: list[str] = []

    def count_tokens(self, text: str) -> int:
        return self.backend.count_tokens(text)

    async def generate(self, request: Any) -> AsyncIterator[Any]:
        self.requests.append(request)
        self.answers.append("")
        async with contextlib.aclosing(self.backend.generate(request)) as stream:
            async for chunk in stream:
                self.answers[-1] += chunk.text
                yield chunk


async def run_stages(
    backend: Any, tasks: list[Task], max_tokens: int, progress: Callable[[str], None]
) -> list[Result]:
    """The product's pipeline (shape, prompt, stops, post-processing, gate) on the same backend, with the
    raw answer kept: ``detail`` has the shape, the prompt's head, the raw answer and whether it passed."""
    from types import SimpleNamespace

    from roost.engine.gate.gate import Gate
    from roost.engine.prompts.family import make_format
    from roost.lsp.core.completion.pipeline import CompletionInput, CompletionPipeline, PipelineSettings

    recording = RecordingBackend(backend)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "workspace"
        root.mkdir()

        async def get_backend() -> Any:
            return recording

        services = SimpleNamespace(
            root=root,
            index_service=None,
            retriever=None,
            gate=Gate(),
            workspace_secrets=frozenset(),
            prompt_format=make_format("qwen2.5-coder"),
            backend=get_backend,
        )
        settings = PipelineSettings(debounce_ms=0, max_tokens=max_tokens)
        pipeline = CompletionPipeline(services, lambda: settings)
        results = []
        for number, task in enumerate(tasks, 1):
            text = task.prompt + task.suffix
            offset = len(task.prompt)
            line = task.prompt.count("\n")
            request = CompletionInput(
                task.file_name, "python", text, line, 0, offset, uri=f"file:///{task.file_name}"
            )
            started = time.perf_counter()
            before = len(recording.answers)
            outcome = await pipeline.complete(request)
            seconds = time.perf_counter() - started
            completion = outcome.texts[0] if outcome.texts else ""
            raw = recording.answers[-1] if len(recording.answers) > before else ""
            sent = recording.requests[-1] if len(recording.requests) > before else None
            answer = services.prompt_format.parse_answer(raw)
            detail = {
                "shape": outcome.shape,
                "source": outcome.source,
                "raw": raw,
                "raw_passed": passes(task, answer),
                "stops": list(sent.stop_sequences) if sent is not None else [],
                "max_new_tokens": sent.max_new_tokens if sent is not None else 0,
                "prompt_head": (sent.prompt or "")[:80] if sent is not None else "",
                "blocked": [b.text for b in outcome.blocked],
            }
            results.append(Result(completion, passes(task, completion), seconds, detail))
            progress(
                f"stages {task.variant} {number}/{len(tasks)} {task.task_id}: raw "
                f"{detail['raw_passed']} final {results[-1].passed}"
            )
    return results


# ------------------------------------------------------------------------------------------- report


def pass_rate(results: list[Result]) -> str:
    passed = sum(r.passed for r in results)
    return f"{passed / len(results):.3f} ({passed}/{len(results)})" if results else "-"


def print_report(
    tasks: dict[str, list[Task]],
    runs: dict[str, dict[str, list[Result]]],
    max_tokens: int,
    model: str = "default",
) -> None:
    label = "bundled Qwen2.5-Coder-0.5B" if model == "default" else f"model {model!r}"
    print(f"\nHumanEval infilling pass@1 (greedy, max {max_tokens} new tokens, {label})")
    names = list(runs)
    print(f"{'variant':<8} {'N':>4}  " + "  ".join(f"{name:<18}" for name in names))
    for variant, variant_tasks in tasks.items():
        if not variant_tasks:
            continue
        row = "  ".join(f"{pass_rate(runs[name].get(variant, [])):<18}" for name in names)
        print(f"{variant:<8} {len(variant_tasks):>4}  {row}")
    for name in names:
        for variant, results in runs[name].items():
            if results:
                seconds = sorted(r.seconds for r in results)
                print(f"  {name} {variant}: p50 {seconds[len(seconds) // 2]:.2f} s per task")
    for variant, results in runs.get("product", {}).items():
        early = sorted(r.detail["first_line_seconds"] for r in results if "first_line_seconds" in r.detail)
        if early:
            print(
                f"  product {variant}: {len(early)} answered with the first line early (p50 "
                f"{early[len(early) // 2]:.2f} s), accepted and continued: "
                f"{sum(1 for r in results if r.detail.get('rest_source') in ('in_flight', 'cache'))} rests "
                f"from the same generation"
            )
    for variant, results in runs.get("product", {}).items():
        quick = [r for r in results if r.detail.get("quick_prompt")]
        if quick:
            print(
                f"  product {variant}: {len(quick)} answered from a shorter prompt (completion.first_answer_ms), "
                f"{sum(1 for r in quick if r.passed)} of them passed"
            )
    if "product" in runs and "raw" in runs:
        for variant in tasks:
            product, raw = runs["product"].get(variant, []), runs["raw"].get(variant, [])
            if product and raw:
                lost = sum(1 for p, r in zip(product, raw, strict=True) if r.passed and not p.passed)
                won = sum(1 for p, r in zip(product, raw, strict=True) if p.passed and not r.passed)
                print(f"  {variant}: raw passes the product loses {lost}; product passes raw loses {won}")
    if "stages" in runs:
        for variant, results in runs["stages"].items():
            raw_ok = sum(1 for r in results if r.detail.get("raw_passed"))
            lost_after = sum(1 for r in results if r.detail.get("raw_passed") and not r.passed)
            shapes = {s: sum(1 for r in results if r.detail.get("shape") == s) for s in ("single", "multi")}
            print(
                f"  stages {variant}: model answer to the product's prompt passes {raw_ok}/{len(results)}; "
                f"lost by post-processing/gate {lost_after}; shapes {shapes}"
            )


async def main_async(args: argparse.Namespace) -> int:
    tasks = {"single": load_tasks("single", args.single), "multi": load_tasks("multi", args.multi)}
    everything = tasks["single"] + tasks["multi"]

    def progress(message: str) -> None:
        if args.verbose:
            print(message, file=sys.stderr, flush=True)

    runs: dict[str, dict[str, list[Result]]] = {}
    wanted = (
        set(args.only.split(","))
        if args.only
        else {"product", "raw"} | ({"stages"} if args.stages else set())
    )
    if "product" in wanted:
        product = await run_product(
            everything,
            args.max_tokens,
            progress,
            args.first_line_early,
            model=args.model,
            first_answer_ms=args.first_answer_ms,
            cpu_decode_weights=args.cpu_decode_weights,
        )
        runs["product"] = _by_variant(tasks, product)
    if args.compare_psm:  # the product with prefix-first prompts, same tasks, same run
        product_psm = await run_product(
            everything,
            args.max_tokens,
            progress,
            args.first_line_early,
            suffix_first=False,
            model=args.model,
            cpu_decode_weights=args.cpu_decode_weights,
        )
        runs["product-psm"] = _by_variant(tasks, product_psm)
    if wanted & {"raw", "stages"}:
        backend = await asyncio.get_running_loop().run_in_executor(
            None, load_backend, args.model, args.cpu_decode_weights
        )
        try:
            if "raw" in wanted:
                runs["raw"] = _by_variant(
                    tasks, await run_raw(backend, everything, args.max_tokens, progress)
                )
            if "stages" in wanted:
                stages = await run_stages(backend, everything, args.max_tokens, progress)
                runs["stages"] = _by_variant(tasks, stages)
        finally:
            await backend.aclose()
    print_report(tasks, runs, args.max_tokens, args.model)
    print(f"model.cpu_decode_weights: {args.cpu_decode_weights or 'the product default'}")
    if args.json:
        payload = {
            "date": time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime()),
            "max_tokens": args.max_tokens,
            "model": args.model,
            "cpu_decode_weights": args.cpu_decode_weights,
            "runs": {
                name: {
                    variant: [
                        {"task_id": t.task_id, **asdict(r)}
                        for t, r in zip(tasks[variant], results, strict=True)
                    ]
                    for variant, results in by_variant.items()
                }
                for name, by_variant in runs.items()
            },
        }
        Path(args.json).write_text(json.dumps(payload, indent=1), encoding="utf-8")
    return 0


def _by_variant(tasks: dict[str, list[Task]], results: list[Result]) -> dict[str, list[Result]]:
    split = len(tasks["single"])
    return {"single": results[:split], "multi": results[split:]}


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--single", type=int, default=150, help="single-line tasks (default 150)")
    parser.add_argument("--multi", type=int, default=100, help="multi-line tasks (default 100)")
    parser.add_argument("--max-tokens", type=int, default=96, help="completion.max_tokens and the raw cap")
    parser.add_argument("--stages", action="store_true", help="also run the product's stages in process")
    parser.add_argument(
        "--first-line-early",
        choices=("auto", "on", "off"),
        default="auto",
        help="the product server's completion.first_line_early (an early first line is accepted and continued)",
    )
    parser.add_argument(
        "--compare-psm",
        action="store_true",
        help="also run the product with completion.suffix_first off (prefix-first FIM prompts)",
    )
    parser.add_argument(
        "--model",
        default="default",
        help="model.name for the product server and the raw baseline alike (e.g. default-1.5b)",
    )
    parser.add_argument(
        "--first-answer-ms",
        type=int,
        default=None,
        help="the product server's completion.first_answer_ms (default: the product's; 0: the whole prompt always)",
    )
    parser.add_argument(
        "--cpu-decode-weights",
        choices=("int8", "int4"),
        default=None,
        help="model.cpu_decode_weights for the product server and the raw model (default: the product's)",
    )
    parser.add_argument("--only", default="", help="comma-separated subset of product,raw,stages")
    parser.add_argument("--json", default="", help="write every task's completions and verdicts here")
    parser.add_argument("--verbose", "-v", action="store_true", help="one line per task on stderr")
    args = parser.parse_args()
    return asyncio.run(main_async(args))


if __name__ == "__main__":
    raise SystemExit(main())
