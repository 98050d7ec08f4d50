"""Move a top-level symbol to another module of the same directory, for languages whose modules import
each other's exported names (JavaScript/TypeScript ``export``/``import``, Rust ``pub``/``use``).

The plan is computed as a sequence of whole-text rewrites, each made by the language module on a fresh
parse of the text it applies to (:class:`~roost.context.languages.base.ModuleMoveHooks`), and returned as
line-level text replacements against the texts given:

- the source: the symbol is exported (so it moves with its ``export``/``pub``), cut with its doc comment,
  decorators/attributes (Rust: and its ``impl`` blocks); the siblings the moved code uses are exported
  too; when the rest of the source still uses the symbol it imports it from the target;
- the target: the declaration is appended, with the imports it needs (the source's, and the siblings from
  the source); its own import of the symbol from the source goes, and ``source.Symbol`` uses become bare;
- every dependent: imports of the symbol from the source are redirected (the name split out of a list,
  re-exports too, a star re-export of the source gains an explicit one from the target), and qualified
  uses through a binding of the source (``ns.Symbol``, ``crate::a::source::Symbol``) are rewritten.

A dependent the language cannot rewrite exactly is left untouched and the reason noted in the plan.
"""

from __future__ import annotations

import posixpath
from collections.abc import Callable, Sequence
from typing import Any

from roost.context.facts import Definition, FileFacts, Import, ImportedName, Span, SymbolKind
from roost.context.languages import language_for_path
from roost.context.languages.base import LanguageSupport
from roost.context.parsing import parse_facts
from roost.context.refactor.imports import RefactorError, local_names, replacements_between, span_offsets
from roost.context.refactor.move_plan import FileChange, FileText, MovePlan

Resolve = Callable[[str, Import], Any]


def _facts(path: str, text: str) -> FileFacts:
    facts = parse_facts(path, text)
    if facts is None:
        raise RefactorError(f"{path}: cannot be parsed")
    return facts


def _top_level(facts: FileFacts, name: str) -> Definition | None:
    return next((d for d in facts.definitions if d.name == name and d.parent is None), None)


def _paths(resolved: Any) -> tuple[str, ...]:
    return tuple(getattr(resolved, "paths", ()) or ())


def _module_of(resolve: Resolve, path: str, imp: Import, module_file: str) -> bool:
    """Whether ``imp`` of ``path`` takes its names from ``module_file`` (and not from a module inside it)."""
    resolved = resolve(path, imp)
    paths = _paths(resolved)
    return bool(paths) and paths[0] == module_file


def _checked(value: str | None, language: LanguageSupport, what: str) -> str:
    if value is None:
        raise RefactorError(f"{what} is not implemented for {language.name}")
    return value


def _lines(text: str, start: int, end: int) -> tuple[int, int]:
    return text.count("\n", 0, start), text.count("\n", 0, max(start, end - 1))


def plan_module_move(
    symbol: str,
    source: FileText,
    target: FileText,
    dependents: Sequence[str],
    text_of: Callable[[str], str],
    resolve: Resolve,
    exists: Callable[[str], bool],
) -> MovePlan:
    """Replacements that move top-level ``symbol`` from ``source`` to ``target`` (same directory, same
    language); ``text_of(path)`` gives a dependent's current text. Raises :class:`RefactorError` when the
    move is impossible."""
    language = language_for_path(source.path)
    if (
        language is None
        or language_for_path(target.path) is not language
        or not language.moves_between_modules
    ):
        raise RefactorError(f"moving symbols between {source.path} and {target.path} is not supported")
    if source.path == target.path:
        raise RefactorError("the symbol is already in that module")
    if posixpath.dirname(source.path) != posixpath.dirname(target.path) or not language.move_target_allowed(
        source.path, target.path
    ):
        raise RefactorError(f"{target.path} is not a module {symbol!r} can move to from {source.path}")
    try:
        return _Planner(language, symbol, source, target, text_of, resolve, exists).plan(dependents)
    except ValueError as error:
        if isinstance(error, RefactorError):
            raise
        raise RefactorError(f"cannot move {symbol!r}: {error}") from error


class _Planner:
    def __init__(
        self,
        language: LanguageSupport,
        symbol: str,
        source: FileText,
        target: FileText,
        text_of: Callable[[str], str],
        resolve: Resolve,
        exists: Callable[[str], bool],
    ) -> None:
        self.language = language
        self.symbol = symbol
        self.source = source
        self.target = target
        self.text_of = text_of
        self.resolve = resolve
        self.exists = exists
        self.notes: list[str] = []
        # JS/TS barrels re-exporting the source as a namespace (``export * as util``) → those names.
        self.namespaces: dict[str, set[str]] = {}
        self.type_only: set[str] = set()  # top-level names of the source that are TypeScript types
        # The source's bindings of the target module as a whole (JS ``import * as m from "./target"``) that
        # the moved code uses: ``m.X`` in it is ``X`` once in the target.
        self.target_namespaces: set[str] = set()

    # -- the source and the target ------------------------------------------------------------------

    def plan(self, dependents: Sequence[str]) -> MovePlan:
        language, symbol = self.language, self.symbol
        src_path, dst_path = self.source.path, self.target.path
        src_facts = _facts(src_path, self.source.text)
        dst_facts = _facts(dst_path, self.target.text)
        definition = _top_level(src_facts, symbol)
        if definition is None:
            raise RefactorError(f"no top-level definition named {symbol!r} in {src_path}")
        if _top_level(dst_facts, symbol) is not None:
            raise RefactorError(f"{dst_path} already defines {symbol!r}")
        for imp in dst_facts.imports:
            if symbol in local_names(imp) and not _module_of(self.resolve, dst_path, imp, src_path):
                raise RefactorError(f"{dst_path} already imports another {symbol!r} (from {imp.module})")

        # The source with the symbol exported; what the declaration uses, read before it is cut.
        src_text = _checked(
            language.with_definition_exported(src_path, self.source.text, definition), language, "exporting"
        )
        src_facts = _facts(src_path, src_text)
        definition = _top_level(src_facts, symbol)
        assert definition is not None
        ranges = language.declaration_ranges(src_path, src_text, definition)
        if not ranges:
            raise RefactorError(f"cutting declarations is not implemented for {language.name}")
        line_ranges = [_lines(src_text, start, end) for start, end in ranges]

        def in_moved(span: Span) -> bool:
            return any(first <= span.start_line <= last for first, last in line_ranges)

        sep = language.member_separator
        used = {
            (ref.receiver.split(sep)[0].split(".")[0] if ref.receiver else ref.name)
            for ref in src_facts.references
            if in_moved(ref.span)
        }
        used.discard(symbol)
        moved_names = {d.name for d in src_facts.definitions if d.parent is None and in_moved(d.span)}
        siblings = sorted(
            d.name
            for d in src_facts.definitions
            if d.parent is None and d.name in used and d.name not in moved_names
        )
        # TypeScript types and interfaces come in by ``import type`` (``verbatimModuleSyntax`` needs it).
        self.type_only = {
            d.name
            for d in src_facts.definitions
            if d.parent is None and d.kind in (SymbolKind.TYPE, SymbolKind.INTERFACE) and sep == "."
        }
        needed_imports = self._needed_imports(src_facts, src_text, used)
        moved_text = "\n".join(src_text[start:end].rstrip("\n") + "\n" for start, end in ranges)

        # Export the siblings the moved code uses, then cut the declaration(s).
        for name in siblings:
            sibling = _top_level(_facts(src_path, src_text), name)
            if sibling is not None:
                src_text = _checked(
                    language.with_definition_exported(src_path, src_text, sibling), language, "exporting"
                )
        definition = _top_level(_facts(src_path, src_text), symbol)
        assert definition is not None
        ranges = language.declaration_ranges(src_path, src_text, definition)
        for start, end in sorted(ranges or [], reverse=True):
            src_text = src_text[:start] + src_text[end:]
        src_text = _tidy_blank_lines(src_text)
        after_cut = _facts(src_path, src_text)
        if any(e.name == symbol and e.from_module is None for e in after_cut.exports) or any(
            e.original_name == symbol and e.from_module is None for e in after_cut.exports
        ):
            raise RefactorError(
                f"{src_path} still exports {symbol!r} by name (export list or default); change that first"
            )
        src_text = self._drop_unused_imports(src_text, used)
        if any(r.name == symbol and not r.receiver for r in _facts(src_path, src_text).references):
            module = _checked(
                language.import_specifier(src_path, src_text, dst_path, self.exists),
                language,
                "writing imports",
            )
            src_text = _checked(
                language.with_import_names(
                    src_path, src_text, module, [ImportedName(symbol)], self._like(symbol in self.type_only)
                ),
                language,
                "writing imports",
            )

        dst_text = self._target_text(moved_text, needed_imports, siblings)
        changes = [self._change(self.source, src_text), self._change(self.target, dst_text)]
        plan = MovePlan()
        plan.changes.extend(c for c in changes if c is not None)
        self.namespaces = self._namespace_barrels(dependents)
        for path in dependents:
            if path in (src_path, dst_path):
                continue
            original = FileText(path, self.text_of(path))
            if symbol not in original.text and "*" not in original.text:
                continue  # never names the symbol, no star import that could bring it: nothing to rewrite
            try:
                new_text = self._dependent_text(original)
            except ValueError as error:
                self.notes.append(f"{path}: not rewritten ({error})")
                new_text = original.text
            self._refuse_namespace_uses_left(path, new_text)
            change = self._change(original, new_text)
            if change is not None and self._hidden_after_move(path):
                raise RefactorError(
                    f"{path} names {symbol!r} through {dst_path}, a module it cannot see (declared private "
                    f"or pub(crate) in its parent) while {src_path} is public to it"
                )
            if change is not None:
                plan.changes.append(change)
        plan.notes.extend(self.notes)
        return plan

    def _drop_unused_imports(self, text: str, used: set[str]) -> str:
        """The source without the imported names only the moved code used."""
        path = self.source.path
        for _ in range(64):
            facts = _facts(path, text)
            import_lines = {
                line for imp in facts.imports for line in range(imp.span.start_line, imp.span.end_line + 1)
            }
            still = {
                (r.receiver.split(self.language.member_separator)[0].split(".")[0] if r.receiver else r.name)
                for r in facts.references
                if r.span.start_line not in import_lines
            }
            reexported = {e.name for e in facts.exports} | {e.original_name for e in facts.exports}
            unused = next(
                (
                    (imp, n.name)
                    for imp in facts.imports
                    if not imp.is_star and not any(e.from_module == imp.module for e in facts.exports)
                    for n in imp.names
                    if n.local_name in used and n.local_name not in still and n.local_name not in reexported
                ),
                None,
            )
            if unused is None:
                return text
            removed = self.language.with_import_redirected(path, text, unused[0], unused[1], None)
            if removed is None or removed == text:
                return text
            text = removed
        return text

    def _needed_imports(
        self, facts: FileFacts, text: str, used: set[str]
    ) -> list[tuple[str, list[ImportedName], str]]:
        """(module as the target writes it, names, statement text) of the source's imports the moved code
        uses."""
        language = self.language
        needed: list[tuple[str, list[ImportedName], str]] = []
        bound = {d.name for d in facts.definitions if d.parent is None}
        bound |= {name for imp in facts.imports for name in local_names(imp)}
        bound |= language.local_names(self.source.path, text) | language.builtin_names()
        unbound = used - bound  # names only a glob import (Rust ``use m::*``) or a prelude can supply
        for imp in facts.imports:
            if imp.is_star:
                # A glob that binds names here (not a pure re-export: JS ``export *``) goes along when
                # the moved code uses names nothing else binds.
                exported = any(e.name == "*" and e.from_module == imp.module for e in facts.exports)
                module = language.module_seen_from_sibling(imp.module, self.source.path)
                into_itself = _paths(self.resolve(self.source.path, imp))[:1] == (self.target.path,)
                if unbound and not exported and module is not None and not into_itself:
                    needed.append((module, [ImportedName("*")], ""))
                continue
            statement = text[slice(*span_offsets(text, imp.span))]
            if _paths(self.resolve(self.source.path, imp))[:1] == (self.target.path,):
                local = None if imp.names else imp.alias or language.bound_name(imp)
                if local is not None and local in used:
                    self.target_namespaces.add(local)
                continue  # the target's own names
            if imp.names:
                names = [n for n in imp.names if n.local_name in used]
            else:
                local = imp.alias or language.bound_name(imp)
                if local is None or local not in used:
                    continue
                export = language.module_binding_export(imp, statement)
                names = [ImportedName("default" if export == "default" else "*", local)]
            if not names:
                continue
            if any(f"{self.language.member_separator}" in n.name for n in names):
                continue
            module = language.module_seen_from_sibling(imp.module, self.source.path)
            if module is None:
                raise RefactorError(
                    f"the moved code uses {', '.join(n.local_name for n in names)} through {imp.module!r}, "
                    f"which {self.target.path} cannot import"
                )
            needed.append((module, names, statement))
        return needed

    def _target_text(
        self,
        moved_text: str,
        needed: list[tuple[str, list[ImportedName], str]],
        siblings: list[str],
    ) -> str:
        language = self.language
        path = self.target.path
        text = self.target.text
        # The target's own import of the symbol from the source, and ``source.symbol`` uses, go first.
        text = self._redirect(path, text, module=None)
        text = self._rewrite_qualified(path, text, bare=True)
        separator = "" if not text.strip() else ("\n" if text.endswith("\n") else "\n\n")
        text = self._unqualified_in_target(path, text + separator, moved_text)
        for module, names, statement in needed:
            text = _checked(
                language.with_import_names(path, text, module, names, statement), language, "imports"
            )
        if siblings:
            module = _checked(
                language.import_specifier(path, text, self.source.path, self.exists), language, "imports"
            )
            for type_only in (False, True):
                names = [ImportedName(n) for n in siblings if (n in self.type_only) == type_only]
                if names:
                    text = _checked(
                        language.with_import_names(path, text, module, names, self._like(type_only)),
                        language,
                        "imports",
                    )
        return text

    def _unqualified_in_target(self, path: str, text: str, moved_text: str) -> str:
        """``text`` with ``moved_text`` appended, its ``m.X`` through a namespace binding of the target itself
        written ``X`` (``self.target_namespaces``); refused where ``m`` is used otherwise (passed as a value)
        or ``X`` is a local of the moved code, since neither would mean the same in the target."""
        moved_start, whole = len(text), text + moved_text
        if not self.target_namespaces:
            return whole
        language = self.language
        facts = _facts(path, whole)
        inside = [r for r in facts.references if span_offsets(whole, r.span)[0] >= moved_start]
        qualified = [r for r in inside if r.receiver in self.target_namespaces]
        for name in {r.name for r in inside if not r.receiver}:
            missed = language.qualified_uses_missed(path, whole, name)
            qualified += [r for r in missed if r.receiver in self.target_namespaces]
        cuts: list[tuple[int, int]] = []
        for use in qualified:
            start = span_offsets(whole, use.span)[0]
            prefix = f"{use.receiver}{language.member_separator}"
            if start - len(prefix) >= moved_start and whole[start - len(prefix) : start] == prefix:
                cuts.append((start - len(prefix), start))
        bare = [r for r in inside if r.name in self.target_namespaces and not r.receiver]
        shadowed = {r.name for r in qualified} & language.local_names(path, moved_text)
        if len(bare) > len(cuts) or shadowed:
            namespace = ", ".join(sorted(self.target_namespaces))
            raise RefactorError(
                f"the moved code uses {namespace}, the target module itself, in a way not rewritten there"
            )
        for start, end in sorted(set(cuts), reverse=True):
            whole = whole[:start] + whole[end:]
        return whole

    @staticmethod
    def _like(type_only: bool) -> str | None:
        """The statement a new import is written like: ``import type`` for names used only as types."""
        return "import type {}" if type_only else None

    # -- dependents ---------------------------------------------------------------------------------------

    def _dependent_text(self, file: FileText) -> str:
        text = self._redirect(file.path, file.text, module="")
        return self._rewrite_qualified(file.path, text, bare=False)

    def _redirect(self, path: str, text: str, module: str | None) -> str:
        """Every import of the symbol from the source in ``path``, redirected to the target (``module``
        empty: as the statement names the source; None: dropped, the symbol is the file's own)."""
        language, symbol = self.language, self.symbol
        text = self._redirect_unnamed(path, text, module)
        handled: set[tuple[int, int]] = set()
        for _ in range(64):  # each rewrite re-parses; a file has far fewer imports of one module
            facts = _facts(path, text)
            pending = None
            for imp in facts.imports:
                key = (imp.span.start_line, imp.span.start_col)
                if key in handled or not _module_of(self.resolve, path, imp, self.source.path):
                    continue
                if imp.is_star:
                    handled.add(key)
                    reexported = any(e.name == "*" and e.from_module == imp.module for e in facts.exports)
                    # ``export * from "./target"`` next to it already re-exports the symbol.
                    covered = any(
                        other.is_star and _module_of(self.resolve, path, other, self.target.path)
                        for other in facts.imports
                    )
                    if module is not None and not covered and (reexported or _bare_use(facts, symbol)):
                        pending = (imp, reexported)
                        break
                    continue
                if any(n.name == symbol for n in imp.names):
                    pending = (imp, False)
                    break
            if pending is None:
                return text
            imp, _ = pending
            handled.add((imp.span.start_line, imp.span.start_col))
            new_module = None
            if module is not None:
                new_module = language.sibling_module(imp.module, self.source.path, self.target.path)
                if new_module is None:
                    raise ValueError(f"cannot rename the module {imp.module!r} to the target")
            text = _checked(
                language.with_import_redirected(path, text, imp, symbol, new_module), language, "imports"
            )
        raise ValueError("too many imports to rewrite")

    def _redirect_unnamed(self, path: str, text: str, module: str | None) -> str:
        """Imports of the source whose facts bind no names (JS ``import('./source')``) but that may still take
        the symbol (``const { X } = await import(…)``): the language rewrites the exact forms and raises on
        the others (``module``: as in :meth:`_redirect`)."""
        handled: set[tuple[int, int]] = set()
        for _ in range(64):
            facts = _facts(path, text)
            imp = next(
                (
                    i
                    for i in facts.imports
                    if not i.names
                    and i.alias is None
                    and not i.is_star
                    and (i.span.start_line, i.span.start_col) not in handled
                    and _module_of(self.resolve, path, i, self.source.path)
                ),
                None,
            )
            if imp is None:
                return text
            handled.add((imp.span.start_line, imp.span.start_col))
            new_module = None
            if module is not None:
                new_module = self.language.sibling_module(imp.module, self.source.path, self.target.path)
            rewritten = self.language.with_dynamic_import_redirected(path, text, imp, self.symbol, new_module)
            if rewritten is not None and rewritten != text:
                if module is not None and new_module is None:
                    raise ValueError(f"cannot rename the module {imp.module!r} to the target")
                text = rewritten
        raise ValueError("too many imports to rewrite")

    def _rewrite_qualified(self, path: str, text: str, bare: bool) -> str:
        """``ns.Symbol`` / ``source::Symbol`` / ``crate::a::source::Symbol`` through a binding of the source:
        bare ``Symbol`` (``bare``: in the target; JS namespaces: with a named import of the target), or the
        target's module path (Rust)."""
        language, symbol = self.language, self.symbol
        sep = language.member_separator
        facts = _facts(path, text)
        uses = [r for r in facts.references if r.name == symbol and r.receiver]
        missed = language.qualified_uses_missed(path, text, symbol)
        uses += missed
        type_positions = {(use.span.start_line, use.span.start_col) for use in missed}  # TS: types only
        value_uses = False
        if not uses:
            return text
        bindings = self._source_bindings(path, facts, text)
        replacements: list[tuple[int, int, str]] = []
        namespace_uses = False
        for use in uses:
            receiver = use.receiver or ""
            head = receiver.split(sep)[0]
            full = None
            if receiver in bindings:
                full = bindings[receiver]
            elif head in bindings and bindings[head] is not None:
                full = bindings[head] + receiver[len(head) :]  # type: ignore[operator]
            elif (
                sep != "."
                and sep in receiver
                and _module_of(self.resolve, path, Import(receiver, use.span), self.source.path)
            ):
                full = receiver
            if full is None and receiver not in bindings:
                continue
            name_start = span_offsets(text, use.span)[0]
            start = name_start - len(receiver) - len(sep)
            if start < 0 or text[start:name_start] != receiver + sep:
                raise ValueError(f"{receiver}{sep}{symbol} is written in a form not rewritten")
            if bare or full is None:
                replacements.append((start, name_start, ""))
                namespace_uses = namespace_uses or full is None
                value_uses = value_uses or (use.span.start_line, use.span.start_col) not in type_positions
            else:
                new_module = language.sibling_module(full, self.source.path, self.target.path)
                if new_module is None:
                    raise ValueError(f"cannot rename {full!r} to the target module")
                replacements.append((start, start + len(receiver), new_module))
        if not replacements:
            return text
        if (namespace_uses and not bare) and self._name_taken(path, facts):
            raise ValueError(f"{symbol!r} is already a name there; its namespace uses are not rewritten")
        for start, end, new in sorted(replacements, reverse=True):
            text = text[:start] + new + text[end:]
        if namespace_uses and not bare:
            module = _checked(
                language.import_specifier(path, text, self.target.path, self.exists), language, "imports"
            )
            text = _checked(
                # Used as a type only: a type-only import, which ``verbatimModuleSyntax`` requires.
                language.with_import_names(
                    path,
                    text,
                    module,
                    [ImportedName(symbol)],
                    self._like(symbol in self.type_only or not value_uses),
                ),
                language,
                "imports",
            )
        return text

    def _name_taken(self, path: str, facts: FileFacts) -> bool:
        """Whether ``symbol`` already means something else in the file (so ``ns.symbol`` cannot become
        bare): a definition, or an import of another thing than the symbol from the target."""
        symbol = self.symbol
        if any(d.name == symbol for d in facts.definitions):
            return True
        for imp in facts.imports:
            if symbol not in local_names(imp):
                continue
            same = any(n.name == symbol and n.local_name == symbol for n in imp.names)
            if not same or not _module_of(self.resolve, path, imp, self.target.path):
                return True
        return False

    def _source_bindings(self, path: str, facts: FileFacts, text: str) -> dict[str, str | None]:
        """Local names bound to the source module: → its module path (Rust: rewritable in place), or None
        (a JS namespace object: its uses become bare names)."""
        bindings: dict[str, str | None] = {}
        sep = self.language.member_separator
        for imp in facts.imports:
            resolved = self.resolve(path, imp)
            for name in imp.names:
                if getattr(resolved, "path_for_name", lambda n: None)(name.name) == self.source.path:
                    bindings[name.local_name] = f"{imp.module}{sep}{name.name}"
            if imp.names or imp.is_star or not _module_of(self.resolve, path, imp, self.source.path):
                continue
            statement = text[slice(*span_offsets(text, imp.span))]
            local = imp.alias or self.language.bound_name(imp)
            if local and self.language.module_binding_export(imp, statement) is None:
                bindings[local] = imp.module if sep != "." else None
        for receiver in self._barrel_namespaces(path, facts):  # the source as a barrel's namespace
            bindings[receiver] = None
        return bindings

    def _hidden_after_move(self, path: str) -> bool:
        """Whether ``path`` saw the symbol through the source module and cannot through the target's."""
        visible = self.language.module_visible_from
        return visible(self.source.path, path, self.exists, self.text_of) and not visible(
            self.target.path, path, self.exists, self.text_of
        )

    def _namespace_barrels(self, dependents: Sequence[str]) -> dict[str, set[str]]:
        barrels: dict[str, set[str]] = {}
        for path in dependents:
            if path in (self.source.path, self.target.path) or self.language.member_separator != ".":
                continue
            facts = _facts(path, self.text_of(path))
            for export in facts.exports:
                if export.original_name != "*" or export.name == "*":
                    continue
                statement = next(
                    (i for i in facts.imports if i.module == export.from_module and i.alias == export.name),
                    None,
                )
                if statement is not None and _module_of(self.resolve, path, statement, self.source.path):
                    barrels.setdefault(path, set()).add(export.name)
        return barrels

    def _barrel_namespaces(self, path: str, facts: FileFacts) -> dict[str, str]:
        """Receivers in ``path`` that are the source as a barrel's namespace (``util`` of ``import { util }``,
        ``core.util`` of ``import * as core``) → the namespace name."""
        receivers: dict[str, str] = {}
        for imp in facts.imports:
            names = self.namespaces.get(next(iter(_paths(self.resolve(path, imp))), ""), set())
            for name in imp.names:
                if name.name in names:
                    receivers[name.local_name] = name.name
            if not imp.names and not imp.is_star and imp.alias:
                receivers.update({f"{imp.alias}.{ns}": ns for ns in names})
        return receivers

    def _refuse_namespace_uses_left(self, path: str, text: str) -> None:
        """A use of the symbol through a barrel's namespace of the source still in ``path`` would name a
        member the namespace no longer has."""
        if not self.namespaces or self.symbol not in text:
            return
        facts = _facts(path, text)
        receivers = self._barrel_namespaces(path, facts)
        uses = [*facts.references, *self.language.qualified_uses_missed(path, text, self.symbol)]
        for use in uses:
            if use.name == self.symbol and use.receiver in receivers:
                barrel = next(b for b, names in self.namespaces.items() if receivers[use.receiver] in names)
                raise RefactorError(
                    f"{path}:{use.span.start_line + 1} uses {use.receiver}.{self.symbol} through the namespace "
                    f"{receivers[use.receiver]} that {barrel} re-exports, in a form not rewritten"
                )

    def _change(self, file: FileText, new_text: str) -> FileChange | None:
        if new_text == file.text:
            return None
        return FileChange(file.path, file.text, tuple(replacements_between(file.text, new_text)))


def _bare_use(facts: FileFacts, name: str) -> bool:
    import_lines = {
        line for imp in facts.imports for line in range(imp.span.start_line, imp.span.end_line + 1)
    }
    return (
        any(
            r.name == name and not r.receiver and r.span.start_line not in import_lines
            for r in facts.references
        )
        and _top_level(facts, name) is None
    )


def _tidy_blank_lines(text: str) -> str:
    """No blank tail where the last declaration was cut."""
    return text.rstrip("\n") + "\n" if text.strip() else ""
