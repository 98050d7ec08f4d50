"""Latency and memory benchmark: the product server with the bundled model, as an editor drives it.

    nice .venv/bin/python bench/latency_bench.py [--files 8] [--package email] [--budget N]
                                                 [--cpu-weights int8|float32] [--no-raw] [--json OUT]
                                                 [--typing-chars 24] [--threads N] [-v]
                                                 [--first-line-early both|on|off|auto]
                                                 [--suffix-first on|off|both]
                                                 [--prefetch off|on|both] [--dwell 3.0]
                                                 [--first-answer-ms 2000,0]
                                                 [--cpu-decode-weights int8,int4]
    nice .venv/bin/python bench/latency_bench.py --weights [--tasks 30]

Default run (the real ``roost serve --stdio``, one server, the model loaded once):

a. **First suggestion after opening a file**: a copy of a stdlib package (``email`` by default: files of
   real size, so prompts fill the budget) is the workspace; for each of N files, ``didOpen`` with a new,
   indented line inserted in the middle of the file and an inline completion asked with the cursor there.
   Client round trip, p50/p90. **Whole block**: when the answer was the first line of a multi-line
   suggestion (``completion.first_line_early``; the details say ``early_first_line``), the client accepts it
   (inserts it, the cursor after it) and asks again at once: the time from the first request to that
   answer (the rest of the block) is when the whole block is available; without an early answer it is the
   first answer's time. ``--first-line-early both`` (the default) runs the server twice, the setting on and
   then off (the baseline, same run, same cursors), and counts the cursors whose whole block is the same.
   **Prefetch at a resting cursor** (``--prefetch on|both``): after ``didOpen`` the client sends
   ``roost/cursorIdle`` at the cursor it will ask at, as an editor does once the cursor has rested, waits
   ``--dwell`` seconds (the user reads at least that long before typing there), then asks; the server
   prefills that cursor's prompt meanwhile (``completion.prefetch``). ``both`` runs the server with the
   setting on and then off (the baseline: the same notification and dwell, ignored), same cursors, and
   prints the columns side by side: first suggestion p50/p90, the first requests' median reused and
   prefilled prompt tokens (``roost/completionDetails``; a first line answered early has them only where
   the server reports the generation's figures with the accepted line's follow-up), the tokens prefetched
   while each cursor rested (``roost/debugStats``' counters, read before the notification and after the
   first request, since a prefetch is counted when it ends), and identical first suggestions. With prefetch on or both, ``--first-line-early`` defaults to
   the product's ``auto``; ``--prefetch off`` (the default) sends no notification and waits no dwell.
b. **Follow-up keystrokes** after that suggestion: typing its first two characters (the suggestion still
   matches: served from the completion cache) and typing two characters that do not match it, one
   request per keystroke (each a new model call, reusing the prompt's KV prefix). p50 of each.
b'. **Typing a real line**: for each file, the code line below that cursor is taken out (its indentation
   kept), the file opened, a suggestion asked at the line's start, then the line's characters typed one
   by one (the first ``--typing-chars``), a request after each keystroke as an editor with debounce 0
   asks (the next keystroke once the answer is there). p50/p90 over all those keystrokes, and how many
   were answered from the completion cache (the typed text still matches a suggestion) and how many
   by a new model call. ``-v`` prints each model call's breakdown (``roost/completionDetails``): prompt
   tokens, tokens reused from the prefix-KV cache, prefill and decode seconds, generated tokens; the
   summary gives their medians for the first requests and for the keystrokes' model calls.
a'. **First answer within a time** (``--first-answer-ms A,B``): one server per value of
   ``completion.first_answer_ms`` (the product's default when not given), same cursors, printed side by side
   (first suggestion, whole block, the first requests' prompt tokens, keystrokes, typing, RSS, how many
   requests the server answered from a shorter prompt, identical first suggestions). ``2000,0`` is the
   A/B of the setting (0: the whole prompt always, as before it existed). ``--cpu-decode-weights
   int8,int4`` the same for ``model.cpu_decode_weights`` (the decode step's weights; the RSS once the
   model is loaded is printed too).
c. **Server memory**: RSS of the server's process tree (psutil) once it is ready, once the model is
   loaded (a warm-up request, reported apart as the cold start), its peak (sampled), and at the end.

Baseline in the same run: the **raw model** (the same weights, loaded in this process through the server's
configuration defaults and loader, after the server has exited) given a plain FIM prompt of the same files
and cursors (prefix and suffix cut to the same token budget, no context, no post-processing), stopped at
the family's FIM stops and the end of the line. Ratios are printed against it; the load average is printed
beside every figure (the machine may be shared; absolute times are then pessimistic). ``--threads N`` sets
``OMP_NUM_THREADS`` (and ``MKL_NUM_THREADS``) for the server and the raw baseline: compare figures
measured with the same thread count only. ``--fresh-context``: the server as it was before it kept a
document's context while a line is typed (every keystroke's context retrieved afresh), the baseline of
that change in the same conditions.

``--weights``: where the time and memory go by weight form. Each form is loaded in a child process (one at
a time): RSS after the imports and after the load, the prefix cache's bytes, prefill and decode tokens/s
through the scheduler, and HumanEval single-line pass@1 on ``--tasks`` tasks through the raw-model path of
bench/quality_bench.py, so a cheaper form is only taken if it keeps quality.
"""

from __future__ import annotations

import argparse
import asyncio
import atexit
import itertools
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import psutil
import quality_bench
from product_server import first_inline_suggestion, model_cache_dir, serve_command

from roost.engine.prompts.qwen import FIM_MIDDLE, FIM_PREFIX, FIM_SUFFIX, QwenCoderFormat
from roost.engine.types import GenerationRequest
from roost.lsp.config import RoostConfig
from roost.lsp.core.completion.prompt import prompt_settings

REPO = Path(__file__).resolve().parent.parent
REQUEST_TIMEOUT_S = 300.0
CURSOR_IDLE = "roost/cursorIdle"
MIB = 2**20


def load() -> str:
    return f"load {os.getloadavg()[0]:.1f}"


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q / 100 * (len(ordered) - 1))))] if ordered else 0.0


def tree_rss(pid: int) -> int:
    """RSS of ``pid`` and all its descendants, in bytes (0 once it has exited)."""
    try:
        root = psutil.Process(pid)
        processes = [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        return 0
    total = 0
    for process in processes:
        try:
            total += process.memory_info().rss
        except psutil.NoSuchProcess:
            continue
    return total


# ------------------------------------------------------------------------------------------ workload


@dataclass(frozen=True)
class Cursor:
    """A file as opened, with the cursor on a new indented line inserted in its middle."""

    path: str  # relative to the workspace
    text: str
    line: int
    character: int

    @property
    def offset(self) -> int:
        lines = self.text.split("\n")
        return sum(len(line) + 1 for line in lines[: self.line]) + self.character


def copy_package(package: str, destination: Path) -> Path:
    """A copy of a stdlib package (its ``.py`` files) as the workspace."""
    source = Path(__import__(package).__file__).parent
    target = destination / package
    shutil.copytree(source, target, ignore=shutil.ignore_patterns("__pycache__", "test*", "*.pyc"))
    return destination


def cursors(workspace: Path, count: int) -> list[Cursor]:
    """``count`` files (the largest first: the budget matters where there is more than it holds), each
    with a new line inserted before a code line in its middle, indented like that line."""
    files = sorted(workspace.rglob("*.py"), key=lambda p: (-p.stat().st_size, str(p)))
    found = []
    for path in files:
        lines = path.read_text(encoding="utf-8").split("\n")
        for index in range(len(lines) // 2, len(lines)):
            line = lines[index]
            stripped = line.strip()
            # An indented statement (inside a function), not a comment, decorator or docstring line.
            if line.startswith("    ") and stripped and not stripped.startswith(("#", "@", '"', "'", ")")):
                indent = line[: len(line) - len(line.lstrip())]
                text = "\n".join([*lines[:index], indent, *lines[index:]])
                found.append(Cursor(path.relative_to(workspace).as_posix(), text, index, len(indent)))
                break
        if len(found) == count:
            break
    return found


# ------------------------------------------------------------------------------------------ prefetch


@dataclass(frozen=True)
class Prefetch:
    """A server run's prefetch condition: the ``completion.prefetch`` it is given (None: not sent, as before
    the setting existed) and how long the cursor rests before each first request (None: no
    ``roost/cursorIdle`` and no wait, the bench as it was)."""

    label: str
    setting: bool | None
    dwell_s: float | None


def prefetch_conditions(choice: str, dwell_s: float) -> list[Prefetch]:
    """The server runs ``--prefetch`` asks for, in order. In ``both`` the baseline gets the same
    notification and dwell as the prefetching server (it ignores them), so only the setting differs."""
    if choice == "off":
        return [Prefetch("off", None, None)]
    on = Prefetch("on", True, dwell_s)
    return [on] if choice == "on" else [on, Prefetch("off", False, dwell_s)]


def cursor_idle_params(uri: str, line: int, character: int) -> dict[str, Any]:
    """``roost/cursorIdle``'s params (the contract's shape: an LSP position, UTF-16 character)."""
    return {"textDocument": {"uri": uri}, "position": {"line": line, "character": character}}


PREFETCH_COUNTERS = ("notifications", "started", "warmedTokens", "quickAnswers")


def prefetch_counts(stats: Any) -> dict[str, int]:
    """The prefetch counters of a ``roost/debugStats`` result (a dict, or pygls' object with the same
    names as attributes); empty from a server without them."""

    def read(value: Any, name: str) -> Any:
        return value.get(name) if isinstance(value, dict) else getattr(value, name, None)

    prefetch = read(stats, "prefetch")
    if prefetch is None:
        return {}
    # Only what the server reports (quickAnswers came later than the others).
    values = {name: read(prefetch, name) for name in PREFETCH_COUNTERS}
    return {name: int(value) for name, value in values.items() if value is not None}


# ------------------------------------------------------------------------------------- the product


@dataclass
class Answer:
    """One request as the client saw it, with the server's account of it (``roost/completionDetails``)."""

    label: str
    ms: float
    text: str
    source: str  # model | cache | typed_ahead | in_flight | empty | ...
    prompt_tokens: int = 0
    reused_tokens: int = 0
    prefill_s: float = 0.0
    decode_s: float = 0.0
    queue_s: float = 0.0  # submitted to the engine until scheduled (waiting for its other work)
    generated_tokens: int = 0
    retrieval_ms: float = 0.0
    early: bool = False  # the first line of a multi-line suggestion, answered while the rest was decoded
    built_prompt_tokens: int = 0  # the prompt the pipeline built, early answers included (no reuse figure)
    started: float = 0.0  # perf_counter() when asked and when answered
    ended: float = 0.0
    # "quick" (completion.first_answer_ms), "continued" (completion.typing_keeps_prompt) or "" (the fresh prompt)
    prompt_kind: str = ""
    server_ms: dict[str, float] = field(default_factory=dict)  # the server's stage timings (-v prints them)

    def adopt_generation(self, other: Answer) -> None:
        """The model call's figures of ``other``, the follow-up that got the rest of this early-answered
        generation (a server that reports them there; the early answer itself has none yet)."""
        self.prompt_tokens, self.reused_tokens = other.prompt_tokens, other.reused_tokens
        self.prefill_s, self.decode_s = other.prefill_s, other.decode_s
        self.generated_tokens = other.generated_tokens

    @property
    def model_call(self) -> bool:
        return self.source not in ("cache", "typed_ahead", "in_flight")

    def breakdown(self) -> str:
        if not self.prompt_tokens:
            return f"{self.label}: {self.ms:.0f} ms {self.source} {self.text[:30]!r}"
        return (
            f"{self.label}: {self.ms:.0f} ms {self.source}: {self.prompt_kind + ' ' if self.prompt_kind else ''}"
            f"prompt {self.prompt_tokens} tok, reused "
            f"{self.reused_tokens}, queue {self.queue_s:.2f} s, prefill {self.prefill_s:.2f} s, decode {self.decode_s:.2f} s "
            f"({self.generated_tokens} tok), retrieval {self.retrieval_ms:.0f} ms {self.text[:30]!r}"
            + (f"\n      server stages (ms): {stages}" if (stages := self.stages_text()) else "")
        )

    def stages_text(self) -> str:
        return " ".join(f"{stage} {ms:.0f}" for stage, ms in self.server_ms.items() if ms >= 0.5)


@dataclass
class ServerRun:
    first_ms: list[float] = field(default_factory=list)
    first_load: list[float] = field(default_factory=list)
    matching_ms: list[float] = field(default_factory=list)
    non_matching_ms: list[float] = field(default_factory=list)
    suggestions: list[str] = field(default_factory=list)
    block_ms: list[float] = field(default_factory=list)  # until the whole block was available (see a.)
    blocks: list[str] = field(default_factory=list)  # the first suggestion, with the rest once accepted
    early: int = 0  # first suggestions answered with their first line early
    rss: dict[str, int] = field(default_factory=dict)
    ready_s: float = 0.0
    cold_ms: float = 0.0
    firsts: list[Answer] = field(default_factory=list)
    non_matching: list[Answer] = field(default_factory=list)
    typing_starts: list[Answer] = field(default_factory=list)  # the request at each typed line's start
    typing: list[Answer] = field(default_factory=list)  # one per keystroke
    dwell_s: float | None = None  # the cursor's rest before each first request (None: no cursorIdle sent)
    prefetch: dict[str, int] = field(default_factory=dict)  # the server's prefetch counters at the end
    # Per cursor: prompt tokens the server's prefetch there prefilled (debugStats' warmedTokens after the
    # first request minus before the notification: all computed while the cursor rested, but one chunk).
    warmed_while_resting: list[int] = field(default_factory=list)


def typing_cursor(cursor: Cursor) -> tuple[Cursor, str]:
    """The code line below ``cursor``'s inserted line, taken out (its indentation kept, the cursor after
    it), and that line's text to type."""
    lines = cursor.text.split("\n")
    real = lines[cursor.line + 1]
    indent = real[: len(real) - len(real.lstrip())]
    text = "\n".join([*lines[: cursor.line], indent, *lines[cursor.line + 2 :]])
    return Cursor(cursor.path, text, cursor.line, len(indent)), real[len(indent) :]


async def run_server(
    workspace: Path,
    picked: list[Cursor],
    options: dict[str, Any],
    typing_chars: int,
    verbose: bool,
    fresh_context: bool = False,
    dwell_s: float | None = None,
    server_code: str | None = None,
) -> ServerRun:
    sys.path.insert(0, str(REPO / "tests"))
    from lsp_harness import lsp_session, server_env
    from lsprotocol import types
    from pytest_lsp import client_capabilities

    capabilities = client_capabilities("visual-studio-code")
    capabilities.text_document.inline_completion = types.InlineCompletionClientCapabilities()
    run = ServerRun(dwell_s=dwell_s)
    peak = 0
    with tempfile.TemporaryDirectory() as tmp:
        env = server_env(Path(tmp), {"ROOST_CACHE_DIR": model_cache_dir()})
        if server_code:  # another version's roost package first on the server's path (see --server-code)
            env["PYTHONPATH"] = server_code
        started = time.perf_counter()
        async with lsp_session(
            workspace,
            initialization_options=options,
            capabilities=capabilities,
            env=env,
            command=serve_command(fresh_context=fresh_context),
        ) as session:
            pid = session.client._server.pid  # type: ignore[union-attr]  # pygls keeps the subprocess there
            versions: dict[str, int] = {}

            async def sample_peak() -> None:
                nonlocal peak
                while True:
                    peak = max(peak, tree_rss(pid))
                    await asyncio.sleep(0.25)

            sampler = asyncio.create_task(sample_peak())
            await session.wait_for_status("ready", timeout=900)
            run.ready_s = time.perf_counter() - started
            run.rss["ready"] = tree_rss(pid)

            async def ask(uri: str, line: int, character: int, label: str) -> Answer:
                asked = time.perf_counter()
                text = await first_inline_suggestion(
                    session.client, uri, line, character, invoked=False, timeout_s=REQUEST_TIMEOUT_S
                )
                answered = time.perf_counter()
                ms = (answered - asked) * 1000
                details = await session.client.protocol.send_request_async(
                    "roost/completionDetails", {"uri": uri}
                )
                answer = Answer(label, ms, text, getattr(details, "source", "?"))
                answer.early = bool(getattr(details, "early_first_line", False))
                if getattr(details, "continued_prompt", False):
                    answer.prompt_kind = "continued"
                elif getattr(details, "quick_prompt", False):
                    answer.prompt_kind = "quick"
                answer.built_prompt_tokens = int(getattr(details, "prompt_tokens", 0) or 0)
                answer.started, answer.ended = asked, answered
                generation = getattr(details, "generation", None)
                if generation is not None:  # a model call (servers before the field have none)
                    answer.prompt_tokens = generation.prompt_tokens
                    answer.reused_tokens = generation.reused_prompt_tokens
                    answer.prefill_s = generation.prefill_s
                    answer.decode_s = generation.decode_s
                    answer.queue_s = getattr(generation, "queue_s", 0.0)
                    answer.generated_tokens = generation.generated_tokens
                    answer.retrieval_ms = getattr(details.timings_ms, "retrieval", 0.0)
                    timings = details.timings_ms  # pygls decodes unknown results as namedtuples
                    stages = timings._asdict() if hasattr(timings, "_asdict") else {}
                    answer.server_ms = {k: float(v) for k, v in stages.items() if isinstance(v, int | float)}
                if verbose:
                    print(f"    {answer.breakdown()}", flush=True)
                return answer

            async def prefetch_stats() -> dict[str, int]:
                stats = await session.client.protocol.send_request_async("roost/debugStats", None)
                return prefetch_counts(stats)

            def change(uri: str, text: str) -> None:
                versions[uri] = versions.get(uri, 1) + 1
                session.client.text_document_did_change(
                    types.DidChangeTextDocumentParams(
                        text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=versions[uri]),
                        content_changes=[types.TextDocumentContentChangeWholeDocument(text=text)],
                    )
                )

            def close(uri: str) -> None:
                session.client.text_document_did_close(
                    types.DidCloseTextDocumentParams(text_document=types.TextDocumentIdentifier(uri=uri))
                )

            # The model loads on the first request: that one is reported apart (cold), not in the p50.
            # With prefetch, at the end of a line: a one-line answer, so no first line answered early leaves
            # the rest of a block decoding into the first cursor's rest (the engine admits a prefetch only
            # when idle). Without, the bench's warm-up as it always was.
            warm_text, warm_line, warm_character = (
                ("def add(a, b):\n    return ", 1, 11)
                if dwell_s is not None
                else ("def add(a, b):\n    ", 1, 4)
            )
            warm = session.open("warm_up.py", warm_text, language_id="python")
            run.cold_ms = (await ask(warm, warm_line, warm_character, "cold")).ms
            run.rss["model_loaded"] = tree_rss(pid)
            print(f"  cold first request (loads the model): {run.cold_ms:.0f} ms ({load()})", flush=True)
            for number, cursor in enumerate(picked, 1):
                uri = session.open(cursor.path, cursor.text, language_id="python")
                versions[uri] = 1
                if dwell_s is not None:
                    # The editor tells the server where the cursor rests; the user reads for the dwell
                    # before typing there, and the server may prefill that cursor's prompt meanwhile.
                    before = await prefetch_stats()
                    session.client.protocol.notify(
                        CURSOR_IDLE, cursor_idle_params(uri, cursor.line, cursor.character)
                    )
                    await asyncio.sleep(dwell_s)
                first = await ask(uri, cursor.line, cursor.character, "first")
                if dwell_s is not None:
                    # Read after the request: the server counts a prefetch's tokens when it ends, and one
                    # still running when the request came stops then (within one small chunk).
                    after = await prefetch_stats()
                    run.warmed_while_resting.append(
                        after.get("warmedTokens", 0) - before.get("warmedTokens", 0)
                    )
                suggestion = first.text
                run.firsts.append(first)
                run.first_ms.append(first.ms)
                run.first_load.append(os.getloadavg()[0])
                run.suggestions.append(suggestion)
                if number == 1:
                    run.rss["first_suggestion"] = tree_rss(pid)
                print(
                    f"  {cursor.path}: first {first.ms:.0f} ms{' (first line early)' if first.early else ''} "
                    f"{suggestion[:40]!r}  ({load()})",
                    flush=True,
                )
                block, block_ms = suggestion, first.ms
                if first.early:
                    # The user accepts the line: it is inserted, the cursor after it, and the editor asks again.
                    run.early += 1
                    accepted = cursor.text[: cursor.offset] + suggestion + cursor.text[cursor.offset :]
                    change(uri, accepted)
                    line = cursor.line + suggestion.count("\n")
                    last = suggestion.rsplit("\n", 1)[-1]
                    character = len(last) if "\n" in suggestion else cursor.character + len(suggestion)
                    rest = await ask(uri, line, character, "accepted")
                    if not first.prompt_tokens and rest.prompt_tokens:
                        first.adopt_generation(rest)
                    block, block_ms = suggestion + rest.text, (rest.ended - first.started) * 1000
                    print(
                        f"    rest of the block ({rest.source}) at {block_ms:.0f} ms {rest.text[:40]!r}",
                        flush=True,
                    )
                    change(uri, cursor.text)  # back to the file as opened
                run.block_ms.append(block_ms)
                run.blocks.append(block)
                typed_runs: list[tuple[str, list[float]]] = []
                if len(suggestion) >= 3:
                    typed_runs.append((suggestion[:2], run.matching_ms))
                other = "zq" if not suggestion.startswith("z") else "yq"
                typed_runs.append((other, run.non_matching_ms))
                for typed, into in typed_runs:
                    for count in range(1, len(typed) + 1):
                        lines = cursor.text.split("\n")
                        lines[cursor.line] += typed[:count]
                        change(uri, "\n".join(lines))
                        answer = await ask(
                            uri, cursor.line, cursor.character + count, f"typed {typed[:count]!r}"
                        )
                        into.append(answer.ms)
                        if into is run.non_matching_ms:
                            run.non_matching.append(answer)
                    change(uri, cursor.text)  # back to the file as opened before the next kind of typing
                close(uri)
                if typing_chars > 0:
                    await type_real_line(cursor, typing_chars, session, ask, change, close, run)
            run.rss["end"] = tree_rss(pid)
            run.prefetch = await prefetch_stats()
            sampler.cancel()
    run.rss["peak"] = peak
    return run


async def type_real_line(
    cursor: Cursor, typing_chars: int, session: Any, ask: Any, change: Any, close: Any, run: ServerRun
) -> None:
    """Figure b': the real line below ``cursor`` typed character by character (see the docstring)."""
    start, line_text = typing_cursor(cursor)
    typed = line_text[:typing_chars]
    uri = session.open(start.path, start.text, language_id="python")
    opening = await ask(uri, start.line, start.character, "line start")
    run.typing_starts.append(opening)
    lines = start.text.split("\n")
    answers = []
    for count in range(1, len(typed) + 1):
        lines[start.line] = lines[start.line][: start.character] + typed[:count]
        change(uri, "\n".join(lines))
        answers.append(await ask(uri, start.line, start.character + count, f"typed {typed[:count]!r}"))
    close(uri)
    run.typing.extend(answers)
    model = [a for a in answers if a.model_call]
    print(
        f"  {cursor.path}: typed {typed!r}: p50 {statistics.median(a.ms for a in answers):.0f} ms, "
        f"{len(answers) - len(model)} from the cache, {len(model)} model calls "
        f"(p50 {statistics.median(a.ms for a in model) if model else 0:.0f} ms)  ({load()})",
        flush=True,
    )


# ------------------------------------------------------------------------------------ the raw model


def raw_fim_request(tokenizer: Any, cursor: Cursor, budget: int, max_tokens: int) -> GenerationRequest:
    """The raw model's request at ``cursor``: a plain FIM prompt (prefix 70 % / suffix 30 % of ``budget``
    tokens, no context), greedy, stopped at the family's FIM stops and the end of the line."""
    prefix_ids = tokenizer.encode(cursor.text[: cursor.offset])[-int(budget * 0.7) :]
    suffix_ids = tokenizer.encode(cursor.text[cursor.offset :])[: int(budget * 0.3)]
    return GenerationRequest(
        prompt=f"{FIM_PREFIX}{tokenizer.decode(prefix_ids)}{FIM_SUFFIX}{tokenizer.decode(suffix_ids)}{FIM_MIDDLE}",
        max_new_tokens=max_tokens,
        temperature=0.0,
        stop_token_strings=QwenCoderFormat().stop_token_strings,
        stop_sequences=("\n",),
    )


async def run_raw(picked: list[Cursor], budget: int, max_tokens: int) -> tuple[list[float], list[float]]:
    """The same weights with a plain FIM prompt per cursor (prefix 70 % / suffix 30 % of ``budget``
    tokens); the time to the whole answer, and the load beside each."""
    backend = await asyncio.to_thread(quality_bench.load_backend)
    tokenizer = backend.loaded.tokenizer
    try:
        await quality_bench.generate(
            backend, GenerationRequest(prompt="def f():", max_new_tokens=2)
        )  # warm-up
        times, loads = [], []
        for cursor in picked:
            request = raw_fim_request(tokenizer, cursor, budget, max_tokens)
            started = time.perf_counter()
            answer = await quality_bench.generate(backend, request)
            times.append((time.perf_counter() - started) * 1000)
            loads.append(os.getloadavg()[0])
            print(f"  raw {cursor.path}: {times[-1]:.0f} ms {answer[:40]!r}  ({load()})", flush=True)
        return times, loads
    finally:
        await backend.aclose()


# ------------------------------------------------------------------------------------- weight forms


def weights_child(form: str, tasks: int) -> dict[str, Any]:
    """One weight form in this (child) process: memory, speed, pass@1 (printed as JSON by main)."""
    # Lazy: the backend module imports torch; the parent process (the server run) never needs it.
    from roost.engine.backends.transformers_backend import TransformersBackend, TransformersOptions

    process = psutil.Process()
    result: dict[str, Any] = {"form": form}
    import torch  # noqa: F401 - imported here so "imports" counts torch and transformers, not the model

    result["rss_imports_mib"] = process.memory_info().rss / MIB
    backend = TransformersBackend.load(TransformersOptions(cpu_weights=form))  # type: ignore[arg-type]
    result["rss_loaded_mib"] = process.memory_info().rss / MIB
    result["dtype"] = backend.loaded.dtype
    source = Path(__import__("email").__file__).parent / "_header_value_parser.py"
    text = source.read_text(encoding="utf-8")

    async def speed() -> None:
        prefill, decode = [], []
        for round_ in range(3):
            # A different slice each round: no prefix-cache hit.
            prompt = text[round_ * 9000 : round_ * 9000 + 4000]
            request = GenerationRequest(prompt=prompt, max_new_tokens=24, temperature=0.0)
            _text, final = await _collect(backend, request)
            timings = final.timings
            prefill.append(timings.prompt_tokens / max(timings.prefill_s, 1e-9))
            decode.append(timings.decode_tokens_per_s or 0.0)
        result["prompt_tokens"] = timings.prompt_tokens
        result["prefill_tok_s"] = statistics.median(prefill)
        result["decode_tok_s"] = statistics.median(decode)
        result["speed_load"] = os.getloadavg()[0]
        picked = quality_bench.load_tasks("single", tasks)
        results = await quality_bench.run_raw(backend, picked, 96, lambda _message: None)
        result["pass_at_1"] = sum(r.passed for r in results) / max(len(results), 1)
        result["passed"] = [r.passed for r in results]
        result["tasks"] = len(results)
        result["quality_load"] = os.getloadavg()[0]
        result["prefix_cache_mib"] = backend.scheduler.prefix_cache.bytes / MIB
        result["rss_end_mib"] = process.memory_info().rss / MIB

    asyncio.run(speed())
    backend.scheduler.close()
    return result


async def _collect(backend: Any, request: Any) -> tuple[str, Any]:
    parts, final = [], None
    async for chunk in backend.generate(request):
        parts.append(chunk.text)
        final = chunk
    return "".join(parts), final


def run_weights(forms: list[str], tasks: int) -> int:
    results = []
    for form in forms:
        print(f"\n{form}: loading in a child process ({load()})", flush=True)
        child = subprocess.run(
            [sys.executable, __file__, "--weights-child", form, "--tasks", str(tasks)],
            capture_output=True,
            text=True,
            env={**os.environ, "ROOST_CACHE_DIR": model_cache_dir()},
        )
        lines = [line for line in child.stdout.splitlines() if line.startswith("{")]
        if child.returncode != 0 or not lines:
            print(child.stderr[-3000:])
            return 1
        results.append(json.loads(lines[-1]))
        r = results[-1]
        print(
            f"  {r['dtype']}: RSS imports {r['rss_imports_mib']:.0f} MiB, loaded {r['rss_loaded_mib']:.0f} MiB, "
            f"end {r['rss_end_mib']:.0f} MiB (prefix cache {r['prefix_cache_mib']:.0f} MiB)\n"
            f"  prefill {r['prefill_tok_s']:.0f} tok/s ({r['prompt_tokens']} tokens), decode "
            f"{r['decode_tok_s']:.1f} tok/s ({'load'} {r['speed_load']:.1f})\n"
            f"  HumanEval single-line pass@1 {r['pass_at_1']:.3f} over {r['tasks']} tasks "
            f"(load {r['quality_load']:.1f})",
            flush=True,
        )
    base = results[0]
    print(f"\nagainst {base['form']} (same run):")
    for r in results[1:]:
        same = sum(a == b for a, b in zip(base["passed"], r["passed"], strict=True))
        print(
            f"  {r['form']}: weights+runtime RSS {r['rss_loaded_mib'] / base['rss_loaded_mib']:.2f}x, prefill "
            f"{r['prefill_tok_s'] / base['prefill_tok_s']:.2f}x, decode {r['decode_tok_s'] / base['decode_tok_s']:.2f}x, "
            f"pass@1 {r['pass_at_1']:.3f} vs {base['pass_at_1']:.3f} (same verdict on {same}/{r['tasks']} tasks)"
        )
    return 0


def breakdown_summary(name: str, answers: list[Answer]) -> str:
    """Medians of the model calls' breakdown: where a request's time goes."""
    calls = [a for a in answers if a.prompt_tokens]
    if not calls:
        return f"{name}: no model call"

    def median(values: Any) -> float:
        return statistics.median(list(values))

    return (
        f"{name} ({len(calls)}): median prompt {median(a.prompt_tokens for a in calls):.0f} tok, reused "
        f"{median(a.reused_tokens for a in calls):.0f} (prefilled {median(a.prompt_tokens - a.reused_tokens for a in calls):.0f}), "
        f"prefill {median(a.prefill_s for a in calls):.2f} s, decode {median(a.decode_s for a in calls):.2f} s "
        f"({median(a.generated_tokens for a in calls):.0f} tok), round trip {median(a.ms for a in calls):.0f} ms"
    )


# --------------------------------------------------------------------------------------------- main


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--files", type=int, default=8)
    parser.add_argument("--package", default="email", help="stdlib package copied as the workspace")
    parser.add_argument("--budget", type=int, default=None, help="context.budget (default: the product's)")
    parser.add_argument("--cpu-weights", choices=("int8", "float32"), default=None)
    parser.add_argument("--no-raw", action="store_true", help="skip the raw-model baseline")
    parser.add_argument("--json", type=Path)
    parser.add_argument(
        "--typing-chars", type=int, default=24, help="characters of each real line typed (b'; 0: skip)"
    )
    parser.add_argument("--threads", type=int, help="OMP_NUM_THREADS for the server and the raw model")
    parser.add_argument("-v", "--verbose", action="store_true", help="each request's breakdown")
    parser.add_argument(
        "--fresh-context",
        action="store_true",
        help="baseline: the server retrieves every keystroke's context afresh (no kept context)",
    )
    parser.add_argument(
        "--first-line-early",
        choices=("both", "on", "off", "auto"),
        default=None,
        help="completion.first_line_early of the server; both: a run with it on, then one with it off "
        "(default: both, or the product's auto with --prefetch on|both)",
    )
    parser.add_argument(
        "--suffix-first",
        choices=("both", "on", "off"),
        default="on",
        help="completion.suffix_first of the server (SPM prompts with token healing); both: on, then off",
    )
    parser.add_argument(
        "--prefetch",
        choices=("off", "on", "both"),
        default="off",
        help="completion.prefetch with roost/cursorIdle and a dwell before each first request; both: on, "
        "then off with the same notification and dwell (off: no notification, no dwell)",
    )
    parser.add_argument(
        "--dwell", type=float, default=3.0, help="seconds the cursor rests before each first request"
    )
    parser.add_argument(
        "--first-answer-ms",
        default="",
        help="comma-separated completion.first_answer_ms values, one server each (default: the product's)",
    )
    parser.add_argument(
        "--cpu-decode-weights",
        default="",
        help="comma-separated model.cpu_decode_weights values (int8, int4), one server each (default: the product's)",
    )
    parser.add_argument(
        "--typing-keeps-prompt",
        default="",
        help="comma-separated completion.typing_keeps_prompt values (on, off), one server each (default: the product's)",
    )
    parser.add_argument(
        "--busy-cores",
        type=int,
        default=0,
        help="busy-loop processes running beside the servers for the whole run: a laptop doing other work",
    )
    parser.add_argument(
        "--server-code",
        default="",
        help="comma-separated PYTHONPATH roots for the server, one server each: a directory holding another "
        "version's roost/ (git archive REV lsp context engine | tar -x -C DIR/roost; touch DIR/roost/__init__.py)"
        ", or 'here' for this checkout: a code A/B in one run",
    )
    parser.add_argument("--weights", action="store_true", help="compare weight forms (see above)")
    parser.add_argument("--forms", default="float32,int8")
    parser.add_argument("--tasks", type=int, default=30)
    parser.add_argument("--weights-child", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.threads:
        # Before torch is imported (here or in the server): its thread pool reads these once.
        os.environ["OMP_NUM_THREADS"] = os.environ["MKL_NUM_THREADS"] = str(args.threads)
    if args.weights_child:
        print(json.dumps(weights_child(args.weights_child, args.tasks)))
        return 0
    if args.weights:
        return run_weights(args.forms.split(","), args.tasks)

    first_line_early = args.first_line_early or ("both" if args.prefetch == "off" else "auto")
    prefetches = prefetch_conditions(args.prefetch, args.dwell)
    first_answers: list[int | None] = [int(v) for v in args.first_answer_ms.split(",") if v] or [None]
    decode_weights: list[str | None] = [v for v in args.cpu_decode_weights.split(",") if v] or [None]
    keeps_prompt: list[str | None] = [v for v in args.typing_keeps_prompt.split(",") if v] or [None]
    server_codes: list[str | None] = [v for v in args.server_code.split(",") if v] or [None]
    # The A/Bs of one setting whose servers are keyed by it: the key's label, the setting its table names,
    # the option, the values (in the order of the servers' loop below).
    setting_abs: list[tuple[str, str, str, Sequence[int | str | None]]] = [
        ("first_answer_ms", "completion.first_answer_ms", "--first-answer-ms A,B", first_answers),
        ("cpu_decode_weights", "model.cpu_decode_weights", "--cpu-decode-weights A,B", decode_weights),
        ("typing_keeps_prompt", "completion.typing_keeps_prompt", "--typing-keeps-prompt A,B", keeps_prompt),
        ("server code", "server code", "--server-code A,B", server_codes),
    ]
    # Each of these compares one setting side by side: the others (and the first-line-early and suffix-first
    # A/Bs, which may run together) must then have one value.
    one_setting_ab = {"--prefetch both": len(prefetches) > 1} | {
        option: len(values) > 1 for _label, _setting, option, values in setting_abs
    }
    for option, compares in one_setting_ab.items():
        others = first_line_early == "both" or args.suffix_first == "both" or sum(one_setting_ab.values()) > 1
        if compares and others:
            parser.error(f"{option} compares one setting: give the other A/B options one value each")
    defaults = RoostConfig()
    budget = args.budget or prompt_settings(defaults).budget  # the product's own default for this machine
    options: dict[str, Any] = {"completion": {"debounce_ms": 0}, "context": {"budget": budget}}
    if args.cpu_weights:
        options["model"] = {"cpu_weights": args.cpu_weights}
    start_busy_processes(args.busy_cores)
    with tempfile.TemporaryDirectory() as tmp:
        workspace = copy_package(args.package, Path(tmp) / "workspace")
        picked = cursors(workspace, args.files)
        context = (
            "retrieved afresh per keystroke (baseline)" if args.fresh_context else "kept while typing a line"
        )
        print(
            f"workspace: a copy of stdlib {args.package!r}; {len(picked)} files; budget {budget}; threads "
            f"{os.environ.get('OMP_NUM_THREADS', 'default')}; context {context}; busy-loop processes beside "
            f"the servers: {args.busy_cores}; {load()}"
        )
        modes = ("on", "off") if first_line_early == "both" else (first_line_early,)
        orders = ("on", "off") if args.suffix_first == "both" else (args.suffix_first,)
        runs: dict[str, ServerRun] = {}
        for mode, order, prefetch, first_answer, decode, keeps, code in itertools.product(
            modes, orders, prefetches, first_answers, decode_weights, keeps_prompt, server_codes
        ):
            key = server_key(mode, order, prefetch, suffix_ab=len(orders) == 2)
            for (label, _setting, _option, values), value in zip(
                setting_abs, (first_answer, decode, keeps, code), strict=True
            ):
                if len(values) > 1:
                    key = setting_key(label, value)
            print(f"server with completion.first_line_early = {key} ({load()})", flush=True)
            completion: dict[str, Any] = {
                **options["completion"],
                "first_line_early": mode,
                "suffix_first": order == "on",
            }
            if prefetch.setting is not None:
                completion["prefetch"] = prefetch.setting
            if first_answer is not None:
                completion["first_answer_ms"] = first_answer
            if keeps is not None:
                completion["typing_keeps_prompt"] = keeps == "on"
            server_options = {**options, "completion": completion}
            if decode is not None:
                server_options["model"] = {**options.get("model", {}), "cpu_decode_weights": decode}
            runs[key] = asyncio.run(
                run_server(
                    workspace,
                    picked,
                    server_options,
                    args.typing_chars,
                    args.verbose,
                    args.fresh_context,
                    prefetch.dwell_s,
                    None if code in (None, "here") else code,
                )
            )
    raw_ms: list[float] = []
    raw_loads: list[float] = []
    if not args.no_raw:
        print(f"raw model baseline ({load()})", flush=True)
        raw_ms, raw_loads = asyncio.run(run_raw(picked, budget, defaults.completion.max_tokens))

    for mode, run in runs.items():
        print(f"\n== completion.first_line_early = {mode}")
        report(run, raw_ms, raw_loads)
    if len(orders) == 2 and len(modes) == 1:
        spm = runs[server_key(modes[0], "on", prefetches[0], suffix_ab=True)]
        psm = runs[server_key(modes[0], "off", prefetches[0], suffix_ab=True)]
        print(
            f"\nsuffix first on vs off (same run, same cursors): first suggestion p50 "
            f"{statistics.median(spm.first_ms):.0f} vs {statistics.median(psm.first_ms):.0f} ms; "
            f"non-matching keystroke p50 {statistics.median(spm.non_matching_ms):.0f} vs "
            f"{statistics.median(psm.non_matching_ms):.0f} ms; typing real lines' model calls p50 "
            f"{model_p50(spm):.0f} vs {model_p50(psm):.0f} ms"
        )
    if len(modes) == 2 and len(orders) == 1:
        on = runs[server_key("on", orders[0], prefetches[0], suffix_ab=False)]
        off = runs[server_key("off", orders[0], prefetches[0], suffix_ab=False)]
        same = sum(1 for a, b in zip(on.blocks, off.blocks, strict=True) if a == b)
        print(
            f"\nfirst line early on vs off (same run, same cursors): first suggestion p50 "
            f"{statistics.median(on.first_ms):.0f} vs {statistics.median(off.first_ms):.0f} ms; whole block p50 "
            f"{statistics.median(on.block_ms):.0f} vs {statistics.median(off.block_ms):.0f} ms; {on.early}/"
            f"{len(on.first_ms)} answered early; whole block identical at {same}/{len(on.blocks)} cursors"
        )
    for label, setting, _option, values in setting_abs:
        if len(values) == 2:
            print()
            a, b = (runs[setting_key(label, value)] for value in values)
            print("\n".join(first_answer_table(values, a, b, setting=setting)))
    if len(prefetches) == 2:
        on = runs[server_key(modes[0], orders[0], prefetches[0], suffix_ab=False)]
        off = runs[server_key(modes[0], orders[0], prefetches[1], suffix_ab=False)]
        print()
        print("\n".join(prefetch_table(on, off, args.dwell, raw_ms)))
    if args.json:
        args.json.write_text(
            json.dumps(
                {
                    "budget": budget,
                    "servers": {mode: asdict(run) for mode, run in runs.items()},
                    "raw_ms": raw_ms,
                    "raw_loads": raw_loads,
                },
                indent=1,
            )
        )
    return 0


def start_busy_processes(count: int) -> None:
    """``count`` busy-loop processes for the rest of this run (killed at exit): the cores a laptop's other
    work (a build, the editor's other language servers) takes from the server."""
    processes = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(max(0, count))]

    def stop() -> None:
        for process in processes:
            process.kill()
            process.wait()

    atexit.register(stop)


def setting_key(label: str, value: int | str | None) -> str:
    """The key (and printed name) of a server in a one-setting A/B: ``label = value``."""
    return f"{label} = {value if value is not None else 'default'}"


def first_answer_table(
    values: Sequence[int | str | None],
    a: ServerRun,
    b: ServerRun,
    setting: str = "completion.first_answer_ms",
) -> list[str]:
    """A one-setting A/B side by side (same run, same cursors): ``completion.first_answer_ms`` or another
    ``setting``."""

    def p50_p90(values: list[float]) -> str:
        return f"{statistics.median(values):.0f} / {percentile(values, 90):.0f}" if values else "-"

    def built(run: ServerRun) -> str:
        tokens = [x.built_prompt_tokens or x.prompt_tokens for x in run.firsts]
        return f"{statistics.median(tokens):.0f}" if tokens else "-"

    def typing(run: ServerRun) -> str:
        if not run.typing:
            return "-"
        cached = sum(1 for x in run.typing if not x.model_call) / len(run.typing)
        return f"{p50_p90([x.ms for x in run.typing])}; {cached:.0%} cache"

    identical = sum(1 for x, y in zip(a.suggestions, b.suggestions, strict=True) if x == y)
    rows = [
        ("first suggestion p50 / p90 (ms)", p50_p90(a.first_ms), p50_p90(b.first_ms)),
        ("whole block p50 / p90 (ms)", p50_p90(a.block_ms), p50_p90(b.block_ms)),
        ("first requests' prompt built (tok, median)", built(a), built(b)),
        ("non-matching keystroke p50 / p90 (ms)", p50_p90(a.non_matching_ms), p50_p90(b.non_matching_ms)),
        ("typing real lines p50 / p90 (ms)", typing(a), typing(b)),
        (
            "server RSS with the model loaded (MiB)",
            f"{a.rss.get('model_loaded', 0) / 2**20:.0f}",
            f"{b.rss.get('model_loaded', 0) / 2**20:.0f}",
        ),
        (
            "server RSS peak (MiB)",
            f"{a.rss.get('peak', 0) / 2**20:.0f}",
            f"{b.rss.get('peak', 0) / 2**20:.0f}",
        ),
        (
            "requests answered from a shorter prompt",
            str(a.prefetch.get("quickAnswers", "-")),
            str(b.prefetch.get("quickAnswers", "-")),
        ),
        (
            "load (median at the first suggestions)",
            f"{statistics.median(a.first_load):.1f}",
            f"{statistics.median(b.first_load):.1f}",
        ),
    ]
    width = max(len(row[0]) for row in rows)
    names = [str(v) if v is not None else "default" for v in values]
    return [
        f"{setting} {names[0]} vs {names[1]} (same run, same {len(a.first_ms)} cursors; identical "
        f"first suggestions {identical}/{len(a.suggestions)}):",
        f"  {'':<{width}}  {names[0]:>22}  {names[1]:>22}",
        *(f"  {label:<{width}}  {x:>22}  {y:>22}" for label, x, y in rows),
    ]


def server_key(mode: str, order: str, prefetch: Prefetch, *, suffix_ab: bool) -> str:
    """A server run's name: the first-line mode, the suffix order where that A/B runs, and the prefetch
    condition where a cursorIdle is sent (so the bench's names without prefetch stay as they were)."""
    key = f"{mode}, suffix_first = {order}" if suffix_ab else mode
    if prefetch.dwell_s is not None:
        key += f", prefetch = {prefetch.label} (dwell {prefetch.dwell_s:g} s)"
    return key


def first_request_tokens(run: ServerRun) -> tuple[float, float, float]:
    """Medians over the first requests that called the model: prompt, reused and prefilled tokens."""
    calls = [a for a in run.firsts if a.prompt_tokens]
    if not calls:
        return 0.0, 0.0, 0.0
    return (
        statistics.median(a.prompt_tokens for a in calls),
        statistics.median(a.reused_tokens for a in calls),
        statistics.median(a.prompt_tokens - a.reused_tokens for a in calls),
    )


def prefetch_table(on: ServerRun, off: ServerRun, dwell_s: float, raw_ms: list[float]) -> list[str]:
    """The prefetch A/B side by side (same run, same cursors, same dwell), with the raw model's first
    answers where they were measured."""

    def p50_p90(values: list[float]) -> str:
        return f"{statistics.median(values):.0f} / {percentile(values, 90):.0f}" if values else "-"

    def tokens(run: ServerRun) -> str:
        calls = sum(1 for a in run.firsts if a.prompt_tokens)
        if not calls:
            return "n/a"  # early first lines whose generation's figures the server did not report
        prompt, reused, prefilled = first_request_tokens(run)
        return f"{prompt:.0f} / {reused:.0f} / {prefilled:.0f}" + (
            f" ({calls})" if calls < len(run.firsts) else ""
        )

    def warmed(run: ServerRun) -> str:
        built = [a.built_prompt_tokens for a in run.firsts if a.built_prompt_tokens]
        rested = f"{statistics.median(run.warmed_while_resting):.0f}" if run.warmed_while_resting else "-"
        return f"{rested} / {statistics.median(built):.0f}" if built else rested

    def prefill_s(run: ServerRun) -> str:
        calls = [a.prefill_s for a in run.firsts if a.prompt_tokens]
        return f"{statistics.median(calls):.2f}" if calls else "-"

    def counters(run: ServerRun) -> str:
        return (
            " / ".join(str(run.prefetch.get(name, "-")) for name in PREFETCH_COUNTERS)
            if run.prefetch
            else "-"
        )

    identical = sum(1 for a, b in zip(on.suggestions, off.suggestions, strict=True) if a == b)
    rows = [
        ("first suggestion p50 / p90 (ms)", p50_p90(on.first_ms), p50_p90(off.first_ms), p50_p90(raw_ms)),
        ("whole block p50 / p90 (ms)", p50_p90(on.block_ms), p50_p90(off.block_ms), ""),
        ("first requests' prompt / reused / prefilled tok", tokens(on), tokens(off), ""),
        ("first requests' prefill (s, median)", prefill_s(on), prefill_s(off), ""),
        ("prefetched while resting / prompt built (tok, median)", warmed(on), warmed(off), ""),
        (
            "non-matching keystroke p50 / p90 (ms)",
            p50_p90(on.non_matching_ms),
            p50_p90(off.non_matching_ms),
            "",
        ),
        (
            "server prefetch notifications / started / warmed tok / quick answers",
            counters(on),
            counters(off),
            "",
        ),
        (
            "load (median at the first suggestions)",
            f"{statistics.median(on.first_load):.1f}",
            f"{statistics.median(off.first_load):.1f}",
            "",
        ),
    ]
    width = max(len(row[0]) for row in rows)
    lines = [
        f"prefetch on vs off (same run, same {len(on.first_ms)} cursors; each first request asked after the "
        f"cursor rested {dwell_s:g} s with roost/cursorIdle sent; identical first suggestions "
        f"{identical}/{len(on.suggestions)}):",
        f"  {'':<{width}}  {'on':>16}  {'off':>16}  {'raw model':>16}",
    ]
    lines += [f"  {name:<{width}}  {a:>16}  {b:>16}  {c:>16}" for name, a, b, c in rows]
    return lines


def model_p50(run: ServerRun) -> float:
    """p50 of the typed keystrokes that needed a new model call (0 when none did)."""
    model = [a.ms for a in run.typing if a.model_call]
    return statistics.median(model) if model else 0.0


def report(run: ServerRun, raw_ms: list[float], raw_loads: list[float]) -> None:
    """One server run's figures (a., b., b'., c.) against the raw model's."""
    first_p50, first_p90 = statistics.median(run.first_ms), percentile(run.first_ms, 90)
    print(f"server ready in {run.ready_s:.1f} s; cold first request (model load) {run.cold_ms / 1000:.1f} s")
    print(
        f"a. first suggestion after opening a file: p50 {first_p50:.0f} ms  p90 {first_p90:.0f} ms  over "
        f"{len(run.first_ms)} files (load {statistics.median(run.first_load):.1f}; target p50 <= 2000); "
        f"{run.early} answered with the first line early"
    )
    print(
        f"   whole block available (the accepted first line's follow-up answered): p50 "
        f"{statistics.median(run.block_ms):.0f} ms  p90 {percentile(run.block_ms, 90):.0f} ms"
    )
    if raw_ms:
        raw_p50 = statistics.median(raw_ms)
        print(
            f"   raw model, plain FIM prompt, same weights and cursors: p50 {raw_p50:.0f} ms  p90 "
            f"{percentile(raw_ms, 90):.0f} ms (load {statistics.median(raw_loads):.1f}) -> product/raw p50 "
            f"{first_p50 / raw_p50:.2f}x"
        )
    if run.matching_ms:
        print(
            f"b. follow-up keystroke matching the suggestion: p50 {statistics.median(run.matching_ms):.0f} ms "
            f"over {len(run.matching_ms)}"
        )
    print(
        f"   follow-up keystroke not matching it (a new model call): p50 "
        f"{statistics.median(run.non_matching_ms):.0f} ms  p90 {percentile(run.non_matching_ms, 90):.0f} ms "
        f"over {len(run.non_matching_ms)} (target p50 <= 500; {load()})"
    )
    if run.dwell_s is not None:
        counts = ", ".join(f"{name} {value}" for name, value in run.prefetch.items()) or "none reported"
        print(
            f"   each first request after the cursor rested {run.dwell_s:g} s (roost/cursorIdle sent); "
            f"server prefetch counters: {counts}; prompt tokens prefetched while resting, per cursor: "
            f"{run.warmed_while_resting}"
        )
    print(f"   model calls: {breakdown_summary('first requests', run.firsts)}")
    print(f"                {breakdown_summary('non-matching keystrokes', run.non_matching)}")
    if run.typing:
        typing_ms = [a.ms for a in run.typing]
        model = [a for a in run.typing if a.model_call]
        print(
            f"b'. typing real lines ({len(run.typing_starts)} lines, {len(run.typing)} keystrokes, a request "
            f"after each): p50 {statistics.median(typing_ms):.0f} ms  p90 {percentile(typing_ms, 90):.0f} ms; "
            f"{len(run.typing) - len(model)} ({(len(run.typing) - len(model)) / len(run.typing):.0%}) from "
            f"the cache, {len(model)} new model calls (p50 "
            f"{model_p50(run):.0f} ms)"
        )
        print(f"    model calls: {breakdown_summary('line starts', run.typing_starts)}")
        print(f"                 {breakdown_summary('keystrokes', model)}")
    print(
        "c. server RSS (process tree, MiB): "
        + ", ".join(f"{name} {value / MIB:.0f}" for name, value in run.rss.items())
        + " (target <= 1536)"
    )


if __name__ == "__main__":
    sys.exit(main())
