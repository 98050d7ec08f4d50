"""``roost engine serve``: one loaded model, shared by every editor window, over an OpenAI-compatible API.

    roost engine serve [--host 127.0.0.1] [--port N] [--model PATH|HF_ID|NAME] [--dtype auto] [--device auto]
                       [--quantization int8|nf4|fp8] [--compile] [--max-batch-size 8] [--metrics-port N]
                       [--allowed-host NAME]…

Binds 127.0.0.1 by default (``--host`` elsewhere, which requires ``$ROOST_ENGINE_API_KEY``), serves only
requests with an allowed Host header, and requires ``Authorization: Bearer $ROOST_ENGINE_API_KEY`` when that
variable is set. Wiring only: the engine and its server (uvicorn + Starlette) are ``roost.engine``.
"""

from __future__ import annotations

import argparse
import sys

from roost.engine.progress_bars import disable_progress_bars
from roost.engine.server import add_server_arguments, local_engine_problem, options_from_arguments, run_server
from roost.lsp.cli.progress_bar import TerminalProgressBar
from roost.lsp.cli.registry import Command


def configure(parser: argparse.ArgumentParser) -> None:
    actions = parser.add_subparsers(dest="engine_action", metavar="ACTION")
    serve = actions.add_parser(
        "serve",
        help="load the model once and serve it (OpenAI-compatible; 127.0.0.1 unless --host)",
        description="Load the model once and serve it over an OpenAI-compatible API, with /health, "
        "/ready and /metrics for probes and Prometheus (127.0.0.1 unless --host).",
    )
    add_server_arguments(serve)


def run(args: argparse.Namespace) -> int:
    if getattr(args, "engine_action", None) != "serve":
        print("usage: roost engine serve [--port N] [--model M] …", file=sys.stderr)
        return 2
    disable_progress_bars()  # tqdm's, before the model load imports it (see engine/progress_bars.py)
    problem = local_engine_problem()
    if problem:
        print(f"roost engine: {problem}", file=sys.stderr)
        return 1
    # The first run joins and converts the bundled model (about a minute): a bar on a terminal.
    bar = TerminalProgressBar("roost engine", sys.stderr)
    try:
        return run_server(
            options_from_arguments(args),
            args.port,
            args.metrics_port,
            allowed_hosts=frozenset(args.allowed_host),
            progress=bar,
            host=args.host,
        )
    finally:
        bar.close()


COMMAND = Command(
    name="engine",
    help="run the model engine as a shared local OpenAI-compatible server",
    description="Load the model once and serve it with an OpenAI-compatible API (/v1/completions, "
    "/v1/chat/completions, streaming; /health, /ready, /metrics), so several editors or a team share one "
    "model. 127.0.0.1 unless --host.",
    configure=configure,
    run=run,
    order=70,
)
