"""Name resolution across files, the one resolver of navigation and retrieval: which definitions a name
binds in a file (through imports, aliases, re-exports, star imports and the other files of a Go/Java
package), what a module gives as a name, the members of a class (its bases included), and the class a
function says it returns.

It works from :class:`FileFacts` and each language's import resolution only (a
:class:`ResolutionSource`), so the file being edited can be an unsaved buffer whose facts come from the
editor's text. Position-dependent questions stay with their callers: :mod:`roost.context.navigation`
(the scope around a position, receivers and their declared types, references) and
:mod:`roost.context.retrieval.retriever` (the cursor's context); both ask this module whenever a name
leaves the file it is written in.

It is a module of its own rather than either of the two resolvers it replaced (``Navigator``'s import
following and retrieval's ``NameResolver``): navigation sits on the graph and retrieval on the
``CodeWorkspace`` protocol, and resolution needs neither, only facts and resolved imports, which both give;
neither caller's position logic belongs to the other. The two followed imports each in their own way and
disagreed in three places, decided here on Python's own semantics:

1. Several definitions of one name in one scope (module or class body): in Python the last binding wins
   (``@overload`` stubs then the implementation, a redefinition), see :func:`scope_bindings`. Elsewhere
   every one is kept: Java and TypeScript overload methods by signature, TypeScript merges a type and a
   value of one name, Go and Rust reject a second definition. A definition in the file wins over an import
   of the same name (``try: from _speedups import f`` / ``except ImportError: def f``: the definition is
   what the workspace holds).
2. ``from pkg import sub``: ``pkg``'s attribute ``sub`` when ``pkg/__init__`` binds one, else the submodule
   ``pkg/sub`` (Python imports the submodule only when the attribute is missing).
3. ``import a.b`` binds ``a``, the package; ``a.b`` is reached as its attribute (the submodule), and a
   dotted expression written exactly as an imported module (``a.b.f``) starts at that module, which also
   holds when ``a`` is a namespace package without an ``__init__``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Protocol, runtime_checkable

from roost.context.facts import (
    CLASS_LIKE_KINDS,
    Definition,
    FileFacts,
    Import,
    ImportedName,
    ResolvedImport,
    Span,
    SymbolKind,
)
from roost.context.graph import SymbolLocation
from roost.context.languages import language_named
from roost.context.languages.base import LanguageSupport, bases_in_signature

# How deep import, re-export and base-class chains are followed (cycles are cut by a seen-set anyway).
_MAX_HOPS = 12
_RETURN_TYPE = re.compile(r"->\s*['\"]?([A-Za-z_][\w.]*)")
# TypeScript's ``function f(…): Foo<T>``: the annotation after the parameters closes the signature.
_TS_RETURN_TYPE = re.compile(r"\)\s*:\s*([A-Za-z_$][\w$]*(?:\.[A-Za-z_$][\w$]*)*)[^():=]*$")
# A variable's value that names its class: ``x = Cls(...)``, ``x = new Cls(...)``, ``x := Cls{``.
# Block comments between ``=`` and the call are bundler annotations: ``const _v = /*@__PURE__*/ new Vector3()``.
_CONSTRUCTED = re.compile(r"=\s*(?:/\*.*?\*/\s*)*(?:new\s+)?([A-Za-z_$][\w$]*(?:\.[A-Za-z_$][\w$]*)*)\s*[({]")
# A variable that only renames another name: ``isfuture = base_futures.isfuture``.
_ALIAS = re.compile(r"^[A-Za-z_]\w*\s*=\s*([A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*)\s*$")
_VARIABLE_KINDS = frozenset({SymbolKind.VARIABLE, SymbolKind.CONSTANT})
# Languages where a later definition of a name in a module or class body rebinds it (decision 1).
_REBINDING_LANGUAGES = frozenset({"python"})
# File stems of a package's own module, whose directory holds its submodules.
_PACKAGE_STEMS = frozenset({"__init__", "index", "mod"})
# Caches are dropped wholesale past this many files (a long session over a huge workspace).
_CACHE_FILES = 4096

# A file's import bindings: local name → (import, imported name or None for a whole module); star imports.
_Bindings = tuple[dict[str, list[tuple[Import, ImportedName | None]]], list[Import]]
SourceProvider = Callable[[str], "bytes | None"]
PeersProvider = Callable[[str], Sequence[str]]


class ResolutionSource(Protocol):
    """What resolution reads: the facts of a file and where its imports point. The index and the
    in-memory :class:`~roost.context.retrieval.standalone.ParsedWorkspace` both are one."""

    def file_facts(self, path: str) -> FileFacts | None: ...

    def resolve_import(self, importer: str, imp: Import) -> ResolvedImport: ...


@runtime_checkable
class PackagedSource(Protocol):
    """A source that knows the files of a package spanning files (Go, Java): the index does."""

    def package_peers(self, path: str) -> Sequence[str]: ...


@dataclass(slots=True)
class ResolverCache:
    """Tables derived from one file's facts, kept across requests: each entry holds the facts object it
    was built from and is used only while the source returns that very object."""

    top_level: dict[str, tuple[FileFacts, dict[str, list[Definition]]]] = field(default_factory=dict)
    bindings: dict[str, tuple[FileFacts, _Bindings]] = field(default_factory=dict)


def is_class(location: SymbolLocation) -> bool:
    return location.definition is not None and location.definition.kind in CLASS_LIKE_KINDS


def is_module(location: SymbolLocation) -> bool:
    return location.definition is None


def scope_bindings(definitions: Sequence[Definition], language: str) -> dict[str, list[Definition]]:
    """Name → the definitions it is bound to in one scope (decision 1): in Python the last one, elsewhere
    every one (overloads, a type and a value of one name)."""
    if language in _REBINDING_LANGUAGES:
        return {d.name: [d] for d in definitions}
    names: dict[str, list[Definition]] = {}
    for definition in definitions:
        names.setdefault(definition.name, []).append(definition)
    return names


def unique(locations: Sequence[SymbolLocation]) -> list[SymbolLocation]:
    seen: set[tuple[str, str | None, int]] = set()
    result = []
    for location in locations:
        key = (location.path, location.qualified_name, location.span.start_line)
        if key not in seen:
            seen.add(key)
            result.append(location)
    return result


class Resolver:
    """Answers for one snapshot of the source: retrieval makes one per request, navigation one per graph
    version (the resolved imports it remembers change with the workspace); :class:`ResolverCache`, keyed by
    the facts objects themselves, outlives it."""

    def __init__(
        self,
        source: ResolutionSource,
        *,
        overrides: dict[str, FileFacts] | None = None,
        package_peers: PeersProvider | None = None,
        source_for: SourceProvider | None = None,
        cache: ResolverCache | None = None,
    ) -> None:
        self.source = source
        # Facts that win over the stored ones (the unsaved buffer of the file being edited).
        self.overrides = overrides or {}
        if package_peers is None and isinstance(source, PackagedSource):
            package_peers = source.package_peers
        self._package_peers = package_peers
        # Import statements' text (default vs namespace imports); None: whole-module bindings stay modules.
        self._source_for = source_for
        self._cache = cache if cache is not None else ResolverCache()
        self._resolved: dict[tuple[str, Import], ResolvedImport] = {}
        self._package_names: dict[str, dict[str, list[SymbolLocation]]] = {}

    # --- facts and imports ---------------------------------------------------------------------------

    def facts(self, path: str) -> FileFacts | None:
        return self.overrides.get(path) or self.source.file_facts(path)

    def language(self, path: str) -> LanguageSupport | None:
        facts = self.facts(path)
        return language_named(facts.language) if facts is not None else None

    def resolved_import(self, importer: str, imp: Import) -> ResolvedImport:
        key = (importer, imp)
        cached = self._resolved.get(key)
        if cached is None:
            try:
                cached = self.source.resolve_import(importer, imp)
            except Exception:  # a resolver bug must never fail a completion or navigation request
                cached = ResolvedImport()
            self._resolved[key] = cached
        return cached

    def package_peers(self, path: str) -> Sequence[str]:
        """The other files of ``path``'s package that see its top-level names without an import."""
        return self._package_peers(path) if self._package_peers is not None else ()

    def top_level(self, path: str) -> dict[str, list[Definition]]:
        """Top-level name → its binding among the file's own definitions (decision 1)."""
        facts = self.facts(path)
        if facts is None:
            return {}
        cached = self._cache.top_level.get(path)
        if cached is not None and cached[0] is facts:
            return cached[1]
        names = scope_bindings([d for d in facts.definitions if d.parent is None], facts.language)
        if len(self._cache.top_level) > _CACHE_FILES:
            self._cache.top_level.clear()
        self._cache.top_level[path] = (facts, names)
        return names

    def _bindings(self, facts: FileFacts) -> _Bindings:
        cached = self._cache.bindings.get(facts.path)
        if cached is not None and cached[0] is facts:
            return cached[1]
        names: dict[str, list[tuple[Import, ImportedName | None]]] = {}
        stars: list[Import] = []
        language = language_named(facts.language)
        for imp in facts.imports:
            if imp.is_star:
                stars.append(imp)
            elif imp.names:
                for imported in imp.names:
                    names.setdefault(imported.local_name, []).append((imp, imported))
            else:
                bound = language.bound_name(imp) if language is not None else imp.alias
                if bound:
                    names.setdefault(bound, []).append((imp, None))
        bindings = (names, stars)
        if len(self._cache.bindings) > _CACHE_FILES:
            self._cache.bindings.clear()
        self._cache.bindings[facts.path] = (facts, bindings)
        return bindings

    # --- what a name binds in a file -----------------------------------------------------------------

    def in_module(self, path: str, name: str) -> list[SymbolLocation]:
        """What ``name`` binds at the top level of ``path``: its own definition, else :meth:`imported`."""
        own = self.top_level(path).get(name)
        if own:
            return [SymbolLocation(path, d) for d in own]
        return self.imported(path, name)

    def imported(self, path: str, name: str) -> list[SymbolLocation]:
        """What ``name`` binds in ``path`` from outside it: its imports, then the other files of its package
        (Go, Java), then its star (on-demand) imports."""
        facts = self.facts(path)
        if facts is None:
            return []
        seen: set[tuple[str, str]] = set()
        found = self._through_imports(facts, name, seen, 0)
        if found:
            return found
        in_package = self.in_package(path, name)
        if in_package:
            return in_package
        return self._through_stars(facts, name, seen, 0)

    def in_package(self, path: str, name: str) -> list[SymbolLocation]:
        """Top-level definitions named ``name`` in the other files of ``path``'s package."""
        names = self._package_names.get(path)
        if names is None:
            # Once per file and resolver: references_to asks this for every name that resolves nowhere else.
            names = {}
            for peer in self.package_peers(path):
                for bound, definitions in self.top_level(peer).items():
                    names.setdefault(bound, []).extend(SymbolLocation(peer, d) for d in definitions)
            self._package_names[path] = names
        return list(names.get(name, ()))

    def member_of_module(self, path: str, name: str) -> list[SymbolLocation]:
        """``module.name``: a symbol the module defines or re-exports, else its submodule ``name``."""
        found = self.exported(path, name)
        if found:
            return found
        submodule = self.submodule(path, name)
        return [SymbolLocation(submodule, None)] if submodule is not None else []

    def exported(self, path: str, name: str) -> list[SymbolLocation]:
        """The top-level symbol ``name`` of the module ``path`` as an importer sees it: defined there, or
        re-exported (renamed export, import, star import)."""
        return self._exported(path, name, set(), 0)

    def submodule(self, module_path: str, name: str) -> str | None:
        """The module ``name`` inside the package whose own module is ``module_path`` (``pkg/__init__.py``)."""
        pure = PurePosixPath(module_path)
        if pure.stem not in _PACKAGE_STEMS:
            return None
        prefix = f"{pure.parent}/" if str(pure.parent) != "." else ""
        for candidate in (f"{prefix}{name}.py", f"{prefix}{name}/__init__.py"):
            if self.facts(candidate) is not None:
                return candidate
        return None

    def from_module(self, resolved: ResolvedImport, name: str) -> list[SymbolLocation]:
        """``from module import name`` with the module resolved to ``resolved`` (decision 2): the module's
        attribute ``name`` when it binds one, else the submodule ``name``."""
        return self._from_module(resolved, name, set(), 0)

    def import_binding(self, importer: str, imp: Import) -> list[SymbolLocation]:
        """What the whole-module import ``imp`` of ``importer`` binds: the module (``import a.b`` binds the
        package ``a``, decision 3), or the export it takes (JS ``import D from './m'``: m's default)."""
        return self._import_binding(importer, imp, set(), 0)

    def _exported(
        self, path: str, name: str, seen: set[tuple[str, str]], hops: int, stars: bool = True
    ) -> list[SymbolLocation]:
        if hops > _MAX_HOPS or (path, name) in seen:
            return []
        seen.add((path, name))
        facts = self.facts(path)
        if facts is None:
            return []
        own = self.top_level(path).get(name)
        if own:
            return [SymbolLocation(path, d) for d in own]
        # ``export { a as b }`` and ``export default Foo``: the exported name is another local name.
        # (``export … from`` renames are imports too, followed below.)
        renamed: list[SymbolLocation] = []
        for export in facts.exports:
            original = export.original_name
            if (
                export.name == name
                and export.from_module is None
                and original
                and original not in (name, "*")
            ):
                renamed.extend(self._exported(path, original, seen, hops + 1))
        if renamed:
            return unique(renamed)
        found = self._through_imports(facts, name, seen, hops)
        if found or not stars:
            return found
        return self._through_stars(facts, name, seen, hops)

    def _through_imports(
        self, facts: FileFacts, name: str, seen: set[tuple[str, str]], hops: int
    ) -> list[SymbolLocation]:
        found: list[SymbolLocation] = []
        for imp, imported in self._bindings(facts)[0].get(name, ()):
            if imported is not None:
                resolved = self.resolved_import(facts.path, imp)
                found.extend(self._from_module(resolved, imported.name, seen, hops + 1))
            else:
                found.extend(self._import_binding(facts.path, imp, seen, hops))
        return unique(found)

    def _through_stars(
        self, facts: FileFacts, name: str, seen: set[tuple[str, str]], hops: int
    ) -> list[SymbolLocation]:
        found: list[SymbolLocation] = []
        for imp in self._bindings(facts)[1]:
            for target in self.resolved_import(facts.path, imp).paths:
                found.extend(self._exported(target, name, seen, hops + 1))
        return unique(found)

    def _from_module(
        self, resolved: ResolvedImport, name: str, seen: set[tuple[str, str]], hops: int
    ) -> list[SymbolLocation]:
        # Decision 2: the package's attribute first. ``resolved.paths`` lists the package's own module and
        # the submodules the statement names; only the former can hold the attribute. When a submodule
        # ``name`` exists, the package's star imports are not searched: importing the submodule sets the
        # attribute to it unless a star-imported module exports a ``name`` of its own, which is rare and
        # costly to rule out (``asyncio/__init__`` star-imports twenty submodules).
        submodule = resolved.path_for_name(name)
        submodules = {path for _, path in resolved.name_paths}
        found: list[SymbolLocation] = []
        for target in resolved.paths:
            if target not in submodules:
                found.extend(self._exported(target, name, seen, hops, stars=submodule is None))
        if found:
            return found
        return [SymbolLocation(submodule, None)] if submodule is not None else []

    def _import_binding(
        self, importer: str, imp: Import, seen: set[tuple[str, str]], hops: int
    ) -> list[SymbolLocation]:
        language = self.language(importer)
        bound = language.bound_name(imp) if language is not None else imp.alias
        head = imp.module.split(".")[0]
        if imp.alias is None and bound == head and head != imp.module:
            # Decision 3: ``import a.b`` binds ``a``, the package. (A Go import path has dots too,
            # ``example.com/app/base``, but binds its last element: not this.)
            packages = self._package_of(self.resolved_import(importer, imp).paths, imp.module)
            if not packages:
                packages = list(self.resolved_import(importer, Import(module=head, span=imp.span)).paths)
            return [SymbolLocation(package, None) for package in packages]
        resolved = self.resolved_import(importer, imp)
        exported = self._module_export(importer, imp, resolved, seen, hops)
        return exported or [SymbolLocation(target, None) for target in resolved.paths]

    def _package_of(self, module_paths: Sequence[str], module: str) -> list[str]:
        """The top package ``a`` of the module ``a.b.c`` from the files ``a.b.c`` resolved to
        (``a/b/c.py`` → ``a/__init__.py``; a plain module ``a.py`` that binds ``b`` itself, like ``os.path``,
        is ``a``): the stored resolutions of a graph name no import of ``a`` alone."""
        head, levels = module.split(".")[0], module.count(".")
        packages: list[str] = []
        for path in module_paths:
            pure = PurePosixPath(path)
            directory = pure.parent if pure.stem == "__init__" else pure.with_suffix("")
            for _ in range(levels):
                directory = directory.parent
            init = f"{directory}/__init__.py"
            if directory.name == head and self.facts(init) is not None:
                packages.append(init)
            elif pure.stem == head:
                packages.append(path)
        return packages

    def _module_export(
        self, importer: str, imp: Import, resolved: ResolvedImport, seen: set[tuple[str, str]], hops: int
    ) -> list[SymbolLocation]:
        """The definition a whole-module binding takes when it takes an export (JS ``import D from './m'``:
        the default-exported definition); empty when it binds the module itself or the export is anonymous."""
        language = self.language(importer)
        if language is None or self._source_for is None or not resolved.paths:
            return []
        source = self._source_for(importer)
        if source is None:
            return []
        export = language.module_binding_export(imp, span_text(source, imp.span))
        if export is None:
            return []
        found: list[SymbolLocation] = []
        for target in resolved.paths:
            found.extend(self._exported(target, export, seen, hops + 1))
        return [location for location in found if location.definition is not None]

    # --- classes -------------------------------------------------------------------------------------

    def own_members(self, owner: SymbolLocation) -> list[SymbolLocation]:
        """The members written in the class ``owner`` (and, for a top-level Go type, its methods in the other
        files of its package), only the last of a name where the class body rebinds (decision 1)."""
        definition = owner.definition
        facts = self.facts(owner.path)
        if definition is None or facts is None:
            return []
        qualified = definition.qualified_name
        members = [SymbolLocation(owner.path, d) for d in facts.definitions if d.parent == qualified]
        if definition.parent is None:
            # Go: methods of a type may be declared in any file of its package.
            for peer in self.package_peers(owner.path):
                peer_facts = self.facts(peer)
                if peer_facts is not None:
                    members.extend(
                        SymbolLocation(peer, d) for d in peer_facts.definitions if d.parent == qualified
                    )
        if facts.language in _REBINDING_LANGUAGES:
            last: dict[str, SymbolLocation] = {}
            for member in members:
                assert member.definition is not None
                last[member.definition.name] = member
            members = list(last.values())
        return members

    def class_members(self, owner: SymbolLocation) -> list[SymbolLocation]:
        """The members of the class ``owner``: its own, then those of its bases (depth first)."""
        return self._class_members(owner, set(), 0)

    def _class_members(
        self, owner: SymbolLocation, seen: set[tuple[str, str]], hops: int
    ) -> list[SymbolLocation]:
        definition = owner.definition
        if definition is None or hops > _MAX_HOPS or (owner.path, definition.qualified_name) in seen:
            return []
        seen.add((owner.path, definition.qualified_name))
        members = self.own_members(owner)
        for base in self.bases(owner):
            members.extend(self._class_members(base, seen, hops + 1))
        return members

    def class_member(self, owner: SymbolLocation, name: str) -> list[SymbolLocation]:
        """``name`` on the class ``owner``: its own member, else the first base's (in the order the class
        names them, depth first: Python's method resolution order for a single-inheritance chain)."""
        return self._class_member(owner, name, set(), 0)

    def inherited(self, owner: SymbolLocation, name: str) -> list[SymbolLocation]:
        """``name`` on the bases of the class ``owner`` (not on the class itself: ``super().name``)."""
        seen: set[tuple[str, str]] = set()
        for base in self.bases(owner):
            found = self._class_member(base, name, seen, 1)
            if found:
                return found
        return []

    def _class_member(
        self, owner: SymbolLocation, name: str, seen: set[tuple[str, str]], hops: int
    ) -> list[SymbolLocation]:
        definition = owner.definition
        if definition is None or hops > _MAX_HOPS or (owner.path, definition.qualified_name) in seen:
            return []
        seen.add((owner.path, definition.qualified_name))
        own = [m for m in self.own_members(owner) if m.definition is not None and m.definition.name == name]
        if own:
            return own
        for base in self.bases(owner):
            found = self._class_member(base, name, seen, hops + 1)
            if found:
                return found
        return []

    def bases(self, owner: SymbolLocation) -> list[SymbolLocation]:
        """The classes ``owner`` extends, as its language names them (``base_names``: Java ``extends`` and
        ``implements``, Go embedded types, Python's parenthesised bases), resolved where the class is
        written: its enclosing scopes, then its module."""
        definition = owner.definition
        facts = self.facts(owner.path)
        if definition is None or facts is None:
            return []
        language = language_named(facts.language)
        if language is None:
            names = bases_in_signature(definition)
        else:
            members = [d for d in facts.definitions if d.parent == definition.qualified_name]
            names = language.base_names(definition, members)
        found: list[SymbolLocation] = []
        for expression in names:
            head, _, rest = expression.partition(".")
            start = self._in_enclosing_scopes(owner.path, facts, definition, head) or [
                location for location in self.in_module(owner.path, head) if location.definition != definition
            ]
            if not start:
                # ``class Path(Path)``: the base is the name's binding before this class, an import.
                start = self.imported(owner.path, head)
            found.extend(t for t in self.expression(owner.path, rest, start) if is_class(t))
        return unique(found)

    def _in_enclosing_scopes(
        self, path: str, facts: FileFacts, definition: Definition, name: str
    ) -> list[SymbolLocation]:
        """``name`` among the definitions of the scopes around ``definition`` (not the module's), innermost
        first: a nested class extending its sibling."""
        scope = definition.parent
        while scope is not None:
            found = [
                d for d in facts.definitions if d.parent == scope and d.name == name and d is not definition
            ]
            if found:
                return [SymbolLocation(path, d) for d in scope_bindings(found, facts.language)[name]]
            scope = scope.rpartition(".")[0] or None
        return []

    # --- dotted expressions --------------------------------------------------------------------------

    def expression(
        self, path: str, dotted: str, first: list[SymbolLocation] | None = None
    ) -> list[SymbolLocation]:
        """``a.b.c`` in the module scope of ``path``; with ``first``, the members ``a.b.c`` of those."""
        parts = [part for part in dotted.split(".") if part]
        if first is not None:
            targets, members = first, parts
        elif not parts:
            return []
        else:
            targets, members = self.module_prefix(path, parts) or (self.in_module(path, parts[0]), parts[1:])
        for part in members:
            targets = self.member(targets, part)
            if not targets:
                return []
        return targets

    def module_prefix(self, path: str, parts: Sequence[str]) -> tuple[list[SymbolLocation], list[str]] | None:
        """The longest prefix of a dotted expression written exactly as a whole-module import of ``path``
        (``import a.b`` then ``a.b.f``: the module ``a/b``, decision 3) and the parts after it; None if none."""
        facts = self.facts(path)
        if facts is not None and len(parts) > 1:
            modules = {
                imp.module: imp
                for imp in facts.imports
                if not imp.names and not imp.is_star and imp.alias is None
            }
            for cut in range(len(parts), 1, -1):
                imp = modules.get(".".join(parts[:cut]))
                if imp is not None:
                    paths = self.resolved_import(path, imp).paths
                    if paths:
                        return [SymbolLocation(p, None) for p in paths], list(parts[cut:])
        return None

    def member(self, owners: Sequence[SymbolLocation], name: str) -> list[SymbolLocation]:
        """``owner.name`` for each owner: a module's symbol or submodule, a class's member, or a member of the
        class a function returns."""
        found: list[SymbolLocation] = []
        for owner in owners:
            if owner.definition is None:
                found.extend(self.member_of_module(owner.path, name))
            elif is_class(owner) or owner.definition.kind is SymbolKind.MODULE:
                found.extend(self.class_member(owner, name))  # a module written inline (Rust ``mod m {}``)
            else:
                returned = self.returned_class(owner)
                if returned is not None:
                    found.extend(self.class_member(returned, name))
        return unique(found)

    def variable_type(self, location: SymbolLocation, source: bytes | None = None) -> str | None:
        """The expression that gives the variable or field ``location`` its class, for the caller to resolve
        where it is written: the callee of ``x = Cls(...)`` (or ``make(...)``) with ``()`` appended, else the
        type its declaration writes or implies (the language's ``field_type``: ``cache: Cache``,
        ``self.store = store`` with ``store: Store``; ``source`` is the file's text, else asked of the
        resolver's source provider); None when neither says."""
        definition = location.definition
        if definition is None or definition.kind in CLASS_LIKE_KINDS:
            return None
        match = _CONSTRUCTED.search(definition.signature)
        if match:
            return match.group(1) + "()"
        language = self.language(location.path)
        if language is None:
            return None
        if source is None and self._source_for is not None:
            source = self._source_for(location.path)
        try:
            return language.field_type(location.path, source or b"", definition)
        except Exception:  # a grammar surprise must never fail a request
            return None

    def alias_target(self, location: SymbolLocation) -> list[SymbolLocation]:
        """What a top-level variable that only renames another name binds (``isfuture =
        base_futures.isfuture``, a common re-export); empty for any other definition."""
        definition = location.definition
        if definition is None or definition.parent is not None or definition.kind not in _VARIABLE_KINDS:
            return []
        match = _ALIAS.match(definition.signature.strip())
        if match is None or match.group(1) == definition.name:
            return []
        return [t for t in self.expression(location.path, match.group(1)) if t.definition is not definition]

    def module_names(self, path: str) -> list[str]:
        """Every top-level name the module ``path`` gives an importer, unresolved (cheap): its own
        definitions, the names it imports (re-exports) and those of the modules it star-imports."""
        names: dict[str, None] = {}
        self._module_names(path, names, set(), 0)
        return list(names)

    def _module_names(self, path: str, names: dict[str, None], seen: set[str], hops: int) -> None:
        facts = self.facts(path)
        if facts is None or path in seen or hops > _MAX_HOPS:
            return
        seen.add(path)
        for name in self.top_level(path):
            names.setdefault(name, None)
        bound, stars = self._bindings(facts)
        for name in bound:
            names.setdefault(name, None)
        for imp in stars:
            for target in self.resolved_import(path, imp).paths:
                self._module_names(target, names, seen, hops + 1)

    def returned_class(self, function: SymbolLocation) -> SymbolLocation | None:
        """The class a function's annotation says it returns (``def make() -> Foo``)."""
        if function.definition is None:
            return None
        signature = function.definition.signature
        match = _RETURN_TYPE.search(signature) or _TS_RETURN_TYPE.search(signature)
        if match is None:
            return None
        classes = [t for t in self.expression(function.path, match.group(1)) if is_class(t)]
        return classes[0] if classes else None


def span_text(source: bytes, span: Span) -> str:
    lines = source.split(b"\n", span.end_line + 1)[span.start_line : span.end_line + 1]
    if not lines:
        return ""
    if len(lines) == 1:
        return lines[0][span.start_col : span.end_col].decode("utf-8", errors="replace")
    lines[0] = lines[0][span.start_col :]
    lines[-1] = lines[-1][: span.end_col]
    return b"\n".join(lines).decode("utf-8", errors="replace")
