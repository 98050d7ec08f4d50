"""Retrieval benchmark (CrossCodeEval/RepoBench style) on real projects that are not in this repository.

Cases: call sites whose callee is defined in another file of the same project, the gold definition
labelled with jedi's ``goto(follow_imports=True)``. The cursor sits at the start of the reference (after
``obj.`` for attribute calls) and the rest of that line is cut from the buffer.

Score: a case is a hit when the gold definition's first line lies inside a returned span (and its text is
shown there) within 6,000 characters of context; MRR over the rank of the first such span. Baseline in
the same run: BM25 over 20-line windows (stride 10), query = the 20 lines above the cursor, windows taken
best first until 6,000 characters.

Latency: retrieval alone and retrieval + prompt build (Qwen2.5-Coder repository FIM format, real tokenizer,
2,048-token budget) per case on sympy (~1,500 files), after indexing. The buffer's facts are given, as the
server has them current from its incremental index; the buffer parse is timed separately.

    .venv/bin/python bench/retrieval_bench.py [--cases 150] [--projects email,asyncio,…,graphql]

Every figure is also split by whether the name about to be typed appears earlier in the file ("seen": the
usual case, where the lexical signal helps) or not ("unseen": the model must be shown the receiver's
members or the imported definition without a textual hint), and by whether the cursor follows ``receiver.``
("dot") or not ("bare").

Cases are cached under $ROOST_BENCH_CACHE (default /tmp/roost-bench) since jedi labelling takes minutes.
What the model makes of the retrieved context (exact and identifier match, with vs without it, by budget) is
measured on the same cases by ``bench/crossfile_bench.py``.
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import random
import re
import sys
import sysconfig
import time
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

from roost.context.retrieval import RetrievalRequest, Retriever, parse_facts
from roost.context.retrieval.bm25 import BM25WindowIndex
from roost.context.retrieval.model import ContextItem
from roost.context.retrieval.standalone import ParsedWorkspace

CONTEXT_CHARS = 6000
STDLIB = Path(sysconfig.get_paths()["stdlib"])
SITE_PACKAGES = Path("/root/.pyenv/versions/3.11.7/lib/python3.11/site-packages")
PROJECTS = {
    "email": (STDLIB, "email"),
    "asyncio": (STDLIB, "asyncio"),
    "importlib": (STDLIB, "importlib"),
    "json": (STDLIB, "json"),
    "sympy": (SITE_PACKAGES, "sympy"),
    # Other shapes: class-heavy with a deep package tree, ``self.x.method()`` chains, re-export-heavy
    # ``__init__``s, strategies built through chained calls.
    "docutils": (SITE_PACKAGES, "docutils"),
    "IPython": (SITE_PACKAGES, "IPython"),
    "graphql": (SITE_PACKAGES, "graphql"),
    "hypothesis": (SITE_PACKAGES, "hypothesis"),
}
# Visible part of the current file in a 2,048-token prompt (35 % prefix, 15 % suffix), in lines.
VISIBLE_ABOVE, VISIBLE_BELOW = 60, 25


@dataclass
class Case:
    file: str  # workspace-relative
    line: int  # 0-based
    col: int  # characters
    name: str
    gold_path: str
    gold_line: int  # 0-based first line of the definition
    gold_text: str  # that line, stripped


def project_files(root: Path, package: str) -> list[str]:
    base = root / package
    found = []
    for path in base.rglob("*.py"):
        parts = path.relative_to(root).parts
        if "__pycache__" not in parts and not any(part.startswith(".") for part in parts):
            found.append(path.relative_to(root).as_posix())
    return sorted(found)


def _call_sites(text: str) -> list[tuple[int, int, str]]:
    """(line 0-based, char column, name) of the callee name of every single-line call."""
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError):
        return []
    lines = text.splitlines()
    sites = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        if func.end_lineno != func.lineno:
            continue
        if isinstance(func, ast.Name):
            name, byte_col = func.id, func.col_offset
        elif isinstance(func, ast.Attribute):
            name, byte_col = func.attr, func.end_col_offset - len(func.attr)
        else:
            continue
        line = func.lineno - 1
        raw = lines[line].encode("utf-8")
        col = len(raw[:byte_col].decode("utf-8", errors="ignore"))
        if lines[line][col : col + len(name)] == name:
            sites.append((line, col, name))
    return sites


def label_cases(name: str, count: int, seed: int = 7) -> list[Case]:
    import jedi

    root, package = PROJECTS[name]
    files = project_files(root, package)
    in_project = set(files)
    project = jedi.Project(str(root), added_sys_path=[str(root)])
    rng = random.Random(seed)
    order = files[:]
    rng.shuffle(order)
    cases: list[Case] = []
    for rel in order:
        if len(cases) >= count:
            break
        text = (root / rel).read_text(encoding="utf-8", errors="replace")
        sites = _call_sites(text)
        rng.shuffle(sites)
        script = jedi.Script(code=text, path=str(root / rel), project=project)
        taken = 0
        for line, col, callee in sites[:80]:
            if taken >= 15 or len(cases) >= count:
                break
            try:
                found = script.goto(line + 1, col, follow_imports=True)
            except Exception:
                continue
            for definition in found:
                if definition.module_path is None or definition.line is None:
                    continue
                try:
                    gold = Path(definition.module_path).relative_to(root).as_posix()
                except ValueError:
                    continue
                if gold == rel or gold not in in_project or definition.type not in ("function", "class"):
                    continue
                gold_lines = (root / gold).read_text(encoding="utf-8", errors="replace").splitlines()
                gold_line = definition.line - 1
                # jedi points at the ``def``/``class`` line; decorators above belong to the span too.
                cases.append(Case(rel, line, col, callee, gold, gold_line, gold_lines[gold_line].strip()))
                taken += 1
                break
    return cases


def load_cases(name: str, count: int) -> list[Case]:
    cache_dir = Path(os.environ.get("ROOST_BENCH_CACHE", "/tmp/roost-bench"))
    cache_dir.mkdir(parents=True, exist_ok=True)
    cache = cache_dir / f"retrieval-{name}-{count}.json"
    if cache.exists():
        return [Case(**raw) for raw in json.loads(cache.read_text())]
    started = time.perf_counter()
    cases = label_cases(name, count)
    cache.write_text(json.dumps([asdict(c) for c in cases]))
    print(
        f"  labelled {len(cases)} {name} cases with jedi in {time.perf_counter() - started:.0f} s",
        file=sys.stderr,
    )
    return cases


def cut_buffer(text: str, line: int, col: int) -> str:
    lines = text.split("\n")
    lines[line] = lines[line][:col]
    return "\n".join(lines)


def _rank(spans: list[tuple[str, int, int, str]], case: Case) -> int | None:
    for rank, (path, start, end, text) in enumerate(spans, 1):
        if path == case.gold_path and start <= case.gold_line <= end and case.gold_text in text:
            return rank
    return None


def _summary(ranks: list[int | None]) -> tuple[float, float]:
    if not ranks:
        return 0.0, 0.0
    recall = sum(r is not None for r in ranks) / len(ranks)
    mrr = sum(1.0 / r for r in ranks if r is not None) / len(ranks)
    return recall, mrr


def name_seen_before(text: str, case: Case) -> bool:
    """Whether the callee's name occurs as a whole word in the file before the cursor."""
    lines = text.split("\n")
    before = "\n".join(lines[: case.line]) + "\n" + lines[case.line][: case.col]
    return re.search(rf"(?<![\w]){re.escape(case.name)}(?![\w])", before) is not None


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def run_project(name: str, count: int, timing: bool) -> dict[str, object]:
    root, package = PROJECTS[name]
    return score_cases(name, root, project_files(root, package), load_cases(name, count), timing)


def score_cases(
    name: str, root: Path, files: list[str], cases: Sequence[Case], timing: bool, misses: int = 0
) -> dict[str, object]:
    """Roost's retrieval and the BM25 baseline on ``cases`` over the project ``files`` (relative to ``root``):
    recall/MRR overall and split seen/unseen and dot/bare, latency; ``misses`` missed cases are kept in
    the row's ``_misses`` (cursor line, gold, what was retrieved)."""
    started = time.perf_counter()
    workspace = ParsedWorkspace(root, files=files)
    index_s = time.perf_counter() - started
    retriever = Retriever(workspace, redact=lambda text: text)
    started = time.perf_counter()
    retriever.warm()  # the lexical and class indexes, built once after indexing (as the server does)
    warm_s = time.perf_counter() - started
    bm25 = BM25WindowIndex(20, 10)
    texts: dict[str, str] = {}
    for rel in files:
        texts[rel] = (root / rel).read_text(encoding="utf-8", errors="replace")
        bm25.set_file(rel, texts[rel])

    graph_ranks: list[int | None] = []
    bm25_ranks: list[int | None] = []
    retrieval_ms: list[float] = []
    parse_ms: list[float] = []
    requests: list[RetrievalRequest] = []
    seen: list[bool] = []
    missed: list[str] = []
    for case in cases:
        seen.append(name_seen_before(texts[case.file], case))
        buffer = cut_buffer(texts[case.file], case.line, case.col)
        t0 = time.perf_counter()
        facts = parse_facts(case.file, buffer)
        t1 = time.perf_counter()
        request = RetrievalRequest(case.file, buffer, case.line, case.col, facts=facts)
        visible = (max(0, case.line - VISIBLE_ABOVE), case.line + VISIBLE_BELOW)
        result = retriever.retrieve(request, len, CONTEXT_CHARS, visible_lines=visible)
        t2 = time.perf_counter()
        parse_ms.append((t1 - t0) * 1000)
        retrieval_ms.append((t2 - t1) * 1000)
        requests.append(request)
        graph_ranks.append(_rank([(i.path, i.start_line, i.end_line, i.text) for i in result.items], case))
        if graph_ranks[-1] is None and len(missed) < misses:
            missed.append(_miss_report(case, texts[case.file], result.items))

        buffer_lines = buffer.split("\n")
        query = "\n".join(buffer_lines[max(0, case.line - 20) : case.line + 1])
        spans: list[tuple[str, int, int, str]] = []
        used = 0
        for window, _ in bm25.search(query, limit=60, exclude={case.file}):
            lines = texts[window.path].split("\n")
            text = "\n".join(lines[window.start_line : window.end_line + 1])
            if used + len(text) > CONTEXT_CHARS:
                continue
            used += len(text)
            spans.append((window.path, window.start_line, window.end_line, text))
        bm25_ranks.append(_rank(spans, case))

    recall, mrr = _summary(graph_ranks)
    bm25_recall, bm25_mrr = _summary(bm25_ranks)
    split: dict[str, object] = {}
    after_dot = [texts[case.file].split("\n")[case.line][: case.col].rstrip().endswith(".") for case in cases]
    for label, flags, wanted in (
        ("seen", seen, True),
        ("unseen", seen, False),
        ("dot", after_dot, True),
        ("bare", after_dot, False),
    ):
        picked = [index for index, flag in enumerate(flags) if flag == wanted]
        split[f"{label}_cases"] = len(picked)
        split[f"{label}_recall"], split[f"{label}_mrr"] = _summary([graph_ranks[i] for i in picked])
        split[f"{label}_bm25_recall"], split[f"{label}_bm25_mrr"] = _summary([bm25_ranks[i] for i in picked])
    row: dict[str, object] = {
        "project": name,
        "files": len(files),
        "cases": len(cases),
        "recall": recall,
        "mrr": mrr,
        "bm25_recall": bm25_recall,
        "bm25_mrr": bm25_mrr,
        **split,
        "index_s": index_s,
        "warm_s": warm_s,
        "retrieval_p50_ms": _percentile(retrieval_ms, 0.5) if retrieval_ms else 0.0,
        "retrieval_p99_ms": _percentile(retrieval_ms, 0.99) if retrieval_ms else 0.0,
        "buffer_parse_p50_ms": _percentile(parse_ms, 0.5) if parse_ms else 0.0,
        "buffer_parse_p99_ms": _percentile(parse_ms, 0.99) if parse_ms else 0.0,
    }
    if timing:
        row.update(prompt_timing(retriever, requests))
    row["_state"] = (retriever, cases)
    row["_misses"] = missed
    row["_ranks"] = graph_ranks
    return row


def _miss_report(case: Case, text: str, items: Sequence[ContextItem]) -> str:
    cursor_line = text.split("\n")[case.line]
    shown = "\n".join(
        f"      {item.kind} {item.path}:{item.start_line + 1}-{item.end_line + 1} {item.text.splitlines()[0][:70]!r}"
        for item in items
        if item.text
    )
    return (
        f"  {case.file}:{case.line + 1}  {cursor_line[: case.col].strip()[-70:]}▮{case.name}\n"
        f"    gold {case.gold_path}:{case.gold_line + 1}  {case.gold_text[:90]}\n{shown}"
    )


def prompt_timing(retriever: Retriever, requests: list[RetrievalRequest]) -> dict[str, float]:
    """Retrieval + prompt build with the default model's tokenizer and format, 2,048-token budget."""
    from roost.engine.models.default import ensure_default_model
    from roost.engine.prompts import (
        BudgetSplit,
        ContextSnippet,
        PackOptions,
        PromptInput,
        TransformersTokenCounter,
        detect_family_from_dir,
        make_format,
        pack,
    )

    model_dir = ensure_default_model()
    counter = TransformersTokenCounter.from_pretrained(model_dir)
    prompt_format = make_format(detect_family_from_dir(model_dir), hf_tokenizer=counter.tokenizer)
    budget = 2048
    budgets = BudgetSplit().token_budgets(budget)  # the server's split (35/15/50)
    totals: list[float] = []
    retrieval_only: list[float] = []
    over_budget = 0
    for request in requests * 2:  # the second pass is the steady state (warm caches, like a server)
        lines = request.text.split("\n")
        offset = sum(len(text) + 1 for text in lines[: request.line]) + request.col
        started = time.perf_counter()
        result = retriever.retrieve(
            request,
            counter.count,
            budgets.context,
            prefix_budget=budgets.prefix,
            suffix_budget=budgets.suffix,
        )
        retrieval_only.append((time.perf_counter() - started) * 1000)
        snippets = tuple(ContextSnippet(i.path, i.text, i.score, str(i.kind)) for i in result.items)
        prompt_input = PromptInput(
            request.path, "python", request.text[:offset], request.text[offset:], snippets
        )
        packed = pack(prompt_input, prompt_format, counter, PackOptions(budget_tokens=budget))
        totals.append((time.perf_counter() - started) * 1000)
        over_budget += packed.tokens > budget
    steady = totals[len(requests) :]
    steady_retrieval = retrieval_only[len(requests) :]
    return {
        "tok_retrieval_p50_ms": _percentile(steady_retrieval, 0.5),
        "tok_retrieval_p99_ms": _percentile(steady_retrieval, 0.99),
        "prompt_p50_ms": _percentile(steady, 0.5),
        "prompt_p99_ms": _percentile(steady, 0.99),
        "prompts_over_budget": float(over_budget),
    }


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--cases", type=int, default=150)
    parser.add_argument("--projects", default=",".join(PROJECTS))
    parser.add_argument("--timing-project", default="sympy", help="project for the prompt-build latency")
    args = parser.parse_args()
    rows = []
    for name in args.projects.split(","):
        print(f"{name} …", file=sys.stderr)
        row = run_project(name, args.cases, timing=name == args.timing_project)
        row.pop("_state")
        row.pop("_misses")
        row.pop("_ranks")
        rows.append(row)
    print_report(rows)
    return 0


def report_by_site(
    projects: Iterable[tuple[str, Path, list[str], Sequence[Case]]], sites: Sequence[str], misses: int = 0
) -> None:
    """Score each project (name, root, its files, its cases), print the missed cases asked for, the report,
    and recall / MRR split by the cases' ``site`` (the JS/TS and Go benches)."""
    rows = []
    by_site = []
    for name, root, files, cases in projects:
        row = score_cases(name, root, files, cases, timing=False, misses=misses)
        row.pop("_state")
        ranks = row.pop("_ranks")
        assert isinstance(ranks, list)
        parts = []
        for site in sites:
            picked = [
                rank for rank, case in zip(ranks, cases, strict=True) if getattr(case, "site", None) == site
            ]
            recall, mrr = _summary(picked)
            parts.append(f"{site} {len(picked)}: {recall:.1%} / {mrr:.3f}")
        by_site.append(f"{name:10} " + " | ".join(parts))
        for miss in row.pop("_misses"):  # type: ignore[attr-defined]
            print(miss)
        rows.append(row)
    print_report(rows)
    print("\nSplit by site (cases: recall / MRR)")
    print("\n".join(by_site))


def print_report(rows: list[dict[str, object]]) -> None:
    print(f"\nRetrieval benchmark: gold definition inside {CONTEXT_CHARS:,} characters of context")
    print(
        f"{'project':10} {'files':>5} {'cases':>5} {'recall':>7} {'MRR':>6} {'BM25 rec':>8} {'BM25 MRR':>8} {'ratio':>6}"
    )
    for row in rows:
        ratio = row["recall"] / row["bm25_recall"] if row["bm25_recall"] else float("inf")
        print(
            f"{row['project']:10} {row['files']:>5} {row['cases']:>5} {row['recall']:>7.1%} {row['mrr']:>6.3f} "
            f"{row['bm25_recall']:>8.1%} {row['bm25_mrr']:>8.3f} {ratio:>5.1f}x"
        )
    print("\nSplit by whether the name about to be typed appears earlier in the file (seen | unseen)")
    print(
        f"{'project':10} {'seen':>5} {'recall':>7} {'MRR':>6} {'BM25':>6} | {'unseen':>6} {'recall':>7} "
        f"{'MRR':>6} {'BM25':>6}"
    )
    for row in rows:
        print(
            f"{row['project']:10} {row['seen_cases']:>5} {row['seen_recall']:>7.1%} {row['seen_mrr']:>6.3f} "
            f"{row['seen_bm25_recall']:>6.1%} | {row['unseen_cases']:>6} {row['unseen_recall']:>7.1%} "
            f"{row['unseen_mrr']:>6.3f} {row['unseen_bm25_recall']:>6.1%}"
        )
    print("\nSplit by where the cursor is: right after `receiver.` (dot) | elsewhere (bare)")
    print(
        f"{'project':10} {'dot':>5} {'recall':>7} {'MRR':>6} {'BM25':>6} | {'bare':>6} {'recall':>7} {'MRR':>6} {'BM25':>6}"
    )
    for row in rows:
        print(
            f"{row['project']:10} {row['dot_cases']:>5} {row['dot_recall']:>7.1%} {row['dot_mrr']:>6.3f} "
            f"{row['dot_bm25_recall']:>6.1%} | {row['bare_cases']:>6} {row['bare_recall']:>7.1%} "
            f"{row['bare_mrr']:>6.3f} {row['bare_bm25_recall']:>6.1%}"
        )
    print(
        "\nLatency (ms): retrieval with buffer facts given | buffer parse+extract | retrieval+prompt build (Qwen, 2048 tok)"
    )
    for row in rows:
        prompt = ""
        if "prompt_p99_ms" in row:
            prompt = (
                f" | p50 {row['prompt_p50_ms']:.1f} p99 {row['prompt_p99_ms']:.1f}"
                f" (of which retrieval counting real tokens: p50 {row['tok_retrieval_p50_ms']:.1f}"
                f" p99 {row['tok_retrieval_p99_ms']:.1f}; over budget: {int(row['prompts_over_budget'])})"
            )
        print(
            f"{row['project']:10} index {row['index_s']:.1f} s + {row['warm_s']:.1f} s | p50 {row['retrieval_p50_ms']:.1f} "
            f"p99 {row['retrieval_p99_ms']:.1f} | p50 {row['buffer_parse_p50_ms']:.1f} "
            f"p99 {row['buffer_parse_p99_ms']:.1f}{prompt}"
        )


if __name__ == "__main__":
    sys.exit(main())
