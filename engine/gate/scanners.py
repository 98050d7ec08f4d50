"""The interface through which the gate scans languages bandit does not read.

``engine`` never imports ``roost.context`` (where tree-sitter and the per-language rules live), so the gate
receives a scanner that fits this protocol; ``roost.lsp`` builds the gate with context's ``RuleScanner``.
Without one, those languages get the secret scan only.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol


class ScannerFinding(Protocol):
    """One rule hit; ``line`` is 1-based in the suggestion (in the file, for ``scan_file``)."""

    @property
    def rule_id(self) -> str: ...
    @property
    def severity(self) -> str: ...  # LOW, MEDIUM or HIGH
    @property
    def confidence(self) -> str: ...
    @property
    def cwe(self) -> int | None: ...
    @property
    def line(self) -> int: ...
    @property
    def message(self) -> str: ...


class ScannerReport(Protocol):
    @property
    def findings(self) -> Sequence[ScannerFinding]: ...
    @property
    def scanned_as(self) -> str: ...


class CodeScanner(Protocol):
    """Scans a suggestion spliced between ``prefix`` and ``suffix`` in one language.

    Findings count only on the suggestion's lines. ``scanned_as`` names what was parsed ("document", a
    repaired or smaller unit, "suggestion", "comment"), or "partial" when no candidate parsed cleanly and the
    least broken tree was matched as it is.
    """

    def prepare(self) -> None:
        """Load what the first scan would (grammars, rules), so that no suggestion waits for it."""
        ...

    def supports(self, language: str) -> bool: ...

    def scan(self, language: str, prefix: str, suggestion: str, suffix: str) -> ScannerReport: ...

    def scan_file(self, language: str, text: str) -> ScannerReport: ...
