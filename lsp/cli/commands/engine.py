"""``roost engine serve``: one loaded model, shared by every editor window, over an OpenAI-compatible API.

    roost engine serve [--port N] [--model PATH|HF_ID|NAME] [--dtype auto] [--device auto]
                       [--max-batch-size 8] [--metrics-port N]

Binds 127.0.0.1 only. Wiring only: the engine is ``roost.engine`` (backend, scheduler, server).
"""

from __future__ import annotations

import argparse
import sys

from roost.lsp.cli.registry import Command

DEFAULT_PORT = 8917


def configure(parser: argparse.ArgumentParser) -> None:
    actions = parser.add_subparsers(dest="engine_action", metavar="ACTION")
    serve = actions.add_parser(
        "serve", help="load the model once and serve it on 127.0.0.1 (OpenAI-compatible)"
    )
    serve.add_argument(
        "--port",
        type=int,
        default=DEFAULT_PORT,
        help=f"port on 127.0.0.1 (default {DEFAULT_PORT}; 0 picks one)",
    )
    serve.add_argument(
        "--model",
        default=None,
        help="model directory, .gguf file, cached HF id or packaged name "
        "(default: the offline default model from roost[demo])",
    )
    serve.add_argument("--dtype", default="auto", choices=["auto", "bfloat16", "float16", "float32"])
    serve.add_argument("--device", default="auto", help="auto, cpu, cuda, cuda:N")
    serve.add_argument("--quantization", default=None, choices=["int8", "nf4", "fp8"])
    serve.add_argument("--compile", action="store_true", help="torch.compile the forward pass")
    serve.add_argument("--max-batch-size", type=int, default=8)
    serve.add_argument(
        "--metrics-port", type=int, default=None, help="serve Prometheus metrics on 127.0.0.1:N"
    )


def run(args: argparse.Namespace) -> int:
    if getattr(args, "engine_action", None) != "serve":
        print("usage: roost engine serve [--port N] [--model M] …", file=sys.stderr)
        return 2
    import asyncio

    from roost.engine.backends.transformers_backend import TransformersBackend, TransformersOptions
    from roost.engine.metrics import start_metrics_server
    from roost.engine.scheduler import SchedulerOptions
    from roost.engine.server import EngineServer
    from roost.engine.types import EngineError

    options = TransformersOptions(
        model=args.model,
        dtype=args.dtype,
        device=args.device,
        quantization=args.quantization,
        compile=args.compile,
        scheduler=SchedulerOptions(max_batch_size=args.max_batch_size),
    )

    def progress(message: str, _fraction: float | None) -> None:
        print(f"roost engine: {message}", file=sys.stderr, flush=True)

    try:
        backend = TransformersBackend.load(options, progress=progress)
    except EngineError as error:
        print(f"roost engine: {error}", file=sys.stderr)
        return 1
    if args.metrics_port is not None:
        start_metrics_server(args.metrics_port)
        print(f"roost engine: metrics on http://127.0.0.1:{args.metrics_port}/metrics", file=sys.stderr)

    async def serve() -> None:
        server = EngineServer(backend, model_name=backend.loaded.source)
        port = await server.start(args.port)
        # One machine-readable line on stdout: whoever started us (roost serve, engine="shared") reads the port.
        print(f"listening on http://127.0.0.1:{port}", flush=True)
        try:
            await server.serve_forever()
        finally:
            await server.close()
            await backend.aclose()

    try:
        asyncio.run(serve())
    except OSError as error:
        print(f"roost engine: cannot listen on 127.0.0.1:{args.port}: {error}", file=sys.stderr)
        return 1
    return 0


COMMAND = Command(
    name="engine",
    help="run the model engine as a shared local OpenAI-compatible server",
    description="Load the model once and serve it on 127.0.0.1 with an OpenAI-compatible API "
    "(/v1/completions, /v1/chat/completions, streaming), so several editors share one model.",
    configure=configure,
    run=run,
    order=70,
)
