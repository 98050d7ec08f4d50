"""The tree-sitter rules of JavaScript/TypeScript, Java, Go and Rust: each rule's own positive and negative
examples, findings only on inserted lines, the fallbacks for code that does not parse, and the gate's verdicts
through the ``CodeScanner`` protocol."""

from __future__ import annotations

import pytest

from roost.context.checks import RuleScanner
from roost.context.checks.rules import Rule
from roost.context.checks.scanner import rules_for
from roost.engine.gate import Gate, GateOptions, VerdictKind

LANGUAGES = ("javascript", "java", "go", "rust")
SCANNER = RuleScanner()


def _examples(kind: str) -> list[tuple[str, Rule, str]]:
    cases = []
    for language in LANGUAGES:
        for rule in rules_for(language).rules:
            for code in rule.positives if kind == "positive" else rule.negatives:
                cases.append((language, rule, code))
    return cases


def _ids(case: tuple[str, Rule, str]) -> str:
    return f"{case[1].rule_id}:{case[2][:40]}"


@pytest.fixture(scope="module")
def rule_gate() -> Gate:
    return Gate(GateOptions(scanner=SCANNER))


@pytest.mark.parametrize("case", _examples("positive"), ids=_ids)
def test_rule_flags_its_positive_examples(case: tuple[str, Rule, str]) -> None:
    language, rule, code = case
    report = SCANNER.scan(language, "", code + "\n", "")
    assert rule.rule_id in {f.rule_id for f in report.findings}, report


@pytest.mark.parametrize("case", _examples("negative"), ids=_ids)
def test_rule_leaves_its_negative_examples_alone(case: tuple[str, Rule, str]) -> None:
    language, rule, code = case
    report = SCANNER.scan(language, "", code + "\n", "")
    assert rule.rule_id not in {f.rule_id for f in report.findings}, report


def test_every_rule_has_examples_both_ways() -> None:
    for language in LANGUAGES:
        rules = rules_for(language).rules
        assert len({r.rule_id for r in rules}) == len(rules), f"duplicate rule id in {language}"
        for rule in rules:
            assert rule.positives and rule.negatives, rule.rule_id
            assert rule.severity in ("LOW", "MEDIUM", "HIGH") and rule.confidence in ("LOW", "MEDIUM", "HIGH")


def test_typescript_shares_javascripts_rules_through_its_grammar() -> None:
    prefix = "function run(userInput: string): unknown {\n  return "
    for language in ("typescript", "typescriptreact"):
        report = SCANNER.scan(language, prefix, "eval(userInput);\n", "}\n")
        assert [f.rule_id for f in report.findings] == ["RJS101"]
        assert report.scanned_as == "document"


def test_findings_count_only_on_inserted_lines() -> None:
    prefix = "const a = eval(code);\nconst h = crypto.createHash('md5');\n"
    clean = SCANNER.scan("javascript", prefix, "const b = a + 1;\n", "const c = eval(more);\n")
    assert clean.findings == () and clean.scanned_as == "document"
    # The call starts on the prefix's line; its argument is the suggestion: it counts, on line 1.
    cut = SCANNER.scan("javascript", "const x = eval(\n", "  '(' + input + ')');\n", "")
    assert [(f.rule_id, f.line) for f in cut.findings] == [("RJS101", 1)]
    # A callback body the suggestion writes in does not make the call around it its finding.
    around = SCANNER.scan("javascript", "child_process.exec(cmd, function () {\n", "  done();\n", "});\n")
    assert around.findings == ()


def test_lines_are_numbered_within_the_suggestion() -> None:
    suggestion = 'int a = 1;\nMessageDigest md = MessageDigest.getInstance("MD5");\n'
    report = SCANNER.scan("java", "class A {\n  void f() {\n", suggestion, "  }\n}\n")
    assert [(f.rule_id, f.line) for f in report.findings] == [("RJV105", 2)]


@pytest.mark.parametrize(
    ("language", "prefix", "suggestion", "rule_id", "scanned_as"),
    [
        # A call cut in its arguments: the document cut after the suggestion, brackets and strings closed.
        ("javascript", "function f(str) {\n  return ", "eval('(' + str", "RJS101", "repaired-document"),
        (
            "java",
            "class A {\n  void f(String c) throws Exception {\n",
            "    Runtime.getRuntime().exec(c",
            "RJV102",
            "repaired-document",
        ),
        (
            "rust",
            "fn main() {\n",
            '    let out = Command::new("sh").arg("-c").arg(format!("ls {}", d',
            "RRS101",
            "repaired-document",
        ),
        # A window cut from the middle of a file (unbalanced closers before it): a smaller unit parses.
        (
            "javascript",
            "    }\n  },\n  run: function (s) {\n",
            "    return new Function('a', s);\n",
            "RJS103",
            "repaired-document",
        ),
        # Cut after an operator: a stand-in operand completes the expression.
        (
            "java",
            "class A {\n  void f(String cmd) throws Exception {\n",
            "    Runtime.getRuntime().exec(cmd +",
            "RJV102",
            "repaired-document",
        ),
        # A line that closes a block first, from a window cut in the middle of a file.
        ("javascript", "", "} else { el.innerHTML = '<b>' + name; }\n", "RJS133", "suggestion"),
        # Go statements with no function around them: the suggestion alone parses as statements.
        ("go", "", "cfg := &tls.Config{InsecureSkipVerify: true}\n", "RGO108", "document"),
        ("go", "}\n}\n", "h := md5.New()\n", "RGO104", None),
    ],
)
def test_unfinished_code_is_repaired_or_scanned_in_a_smaller_unit(
    language: str, prefix: str, suggestion: str, rule_id: str, scanned_as: str | None
) -> None:
    report = SCANNER.scan(language, prefix, suggestion, "")
    assert rule_id in {f.rule_id for f in report.findings}, report
    assert report.scanned_as != "partial"
    if scanned_as is not None:
        assert report.scanned_as == scanned_as


def test_code_that_parses_nowhere_is_unscanned_never_clean(rule_gate: Gate) -> None:
    verdict = rule_gate.check("javascript", "", "%% @@ (( ]] }} <<\n", "")
    assert verdict.kind is VerdictKind.UNSCANNED and not verdict.findings
    assert verdict.scanned_as == "partial"
    assert verdict.action is VerdictKind.WARN  # the default policy for unscanned code
    # A finding in a tree that only partly parses still counts (and is not reported as unscanned).
    found = rule_gate.check("java", "", "random.nextLong(), random.nextLong() }, PLong.INSTANCE);\n", "")
    assert found.kind is VerdictKind.WARN and found.findings[0].test_id == "RJV110"


def test_brackets_and_block_keywords_alone_pass(rule_gate: Gate) -> None:
    for language, line in (("javascript", "} else {\n"), ("java", "});\n"), ("rust", "}\n")):
        verdict = rule_gate.check(language, "", line, "")
        assert verdict.kind is VerdictKind.PASS and verdict.scanned_as == "punctuation"


def test_comment_only_suggestions_pass(rule_gate: Gate) -> None:
    for language, comment in (("javascript", "// eval(x) is fine here\n"), ("rust", "/* unsafe { } */\n")):
        verdict = rule_gate.check(language, "", comment, "")
        assert verdict.kind is VerdictKind.PASS and verdict.scanned_as == "comment"


def test_gate_verdicts_follow_the_policy(rule_gate: Gate) -> None:
    blocked = rule_gate.check("javascript", "", "el.innerHTML = `<p>${location.hash}</p>`;\n", "")
    assert blocked.blocked and blocked.findings[0].source == "rules"
    warned = rule_gate.check("go", "", "n := rand.Intn(10)\n", "")
    assert warned.kind is VerdictKind.WARN and not warned.blocked
    clean = rule_gate.check("rust", "", 'let digest = Sha256::digest(b"x");\n', "")
    assert clean.kind is VerdictKind.PASS and clean.scanned_as == "document"
    # The secret scan still runs alongside the rules.
    leaked = rule_gate.check(
        "java", "", 'String t = "ghp_' + "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8" + '";\n', ""
    )
    assert leaked.blocked and any(f.source == "secrets" for f in leaked.findings)


def test_a_failing_scanner_makes_the_suggestion_unscanned_not_clean() -> None:
    class Broken(RuleScanner):
        def scan(self, language: str, prefix: str, suggestion: str, suffix: str = "") -> object:  # type: ignore[override]
            raise RuntimeError("rule bug")

    verdict = Gate(GateOptions(scanner=Broken())).check("go", "", "x := 1\n", "")
    assert verdict.kind is VerdictKind.UNSCANNED and verdict.scanned_as == "none"


def test_whole_files_count_every_line(rule_gate: Gate) -> None:
    text = 'package main\n\nimport "crypto/md5"\n\nfunc f() {\n\th := md5.New()\n\t_ = h\n}\n'
    verdict = rule_gate.check_file("go", text)
    assert [(f.test_id, f.line) for f in verdict.findings] == [("RGO104", 6)]
    assert verdict.scanned_as == "document"
