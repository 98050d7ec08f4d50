"""The rule scanner: tree-sitter trees of a spliced suggestion, matched against the language's rules.

``RuleScanner.scan(language, prefix, suggestion, suffix)`` answers the findings on the suggestion's lines and
how it was scanned; ``scan_file`` answers a whole file. The gate in ``roost.engine.gate`` receives this
scanner through its ``CodeScanner`` protocol (engine never imports context; lsp wires them).
"""

from __future__ import annotations

import importlib
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache

import tree_sitter

from roost.context.checks.rules import Rule, Site, Syntax
from roost.context.checks.splicing import Candidate, Splice, candidates
from roost.context.languages import language_named
from roost.context.parser_cache import parse

# Language ids an editor may send, to the module that holds the rules (TypeScript shares JavaScript's).
_RULE_MODULES = {
    "javascript": "javascript",
    "javascriptreact": "javascript",
    "js": "javascript",
    "jsx": "javascript",
    "typescript": "javascript",
    "typescriptreact": "javascript",
    "ts": "javascript",
    "tsx": "javascript",
    "java": "java",
    "go": "go",
    "golang": "go",
    "rust": "rust",
    "rs": "rust",
}
# The grammar each language id parses with (TSX is TypeScript's superset, for ``.tsx`` buffers).
_GRAMMARS = {
    "javascript": ("javascript", "x.js"),
    "javascriptreact": ("javascript", "x.jsx"),
    "js": ("javascript", "x.js"),
    "jsx": ("javascript", "x.jsx"),
    "typescript": ("typescript", "x.ts"),
    "ts": ("typescript", "x.ts"),
    "typescriptreact": ("typescript", "x.tsx"),
    "tsx": ("typescript", "x.tsx"),
    "java": ("java", "X.java"),
    "go": ("go", "x.go"),
    "golang": ("go", "x.go"),
    "rust": ("rust", "x.rs"),
    "rs": ("rust", "x.rs"),
}


# Time for trying candidates. tree-sitter's error recovery can take ~10 ms on a few KB of pathological text
# (a long string of JSON in a Rust macro), and a suggestion waits for the gate; past the budget the least
# broken tree so far is matched as it is ("partial": its findings count, none found is not clean).
_CANDIDATE_BUDGET_S = 0.010
_NOTHING_TO_MATCH = re.compile(
    r"[\s{}()\[\],;:]*(?:\b(?:else|try|finally|do|default|loop)\b[\s{}()\[\],;:]*)*"
)


@dataclass(frozen=True)
class RuleFinding:
    """One rule's hit; ``line`` is 1-based in the suggestion (in the file, for ``scan_file``)."""

    rule_id: str
    severity: str
    confidence: str
    cwe: int
    line: int
    message: str


@dataclass(frozen=True)
class ScanReport:
    """Findings, and how the text was scanned: "document", "repaired-document", "window", "suggestion",
    "wrapped-suggestion" (a tree without errors on the inserted lines); "punctuation" (brackets and block
    keywords only: nothing a rule could match); "partial" (the least broken tree was
    matched as it is: findings count, none found is not clean); "comment" (nothing but comments)."""

    findings: tuple[RuleFinding, ...]
    scanned_as: str


@dataclass(frozen=True)
class LanguageRules:
    syntax: Syntax
    rules: tuple[Rule, ...]
    # Lines around a suggestion that make statements parse where the language needs a body (Go's statements
    # outside a function, a Java statement outside a method).
    wrappers: tuple[str, ...]
    # What ends a statement when a cut-off one is closed (Java's and Rust's ``;``; "" where it is optional).
    terminator: str
    # The characters that open a string (Rust's ``'`` also starts a lifetime, so it is left out there).
    quotes: str
    by_type: dict[str, tuple[Rule, ...]]


class RuleScanner:
    """Scans JavaScript/TypeScript, Java, Go and Rust with per-language rules. Stateless and thread-safe."""

    def languages(self) -> frozenset[str]:
        return frozenset(_RULE_MODULES)

    def prepare(self) -> None:
        """Import every language's rules and grammar now (tens of milliseconds), not on the first scan."""
        for key in _RULE_MODULES:
            rules_for(_RULE_MODULES[key])
            _grammar(key)

    def supports(self, language: str) -> bool:
        return language.strip().lower() in _RULE_MODULES

    def scan(self, language: str, prefix: str, suggestion: str, suffix: str = "") -> ScanReport:
        key = language.strip().lower()
        rules = rules_for(_RULE_MODULES[key])
        grammar = _grammar(key)
        if _NOTHING_TO_MATCH.fullmatch(suggestion):
            # Brackets and block keywords only (``}``, ``} else {``): no rule can match, nothing runs.
            return ScanReport((), "punctuation")
        splice = Splice.build(prefix, suggestion, suffix)
        best: tuple[int, Candidate, tree_sitter.Tree] | None = None
        deadline = time.perf_counter() + _CANDIDATE_BUDGET_S
        for candidate in candidates(splice, rules.wrappers, rules.terminator, rules.quotes):
            if best is not None and time.perf_counter() > deadline:
                break  # the least broken tree so far is matched as "partial": never clean by default
            tree = parse(grammar, candidate.text.encode("utf-8"))
            broken = _broken_inserted_rows(tree, candidate, splice)
            if broken == 0:
                return self._report(rules, tree, candidate, splice, candidate.kind)
            if best is None or broken < best[0]:
                best = (broken, candidate, tree)
        assert best is not None  # candidates always yields the document
        return self._report(rules, best[2], best[1], splice, "partial")

    def scan_file(self, language: str, text: str) -> ScanReport:
        """A whole file: every line counts; a file with syntax errors is matched as it is ("partial")."""
        key = language.strip().lower()
        rules = rules_for(_RULE_MODULES[key])
        tree = parse(_grammar(key), text.encode("utf-8"))
        rows = text.count("\n")
        splice = Splice(tuple(text.split("\n")), 0, rows)
        candidate = Candidate("document", text, 0)
        findings = tuple(
            RuleFinding(r.rule_id, r.severity, r.confidence, r.cwe, row + 1, r.message)
            for r, row in _matches(rules, tree, candidate, splice)
        )
        return ScanReport(findings, "partial" if tree.root_node.has_error else "document")

    def _report(
        self,
        rules: LanguageRules,
        tree: tree_sitter.Tree,
        candidate: Candidate,
        splice: Splice,
        scanned_as: str,
    ) -> ScanReport:
        findings = tuple(
            RuleFinding(
                rule.rule_id,
                rule.severity,
                rule.confidence,
                rule.cwe,
                row - splice.first_inserted + 1,
                rule.message,
            )
            for rule, row in _matches(rules, tree, candidate, splice)
        )
        if not findings and scanned_as != "partial" and _only_comments(tree, candidate, splice, rules):
            scanned_as = "comment"
        return ScanReport(findings, scanned_as)


@cache
def rules_for(module_name: str) -> LanguageRules:
    module = importlib.import_module(f"roost.context.languages._{module_name}_rules")
    rules: tuple[Rule, ...] = module.RULES
    by_type: dict[str, list[Rule]] = {}
    for rule in rules:
        for node_type in rule.node_types:
            by_type.setdefault(node_type, []).append(rule)
    return LanguageRules(
        module.SYNTAX,
        rules,
        module.WRAPPERS,
        getattr(module, "TERMINATOR", ""),
        getattr(module, "QUOTES", "\"'`"),
        {k: tuple(v) for k, v in by_type.items()},
    )


@cache
def _grammar(key: str) -> tree_sitter.Language:
    name, path = _GRAMMARS[key]
    language = language_named(name)
    if language is None:
        raise LookupError(f"no language module for {name}")
    return language.ts_language(path)


def _inserted(candidate: Candidate, splice: Splice, start_row: int, end_row: int) -> list[int]:
    """The document rows the suggestion wrote among candidate rows ``start_row..end_row``."""
    rows = []
    for row in range(start_row, end_row + 1):
        doc_row = candidate.document_row(row)
        if doc_row is not None and splice.first_inserted <= doc_row <= splice.last_inserted:
            rows.append(doc_row)
    return rows


def _touches(candidate: Candidate, splice: Splice, node: tree_sitter.Node) -> bool:
    low = candidate.lead + splice.first_inserted - candidate.start
    high = candidate.lead + splice.last_inserted - candidate.start
    return node.start_point.row <= high and node.end_point.row >= low


def _broken_inserted_rows(tree: tree_sitter.Tree, candidate: Candidate, splice: Splice) -> int:
    """How many error or missing nodes touch the inserted lines (0: the suggestion parsed)."""
    if not tree.root_node.has_error:
        return 0
    broken = 0
    stack = [tree.root_node]
    while stack:
        node = stack.pop()
        if not _touches(candidate, splice, node):
            continue
        if node.is_error or node.is_missing:
            broken += 1
            continue
        stack.extend(c for c in node.children if c.has_error or c.is_missing)
    return broken


def _walk(tree: tree_sitter.Tree, candidate: Candidate, splice: Splice) -> Iterator[tree_sitter.Node]:
    stack = [tree.root_node]
    while stack:
        node = stack.pop()
        if not _touches(candidate, splice, node):
            continue
        yield node
        stack.extend(reversed(node.children))


def _matches(
    rules: LanguageRules, tree: tree_sitter.Tree, candidate: Candidate, splice: Splice
) -> Iterator[tuple[Rule, int]]:
    """Each rule hit whose span (site start to evidence end) touches an inserted line, with that line's row."""
    for node in _walk(tree, candidate, splice):
        applicable = rules.by_type.get(node.type)
        if not applicable:
            continue
        site = Site(node, rules.syntax)
        matched_groups: set[str] = set()
        for rule in applicable:
            if rule.group and rule.group in matched_groups:
                continue
            try:
                evidence = rule.check(site)
            except (ValueError, IndexError, UnicodeDecodeError):
                continue  # a rule must never fail a scan; a strange node is simply not this rule's
            if evidence is None:
                continue
            end = max(evidence.end_point.row, node.start_point.row)
            rows = _inserted(candidate, splice, node.start_point.row, end)
            if not rows:
                continue
            if rule.group:
                matched_groups.add(rule.group)
            yield rule, rows[0]


def _only_comments(
    tree: tree_sitter.Tree, candidate: Candidate, splice: Splice, rules: LanguageRules
) -> bool:
    """Whether every node the suggestion wrote is a comment (nothing runs)."""
    saw_comment = False
    for node in _walk(tree, candidate, splice):
        if node.type in rules.syntax.comment_types:
            saw_comment = True
        elif node.named_child_count == 0 and node.is_named and not _inside_comment(node, rules):
            return False
    return saw_comment


def _inside_comment(node: tree_sitter.Node, rules: LanguageRules) -> bool:
    parent = node.parent
    while parent is not None:
        if parent.type in rules.syntax.comment_types:
            return True
        parent = parent.parent
    return False
