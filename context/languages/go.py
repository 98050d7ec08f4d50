"""Go: package clause, funcs, methods (``Type.Method``), types (struct/interface/other), struct fields,
interface methods, top-level consts and vars, ``//`` doc comments; imports with aliases (``.`` is a star
import, ``_`` a side-effect import); exports are the capitalised top-level names.

Resolution: the nearest ``go.mod`` above the importer gives the module path; an import inside that module
path is the package directory (all its ``.go`` files; ``_test.go`` only for test importers). Local
``replace`` directives, a ``vendor/`` directory and the other modules of a ``go.work`` are followed;
everything else (stdlib, third-party) is external.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterable
from functools import lru_cache

import tree_sitter
import tree_sitter_go

from roost.context.facts import (
    Definition,
    Export,
    FileFacts,
    Import,
    ResolvedImport,
    SymbolKind,
)
from roost.context.languages._common import (
    OutlineFirstLanguage,
    OutlineSkips,
    RawDefinition,
    join_rel,
    leading_comment,
    load_query,
    parent_dirs,
    qualify,
    query_matches,
    read_project_file,
    rel_join,
    signature_text,
    signature_until_body,
    span_of,
    text,
    unquote,
)
from roost.context.languages.base import WorkspaceLayout

_COMMENT = frozenset({"comment"})
# ``func (w *Warehouse[T]) Add(`` → ``w``: the receiver variable of a method declaration.
_RECEIVER = re.compile(r"^func\s*\(\s*([A-Za-z_]\w*)\s+\*?\s*[A-Za-z_]")
_GROUPED_DECLARATIONS = frozenset({"type_declaration", "const_declaration", "var_declaration"})
_MULTI_NAME = frozenset({"const_spec", "var_spec"})
_KEYWORD = {"type_spec": "type", "type_alias": "type", "const_spec": "const", "var_spec": "var"}


def _doc_anchor(node: tree_sitter.Node) -> tree_sitter.Node:
    """A spec's comment sits above ``type X …`` when alone, above the spec inside a ``( … )`` group."""
    parent = node.parent
    if parent is not None and parent.type == "var_spec_list":
        return node
    if parent is not None and parent.type in _GROUPED_DECLARATIONS and parent.named_child_count == 1:
        return parent
    return node


def _spec_signature(source: bytes, node: tree_sitter.Node, type_value: tree_sitter.Node | None) -> str:
    keyword = _KEYWORD[node.type]
    end = node.end_byte
    if type_value is not None and type_value.type in ("struct_type", "interface_type"):
        brace = source.find(b"{", type_value.start_byte, type_value.end_byte)
        end = brace if brace >= 0 else end
    return f"{keyword} {signature_text(source, node.start_byte, end)}"


def _type_kind(type_value: tree_sitter.Node | None) -> SymbolKind:
    if type_value is None:
        return SymbolKind.TYPE
    if type_value.type == "struct_type":
        return SymbolKind.STRUCT
    if type_value.type == "interface_type":
        return SymbolKind.INTERFACE
    return SymbolKind.TYPE


def _import(source: bytes, node: tree_sitter.Node) -> Import | None:
    path_node = node.child_by_field_name("path")
    if path_node is None:
        return None
    module = unquote(text(source, path_node))
    name = node.child_by_field_name("name")
    span = span_of(node)
    if name is None:
        return Import(module, span)
    if name.type == "dot":  # ``import . "strings"``: every exported name in scope
        return Import(module, span, is_star=True)
    return Import(module, span, alias=text(source, name))


class GoSupport(OutlineFirstLanguage):
    name = "go"
    extensions = (".go",)
    reference_query = "go_references.scm"

    def _grammar(self) -> object:
        return tree_sitter_go.language()

    def _outline(self, path: str, source: bytes, tree: tree_sitter.Tree) -> tuple[FileFacts, OutlineSkips]:
        query = load_query(self._language, "go.scm")
        facts = FileFacts(path=path, language=self.name)
        raws: list[RawDefinition] = []
        skips = OutlineSkips(set(), [])
        name_starts, import_ranges = skips.name_starts, skips.import_ranges
        for _, captures in query_matches(query, tree.root_node):
            def_key = next((key for key in captures if key.startswith("def.")), None)
            if def_key is not None:
                node = captures[def_key][0]
                # ``const a, b = 1, 2`` declares several names in one spec.
                names = node.children_by_field_name("name") if node.type in _MULTI_NAME else captures["name"]
                for name_node in names:
                    if name_node.type != "identifier" and node.type in _MULTI_NAME:
                        continue
                    if name_node.start_byte in name_starts:
                        continue
                    name_starts.add(name_node.start_byte)
                    raws.append(self._definition(def_key[4:], node, name_node, captures, source))
            elif "import" in captures:
                node = captures["import"][0]
                imp = _import(source, node)
                if imp is not None:
                    facts.imports.append(imp)
                import_ranges.append((node.start_byte, node.end_byte))
            elif "package" in captures:
                facts.package = text(source, captures["package"][0])
        facts.definitions = qualify(raws)
        # Go exports by spelling: a capitalised top-level name is visible to importers.
        facts.exports = [
            Export(d.name) for d in facts.definitions if d.parent is None and d.name[:1].isupper()
        ]
        return facts, skips

    def _definition(
        self,
        kind_name: str,
        node: tree_sitter.Node,
        name_node: tree_sitter.Node,
        captures: dict[str, list[tree_sitter.Node]],
        source: bytes,
    ) -> RawDefinition:
        name = text(source, name_node)
        explicit_parent = None
        if kind_name == "method" and node.type == "method_declaration":
            kind = SymbolKind.METHOD
            explicit_parent = text(source, captures["receiver_type"][0])
            signature = signature_until_body(source, node)
        elif kind_name == "function":
            kind = SymbolKind.FUNCTION
            signature = signature_until_body(source, node)
        elif kind_name == "type":
            type_value = captures.get("type_value", [None])[0]
            kind = _type_kind(type_value) if node.type == "type_spec" else SymbolKind.TYPE
            signature = _spec_signature(source, node, type_value)
        elif kind_name in ("constant", "variable"):
            kind = SymbolKind(kind_name)
            signature = _spec_signature(source, node, None)
        else:  # struct fields, interface methods
            kind = SymbolKind(kind_name)
            signature = signature_text(source, node.start_byte, node.end_byte)
        doc = leading_comment(_doc_anchor(node), source, _COMMENT)
        return RawDefinition(node, name, name_node, kind, signature, doc, explicit_parent=explicit_parent)

    def bound_name(self, imp: Import) -> str | None:
        """``import "example.com/shop/models"`` binds ``models`` (Go convention: the package name is the last
        path element; a ``/vN`` major-version suffix and a ``.vN``/``-go`` gopkg style are not part of it)."""
        if imp.is_star or imp.alias == "_":
            return None
        if imp.alias:
            return imp.alias
        return go_package_name(imp.module)

    def self_names(self) -> tuple[str, ...]:
        return ()  # Go receivers are named per method (``u *User``): see method_receiver

    def method_receiver(self, method: Definition) -> str | None:
        if method.kind is not SymbolKind.METHOD or method.parent is None:
            return None
        match = _RECEIVER.match(method.signature)
        return match.group(1) if match and match.group(1) != "_" else None

    def package_dirs(self, path: str, package: str, directories: Iterable[str]) -> list[str]:
        return [posixpath.dirname(path)]  # a Go package is one directory

    def sees_package_file(self, path: str, other: str) -> bool:
        # ``_test.go`` files join the package only when testing: ordinary files never see them.
        return path.endswith("_test.go") or not other.endswith("_test.go")

    def resolve_import(self, imp: Import, importer: str, layout: WorkspaceLayout) -> ResolvedImport:
        include_tests = importer.endswith("_test.go")
        for directory in parent_dirs(importer):
            raw = read_project_file(layout, rel_join(directory, "go.mod"))
            if raw is None:
                continue
            module_path, replaces = parse_go_mod(raw)
            package_dir = _package_dir(imp.module, directory, module_path, replaces)
            if package_dir is not None:
                # Inside the module but missing: unresolved (empty paths), not external.
                return ResolvedImport(_go_files(layout, package_dir, include_tests))
            vendored = _go_files(layout, rel_join(directory, "vendor", imp.module), include_tests)
            if vendored:
                return ResolvedImport(vendored)
            break
        package_dir = _package_dir_in_go_work(imp.module, importer, layout)
        if package_dir is not None:
            return ResolvedImport(_go_files(layout, package_dir, include_tests))
        return ResolvedImport(external=True)


def _package_dir_in_go_work(import_path: str, importer: str, layout: WorkspaceLayout) -> str | None:
    """Another module of the same ``go.work`` workspace (``use ./other``)."""
    for directory in parent_dirs(importer):
        raw = read_project_file(layout, rel_join(directory, "go.work"))
        if raw is None:
            continue
        for used in parse_go_work(raw):
            module_dir = join_rel(directory, used)
            if module_dir is None:
                continue
            go_mod = read_project_file(layout, rel_join(module_dir, "go.mod"))
            if go_mod is None:
                continue
            module_path, _ = parse_go_mod(go_mod)
            package_dir = _package_dir(import_path, module_dir, module_path, ())
            if package_dir is not None:
                return package_dir
        return None
    return None


def _package_dir(
    import_path: str, module_dir: str, module_path: str | None, replaces: tuple[tuple[str, str], ...]
) -> str | None:
    if module_path and (import_path == module_path or import_path.startswith(module_path + "/")):
        return rel_join(module_dir, import_path[len(module_path) :].lstrip("/"))
    for old, new in replaces:
        if import_path == old or import_path.startswith(old + "/"):
            target = join_rel(module_dir, new)
            if target is not None:
                return rel_join(target, import_path[len(old) :].lstrip("/"))
    return None


def _go_files(layout: WorkspaceLayout, directory: str, include_tests: bool) -> tuple[str, ...]:
    if directory and not layout.is_dir(directory):
        return ()
    return tuple(
        sorted(
            path
            for path in layout.files_in_dir(directory)
            if path.endswith(".go") and (include_tests or not path.endswith("_test.go"))
        )
    )


_MODULE_LINE = re.compile(r"^\s*module\s+(\S+)", re.M)
_REPLACE = re.compile(r"^\s*(?:replace\s+)?(\S+)(?:\s+v\S+)?\s+=>\s+(\.{1,2}/\S*|\.{1,2})\s*$", re.M)


@lru_cache(maxsize=64)
def parse_go_mod(raw: str) -> tuple[str | None, tuple[tuple[str, str], ...]]:
    """The module path and the local-directory ``replace`` directives of a go.mod."""
    without_comments = re.sub(r"//[^\n]*", "", raw)
    match = _MODULE_LINE.search(without_comments)
    module_path = unquote(match.group(1)) if match else None
    replaces = tuple((old, new) for old, new in _REPLACE.findall(without_comments) if old != "module")
    return module_path, replaces


_MAJOR_VERSION = re.compile(r"^v[0-9]+$")


def go_package_name(import_path: str) -> str:
    parts = [part for part in import_path.split("/") if part]
    if len(parts) > 1 and _MAJOR_VERSION.match(parts[-1]):
        parts.pop()
    last = parts[-1] if parts else import_path
    last = re.sub(r"\.v[0-9]+$", "", last)  # gopkg.in/yaml.v3
    for prefix in ("go-",):
        if last.startswith(prefix) and len(last) > len(prefix):
            last = last[len(prefix) :]
    return re.sub(r"-go$", "", last).replace("-", "_").replace(".", "_")


_USE_BLOCK = re.compile(r"^\s*use\s*\(([^)]*)\)", re.M)
_USE_LINE = re.compile(r"^\s*use\s+([^\s(]+)", re.M)


@lru_cache(maxsize=16)
def parse_go_work(raw: str) -> tuple[str, ...]:
    """The module directories a go.work ``use``s."""
    without_comments = re.sub(r"//[^\n]*", "", raw)
    used = [
        unquote(line.strip()) for block in _USE_BLOCK.findall(without_comments) for line in block.splitlines()
    ]
    used.extend(unquote(match) for match in _USE_LINE.findall(without_comments))
    return tuple(path for path in used if path)


LANGUAGE = GoSupport()
