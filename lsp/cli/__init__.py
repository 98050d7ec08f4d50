"""The ``roost`` command line.

Every subcommand is one module in :mod:`roost.lsp.cli.commands` that defines ``COMMAND``, a
:class:`~roost.lsp.cli.registry.Command`. ``main`` discovers them, so adding a command means adding one
file and touching nothing else.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from roost.lsp.cli.registry import discover_commands
from roost.lsp.version import VERSION


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="roost",
        description="Roost: a code-assistant language server that runs a code model on your own machine.",
    )
    parser.add_argument("--version", action="version", version=f"roost {VERSION}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for command in discover_commands():
        sub = subparsers.add_parser(
            command.name, help=command.help, description=command.description or command.help
        )
        command.configure(sub)
        sub.set_defaults(_run=command.run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    run = getattr(args, "_run", None)
    if run is None:
        parser.print_help()
        return 2
    try:
        return int(run(args) or 0)
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":  # pragma: no cover - `python -m roost.lsp.cli`
    sys.exit(main())
