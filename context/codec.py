"""Compact, fast serialisation of :class:`FileFacts` for the worker→parent hop and the SQLite store.

Facts become nested tuples of str/int/None and go through :mod:`marshal`: an order of magnitude faster
than pickling slotted dataclasses, which matters for a warm start that loads every file. ``marshal``'s
format is tied to the interpreter version, so the store's schema key includes it.
"""

from __future__ import annotations

import marshal
from collections.abc import Sequence

from roost.context.facts import (
    Definition,
    DefinitionRecord,
    Export,
    FileFacts,
    Import,
    ImportedName,
    Reference,
    ResolvedImport,
    Span,
    SpanTuple,
    SymbolKind,
)

CODEC_VERSION = 1


def _span(span: Span) -> SpanTuple:
    return (span.start_line, span.start_col, span.end_line, span.end_col)


def encode_facts(facts: FileFacts) -> bytes:
    return encode_records(
        facts.path,
        facts.language,
        facts.package,
        [
            (
                d.name,
                d.qualified_name,
                d.kind.value,
                _span(d.span),
                _span(d.name_span),
                d.signature,
                d.doc,
                d.parent,
            )
            for d in facts.definitions
        ],
        facts.imports,
        facts.exports,
        facts.references,
    )


def encode_records(
    path: str,
    language: str,
    package: str | None,
    definition_records: list[DefinitionRecord],
    imports: list[Import],
    exports: list[Export],
    references: Sequence[Reference] = (),
) -> bytes:
    """Encode with definitions already in record form: (name, qualified name, kind value, span tuple,
    name span tuple, signature, doc, parent), spans as (start_line, start_col, end_line, end_col)."""
    return marshal.dumps(
        (
            path,
            language,
            package,
            tuple(definition_records),
            tuple(
                (i.module, _span(i.span), tuple((n.name, n.alias) for n in i.names), i.alias, i.is_star)
                for i in imports
            ),
            tuple((e.name, e.from_module, e.original_name) for e in exports),
            tuple((r.name, _span(r.span), r.receiver) for r in references),
        )
    )


def decode_facts(blob: bytes) -> FileFacts:
    """Inverse of :func:`encode_facts`. Raises ``ValueError`` on a damaged blob."""
    try:
        path, language, package, defs, imports, exports, refs = marshal.loads(blob)
        kinds = {kind.value: kind for kind in SymbolKind}
        return FileFacts(
            path=path,
            language=language,
            package=package,
            definitions=[
                Definition(name, qname, kinds[kind], Span(*span), Span(*name_span), sig, doc, parent)
                for name, qname, kind, span, name_span, sig, doc, parent in defs
            ],
            imports=[
                Import(module, Span(*span), tuple(ImportedName(n, a) for n, a in names), alias, star)
                for module, span, names, alias, star in imports
            ],
            exports=[Export(*export) for export in exports],
            references=[Reference(name, Span(*span), receiver) for name, span, receiver in refs],
        )
    except (ValueError, TypeError, EOFError, KeyError) as error:
        raise ValueError(f"damaged facts record: {error}") from error


def encode_resolutions(resolutions: tuple[ResolvedImport, ...]) -> bytes:
    return marshal.dumps(tuple((r.paths, r.external, r.name_paths) for r in resolutions))


def decode_resolutions(blob: bytes) -> tuple[ResolvedImport, ...]:
    try:
        return tuple(
            # Imports that point nowhere in the workspace (external, or broken) are most of them and all
            # alike: one shared immutable value each instead of an object per import (the cold index
            # decodes every file's resolutions in the parent while the workers parse).
            (_EXTERNAL if external else _NOWHERE)
            if not paths and not name_paths
            else ResolvedImport(tuple(paths), external, tuple(tuple(p) for p in name_paths))
            for paths, external, name_paths in marshal.loads(blob)
        )
    except (ValueError, TypeError, EOFError) as error:
        raise ValueError(f"damaged resolution record: {error}") from error


_EXTERNAL = ResolvedImport(external=True)
_NOWHERE = ResolvedImport()
