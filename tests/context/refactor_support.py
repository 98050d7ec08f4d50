"""Helpers shared by the per-language move tests (tests/context/test_refactor_{go,java,ecmascript,rust}.py):
plan a move over an in-memory workspace, apply it, look up where a name now resolves, and build the result
with the language's own toolchain when one is installed (skipped silently otherwise, as before)."""

from __future__ import annotations

import functools
import shutil
import subprocess
from collections.abc import Callable, Mapping
from pathlib import Path

from index_support import apply_replacements, write_files

from roost.context.graph import SymbolLocation
from roost.context.index import WorkspaceIndex
from roost.context.refactor.move import FileText, MovePlan, move_dependents, plan_move
from roost.context.refactor.package_move import plan_package_move

OpenIndex = Callable[[Path], WorkspaceIndex]  # the ``open_index`` fixture of conftest.py

# ------------------------------------------------------------------------------------------ planning


def apply_move_plan(files: Mapping[str, str], plan: MovePlan) -> dict[str, str]:
    """``files`` with every change of ``plan`` applied; each change must be against the text it was given."""
    moved = dict(files)
    for change in plan.changes:
        assert change.text == files[change.path]
        moved[change.path] = apply_replacements(change.text, change.replacements)
    return moved


def move_within_package(files: Mapping[str, str], symbol: str, source: str, target: str) -> dict[str, str]:
    """Go/Java: move ``symbol`` between files of one package, planned without an index (no dependents,
    nothing resolves): a same-package move rewrites only the two files and their imports."""
    plan = plan_package_move(
        symbol,
        FileText(source, files[source]),
        FileText(target, files[target]),
        [],
        files.__getitem__,
        lambda importer, imp: None,
        lambda path: path in files,
    )
    return apply_move_plan(files, plan)


def move_between_modules(
    scratch: Path, open_index: OpenIndex, files: Mapping[str, str], symbol: str, source: str, target: str
) -> tuple[dict[str, str], MovePlan]:
    """JS/TS and Rust: write ``files`` under ``scratch/before``, index them, and move ``symbol`` with the
    dependents the editor would give (``move_dependents``: the importers, plus every crate file for Rust and
    the importers of JS/TS barrels re-exporting the source as a namespace)."""
    index = open_index(write_files(scratch / "before", dict(files)))
    exists = files.__contains__
    plan = plan_move(
        symbol,
        FileText(source, files[source]),
        FileText(target, files[target]),
        move_dependents(
            source, index.dependents(source), list(files), exists, index.dependents, files.__getitem__
        ),
        files.__getitem__,
        index.resolve_import,
        exists,
    )
    return apply_move_plan(files, plan), plan


# ----------------------------------------------------------------------------------------- resolving


def _definitions_at_first(index: WorkspaceIndex, path: str, needle: str, offset: int) -> list[SymbolLocation]:
    """Definitions of the name ``offset`` bytes into the first occurrence of ``needle`` (plain substring,
    first line holding it) in ``path``."""
    lines = index.source(path).splitlines()
    line = next(number for number, text in enumerate(lines) if needle in text)
    col = len(lines[line][: lines[line].index(needle)].encode()) + offset
    return index.definitions_at(path, line, col)


def definitions_at_first(
    index: WorkspaceIndex, path: str, needle: str, offset: int = 0
) -> set[tuple[str, str | None]]:
    """``(file, qualified name)`` of each definition the name at the first ``needle`` resolves to."""
    return {(loc.path, loc.qualified_name) for loc in _definitions_at_first(index, path, needle, offset)}


def definition_files_at_first(index: WorkspaceIndex, path: str, needle: str, offset: int = 0) -> set[str]:
    """The files of the definitions the name at the first ``needle`` resolves to."""
    return {loc.path for loc in _definitions_at_first(index, path, needle, offset)}


# ---------------------------------------------------------------------------------------- toolchains


def _run_successfully(command: list[str], cwd: Path | None = None, env: dict[str, str] | None = None) -> str:
    """Run a toolchain command; it must succeed (its stderr is the failure message). Returns its stdout."""
    result = subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=300, env=env)
    assert result.returncode == 0, result.stderr or result.stdout  # tsc reports on stdout
    return result.stdout


def go_build(root: Path) -> None:
    """``go build ./...`` in ``root`` when Go is installed, with caches inside ``root`` and no network."""
    go = shutil.which("go")
    if go is None:
        return
    _run_successfully(
        [go, "build", "./..."],
        cwd=root,
        env={
            "PATH": "/usr/bin:/bin",
            "HOME": str(root),
            "GOFLAGS": "-mod=mod",
            "GOCACHE": str(root / ".gocache"),
            "GOPATH": str(root / ".gopath"),
            "GOTOOLCHAIN": "local",
        },
    )


def tsc_check(root: Path) -> None:
    """``tsc --noEmit -p root`` when a TypeScript compiler is installed (on PATH, or the VS Code extension's
    development dependencies): the project under ``root`` (its ``tsconfig.json``) must type-check."""
    bundled = Path(__file__).resolve().parents[2] / "editors/vscode/node_modules/.bin/tsc"
    tsc = shutil.which("tsc") or (str(bundled) if bundled.exists() else None)
    if tsc is None:
        return
    _run_successfully([tsc, "--noEmit", "-p", str(root)], cwd=root)


def javac_compile(root: Path, classes: Path) -> None:
    """Compile every ``.java`` file under ``root`` into ``classes`` when a JDK is installed."""
    javac = shutil.which("javac")
    if javac is None:
        return
    sources = sorted(str(p) for p in root.rglob("*.java"))
    _run_successfully([javac, "-d", str(classes), *sources])


def _cargo_environment(cargo: str, root: Path) -> dict[str, str]:
    return {
        "PATH": "/usr/bin:/bin:" + str(Path(cargo).parent),
        "HOME": str(Path.home()),
        "CARGO_TARGET_DIR": str(root / "target"),
    }


@functools.cache
def _working_cargo() -> str | None:
    """cargo, when a toolchain really runs: a rustup shim without a default toolchain (e.g. another HOME)
    is on PATH but cannot build, and counts as no cargo."""
    cargo = shutil.which("cargo")
    if cargo is None:
        return None
    probe = subprocess.run(
        [cargo, "--version"],
        capture_output=True,
        text=True,
        timeout=60,
        env=_cargo_environment(cargo, Path.cwd()),
    )
    return cargo if probe.returncode == 0 else None


def run_cargo(root: Path, command: str = "run") -> str | None:
    """``cargo <command>`` in ``root`` when cargo is installed (the crates have no dependencies: offline);
    the program's output for ``run``, ``None`` without a toolchain."""
    cargo = _working_cargo()
    if cargo is None:
        return None
    return _run_successfully(
        [cargo, command, "--quiet", "--offline"], cwd=root, env=_cargo_environment(cargo, root)
    )
