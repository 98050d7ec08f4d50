"""Security gate benchmark for JavaScript/TypeScript, Java, Go and Rust (the tree-sitter rules).

Run: .venv/bin/python bench/gate_languages_bench.py [--quick]   (also: bench/gate_bench.py --only languages)

1. Detection, per language and per CWE: CyberSecEval's autocomplete cases (../shared/eval/, JavaScript 124,
   Java 114, Rust 102; prefix = the prompt's code after its preamble, a newline added when it does not end
   with one; suggestion = ``line_text``; suffix empty) and, for Go, which CyberSecEval lacks, the lines of
   ``bench/gate_sets/insecure_go.txt``. "Flagged by findings" = blocked or warned because of a finding; an
   "unscanned" verdict is counted apart, never as flagged. Baselines in the same run: the gate without rules
   (the secret scan alone: these languages' coverage before the rules) and a naive regex of sink names on the
   bare line. Targets: >= 80 % flagged by findings, <= 2 % unscanned.
2. False blocks on secure code of each language (target <= 2 % blocked): the idiomatic safe lines of
   ``bench/gate_sets/secure_<language>.txt``; every line of the repository's own files of that language
   (``examples/``, ``tests/context/fixtures/``) spliced into its file; and every code line of the
   CyberSecEval prompts (the lines before the insecure one) spliced after the lines above it. The naive
   regex column says how many of these lines the sink-name baseline would have flagged.
3. Latency: every check above, warm, p50/p99 per language (target p99 <= 20 ms), and suggestions spliced
   into a 2,000-line document of that language.
"""

from __future__ import annotations

import argparse
import collections
import json
import re
import statistics
import sys
import time
from pathlib import Path

from roost.context.checks import RuleScanner
from roost.engine.gate import Gate, GateOptions

REPO = Path(__file__).resolve().parent.parent
EVAL = REPO.parent / "shared" / "eval"
SETS = Path(__file__).resolve().parent / "gate_sets"
PREAMBLE_END = "Don't return a preamble or suffix, just the code.\n\n"
TARGET_FLAGGED = 80.0
TARGET_UNSCANNED = 2.0
TARGET_FALSE_BLOCKS = 2.0
TARGET_P99_MS = 20.0
LANGUAGES = ("javascript", "java", "go", "rust")
EXTENSIONS = {
    "javascript": (".js", ".ts", ".tsx", ".jsx", ".mjs"),
    "java": (".java",),
    "go": (".go",),
    "rust": (".rs",),
}
GATE_LANGUAGE_OF_EXTENSION = {".ts": "typescript", ".tsx": "typescriptreact"}
# The naive baseline: the sink names of the rules, searched on the bare line.
NAIVE_SINKS = {
    "javascript": r"\beval\(|\bFunction\(|\bexec(Sync)?\(|innerHTML|document\.write|Math\.random|"
    r"createHash\(['\"](md5|sha1)|require\(|RegExp\(|postMessage|new Buffer|allocUnsafe|fs\.\w+\(",
    "java": r"Runtime\.getRuntime\(\)\.exec|ProcessBuilder|getInstance\(\"(MD5|SHA-?1|DES|AES\")|new Random\(|"
    r"\.next(Int|Long|Double|Boolean)\(|ObjectInputStream|new URL\(|InetSocketAddress|execute(Query|Update)?\(",
    "rust": r"\bunsafe\b|Command::new|env::(args|current_exe|temp_dir)|Md5|Sha1|danger_accept_invalid|sql_query",
    "go": r"exec\.Command|md5\.|sha1\.|des\.|rc4\.|rand\.(Intn|Int63|Seed|Int\()|InsecureSkipVerify|db\.\w+\(|"
    r"os\.(Open|ReadFile)\(|http\.(Get|Post)\(|template\.HTML|ServeFile|[pP]assword :?=",
}


def percent(part: int, whole: int) -> str:
    return f"{100.0 * part / whole:5.1f} %" if whole else "  n/a"


def by_findings(verdict) -> bool:  # type: ignore[no-untyped-def]
    return verdict.flagged and verdict.kind.value != "unscanned"


def insecure_cases(language: str, quick: bool) -> list[tuple[str, str, str]]:
    """(CWE, prefix, suggestion) of the detection set."""
    if language == "go":
        cases = []
        for line in (SETS / "insecure_go.txt").read_text(encoding="utf-8").splitlines():
            if line.strip() and not line.startswith("#"):
                cwe, code = line.split("\t", 1)
                cases.append((f"CWE-{cwe}", "", code + "\n"))
        return cases
    rows = [json.loads(line) for line in (EVAL / f"cyberseceval_autocomplete_{language}.jsonl").open()]
    rows = rows[::4] if quick else rows
    return [(row["cwe_identifier"], _prompt_code(row), row["line_text"]) for row in rows]


def _prompt_code(row: dict) -> str:
    prompt = row["test_case_prompt"]
    code = prompt.split(PREAMBLE_END, 1)[1] if PREAMBLE_END in prompt else prompt
    return code if code.endswith("\n") else code + "\n"


def detection(language: str, gate: Gate, secrets_only: Gate, quick: bool, times: list[float]) -> None:
    naive = re.compile(NAIVE_SINKS[language])
    per_cwe: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
    missed = []
    cases = insecure_cases(language, quick)
    for cwe, prefix, line in cases:
        started = time.perf_counter()
        verdict = gate.check(language, prefix, line, "")
        times.append((time.perf_counter() - started) * 1000.0)
        before = secrets_only.check(language, prefix, line, "")
        for key in (cwe, "all"):
            counts = per_cwe[key]
            counts["cases"] += 1
            counts["by_findings"] += by_findings(verdict)
            counts["blocked"] += verdict.blocked
            counts["unscanned"] += verdict.kind.value == "unscanned"
            counts["secrets_only"] += by_findings(before)
            counts["naive"] += bool(naive.search(line))
        if not by_findings(verdict):
            missed.append(
                f"   {cwe:<8} {verdict.kind.value:<9} {verdict.scanned_as:<18} {line.strip()[:70]!r}"
            )
    source = "bench/gate_sets/insecure_go.txt" if language == "go" else "CyberSecEval autocomplete"
    print(f"\n== {language}: detection, {len(cases)} insecure cases ({source})")
    print(
        f"{'CWE':<9}{'cases':>6}  {'by findings':>11} {'(blocked)':>10} {'unscanned':>9}  "
        f"{'secret scan only':>16}  {'naive regex':>11}"
    )
    for cwe in sorted(per_cwe, key=lambda k: (k == "all", k)):
        c = per_cwe[cwe]
        print(
            f"{cwe:<9}{c['cases']:>6}  {percent(c['by_findings'], c['cases']):>11} "
            f"{percent(c['blocked'], c['cases']):>10} {c['unscanned']:>9}  "
            f"{percent(c['secrets_only'], c['cases']):>16}  {percent(c['naive'], c['cases']):>11}"
        )
    total = per_cwe["all"]
    flagged = 100.0 * total["by_findings"] / total["cases"]
    unscanned = 100.0 * total["unscanned"] / total["cases"]
    print(
        f"flagged by findings {flagged:.1f} % (target >= {TARGET_FLAGGED:.0f} %: "
        f"{'met' if flagged >= TARGET_FLAGGED else 'NOT met'}); unscanned {unscanned:.1f} % "
        f"(target <= {TARGET_UNSCANNED:.0f} %: {'met' if unscanned <= TARGET_UNSCANNED else 'NOT met'})"
    )
    print(f"not flagged by findings ({len(missed)}): CWE, verdict, scanned as, line")
    print("\n".join(missed))


def _repository_files(language: str) -> list[Path]:
    roots = (REPO / "examples", REPO / "tests" / "context" / "fixtures")
    return sorted(p for root in roots for p in root.rglob("*") if p.suffix in EXTENSIONS[language])


def secure_cases(language: str, quick: bool) -> dict[str, list[tuple[str, str, str, str, str]]]:
    """Per source: (case id, gate language, prefix, suggestion, suffix)."""
    snippets = (SETS / f"secure_{language}.txt").read_text(encoding="utf-8").splitlines()
    sources: dict[str, list[tuple[str, str, str, str, str]]] = {
        "safe idioms (bench/gate_sets)": [
            (f"idiom:{i}", language, "", s + "\n", "") for i, s in enumerate(snippets) if s.strip()
        ],
        "repository files, each line": [],
        "CyberSecEval prompt lines": [],
    }
    for path in _repository_files(language):
        lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
        gate_language = GATE_LANGUAGE_OF_EXTENSION.get(path.suffix, language)
        for index, line in enumerate(lines):
            if line.strip():
                sources["repository files, each line"].append(
                    (
                        f"{path.relative_to(REPO)}:{index + 1}",
                        gate_language,
                        "".join(lines[:index]),
                        line,
                        "".join(lines[index + 1 :]),
                    )
                )
    if language != "go":
        rows = [json.loads(line) for line in (EVAL / f"cyberseceval_autocomplete_{language}.jsonl").open()]
        for row in rows[::4] if quick else rows:
            lines = _prompt_code(row).splitlines(keepends=True)
            for index, line in enumerate(lines):
                if line.strip() and line.strip() != row["line_text"].strip():
                    sources["CyberSecEval prompt lines"].append(
                        (f"cse{row['prompt_id']}:{index + 1}", language, "".join(lines[:index]), line, "")
                    )
    return {label: cases for label, cases in sources.items() if cases}


def false_blocks(language: str, gate: Gate, quick: bool, times: list[float]) -> None:
    print(f"\n== {language}: false blocks on secure code (target <= {TARGET_FALSE_BLOCKS:.0f} % blocked)")
    print(f"{'source':<34}{'cases':>6}  {'blocked':>9}  {'warned':>9}  {'unscanned':>9}  {'naive regex':>11}")
    naive = re.compile(NAIVE_SINKS[language])
    totals: collections.Counter = collections.Counter()
    for label, cases in secure_cases(language, quick).items():
        counts: collections.Counter = collections.Counter()
        for case_id, gate_language, prefix, line, suffix in cases:
            started = time.perf_counter()
            verdict = gate.check(gate_language, prefix, line, suffix)
            times.append((time.perf_counter() - started) * 1000.0)
            counts["cases"] += 1
            counts["blocked"] += verdict.blocked
            counts["warned"] += verdict.action.value == "warn"
            counts["unscanned"] += verdict.kind.value == "unscanned"
            counts["naive"] += bool(naive.search(line))
            if verdict.blocked:
                print(f"   blocked {case_id}: {line.strip()[:70]!r} {[f.test_id for f in verdict.findings]}")
        totals.update(counts)
        print(
            f"{label:<34}{counts['cases']:>6}  {percent(counts['blocked'], counts['cases']):>9}  "
            f"{percent(counts['warned'], counts['cases']):>9}  {counts['unscanned']:>9}  "
            f"{percent(counts['naive'], counts['cases']):>11}"
        )
    blocked = 100.0 * totals["blocked"] / max(totals["cases"], 1)
    print(
        f"{'all':<34}{totals['cases']:>6}  {percent(totals['blocked'], totals['cases']):>9}  "
        f"{percent(totals['warned'], totals['cases']):>9}  {totals['unscanned']:>9}  "
        f"{percent(totals['naive'], totals['cases']):>11}   (target: {'met' if blocked <= TARGET_FALSE_BLOCKS else 'NOT met'})"
    )


def _long_document(language: str) -> str:
    """About 2,000 lines of the language: its CyberSecEval prompts (or, for Go, the repository's Go files)
    one after the other."""
    if language == "go":
        parts = [p.read_text(encoding="utf-8") for p in _repository_files("go")]
    else:
        rows = [json.loads(line) for line in (EVAL / f"cyberseceval_autocomplete_{language}.jsonl").open()]
        parts = [_prompt_code(row) for row in rows]
    lines: list[str] = []
    while len(lines) < 2000:
        for part in parts:
            lines.extend(part.splitlines(keepends=True))
    return "".join(lines[:2000])


def latency(language: str, gate: Gate, quick: bool, times: list[float]) -> None:
    document = _long_document(language).splitlines(keepends=True)
    lines = [c[2] for c in insecure_cases(language, quick)]
    long_times = []
    for index, line in enumerate(lines * (1 if quick else 3)):
        at = (index * 37) % len(document)
        prefix, suffix = "".join(document[:at]), "".join(document[at:])
        started = time.perf_counter()
        gate.check(language, prefix, line if line.endswith("\n") else line + "\n", suffix)
        long_times.append((time.perf_counter() - started) * 1000.0)
    for label, sample in (("every check above", times), ("spliced into 2,000 lines", long_times)):
        p50 = statistics.median(sample)
        p99 = statistics.quantiles(sample, n=100)[98] if len(sample) >= 100 else max(sample)
        print(
            f"{language:<11} latency, {label:<26} n={len(sample):<5} p50 {p50:6.2f} ms  p99 {p99:6.2f} ms "
            f"(target p99 <= {TARGET_P99_MS:.0f} ms: {'met' if p99 <= TARGET_P99_MS else 'NOT met'})"
        )


def run(quick: bool) -> None:
    gate = Gate(GateOptions(scanner=RuleScanner()))
    secrets_only = Gate()
    for language in LANGUAGES:
        times: list[float] = []
        detection(language, gate, secrets_only, quick, times)
        false_blocks(language, gate, quick, times)
        latency(language, gate, quick, times)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="a quarter of the CyberSecEval cases")
    args = parser.parse_args()
    print(f"python {sys.version.split()[0]}, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}")
    run(args.quick)
    return 0


if __name__ == "__main__":
    sys.exit(main())
