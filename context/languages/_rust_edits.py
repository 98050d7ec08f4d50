"""Writing Rust ``use`` items and moving items between sibling modules of a crate.

What the refactors (``refactor.imports``, ``refactor.module_move``) ask of :class:`RustSupport`: module
paths as the file writes them (``crate::a::b``, or ``super::b`` for a sibling when the file already uses
``super::`` paths), ``use`` items merged into a ``use m::{…}`` of the same module or added after the
file's other ``use`` items, names split out of ``use`` lists, items cut with their doc comments,
attributes and ``impl`` blocks, and ``pub`` added (plus ``pub(crate)`` on the private fields and methods
the rest of the file still uses, which stops being the same module after the move). Nested ``use`` trees
(``use crate::{a::{X}, b}``) are not rewritten: ``ValueError`` with the reason.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Callable, Sequence

import tree_sitter

from roost.context.facts import Definition, Import, ImportedName, Reference, Span
from roost.context.languages._edit_source import EditSource, parse_for_edit

_CRATE_ROOT_FILES = ("lib.rs", "main.rs")
_NAMED_ITEMS = (
    "function_item",
    "struct_item",
    "enum_item",
    "union_item",
    "trait_item",
    "type_item",
    "const_item",
    "static_item",
    "mod_item",
    "function_signature_item",
)


# ---------------------------------------------------------------------------------------- module paths


def module_path(path: str, exists: Callable[[str], bool]) -> tuple[str, ...] | None:
    """The module path of a file inside its crate (``src/a/b.rs`` → ``("a", "b")``); None when the file
    is a crate root of its own kind (``src/bin``, tests) or no crate root is found."""
    parts = path.split("/")
    for cut in range(len(parts) - 1, -1, -1):
        directory = "/".join(parts[:cut])
        prefix = f"{directory}/" if directory else ""
        if exists(f"{prefix}Cargo.toml"):
            if parts[cut : cut + 1] != ["src"] or parts[cut + 1 : cut + 2] == ["bin"]:
                return None
            return _inside(parts[cut + 1 :])
        if any(exists(prefix + root) for root in _CRATE_ROOT_FILES):
            return _inside(parts[cut:])
    return None


def _inside(parts: list[str]) -> tuple[str, ...]:
    if len(parts) == 1 and parts[0] in _CRATE_ROOT_FILES:
        return ()
    names = [*parts[:-1], parts[-1].removesuffix(".rs")]
    if names[-1] == "mod":
        names.pop()
    return tuple(names)


def _parent_module_file(path: str, exists: Callable[[str], bool]) -> str | None:
    """The file declaring the module of ``path`` (a sibling module ``a/b.rs``): ``a/mod.rs``, the crate root
    ``a/lib.rs`` / ``a/main.rs``, or ``a.rs``."""
    directory = posixpath.dirname(path)
    if not directory:
        return None
    candidates = [
        f"{directory}/mod.rs",
        *(f"{directory}/{root}" for root in _CRATE_ROOT_FILES),
        f"{directory}.rs",
    ]
    return next((candidate for candidate in candidates if exists(candidate)), None)


def module_visible_from(
    module: str, user: str, exists: Callable[[str], bool], text_of: Callable[[str], str]
) -> bool:
    """Whether the file ``user`` may name items through the module of the file ``module`` as its parent
    declares it: ``pub mod`` anywhere, ``pub(crate) mod`` within the crate's sources, a private (or otherwise
    restricted) one only below its parent module's directory. Other crates of the package (``tests/``,
    ``examples/``) are outside. Unknown declarations count as visible."""
    parent = _parent_module_file(module, exists)
    if parent is None:
        return True
    declaration = re.search(
        rf"^[ \t]*(?P<vis>pub(?:\s*\([^)]*\))?\s+)?mod\s+{re.escape(module_name(module))}\s*;",
        text_of(parent),
        re.MULTILINE,
    )
    if declaration is None:
        return True
    visibility = "".join((declaration.group("vis") or "").split())
    if visibility == "pub":
        return True
    inside = posixpath.dirname(module)
    if visibility == "pub(crate)":
        crate_path = module_path(user, exists)
        return crate_path is not None  # a file of the crate's own sources (not tests/, examples/, src/bin)
    return user == parent or user.startswith(f"{inside}/") and module_path(user, exists) is not None


def module_name(path: str) -> str:
    """The name a file's module has in its parent (``a/b.rs`` and ``a/b/mod.rs`` → ``b``)."""
    base = posixpath.basename(path).removesuffix(".rs")
    return posixpath.basename(posixpath.dirname(path)) if base == "mod" else base


def _uses(source: EditSource) -> list[tree_sitter.Node]:
    return [c for c in source.root.named_children if c.type == "use_declaration"]


def import_specifier(
    path: str, text: str, target: str, exists: Callable[[str], bool], language: tree_sitter.Language
) -> str | None:
    importer = module_path(path, exists)
    found = module_path(target, exists)
    if importer is None or found is None:
        return None
    source = parse_for_edit(language, text)
    directory = posixpath.dirname(path)
    prefix = f"{directory}/" if directory else ""
    # A binary next to a library: its own modules are ``mod``-declared in main.rs; the library's are
    # reached through the library's crate name, as the file's other ``use`` items write it.
    binary_of_library = posixpath.basename(path) == "main.rs" and not importer and exists(f"{prefix}lib.rs")
    if (
        binary_of_library
        and found
        and not re.search(rf"^\s*(pub\s+)?mod\s+{re.escape(found[0])}\b", text, re.M)
    ):
        library = _library_name(source, prefix, exists)
        return "::".join((library, *found)) if library else None
    uses_super = any(
        (argument := use.child_by_field_name("argument")) is not None
        and source.node_text(argument).startswith("super::")
        for use in _uses(source)
    )
    if uses_super and importer and found and importer[:-1] == found[:-1] and importer != found:
        return f"super::{found[-1]}"
    return "::".join(("crate", *found))


def _library_name(source: EditSource, prefix: str, exists: Callable[[str], bool]) -> str | None:
    """The crate name a binary's ``use`` items give the library: a head whose next segment is a module
    file of the library (``use stock::item::Item`` with ``src/item.rs``)."""
    for use in _uses(source):
        argument = use.child_by_field_name("argument")
        segments = re.findall(r"[A-Za-z_][A-Za-z0-9_]*", source.node_text(argument)) if argument else []
        if len(segments) < 2 or segments[0] in ("crate", "self", "super", "std", "core", "alloc"):
            continue
        module = segments[1]
        if exists(f"{prefix}{module}.rs") or exists(f"{prefix}{module}/mod.rs"):
            return segments[0]
    return None


def sibling_module(module: str, source_path: str, target_path: str) -> str | None:
    if posixpath.dirname(source_path) != posixpath.dirname(target_path) and not source_path.endswith(
        "/mod.rs"
    ):
        return None
    segments = module.split("::")
    if segments[-1] != module_name(source_path):
        return None
    return "::".join([*segments[:-1], module_name(target_path)])


def module_seen_from_sibling(module: str, source_path: str) -> str | None:
    head, _, rest = module.partition("::")
    if head == "self":
        return f"super::{module_name(source_path)}" + (f"::{rest}" if rest else "")
    return module


# -------------------------------------------------------------------------------------------- use items


def _render(module: str, names: Sequence[ImportedName]) -> str:
    rendered = [n.name + (f" as {n.alias}" if n.alias else "") for n in names]
    if len(rendered) == 1:
        return f"use {module}::{rendered[0]};"
    return f"use {module}::{{{', '.join(rendered)}}};"


def _use_path(source: EditSource, argument: tree_sitter.Node) -> tuple[str, tree_sitter.Node | None]:
    """(module path, the ``use_list`` or None) of ``m::{…}`` / ``m::X`` / ``m::X as Y``."""
    if argument.type == "scoped_use_list":
        path = argument.child_by_field_name("path")
        return (source.node_text(path) if path is not None else ""), argument.child_by_field_name("list")
    inner = argument.child_by_field_name("path") if argument.type == "use_as_clause" else argument
    if inner is not None and inner.type == "scoped_identifier":
        path = inner.child_by_field_name("path")
        return (source.node_text(path) if path is not None else ""), None
    return "", None


def _insertion_point(source: EditSource) -> tuple[int, bool]:
    uses = _uses(source)
    if uses:
        return source.line_end(uses[-1].end_byte), True
    offset = 0
    for child in source.root.children:
        if child.type == "inner_attribute_item" or (
            child.type in ("line_comment", "block_comment")
            and source.node_text(child).startswith(("//!", "/*!"))
        ):
            offset = source.line_end(child.end_byte - 1 if child.type == "line_comment" else child.end_byte)
        else:
            break
    return offset, False


def with_import_names(
    text: str, module: str, names: Sequence[ImportedName], bound: set[str], language: tree_sitter.Language
) -> str:
    source = parse_for_edit(language, text)
    if any(n.name == "*" and n.alias is None for n in names):  # a glob import, written once
        globbed = any(
            (argument := use.child_by_field_name("argument")) is not None
            and source.node_text(argument).replace(" ", "") == f"{module}::*"
            for use in _uses(source)
        )
        if not globbed:
            text = _insert_use(source, f"use {module}::*;")
            source = parse_for_edit(language, text)
    wanted = [n for n in names if n.name not in ("*", "default") and (n.alias or n.name) not in bound]
    if not wanted:
        return text
    rendered = ", ".join(n.name + (f" as {n.alias}" if n.alias else "") for n in wanted)
    for use in _uses(source):
        argument = use.child_by_field_name("argument")
        if argument is None or use.child(0).type == "visibility_modifier":
            continue
        path, listing = _use_path(source, argument)
        if path != module:
            continue
        if listing is not None:
            items = listing.named_children
            at = items[-1].end_byte if items else listing.end_byte - 1
            return source.with_edits([(at, at, (", " if items else "") + rendered)])
        if argument.type == "scoped_identifier":
            name = argument.child_by_field_name("name")
            if name is not None:
                return source.with_edits(
                    [
                        (
                            argument.start_byte,
                            argument.end_byte,
                            f"{module}::{{{source.node_text(name)}, {rendered}}}",
                        )
                    ],
                )
    return _insert_use(source, _render(module, wanted))


def _insert_use(source: EditSource, statement: str) -> str:
    offset, had_uses = _insertion_point(source)
    block = statement + "\n"
    rest = source.data[offset:]
    if not had_uses and rest and not rest.startswith(b"\n"):
        block += "\n"
    if not had_uses and offset > 0 and source.data[offset - 2 : offset] != b"\n\n":
        block = "\n" + block
    if offset >= len(source.data) and source.data and not source.data.endswith(b"\n"):
        block = "\n" + block
    return source.with_edits([(offset, offset, block)])


def _use_at(source: EditSource, imp: Import) -> tree_sitter.Node:
    byte = source.byte_at(imp.span.start_line, imp.span.start_col)
    for use in _uses(source):
        if use.start_byte <= byte < use.end_byte:
            return use
    raise ValueError(f"no use item at line {imp.span.start_line + 1}")


def _leaf_name(source: EditSource, node: tree_sitter.Node) -> str:
    if node.type == "use_as_clause":
        path = node.child_by_field_name("path")
        return _leaf_name(source, path) if path is not None else ""
    if node.type == "scoped_identifier":
        name = node.child_by_field_name("name")
        return source.node_text(name) if name is not None else ""
    return source.node_text(node)


def _removal(source: EditSource, node: tree_sitter.Node) -> tuple[int, int, str]:
    start, end = source.line_start(node.start_byte), source.line_end(node.end_byte)
    if source.data[start : node.start_byte].strip() or source.data[node.end_byte : end].strip():
        return node.start_byte, node.end_byte, ""
    blank_before = start == 0 or source.data[max(0, start - 2) : start] == b"\n\n"
    if blank_before and source.data[end : end + 1] == b"\n":
        end += 1  # no double blank line where the item was
    return start, end, ""


def with_import_redirected(
    text: str, imp: Import, name: str, module: str | None, language: tree_sitter.Language
) -> str:
    source = parse_for_edit(language, text)
    use = _use_at(source, imp)
    argument = use.child_by_field_name("argument")
    if argument is None:
        raise ValueError(f"line {imp.span.start_line + 1}: an empty use item")
    visibility = source.node_text(use.child(0)) + " " if use.child(0).type == "visibility_modifier" else ""
    after = source.line_end(use.end_byte)
    if argument.type == "use_wildcard":
        if module is None:
            return text
        return source.with_edits([(after, after, f"{visibility}use {module}::{name};\n")])
    path, listing = _use_path(source, argument)
    if path != imp.module:
        raise ValueError(f"line {imp.span.start_line + 1}: a nested use tree is not rewritten")
    if listing is None:
        if _leaf_name(source, argument) != name:
            raise ValueError(f"line {imp.span.start_line + 1} does not use {name!r}")
        if module is None:
            return source.with_edits([_removal(source, use)])
        inner = argument.child_by_field_name("path") if argument.type == "use_as_clause" else argument
        path_node = inner.child_by_field_name("path") if inner is not None else None
        if path_node is None:
            raise ValueError(f"line {imp.span.start_line + 1}: no module path")
        return source.with_edits([(path_node.start_byte, path_node.end_byte, module)])
    items = listing.named_children
    index = next((i for i, item in enumerate(items) if _leaf_name(source, item) == name), None)
    if index is None:
        raise ValueError(f"line {imp.span.start_line + 1} does not use {name!r}")
    item = items[index]
    if item.type not in ("identifier", "use_as_clause", "type_identifier"):
        raise ValueError(f"line {imp.span.start_line + 1}: a nested use tree is not rewritten")
    spec = source.node_text(item)
    edits: list[tuple[int, int, str]]
    if len(items) == 1:
        edits = [_removal(source, use)]
        if module is not None:
            start, end, _ = edits.pop()
            edits.append((start, end, f"{visibility}use {module}::{spec};" + ("\n" if end == after else "")))
        return source.with_edits(edits)
    if len(items) == 2 and items[1 - index].type == "identifier":
        edits = [
            (listing.start_byte, listing.end_byte, source.node_text(items[1 - index]))
        ]  # ``m::{a}`` → ``m::a``
    elif index + 1 < len(items):
        edits = [(item.start_byte, items[index + 1].start_byte, "")]
    else:
        edits = [(items[index - 1].end_byte, item.end_byte, "")]
    if module is not None:
        edits.append((after, after, f"{visibility}use {module}::{spec};\n"))
    return source.with_edits(edits)


# ----------------------------------------------------------------------------------------- moving items


def _item_name(source: EditSource, node: tree_sitter.Node) -> str | None:
    if node.type == "macro_definition" or node.type in _NAMED_ITEMS:
        name = node.child_by_field_name("name")
        return source.node_text(name) if name is not None else None
    return None


def _impl_type(source: EditSource, impl: tree_sitter.Node) -> str | None:
    node = impl.child_by_field_name("type")
    while node is not None:
        if node.type == "generic_type":
            node = node.child_by_field_name("type")
        elif node.type in ("scoped_type_identifier",):
            node = node.child_by_field_name("name")
        elif node.type == "type_identifier":
            return source.node_text(node)
        else:
            return None
    return None


def _items_of(source: EditSource, name: str) -> tuple[tree_sitter.Node, list[tree_sitter.Node]]:
    """The item named ``name`` and the ``impl`` blocks of it in the file."""
    item = next((c for c in source.root.named_children if _item_name(source, c) == name), None)
    if item is None:
        raise ValueError(f"no top-level item named {name!r}")
    if item.type == "macro_definition":
        raise ValueError(f"{name!r} is a macro: macro_rules! scoping is textual, move it by hand")
    if item.type == "mod_item" and item.child_by_field_name("body") is None:
        raise ValueError(f"{name!r} is a module file: move the file instead")
    impls = [c for c in source.root.named_children if c.type == "impl_item" and _impl_type(source, c) == name]
    return item, impls


def _with_leading(source: EditSource, node: tree_sitter.Node) -> tuple[int, int]:
    """Whole lines of ``node`` with its attributes and doc comments above, and the blank lines after."""
    first = node
    while (
        first.prev_sibling is not None
        and first.prev_sibling.type in ("attribute_item", "line_comment", "block_comment")
        and first.prev_sibling.end_point[0] >= first.start_point[0] - 1
        and not source.node_text(first.prev_sibling).startswith(("//!", "/*!"))
    ):
        first = first.prev_sibling
    start = source.line_start(first.start_byte)
    end = source.line_end(node.end_byte)
    while end < len(source.data) and source.data[end : end + 1] == b"\n":
        end += 1
    return start, end


def declaration_ranges(
    text: str, definition: Definition, language: tree_sitter.Language
) -> list[tuple[int, int]]:
    source = parse_for_edit(language, text)
    item, impls = _items_of(source, definition.name)
    return [tuple(source.char(b) for b in _with_leading(source, node)) for node in [item, *impls]]  # type: ignore[misc]


def _walk(node: tree_sitter.Node) -> list[tree_sitter.Node]:
    found = [node]
    for child in node.named_children:
        found.extend(_walk(child))
    return found


_PATH_SEGMENTS = ("identifier", "crate", "self", "super")


def macro_path_uses(text: str, name: str, language: tree_sitter.Language) -> list[Reference]:
    """``a::b::name`` written in macro arguments (``format!("{}", crate::a::NAME)``): tree-sitter leaves those
    as flat token trees, so the file's references miss them. Each with its path as the receiver, as a path
    outside a macro has it."""
    source = parse_for_edit(language, text)
    found = []
    for tree in (n for n in _walk(source.root) if n.type == "token_tree"):
        tokens = tree.children
        for i, token in enumerate(tokens):
            if token.type != "identifier" or source.node_text(token) != name:
                continue
            segments: list[str] = []
            j = i
            while j >= 2 and tokens[j - 1].type == "::" and tokens[j - 2].type in _PATH_SEGMENTS:
                segments.insert(0, source.node_text(tokens[j - 2]))
                j -= 2
            if segments:
                (row, col), (end_row, end_col) = token.start_point, token.end_point
                found.append(Reference(name, Span(row, col, end_row, end_col), "::".join(segments)))
    return found


def with_definition_exported(text: str, definition: Definition, language: tree_sitter.Language) -> str:
    source = parse_for_edit(language, text)
    item, impls = _items_of(source, definition.name)
    edits: list[tuple[int, int, str]] = []
    if item.child(0) is None or item.child(0).type != "visibility_modifier":
        edits.append((item.start_byte, item.start_byte, "pub "))
    moved = [(n.start_byte, n.end_byte) for n in [item, *impls]]

    def outside(node: tree_sitter.Node) -> bool:
        return not any(start <= node.start_byte < end for start, end in moved)

    # What the rest of the file reaches inside the item stops being its module's own: fields and methods
    # it still uses get ``pub(crate)``.
    used_members = {
        source.node_text(n)
        for n in _walk(source.root)
        if outside(n)
        and (
            n.type == "field_identifier"
            or (n.type == "shorthand_field_initializer")
            or (n.type == "identifier" and n.parent is not None and n.parent.type == "field_expression")
            # macro arguments are token trees: ``format!("{}", store.len())``
            or (n.type == "identifier" and n.parent is not None and n.parent.type == "token_tree")
        )
    }
    used_members |= {
        source.node_text(n.child_by_field_name("name"))  # type: ignore[arg-type]
        for n in _walk(source.root)
        if outside(n) and n.type == "scoped_identifier" and n.child_by_field_name("name") is not None
    }
    fields = item.child_by_field_name("body") if item.type == "struct_item" else None
    members: list[tree_sitter.Node] = []
    if fields is not None and fields.type == "field_declaration_list":
        members += [f for f in fields.named_children if f.type == "field_declaration"]
    for impl in impls:
        if impl.child_by_field_name("trait") is not None:
            continue  # trait methods are as visible as the trait
        body = impl.child_by_field_name("body")
        members += [f for f in (body.named_children if body is not None else []) if f.type == "function_item"]
    for member in members:
        name = member.child_by_field_name("name")
        has_visibility = member.child(0) is not None and member.child(0).type == "visibility_modifier"
        if name is not None and not has_visibility and source.node_text(name) in used_members:
            edits.append((member.start_byte, member.start_byte, "pub(crate) "))
    if (
        fields is not None
        and fields.type == "ordered_field_declaration_list"
        and any(
            outside(n)
            and n.type in ("identifier", "type_identifier")
            and source.node_text(n) == definition.name
            for n in _walk(source.root)
        )
    ):  # ``P(1, 2)`` and ``p.0`` elsewhere in the file
        previous: tree_sitter.Node | None = None
        for field in fields.named_children:
            if field.type not in ("visibility_modifier", "attribute_item") and (
                previous is None or previous.type != "visibility_modifier"
            ):
                edits.append((field.start_byte, field.start_byte, "pub(crate) "))
            previous = field
    return source.with_edits(edits)


def local_names(text: str, language: tree_sitter.Language) -> frozenset[str]:
    """Identifiers bound by ``let``, parameters, closures, ``for`` and ``match``/``if let`` patterns."""
    source = parse_for_edit(language, text)
    names: set[str] = set()
    for node in _walk(source.root):
        if node.type not in (
            "let_declaration",
            "parameter",
            "closure_parameters",
            "for_expression",
            "let_condition",
            "match_arm",
        ):
            continue
        pattern = node.child_by_field_name("pattern") if node.type != "closure_parameters" else node
        if node.type == "match_arm":
            pattern = node.child_by_field_name("pattern")
        for found in _walk(pattern) if pattern is not None else []:
            parent = found.parent
            if (
                found.type == "identifier"
                and (
                    parent is None
                    or parent.type not in ("scoped_identifier", "tuple_struct_pattern", "struct_pattern")
                    or (parent.type == "tuple_struct_pattern" and parent.child_by_field_name("type") != found)
                )
                or found.type == "shorthand_field_identifier"
            ):
                names.add(source.node_text(found))
    return frozenset(names)
