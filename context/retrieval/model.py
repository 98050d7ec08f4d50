"""What retrieval hands back: ranked snippets of other code, each with a score and a reason.

Lines are 0-based and inclusive at both ends (``start_line``..``end_line``), matching
:mod:`roost.context.facts`; the CLI converts to 1-based at its edge.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class CandidateKind(StrEnum):
    DEFINITION = "definition"  # a symbol used near the cursor, resolved across files
    IMPORT = "import"  # what the file's imports point at, ranked by use near the cursor
    OUTLINE = "outline"  # the enclosing scope: class header, sibling signatures, module names
    TYPE = "type"  # the class behind a variable/parameter (constructor call, annotation)
    RECENT = "recent"  # a region the user edited recently in another file
    OPEN_DOCUMENT = "open_document"  # a region of a document open in the editor
    LEXICAL = "lexical"  # BM25 over code windows: the fallback
    MEMBERS = "members"  # what the receiver at the cursor offers: one declaration line per member


@dataclass(slots=True)
class Candidate:
    path: str
    start_line: int
    end_line: int  # inclusive
    text: str
    kind: CandidateKind
    score: float
    reason: str
    # The qualified name the snippet defines, when it is one definition (for dedup and listings).
    symbol: str | None = None

    @property
    def line_count(self) -> int:
        return self.end_line - self.start_line + 1


@dataclass(frozen=True, slots=True)
class ContextItem:
    """A chosen snippet, already redacted, with its token cost under the caller's tokenizer."""

    path: str
    start_line: int
    end_line: int  # inclusive
    text: str
    kind: CandidateKind
    score: float
    reason: str
    tokens: int
    symbol: str | None = None


@dataclass(slots=True)
class RetrievalResult:
    items: list[ContextItem] = field(default_factory=list)  # best first
    tokens: int = 0  # sum of item tokens (what the context share of the budget spent)
    budget: int = 0  # the context share it was packed under
    # Candidates considered but not packed (over budget, duplicates, already visible): for listings.
    dropped: list[tuple[Candidate, str]] = field(default_factory=list)
    used_fallback: bool = False  # BM25 was consulted because the graph yielded little
    # At ``receiver.▮``: every name the receiver offers, when the index knows them all (members.offered_names).
    member_names: tuple[str, ...] = ()
    # For each of them, how well it fits the line (choice_priors.line_fits).
    member_fits: tuple[float, ...] = ()
