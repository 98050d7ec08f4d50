"""Why the gold definition is or is not in the packed prompt (``crossfile_bench.py --gold-in-prompt-only``).

No model: for each cursor the product's "with" prompt is built (``build_prompt``, the project's retriever,
the bench's budget) and the gold definition is looked for, by ``retrieval_bench``'s hit rule (the gold's
first line inside a snippet and shown in it), in

- the prompt's context items: **in prompt**;
- the candidates retrieval packed out (``RetrievalResult.dropped``) or the prompt packer dropped: classed by
  why — **ranked below what fit** (the budget went to higher-scored snippets; the gold's snippet alone would
  have fit), **too long** (its snippet costs more than the whole context budget), **dropped by the prompt
  packer** (retrieval chose it, the rendered prompt had no room), **duplicate/visible** (packed out as a
  repeat of something chosen or of what the prefix/suffix shows);
- in a candidate whose shorter form was packed instead (``Candidate.shorter``: a member listing cut to its
  best rows) but not in that form: **cut from a shortened listing** (the gold ranks below the rows that fit);
- nowhere: **not retrieved**; split off from it, **label questionable** where the prompt shows a
  definition of the same name at another place (an overload, a re-export, a same-named class: the model is
  shown the name, the label wants another copy of it).

The numbers depend on the tokenizer, so the prompts are counted with the model's own tokenizer (loaded
alone, no weights).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

IN_PROMPT = "in prompt"
RANKED_BELOW = "ranked below what fit"
TOO_LONG = "too long for the context budget"
PACKER = "dropped by the prompt packer"
REPEAT = "duplicate/visible"
CUT = "cut from a shortened listing"
NOT_RETRIEVED = "not retrieved"
QUESTIONABLE = "label questionable"
CLASSES = (IN_PROMPT, RANKED_BELOW, TOO_LONG, PACKER, REPEAT, CUT, NOT_RETRIEVED, QUESTIONABLE)


@dataclass
class Placement:
    """Where one cursor's gold definition ended up, and the figures behind the class."""

    project: str
    file: str
    line: int  # 1-based, for reading
    name: str
    seen: bool
    line_before: str
    placement: str  # one of CLASSES
    context_budget: int  # tokens retrieval packed under
    context_tokens: int  # what the prompt's snippets cost (retrieval's count)
    gold_kind: str = ""  # the best-scored candidate showing the gold: its kind,
    gold_tokens: int = 0  # its cost (0: not counted),
    gold_rank: int = 0  # its place among all candidates by score (1 = best),
    gold_score: float = 0.0
    last_in_score: float = 0.0  # the lowest score of a snippet in the prompt
    reason: str = ""  # the packer's reason for leaving it out
    name_in_context: bool = False  # the gold name appears in a context snippet of the prompt
    items: int = 0
    candidates: int = 0


def _shows(path: str, start: int, end: int, text: str, case: Any) -> bool:
    return path == case.gold_path and start <= case.gold_line <= end and case.gold_text in text


def _defines(text: str, name: str) -> bool:
    return re.search(rf"(?m)^\s*(?:async\s+)?(?:def|class)\s+{re.escape(name)}\b", text) is not None


def classify(
    built: Any,
    case: Any,
    count: Any,
    *,
    project: str,
    seen: bool,
    line_before: str,
    candidates: Sequence[Any] = (),
) -> Placement:
    """The class of ``case``'s gold in ``built`` (a ``BuiltPrompt`` made with a retriever); ``count`` is the
    token counter retrieval used (``text -> tokens``), to cost the gold's snippet; ``candidates`` are
    retrieval's candidates for the same cursor, whole (to tell a gold cut from a shortened listing)."""
    from roost.context.retrieval.model import Candidate

    items = list(built.items)
    dropped = list(built.dropped)
    placement = Placement(
        project,
        case.file,
        case.line + 1,
        case.name,
        seen,
        line_before,
        NOT_RETRIEVED,
        built.budgets.context,
        sum(item.tokens for item in items),
        items=len(items),
        candidates=len(items) + len(dropped),
    )
    word = re.compile(rf"(?<!\w){re.escape(case.name)}(?!\w)")
    placement.name_in_context = any(word.search(item.text) for item in items)
    placement.last_in_score = min((item.score for item in items), default=0.0)
    everything = [(item.score, item, "") for item in items] + [(c.score, c, why) for c, why in dropped]
    everything.sort(key=lambda entry: -entry[0])
    for rank, (score, entry, why) in enumerate(everything, 1):
        if not _shows(entry.path, entry.start_line, entry.end_line, entry.text, case):
            continue
        if placement.gold_rank == 0:
            placement.gold_rank, placement.gold_score, placement.gold_kind = rank, score, str(entry.kind)
        if not why:
            placement.placement, placement.reason = IN_PROMPT, ""
            placement.gold_tokens = entry.tokens
            return placement
    best = next(
        ((entry, why) for _, entry, why in everything if why and _shows(
            entry.path, entry.start_line, entry.end_line, entry.text, case
        )),
        None,
    )  # fmt: skip
    if best is None:
        whole = next((c for c in candidates if _shows(c.path, c.start_line, c.end_line, c.text, case)), None)
        if whole is not None and getattr(whole, "shorter", None) is not None:
            placement.placement, placement.gold_kind = CUT, str(whole.kind)
            placement.gold_tokens = count(whole.text)
        elif any(_defines(item.text, case.name) for item in items):
            placement.placement = QUESTIONABLE
        return placement
    entry, why = best
    placement.reason = why
    tokens = entry.tokens if not isinstance(entry, Candidate) else count(entry.text)
    placement.gold_tokens = tokens
    if why.startswith(("duplicate", "overlaps", "already in")):
        placement.placement = REPEAT
    elif not isinstance(entry, Candidate):
        placement.placement = PACKER
    elif tokens > built.budgets.context:
        placement.placement = TOO_LONG
    else:
        placement.placement = RANKED_BELOW
    return placement


def placement_counts(placements: Iterable[Placement]) -> dict[str, Counter[str]]:
    """group (unseen, seen, all) → class → cursors."""
    counts: dict[str, Counter[str]] = {"unseen": Counter(), "seen": Counter(), "all": Counter()}
    for placement in placements:
        for group in ("seen" if placement.seen else "unseen", "all"):
            counts[group][placement.placement] += 1
    return counts


def format_placements(placements: Sequence[Placement]) -> str:
    counts = placement_counts(placements)
    out = ["Gold definition in the packed 'with' prompt, by why not (no model)"]
    out.append(f"{'class':34}" + "".join(f"{group:>8}" for group in counts))
    for name in CLASSES:
        out.append(f"{name:34}" + "".join(f"{counts[group][name]:>8}" for group in counts))
    out.append(f"{'cursors':34}" + "".join(f"{sum(counts[group].values()):>8}" for group in counts))
    named = sum(p.name_in_context for p in placements if not p.seen)
    unseen = sum(not p.seen for p in placements)
    out.append(f"gold name in a context snippet, unseen: {named}/{unseen}")
    out.append("\nNot in prompt (unseen first): class, cursor, gold snippet's kind, rank, tokens / budget")
    for p in sorted(placements, key=lambda p: (p.seen, p.placement)):
        if p.placement == IN_PROMPT:
            continue
        out.append(
            f"  {'seen  ' if p.seen else 'unseen'} {p.placement[:22]:22} {p.project}:{p.file}:{p.line} "
            f"{p.line_before.strip()[-40:]}▮{p.name}  [{p.gold_kind or '-'} #{p.gold_rank} "
            f"{p.gold_tokens}/{p.context_budget} tok, {p.reason[:40]}]"
        )
    return "\n".join(out)
