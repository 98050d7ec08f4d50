"""``roost context``: what Roost would put in the prompt for a cursor, and why.

    roost context ROOT FILE:LINE:COL [--buffer PATH] [--budget TOKENS] [--json]
    roost context ROOT --batch [--budget TOKENS]     (JSON lines in, one JSON object per line out)

LINE and COL are 1-based (COL counts characters). Wiring only: retrieval is ``roost.context.retrieval``,
the prompt format and tokenizer are ``roost.engine.prompts``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

from roost.lsp.cli.registry import Command

DEFAULT_BUDGET = 2048


class ContextError(ValueError):
    """A request the command cannot serve (bad position, missing file); reported, never raised out."""


@dataclass
class Answer:
    items: list[Any]  # ContextItem, best first, those that made it into the prompt
    prompt: str
    prompt_tokens: int
    ms: float
    dropped: list[tuple[Any, str]]


class ContextPipeline:
    """Index once, then answer cursors: retrieval → the default model's prompt format, under a budget."""

    def __init__(self, root: Path, budget: int) -> None:
        from roost.context.retrieval import RetrievalOptions, Retriever
        from roost.engine.gate.secrets import redact

        if not root.is_dir():
            raise ContextError(f"workspace root {root} is not a directory")
        if budget < 64:
            raise ContextError(f"--budget {budget} is too small (at least 64 tokens)")
        self.root = root.resolve()
        self.budget = budget
        self.options = RetrievalOptions()
        self.workspace = _open_workspace(self.root)
        self.retriever = Retriever(self.workspace, redact=redact, options=self.options)
        self.counter, self.format = _prompt_format()

    def rel_path(self, file: str) -> str:
        path = Path(file)
        if path.is_absolute():
            try:
                return path.resolve().relative_to(self.root).as_posix()
            except ValueError as error:
                raise ContextError(f"{file} is outside the workspace {self.root}") from error
        return Path(file).as_posix().removeprefix("./")

    def answer(self, file: str, line: int, col: int, buffer: str | None) -> Answer:
        from roost.context.languages import language_for_path
        from roost.context.retrieval import RetrievalRequest
        from roost.context.scanning import is_secret_path
        from roost.engine.prompts import BudgetSplit, ContextSnippet, PackOptions, PromptInput, pack

        rel = self.rel_path(file)
        if is_secret_path(rel):
            raise ContextError(f"{rel} matches the secret-file exclusions; Roost never reads it")
        if buffer is None:
            try:
                buffer = (self.root / rel).read_text(encoding="utf-8", errors="replace")
            except OSError as error:
                raise ContextError(f"cannot read {rel}: {error.strerror or error}") from error
        lines = buffer.split("\n")
        if not isinstance(line, int) or not isinstance(col, int) or line < 1 or col < 1:
            raise ContextError(f"LINE and COL are 1-based integers, got {line}:{col}")
        if line > len(lines):
            raise ContextError(f"line {line} is past the end of {rel} ({len(lines)} lines)")
        line_text = lines[line - 1].rstrip("\r")
        if col > len(line_text) + 1:
            raise ContextError(f"column {col} is past the end of line {line} ({len(line_text)} characters)")

        started = time.perf_counter()
        budgets = BudgetSplit().token_budgets(self.budget)
        request = RetrievalRequest(rel, buffer, line - 1, col - 1)
        result = self.retriever.retrieve(
            request,
            self.counter.count,
            budgets.context,
            prefix_budget=budgets.prefix,
            suffix_budget=budgets.suffix,
        )
        offset = sum(len(text) + 1 for text in lines[: line - 1]) + (col - 1)
        language = language_for_path(rel)
        snippets = tuple(
            ContextSnippet(
                path=item.path,
                text=item.text,
                score=item.score + 1e-9 * (len(result.items) - rank),
                kind=item.kind,
            )
            for rank, item in enumerate(result.items)
        )
        prompt_input = PromptInput(
            path=rel,
            language=language.name if language else "text",
            prefix=buffer[:offset],
            suffix=buffer[offset:],
            snippets=snippets,
            repo_name=self.root.name,
        )
        packed = pack(prompt_input, self.format, self.counter, PackOptions(budget_tokens=self.budget))
        kept = set(packed.prompt_input.snippets)
        items = [item for item, snippet in zip(result.items, snippets, strict=True) if snippet in kept]
        dropped = list(result.dropped) + [
            (item, "did not fit the rendered prompt")
            for item, snippet in zip(result.items, snippets, strict=True)
            if snippet not in kept
        ]
        ms = (time.perf_counter() - started) * 1000.0
        return Answer(items, packed.prompt.text, packed.tokens, ms, dropped)


def _open_workspace(root: Path) -> Any:
    """The persistent index (warm after the first run) when installed, else an in-memory parse."""
    from roost.context.options import IndexOptions

    context_index: ModuleType | None
    try:
        from roost.context import index as context_index
    except ImportError:
        context_index = None
    if context_index is not None and hasattr(context_index, "open_index"):
        index = context_index.open_index(root, IndexOptions())
        index.index()
        if all(hasattr(index, name) for name in ("file_facts", "resolve_import", "file_text", "paths")):
            return index
    from roost.context.retrieval.standalone import ParsedWorkspace

    return ParsedWorkspace(root, IndexOptions(persist=False))


def _prompt_format() -> tuple[Any, Any]:
    """The default model's tokenizer and prompt format (Qwen2.5-Coder FIM, repository layout)."""
    from roost.engine.models.default import ensure_default_model
    from roost.engine.prompts import TransformersTokenCounter, detect_family_from_dir, make_format

    model_dir = ensure_default_model()
    counter = TransformersTokenCounter.from_pretrained(model_dir)
    return counter, make_format(detect_family_from_dir(model_dir), hf_tokenizer=counter.tokenizer)


def _item_json(item: Any) -> dict[str, Any]:
    return {
        "path": item.path,
        "start_line": item.start_line + 1,
        "end_line": item.end_line + 1,
        "kind": str(item.kind),
        "score": round(item.score, 6),
        "tokens": item.tokens,
    }


def _parse_position(position: str) -> tuple[str, int, int]:
    file, sep1, rest = position.rpartition(":")
    file2, sep2, line = file.rpartition(":")
    if not sep1 or not sep2 or not file2:
        raise ContextError(f"expected FILE:LINE:COL, got {position!r}")
    try:
        return file2, int(line), int(rest)
    except ValueError as error:
        raise ContextError(f"LINE and COL must be integers in {position!r}") from error


def _run_batch(pipeline: ContextPipeline) -> int:
    out = sys.stdout
    for raw in sys.stdin:
        if not raw.strip():
            continue
        try:
            request = json.loads(raw)
            if not isinstance(request, dict):
                raise ContextError("each line must be a JSON object")
            missing = [key for key in ("file", "line", "col", "buffer") if key not in request]
            if missing:
                raise ContextError(f"missing keys: {', '.join(missing)}")
            if not isinstance(request["file"], str) or not isinstance(request["buffer"], str):
                raise ContextError("file and buffer must be strings")
            if isinstance(request["line"], bool) or isinstance(request["col"], bool):
                raise ContextError("line and col must be integers")
            answer = pipeline.answer(request["file"], request["line"], request["col"], request["buffer"])
            payload: dict[str, Any] = {
                "items": [_item_json(item) for item in answer.items],
                "prompt_tokens": answer.prompt_tokens,
                "ms": round(answer.ms, 3),
            }
        except json.JSONDecodeError as error:
            payload = {"error": f"invalid JSON: {error.msg} at column {error.colno}"}
        except (ContextError, ValueError, TypeError) as error:
            payload = {"error": str(error)}
        except Exception as error:  # one bad request never ends the batch
            payload = {"error": f"{type(error).__name__}: {error}"}
        out.write(json.dumps(payload) + "\n")
        out.flush()
    return 0


def _print_listing(answer: Answer, position: str) -> None:
    print(
        f"context for {position}: {len(answer.items)} item(s), prompt {answer.prompt_tokens} tokens, {answer.ms:.1f} ms"
    )
    for rank, item in enumerate(answer.items, 1):
        print(
            f"  {rank:2d}. {item.path}:{item.start_line + 1}-{item.end_line + 1}  {item.kind}  "
            f"score {item.score:.3f}  {item.tokens} tok  — {item.reason}"
        )
    if answer.dropped:
        print("  not chosen:")
        for candidate, why in answer.dropped[:15]:
            print(
                f"      {candidate.path}:{candidate.start_line + 1}-{candidate.end_line + 1}  {candidate.kind}  — {why}"
            )
        if len(answer.dropped) > 15:
            print(f"      … and {len(answer.dropped) - 15} more")
    print("\n" + "─" * 30 + " prompt " + "─" * 30)
    print(answer.prompt)


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("root", metavar="ROOT", help="workspace root")
    parser.add_argument(
        "position", metavar="FILE:LINE:COL", nargs="?", help="cursor (1-based line and column)"
    )
    parser.add_argument(
        "--buffer", metavar="PATH", help="file holding the full document text (an unsaved buffer)"
    )
    parser.add_argument(
        "--budget", metavar="TOKENS", type=int, default=DEFAULT_BUDGET, help="prompt token budget"
    )
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    parser.add_argument(
        "--batch", action="store_true", help="read JSON lines {file,line,col,buffer} on stdin"
    )


def run(args: argparse.Namespace) -> int:
    from roost.engine.types import EngineError

    if args.batch == bool(args.position):
        print("roost context: give either FILE:LINE:COL or --batch", file=sys.stderr)
        return 2
    try:
        pipeline = ContextPipeline(Path(args.root), args.budget)
        if args.batch:
            return _run_batch(pipeline)
        file, line, col = _parse_position(args.position)
        buffer = None
        if args.buffer:
            try:
                buffer = Path(args.buffer).read_text(encoding="utf-8", errors="replace")
            except OSError as error:
                raise ContextError(
                    f"cannot read --buffer {args.buffer}: {error.strerror or error}"
                ) from error
        answer = pipeline.answer(file, line, col, buffer)
    except ContextError as error:
        print(f"roost context: {error}", file=sys.stderr)
        return 2
    except EngineError as error:  # no model to count tokens with: what to install, not a traceback
        print(f"roost context: {error}", file=sys.stderr)
        return 1
    if args.json:
        payload = {
            "items": [
                {**_item_json(item), "reason": item.reason, "text": item.text} for item in answer.items
            ],
            "prompt_tokens": answer.prompt_tokens,
            "ms": round(answer.ms, 3),
            "prompt": answer.prompt,
        }
        print(json.dumps(payload, indent=2))
    else:
        _print_listing(answer, args.position)
    return 0


COMMAND = Command(
    name="context",
    help="show the project context Roost would put in the prompt for a cursor",
    configure=configure,
    run=run,
    order=40,
)
