"""The security gate: every suggestion is checked here before it leaves the server."""

from __future__ import annotations

import ast
import logging
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path

from roost.engine.gate.bandit_runner import (
    BanditSettings,
    RawIssue,
    WarmBandit,
    WorkspaceConfigError,
    is_excluded,
    load_workspace_settings,
    parse_nosec_comments,
)
from roost.engine.gate.model import Finding, Level, Verdict, VerdictKind
from roost.engine.gate.policy import Policy
from roost.engine.gate.scanners import CodeScanner, ScannerReport
from roost.engine.gate.secrets import find_reproduced_secrets, scan_secrets
from roost.engine.gate.splice import (
    ScanUnit,
    SplicedDocument,
    collect_imports,
    doctest_candidates,
    glued_candidates,
    is_doctest_line,
    lands_in_comment,
    prune_to_lines,
    scan_candidates,
    single_lines,
)

LOG = logging.getLogger(__name__)
PYTHON_LANGUAGE_IDS = frozenset({"python", "py", "python3"})
# Bandit tests whose issue spans a whole definition: only their first line says what is wrong, so an
# insertion anywhere in the body must not be blamed for them.
_DEFINITION_SCOPED_TESTS = frozenset({"B107"})


@dataclass(frozen=True)
class GateOptions:
    """How the gate is set up; the lead maps the user's configuration onto this."""

    policy: Policy = field(default_factory=Policy)
    # Workspace root whose ``pyproject.toml`` [tool.bandit] and ``.bandit`` are honoured (skips, tests and
    # minimum severity/confidence). None: bandit's defaults.
    workspace_root: Path | None = None
    # Honour ``# nosec`` comments the workspace already has on lines the suggestion does not touch. A
    # ``# nosec`` on an inserted line (written by the model) is never honoured.
    honour_workspace_nosec: bool = True
    # Bandit test ids never to run, on top of the workspace's own skips (e.g. Roost's RB1xx plugins).
    skip_tests: frozenset[str] = frozenset()
    # Rules for the languages bandit does not read (JavaScript/TypeScript, Java, Go, Rust); the lsp layer
    # passes context's tree-sitter rule scanner. None: those languages get the secret scan only.
    scanner: CodeScanner | None = None

    def __post_init__(self) -> None:
        if self.workspace_root is not None and not isinstance(self.workspace_root, Path):
            object.__setattr__(self, "workspace_root", Path(self.workspace_root))
        object.__setattr__(self, "skip_tests", frozenset(self.skip_tests))


class Gate:
    """Checks suggestions: bandit in process for Python, the options' rule scanner for JavaScript/TypeScript,
    Java, Go and Rust, the secret scanner for every language.

    ``check`` is thread-safe: the warm bandit test set is shared read-only and each check builds its own
    visitor; the workspace configuration is reloaded (under a lock) only when its files change.
    """

    def __init__(self, options: GateOptions | None = None) -> None:
        self.options = options or GateOptions()
        self._lock = threading.Lock()
        self._settings_stamp: tuple[float, ...] | None = None
        # Set when a changed workspace config could not be read (the previous one stays in force).
        self.config_error: str | None = None
        # A broken config at start-up raises WorkspaceConfigError: there is no previous one to keep.
        self._bandit = self._load_bandit()
        if self.options.scanner is not None:
            self.options.scanner.prepare()

    # -- workspace configuration -------------------------------------------------------------------

    def _config_stamp(self) -> tuple[float, ...]:
        root = self.options.workspace_root
        if root is None:
            return ()
        stamps = []
        for name in ("pyproject.toml", ".bandit"):
            try:
                stamps.append((root / name).stat().st_mtime)
            except OSError:
                stamps.append(-1.0)
        return tuple(stamps)

    def _load_bandit(self) -> WarmBandit:
        self._settings_stamp = self._config_stamp()
        settings = load_workspace_settings(self.options.workspace_root)
        if self.options.skip_tests:
            settings = replace(settings, skips=settings.skips | frozenset(self.options.skip_tests))
        return WarmBandit(settings)

    def _current_bandit(self) -> WarmBandit:
        if self.options.workspace_root is not None and self._config_stamp() != self._settings_stamp:
            with self._lock:
                if self._config_stamp() != self._settings_stamp:
                    try:
                        self._bandit = self._load_bandit()
                        self.config_error = None
                    except WorkspaceConfigError as error:
                        # A config broken mid-session must not stop the checks: keep the last good one.
                        self._settings_stamp = self._config_stamp()
                        self.config_error = str(error)
                        LOG.error("bandit configuration not reloaded, keeping the previous one: %s", error)
        return self._bandit

    @property
    def bandit_settings(self) -> BanditSettings:
        return self._current_bandit().settings

    # -- checks ------------------------------------------------------------------------------------

    def check(
        self,
        language: str,
        prefix: str,
        completion: str,
        suffix: str = "",
        *,
        workspace_secrets: Iterable[str] = (),
        path: str | Path | None = None,
    ) -> Verdict:
        """The verdict for ``completion`` inserted between ``prefix`` and ``suffix``.

        ``workspace_secrets``: secret values known to exist in the workspace (see
        :func:`roost.engine.gate.secrets.collect_workspace_secrets`); a suggestion reproducing one is blocked.
        ``path``: the document's path; in a folder the workspace's bandit config excludes (``exclude_dirs``),
        only the secret scan runs, as bandit itself would leave the file alone.
        """
        started = time.perf_counter()
        findings = list(self._secret_findings(completion, workspace_secrets))
        notes: list[str] = []
        if language.strip().lower() in PYTHON_LANGUAGE_IDS and self._excluded(path):
            scanned_as = "excluded"
            notes.append("the workspace's bandit configuration excludes this path; only the secret scan ran")
        elif language.strip().lower() in PYTHON_LANGUAGE_IDS:
            bandit_findings, scanned_as = self._python_findings(prefix, completion, suffix)
            findings.extend(bandit_findings)
        elif self._scans(language):
            rule_findings, scanned_as = self._rule_findings(language, prefix, completion, suffix)
            findings.extend(rule_findings)
        else:
            scanned_as = "secrets-only"
            notes.append("no rules for this language; it gets the secret scan")
        kind = self.options.policy.decide(findings)
        action = kind
        if (scanned_as == "none" and kind is not VerdictKind.BLOCK) or (
            scanned_as in ("partial", "repaired") and kind is VerdictKind.PASS
        ):
            # Not parsed, not scanned: never "pass". The verdict says so; the policy says what to do.
            kind = VerdictKind.UNSCANNED
            action = self.options.policy.unscanned
            notes.append("the suggestion does not parse, even on its own: it was not (fully) scanned")
        verdict = Verdict(
            kind=kind,
            action=action,
            findings=tuple(sorted(findings, key=lambda f: (f.line, f.test_id))),
            scanned_as=scanned_as,
            ms=(time.perf_counter() - started) * 1000.0,
            notes=tuple(notes),
        )
        _log_verdict(language, verdict)
        return verdict

    def _excluded(self, path: str | Path | None) -> bool:
        settings = self._current_bandit().settings
        if path is None or not settings.exclude:
            return False
        candidate = Path(path)
        root = self.options.workspace_root
        if root is not None and candidate.is_absolute():
            try:
                candidate = candidate.resolve().relative_to(root.resolve())
            except ValueError:
                return False  # outside the workspace: its config does not speak for it
        return is_excluded(settings, candidate.as_posix())

    def check_file(self, language: str, text: str) -> Verdict:
        """A whole file, for ``roost guard FILE``: the file's own ``# nosec`` comments are honoured.

        ``line`` in the findings is the file's line. A Python file that does not parse is unscanned.
        """
        if self._scans(language):
            return self._check_file_with_rules(language, text)
        if language.strip().lower() not in PYTHON_LANGUAGE_IDS:
            return self.check(language, "", text, "")
        started = time.perf_counter()
        findings = list(self._secret_findings(text, ()))
        tree = _parse(text)
        scanned_as = "document"
        if tree is None:
            scanned_as = "none"
        else:
            bandit = self._current_bandit()
            nosec = parse_nosec_comments(text) if self.options.honour_workspace_nosec else {}
            for issue in bandit.scan_tree(tree, text, nosec):
                findings.append(
                    Finding(
                        test_id=issue.test_id,
                        severity=issue.severity,
                        confidence=issue.confidence,
                        cwe=issue.cwe,
                        line=issue.lineno,
                        message=issue.message,
                    )
                )
        kind = action = self.options.policy.decide(findings)
        notes: tuple[str, ...] = ()
        if scanned_as == "none" and kind is not VerdictKind.BLOCK:
            kind, action = VerdictKind.UNSCANNED, self.options.policy.unscanned
            notes = ("the file does not parse: bandit could not scan it",)
        return Verdict(
            kind=kind,
            action=action,
            findings=tuple(sorted(findings, key=lambda f: (f.line, f.test_id))),
            scanned_as=scanned_as,
            ms=(time.perf_counter() - started) * 1000.0,
            notes=notes,
        )

    # -- other languages: the rule scanner -----------------------------------------------------------

    def _scans(self, language: str) -> bool:
        scanner = self.options.scanner
        return (
            scanner is not None
            and language.strip().lower() not in PYTHON_LANGUAGE_IDS
            and (scanner.supports(language))
        )

    def _rule_findings(
        self, language: str, prefix: str, completion: str, suffix: str
    ) -> tuple[list[Finding], str]:
        if not completion.strip():
            return [], "suggestion"
        scanner = self.options.scanner
        assert scanner is not None  # _scans said so
        try:
            report = scanner.scan(language, prefix, completion, suffix)
        except Exception:  # noqa: BLE001 - a rule that fails must not let the suggestion through as clean
            LOG.exception("the %s rule scan failed; the suggestion is unscanned", language)
            return [], "none"
        return _rule_findings(report), report.scanned_as

    def _check_file_with_rules(self, language: str, text: str) -> Verdict:
        """A whole file in a rule-scanned language (``roost guard FILE``): every line counts."""
        started = time.perf_counter()
        findings = list(self._secret_findings(text, ()))
        scanner = self.options.scanner
        assert scanner is not None  # _scans said so
        try:
            report = scanner.scan_file(language, text)
            findings.extend(_rule_findings(report))
            scanned_as = report.scanned_as
        except Exception:  # noqa: BLE001 - as in _rule_findings: a failed scan is unscanned, never clean
            LOG.exception("the %s rule scan failed; the file is unscanned", language)
            scanned_as = "none"
        kind = action = self.options.policy.decide(findings)
        notes: tuple[str, ...] = ()
        if (scanned_as == "none" and kind is not VerdictKind.BLOCK) or (
            scanned_as == "partial" and kind is VerdictKind.PASS
        ):
            kind, action = VerdictKind.UNSCANNED, self.options.policy.unscanned
            notes = ("the file has syntax errors: it was matched only as far as it parses",)
        return Verdict(
            kind=kind,
            action=action,
            findings=tuple(sorted(findings, key=lambda f: (f.line, f.test_id))),
            scanned_as=scanned_as,
            ms=(time.perf_counter() - started) * 1000.0,
            notes=notes,
        )

    def _secret_findings(self, completion: str, workspace_secrets: Iterable[str]) -> Iterable[Finding]:
        for hit in scan_secrets(completion):
            yield Finding(
                test_id=hit.rule_id,
                severity=hit.severity,
                confidence=hit.confidence,
                cwe=798,
                line=hit.line,
                message=hit.message,
                source="secrets",
            )
        for hit in find_reproduced_secrets(completion, workspace_secrets):
            yield Finding(
                test_id=hit.rule_id,
                severity=hit.severity,
                confidence=hit.confidence,
                cwe=200,
                line=hit.line,
                message=hit.message,
                source="secrets",
            )

    def _python_findings(self, prefix: str, completion: str, suffix: str) -> tuple[list[Finding], str]:
        if not completion.strip():
            return [], "suggestion"
        if _only_comment_lines(prefix, completion):
            # Nothing runs, nothing for bandit (the secret scan has looked at the text).
            return [], "comment"
        bandit = self._current_bandit()
        doc = SplicedDocument.build(prefix, completion, suffix)
        if doc.first_inserted == doc.last_inserted and lands_in_comment(doc):
            # One line, all of it on the prefix's comment line: comment text where it lands (inert), and
            # scanned as the code the model meant just below.
            no_findings: list[Finding] = []
            findings, scanned_as = no_findings, "comment"
        else:
            scanned = self._first_scan(bandit, doc, scan_candidates(doc))
            findings, scanned_as = scanned if scanned is not None else self._line_by_line(bandit, doc)
        # Code the document reads as text: glued onto a comment, or a doctest example in a docstring.
        known = {(f.test_id, f.line) for f in findings}
        for candidates in self._code_read_as_text(doc):
            extra = self._first_scan(bandit, doc, candidates)
            if extra is None:
                continue
            extra_findings, extra_kind = extra
            findings.extend(f for f in extra_findings if (f.test_id, f.line) not in known)
            known.update((f.test_id, f.line) for f in extra_findings)
            if scanned_as == "none" and extra_kind == "doctest" and _only_doctest_lines(doc):
                scanned_as = "doctest"  # every inserted line is a doctest example, and it parsed as it is
        return findings, scanned_as

    def _first_scan(
        self, bandit: WarmBandit, doc: SplicedDocument, candidates: Iterable[ScanUnit]
    ) -> tuple[list[Finding], str] | None:
        """Findings in the first candidate that parses, and its kind; None when none parses."""
        for unit in candidates:
            tree = _parse(unit.text)
            if tree is None:
                continue
            try:
                return self._scan_unit(bandit, doc, unit, tree), unit.kind
            except RecursionError:
                # Bandit walks the tree recursively; absurdly deep nesting is reported unscanned, not raised.
                return [], "none"
        return None

    def _line_by_line(self, bandit: WarmBandit, doc: SplicedDocument) -> tuple[list[Finding], str]:
        """Nothing parsed whole: scan each inserted line that parses on its own.

        Findings there still count; if none are found the suggestion was only partly scanned, which is not
        "clean".
        """
        findings: list[Finding] = []
        scanned_lines = total_lines = 0
        imports = collect_imports(doc)
        for _index, unit in single_lines(doc, imports):
            total_lines += 1
            tree = _parse(unit.text)
            if tree is None:
                continue
            try:
                findings.extend(self._scan_unit(bandit, doc, unit, tree))
            except RecursionError:
                continue
            scanned_lines += 1
        if scanned_lines == 0:
            return [], "none"
        return findings, "suggestion-lines" if scanned_lines == total_lines else "partial"

    @staticmethod
    def _code_read_as_text(doc: SplicedDocument) -> list[Iterable[ScanUnit]]:
        sources: list[Iterable[ScanUnit]] = []
        if lands_in_comment(doc):
            sources.append(glued_candidates(doc, collect_imports(doc)))
        if any(is_doctest_line(doc.lines[i]) for i in range(doc.first_inserted, doc.last_inserted + 1)):
            sources.append(doctest_candidates(doc, collect_imports(doc)))
        return sources

    def _scan_unit(
        self, bandit: WarmBandit, doc: SplicedDocument, unit: ScanUnit, tree: ast.Module
    ) -> list[Finding]:
        honoured: set[int] = set()
        if self.options.honour_workspace_nosec:
            honoured = {
                lineno
                for lineno, origin in enumerate(unit.origins, start=1)
                if origin is not None and not doc.is_inserted(origin)
            }
        nosec = parse_nosec_comments(unit.text, honoured)
        inserted = [
            n
            for n, origin in enumerate(unit.origins, start=1)
            if origin is not None and doc.is_inserted(origin)
        ]
        if inserted:
            first, last = min(inserted), max(inserted)
            # Synthetic lines a repair put next to the suggestion (a ``pass`` body, a wrapper) belong to it.
            while first > 1 and unit.origins[first - 2] is None:
                first -= 1
            while last < len(unit.origins) and unit.origins[last] is None:
                last += 1
            prune_to_lines(tree, first, last)
        return [
            _finding(doc, unit, issue)
            for issue in bandit.scan_tree(tree, unit.text, nosec)
            if _counts(doc, unit, issue)
        ]


def _rule_findings(report: ScannerReport) -> list[Finding]:
    return [
        Finding(
            test_id=hit.rule_id,
            severity=Level.parse(hit.severity),
            confidence=Level.parse(hit.confidence),
            cwe=hit.cwe,
            line=hit.line,
            message=hit.message,
            source="rules",
        )
        for hit in report.findings
    ]


def _only_comment_lines(prefix: str, completion: str) -> bool:
    """Whether the completion is whole comment lines of its own.

    Not when it starts on a line of code (``call(x)`` + ``  # nosec``: that line's code is scanned and counts),
    nor when a comment says ``nosec`` (a model that writes one is scanned as usual).
    """
    if prefix[prefix.rfind("\n") + 1 :].strip() or "nosec" in completion:
        return False
    return all(not line.strip() or line.lstrip().startswith("#") for line in completion.splitlines())


def _only_doctest_lines(doc: SplicedDocument) -> bool:
    lines = [doc.lines[i] for i in range(doc.first_inserted, doc.last_inserted + 1)]
    return all(is_doctest_line(line) for line in lines if line.strip())


def _log_verdict(language: str, verdict: Verdict) -> None:
    # Every verdict that stops or flags a suggestion is logged with its findings; clean ones only at debug.
    level = (
        logging.DEBUG
        if verdict.action is VerdictKind.PASS and verdict.kind is VerdictKind.PASS
        else logging.INFO
    )
    if not LOG.isEnabledFor(level):
        return
    findings = "; ".join(
        f"{f.test_id} {f.severity}/{f.confidence} line {f.line}: {f.message}" for f in verdict.findings
    )
    LOG.log(
        level,
        "gate %s (%s, action %s, scanned as %s, %.2f ms)%s",
        verdict.kind,
        language,
        verdict.action,
        verdict.scanned_as,
        verdict.ms,
        f": {findings}" if findings else "",
    )


def _parse(text: str) -> ast.Module | None:
    try:
        return ast.parse(text)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None


def _counts(doc: SplicedDocument, unit: ScanUnit, issue: RawIssue) -> bool:
    """Only findings on inserted lines count against the suggestion."""
    origin = unit.origin(issue.lineno)
    if origin is not None and doc.is_inserted(origin):
        return True
    if issue.test_id in _DEFINITION_SCOPED_TESTS:
        return False
    # A multi-line call or string the suggestion adds to (``subprocess.call(cmd,`` + ``shell=True)``).
    for lineno in issue.linerange:
        origin = unit.origin(lineno)
        if origin is not None and doc.is_inserted(origin):
            return True
    return False


def _inserted_line(doc: SplicedDocument, unit: ScanUnit, issue: RawIssue) -> int:
    origin = unit.origin(issue.lineno)
    if origin is None or not doc.is_inserted(origin):
        inserted = [unit.origin(n) for n in issue.linerange]
        origin = next((o for o in inserted if o is not None and doc.is_inserted(o)), doc.first_inserted)
    return doc.completion_line(origin)


def _finding(doc: SplicedDocument, unit: ScanUnit, issue: RawIssue) -> Finding:
    return Finding(
        test_id=issue.test_id,
        severity=issue.severity,
        confidence=issue.confidence,
        cwe=issue.cwe,
        line=_inserted_line(doc, unit, issue),
        message=issue.message,
    )
