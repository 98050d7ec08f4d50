"""Retrieval benchmark on real JavaScript/TypeScript projects: ``bench/retrieval_bench.py``'s scoring, splits
and same-run BM25 baseline, with cases labelled by the TypeScript compiler's language service instead of
jedi (``bench/ts_definitions.js``, independent of Roost's resolver).

Cases: the name of a call's callee, of a ``new``, or of another member access (``obj.prop``), whose
definition (``getDefinitionAtPosition``) lies in another source file of the project (not a dependency's,
not a ``.d.ts``). The cursor sits at the start of the name (after ``obj.``/``ns.``) and the rest of that line
is cut from the buffer. Hit, MRR, seen/unseen and dot/bare as in ``retrieval_bench.py``; the cases are also
split by site (call, new, member).

Projects: npm packages that ship their sources, installed into a directory outside this repository
(``--packages``, default /tmp/jsbench), each project's sources copied into ``<packages>/projects/<name>``
by ``--setup``. The labeller needs TypeScript 5 (``typescript`` 7 on npm is the native port, without the
JavaScript language-service API), in its own folder (``--typescript``)::

    mkdir -p /tmp/jsbench/ts5 && cd /tmp/jsbench/ts5 && npm init -y && npm install typescript@5
    cd /tmp/jsbench && npm init -y && npm install rxjs@7.8.2 three@0.187.0 date-fns@4.4.0 zod@4.6.7

- ``rxjs``: TypeScript ``src/``, operators over classes, overloads, ``index.ts`` barrels;
- ``three``: ``src/``, class-heavy ESM JavaScript (``this.x.method()``, inheritance);
- ``date-fns``: many small ESM JavaScript modules (the package's ``*.js`` and ``_lib/``, not ``fp/`` or
  ``locale/``, which are generated wrappers and translations);
- ``zod``: TypeScript ``src/`` with ``export * from`` barrels and ``import * as core from "../core/index.js"``
  namespaces (not its tests or ``locales/``, translation tables that would fill the sample with
  ``issue.prop``).

    .venv/bin/python bench/retrieval_bench_js.py [--setup] [--cases 150] [--projects rxjs,three,date-fns,zod]
        [--misses 20]

Cases are cached under $ROOST_BENCH_CACHE (default /tmp/roost-bench) as ``retrieval-js-<name>-<n>.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

from retrieval_bench import Case, report_by_site

from roost.context.languages import language_for_path

BENCH_DIR = Path(__file__).resolve().parent
# Per project: the package's directories or files to copy, and what to leave out of it (regex on the
# project-relative path).
PROJECTS: dict[str, tuple[tuple[str, ...], str]] = {
    "rxjs": (("src",), r"\.json$"),
    "three": (("src",), r"^$"),
    "date-fns": ((".",), r"^(fp|locale|docs)/|\.(cjs|d\.ts|d\.cts)$"),
    "zod": (("src",), r"(^|/)(tests|locales)/"),
}


@dataclass
class JsCase(Case):
    site: str = ""  # call, new or member
    kind: str = ""  # the language service's kind of the definition


def setup(packages: Path, name: str) -> None:
    """Copy the installed package's sources into ``<packages>/projects/<name>``."""
    parts, excluded = PROJECTS[name]
    source = packages / "node_modules" / name
    target = packages / "projects" / name
    shutil.rmtree(target, ignore_errors=True)
    for part in parts:
        for path in sorted((source / part).rglob("*")):
            rel = path.relative_to(source).as_posix()
            if path.is_file() and language_for_path(rel) and not re.search(excluded, rel):
                (target / rel).parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(path, target / rel)


def project_files(root: Path) -> list[str]:
    found = []
    for path in root.rglob("*"):
        rel = path.relative_to(root).as_posix()
        if path.is_file() and language_for_path(rel) and not rel.endswith((".d.ts", ".d.mts", ".d.cts")):
            found.append(rel)
    return sorted(found)


def _utf16_to_chars(line: str, col: int) -> int:
    return len(line.encode("utf-16-le")[: 2 * col].decode("utf-16-le", errors="ignore"))


def label_cases(packages: Path, typescript: Path, name: str, count: int, seed: int = 7) -> list[JsCase]:
    root = packages / "projects" / name
    command = [
        "node",
        str(BENCH_DIR / "ts_definitions.js"),
        "--typescript",
        str(typescript),
        "--root",
        str(root),
        "--count",
        str(count),
        "--seed",
        str(seed),
    ]
    raw = json.loads(subprocess.run(command, check=True, capture_output=True, text=True).stdout)
    cases = []
    for entry in raw:
        line = (root / entry["file"]).read_text(encoding="utf-8", errors="replace").split("\n")[entry["line"]]
        col = _utf16_to_chars(line, entry["col"])
        if line[col : col + len(entry["name"])] == entry["name"]:
            cases.append(JsCase(**{**entry, "col": col}))
    return cases


def load_cases(packages: Path, name: str, count: int, typescript: Path | None = None) -> list[JsCase]:
    cache_dir = Path(os.environ.get("ROOST_BENCH_CACHE", "/tmp/roost-bench"))
    cache_dir.mkdir(parents=True, exist_ok=True)
    cache = cache_dir / f"retrieval-js-{name}-{count}.json"
    if cache.exists():
        return [JsCase(**raw) for raw in json.loads(cache.read_text())]
    started = time.perf_counter()
    cases = label_cases(packages, typescript or packages / "ts5/node_modules/typescript", name, count)
    cache.write_text(json.dumps([asdict(c) for c in cases]))
    print(
        f"  labelled {len(cases)} {name} cases with the TypeScript language service in "
        f"{time.perf_counter() - started:.0f} s",
        file=sys.stderr,
    )
    return cases


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--packages", type=Path, default=Path("/tmp/jsbench"))
    parser.add_argument(
        "--typescript", type=Path, help="the typescript@5 package (<packages>/ts5/node_modules/…)"
    )
    parser.add_argument("--setup", action="store_true", help="copy each package's sources into projects/")
    parser.add_argument("--cases", type=int, default=150)
    parser.add_argument("--projects", default=",".join(PROJECTS))
    parser.add_argument("--misses", type=int, default=0, help="print this many missed cases per project")
    args = parser.parse_args()

    def projects() -> Iterator[tuple[str, Path, list[str], Sequence[Case]]]:
        for name in args.projects.split(","):
            print(f"{name} …", file=sys.stderr)
            if args.setup:
                setup(args.packages, name)
            root = args.packages / "projects" / name
            cases = load_cases(args.packages, name, args.cases, args.typescript)
            yield name, root, project_files(root), cases

    report_by_site(projects(), ("call", "new", "member"), args.misses)
    return 0


if __name__ == "__main__":
    sys.exit(main())
