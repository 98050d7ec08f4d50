"""``roost index ROOT [--json]``: index a workspace (or bring its stored index up to date) and report.

Wiring only: the index is :mod:`roost.context.index`.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from roost.context.index import IndexProgress, IndexReport, WorkspaceIndex
from roost.context.options import IndexOptions
from roost.lsp.cli.registry import Command


def _configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("root", type=Path, help="workspace root directory")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.add_argument(
        "--exclude", action="append", default=[], metavar="PATTERN", help="gitignore-style exclude"
    )
    parser.add_argument("--no-cache", action="store_true", help="do not read or write the persistent index")
    parser.add_argument("--cache-dir", type=Path, help="index cache directory (default: user cache dir)")
    parser.add_argument("--workers", type=int, default=0, help="parser processes (0: one per CPU)")


def build_options(args: argparse.Namespace) -> IndexOptions:
    return IndexOptions(
        excludes=tuple(args.exclude),
        persist=not args.no_cache,
        cache_dir=args.cache_dir,
        workers=max(0, args.workers),
    )


def run_index_with_progress(
    root: Path, options: IndexOptions, quiet: bool
) -> tuple[WorkspaceIndex, IndexReport]:
    """Index ``root`` with a rich progress bar on stderr (none when ``quiet`` or not a terminal)."""
    index = WorkspaceIndex(root, options)
    console = Console(stderr=True)
    if quiet or not console.is_terminal:
        return index, index.index()
    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    ) as bar:
        task = bar.add_task("scanning", total=None)

        def progress(update: IndexProgress) -> None:
            bar.update(task, description=update.phase, completed=update.done, total=update.total or None)

        return index, index.index(progress)


def _run(args: argparse.Namespace) -> int:
    root: Path = args.root
    if not root.is_dir():
        print(f"roost index: {root} is not a directory", file=sys.stderr)
        return 2
    index, report = run_index_with_progress(root, build_options(args), quiet=args.json)
    try:
        if args.json:
            payload = report.as_dict() | {"root": str(index.root), "store": str(index.store_path or "")}
            print(json.dumps(payload, indent=2))
            return 0
        stats = report.stats
        print(f"indexed {index.root}")
        print(
            f"  files    {stats.files:>9,}  ({report.parsed:,} parsed, {report.reused:,} unchanged, {report.skipped:,} skipped)"
        )
        print(f"  symbols  {stats.symbols:>9,}")
        print(f"  edges    {stats.edges:>9,}  (file → file)")
        print(
            f"  imports  {stats.imports:>9,}  ({stats.resolved_imports:,} resolved, "
            f"{stats.external_imports:,} external, {stats.unresolved_imports:,} unresolved)"
        )
        print(f"  seconds  {report.seconds:>9.2f}")
        if index.store_path:
            print(f"  store    {index.store_path}")
        return 0
    finally:
        index.close()


COMMAND = Command(
    name="index",
    help="index a workspace and print files, symbols, edges and import resolution",
    configure=_configure,
    run=_run,
    order=30,
)
