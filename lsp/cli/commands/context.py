"""``roost context``: what Roost would put in the prompt for a cursor, and why.

    roost context ROOT FILE:LINE:COL [--buffer PATH] [--budget TOKENS] [--config KEY=VALUE]... [--json]
    roost context ROOT --batch [--budget TOKENS] [--config KEY=VALUE]...  (JSON lines in and out)

LINE and COL are 1-based (COL counts characters). The prompt is the one the language server would send
for that workspace: its configuration (``[tool.roost]`` in pyproject.toml or roost.toml), its model's
prompt format and token counter, the same prompt builder (:mod:`roost.lsp.core.context_preview`).
``--budget`` overrides ``context.budget``; ``--config section.key=VALUE`` (a TOML value, or plain text)
any setting, as an editor's settings would.
"""

from __future__ import annotations

import argparse
import json
import sys
import tomllib
from collections.abc import Mapping
from pathlib import Path

from roost.context.retrieval.model import ContextItem
from roost.engine.types import EngineError
from roost.lsp.cli.registry import Command
from roost.lsp.core.context_preview import (
    ContextPreview,
    Preview,
    PreviewError,
    with_budget,
    workspace_config,
)

ContextError = PreviewError
MIN_BUDGET = 64


class ContextPipeline:
    """The workspace's configuration (``budget`` overriding its ``context.budget``) and a preview of it."""

    def __init__(
        self, root: Path, budget: int | None = None, overrides: Mapping[str, object] | None = None
    ) -> None:
        if budget is not None and budget < MIN_BUDGET:
            raise ContextError(f"--budget {budget} is too small (at least {MIN_BUDGET} tokens)")
        if not root.is_dir():
            raise ContextError(f"workspace root {root} is not a directory")
        config = with_budget(workspace_config(root, overrides), budget)
        self.preview = ContextPreview(root, config)

    def answer(self, file: str, line: int, col: int, buffer: str | None) -> Preview:
        return self.preview.preview(file, line, col, buffer)


def _item_json(item: ContextItem) -> dict[str, object]:
    return {
        "path": item.path,
        "start_line": item.start_line + 1,
        "end_line": item.end_line + 1,
        "kind": str(item.kind),
        "score": round(item.score, 6),
        "tokens": item.tokens,
    }


def parse_overrides(assignments: list[str]) -> dict[str, object]:
    """``["context.budget=1024", 'model.name="x"']`` → ``{"context": {"budget": 1024}, "model": {...}}``."""
    overrides: dict[str, object] = {}
    for assignment in assignments:
        key, equals, raw = assignment.partition("=")
        section, dot, name = key.strip().partition(".")
        if not equals or not dot or not section or not name:
            raise ContextError(f"--config expects section.key=VALUE, got {assignment!r}")
        try:
            value: object = tomllib.loads(f"value = {raw}")["value"]
        except tomllib.TOMLDecodeError:
            value = raw  # plain text: --config model.name=default
        table = overrides.setdefault(section, {})
        if not isinstance(table, dict):
            raise ContextError(f"--config {section} is not a section")
        table[name] = value
    return overrides


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
            payload: dict[str, object] = {
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


def _print_listing(answer: Preview, position: str) -> None:
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
    if answer.forced_start:
        # Token healing: the prompt stops before the cursor's partial word; the model writes it first.
        print("─" * 20 + f" then forced, written by the model: {answer.forced_start!r}")
        if not answer.forced_by_tokenizer:
            print(
                "   (cut by the prompt format's rule, without the model's tokenizer: the engine may force more)"
            )


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("root", metavar="ROOT", help="workspace root")
    parser.add_argument(
        "position", metavar="FILE:LINE:COL", nargs="?", help="cursor (1-based line and column)"
    )
    parser.add_argument(
        "--buffer", metavar="PATH", help="file holding the full document text (an unsaved buffer)"
    )
    parser.add_argument(
        "--budget",
        metavar="TOKENS",
        type=int,
        default=None,
        help="prompt token budget (default: the workspace's context.budget)",
    )
    parser.add_argument(
        "--config",
        metavar="KEY=VALUE",
        action="append",
        default=[],
        help="a setting over the workspace's, as an editor's settings would be (e.g. context.budget=1024)",
    )
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    parser.add_argument(
        "--batch", action="store_true", help="read JSON lines {file,line,col,buffer} on stdin"
    )


def run(args: argparse.Namespace) -> int:
    if args.batch == bool(args.position):
        print("roost context: give either FILE:LINE:COL or --batch", file=sys.stderr)
        return 2
    try:
        pipeline = ContextPipeline(Path(args.root), args.budget, parse_overrides(args.config))
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
            "shape": answer.shape,
            "budgets": {
                "total": pipeline.preview.settings.budget,
                "prefix": answer.budgets.prefix,
                "suffix": answer.budgets.suffix,
                "context": answer.budgets.context,
            },
            "ms": round(answer.ms, 3),
            "prompt": answer.prompt,
            "forced_start": answer.forced_start,
            "forced_start_from_tokenizer": answer.forced_by_tokenizer,
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
