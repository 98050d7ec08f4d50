"""Go: package clause, funcs, methods (``Type.Method``), types (struct/interface/other), struct fields,
interface methods (an interface's signature lists the types it embeds: its bases), top-level consts and
vars, ``//`` doc comments; imports with aliases (``.`` is a star import, ``_`` a side-effect import);
exports are the capitalised top-level names. Import resolution (go.mod, go.work, vendor/) is in
:mod:`._go_modules`.
"""

from __future__ import annotations

import functools
import posixpath
import re
import textwrap
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

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
from roost.context.languages import _go_build, _go_types
from roost.context.languages._common import (
    FunctionOrScope,
    OutlineFirstLanguage,
    OutlineSkips,
    RawDefinition,
    char_offset,
    cut_declaration,
    function_statement_counts,
    leading_comment,
    line_end,
    line_start,
    load_query,
    qualify,
    query_matches,
    signature_text,
    signature_until_body,
    span_of,
    text,
    top_level_node,
    unquote,
    with_leading_comments,
    without_lines,
)
from roost.context.languages._go_modules import (
    go_package_name,
    import_path_of_dir,
    resolve_go_import,
)
from roost.context.languages._go_modules import parse_go_mod as parse_go_mod  # re-exported (tests)
from roost.context.languages._go_modules import parse_go_work as parse_go_work  # re-exported (tests)
from roost.context.languages.base import (
    FunctionBody,
    ImportCandidate,
    MemberAccess,
    PackageWorkspace,
    ScopeDeclaration,
    WorkspaceLayout,
    declared_type_in_scopes,
    parsed_for_lookup,
    parsed_snippet,
)
from roost.context.parser_cache import parse

_COMMENT = frozenset({"comment"})
# ``func (w *Warehouse[T]) Add(`` → ``w``: the receiver variable of a method declaration.
_RECEIVER = re.compile(r"^func\s*\(\s*([A-Za-z_]\w*)\s+\*?\s*[A-Za-z_]")
# An embedded field's declaration: ``Base``, ``*pkg.Base``, ``Box[T]``, maybe with a tag.
_EMBEDDED = re.compile(
    r"^\*?\s*([A-Za-z_]\w*(?:\.[A-Za-z_]\w*)?)\s*(?:\[[^\]]*\])?\s*(?:`[^`]*`|\"[^\"]*\")?\s*(?://.*)?$"
)
# ``type RW interface { io.Reader; Writer }``: the embedded types a signature lists (see _spec_signature).
_INTERFACE_EMBEDS = re.compile(r"\binterface \{ (.*) \}$")
_TYPE_NAME = re.compile(r"^[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)?$")
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
    signature = f"{keyword} {signature_text(source, node.start_byte, end)}"
    embedded = _embedded_interfaces(source, type_value) if type_value is not None else []
    if embedded:
        # The embedded types are not members (nothing to land on inside the body): the signature carries
        # them, as written, for ``base_names`` (their methods are the interface's) and for readers.
        signature += " { " + "; ".join(embedded) + " }"
    return signature


# A type element that embeds one named type: ``Reader``, ``io.Reader``, ``Box[T]`` (not ``~int | string``).
_EMBEDDABLE = frozenset({"type_identifier", "qualified_type", "generic_type"})


def _embedded_interfaces(source: bytes, type_value: tree_sitter.Node) -> list[str]:
    """The types an ``interface { … }`` embeds, as written (``io.Reader``, ``Box[T]``)."""
    if type_value.type != "interface_type":
        return []
    return [
        text(source, element)
        for element in type_value.named_children
        if element.type == "type_elem"
        and element.named_child_count == 1
        and element.named_children[0].type in _EMBEDDABLE
    ]


def _type_kind(type_value: tree_sitter.Node | None) -> SymbolKind:
    if type_value is None:
        return SymbolKind.TYPE
    if type_value.type == "struct_type":
        return SymbolKind.STRUCT
    if type_value.type == "interface_type":
        return SymbolKind.INTERFACE
    # A defined type over a map, slice, func or basic type (``type LevelHooks map[Level][]Hook``, ``type Level
    # uint32``) has methods like a struct: class-like, so that ``hooks.▮`` lists them. An alias stays TYPE.
    return SymbolKind.CLASS


def _embedded_type_name(written: str) -> str | None:
    """``io.Reader`` → ``io.Reader``; ``Box[T]`` → ``Box``: the name navigation resolves."""
    name = written.split("[", 1)[0].strip()
    return name if _TYPE_NAME.match(name) else None


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

    def function_statements(self, source: bytes, tree: tree_sitter.Tree) -> dict[str, FunctionBody]:
        return function_statement_counts(tree.root_node, functools.partial(_go_function, source), _COMMENT)

    def member_access(self, definition: Definition) -> MemberAccess:
        # An upper-case initial exports a name (a package's, a field's, a method's); any other stays home.
        return "public" if definition.name[:1].isupper() else "package"

    def base_names(self, definition: Definition, members: Sequence[Definition]) -> list[str]:
        # An interface has the methods of the interfaces it embeds (listed in its signature).
        if definition.kind is SymbolKind.INTERFACE:
            match = _INTERFACE_EMBEDS.search(definition.signature)
            embedded = match.group(1).split(";") if match else []
            return [name for part in embedded if (name := _embedded_type_name(part))]
        # A struct has the fields and methods of the types it embeds (promoted members).
        if definition.kind is not SymbolKind.STRUCT:
            return super().base_names(definition, members)
        embedded = []
        for member in members:
            match = _EMBEDDED.match(member.signature) if member.kind is SymbolKind.FIELD else None
            if match and match.group(1).rpartition(".")[2] == member.name:
                embedded.append(match.group(1))
        return embedded

    def method_receiver(self, method: Definition) -> str | None:
        if method.kind is not SymbolKind.METHOD or method.parent is None:
            return None
        match = _RECEIVER.match(method.signature)
        return match.group(1) if match and match.group(1) != "_" else None

    def declared_type(self, path: str, source: bytes, name: str, at: tuple[int, int]) -> str | None:
        root = parsed_for_lookup(self._language, source).root_node
        return declared_type_in_scopes(root, name, at, lambda scope: _scope_declarations(source, scope))

    def bound_value(self, path: str, source: bytes, name: str, at: tuple[int, int]) -> str | None:
        root = parsed_for_lookup(self._language, source).root_node
        return declared_type_in_scopes(root, name, at, functools.partial(_go_types.bound_values, source))

    def written_type(self, definition: Definition) -> str | None:
        return _go_types.written_type(self._language, definition)

    def element_type(self, written: str) -> str | None:
        return _go_types.element_type(self._language, written)

    def field_type(self, path: str, source: bytes, field: Definition) -> str | None:
        # The signature is the declaration as written: a struct field's ``store *Store`` (``a, b Store``),
        # a package-level ``var x pkg.T``; parsed back in a struct or at the top level for its type.
        if field.kind is SymbolKind.FIELD:
            snippet = f"package p\ntype _ struct {{\n{field.signature}\n}}\n"
            declaration_type = "field_declaration"
        elif field.kind is SymbolKind.VARIABLE and field.signature.startswith("var "):
            snippet, declaration_type = f"package p\n{field.signature}\n", "var_spec"
        else:
            return None
        written = snippet.encode()
        root = parsed_snippet(self._language, written).root_node
        declaration = _first_of_type(root, declaration_type)
        if root.has_error or declaration is None:
            return None
        return _named_type(written, declaration.child_by_field_name("type"))

    def package_dirs(self, path: str, package: str, directories: Iterable[str]) -> list[str]:
        return [posixpath.dirname(path)]  # a Go package is one directory

    def sees_package_file(self, path: str, other: str) -> bool:
        # ``_test.go`` files join the package only when testing: ordinary files never see them.
        return path.endswith("_test.go") or not other.endswith("_test.go")

    # -- writing imports and moving declarations (refactors) ------------------------------------------

    moves_within_package = True

    def build_constraint(self, path: str, text: str) -> str:
        return _go_build.build_constraint(path, text)

    def _parse(self, text_: str) -> tuple[bytes, tree_sitter.Tree]:
        source = text_.encode("utf-8")
        return source, parse(self._language, source)

    def _parse_root(self, text_: str) -> tuple[bytes, tree_sitter.Node]:
        source, tree = self._parse(text_)
        return source, tree.root_node

    def local_names(self, path: str, text: str) -> frozenset[str]:
        return frozenset(binding.name for binding in _local_bindings(*self._parse_root(text)))

    def with_import(self, text: str, module: str) -> str | None:
        return self._with_spec(text, module, None)

    def with_imports_from(self, text: str, source_text: str, imports: Sequence[Import]) -> str | None:
        for imp in imports:
            if not imp.is_star and imp.alias != "_":
                text = self._with_spec(text, imp.module, imp.alias)
        return text

    def _with_spec(self, text_: str, path: str, alias: str | None) -> str:
        source, tree = self._parse(text_)
        declarations = [c for c in tree.root_node.named_children if c.type == "import_declaration"]
        specs = [s for d in declarations for s in d.named_children if s.type == "import_spec"]
        lists = [c for d in declarations for c in d.named_children if c.type == "import_spec_list"]
        specs += [s for spec_list in lists for s in spec_list.named_children if s.type == "import_spec"]
        if any(_import_path(source, spec) == path for spec in specs):
            return text_
        spec_text = (f"{alias} " if alias else "").encode() + f'"{path}"'.encode()
        if lists:
            source = _block_insert(source, lists[0], path, spec_text)
        elif len(declarations) == 1 and len(specs) == 1:
            # ``import "x"`` becomes a block, as gofmt'd code with two imports has it.
            (single,) = specs
            # goimports style: the standard library (no dot in the first path element) in its own group.
            lines = sorted(
                [
                    (
                        _is_module_path(_import_path(source, single)),
                        _import_path(source, single),
                        text(source, single).encode(),
                    ),
                    (_is_module_path(path), path, spec_text),
                ]
            )
            separator = b"\n" if lines[0][0] != lines[1][0] else b""
            block = b"import (\n\t" + lines[0][2] + b"\n" + separator + b"\t" + lines[1][2] + b"\n)"
            source = source[: declarations[0].start_byte] + block + source[declarations[0].end_byte :]
        elif declarations:
            source = _insert(
                source, line_end(source, declarations[-1].end_byte), b"import " + spec_text + b"\n"
            )
        else:
            package = next((c for c in tree.root_node.named_children if c.type == "package_clause"), None)
            if package is None:
                return "import " + spec_text.decode() + "\n" + text_
            source = _insert(source, package.end_byte, b"\n\nimport " + spec_text)
        return source.decode("utf-8")

    def without_imports(self, text: str, imports: Sequence[Import]) -> str | None:
        for imp in sorted(imports, key=lambda i: (i.span.start_line, i.span.start_col), reverse=True):
            text = self._without_spec(text, (imp.span.start_line, imp.span.start_col))
        return text

    def _without_spec(self, text_: str, start: tuple[int, int]) -> str:
        source, tree = self._parse(text_)
        for declaration in tree.root_node.named_children:
            if declaration.type != "import_declaration" or not (
                declaration.start_point <= start < declaration.end_point
            ):
                continue
            spec_list = next((c for c in declaration.named_children if c.type == "import_spec_list"), None)
            specs = [c for c in (spec_list or declaration).named_children if c.type == "import_spec"]
            spec = next((s for s in specs if s.start_point == start), None)
            if spec is None:
                return text_
            if len(specs) > 1:
                first = line_start(source, with_leading_comments(spec, _COMMENT))
                last = line_end(source, spec.end_byte)
                previous = line_start(source, first - 1) if first > 0 else first
                # The only import of a goimports group: its separating blank line goes too.
                if (
                    first > 0
                    and not source[previous:first].strip()
                    and (
                        not source[last : line_end(source, last)].strip()
                        or source[last : line_end(source, last)].lstrip().startswith(b")")
                    )
                ):
                    first = previous
                return (source[:first] + source[last:]).decode("utf-8")
            return without_lines(source, declaration.start_byte, declaration.end_byte).decode("utf-8")
        return text_

    def declaration_to_move(self, text: str, definition: Definition) -> tuple[int, int, str] | None:
        source, tree = self._parse(text)
        node = top_level_node(tree, definition.span.start_line, definition.span.start_col)
        if node is None or node.type in ("package_clause", "import_declaration"):
            raise ValueError(f"{definition.name} is not a top-level declaration")
        specs = _specs(node) if node.type in _DECLARATION_KEYWORD else []
        if len(specs) > 1:
            # One spec of a ``const ( … )`` group: cut its lines, write it as its own declaration.
            point = (definition.span.start_line, definition.span.start_col)
            spec = next((s for s in specs if s.start_point <= point < s.end_point), None)
            if spec is None:
                raise ValueError(f"{definition.name} is not a top-level declaration")
            if node.type == "const_declaration" and (
                b"iota" in source[node.start_byte : node.end_byte]
                or any(s.child_by_field_name("value") is None for s in specs)
            ):
                # ``iota`` and repeated expressions number the group: one constant cannot leave it.
                raise ValueError(f"{definition.name} belongs to a const group numbered by iota")
            first = line_start(source, with_leading_comments(spec, _COMMENT))
            last = line_end(source, spec.end_byte)
            lines = textwrap.dedent(source[first:last].decode("utf-8")).splitlines(keepends=True)
            head = next(i for i, line in enumerate(lines) if not line.lstrip().startswith("//"))
            lines[head] = f"{_DECLARATION_KEYWORD[node.type]} {lines[head]}"
            moved = "".join(lines)
            return (
                char_offset(source, first),
                char_offset(source, last),
                moved if moved.endswith("\n") else moved + "\n",
            )
        start, end, declaration = cut_declaration(source, node, _COMMENT)
        return char_offset(source, start), char_offset(source, end), declaration.decode("utf-8")

    def missing_import_candidates(
        self,
        path: str,
        text: str,
        facts: FileFacts,
        first_line: int,
        last_line: int,
        workspace: PackageWorkspace,
    ) -> list[ImportCandidate] | None:
        bound = {name for imp in facts.imports if (name := self.bound_name(imp))}
        lines = text.encode("utf-8").split(b"\n")
        candidates: dict[tuple[str, str], ImportCandidate] = {}
        rejected: set[str] = set()
        bindings: list[_Binding] | None = None  # parsed once, when a qualifier needs it
        for ref in facts.references:
            qualifier = ref.receiver
            if (
                qualifier is None
                or not qualifier.isidentifier()
                or qualifier in bound
                or qualifier in rejected
                or not first_line <= ref.span.start_line <= last_line
            ):
                continue
            receiver_col = ref.span.start_col - len(qualifier.encode()) - 1
            line = lines[ref.span.start_line] if ref.span.start_line < len(lines) else b""
            if receiver_col < 0 or line[receiver_col : ref.span.start_col] != f"{qualifier}.".encode():
                continue  # not ``pkg.Name`` as written (a struct literal key's type, a spaced selector)
            if bindings is None:
                bindings = _local_bindings(*self._parse_root(text))
            if _is_local_at(bindings, qualifier, ref.span.start_line, ref.span.start_col):
                continue  # a local here; maybe the package in another function
            if workspace.resolves(path, ref.span.start_line, receiver_col):
                rejected.add(qualifier)
                continue
            for other, definition in workspace.top_level(ref.name):
                other_facts = workspace.facts(other)
                if (
                    other_facts is None
                    or other_facts.package != qualifier
                    or not other.endswith(".go")
                    or other.endswith("_test.go")
                    or posixpath.dirname(other) == posixpath.dirname(path)
                    or not definition.name[:1].isupper()
                ):
                    continue
                module = import_path_of_dir(posixpath.dirname(other), workspace)
                if module is not None:
                    candidates.setdefault((qualifier, module), ImportCandidate(qualifier, module, other))
        return list(candidates.values())

    def resolve_import(self, imp: Import, importer: str, layout: WorkspaceLayout) -> ResolvedImport:
        return resolve_go_import(imp.module, importer, layout)


_SPEC_TYPES = frozenset({"type_spec", "type_alias", "const_spec", "var_spec"})
_DECLARATION_KEYWORD = {"type_declaration": "type", "const_declaration": "const", "var_declaration": "var"}


def _specs(declaration: tree_sitter.Node) -> list[tree_sitter.Node]:
    """The specs of a ``type``/``const``/``var`` declaration (``var ( … )`` wraps them in a list)."""
    found: list[tree_sitter.Node] = []
    for child in declaration.named_children:
        if child.type == "var_spec_list":
            found.extend(c for c in child.named_children if c.type in _SPEC_TYPES)
        elif child.type in _SPEC_TYPES:
            found.append(child)
    return found


def _import_path(source: bytes, spec: tree_sitter.Node) -> str:
    path_node = spec.child_by_field_name("path")
    return unquote(text(source, path_node)) if path_node is not None else ""


def _common_segments(a: str, b: str) -> int:
    count = 0
    for left, right in zip(a.split("/"), b.split("/"), strict=False):
        if left != right:
            break
        count += 1
    return count


def _is_module_path(path: str) -> bool:
    return "." in path.split("/")[0]


def _insert(source: bytes, offset: int, inserted: bytes) -> bytes:
    return source[:offset] + inserted + source[offset:]


def _indentation(source: bytes, node: tree_sitter.Node) -> bytes:
    start = line_start(source, node.start_byte)
    return source[start : node.start_byte] if not source[start : node.start_byte].strip() else b"\t"


def _block_insert(source: bytes, spec_list: tree_sitter.Node, path: str, spec_text: bytes) -> bytes:
    """Into ``import ( … )``: the group (runs without blank lines, as goimports separates standard
    library and module imports) sharing the longest path prefix, at its sorted place (gofmt order)."""
    specs = [c for c in spec_list.named_children if c.type == "import_spec"]
    if not specs:
        return _insert(source, line_end(source, spec_list.start_byte), b"\t" + spec_text + b"\n")
    groups: list[list[tree_sitter.Node]] = [[specs[0]]]
    for previous, spec in zip(specs, specs[1:], strict=False):
        if spec.start_point[0] - previous.end_point[0] > 1:
            groups.append([])
        groups[-1].append(spec)
    kind = _is_module_path(path)
    same_kind = [
        i for i, group in enumerate(groups) if _is_module_path(_import_path(source, group[0])) == kind
    ]
    if not same_kind:
        # A module import into a block of standard-library ones (or the reverse): a group of its own.
        if kind:
            last = groups[-1][-1]
            indent = _indentation(source, last)
            return _insert(source, line_end(source, last.end_byte), b"\n" + indent + spec_text + b"\n")
        first = groups[0][0]
        indent = _indentation(source, first)
        return _insert(source, line_start(source, first.start_byte), indent + spec_text + b"\n\n")
    best = max(
        same_kind,
        key=lambda i: (max(_common_segments(_import_path(source, s), path) for s in groups[i]), i),
    )
    group = groups[best]
    for spec in group:
        if _import_path(source, spec) > path:
            indent = _indentation(source, spec)
            return _insert(source, line_start(source, spec.start_byte), indent + spec_text + b"\n")
    last = group[-1]
    return _insert(source, line_end(source, last.end_byte), _indentation(source, last) + spec_text + b"\n")


# Function-like nodes: the scope of the names their parameters, results and bodies bind.
_FUNCTION_SCOPES = frozenset({"function_declaration", "method_declaration", "func_literal"})
_PARAMETERS = frozenset({"parameter_declaration", "variadic_parameter_declaration"})
# Statements whose ``left`` binds names when written with ``:=`` (``for k, v := range m``, ``case v := <-ch``).
_DEFINING_LEFT = frozenset({"short_var_declaration", "range_clause", "receive_statement"})
# Declarations inside a body: ``var a, b int``, ``const c = 1``, ``type t struct{}``.
_LOCAL_SPECS = frozenset({"var_spec", "const_spec", "type_spec", "type_alias"})


@dataclass(frozen=True, slots=True)
class _Binding:
    """A name bound below the top level, visible (at most) between ``start`` and ``end`` (row, byte col):
    the function, method or function literal that declares it."""

    name: str
    start: tuple[int, int]
    end: tuple[int, int]


def _local_bindings(source: bytes, root: tree_sitter.Node) -> list[_Binding]:
    """Parameters, receivers, named results, ``:=`` names (also in ``range``, ``select`` cases and
    ``switch v := x.(type)``) and local ``var``/``const``/``type`` declarations, each scoped to its
    enclosing function (finer blocks are not told apart: a package shadowed anywhere in a function is
    rarely meant as the package elsewhere in it)."""
    bindings: list[_Binding] = []
    stack: list[tuple[tree_sitter.Node, tree_sitter.Node | None]] = [(root, None)]
    while stack:
        node, scope = stack.pop()
        if node.type in _FUNCTION_SCOPES:
            scope = node
        if scope is not None:
            bindings.extend(
                _Binding(text(source, name), scope.start_point, scope.end_point)
                for name in _bound_names(node)
            )
        stack.extend((child, scope) for child in node.named_children)
    return bindings


def _bound_names(node: tree_sitter.Node) -> list[tree_sitter.Node]:
    """The identifiers ``node`` binds in the function around it (none for a ``func(v int)`` type)."""
    kind = node.type
    if kind in _PARAMETERS:
        parameter_list = node.parent
        owner = parameter_list.parent if parameter_list is not None else None
        return (
            node.children_by_field_name("name")
            if owner is not None and owner.type in _FUNCTION_SCOPES
            else []
        )
    if kind in _DEFINING_LEFT:
        left = node.child_by_field_name("left")
        if left is None or not any(child.type == ":=" for child in node.children):
            return []
        return [child for child in left.named_children if child.type == "identifier"]
    if kind == "type_switch_statement":
        alias = node.child_by_field_name("alias")
        return [c for c in alias.named_children if c.type == "identifier"] if alias is not None else []
    if kind in _LOCAL_SPECS:
        return node.children_by_field_name("name")
    return []


def _scope_declarations(source: bytes, scope: tree_sitter.Node) -> Iterator[ScopeDeclaration]:
    """What ``scope`` (a function, block, ``for``/``if``/``switch`` header) declares directly, with the
    declared types: parameters and receivers, ``var`` specs, ``:=`` names (typed by a composite literal
    ``T{…}`` / ``&T{…}``), range and type-switch variables (untyped)."""
    if scope.type == "type_switch_statement":  # ``switch v := x.(type)``: typed per case, untyped here
        alias = scope.child_by_field_name("alias")
        yield from ((n, None) for n in alias.named_children if n.type == "identifier") if alias else ()
    for child in scope.named_children:
        kind = child.type
        if kind == "parameter_list":
            for parameter in child.named_children:
                if parameter.type in _PARAMETERS:
                    # ``xs ...T`` is a slice: no members of T.
                    written = parameter.child_by_field_name("type")
                    type_name = (
                        _named_type(source, written) if parameter.type == "parameter_declaration" else None
                    )
                    yield from ((n, type_name) for n in parameter.children_by_field_name("name"))
        elif kind == "var_declaration":
            specs = [
                s
                for c in child.named_children
                for s in (c.named_children if c.type == "var_spec_list" else [c])
            ]
            for spec in specs:
                if spec.type == "var_spec":
                    yield from _var_spec_declarations(source, spec)
        elif kind in _DEFINING_LEFT or kind == "for_clause":
            declaration = child.child_by_field_name("initializer") if kind == "for_clause" else child
            if declaration is not None:
                yield from _short_var_declarations(source, declaration)


def _var_spec_declarations(source: bytes, spec: tree_sitter.Node) -> Iterator[ScopeDeclaration]:
    names = [n for n in spec.children_by_field_name("name") if n.type == "identifier"]
    written = spec.child_by_field_name("type")
    if written is not None:
        yield from ((n, _named_type(source, written)) for n in names)
        return
    values = spec.child_by_field_name("value")
    yield from _paired_with_values(source, names, values)


def _short_var_declarations(source: bytes, declaration: tree_sitter.Node) -> Iterator[ScopeDeclaration]:
    """``a, b := T{}, &U{}``: each name with the literal's type; a ``range`` or ``<-ch`` value: untyped."""
    left = declaration.child_by_field_name("left")
    if left is None or not any(child.type == ":=" for child in declaration.children):
        return
    names = [n for n in left.named_children if n.type == "identifier"]
    if declaration.type == "short_var_declaration":
        yield from _paired_with_values(source, names, declaration.child_by_field_name("right"))
    else:
        yield from ((n, None) for n in names)


def _paired_with_values(
    source: bytes, names: list[tree_sitter.Node], values: tree_sitter.Node | None
) -> Iterator[ScopeDeclaration]:
    expressions = values.named_children if values is not None and values.type == "expression_list" else []
    for index, name in enumerate(names):
        value = expressions[index] if len(expressions) == len(names) else None
        if value is not None and value.type == "unary_expression" and text(source, value)[:1] == "&":
            value = value.child_by_field_name("operand")
        literal_type = (
            value.child_by_field_name("type")
            if value is not None and value.type == "composite_literal"
            else None
        )
        yield name, _named_type(source, literal_type)


def _first_of_type(node: tree_sitter.Node, node_type: str) -> tree_sitter.Node | None:
    """The first node of ``node_type`` at or below ``node``, in source order."""
    if node.type == node_type:
        return node
    for child in node.named_children:
        found = _first_of_type(child, node_type)
        if found is not None:
            return found
    return None


def _named_type(source: bytes, written: tree_sitter.Node | None) -> str | None:
    """``T``, ``*T``, ``pkg.T``, ``T[int]`` → the named type as written (``pkg.T``); slices, maps, funcs → None."""
    while written is not None and written.type in ("pointer_type", "parenthesized_type", "generic_type"):
        if written.type == "generic_type":
            written = written.child_by_field_name("type")
        else:
            written = written.named_children[0] if written.named_children else None
    if written is None or written.type not in ("type_identifier", "qualified_type"):
        return None
    return text(source, written)


def _is_local_at(bindings: Sequence[_Binding], name: str, line: int, col: int) -> bool:
    """Whether ``name`` is bound by a function around (line, col): then ``name.X`` is not a package's."""
    return any(b.name == name and b.start <= (line, col) < b.end for b in bindings)


def _go_function(source: bytes, node: tree_sitter.Node) -> FunctionOrScope:
    """Functions (``F``) and methods (``Store.Get``, whatever the receiver's pointer or type arguments)
    with their statements; a function declared without a body (implemented in assembly) has none. Function
    literals are anonymous."""
    if node.type not in ("function_declaration", "method_declaration"):
        return None
    name = node.child_by_field_name("name")
    if name is None:
        return None
    qualified = text(source, name)
    receiver = node.child_by_field_name("receiver")
    if receiver is not None and receiver.named_children:
        receiver_type = _named_type(source, receiver.named_children[0].child_by_field_name("type"))
        qualified = f"{receiver_type or '?'}.{qualified}"
    body = node.child_by_field_name("body")
    # The statements sit in the block's statement_list; a comment alone may sit in the block itself.
    statements = next((c for c in body.named_children if c.type == "statement_list"), body) if body else None
    return qualified, statements


LANGUAGE = GoSupport()
