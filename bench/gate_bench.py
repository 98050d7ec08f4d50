"""Security gate benchmark: detection on CyberSecEval, false blocks on secure code, warm latency.

Run: .venv/bin/python bench/gate_bench.py [--quick] [--only detection|false-blocks|latency]

1. Detection: the 351 insecure Python cases of CyberSecEval's autocomplete set (../shared/eval/). Prefix = the
   code in ``test_case_prompt`` after its instruction preamble (a newline is added when it does not end with
   one: the insecure line starts a new line); suggestion = ``line_text``; suffix = empty. "Flagged by findings"
   = the gate blocks or warns because of a finding; an "unscanned" verdict (nothing parsed; the policy warns
   by default) is counted apart and never as flagged. Targets: >= 92 % flagged by findings, <= 2 % unscanned.
   Baselines in the same run: bandit (its own rules only) on the bare, dedented line, where any finding of any
   severity counts as flagged; and the gate without Roost's plugins (ablation). A second protocol, as issue
   gate-coverage measured it: the line glued to the prompt's last line (no newline added), summary only.
2. False blocks on secure code (target <= 1 % blocked): the lines marked ``# ok:`` in the Python rule tests
   of codeshield 1.0.1 (MIT; ``pip download`` into a temporary folder, read in place; /tmp/cs is used when it
   already holds the download), HumanEval-infilling canonical solutions spliced into their prompts (all
   single-line tasks, every fifth multi-line task), the same single-line solutions cut off mid-line (what the
   repairs see), and the secure snippets below.
4. ``--only languages``: JavaScript/TypeScript, Java, Go and Rust (the tree-sitter rules), per language and per
   CWE, with the secret-scan-only and naive-regex baselines; see bench/gate_languages_bench.py.
3. Latency: suggestions spliced into a 2,000-line document (the start of CPython's doctest.py), warm gate,
   p50/p99, whole lines and lines cut off mid-way (the repair path); baseline: bandit's own manager built per
   request and run over the whole spliced document.
"""

from __future__ import annotations

import argparse
import collections
import gzip
import json
import os
import random
import statistics
import subprocess
import sys
import sysconfig
import tarfile
import tempfile
import time
import zipfile
from pathlib import Path

from roost.engine.gate import BanditSettings, Gate, GateOptions
from roost.engine.gate.bandit_runner import WarmBandit

REPO = Path(__file__).resolve().parent.parent
EVAL = REPO.parent / "shared" / "eval"
PREAMBLE_END = "Don't return a preamble or suffix, just the code.\n\n"
ROOST_PLUGINS = frozenset({"RB101", "RB102", "RB103", "RB104", "RB105"})
CODESHIELD = "codeshield==1.0.1"
TARGET_FLAGGED = 92.0
TARGET_UNSCANNED = 2.0
TARGET_FALSE_BLOCKS = 1.0

# Secure idioms a model commonly writes; none should be blocked.
SECURE_SNIPPETS = [
    "subprocess.run(['git', 'status'], check=True, capture_output=True)\n",
    "subprocess.check_output(['ls', '-l', path], text=True)\n",
    "digest = hashlib.sha256(data).hexdigest()\n",
    "digest = hashlib.blake2b(data, digest_size=32).hexdigest()\n",
    "h = hashlib.md5(data, usedforsecurity=False).hexdigest()\n",
    "token = secrets.token_urlsafe(32)\n",
    "nonce = secrets.token_bytes(16)\n",
    "config = yaml.safe_load(stream)\n",
    "data = json.loads(payload)\n",
    "cursor.execute('SELECT * FROM users WHERE id = %s', (user_id,))\n",
    "cursor.execute('INSERT INTO t (a, b) VALUES (?, ?)', (a, b))\n",
    "rows = session.execute(select(User).where(User.id == user_id)).scalars().all()\n",
    "password = os.environ['DB_PASSWORD']\n",
    "api_key = os.getenv('API_KEY')\n",
    "password = getpass.getpass('Password: ')\n",
    "token = request.headers.get('Authorization', '').removeprefix('Bearer ')\n",
    "with tempfile.NamedTemporaryFile(delete=False) as handle:\n    handle.write(data)\n",
    "path = tempfile.mkdtemp()\n",
    "response = requests.get(url, timeout=10)\n",
    "response = requests.post(url, json=body, timeout=(3, 30))\n",
    "value = ast.literal_eval(text)\n",
    "app.run(host='127.0.0.1', port=8000)\n",
    "context = ssl.create_default_context()\n",
    "key = Fernet.generate_key()\n",
    "hashed = bcrypt.hashpw(password.encode(), bcrypt.gensalt())\n",
    "ok = hmac.compare_digest(expected, received)\n",
    "os.makedirs(directory, mode=0o700, exist_ok=True)\n",
    "tar.extractall(path=target, filter='data')\n",
    "template = env.get_template('page.html')\n",
    "env = jinja2.Environment(loader=loader, autoescape=True)\n",
    "logger.info('user %s logged in', username)\n",
    "items = sorted(items, key=lambda item: item.name)\n",
    "for index, row in enumerate(rows):\n    print(index, row)\n",
    "result = [x * 2 for x in values if x > 0]\n",
    "with open(path, encoding='utf-8') as handle:\n    text = handle.read()\n",
    "model = torch.load(path, weights_only=True)\n",
    "sample = random.Random(42).sample(population, 3)  # simulation, not security\n",
    "password_hash = argon2.PasswordHasher().hash(password)\n",
    "parser.add_argument('--password', help='the password (prompted if omitted)')\n",
    "if not re.fullmatch(r'[a-z0-9_]+', table):\n    raise ValueError(table)\n",
]


def percent(part: int, whole: int) -> str:
    return f"{100.0 * part / whole:5.1f} %" if whole else "  n/a"


def cyberseceval_rows(quick: bool) -> list[dict]:
    path = EVAL / "cyberseceval_autocomplete_python.jsonl"
    rows = [json.loads(line) for line in path.open(encoding="utf-8")]
    return rows[::5] if quick else rows


def prompt_code(row: dict) -> str:
    prompt = row["test_case_prompt"]
    return prompt.split(PREAMBLE_END, 1)[1] if PREAMBLE_END in prompt else prompt


def by_findings(verdict) -> bool:
    """Flagged because of a finding: an unscanned verdict warns by policy, but nothing was found."""
    return verdict.flagged and verdict.kind.value != "unscanned"


def cyberseceval(gate: Gate, gate_without_plugins: Gate, quick: bool) -> None:
    rows = cyberseceval_rows(quick)
    bare_bandit = WarmBandit(BanditSettings(skips=ROOST_PLUGINS))
    per_cwe: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
    missed: list[str] = []
    for index, row in enumerate(rows):
        prefix = prompt_code(row)
        if not prefix.endswith("\n"):
            prefix += "\n"
        verdict = gate.check("python", prefix, row["line_text"], "")
        ablation = gate_without_plugins.check("python", prefix, row["line_text"], "")
        try:
            bare = bool(bare_bandit.scan_source(row["line_text"].strip() + "\n"))
        except SyntaxError:
            bare = False
        for key in (row["cwe_identifier"], "all"):
            counts = per_cwe[key]
            counts["cases"] += 1
            counts["flagged"] += verdict.flagged
            counts["blocked"] += verdict.blocked
            counts["unscanned"] += verdict.kind.value == "unscanned"
            counts["by_findings"] += by_findings(verdict)
            counts["bare_bandit"] += bare
            counts["no_plugins"] += by_findings(ablation)
        if not by_findings(verdict):
            found = ",".join(f.test_id for f in verdict.findings) or "-"
            missed.append(
                f"   {index:>3} {row['cwe_identifier']:<8} {verdict.kind.value:<9} {verdict.scanned_as:<15} "
                f"{found:<10} {row['line_text'].strip()[:60]!r}"
            )
    print(f"\n== CyberSecEval autocomplete (Python), {per_cwe['all']['cases']} insecure cases")
    print(
        f"{'CWE':<9}{'cases':>6}  {'by findings':>11} {'(blocked)':>10} {'unscanned':>9} {'flagged+unsc.':>13}  "
        f"{'bandit bare line':>16}  {'gate w/o RB plugins':>19}"
    )
    for cwe in sorted(per_cwe, key=lambda k: (k == "all", k)):
        c = per_cwe[cwe]
        print(
            f"{cwe:<9}{c['cases']:>6}  {percent(c['by_findings'], c['cases']):>11} "
            f"{percent(c['blocked'], c['cases']):>10} {c['unscanned']:>9} "
            f"{percent(c['flagged'], c['cases']):>13}  {percent(c['bare_bandit'], c['cases']):>16}  "
            f"{percent(c['no_plugins'], c['cases']):>19}"
        )
    total = per_cwe["all"]
    flagged = 100.0 * total["by_findings"] / total["cases"]
    unscanned = 100.0 * total["unscanned"] / total["cases"]
    ratio = total["by_findings"] / max(total["bare_bandit"], 1)
    print(
        f"flagged by findings {flagged:.1f} % (target >= {TARGET_FLAGGED:.0f} %: "
        f"{'met' if flagged >= TARGET_FLAGGED else 'NOT met'}), x{ratio:.2f} the bare-line bandit baseline; "
        f"unscanned {unscanned:.1f} % (target <= {TARGET_UNSCANNED:.0f} %: "
        f"{'met' if unscanned <= TARGET_UNSCANNED else 'NOT met'})"
    )
    print(f"not flagged by findings ({len(missed)}): index, CWE, verdict, scanned as, findings, line")
    print("\n".join(missed))
    glued(gate, rows)


def glued(gate: Gate, rows: list[dict]) -> None:
    """The issue's protocol: the line glued to the prompt's last line, as ``roost guard --batch`` got it.

    Most prompts end without a newline, often on a comment, so the suggestion lands inside that comment or
    on the end of a statement: a harder and less realistic splice, reported for comparison.
    """
    counts = collections.Counter()
    for row in rows:
        verdict = gate.check("python", prompt_code(row), row["line_text"], "")
        counts["cases"] += 1
        counts["by_findings"] += by_findings(verdict)
        counts["unscanned"] += verdict.kind.value == "unscanned"
    print(
        f"glued to the prompt's last line (the issue's protocol): flagged by findings "
        f"{percent(counts['by_findings'], counts['cases']).strip()}, unscanned {counts['unscanned']} "
        f"({percent(counts['unscanned'], counts['cases']).strip()})"
    )


def _codeshield_rule_tests(folder: Path) -> list[tuple[str, str]]:
    """(name, text) of the Python rule test files in a codeshield wheel or sdist found in ``folder``."""
    files: list[tuple[str, str]] = []
    for archive in sorted(folder.glob("codeshield-1.0.1*")):
        if archive.suffix == ".whl":
            with zipfile.ZipFile(archive) as wheel:
                for name in sorted(wheel.namelist()):
                    if "/rules/semgrep/python/" in name and name.endswith(".py"):
                        files.append((name, wheel.read(name).decode("utf-8")))
        elif archive.name.endswith(".tar.gz"):
            with tarfile.open(archive) as sdist:
                for member in sorted(sdist.getmembers(), key=lambda m: m.name):
                    if "/rules/semgrep/python/" in member.name and member.name.endswith(".py"):
                        handle = sdist.extractfile(member)
                        if handle is not None:
                            files.append((member.name, handle.read().decode("utf-8")))
        if files:
            return files
    return files


def codeshield_ok_lines() -> list[tuple[str, str, str, str]]:
    """(source, prefix, completion, suffix) for each line marked ``# ok:`` in codeshield's Python rule tests."""
    files = _codeshield_rule_tests(Path("/tmp/cs"))
    if not files:
        with tempfile.TemporaryDirectory() as folder:
            result = subprocess.run(
                [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", CODESHIELD, "-d", folder],
                capture_output=True,
                text=True,
                timeout=300,
            )
            files = _codeshield_rule_tests(Path(folder))
            if result.returncode != 0 or not files:
                print(f"({CODESHIELD} could not be downloaded: {result.stderr.strip()[-200:]})")
                return []
    cases = []
    for name, text in files:
        lines = text.splitlines(keepends=True)
        for index, line in enumerate(lines[:-1]):
            if line.strip().startswith("# ok:"):
                target = index + 1
                cases.append(
                    (
                        f"codeshield:{Path(name).name}:{target + 1}",
                        "".join(lines[:target]),
                        lines[target],
                        "".join(lines[target + 1 :]),
                    )
                )
    return cases


def humaneval(name: str, step: int) -> list[tuple[str, str, str, str]]:
    path = EVAL / "humaneval_infilling" / name
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        rows = [json.loads(line) for line in handle][::step]
    return [(row["task_id"], row["prompt"], row["canonical_solution"], row["suffix"]) for row in rows]


def cut_off(cases: list[tuple[str, str, str, str]]) -> list[tuple[str, str, str, str]]:
    """Each solution's first line cut at a random point past its indentation, nothing after it (suffix
    empty): a model stopped mid-line, which is what the gate's repairs complete."""
    rng = random.Random(11)
    cut = []
    for case_id, prefix, completion, _suffix in cases:
        line = completion.split("\n", 1)[0]
        code_starts = len(line) - len(line.lstrip())
        if len(line) - code_starts < 4:
            continue
        at = rng.randint(code_starts + 2, len(line) - 1)
        cut.append((f"{case_id}/cut{at}", prefix, line[:at], ""))
    return cut


def false_blocks(gate: Gate, quick: bool) -> None:
    sources = {
        "codeshield '# ok:' lines": codeshield_ok_lines(),
        "HumanEval-infilling single-line": humaneval("SingleLine.jsonl.gz", 10 if quick else 1),
        "HumanEval-infilling multi-line/5": humaneval("MultiLine.jsonl.gz", 50 if quick else 5),
        "HumanEval single-line, cut mid-line": cut_off(humaneval("SingleLine.jsonl.gz", 10 if quick else 1)),
        "secure snippets (bench list)": [(f"snippet:{i}", "", s, "") for i, s in enumerate(SECURE_SNIPPETS)],
    }
    print(f"\n== False blocks on secure code (target <= {TARGET_FALSE_BLOCKS:.0f} % blocked)")
    print(f"{'source':<34}{'cases':>6}  {'blocked':>9}  {'warned':>9}  {'unscanned':>9}")
    totals = collections.Counter()
    for label, cases in sources.items():
        counts = collections.Counter()
        for case_id, prefix, completion, suffix in cases:
            verdict = gate.check("python", prefix, completion, suffix)
            counts["cases"] += 1
            counts["blocked"] += verdict.blocked
            counts["warned"] += verdict.action.value == "warn"
            counts["unscanned"] += verdict.kind.value == "unscanned"
            if verdict.blocked:
                print(
                    f"   blocked {case_id}: {completion.strip()[:70]!r} {[f.test_id for f in verdict.findings]}"
                )
        totals.update(counts)
        print(
            f"{label:<34}{counts['cases']:>6}  {percent(counts['blocked'], counts['cases']):>9}  "
            f"{percent(counts['warned'], counts['cases']):>9}  {counts['unscanned']:>9}"
        )
    print(
        f"{'all':<34}{totals['cases']:>6}  {percent(totals['blocked'], totals['cases']):>9}  "
        f"{percent(totals['warned'], totals['cases']):>9}  {totals['unscanned']:>9}"
    )
    blocked = 100.0 * totals["blocked"] / max(totals["cases"], 1)
    print(
        f"false blocks {blocked:.2f} % (target <= {TARGET_FALSE_BLOCKS:.0f} %: "
        f"{'met' if blocked <= TARGET_FALSE_BLOCKS else 'NOT met'})"
    )


def two_thousand_line_document() -> list[str]:
    # doctest.py: classes, functions, docstrings and imports, with a top-level boundary right at line 2,000.
    source = Path(sysconfig.get_paths()["stdlib"], "doctest.py").read_text(encoding="utf-8")
    lines = source.splitlines(keepends=True)
    end = 2000
    # End at a top-level statement so the document parses, as an editor buffer mostly does.
    while end < len(lines) and (lines[end][:1].isspace() or not lines[end].strip() or lines[end][:1] in "#)"):
        end += 1
    return lines[:end]


def timed(gate: Gate, requests: list[tuple[str, str, str]]) -> dict[str, object]:
    """Wall and thread-CPU p50/p99/max (ms) of ``gate.check`` over ``requests``, and how each was scanned."""
    timings = []
    cpu_timings = []
    kinds: collections.Counter = collections.Counter()
    for prefix, completion, suffix in requests:
        started, cpu_started = time.perf_counter(), time.thread_time()
        verdict = gate.check("python", prefix, completion, suffix)
        cpu_timings.append((time.thread_time() - cpu_started) * 1000.0)
        timings.append((time.perf_counter() - started) * 1000.0)
        kinds[verdict.scanned_as] += 1
    timings.sort()
    cpu_timings.sort()
    return {
        "p50": statistics.median(timings),
        "p99": timings[int(len(timings) * 0.99) - 1],
        "max": timings[-1],
        "cpu_p50": statistics.median(cpu_timings),
        "cpu_p99": cpu_timings[int(len(cpu_timings) * 0.99) - 1],
        "cpu_max": cpu_timings[-1],
        "kinds": dict(kinds),
    }


def latency(gate: Gate, quick: bool) -> None:
    from bandit.core import config as bandit_config
    from bandit.core import manager as bandit_manager

    lines = two_thousand_line_document()
    rng = random.Random(7)
    candidates = [i for i, line in enumerate(lines) if line.strip() and not line.strip().startswith("#")]
    positions = rng.sample(candidates, 200 if quick else 1000)
    requests = [("".join(lines[:i]), lines[i], "".join(lines[i + 1 :])) for i in positions]
    # The same lines cut off at a random point (the model stopped mid-line), the rest of the file after them:
    # the path where the unit does not parse as it is and the gate repairs it or falls back.
    cut_requests = []
    for i in positions:
        line = lines[i].rstrip("\n")
        start = len(line) - len(line.lstrip())
        at = rng.randint(start + 1, len(line)) if len(line) > start + 1 else len(line)
        cut_requests.append(("".join(lines[:i]), line[:at], "\n" + "".join(lines[i + 1 :])))
    for prefix, completion, suffix in requests[:50] + cut_requests[:50]:  # warm up
        gate.check("python", prefix, completion, suffix)
    whole = timed(gate, requests)
    cut = timed(gate, cut_requests)

    # Baseline: what running bandit the ordinary way costs per suggestion: a manager and test set built per
    # request, scanning the whole spliced document (written to a temporary file, as bandit reads files).
    baseline = []
    with tempfile.TemporaryDirectory() as folder:
        target = Path(folder) / "document.py"
        for prefix, completion, suffix in requests[:20]:
            started = time.perf_counter()
            target.write_text(prefix + completion + suffix, encoding="utf-8")
            manager = bandit_manager.BanditManager(bandit_config.BanditConfig(), "file", quiet=True)
            manager.discover_files([str(target)])
            manager.run_tests()
            baseline.append((time.perf_counter() - started) * 1000.0)
    base_p50 = statistics.median(baseline)
    print(f"\n== Latency, warm, {len(lines)}-line document, {len(requests)} suggestions (targets 5 / 20 ms)")
    for label, result in (("whole lines", whole), ("lines cut off mid-way", cut)):
        print(f"{label}:")
        print(
            f"  gate wall   p50 {result['p50']:6.2f} ms   p99 {result['p99']:6.2f} ms   max {result['max']:6.2f} ms"
        )
        print(
            f"  gate CPU    p50 {result['cpu_p50']:6.2f} ms   p99 {result['cpu_p99']:6.2f} ms   "
            f"max {result['cpu_max']:6.2f} ms  (thread CPU time)"
        )
        print(f"  scanned as: {result['kinds']}")
    print(f"(load average while measuring: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs)")
    print(
        f"baseline      p50 {base_p50:6.2f} ms   (bandit manager per request over the whole document, "
        f"{len(baseline)} runs)"
    )
    print(f"speed-up      x{base_p50 / whole['p50']:.0f} at p50 (whole lines)")


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="a fifth of the cases, fewer latency samples")
    parser.add_argument(
        "--only",
        choices=("detection", "false-blocks", "latency", "languages"),
        help="run one part (e.g. latency on a quiet machine)",
    )
    args = parser.parse_args()
    gate = Gate()
    gate_without_plugins = Gate(GateOptions(skip_tests=ROOST_PLUGINS))
    print(f"python {sys.version.split()[0]}, bandit {__import__('bandit').__version__}")
    if args.only in (None, "detection"):
        cyberseceval(gate, gate_without_plugins, args.quick)
    if args.only in (None, "false-blocks"):
        false_blocks(gate, args.quick)
    if args.only in (None, "latency"):
        latency(gate, args.quick)
    if args.only in (None, "languages"):
        # JavaScript/TypeScript, Java, Go, Rust: the tree-sitter rules (a module of its own, run alone too).
        sys.path.insert(0, str(Path(__file__).resolve().parent))
        from gate_languages_bench import run as run_languages

        run_languages(args.quick)
    return 0


if __name__ == "__main__":
    sys.exit(main())
