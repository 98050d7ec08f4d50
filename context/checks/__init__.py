"""Security rules over tree-sitter trees for the languages bandit does not read (JavaScript/TypeScript, Java,
Go, Rust): ``RuleScanner`` matches the per-language rules in ``roost.context.languages._<lang>_rules`` on the
lines a suggestion inserts."""

from roost.context.checks.scanner import RuleFinding, RuleScanner, ScanReport

__all__ = ["RuleFinding", "RuleScanner", "ScanReport"]
