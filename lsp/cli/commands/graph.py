"""``roost graph ROOT [--focus FILE] [--depth K] [--format dot|mermaid|json]``: the module dependency graph.

Wiring only: the graph is :mod:`roost.context.index`, the rendering :mod:`roost.context.export`.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from roost.context.export import FORMATS, module_graph
from roost.lsp.cli.commands.index import build_options, run_index_with_progress
from roost.lsp.cli.registry import Command


def _configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("root", type=Path, help="workspace root directory")
    parser.add_argument("--focus", help="only the files around this one (path relative to ROOT, or absolute)")
    parser.add_argument("--depth", type=int, default=1, help="import hops around --focus (default 1)")
    parser.add_argument("--format", choices=("dot", "mermaid", "json"), default="dot")
    parser.add_argument(
        "--exclude", action="append", default=[], metavar="PATTERN", help="gitignore-style exclude"
    )
    parser.add_argument("--no-cache", action="store_true", help="do not read or write the persistent index")
    parser.add_argument("--cache-dir", type=Path, help="index cache directory (default: user cache dir)")
    parser.add_argument("--workers", type=int, default=0, help="parser processes (0: one per CPU)")


def _run(args: argparse.Namespace) -> int:
    if not args.root.is_dir():
        print(f"roost graph: {args.root} is not a directory", file=sys.stderr)
        return 2
    if args.depth < 0:
        print("roost graph: --depth must be >= 0", file=sys.stderr)
        return 2
    index, _report = run_index_with_progress(args.root, build_options(args), quiet=False)
    try:
        focus = None
        if args.focus:
            try:
                focus = index.rel_path(args.focus)
            except ValueError:
                print(f"roost graph: {args.focus} is outside {index.root}", file=sys.stderr)
                return 2
        try:
            model = module_graph(index.graph, focus, args.depth)
        except KeyError:
            print(f"roost graph: {args.focus} is not an indexed file of {index.root}", file=sys.stderr)
            return 2
        sys.stdout.write(FORMATS[args.format](model))
        return 0
    finally:
        index.close()


COMMAND = Command(
    name="graph",
    help="print the module dependency graph (dot, mermaid or json)",
    configure=_configure,
    run=_run,
    order=31,
)
