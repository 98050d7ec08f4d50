"""``roost guard``: check code with the security gate (bandit in process for Python, tree-sitter rules for
JavaScript/TypeScript, Java, Go and Rust, secrets everywhere)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from rich.console import Console
from rich.table import Table

from roost.context.checks import RuleScanner
from roost.engine.gate import Gate, GateOptions, collect_workspace_secrets
from roost.engine.gate.batch import run_batch
from roost.lsp.cli.registry import Command

_LANGUAGE_BY_SUFFIX = {
    ".py": "python",
    ".pyw": "python",
    ".js": "javascript",
    ".mjs": "javascript",
    ".cjs": "javascript",
    ".jsx": "javascriptreact",
    ".ts": "typescript",
    ".mts": "typescript",
    ".cts": "typescript",
    ".tsx": "typescriptreact",
    ".go": "go",
    ".rs": "rust",
    ".java": "java",
}


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "file", nargs="?", type=Path, help="a file to scan (for people; see --batch for tools)"
    )
    parser.add_argument(
        "--batch",
        action="store_true",
        help='read JSON lines {"language", "prefix", "completion", "suffix"} on stdin, write one verdict per line',
    )
    parser.add_argument(
        "--root",
        type=Path,
        default=None,
        help="workspace root: its bandit config ([tool.bandit] in pyproject.toml, .bandit) is honoured and "
        "its secret files (.env*, *.pem, ...) are known secrets no suggestion may reproduce",
    )
    parser.add_argument("--language", default=None, help="language of FILE (default: from its extension)")


def _build_gate(root: Path | None) -> tuple[Gate, frozenset[str]]:
    if root is not None and not root.is_dir():
        raise NotADirectoryError(f"--root is not a directory: {root}")
    gate = Gate(GateOptions(workspace_root=root, scanner=RuleScanner()))
    secrets = collect_workspace_secrets(root) if root is not None else frozenset()
    return gate, secrets


def _run_batch(args: argparse.Namespace) -> int:
    gate, secrets = _build_gate(args.root)
    for answer in run_batch(gate, sys.stdin, secrets):
        sys.stdout.write(answer + "\n")
        sys.stdout.flush()
    return 0


def _run_file(args: argparse.Namespace) -> int:
    console = Console()
    path: Path = args.file
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        console.print(f"[red]cannot read {path}: {error}[/red]")
        return 2
    language = args.language or _LANGUAGE_BY_SUFFIX.get(
        path.suffix.lower(), path.suffix.lstrip(".") or "text"
    )
    gate, _secrets = _build_gate(args.root)
    verdict = gate.check_file(language, text)
    colour = {"block": "red", "warn": "yellow", "pass": "green", "unscanned": "magenta"}[verdict.kind.value]
    console.print(
        f"{path}: [bold {colour}]{verdict.kind.value}[/] ({verdict.scanned_as}, {verdict.ms:.1f} ms)"
    )
    for note in verdict.notes:
        console.print(f"  note: {note}")
    if verdict.findings:
        table = Table("line", "test", "severity", "confidence", "CWE", "message")
        for finding in verdict.findings:
            table.add_row(
                str(finding.line),
                finding.test_id,
                finding.severity.value,
                finding.confidence.value,
                str(finding.cwe or ""),
                finding.message,
            )
        console.print(table)
    # Exit status for scripts: 1 when the gate would block, 0 otherwise.
    return 1 if verdict.blocked else 0


def run(args: argparse.Namespace) -> int:
    if args.batch == (args.file is not None):
        print("roost guard: give either FILE or --batch", file=sys.stderr)
        return 2
    try:
        return _run_batch(args) if args.batch else _run_file(args)
    except (NotADirectoryError, ValueError) as error:
        print(f"roost guard: {error}", file=sys.stderr)
        return 2


COMMAND = Command(
    name="guard",
    help="check code with the security gate (bandit for Python, rules for JS/TS, Java, Go, Rust, secrets)",
    description="Check code with Roost's security gate: bandit in process (with Roost's plugins) for Python, "
    "tree-sitter rules for JavaScript/TypeScript, Java, Go and Rust, a secret scanner for every language.",
    configure=configure,
    run=run,
    order=60,
)
