"""``roost serve``: the language server, over stdio (what editors use) or TCP."""

from __future__ import annotations

import argparse
import logging

from roost.engine.progress_bars import disable_progress_bars
from roost.lsp.cli.registry import Command
from roost.lsp.framing import DEFAULT_MAX_MESSAGE_BYTES
from roost.lsp.handlers.services_lifecycle import METRICS_PORT_OVERRIDE
from roost.lsp.server import create_server


def _host_port(text: str) -> tuple[str, int]:
    host, sep, port = text.rpartition(":")
    if not sep or not port.isdigit():
        raise argparse.ArgumentTypeError(f"expected HOST:PORT, got {text!r}")
    return host or "127.0.0.1", int(port)


def _positive_bytes(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"expected a positive number of bytes, got {text!r}")
    return int(text)


def configure(parser: argparse.ArgumentParser) -> None:
    transport = parser.add_mutually_exclusive_group()
    transport.add_argument("--stdio", action="store_true", help="speak LSP over stdin/stdout (default)")
    transport.add_argument(
        "--tcp", type=_host_port, metavar="HOST:PORT", help="listen for one client on HOST:PORT"
    )
    parser.add_argument(
        "--metrics-port",
        type=int,
        default=None,
        metavar="N",
        help="serve Prometheus metrics on 127.0.0.1:N (overrides metrics.port)",
    )
    parser.add_argument(
        "--max-message-bytes",
        type=_positive_bytes,
        default=DEFAULT_MAX_MESSAGE_BYTES,
        metavar="N",
        help="largest LSP message read over stdio; a longer one is logged and skipped (default: 64 MiB)",
    )


def run(args: argparse.Namespace) -> int:
    # Until initialize configures the log file, keep library chatter off stdout (the protocol channel).
    logging.basicConfig(level=logging.WARNING, handlers=[logging.NullHandler()])
    disable_progress_bars()  # before anything imports tqdm (see engine/progress_bars.py)
    server = create_server()
    server.max_message_bytes = args.max_message_bytes
    if args.metrics_port is not None:
        server.services[METRICS_PORT_OVERRIDE] = args.metrics_port
    if args.tcp:
        host, port = args.tcp
        server.start_tcp(host, port)
    else:
        server.start_io()
    return server.exit_code


COMMAND = Command(
    name="serve",
    help="run the language server (stdio by default)",
    configure=configure,
    run=run,
    order=10,
)
