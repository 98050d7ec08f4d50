"""Position-based queries over the graph: the definition(s) of the name at a position, references to a
symbol.

What depends on the position stays here: the scopes around it, receivers (``self``, Go's named receiver,
a declared or constructed type) and references. Whenever a name leaves its file (imports, aliases,
re-exports, star imports, a Go/Java package's other files, members of modules and classes with their
bases) :class:`roost.context.resolution.Resolver` answers, the resolver retrieval uses too.

Language-agnostic: everything language-specific comes from the facts and the language module's hooks
(``bound_name``, ``self_names``, ``declared_type``, ``base_names``). References are not stored by the
index; the file views this module asks for extract them on demand for the few files a query touches.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from roost.context.facts import (
    CLASS_LIKE_KINDS,
    Definition,
    FileFacts,
    Import,
    Reference,
    ResolvedImport,
    Span,
    SymbolKind,
)
from roost.context.graph import CodeGraph, SymbolLocation
from roost.context.languages import language_named
from roost.context.languages.base import LanguageSupport
from roost.context.resolution import Resolver, ResolverCache, scope_bindings, unique

# Dependents searched for references: the importers, and theirs (re-exports through packages).
_REFERENCE_DEPTH = 3
_DOTTED = re.compile(r"^[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*$")
_CALL = re.compile(r"^(?:new\s+)?([A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*)\s*[({]")


@dataclass(frozen=True, slots=True)
class ReferenceLocation:
    path: str
    reference: Reference

    @property
    def span(self) -> Span:
        return self.reference.span


class FileView:
    """What navigation needs of one file: its outline facts, its references and its source lines."""

    def __init__(self, facts: FileFacts, references: list[Reference], source: bytes):
        self.facts = facts
        self.references = references
        self.source = source

    def reference_at(self, line: int, col: int) -> Reference | None:
        for ref in self.references:
            span = ref.span
            if span.start_line > line:
                break
            if span.contains(line, col):
                return ref
        return None

    def line_text(self, line: int) -> str:
        lines = self.source.split(b"\n", line + 1)
        return lines[line].decode("utf-8", errors="replace") if line < len(lines) else ""


ViewProvider = Callable[[str], "FileView | None"]
SourceProvider = Callable[[str], "bytes | None"]


class _GraphSource:
    """The graph as a :class:`ResolutionSource`: its facts, and the import resolutions stored with them."""

    def __init__(self, graph: CodeGraph):
        self._graph = graph
        self._resolutions: dict[str, dict[Import, ResolvedImport]] = {}

    def file_facts(self, path: str) -> FileFacts | None:
        return self._graph.facts(path)

    def resolve_import(self, importer: str, imp: Import) -> ResolvedImport:
        table = self._resolutions.get(importer)
        if table is None:
            table = {edge.imp: edge.resolved for edge in self._graph.imports(importer)}
            self._resolutions[importer] = table
        return table.get(imp, ResolvedImport())


class Navigator:
    def __init__(self, graph: CodeGraph, view_for: ViewProvider, source_for: SourceProvider | None = None):
        self._graph = graph
        self._view_for = view_for
        # Import statements' text (default vs namespace imports); None: whole-module bindings stay modules.
        self._source_for = source_for
        # Per graph version: a file's package peers, and the resolver (it remembers resolved imports).
        self._peers: dict[str, tuple[str, ...]] = {}
        self._peers_version = -1
        self._resolver_cache = ResolverCache()
        self._resolver: tuple[int, Resolver] | None = None

    @property
    def resolver(self) -> Resolver:
        """The resolver of the graph as it is now (a new one when the graph changed)."""
        version = self._graph.version
        current = self._resolver
        if current is None or current[0] != version:
            resolver = Resolver(
                _GraphSource(self._graph),
                package_peers=self.package_peers,
                source_for=self._source_for,
                cache=self._resolver_cache,
            )
            current = (version, resolver)
            self._resolver = current
        return current[1]

    # -- definitions ---------------------------------------------------------------------------------------

    def definitions_at(self, path: str, line: int, col: int) -> list[SymbolLocation]:
        """Where the name at (line, byte col) of ``path`` is defined; empty when unknown or external."""
        view = self._view_for(path)
        if view is None:
            return []
        for definition in view.facts.definitions:
            if definition.name_span.contains(line, col):
                return [SymbolLocation(path, definition)]
        ref = view.reference_at(line, col)
        if ref is None:
            return []
        in_import = self._in_import_statement(path, ref)
        if in_import is not None:
            return in_import
        return self.resolve_reference(path, view, ref)

    def _in_import_statement(self, path: str, ref: Reference) -> list[SymbolLocation] | None:
        """A name inside an import statement: the imported symbol (or module). None when not in one."""
        resolver = self.resolver
        for edge in self._graph.imports(path):
            imp = edge.imp
            if not imp.span.contains(ref.span.start_line, ref.span.start_col):
                continue
            for item in imp.names:
                if ref.name in (item.name, item.alias):
                    return unique(resolver.from_module(edge.resolved, item.name))
            if ref.name == imp.alias and not imp.names:
                exported = [loc for loc in resolver.import_binding(path, imp) if loc.definition is not None]
                if exported:
                    return exported
            if ref.name in imp.module.replace("/", ".").replace(":", ".").split(".") or ref.name == imp.alias:
                submodules = {p for _, p in edge.resolved.name_paths}
                return [SymbolLocation(t, None) for t in edge.resolved.paths if t not in submodules]
        return None

    def resolve_reference(self, path: str, view: FileView, ref: Reference) -> list[SymbolLocation]:
        language = self._language(path)
        if ref.receiver is None:
            return self._resolve_name(path, view.facts, ref.name, ref.span, language)
        return self._resolve_member(path, view, ref.receiver, ref.name, ref.span, language)

    def _language(self, path: str) -> LanguageSupport | None:
        name = self._graph.language_of(path)
        return language_named(name) if name else None

    def _resolve_name(
        self,
        path: str,
        facts: FileFacts,
        name: str,
        at: Span | None,
        language: LanguageSupport | None,
    ) -> list[SymbolLocation]:
        """``name`` as written at ``at`` in ``path``: the scopes around it, members inherited by an enclosing
        class (implicit ``this``), then what the name binds from outside the file (the resolver)."""
        members_visible = language is not None and language.implicit_member_access
        local = self._local_definitions(facts, name, at, members_visible)
        if local:
            return [SymbolLocation(path, d) for d in local]
        if members_visible and at is not None:
            inherited = self._inherited_member(path, facts, name, at)
            if inherited:
                return inherited
        return self.resolver.imported(path, name)

    # -- packages spanning files (Go, Java) -------------------------------------------------------------------

    def package_peers(self, path: str) -> tuple[str, ...]:
        """The other files of ``path``'s package that see its top-level names without an import."""
        if self._graph.version != self._peers_version:
            self._peers.clear()
            self._peers_version = self._graph.version
        cached = self._peers.get(path)
        if cached is not None:
            return cached
        peers: list[str] = []
        facts = self._graph.facts(path)
        language = self._language(path)
        if facts is not None and facts.package and language is not None:
            for directory in language.package_dirs(path, facts.package, self._graph.directories()):
                for other in self._graph.files_in_dir(directory):
                    if other == path or self._graph.language_of(other) != facts.language:
                        continue
                    other_facts = self._graph.facts(other)
                    if (
                        other_facts is not None
                        and other_facts.package == facts.package
                        and language.sees_package_file(path, other)
                    ):
                        peers.append(other)
        result = tuple(peers)
        self._peers[path] = result
        return result

    # -- scopes around a position ---------------------------------------------------------------------------------

    def _local_definitions(
        self,
        facts: FileFacts,
        name: str,
        at: Span | None,
        members_visible: bool = False,
    ) -> list[Definition]:
        """Definitions named ``name`` visible at ``at``: the innermost enclosing scope wins. With
        ``members_visible`` (implicit ``this``) a class's members are bare names anywhere in its body."""
        scopes = {d.qualified_name: d for d in facts.definitions}
        best: list[Definition] = []
        best_depth = -1
        for definition in facts.definitions:
            if definition.name != name:
                continue
            parent = scopes.get(definition.parent) if definition.parent else None
            if parent is not None:
                # Class members are not visible as bare names, even inside the class's methods.
                if (
                    parent.kind in CLASS_LIKE_KINDS
                    and not members_visible
                    and at is not None
                    and not _inside_class_body(parent, at, facts)
                ):
                    continue
                if at is not None and not parent.span.contains(at.start_line, at.start_col):
                    continue
            depth = definition.qualified_name.count(".") if parent is not None else 0
            if depth > best_depth:
                best, best_depth = [definition], depth
            elif depth == best_depth:
                best.append(definition)
        if best_depth == 0:
            # Several top-level definitions: the module's binding, as the resolver decides it.
            return scope_bindings(best, facts.language)[name]
        return best

    def _inherited_member(self, path: str, facts: FileFacts, name: str, at: Span) -> list[SymbolLocation]:
        """A bare name meaning a member inherited by an enclosing class (implicit ``this``), innermost
        class first; the class's own members were found as local definitions already."""
        for cls in _enclosing_classes(facts, at):
            found = self.resolver.inherited(SymbolLocation(path, cls), name)
            if found:
                return found
        return []

    def _resolve_member(
        self, path: str, view: FileView, receiver: str, name: str, at: Span, language: LanguageSupport | None
    ) -> list[SymbolLocation]:
        facts = view.facts
        resolver = self.resolver
        if language is not None and receiver in language.super_names():
            enclosing = _enclosing_class(facts, at)
            return resolver.inherited(SymbolLocation(path, enclosing), name) if enclosing is not None else []
        receiver_type = self._receiver_type(path, facts, view.source, receiver, at, language)
        if receiver_type is not None:
            for owner in receiver_type:
                found = resolver.member([owner], name)
                if found:
                    return found
            return self._member_fallback(path, name)
        owners = self._resolve_expression(path, view, receiver, at, language)
        results = resolver.member(owners, name)
        if results:
            return results
        if owners and all(owner.definition is None for owner in owners):
            return []  # a module we know that has no such name: nothing to guess
        return self._member_fallback(path, name)

    def _receiver_type(
        self,
        path: str,
        facts: FileFacts,
        source: bytes,
        variable: str,
        at: Span,
        language: LanguageSupport | None,
    ) -> list[SymbolLocation] | None:
        """The type a method's receiver variable means (``self``/``this``, Go's ``w`` of
        ``func (w *Warehouse)``), else the type a parameter or local is declared with (the language's
        ``declared_type``); None when ``variable`` is neither at ``at`` or its type is not found."""
        self_names = language.self_names() if language else ("self", "this")
        method = _enclosing_method(facts, at)
        named_receiver = language.method_receiver(method) if language and method else None
        if variable not in self_names and variable != named_receiver:
            return self._declared_type(path, facts, source, variable, at, language)
        if variable in self_names:
            cls = _enclosing_class(facts, at)
            if cls is not None:
                return [SymbolLocation(path, cls)]
        # The method's owner is declared elsewhere (Go methods, Rust ``impl`` blocks): its parent names it.
        if method is None or method.parent is None:
            return []
        owner = self._graph.lookup(path, method.parent)
        if owner is not None:
            return [SymbolLocation(path, owner)]
        if "." in method.parent:
            return []
        return _class_like(self._resolve_name(path, facts, method.parent, None, language))

    def _declared_type(
        self,
        path: str,
        facts: FileFacts,
        source: bytes,
        variable: str,
        at: Span,
        language: LanguageSupport | None,
    ) -> list[SymbolLocation] | None:
        """The class-like type ``variable`` is declared with as a parameter or local at ``at``, resolved from
        ``path`` like any name (``pkg.T``: the qualifier first); None when unknown or not found, so that the
        other ways (names, constructor assignments) still apply."""
        if language is None or not source:
            return None
        type_name = language.declared_type(path, source, variable, (at.start_line, at.start_col))
        if type_name is None:
            return None
        return self._resolve_type_name(path, facts, type_name, at, language) or None

    def _resolve_type_name(
        self, path: str, facts: FileFacts, type_name: str, at: Span, language: LanguageSupport | None
    ) -> list[SymbolLocation]:
        """The class-like definitions a type name written in ``path`` means, resolved like any name
        (``pkg.T``: the qualifier first, then its members)."""
        head, _, rest = type_name.partition(".")
        current = self._resolve_name(path, facts, head, at, language)
        return _class_like(self.resolver.expression(path, rest, current) if rest else current)

    def _resolve_expression(
        self, path: str, view: FileView, expression: str, at: Span, language: LanguageSupport | None
    ) -> list[SymbolLocation]:
        """What a receiver expression names: a module, a class, or (through ``x = Cls(...)`` or a function's
        return annotation) a class."""
        expression = expression.strip()
        call = _CALL.match(expression)
        if call and call.end() > 0:
            classes = self._resolve_expression(path, view, call.group(1), at, language)
            return _class_like(classes)
        if not _DOTTED.match(expression):
            return []
        resolver = self.resolver
        parts = expression.split(".")
        # ``import a.b.c`` then ``a.b.c.name``: the receiver is the module as imported.
        prefixed = resolver.module_prefix(path, parts)
        if prefixed is not None:
            current, rest = prefixed
        else:
            head, rest = parts[0], parts[1:]
            current = self._receiver_type(path, view.facts, view.source, head, at, language) or []
            if not current:
                current = self._resolve_name(path, view.facts, head, at, language)
            if not current:
                current = self._constructor_assignment(path, view, head, at, language)
        if rest:
            current = resolver.expression(path, ".".join(rest), current)
        resolved: list[SymbolLocation] = []
        for location in current:
            definition = location.definition
            returned = resolver.returned_class(location) if definition is not None else None
            if returned is not None:
                resolved.append(returned)  # a function annotated ``-> Cls``
            elif definition is not None and definition.kind not in (*CLASS_LIKE_KINDS, SymbolKind.MODULE):
                # A variable: follow ``x = Cls(...)`` at its definition to the class.
                resolved.extend(self._class_of_variable(location))
            else:
                resolved.append(location)
        return resolved

    def _constructor_assignment(
        self, path: str, view: FileView, variable: str, at: Span, language: LanguageSupport | None
    ) -> list[SymbolLocation]:
        """``x = Cls(...)`` earlier in the file (locals are not definitions): the class of ``x``."""
        pattern = re.compile(
            rf"(?:^|[\s;(]){re.escape(variable)}\s*(?::[^=\n]*)?(?::=|=)\s*(?:new\s+)?([A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*)\s*[({{]"
        )
        lines = view.source.split(b"\n", at.start_line + 1)[: at.start_line + 1]
        for raw in reversed(lines):
            match = pattern.search(raw.decode("utf-8", errors="replace"))
            if match:
                classes = self._resolve_expression(path, view, match.group(1) + "()", at, language)
                if classes:
                    return classes
        return []

    def _class_of_variable(self, location: SymbolLocation) -> list[SymbolLocation]:
        """The class a variable or field holds, from what the resolver says types it (``x = Cls(...)``, the
        language's ``field_type``), resolved where the variable is written."""
        definition = location.definition
        assert definition is not None
        expression = self.resolver.variable_type(location)
        if expression is None:
            return []
        language = self._language(location.path)
        facts = self._graph.facts(location.path)
        if expression.endswith("()"):
            view = self._view_for(location.path) if facts is None else FileView(facts, [], b"")
            if view is None:
                return []
            return self._resolve_expression(location.path, view, expression, definition.span, language)
        if facts is None:
            return []
        return self._resolve_type_name(location.path, facts, expression, definition.span, language)

    def _member_fallback(self, path: str, name: str) -> list[SymbolLocation]:
        """Unknown receiver type: members named ``name`` in this file and the files it imports."""
        scope = {path, *self._graph.dependencies(path), *self.package_peers(path)}
        return [
            location
            for location in self._graph.find_symbols(name)
            if location.path in scope
            and location.definition is not None
            and location.definition.parent is not None
        ]

    # -- references ------------------------------------------------------------------------------------------

    def references_to(
        self, path: str, qualified_name: str | None, include_declaration: bool = True
    ) -> list[ReferenceLocation]:
        """Uses of the symbol ``qualified_name`` defined in ``path`` (None: the module itself) across the
        files that can see it (the file, its dependents and theirs, for re-exports)."""
        target = self._graph.lookup(path, qualified_name) if qualified_name else None
        if qualified_name and target is None:
            return []
        name = target.name if target else None
        results: list[ReferenceLocation] = []
        reach = self._graph.neighbourhood(path, depth=_REFERENCE_DEPTH, direction="dependents")
        peers = self.package_peers(path) if reach else ()
        # A member reaches further than its file: a class of another package extending a class of this
        # package (which needs no import of this file) uses it too.
        beyond_peers = (
            {d for peer in peers for d in self._graph.neighbourhood(peer, depth=1, direction="dependents")}
            if target is not None and target.parent is not None
            else set()
        )
        candidates = sorted({*reach, *peers, *beyond_peers})
        names = self._aliases(name, candidates) if name is not None else set()
        for candidate in candidates:
            view = self._view_for(candidate)
            if view is None:
                continue
            for ref in view.references:
                if name is not None and ref.name not in names:
                    continue
                if name is None and ref.receiver is not None:
                    continue
                if target is not None and candidate == path and ref.span == target.name_span:
                    if include_declaration:
                        results.append(ReferenceLocation(candidate, ref))
                    continue
                locations = self.resolve_reference(candidate, view, ref)
                if any(
                    loc.path == path
                    and (loc.qualified_name == qualified_name if qualified_name else loc.definition is None)
                    for loc in locations
                ):
                    results.append(ReferenceLocation(candidate, ref))
        return results

    def _aliases(self, name: str, files: list[str]) -> set[str]:
        """``name`` plus every local name it is imported or re-exported under in ``files``
        (``from .circle import Circle as Round`` makes ``Round`` a candidate), to a fixpoint."""
        names = {name}
        imports = [(edge.imp, edge.resolved.paths) for path in files for edge in self._graph.imports(path)]
        exports = [
            export for path in files for export in (self._graph.facts(path) or FileFacts(path, "")).exports
        ]
        while True:
            before = len(names)
            defaults = {
                path: {
                    e.name
                    for e in (self._graph.facts(path) or FileFacts(path, "")).exports
                    if e.original_name in names
                }
                for path in files
            }
            for imp, targets in imports:
                for item in imp.names:
                    if item.name in names:
                        names.add(item.local_name)
                if imp.alias and not imp.names and any("default" in defaults.get(t, ()) for t in targets):
                    names.add(
                        imp.alias
                    )  # ``import Foo from './m'``, m ``export default Foo``: confirmed later
            for export in exports:
                if export.original_name in names:
                    names.add(export.name)
            if len(names) == before:
                return names


def _enclosing_method(facts: FileFacts, at: Span) -> Definition | None:
    """The innermost method whose body holds ``at``."""
    best: Definition | None = None
    for definition in facts.definitions:
        if (
            definition.kind in (SymbolKind.METHOD, SymbolKind.CONSTRUCTOR)
            and definition.span.contains(at.start_line, at.start_col)
            and (best is None or definition.span.start_line >= best.span.start_line)
        ):
            best = definition
    return best


def _class_like(locations: list[SymbolLocation]) -> list[SymbolLocation]:
    """The locations that are definitions of classes (structs, interfaces, ... : what has members)."""
    return [
        location
        for location in locations
        if location.definition is not None and location.definition.kind in CLASS_LIKE_KINDS
    ]


def _enclosing_classes(facts: FileFacts, at: Span) -> list[Definition]:
    """The classes whose span holds ``at``, innermost first."""
    holding = [
        d
        for d in facts.definitions
        if d.kind in CLASS_LIKE_KINDS and d.span.contains(at.start_line, at.start_col)
    ]
    return sorted(holding, key=lambda d: (d.span.start_line, d.span.start_col), reverse=True)


def _enclosing_class(facts: FileFacts, at: Span) -> Definition | None:
    best: Definition | None = None
    for definition in facts.definitions:
        if (
            definition.kind in CLASS_LIKE_KINDS
            and definition.span.contains(at.start_line, at.start_col)
            and (best is None or definition.span.start_line >= best.span.start_line)
        ):
            best = definition
    return best


def _inside_class_body(cls: Definition, at: Span, facts: FileFacts) -> bool:
    """True when ``at`` is directly in the class body, not inside one of its methods."""
    if not cls.span.contains(at.start_line, at.start_col):
        return False
    return not any(
        d.parent == cls.qualified_name
        and d.kind in (SymbolKind.METHOD, SymbolKind.FUNCTION, SymbolKind.CONSTRUCTOR)
        and d.span.contains(at.start_line, at.start_col)
        for d in facts.definitions
    )
