"""``roost demo``: the README's first command — Roost's main job on ``examples/``, through a real LSP client."""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path

from roost.lsp.cli.registry import Command
from roost.lsp.demo import Printer, default_examples_root, run_demo


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--root", type=Path, default=None, help="workspace to use (default: the bundled examples/)"
    )
    parser.add_argument(
        "--endpoint",
        default=None,
        metavar="URL",
        help="use an OpenAI-compatible server (e.g. http://127.0.0.1:8000/v1) instead of the in-process model",
    )
    parser.add_argument("--model", default=None, help="model setting (default: the bundled offline model)")
    parser.add_argument(
        "--timeout", type=float, default=600.0, help="seconds to wait for indexing (default 600)"
    )


def run(args: argparse.Namespace) -> int:
    root = (args.root or default_examples_root()).resolve()
    if not root.is_dir():
        print(f"roost demo: {root} is not a directory (pass --root PATH)")
        return 2
    options: dict[str, object] = {
        "completion": {"debounce_ms": 0, "max_tokens": 24},
        "context": {"budget": 1024},
    }
    if args.endpoint:
        options["backend"] = {"kind": "openai", "endpoint": args.endpoint}
    if args.model:
        options["model"] = {"name": args.model}
    try:
        return asyncio.run(run_demo(root, options, Printer(), args.timeout))
    except KeyboardInterrupt:
        return 130
    except Exception as error:  # a readable line, not a traceback
        print(f"roost demo: {type(error).__name__}: {error}")
        return 1


COMMAND = Command(
    name="demo",
    help="see Roost work on examples/: indexing, completion, the gate, a refactor, a fix-up",
    configure=configure,
    run=run,
    order=5,
)
