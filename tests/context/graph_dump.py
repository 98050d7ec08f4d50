"""A canonical dump of an index's graph (files, symbols, imports with their resolution, import edges), for
comparing the index a scenario left behind with a fresh index of the same tree.

    .venv/bin/python -m tests.context.graph_dump ROOT        # a fresh, in-memory index of ROOT, as JSON
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
import sys
from pathlib import Path
from typing import Any

from roost.context.codec import decode_facts, decode_resolutions
from roost.context.facts import FileFacts, Span
from roost.context.index import WorkspaceIndex
from roost.context.options import IndexOptions

STORED_FIELDS = ("language", "symbols", "imports")


def _span(span: Span) -> list[int]:
    return [span.start_line, span.start_col, span.end_line, span.end_col]


def _symbols(facts: FileFacts) -> list[tuple[Any, ...]]:
    return sorted(
        (d.qualified_name, d.kind.value, _span(d.span), _span(d.name_span), d.signature or "", d.parent or "")
        for d in facts.definitions
    )


def canonical_graph(index: WorkspaceIndex) -> dict[str, Any]:
    """Everything the graph holds about each file, sorted, as plain JSON-able data."""
    files: dict[str, Any] = {}
    for path in sorted(index.files()):
        facts = index.facts(path)
        symbols = _symbols(facts) if facts else []
        imports = sorted((repr(edge.imp), repr(edge.resolved)) for edge in index.imports(path))
        files[path] = {
            "language": facts.language if facts else None,
            "symbols": [list(symbol) for symbol in symbols],
            "imports": [list(pair) for pair in imports],
            "dependencies": sorted(index.dependencies(path)),
            "dependents": sorted(index.dependents(path)),
        }
    return files


def stored_graph(db_path: Path) -> dict[str, Any]:
    """What an index store holds (rows with facts), in :func:`canonical_graph`'s form for the fields a
    row keeps: language, symbols and imports with their resolution. Read-only; the store may be in use."""
    files: dict[str, Any] = {}
    with contextlib.closing(sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, timeout=10)) as db:
        rows = db.execute("SELECT path, language, facts, resolutions FROM files WHERE facts IS NOT NULL")
        for path, language, blob, resolutions in rows.fetchall():
            facts = decode_facts(blob)
            name = path.decode("utf-8", "surrogateescape") if isinstance(path, bytes) else path
            pairs = zip(facts.imports, decode_resolutions(resolutions or b""), strict=False)
            files[name] = {
                "language": language,
                "symbols": [list(symbol) for symbol in _symbols(facts)],
                "imports": [list(pair) for pair in sorted((repr(imp), repr(res)) for imp, res in pairs)],
            }
    return files


def only_stored_fields(graph: dict[str, Any]) -> dict[str, Any]:
    """``graph`` with the fields :func:`stored_graph` gives, to compare a store with an index."""
    return {path: {field: entry[field] for field in STORED_FIELDS} for path, entry in graph.items()}


def fresh_graph(root: Path) -> dict[str, Any]:
    """:func:`canonical_graph` of a fresh index of ``root`` (no store read or written)."""
    with WorkspaceIndex(root, IndexOptions(persist=False, workers=1)) as index:
        index.index()
        return canonical_graph(index)


def differences(got: dict[str, Any], want: dict[str, Any]) -> list[str]:
    """Human-readable lines: files only in one graph, and files whose entries differ (by field)."""
    lines = [f"extra file {path}" for path in sorted(got.keys() - want.keys())]
    lines += [f"missing file {path}" for path in sorted(want.keys() - got.keys())]
    for path in sorted(got.keys() & want.keys()):
        for field in want[path]:
            if got[path][field] != want[path][field]:
                lines.append(f"{path}: {field} differs: {got[path][field]!r} != {want[path][field]!r}")
    return lines


if __name__ == "__main__":
    json.dump(fresh_graph(Path(sys.argv[1])), sys.stdout, indent=1, sort_keys=True)
    print()
