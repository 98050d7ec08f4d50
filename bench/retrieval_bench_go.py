"""Retrieval benchmark on real Go modules: ``bench/retrieval_bench.py``'s scoring, splits and same-run BM25
baseline, with cases labelled by the Go toolchain's own type checker instead of jedi
(``bench/go_definitions``: ``go/types``, imports type-checked from source; independent of Roost's resolver).

Cases: a selector ``x.Name`` (a package-qualified ``pkg.Name``, a method, or a field) whose definition
(``types.Info.Uses``) lies in another non-test file of the module (not the standard library, not another
module). The cursor sits at the start of ``Name`` and the rest of that line is cut from the buffer. Hit,
MRR, seen/unseen and dot/bare as in ``retrieval_bench.py``; the cases are also split by site (pkg, method,
field).

Projects: Go library sources Debian ships (``apt-get install golang-go golang-github-spf13-cobra-dev
golang-github-spf13-afero-dev golang-github-sirupsen-logrus-dev golang-golang-x-tools-dev``), read in
place under /usr/share/gocode/src (GOPATH mode, so the labeller finds each dependency Debian installed):

- ``cobra``: one package (and ``doc/``), methods on ``*Command`` spread over files;
- ``afero``: filesystem implementations behind one interface, ``mem/`` and ``sftpfs/`` subpackages;
- ``logrus``: one package, ``*Entry``/``*Logger`` methods and fields across files;
- ``tools``: golang.org/x/tools (~480 files), deep package tree, package-qualified calls dominate.

The workspace is every ``.go`` file of the module (tests included, as an editor would index them) except
``testdata/``.

    .venv/bin/python bench/retrieval_bench_go.py [--cases 150] [--projects cobra,afero,logrus,tools] [--misses 20]

Cases are cached under $ROOST_BENCH_CACHE (default /tmp/roost-bench) as ``retrieval-go-<name>-<n>.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

from retrieval_bench import Case, report_by_site

BENCH_DIR = Path(__file__).resolve().parent
GOPATH = Path("/usr/share/gocode")
PROJECTS = {
    "cobra": "github.com/spf13/cobra",
    "afero": "github.com/spf13/afero",
    "logrus": "github.com/sirupsen/logrus",
    "tools": "golang.org/x/tools",
}
SITES = ("pkg", "method", "field")


@dataclass
class GoCase(Case):
    site: str = ""  # pkg, method or field
    kind: str = ""  # what the definition is: func, method, type, field, var, const


def project_files(root: Path) -> list[str]:
    found = []
    for path in root.rglob("*.go"):
        parts = path.relative_to(root).parts
        if path.is_file() and not any(
            part in ("testdata", "vendor") or part.startswith((".", "_")) for part in parts
        ):
            found.append(path.relative_to(root).as_posix())
    return sorted(found)


def label_cases(root: Path, count: int, seed: int = 7) -> list[GoCase]:
    env = {**os.environ, "GO111MODULE": "off", "GOPATH": str(GOPATH), "CGO_ENABLED": "0", "GOFLAGS": ""}
    command = ["go", "run", ".", "-root", str(root), "-count", str(count), "-seed", str(seed)]
    done = subprocess.run(
        command, cwd=BENCH_DIR / "go_definitions", env=env, check=True, capture_output=True, text=True
    )
    return [GoCase(**entry) for entry in json.loads(done.stdout)]


def load_cases(name: str, count: int) -> list[GoCase]:
    cache_dir = Path(os.environ.get("ROOST_BENCH_CACHE", "/tmp/roost-bench"))
    cache_dir.mkdir(parents=True, exist_ok=True)
    cache = cache_dir / f"retrieval-go-{name}-{count}.json"
    if cache.exists():
        return [GoCase(**raw) for raw in json.loads(cache.read_text())]
    started = time.perf_counter()
    cases = label_cases(GOPATH / "src" / PROJECTS[name], count)
    cache.write_text(json.dumps([asdict(c) for c in cases]))
    print(
        f"  labelled {len(cases)} {name} cases with go/types in {time.perf_counter() - started:.0f} s",
        file=sys.stderr,
    )
    return cases


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--cases", type=int, default=150)
    parser.add_argument("--projects", default=",".join(PROJECTS))
    parser.add_argument("--misses", type=int, default=0, help="print this many missed cases per project")
    args = parser.parse_args()

    def projects() -> Iterator[tuple[str, Path, list[str], Sequence[Case]]]:
        for name in args.projects.split(","):
            print(f"{name} …", file=sys.stderr)
            root = GOPATH / "src" / PROJECTS[name]
            yield name, root, project_files(root), load_cases(name, args.cases)

    report_by_site(projects(), SITES, args.misses)
    return 0


if __name__ == "__main__":
    sys.exit(main())
