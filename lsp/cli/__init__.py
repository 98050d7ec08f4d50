"""The ``roost`` command line.

Every subcommand is one module in :mod:`roost.lsp.cli.commands` that defines ``COMMAND``, a
:class:`~roost.lsp.cli.registry.Command`. ``main`` discovers them, so adding a command means adding one
file and touching nothing else.
"""

from __future__ import annotations

# First, before anything else is imported: `python -m roost.lsp.cli` put the working directory (often the
# untrusted workspace) first on sys.path, and a relative PYTHONPATH entry points into it; a `json.py` or
# `argparse.py` there would shadow the standard library.
from roost.lsp.cli import isolation

if isolation.started_as_program():
    isolation.isolate_this_program()

import argparse  # noqa: E402
import sys  # noqa: E402
from collections.abc import Sequence  # noqa: E402

from roost.lsp.cli.registry import discover_commands  # noqa: E402
from roost.lsp.version import VERSION  # noqa: E402


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
    """Run a command. Without ``argv`` this is the ``roost`` program itself (the console script, or
    ``python -m roost.lsp.cli``), never a library call, so the process and the Python processes it starts
    are kept off the working directory's modules; an in-process call with ``argv`` leaves its host alone."""
    if argv is None:
        isolation.isolate_this_program()
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
