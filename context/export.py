"""The module dependency graph as text: DOT (Graphviz), Mermaid, JSON. Used by ``roost graph``."""

from __future__ import annotations

import json
from dataclasses import dataclass

from roost.context.graph import CodeGraph


@dataclass(frozen=True)
class ModuleGraph:
    nodes: list[str]  # workspace-relative paths, sorted
    edges: list[tuple[str, str]]  # (importer, imported), sorted
    distances: dict[str, int]  # from the focus file; empty without a focus
    symbols: dict[str, int]
    languages: dict[str, str]
    focus: str | None = None


def module_graph(graph: CodeGraph, focus: str | None = None, depth: int = 1) -> ModuleGraph:
    """The whole graph, or the files within ``depth`` hops of ``focus`` (either direction)."""
    if focus is not None:
        if focus not in graph:
            raise KeyError(focus)
        distances = graph.neighbourhood(focus, depth=depth, direction="both")
        nodes = sorted(distances)
    else:
        distances = {}
        nodes = graph.files()
    keep = set(nodes)
    edges = [(a, b) for a, b in graph.edges() if a in keep and b in keep]
    return ModuleGraph(
        nodes=nodes,
        edges=edges,
        distances=distances,
        symbols={path: len(graph.symbols(path)) for path in nodes},
        languages={path: graph.language_of(path) or "" for path in nodes},
        focus=focus,
    )


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def to_dot(model: ModuleGraph) -> str:
    lines = ["digraph roost {", "  rankdir=LR;", '  node [shape=box, fontname="Helvetica", fontsize=10];']
    for path in model.nodes:
        attributes = [f"label={_quote(path)}"]
        if path == model.focus:
            attributes.append("style=filled, fillcolor=lightyellow")
        lines.append(f"  {_quote(path)} [{', '.join(attributes)}];")
    for importer, imported in model.edges:
        lines.append(f"  {_quote(importer)} -> {_quote(imported)};")
    lines.append("}")
    return "\n".join(lines) + "\n"


def to_mermaid(model: ModuleGraph) -> str:
    ids = {path: f"n{index}" for index, path in enumerate(model.nodes)}
    lines = ["graph LR"]
    for path in model.nodes:
        label = path.replace('"', "#quot;")
        lines.append(f'  {ids[path]}["{label}"]')
    for importer, imported in model.edges:
        lines.append(f"  {ids[importer]} --> {ids[imported]}")
    if model.focus is not None:
        lines.append(f"  style {ids[model.focus]} fill:#ffd,stroke:#333")
    return "\n".join(lines) + "\n"


def to_json(model: ModuleGraph) -> str:
    payload = {
        "focus": model.focus,
        "nodes": [
            {
                "path": path,
                "language": model.languages.get(path, ""),
                "symbols": model.symbols.get(path, 0),
                **({"distance": model.distances[path]} if path in model.distances else {}),
            }
            for path in model.nodes
        ],
        "edges": [{"from": importer, "to": imported} for importer, imported in model.edges],
    }
    return json.dumps(payload, indent=2) + "\n"


FORMATS = {"dot": to_dot, "mermaid": to_mermaid, "json": to_json}
