"""What the gate does with findings: block, warn or pass."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from roost.engine.gate.model import Finding, Level, VerdictKind


@dataclass(frozen=True)
class Policy:
    """Thresholds turning findings into a verdict.

    Defaults: block HIGH severity at MEDIUM confidence or more, and any secret; warn on MEDIUM severity (or a
    HIGH one bandit is not sure of); pass LOW. Python that could not be parsed at all follows ``unscanned``.
    """

    block_severity: Level = Level.HIGH
    block_confidence: Level = Level.MEDIUM
    warn_severity: Level = Level.MEDIUM
    warn_confidence: Level = Level.LOW
    block_secrets: bool = True
    # What to do with Python nothing of which parses: "warn" (default), "block", or "pass" for users who
    # choose so. Whatever the action, the verdict itself stays "unscanned": it is never reported as clean.
    unscanned: VerdictKind = VerdictKind.WARN

    def __post_init__(self) -> None:
        if self.unscanned is VerdictKind.UNSCANNED:
            raise ValueError("the unscanned policy is an action: choose warn, block or pass")

    def classify(self, finding: Finding) -> VerdictKind:
        if finding.source == "secrets":
            return VerdictKind.BLOCK if self.block_secrets else VerdictKind.WARN
        if finding.severity.rank >= self.block_severity.rank and (
            finding.confidence.rank >= self.block_confidence.rank
        ):
            return VerdictKind.BLOCK
        if finding.severity.rank >= self.warn_severity.rank and (
            finding.confidence.rank >= self.warn_confidence.rank
        ):
            return VerdictKind.WARN
        return VerdictKind.PASS

    def decide(self, findings: Iterable[Finding]) -> VerdictKind:
        worst = VerdictKind.PASS
        for finding in findings:
            kind = self.classify(finding)
            if kind is VerdictKind.BLOCK:
                return kind
            if kind is VerdictKind.WARN:
                worst = kind
        return worst
