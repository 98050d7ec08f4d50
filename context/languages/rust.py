"""Rust: fns, structs/unions, enums (and variants), traits, impls (methods qualified ``Type.method``),
consts, statics, ``macro_rules!``, modules, fields; ``///`` and ``/** */`` doc comments (attributes between
the comment and the item are skipped).

Imports: every ``use`` tree is flattened (nested groups, ``self``, aliases, globs) into one
:class:`Import` per path prefix: ``use crate::m::{A, b::C as D, e::*}`` → ``crate::m`` {A},
``crate::m::b`` {C as D}, ``crate::m::e`` (star). ``mod x;`` is recorded as ``Import('self::x')``: both
name the child module ``x`` of the current module, so one resolution serves both. Exports: ``pub`` items of
the file's module, and ``pub use`` re-exports (with ``from_module``/``original_name``).

Resolution follows the standard layout from the nearest ``Cargo.toml``: a module path maps to
``<root>/a/b.rs`` or ``<root>/a/b/mod.rs`` (crate roots: ``src/lib.rs``, ``src/main.rs``, ``src/bin/*.rs``,
``tests/*.rs``, ``examples/*.rs``, ``benches/*.rs``, ``build.rs``). ``crate::``, ``self::``, ``super::``,
the crate's own name, local ``path`` dependencies (also via ``[workspace.dependencies]``), and 2018-style
paths to child modules resolve; the path walk stops at the first
segment that is not a module file (the rest are items inside it, or inline ``mod { }`` blocks).
Other crates (``std``, dependencies) are external. ``#[path]`` attributes are not followed.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache, partial

import tree_sitter
import tree_sitter_rust

from roost.context.facts import (
    Definition,
    Export,
    FileFacts,
    Import,
    ImportedName,
    Reference,
    ResolvedImport,
    SymbolKind,
)
from roost.context.languages import _rust_edits as _edits
from roost.context.languages._common import (
    FunctionOrScope,
    OutlineFirstLanguage,
    OutlineSkips,
    RawDefinition,
    function_statement_counts,
    join_rel,
    leading_comment,
    load_query,
    parent_dirs,
    qualify,
    query_matches,
    read_project_file,
    rel_join,
    signature_text,
    span_of,
    text,
)
from roost.context.languages.base import FunctionBody, MemberAccess, WorkspaceLayout

_COMMENTS = frozenset({"line_comment", "block_comment"})
_ATTRIBUTES = frozenset({"attribute_item"})
_BODY_TYPES = frozenset({"field_declaration_list", "enum_variant_list", "declaration_list"})
_PATH_LEAVES = frozenset({"identifier", "crate", "self", "super", "metavariable"})


def _is_outer_comment(raw: str) -> bool:
    # ``//!`` and ``/*!`` document the enclosing module, not the next item.
    return not raw.startswith(("//!", "/*!"))


def _impl_type_name(source: bytes, node: tree_sitter.Node) -> str:
    """``Point`` for ``impl<T> Trait for Point<T>``, ``Foo`` for ``impl crate::Foo``."""
    while True:
        if node.type == "generic_type":
            inner = node.child_by_field_name("type")
        elif node.type in ("scoped_type_identifier", "scoped_identifier"):
            inner = node.child_by_field_name("name")
        elif node.type in ("reference_type", "pointer_type"):
            inner = node.child_by_field_name("type")
        else:
            return text(source, node)
        if inner is None:
            return text(source, node)
        node = inner


def _signature(source: bytes, node: tree_sitter.Node) -> str:
    if node.type == "macro_definition":
        name = node.child_by_field_name("name")
        return signature_text(source, node.start_byte, name.end_byte if name is not None else node.end_byte)
    body = node.child_by_field_name("body")
    if body is not None and body.type in _BODY_TYPES | {"block"}:
        return signature_text(source, node.start_byte, body.start_byte)
    return signature_text(source, node.start_byte, node.end_byte)


def _path_segments(source: bytes, node: tree_sitter.Node | None) -> list[str]:
    if node is None:
        return []
    if node.type == "scoped_identifier":
        return _path_segments(source, node.child_by_field_name("path")) + [
            text(source, node.child_by_field_name("name"))  # type: ignore[arg-type]
        ]
    if node.type in _PATH_LEAVES:
        return [text(source, node)]
    return [text(source, node)]


@dataclass(frozen=True, slots=True)
class _UseLeaf:
    segments: tuple[str, ...]
    alias: str | None = None
    glob: bool = False


def _use_leaves(source: bytes, node: tree_sitter.Node, prefix: tuple[str, ...]) -> list[_UseLeaf]:
    kind = node.type
    if kind == "use_as_clause":
        path = _path_segments(source, node.child_by_field_name("path"))
        alias = node.child_by_field_name("alias")
        return [_UseLeaf(prefix + tuple(path), text(source, alias) if alias is not None else None)]
    if kind == "use_wildcard":
        inner = node.named_children[0] if node.named_children else None
        return [_UseLeaf(prefix + tuple(_path_segments(source, inner)), glob=True)]
    if kind == "scoped_use_list":
        scope = tuple(_path_segments(source, node.child_by_field_name("path")))
        listing = node.child_by_field_name("list")
        return _use_leaves(source, listing, prefix + scope) if listing is not None else []
    if kind == "use_list":
        leaves: list[_UseLeaf] = []
        for child in node.named_children:
            leaves.extend(_use_leaves(source, child, prefix))
        return leaves
    if kind == "scoped_identifier" or kind in _PATH_LEAVES:
        return [_UseLeaf(prefix + tuple(_path_segments(source, node)))]
    return []


def _imports_of_use(source: bytes, node: tree_sitter.Node) -> list[Import]:
    argument = node.child_by_field_name("argument")
    if argument is None:
        return []
    span = span_of(node)
    grouped: dict[str, list[ImportedName]] = {}
    imports: list[Import] = []
    for leaf in _use_leaves(source, argument, ()):
        segments = leaf.segments
        if segments and segments[-1] == "self" and len(segments) > 1:
            segments = segments[:-1]  # ``a::{self}`` imports the module ``a`` itself
        if not segments:
            continue
        if leaf.glob:
            imports.append(Import("::".join(segments), span, is_star=True))
        elif len(segments) == 1:
            imports.append(Import(segments[0], span, alias=leaf.alias))
        else:
            grouped.setdefault("::".join(segments[:-1]), []).append(ImportedName(segments[-1], leaf.alias))
    imports.extend(Import(module, span, names=tuple(names)) for module, names in grouped.items())
    return imports


def _is_public_item(node: tree_sitter.Node) -> bool:
    """A ``pub`` (any flavour) item directly in the file's module, not inside an inline ``mod`` or impl."""
    parent = node.parent
    if parent is None or parent.type != "source_file":
        return False
    first = node.child(0)
    return first is not None and first.type == "visibility_modifier"


def _reexports(imports: list[Import]) -> list[Export]:
    exports: list[Export] = []
    for imp in imports:
        if imp.is_star:
            exports.append(Export("*", from_module=imp.module))
        elif imp.names:
            exports.extend(
                Export(n.local_name, from_module=imp.module, original_name=n.name) for n in imp.names
            )
        else:
            name = imp.module.rsplit("::", 1)[-1]
            exports.append(Export(imp.alias or name, from_module=imp.module, original_name=name))
    return exports


class RustSupport(OutlineFirstLanguage):
    name = "rust"
    extensions = (".rs",)
    reference_query = "rust_references.scm"

    def _grammar(self) -> object:
        return tree_sitter_rust.language()

    def _outline(self, path: str, source: bytes, tree: tree_sitter.Tree) -> tuple[FileFacts, OutlineSkips]:
        query = load_query(self._language, "rust.scm")
        facts = FileFacts(path=path, language=self.name)
        raws: list[RawDefinition] = []
        skips = OutlineSkips(set(), [])
        name_starts, import_ranges = skips.name_starts, skips.import_ranges
        for _, captures in query_matches(query, tree.root_node):
            def_key = next((key for key in captures if key.startswith("def.")), None)
            if def_key is not None:
                node, name_node = captures[def_key][0], captures["name"][0]
                name_starts.add(name_node.start_byte)
                raws.append(self._definition(def_key[4:], node, name_node, source))
                if _is_public_item(node):
                    facts.exports.append(Export(text(source, name_node)))
                if node.type == "mod_item" and node.child_by_field_name("body") is None:
                    facts.imports.append(Import(f"self::{text(source, name_node)}", span_of(node)))
            elif "scope.impl" in captures:
                node = captures["scope.impl"][0]
                type_node = captures["impl_type"][0]
                name = _impl_type_name(source, type_node)
                raws.append(RawDefinition(node, name, type_node, SymbolKind.TYPE, "", None, emit=False))
            elif "use" in captures:
                node = captures["use"][0]
                imports = _imports_of_use(source, node)
                facts.imports.extend(imports)
                if _is_public_item(node):  # ``pub use``: a re-export
                    facts.exports.extend(_reexports(imports))
                import_ranges.append((node.start_byte, node.end_byte))
            elif "extern_crate" in captures:
                node = captures["extern_crate"][0]
                crate_name = node.child_by_field_name("name")
                alias = node.child_by_field_name("alias")
                if crate_name is not None:
                    facts.imports.append(
                        Import(
                            text(source, crate_name),
                            span_of(node),
                            alias=text(source, alias) if alias else None,
                        )
                    )
                import_ranges.append((node.start_byte, node.end_byte))
        facts.definitions = qualify(raws)
        facts.imports.sort(key=lambda imp: (imp.span.start_line, imp.span.start_col))
        return facts, skips

    def _definition(
        self, kind_name: str, node: tree_sitter.Node, name_node: tree_sitter.Node, source: bytes
    ) -> RawDefinition:
        kind = SymbolKind(kind_name)
        if kind is SymbolKind.FUNCTION:
            holder = node.parent.parent if node.parent is not None else None
            if holder is not None and holder.type in ("impl_item", "trait_item"):
                kind = SymbolKind.METHOD
        doc = leading_comment(node, source, _COMMENTS, _ATTRIBUTES, accept=_is_outer_comment)
        return RawDefinition(node, text(source, name_node), name_node, kind, _signature(source, node), doc)

    def bound_name(self, imp: Import) -> str | None:
        """``use serde;`` binds ``serde``; ``mod x;`` (recorded as ``self::x``) binds ``x``."""
        if imp.names or imp.is_star:
            return None
        return imp.alias or imp.module.rsplit("::", 1)[-1]

    def member_access(self, definition: Definition) -> MemberAccess:
        # Fields only: a method without ``pub`` may implement a trait (``fn fmt``), public wherever it is.
        if definition.kind is SymbolKind.FIELD and not definition.signature.startswith("pub"):
            return "module"
        return "public"

    def sees_module_private(self, path: str, other: str) -> bool:
        # A module's private items are seen by the modules inside it: ``src/a.rs``'s in ``src/a/…``.
        home, file = posixpath.split(other)
        if file not in ("mod.rs", "lib.rs", "main.rs"):
            home = other.removesuffix(".rs")
        return path == other or path.startswith(f"{home}/" if home else "")

    def self_names(self) -> tuple[str, ...]:
        return ("self", "Self")

    def function_statements(self, source: bytes, tree: tree_sitter.Tree) -> dict[str, FunctionBody]:
        return function_statement_counts(tree.root_node, partial(_rust_function, source), _COMMENTS)

    # -- writing use items and moving items between sibling modules (``_rust_edits``) ------------------

    moves_between_modules = True
    exports_gate_imports = True
    member_separator = "::"
    paths_reach_without_imports = True
    project_root_markers = ("Cargo.toml",)

    def render_import(self, module: str, names: Sequence[ImportedName]) -> str | None:
        rendered = [n.name + (f" as {n.alias}" if n.alias else "") for n in names]
        return (
            f"use {module}::{rendered[0]};"
            if len(rendered) == 1
            else f"use {module}::{{{', '.join(rendered)}}};"
        )

    def import_specifier(
        self, path: str, text: str, target: str, exists: Callable[[str], bool]
    ) -> str | None:
        return _edits.import_specifier(path, text, target, exists, self._language)

    def with_import_names(
        self, path: str, text: str, module: str, names: Sequence[ImportedName], like: str | None = None
    ) -> str | None:
        try:
            facts: FileFacts | None = self.facts_of_text(path, text)
        except Exception:  # a half-written file: nothing is known bound, the edit code decides
            facts = None
        bound = {d.name for d in facts.definitions if d.parent is None} if facts else set()
        for imp in facts.imports if facts else []:
            bound.update(n.local_name for n in imp.names)
            if not imp.names and (name := self.bound_name(imp)):
                bound.add(name)
        return _edits.with_import_names(text, module, names, bound, self._language)

    def with_import_redirected(
        self, path: str, text: str, imp: Import, name: str, module: str | None
    ) -> str | None:
        return _edits.with_import_redirected(text, imp, name, module, self._language)

    def sibling_module(self, module: str, source_path: str, target_path: str) -> str | None:
        return _edits.sibling_module(module, source_path, target_path)

    def module_seen_from_sibling(self, module: str, source_path: str) -> str | None:
        return _edits.module_seen_from_sibling(module, source_path)

    def declaration_ranges(
        self, path: str, text: str, definition: Definition
    ) -> list[tuple[int, int]] | None:
        return _edits.declaration_ranges(text, definition, self._language)

    def with_definition_exported(self, path: str, text: str, definition: Definition) -> str | None:
        return _edits.with_definition_exported(text, definition, self._language)

    def local_names(self, path: str, text: str) -> frozenset[str]:
        return _edits.local_names(text, self._language)

    def qualified_uses_missed(self, path: str, text: str, name: str) -> list[Reference]:
        return _edits.macro_path_uses(text, name, self._language)

    def module_visible_from(
        self, module: str, user: str, exists: Callable[[str], bool], text_of: Callable[[str], str]
    ) -> bool:
        return _edits.module_visible_from(module, user, exists, text_of)

    def move_target_allowed(self, source_path: str, target_path: str) -> bool:
        # Sibling modules only: a crate root or a ``mod.rs`` is the parent of the others.
        parents = ("lib.rs", "main.rs", "mod.rs", "build.rs")
        return (
            posixpath.basename(source_path) not in parents and posixpath.basename(target_path) not in parents
        )

    def resolve_import(self, imp: Import, importer: str, layout: WorkspaceLayout) -> ResolvedImport:
        crate = _crate_of(importer, layout)
        segments = imp.module.split("::")
        head = segments[0]
        start: tuple[str, ...]
        if head == "crate":
            start, rest, root = (), segments[1:], crate
        elif head == "self":
            start, rest, root = crate.module_path, segments[1:], crate
        elif head == "super":
            supers = 0
            while supers < len(segments) and segments[supers] == "super":
                supers += 1
            if supers > len(crate.module_path):
                return ResolvedImport()
            start, rest, root = crate.module_path[: len(crate.module_path) - supers], segments[supers:], crate
        elif crate.package_name is not None and head == crate.package_name and crate.library is not None:
            start, rest, root = (), segments[1:], crate.library
        elif (dependency := _path_dependency(head, crate.manifest_dir, layout)) is not None:
            start, rest, root = (), segments[1:], dependency
        elif _module_file(crate, (*crate.module_path, head), layout) is not None:
            start, rest, root = crate.module_path, segments, crate  # 2018 path to a child module
        else:
            return ResolvedImport(external=True)
        path, file = _walk(root, start, rest, layout)
        if file is None:
            return ResolvedImport()
        paths = [file]
        name_paths: list[tuple[str, str]] = []
        if len(path) == len(start) + len(rest):
            for name in imp.names:  # ``use crate::a::{b}`` where ``b`` is a module file
                submodule = _module_file(root, (*path, name.name), layout)
                if submodule is not None:
                    name_paths.append((name.name, submodule))
                    if submodule not in paths:
                        paths.append(submodule)
        return ResolvedImport(tuple(paths), name_paths=tuple(name_paths))


@dataclass(frozen=True, slots=True)
class _Crate:
    root_dir: str  # where top-level modules live (``src``)
    root_file: str | None  # ``src/lib.rs`` …; None when unknown
    module_path: tuple[str, ...]  # the importer's module inside the crate
    package_name: str | None = None
    library: _Crate | None = None  # the package's library crate, for ``use my_pkg::…`` from bins/tests
    manifest_dir: str | None = None  # where the package's Cargo.toml is


_CRATE_ROOT_DIRS = ("tests", "examples", "benches")


def _crate_of(importer: str, layout: WorkspaceLayout) -> _Crate:
    manifest_dir: str | None = None
    for directory in parent_dirs(importer):
        if read_project_file(layout, rel_join(directory, "Cargo.toml")) is not None:
            manifest_dir = directory
            break
    if manifest_dir is None:
        return _crate_without_manifest(importer, layout)
    manifest = read_project_file(layout, rel_join(manifest_dir, "Cargo.toml")) or ""
    package_name = _package_name(manifest)
    src = rel_join(manifest_dir, "src")
    library_file = rel_join(src, "lib.rs")
    library = _Crate(src, library_file, ()) if layout.exists(library_file) else None
    inside = importer[len(manifest_dir) + 1 :] if manifest_dir else importer
    parts = inside.split("/")
    is_root = (
        inside in ("src/lib.rs", "src/main.rs", "build.rs")
        or (len(parts) == 3 and parts[0] == "src" and parts[1] == "bin")
        or (len(parts) == 4 and parts[:2] == ["src", "bin"] and parts[3] == "main.rs")
        or (len(parts) == 2 and parts[0] in _CRATE_ROOT_DIRS)
    )
    if is_root:
        return _Crate(posixpath.dirname(importer), importer, (), package_name, library, manifest_dir)
    root_file: str | None = None
    if parts[0] == "src" and len(parts) > 3 and parts[1] == "bin":  # modules of ``src/bin/x/main.rs``
        root_dir = rel_join(manifest_dir, "src", "bin", parts[2])
        root_file = rel_join(root_dir, "main.rs")
    elif parts[0] == "src":
        root_dir = src
        root_file = library_file if library else rel_join(src, "main.rs")
    elif parts[0] in _CRATE_ROOT_DIRS:  # ``tests/common/mod.rs``: a module of some test crate
        root_dir = rel_join(manifest_dir, parts[0])
    else:
        root_dir = posixpath.dirname(importer)
    return _Crate(root_dir, root_file, _module_path(importer, root_dir), package_name, library, manifest_dir)


def _crate_without_manifest(importer: str, layout: WorkspaceLayout) -> _Crate:
    for directory in parent_dirs(importer):
        for root_name in ("lib.rs", "main.rs"):
            candidate = rel_join(directory, root_name)
            if layout.exists(candidate):
                if candidate == importer:
                    return _Crate(directory, importer, ())
                return _Crate(directory, candidate, _module_path(importer, directory))
    return _Crate(posixpath.dirname(importer), importer, ())


def _module_path(file: str, root_dir: str) -> tuple[str, ...]:
    inside = file[len(root_dir) + 1 :] if root_dir else file
    parts = inside[: -len(".rs")].split("/") if inside.endswith(".rs") else inside.split("/")
    if parts and parts[-1] == "mod":
        parts = parts[:-1]
    return tuple(part for part in parts if part)


def _module_file(crate: _Crate, module_path: tuple[str, ...], layout: WorkspaceLayout) -> str | None:
    if not module_path:
        return crate.root_file
    base = rel_join(crate.root_dir, *module_path)
    for candidate in (base + ".rs", rel_join(base, "mod.rs")):
        if layout.exists(candidate):
            return candidate
    return None


def _walk(
    crate: _Crate, start: tuple[str, ...], rest: list[str], layout: WorkspaceLayout
) -> tuple[tuple[str, ...], str | None]:
    """Follow ``rest`` from module ``start`` while segments are module files; the last file reached."""
    path = start
    file = _module_file(crate, path, layout)
    for segment in rest:
        if segment in ("self", "*"):
            continue
        found = _module_file(crate, (*path, segment), layout)
        if found is None:
            break
        path, file = (*path, segment), found
    return path, file


_PACKAGE_NAME = re.compile(r"^\s*name\s*=\s*[\"']([^\"']+)[\"']", re.M)


@lru_cache(maxsize=64)
def _package_name(manifest: str) -> str | None:
    """The crate name Rust code uses for this package (``[lib] name`` wins, dashes become underscores)."""
    sections = re.split(r"^\s*\[", manifest, flags=re.M)
    found: dict[str, str] = {}
    for section in sections:
        header = section.split("]", 1)[0].strip()
        match = _PACKAGE_NAME.search(section)
        if match and header in ("package", "lib"):
            found[header] = match.group(1)
    name = found.get("lib") or found.get("package")
    return name.replace("-", "_") if name else None


_INLINE_PATH_DEPENDENCY = re.compile(
    r"^\s*([A-Za-z0-9_-]+)\s*=\s*\{[^}\n]*\bpath\s*=\s*[\"']([^\"']+)[\"']", re.M
)
_TABLE_PATH_DEPENDENCY = re.compile(
    r"^\s*\[(?:workspace\.|target\.[^\]]*\.)?(?:dev-|build-)?dependencies\.([A-Za-z0-9_-]+)\]\s*$"
    r"(?:\n(?!\s*\[)[^\n]*)*?\n\s*path\s*=\s*[\"']([^\"']+)[\"']",
    re.M,
)


@lru_cache(maxsize=64)
def _path_dependencies(manifest: str) -> tuple[tuple[str, str], ...]:
    """``(crate name as written in code, relative path)`` of the ``path = …`` dependencies of a manifest."""
    found = _INLINE_PATH_DEPENDENCY.findall(manifest) + _TABLE_PATH_DEPENDENCY.findall(manifest)
    return tuple((name.replace("-", "_"), path) for name, path in found)


def _path_dependency(crate_name: str, manifest_dir: str | None, layout: WorkspaceLayout) -> _Crate | None:
    """The library crate of a local ``path`` dependency (also through ``[workspace.dependencies]``)."""
    if manifest_dir is None:
        return None
    for directory in parent_dirs(rel_join(manifest_dir, "Cargo.toml")):
        manifest = read_project_file(layout, rel_join(directory, "Cargo.toml"))
        if manifest is None:
            continue
        for name, path in _path_dependencies(manifest):
            if name != crate_name:
                continue
            package_dir = join_rel(directory, path)
            if package_dir is None:
                return None
            library_file = rel_join(package_dir, "src", "lib.rs")
            if layout.exists(library_file):
                return _Crate(rel_join(package_dir, "src"), library_file, (), manifest_dir=package_dir)
            return None
    return None


def _rust_function(source: bytes, node: tree_sitter.Node) -> FunctionOrScope:
    """``fn`` items with their block (a tail expression such as ``todo!()`` is a statement); impl blocks
    (named by their type: ``Point.new``, whatever the trait), traits and inline modules as scopes. A
    trait's methods without a default body are ``function_signature_item``s, not counted; closures are
    anonymous."""
    if node.type == "function_item":
        name = node.child_by_field_name("name")
        return (text(source, name) if name is not None else None), node.child_by_field_name("body")
    if node.type == "impl_item":
        implemented = node.child_by_field_name("type")
        return (_impl_type_name(source, implemented) if implemented is not None else None), None
    if node.type in ("trait_item", "mod_item"):
        name = node.child_by_field_name("name")
        return (text(source, name) if name is not None else None), None
    return None


LANGUAGE = RustSupport()
