"""Per-language extraction cost against the raw tree-sitter parse of the same files (not run in CI).

    .venv/bin/python bench/languages_bench.py [DIR ...] [--languages javascript,typescript,...] [--repeat 3]

Default corpus: npm's own sources (``/usr/lib/node_modules/npm``, JavaScript) plus ``examples/`` and the
language test fixtures. Point it at any checkout (a Go module, a Cargo workspace, a TypeScript project) to
measure other languages. For each language, in one run and single-threaded: the raw parse time (baseline),
parse + outline (definitions, imports, exports: what the index persists), parse + full extraction (outline +
references), the ratios to the baseline, and the p99 outline time of the largest files (the per-edit cost).
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from collections import defaultdict
from pathlib import Path

import tree_sitter

from roost.context.languages import language_for_path

DEFAULT_DIRS = (
    "/usr/lib/node_modules/npm",
    str(Path(__file__).resolve().parent.parent / "examples"),
    str(Path(__file__).resolve().parent.parent / "tests" / "context" / "fixtures"),
)
MAX_BYTES = 1_000_000


def collect(dirs: list[str], wanted: set[str] | None) -> dict[str, list[tuple[str, bytes]]]:
    by_language: dict[str, list[tuple[str, bytes]]] = defaultdict(list)
    for directory in dirs:
        for base, subdirs, names in os.walk(directory):
            subdirs[:] = [d for d in subdirs if not d.startswith(".")]
            for name in names:
                path = os.path.join(base, name)
                language = language_for_path(path)
                if language is None or language.name == "python" or (wanted and language.name not in wanted):
                    continue
                try:
                    if os.path.getsize(path) > MAX_BYTES:
                        continue
                    source = Path(path).read_bytes()
                except OSError:
                    continue
                by_language[language.name].append((path, source))
    return by_language


def best_of(repeat: int, run) -> float:
    return min(run() for _ in range(repeat))


def measure(files: list[tuple[str, bytes]], repeat: int) -> dict[str, float]:
    language = language_for_path(files[0][0])
    assert language is not None
    parsers = {path: tree_sitter.Parser(language.ts_language(path)) for path, _ in files}

    def parse_only() -> float:
        start = time.perf_counter()
        for path, source in files:
            parsers[path].parse(source)
        return time.perf_counter() - start

    def outline() -> float:
        start = time.perf_counter()
        for path, source in files:
            language.extract_outline(path, source, parsers[path].parse(source))
        return time.perf_counter() - start

    def full() -> float:
        start = time.perf_counter()
        for path, source in files:
            language.extract(path, source, parsers[path].parse(source))
        return time.perf_counter() - start

    # Warm the query caches once, outside the timings.
    outline()
    parse_s = best_of(repeat, parse_only)
    outline_s = best_of(repeat, outline)
    full_s = best_of(repeat, full)
    largest = sorted(files, key=lambda item: len(item[1]), reverse=True)[:20]
    per_file_ms: list[float] = []
    for path, source in largest:
        tree = parsers[path].parse(source)
        for _ in range(5):
            start = time.perf_counter()
            language.extract_outline(path, source, tree)
            per_file_ms.append((time.perf_counter() - start) * 1000)
    per_file_ms.sort()
    p99 = per_file_ms[min(len(per_file_ms) - 1, int(len(per_file_ms) * 0.99))]
    return {
        "files": len(files),
        "lines": sum(source.count(b"\n") for _, source in files),
        "largest_lines": max(source.count(b"\n") for _, source in largest),
        "parse_s": parse_s,
        "outline_s": outline_s,
        "full_s": full_s,
        "outline_only_ms_p50": statistics.median(per_file_ms),
        "outline_only_ms_p99": p99,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dirs", nargs="*", default=list(DEFAULT_DIRS))
    parser.add_argument(
        "--languages", default="", help="comma-separated language names (default: all but python)"
    )
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    wanted = {name.strip() for name in args.languages.split(",") if name.strip()} or None
    corpus = collect(args.dirs, wanted)
    if not corpus:
        print("no files found for the requested languages")
        return 1
    header = (
        f"{'language':<11} {'files':>6} {'lines':>8} {'parse s':>8} {'outline s':>9} {'x parse':>8} "
        f"{'full s':>7} {'x parse':>8} {'outline p50/p99 ms (largest files)':>36}"
    )
    print(header)
    for name in sorted(corpus):
        figures = measure(corpus[name], args.repeat)
        print(
            f"{name:<11} {figures['files']:>6} {figures['lines']:>8} {figures['parse_s']:>8.3f} "
            f"{figures['outline_s']:>9.3f} {figures['outline_s'] / figures['parse_s']:>8.2f} "
            f"{figures['full_s']:>7.3f} {figures['full_s'] / figures['parse_s']:>8.2f} "
            f"{figures['outline_only_ms_p50']:>14.2f} / {figures['outline_only_ms_p99']:.2f}"
            f" (up to {figures['largest_lines']} lines)"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
