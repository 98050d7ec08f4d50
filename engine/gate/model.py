"""Plain data the gate hands back: findings and verdicts."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class Level(StrEnum):
    """Bandit's three-step scale, used for both severity and confidence."""

    UNDEFINED = "UNDEFINED"
    LOW = "LOW"
    MEDIUM = "MEDIUM"
    HIGH = "HIGH"

    @property
    def rank(self) -> int:
        return _RANKS[self]

    @classmethod
    def parse(cls, value: str) -> Level:
        try:
            return cls(value.strip().upper())
        except ValueError:
            raise ValueError(f"unknown level {value!r}; expected LOW, MEDIUM or HIGH") from None


_RANKS = {Level.UNDEFINED: 0, Level.LOW: 1, Level.MEDIUM: 2, Level.HIGH: 3}


class VerdictKind(StrEnum):
    BLOCK = "block"
    WARN = "warn"
    PASS = "pass"
    # Nothing could be parsed, so nothing was checked: never to be read as "clean".
    UNSCANNED = "unscanned"


@dataclass(frozen=True)
class Finding:
    """One weakness in a suggestion. ``line`` is 1-based within the completion text."""

    test_id: str
    severity: Level
    confidence: Level
    cwe: int | None
    line: int
    message: str
    # "bandit" (bandit or a Roost bandit plugin), "rules" (the tree-sitter rules of the other languages) or
    # "secrets" (the secret scanner).
    source: str = "bandit"

    def describe(self, *, severity: bool = False, line: bool = False) -> str:
        """The finding in one line, the same wherever it is shown (code action titles, edit messages,
        prompts, completion details): "B602: subprocess call with shell=True", with ``severity`` "B602
        (high severity): ...", with ``line`` "... (line 3)"."""
        head = f"{self.test_id} ({self.severity} severity)" if severity else self.test_id
        return f"{head}: {self.message}" + (f" (line {self.line})" if line else "")

    def to_json(self) -> dict[str, object]:
        return {
            "test_id": self.test_id,
            "severity": str(self.severity),
            "confidence": str(self.confidence),
            "cwe": self.cwe,
            "line": self.line,
            "message": self.message,
        }


@dataclass(frozen=True)
class Verdict:
    """The gate's answer for one suggestion."""

    kind: VerdictKind
    findings: tuple[Finding, ...] = ()
    # What the caller should do: equal to ``kind`` except for unscanned code, where the policy's
    # ``unscanned`` setting decides (default: warn).
    action: VerdictKind | None = None
    # How the Python text was scanned: "document", "unit", "repaired-unit", "window", "repaired-window",
    # "suggestion", "suggestion-lines", "doctest", "comment" (nothing to run); not fully: "repaired",
    # "partial", "none" (unscanned); "excluded" or "secrets-only" (the secret scan only). The rule scanner of the
    # other languages names its own: "document", "repaired-document", "window", "suggestion",
    # "wrapped-suggestion", "comment", "partial".
    scanned_as: str = "document"
    ms: float = 0.0
    notes: tuple[str, ...] = field(default=())

    def __post_init__(self) -> None:
        if self.action is None:
            object.__setattr__(self, "action", self.kind)

    @property
    def blocked(self) -> bool:
        return self.action is VerdictKind.BLOCK

    @property
    def flagged(self) -> bool:
        """Blocked or warned about: the suggestion must not be shown as clean."""
        return self.action in (VerdictKind.BLOCK, VerdictKind.WARN)

    def summary(self, limit: int = 3) -> str:
        """One line for a code action title or a fix-up reply: "warn: B307 eval (line 2); RB101 ... (+1 more)"."""
        if not self.findings:
            return str(self.kind)
        shown = [f"{f.test_id} {f.message.rstrip('.')} (line {f.line})" for f in self.findings[:limit]]
        more = len(self.findings) - limit
        return f"{self.kind}: " + "; ".join(shown) + (f" (+{more} more)" if more > 0 else "")

    def to_json(self) -> dict[str, object]:
        return {
            "verdict": str(self.kind),
            "findings": [finding.to_json() for finding in self.findings],
            "ms": round(self.ms, 3),
        }
