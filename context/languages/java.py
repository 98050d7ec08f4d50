"""Java: package (``FileFacts.package``), classes, records, interfaces, annotation types, enums and their
constants, methods, constructors, fields (``static final`` ones as constants), Javadoc / leading comments;
public top-level types are the file's exports.

Imports: ``import a.b.C;`` → ``Import('a.b', names=(C,))``; ``import a.b.*;`` → ``Import('a.b', star)``;
``import static a.b.C.m;`` → ``Import('a.b.C', names=(m,))``; ``import static a.b.C.*;`` →
``Import('a.b.C', star)``.

Resolution maps the dotted name to a path under a source root: every ancestor directory of the importer (so
any layout where the directory tree mirrors the packages works), the workspace root, ``src/main/java``,
``src/test/java``, ``src`` (also one level down, for Maven/Gradle multi-module builds), and configured extra
roots. ``a.b.C`` is ``a/b/C.java``; a name that is not a file is taken as a member or nested type of the
longest prefix that is (``a/b/Outer.java`` for ``a.b.Outer.Inner``). Not found anywhere → external.
"""

from __future__ import annotations

import functools
import posixpath
import re
import time
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

import tree_sitter
import tree_sitter_java

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
from roost.context.languages._common import (
    PROJECT_FILE_TTL_S,
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
    parent_dirs,
    qualify,
    query_matches,
    rel_join,
    signature_text,
    signature_until_body,
    span_of,
    text,
    top_level_node,
    without_lines,
)
from roost.context.languages.base import (
    FunctionBody,
    ImportCandidate,
    MemberAccess,
    PackageWorkspace,
    ScopeDeclaration,
    WorkspaceLayout,
    declared_type_in_scopes,
    modifiers_of,
    parsed_for_lookup,
    parsed_snippet,
)
from roost.context.parser_cache import parse

_COMMENTS = frozenset({"block_comment", "line_comment"})
# A declared type navigation can resolve: ``Store``, ``a.b.Store`` (not ``Outer<T>.Inner``, annotated types).
_QUALIFIED_NAME = re.compile(r"^[A-Za-z_$][\w$]*(?:\.[A-Za-z_$][\w$]*)*$")
_WHOLE_TEXT = frozenset({"field_declaration", "constant_declaration", "enum_constant"})
_MULTI_DECLARATOR = frozenset({"field_declaration", "constant_declaration"})
_COMMON_ROOTS = ("src/main/java", "src/test/java", "src/java", "src", "java")
_SKIPPED_DIRS = frozenset({"node_modules", "target", "build", "out", "bin", "dist", "__pycache__"})


def _is_constant_field(node: tree_sitter.Node, source: bytes) -> bool:
    modifiers = next((child for child in node.children if child.type == "modifiers"), None)
    if modifiers is None:
        return False
    words = {child.type for child in modifiers.children}
    return "static" in words and "final" in words


def _is_public_top_level_type(node: tree_sitter.Node) -> bool:
    if node.parent is None or node.parent.type != "program":
        return False
    modifiers = next((child for child in node.children if child.type == "modifiers"), None)
    return modifiers is not None and any(child.type == "public" for child in modifiers.children)


_TYPE_DECLARATIONS = frozenset(
    {
        "class_declaration",
        "interface_declaration",
        "enum_declaration",
        "record_declaration",
        "annotation_type_declaration",
    }
)
_TYPE_KINDS = (SymbolKind.CLASS, SymbolKind.INTERFACE, SymbolKind.ENUM)


def _import_text(source: bytes, declaration: tree_sitter.Node) -> str:
    """What an import declaration imports, as written after ``import``: ``a.b.C``, ``a.b.*``,
    ``static a.b.C.m`` (whitespace normalised)."""
    written = text(source, declaration).strip().removeprefix("import").rstrip(";")
    words = written.split()
    if words and words[0] == "static":
        return "static " + "".join(words[1:])
    return "".join(words)


def _line_offsets(source: bytes) -> list[int]:
    offsets = [0]
    for line in source.split(b"\n"):
        offsets.append(offsets[-1] + len(line) + 1)
    return offsets


def _open_until(scopes: list[tree_sitter.Node], open_scopes: list[int], following: int, offset: int) -> int:
    """Advance a sweep over ``scopes`` (sorted by start, outer first) to byte ``offset``: ``open_scopes``
    becomes the indexes of those holding it, innermost last; returns the next scope not yet opened."""
    while following < len(scopes) and scopes[following].start_byte <= offset:
        while open_scopes and scopes[open_scopes[-1]].end_byte <= scopes[following].start_byte:
            open_scopes.pop()
        open_scopes.append(following)
        following += 1
    while open_scopes and scopes[open_scopes[-1]].end_byte <= offset:
        open_scopes.pop()
    return following


_TYPE_ARGUMENTS = re.compile(r"<[^<>]*>")
_ANNOTATION = re.compile(r"@[\w.]+(?:\([^()]*\))?")
_BASE_CLAUSE = re.compile(r"\b(extends|implements|permits)\b")


def _declared_bases(signature: str) -> list[str]:
    """``public class A<T> extends B<T> implements C, d.E permits F`` → B, C, d.E (``permits`` lists
    subclasses, not bases; type arguments and annotations are dropped)."""
    head = _ANNOTATION.sub(" ", signature)
    while True:
        stripped = _TYPE_ARGUMENTS.sub("", head)
        if stripped == head:
            break
        head = stripped
    parts = _BASE_CLAUSE.split(head)
    bases: list[str] = []
    for keyword, clause in zip(parts[1::2], parts[2::2], strict=True):
        if keyword == "permits":
            continue
        for name in clause.split(","):
            name = "".join(name.split())
            if name and all(part.isidentifier() for part in name.split(".")):
                bases.append(name)
    return bases


def _scope_declarations(source: bytes, scope: tree_sitter.Node) -> Iterator[ScopeDeclaration]:
    """What ``scope`` (a method, constructor, lambda, block, ``for``, ``try``, ``catch``) declares directly,
    with the declared types: parameters, local variables, loop, resource and exception variables."""
    if scope.type == "enhanced_for_statement":  # ``for (Item item : items)``
        yield from _typed(source, scope, scope)
    elif scope.type == "lambda_expression":  # ``x -> …``, ``(a, b) -> …``: inferred, untyped
        parameters = scope.child_by_field_name("parameters")
        if parameters is not None and parameters.type in ("identifier", "inferred_parameters"):
            names = [parameters] if parameters.type == "identifier" else parameters.named_children
            yield from ((n, None) for n in names if n.type == "identifier")
    for child in scope.named_children:
        kind = child.type
        if kind == "formal_parameters":
            for parameter in child.named_children:
                if parameter.type == "formal_parameter":
                    yield from _typed(source, parameter, parameter)
                elif parameter.type == "spread_parameter":  # ``Item... items`` is an array
                    for declarator in parameter.named_children:
                        if declarator.type == "variable_declarator":
                            yield from _typed(source, parameter, declarator, array=True)
        elif kind == "local_variable_declaration":
            for declarator in child.children_by_field_name("declarator"):
                yield from _typed(source, child, declarator)
        elif kind == "resource_specification":
            for resource in child.named_children:
                if resource.type == "resource":
                    yield from _typed(source, resource, resource)
        elif kind == "catch_formal_parameter":
            name = child.child_by_field_name("name")
            types = next((c.named_children for c in child.named_children if c.type == "catch_type"), [])
            if name is not None:
                yield name, _named_type(source, types[0]) if len(types) == 1 else None


def _typed(
    source: bytes, declaration: tree_sitter.Node, declarator: tree_sitter.Node, array: bool = False
) -> Iterator[ScopeDeclaration]:
    """The name of ``declarator`` with the type of ``declaration`` (None for an array: ``T x[]``)."""
    name = declarator.child_by_field_name("name")
    if name is None or name.type != "identifier":
        return
    is_array = array or declarator.child_by_field_name("dimensions") is not None
    yield name, None if is_array else _named_type(source, declaration.child_by_field_name("type"))


def _named_type(source: bytes, written: tree_sitter.Node | None) -> str | None:
    """``Store``, ``a.b.Store``, ``List<Item>`` → ``Store``, ``a.b.Store``, ``List``; ``var``, primitives and
    arrays → None."""
    if written is not None and written.type == "generic_type":
        written = written.named_children[0] if written.named_children else None
    if written is None or written.type not in ("type_identifier", "scoped_type_identifier"):
        return None
    name = text(source, written)
    return name if name != "var" and _QUALIFIED_NAME.match(name) else None


def _import(source: bytes, node: tree_sitter.Node) -> Import | None:
    target = next((c for c in node.named_children if c.type in ("scoped_identifier", "identifier")), None)
    if target is None:
        return None
    dotted = "".join(text(source, target).split())
    span = span_of(node)
    if any(child.type == "asterisk" for child in node.children):
        return Import(dotted, span, is_star=True)
    module, _, name = dotted.rpartition(".")
    return Import(module, span, names=(ImportedName(name),))


class JavaSupport(OutlineFirstLanguage):
    name = "java"
    extensions = (".java",)
    reference_query = "java_references.scm"

    def _grammar(self) -> object:
        return tree_sitter_java.language()

    def _outline(self, path: str, source: bytes, tree: tree_sitter.Tree) -> tuple[FileFacts, OutlineSkips]:
        query = load_query(self._language, "java.scm")
        facts = FileFacts(path=path, language=self.name)
        raws: list[RawDefinition] = []
        skips = OutlineSkips(set(), [])
        name_starts, import_ranges = skips.name_starts, skips.import_ranges
        for _, captures in query_matches(query, tree.root_node):
            def_key = next((key for key in captures if key.startswith("def.")), None)
            if def_key is not None:
                node = captures[def_key][0]
                if node.type in _MULTI_DECLARATOR:  # ``int a = 1, b = 2;``
                    names = [d.child_by_field_name("name") for d in node.children_by_field_name("declarator")]
                else:
                    names = [captures["name"][0]]
                for name_node in names:
                    if name_node is None or name_node.start_byte in name_starts:
                        continue
                    name_starts.add(name_node.start_byte)
                    raws.append(self._definition(def_key[4:], node, name_node, source))
                    if _is_public_top_level_type(node):
                        facts.exports.append(Export(text(source, name_node)))
            elif "import" in captures:
                node = captures["import"][0]
                imp = _import(source, node)
                if imp is not None:
                    facts.imports.append(imp)
                import_ranges.append((node.start_byte, node.end_byte))
            elif "package" in captures:
                package_node = captures["package"][0]
                facts.package = "".join(text(source, package_node).split())
                import_ranges.append((package_node.start_byte, package_node.end_byte))
        facts.definitions = qualify(raws)
        return facts, skips

    def _definition(
        self, kind_name: str, node: tree_sitter.Node, name_node: tree_sitter.Node, source: bytes
    ) -> RawDefinition:
        kind = SymbolKind(kind_name)
        if kind is SymbolKind.FIELD and _is_constant_field(node, source):
            kind = SymbolKind.CONSTANT
        if node.type in _WHOLE_TEXT:
            signature = signature_text(source, node.start_byte, node.end_byte)
        else:
            signature = signature_until_body(source, node)
        doc = leading_comment(node, source, _COMMENTS)
        return RawDefinition(node, text(source, name_node), name_node, kind, signature, doc)

    private_to_top_level_class = True
    implicit_member_access = True  # ``foo()`` in a class body is ``this.foo()``, inherited ones included

    def _drop_local_uses(
        self, tree: tree_sitter.Tree, source: bytes, references: list[Reference]
    ) -> list[Reference]:
        # With implicit ``this`` a bare ``name`` would resolve to a field ``name``; inside a method that
        # declares a parameter or local ``name`` (``this.name = name``) it is that local instead.
        # Each local belongs to the innermost scope holding it; then each reference is checked against the
        # scopes open at its position. Both by one sweep over position-sorted lists (``Node.parent`` walks
        # down from the root on every call; a scan of every scope per reference is quadratic).
        locals_: list[tree_sitter.Node] = []
        scope_nodes: list[tree_sitter.Node] = []
        for _, captures in query_matches(load_query(self._language, "java_locals.scm"), tree.root_node):
            locals_.extend(captures.get("local", ()))
            scope_nodes.extend(captures.get("scope", ()))
        if not locals_:
            return references
        scope_nodes.sort(key=lambda node: (node.start_byte, -node.end_byte))
        locals_.sort(key=lambda node: node.start_byte)
        declared: dict[int, set[str]] = {}  # index in scope_nodes → names declared directly in it
        open_scopes: list[int] = []
        following = 0
        for local in locals_:
            following = _open_until(scope_nodes, open_scopes, following, local.start_byte)
            if open_scopes:
                declared.setdefault(open_scopes[-1], set()).add(text(source, local))
        scopes = [
            (scope_nodes[i].start_point, scope_nodes[i].end_point, names)
            for i, names in sorted(declared.items())
        ]
        kept: list[Reference] = []
        active: list[
            tuple[tuple[int, int], set[str]]
        ] = []  # (end point, names) of the scopes holding the position
        following = 0
        for ref in references:  # sorted by position
            point = (ref.span.start_line, ref.span.start_col)
            while following < len(scopes) and scopes[following][0] <= point:
                start, end, names = scopes[following]
                active.append((end, names))
                following += 1
            active = [(end, names) for end, names in active if end > point]
            if ref.receiver is None and any(ref.name in names for _, names in active):
                continue
            kept.append(ref)
        return kept

    def self_names(self) -> tuple[str, ...]:
        return ("this",)

    def function_statements(self, source: bytes, tree: tree_sitter.Tree) -> dict[str, FunctionBody]:
        return function_statement_counts(tree.root_node, functools.partial(_java_function, source), _COMMENTS)

    def member_access(self, definition: Definition) -> MemberAccess:
        # Only ``private``: ``protected`` and package-private members are seen by the whole package too.
        if definition.parent is not None and "private" in modifiers_of(definition):
            return "private"
        return "public"

    def super_names(self) -> tuple[str, ...]:
        return ("super",)

    def base_names(self, definition: Definition, members: Sequence[Definition]) -> list[str]:
        if definition.kind not in (SymbolKind.CLASS, SymbolKind.INTERFACE, SymbolKind.ENUM):
            return super().base_names(definition, members)
        return _declared_bases(definition.signature)

    def declared_type(self, path: str, source: bytes, name: str, at: tuple[int, int]) -> str | None:
        root = parsed_for_lookup(self._language, source).root_node
        return declared_type_in_scopes(root, name, at, lambda scope: _scope_declarations(source, scope))

    def field_type(self, path: str, source: bytes, field: Definition) -> str | None:
        # The signature is the declaration as written (``private Store store;``, ``int a, b;``): parsed
        # back in a class body, the type of this field's declarator (None for ``Store[] x`` or ``Store x[]``).
        if field.kind is not SymbolKind.FIELD:
            return None
        written = f"class _ {{\n{field.signature}\n}}\n".encode()
        root = parsed_snippet(self._language, written).root_node
        body = root.named_children[0].child_by_field_name("body") if root.named_child_count == 1 else None
        declaration = body.named_children[0] if body is not None and body.named_child_count == 1 else None
        if root.has_error or declaration is None or declaration.type != "field_declaration":
            return None
        for declarator in declaration.children_by_field_name("declarator"):
            for name, type_name in _typed(written, declaration, declarator):
                if name.text is not None and name.text.decode("utf-8") == field.name:
                    return type_name
        return None

    def package_dirs(self, path: str, package: str, directories: Iterable[str]) -> list[str]:
        # One package may span source roots (``src/main/java`` and ``src/test/java``): every folder whose
        # path ends with the package's path, plus the file's own (sources outside the usual layout).
        suffix = package.replace(".", "/")
        found = [d for d in directories if d == suffix or d.endswith("/" + suffix)]
        own = posixpath.dirname(path)
        return found if own in found else [*found, own]

    # -- writing imports and moving declarations (refactors) ------------------------------------------

    moves_within_package = True

    def _parse(self, text_: str) -> tuple[bytes, tree_sitter.Tree]:
        source = text_.encode("utf-8")
        return source, parse(self._language, source)

    def with_import(self, text: str, module: str) -> str | None:
        """``module`` is what follows ``import``: ``com.x.Foo``, ``com.x.*``, ``static com.x.Foo.bar``."""
        source, tree = self._parse(text)
        declarations = [c for c in tree.root_node.named_children if c.type == "import_declaration"]
        present = {_import_text(source, d) for d in declarations}
        module = " ".join(module.split())
        static = module.startswith("static ")
        package = module.rpartition(".")[0]
        if module in present or (not static and f"{package}.*" in present):
            return text
        line = f"import {module};\n".encode()
        same_kind = [d for d in declarations if _import_text(source, d).startswith("static ") == static]
        if same_kind:
            following = next((d for d in same_kind if _import_text(source, d) > module), None)
            if following is not None:
                at = line_start(source, following.start_byte)
            else:
                at = line_end(source, same_kind[-1].end_byte)
            source = source[:at] + line + source[at:]
        elif declarations:
            at = line_end(source, declarations[-1].end_byte)
            source = source[:at] + line + source[at:]
        else:
            package_node = next(
                (c for c in tree.root_node.named_children if c.type == "package_declaration"), None
            )
            if package_node is None:
                return f"import {module};\n\n" + text
            at = package_node.end_byte
            source = source[:at] + b"\n\n" + line.rstrip(b"\n") + source[at:]
        return source.decode("utf-8")

    def with_imports_from(self, text: str, source_text: str, imports: Sequence[Import]) -> str | None:
        source = source_text.encode("utf-8")
        offsets = _line_offsets(source)
        for imp in imports:
            start = offsets[imp.span.start_line] + imp.span.start_col
            end = offsets[imp.span.end_line] + imp.span.end_col
            written = source[start:end].decode("utf-8").strip()
            module = written.removeprefix("import").rstrip(";").strip()
            text = self.with_import(text, module) or text
        return text

    def without_imports(self, text: str, imports: Sequence[Import]) -> str | None:
        for imp in sorted(imports, key=lambda i: (i.span.start_line, i.span.start_col), reverse=True):
            source, tree = self._parse(text)
            start = (imp.span.start_line, imp.span.start_col)
            for declaration in tree.root_node.named_children:
                if declaration.type == "import_declaration" and declaration.start_point == start:
                    text = without_lines(source, declaration.start_byte, declaration.end_byte).decode("utf-8")
                    break
        return text

    def declaration_to_move(self, text: str, definition: Definition) -> tuple[int, int, str] | None:
        source, tree = self._parse(text)
        node = top_level_node(tree, definition.span.start_line, definition.span.start_col)
        if node is None or node.type not in _TYPE_DECLARATIONS:
            raise ValueError(f"{definition.name} is not a top-level type declaration")
        if _is_public_top_level_type(node):
            raise ValueError(
                f"{definition.name} is public: a public top-level type must live in its own file "
                f"({definition.name}.java); only a package-private type can move to another file"
            )
        start, end, declaration = cut_declaration(source, node, _COMMENTS)
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
        defined = {d.name for d in facts.definitions}
        candidates: dict[str, ImportCandidate] = {}
        checked: set[str] = set()
        for ref in facts.references:
            name = ref.name
            if (
                ref.receiver is not None
                or not name[:1].isupper()
                or name in defined
                or name in checked
                or not first_line <= ref.span.start_line <= last_line
            ):
                continue
            checked.add(name)
            if workspace.resolves(path, ref.span.start_line, ref.span.start_col):
                continue
            for other, definition in sorted(workspace.top_level(name), key=lambda found: found[0]):
                other_facts = workspace.facts(other)
                if (
                    other_facts is None
                    or not other.endswith(".java")
                    or not other_facts.package
                    or other_facts.package == facts.package
                    or definition.kind not in _TYPE_KINDS
                    or not any(export.name == name for export in other_facts.exports)
                ):
                    continue
                module = f"{other_facts.package}.{name}"
                candidates.setdefault(module, ImportCandidate(name, module, other))
        return list(candidates.values())

    def resolve_import(self, imp: Import, importer: str, layout: WorkspaceLayout) -> ResolvedImport:
        parts = [part for part in imp.module.split(".") if part]
        if not parts:
            return ResolvedImport(external=True)
        for root in _source_roots(importer, layout):
            if imp.is_star:
                package_dir = rel_join(root, *parts)
                if layout.is_dir(package_dir):
                    files = sorted(f for f in layout.files_in_dir(package_dir) if f.endswith(".java"))
                    if files:
                        return ResolvedImport(tuple(files))
            else:
                # No ``name_paths``: the imported name is the class in that file, not a module, so
                # navigation should land on the class definition.
                found = [
                    file
                    for name in imp.names
                    if layout.exists(file := rel_join(root, *parts, name.name) + ".java")
                ]
                if found:
                    return ResolvedImport(tuple(found))
            # A static import's class, or the outer class of a nested type.
            for length in range(len(parts), 0, -1):
                candidate = rel_join(root, *parts[:length]) + ".java"
                if layout.exists(candidate):
                    return ResolvedImport((candidate,))
        return ResolvedImport(external=True)


def _source_roots(importer: str, layout: WorkspaceLayout) -> list[str]:
    roots: list[str] = list(parent_dirs(importer))
    roots.extend(_COMMON_ROOTS)
    roots.extend(_module_roots(layout))
    roots.extend(layout.extra_source_roots("java"))
    seen: set[str] = set()
    ordered = []
    for root in roots:
        root = posixpath.normpath(root) if root else ""
        root = "" if root == "." else root
        if root not in seen:
            seen.add(root)
            ordered.append(root)
    return ordered


_module_roots_cache: dict[str, tuple[float, tuple[str, ...]]] = {}


def _module_roots(layout: WorkspaceLayout) -> tuple[str, ...]:
    """``<module>/src/main/java`` style roots of Maven/Gradle sub-modules one level below the workspace.

    The layout lists files, not directories, so the sub-module folders come from the disk; cached for
    :data:`PROJECT_FILE_TTL_S` like the other project-layout reads.
    """
    key = str(layout.root)
    now = time.monotonic()
    hit = _module_roots_cache.get(key)
    if hit is not None and now - hit[0] < PROJECT_FILE_TTL_S:
        return hit[1]
    found: list[str] = []
    try:
        children = sorted(Path(layout.root).iterdir())
    except OSError:
        children = []
    for child in children:
        if child.name.startswith(".") or child.name in _SKIPPED_DIRS or not child.is_dir():
            continue
        for common in _COMMON_ROOTS[:3]:
            if layout.is_dir(f"{child.name}/{common}"):
                found.append(f"{child.name}/{common}")
    if len(_module_roots_cache) > 64:
        _module_roots_cache.clear()
    _module_roots_cache[key] = (now, tuple(found))
    return tuple(found)


# Types whose members are named ``Type.member`` (an enum constant with a body is a class of its own).
_JAVA_SCOPES = frozenset(
    {
        "class_declaration",
        "interface_declaration",
        "enum_declaration",
        "record_declaration",
        "annotation_type_declaration",
        "enum_constant",
    }
)
_JAVA_FUNCTIONS = frozenset(
    {"method_declaration", "constructor_declaration", "compact_constructor_declaration"}
)


def _java_function(source: bytes, node: tree_sitter.Node) -> FunctionOrScope:
    """Methods and constructors with their body (an abstract or interface method has none); types as
    scopes. Lambdas and anonymous classes are anonymous."""
    if node.type not in _JAVA_SCOPES and node.type not in _JAVA_FUNCTIONS:
        return None
    name = node.child_by_field_name("name")
    body = node.child_by_field_name("body") if node.type in _JAVA_FUNCTIONS else None
    return (text(source, name) if name is not None else None), body


LANGUAGE = JavaSupport()
