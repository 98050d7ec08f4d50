"""Name resolution on top of stored facts: a name in a module → the definitions it denotes, following
imports, aliases, ``__init__`` re-exports and star imports across files; members of modules and classes
(base classes included).

It works from :class:`FileFacts` and the index's import resolution only, so the current file can be an
unsaved buffer whose facts were extracted from the editor's text rather than the disk.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import PurePosixPath

from roost.context.facts import (
    CLASS_LIKE_KINDS,
    Definition,
    FileFacts,
    Import,
    ImportedName,
    ResolvedImport,
)
from roost.context.languages import language_named
from roost.context.languages.base import bases_in_signature
from roost.context.retrieval.workspace import CodeWorkspace

_RETURN_TYPE = re.compile(r"->\s*['\"]?([A-Za-z_][\w.]*)")
_MAX_DEPTH = 8
# A file's import bindings: local name → (import, imported name or None for a whole module); star imports.
_Bindings = tuple[dict[str, list[tuple[Import, ImportedName | None]]], list[Import]]


@dataclass(frozen=True, slots=True)
class Target:
    """What a name denotes: a definition in a file, or (``definition is None``) the module file itself."""

    path: str
    definition: Definition | None = None

    @property
    def is_module(self) -> bool:
        return self.definition is None

    @property
    def is_class(self) -> bool:
        return self.definition is not None and self.definition.kind in CLASS_LIKE_KINDS


def module_name_of(path: str) -> str:
    """``pkg/sub/__init__.py`` → ``sub``; ``pkg/util.py`` → ``util`` (the name a submodule is imported by)."""
    pure = PurePosixPath(path)
    if pure.stem in {"__init__", "index", "mod"} and pure.parent.name:
        return pure.parent.name
    return pure.stem


class NameResolver:
    def __init__(
        self,
        workspace: CodeWorkspace,
        overrides: dict[str, FileFacts] | None = None,
        top_level_cache: dict[str, tuple[FileFacts, dict[str, Definition]]] | None = None,
        import_cache: dict[str, tuple[FileFacts, _Bindings]] | None = None,
    ) -> None:
        self.workspace = workspace
        # Facts that win over the stored ones (the unsaved buffer of the file being edited).
        self.overrides = overrides or {}
        # path → (facts, top-level name → last definition); valid while the facts object is the same.
        self._top_level = top_level_cache if top_level_cache is not None else {}
        self._import_bindings: dict[str, tuple[FileFacts, _Bindings]] = (
            import_cache if import_cache is not None else {}
        )
        self._import_cache: dict[tuple[str, Import], ResolvedImport] = {}

    def facts(self, path: str) -> FileFacts | None:
        return self.overrides.get(path) or self.workspace.file_facts(path)

    def resolved_import(self, importer: str, imp: Import) -> ResolvedImport:
        key = (importer, imp)
        cached = self._import_cache.get(key)
        if cached is None:
            try:
                cached = self.workspace.resolve_import(importer, imp)
            except Exception:  # a resolver bug must never fail a completion request
                cached = ResolvedImport()
            self._import_cache[key] = cached
        return cached

    def import_paths(self, importer: str, imp: Import) -> tuple[str, ...]:
        return self.resolved_import(importer, imp).paths

    # --- names in a module scope ---------------------------------------------------------------------

    def in_module(self, path: str, name: str, depth: int = 0) -> list[Target]:
        """What ``name`` denotes at the top level of the module ``path``."""
        facts = self.facts(path)
        if facts is None or depth > _MAX_DEPTH:
            return []
        definition = self.top_level(path, facts).get(name)
        if definition is not None:
            return [Target(path, definition)]
        return self._through_imports(facts, name, depth)

    def top_level(self, path: str, facts: FileFacts) -> dict[str, Definition]:
        cached = self._top_level.get(path)
        if cached is not None and cached[0] is facts:
            return cached[1]
        # The last binding wins (``@overload`` stubs, then the implementation; redefinitions).
        names = {d.name: d for d in facts.definitions if d.parent is None}
        if len(self._top_level) > 4096:
            self._top_level.clear()
        self._top_level[path] = (facts, names)
        return names

    def _bindings(self, facts: FileFacts) -> _Bindings:
        cached = self._import_bindings.get(facts.path)
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
        if len(self._import_bindings) > 4096:
            self._import_bindings.clear()
        self._import_bindings[facts.path] = (facts, bindings)
        return bindings

    def _through_imports(self, facts: FileFacts, name: str, depth: int) -> list[Target]:
        found: list[Target] = []
        names, stars = self._bindings(facts)
        for imp, imported in names.get(name, ()):
            if imported is not None:
                resolved = self.resolved_import(facts.path, imp)
                submodule = resolved.path_for_name(imported.name)
                if submodule is not None:
                    found.append(Target(submodule))
                    continue
                for target_path in resolved.paths:
                    found.extend(self.member_of_module(target_path, imported.name, depth + 1))
                continue
            head = imp.module.split(".")[0]
            if imp.alias is None and head == name and head != imp.module:
                # Python's ``import a.b`` binds ``a``: the package, not the submodule. (A Go import path
                # has dots too, ``example.com/app/base``, and binds its last element: not this.)
                imp = Import(module=head, span=imp.span)
            found.extend(Target(p) for p in self.import_paths(facts.path, imp))
        if found:
            return _unique(found)
        for imp in stars:
            for target_path in self.import_paths(facts.path, imp):
                found.extend(self.in_module(target_path, name, depth + 1))
        return _unique(found)

    def member_of_module(self, path: str, name: str, depth: int = 0) -> list[Target]:
        """``module.name``: a symbol defined or re-exported there, or a submodule of a package."""
        found = self.in_module(path, name, depth)
        if found:
            return found
        pure = PurePosixPath(path)
        if pure.stem == "__init__":
            for candidate in (f"{pure.parent}/{name}.py", f"{pure.parent}/{name}/__init__.py"):
                if self.facts(candidate) is not None:
                    return [Target(candidate)]
        return []

    # --- members of classes --------------------------------------------------------------------------

    def class_members(self, target: Target, depth: int = 0) -> list[Target]:
        """The definitions directly inside a class, then those of its bases (resolved in its file)."""
        if target.definition is None or depth > _MAX_DEPTH:
            return []
        facts = self.facts(target.path)
        if facts is None:
            return []
        qualified = target.definition.qualified_name
        by_name: dict[str, Target] = {}
        for d in facts.definitions:
            if d.parent == qualified:
                by_name[d.name] = Target(target.path, d)  # the last binding of a name wins
        members = list(by_name.values())
        for base in self.bases(target):
            members.extend(self.class_members(base, depth + 1))
        return members

    def class_member(self, target: Target, name: str) -> list[Target]:
        for member in self.class_members(target):
            if member.definition is not None and member.definition.name == name:
                return [member]
        return []

    def bases(self, target: Target) -> list[Target]:
        """The classes ``target`` extends, as its language names them (the one hook navigation asks too:
        Java ``extends``/``implements``, Go embedded types, Python's parenthesised bases)."""
        definition = target.definition
        facts = self.facts(target.path)
        if definition is None or facts is None:
            return []
        language = language_named(facts.language)
        if language is None:
            names = bases_in_signature(definition)
        else:
            members = [d for d in facts.definitions if d.parent == definition.qualified_name]
            names = language.base_names(definition, members)
        found: list[Target] = []
        for expression in names:
            found.extend(t for t in self.expression(target.path, expression) if t.is_class)
        return found

    # --- dotted expressions --------------------------------------------------------------------------

    def expression(self, path: str, dotted: str, first: list[Target] | None = None) -> list[Target]:
        """``a.b.c`` in the module scope of ``path``; with ``first``, the members ``a.b.c`` of those targets."""
        parts = [p for p in dotted.split(".") if p]
        if not parts:
            return []
        if first is None:
            targets, members = self.in_module(path, parts[0]), parts[1:]
        else:
            targets, members = first, parts
        for part in members:
            targets = self.member(targets, part)
            if not targets:
                return []
        return targets

    def member(self, targets: list[Target], name: str) -> list[Target]:
        found: list[Target] = []
        for target in targets:
            if target.is_module:
                found.extend(self.member_of_module(target.path, name))
            elif target.is_class:
                found.extend(self.class_member(target, name))
            else:
                returned = self.returned_class(target)
                if returned is not None:
                    found.extend(self.class_member(returned, name))
        return _unique(found)

    def returned_class(self, target: Target) -> Target | None:
        """The class a function's annotation says it returns (``def make() -> Foo``)."""
        if target.definition is None:
            return None
        match = _RETURN_TYPE.search(target.definition.signature)
        if match is None:
            return None
        classes = [t for t in self.expression(target.path, match.group(1)) if t.is_class]
        return classes[0] if classes else None


def _unique(targets: list[Target]) -> list[Target]:
    seen: set[tuple[str, str | None, int]] = set()
    out: list[Target] = []
    for target in targets:
        d = target.definition
        key = (target.path, d.qualified_name if d else None, d.span.start_line if d else -1)
        if key not in seen:
            seen.add(key)
            out.append(target)
    return out
