"""The contract every language module fulfils. The graph code only ever talks to this."""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Literal, Protocol, TypedDict

import tree_sitter

from roost.context.codec import encode_facts
from roost.context.facts import Definition, FileFacts, Import, ImportedName, Reference, ResolvedImport
from roost.context.parser_cache import parse

if TYPE_CHECKING:  # buffers imports this module
    from roost.context.buffers import Buffer


@dataclass(frozen=True, slots=True)
class FunctionBody:
    """A function's statements (comments and a docstring left out): how many, and the bytes from the first
    one's start to the last one's end (empty, at the body, when there are none)."""

    statements: int
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class TextChange:
    """One edit of a buffer, as given to ``tree_sitter.Tree.edit`` (points are (row, byte column))."""

    start_byte: int
    old_end_byte: int
    new_end_byte: int
    start_point: tuple[int, int]
    old_end_point: tuple[int, int]
    new_end_point: tuple[int, int]


class OutlineState(TypedDict, total=False):
    """What a language keeps per open buffer between outline updates (:meth:`Language.update_outline`);
    empty at first, and only the keys a language uses are set."""

    facts: FileFacts  # the outline last given
    raw: list[Definition]  # its definitions before the last pass (Python: duplicate fields dropped)
    local: int  # diagnostics: edits served from a parse of the edited region alone
    spliced: int  # diagnostics: edits served by re-extracting the edited statement in the whole tree


class WorkspaceLayout(Protocol):
    """What import resolution may ask about the workspace, without touching the graph."""

    root: Path

    def exists(self, rel_path: str) -> bool:
        """True for an indexed (or indexable) file at this workspace-relative POSIX path."""
        ...

    def is_dir(self, rel_path: str) -> bool: ...

    def read_text(self, rel_path: str) -> str | None:
        """Small project files (go.mod, tsconfig.json, Cargo.toml); None when missing/unreadable."""
        ...

    def files_in_dir(self, rel_dir: str) -> list[str]:
        """Indexed files directly inside a directory (workspace-relative)."""
        ...

    def extra_source_roots(self, language: str) -> list[str]:
        """Configured additional roots for a language (e.g. Python ``src``-like roots)."""
        ...


class ModuleMoveHooks:
    """Writing imports in the file's own style and moving declarations between modules (JS/TS, Rust):
    what :mod:`roost.context.refactor.module_move` and ``refactor.imports.add_import`` ask of a language
    whose ``moves_between_modules`` is true. Mixed into :class:`LanguageSupport`; every hook answers None
    (unsupported) by default and raises ``ValueError`` with the reason when it cannot do the edit exactly.
    """

    # Moves of top-level symbols between modules are planned by ``refactor.module_move`` (Python's by
    # ``refactor.move``; Go's and Java's within a package by ``refactor.package_move``).
    moves_between_modules: bool = False
    # Between a module path (or namespace binding) and a member: ``ns.Name``, ``crate::a::Name``.
    member_separator: str = "."
    # A qualified path (Rust ``crate::a::Name``) reaches another module's item without an import: a move
    # looks at every file of the project (``project_root_markers``), not only at the importers.
    paths_reach_without_imports: bool = False
    project_root_markers: tuple[str, ...] = ()
    # Other files can import only what a file exports (JS/TS ``export``, Rust ``pub``); Python: anything.
    exports_gate_imports: bool = False

    def import_specifier(
        self, path: str, text: str, target: str, exists: Callable[[str], bool]
    ) -> str | None:
        """How the file ``path`` (current ``text``, whose imports show its style) names the workspace file
        ``target`` in an import (JS: ``./util/format``; Rust: ``crate::util::format`` or ``super::format``)."""
        return None

    def with_import_names(
        self, path: str, text: str, module: str, names: Sequence[ImportedName], like: str | None = None
    ) -> str | None:
        """``text`` importing ``names`` from ``module`` (as :meth:`import_specifier` writes it), merged into
        an import of that module when the file has one, else a new statement where the language puts
        imports. JS: ``ImportedName("default", "D")`` is a default import, ``ImportedName("*", "ns")`` a
        namespace import. ``like``: the source text of an import statement whose form to keep (TS
        ``import type``). Names already imported are skipped."""
        return None

    def with_import_redirected(
        self, path: str, text: str, imp: Import, name: str, module: str | None
    ) -> str | None:
        """``text`` where the statement of ``imp`` (a fact of ``text``) no longer takes ``name``: it comes
        from ``module`` in a statement of the same form (import, re-export, ``require``, ``use``) instead, or
        nowhere when ``module`` is None. A star import (``export *``, ``use m::*``) is kept and ``name`` is
        added from ``module`` next to it."""
        return None

    def with_dynamic_import_redirected(
        self, path: str, text: str, imp: Import, name: str, module: str | None
    ) -> str | None:
        """``text`` where ``imp`` (a fact of ``text`` that binds no names: JS ``import('m')``) no longer takes
        ``name`` from its module, where the language can say exactly: it comes from ``module`` instead, or
        nowhere when ``module`` is None. ``text`` unchanged when ``imp`` does not take ``name``; raises
        ``ValueError`` when it may, in a form not rewritten. Default: no such imports."""
        return text

    def sibling_module(self, module: str, source_path: str, target_path: str) -> str | None:
        """``module`` (how some file names the module ``source_path``) changed to name ``target_path``, a
        file of the same directory (``./s.js`` → ``./t.js``; ``crate::a::s`` → ``crate::a::t``)."""
        return None

    def module_seen_from_sibling(self, module: str, source_path: str) -> str | None:
        """An import module as written in ``source_path``, written for a file of the same directory (Rust
        ``self::x`` → ``super::s::x``); None when it cannot be written there."""
        return module

    def declaration_ranges(
        self, path: str, text: str, definition: Definition
    ) -> list[tuple[int, int]] | None:
        """Character ranges of whole lines to move with the top-level ``definition``: its declaration(s)
        (overloads, Rust ``impl`` blocks of a type), with doc comments, decorators/attributes and the blank
        lines after each."""
        return None

    def with_definition_exported(self, path: str, text: str, definition: Definition) -> str | None:
        """``text`` where the top-level ``definition`` can be imported by other modules (JS ``export``,
        Rust ``pub``); ``text`` itself when it already can."""
        return None

    def local_names(self, path: str, text: str) -> frozenset[str]:
        """Names the file binds below the top level (parameters, locals, patterns): never "missing an
        import" (the references of a file include their uses). Default: none known."""
        return frozenset()

    def qualified_uses_missed(self, path: str, text: str, name: str) -> list[Reference]:
        """Qualified uses of ``name`` the file's references miss (Rust paths in macro arguments, TypeScript
        types through a namespace: ``util.JSONType``), each with its path as the receiver. Default: none."""
        return []

    def build_constraint(self, path: str, text: str) -> str:
        """The builds the file belongs to (Go build constraints and ``_GOOS`` file names), "" for every
        build: a declaration moves only between files built together. Default: every build."""
        return ""

    def module_visible_from(
        self, module: str, user: str, exists: Callable[[str], bool], text_of: Callable[[str], str]
    ) -> bool:
        """Whether the file ``user`` may name items through the module of the file ``module`` (Rust: as its
        parent declares it, ``pub mod`` or not). Default: yes."""
        return True

    def move_target_allowed(self, source_path: str, target_path: str) -> bool:
        """Whether a top-level symbol of ``source_path`` may be moved to ``target_path`` (Rust: sibling
        modules, not crate roots)."""
        return True


class LanguageSupport(ModuleMoveHooks, ABC):
    name: str
    extensions: tuple[str, ...]

    @abstractmethod
    def ts_language(self, path: str) -> tree_sitter.Language:
        """The grammar for this path (TypeScript and TSX differ by extension)."""

    @abstractmethod
    def extract(self, path: str, source: bytes, tree: tree_sitter.Tree) -> FileFacts:
        """Definitions, references, imports and exports of one parsed file."""

    def facts_of_text(self, path: str, text: str) -> FileFacts:
        """:meth:`extract` on a text not read from disk (an unsaved buffer, a text a refactor writes)."""
        source = text.encode("utf-8", errors="replace")
        return self.extract(path, source, parse(self.ts_language(path), source))

    @abstractmethod
    def resolve_import(self, imp: Import, importer: str, layout: WorkspaceLayout) -> ResolvedImport:
        """Map an import to workspace files; external when it leaves the workspace."""

    def resolve_imports(
        self, imports: Sequence[Import], importer: str, layout: WorkspaceLayout
    ) -> list[ResolvedImport]:
        """Every import of one file, in order. Override to share per-file work between its imports (Python
        computes the file's search roots once); the index falls back to :meth:`resolve_import` one by one
        when this raises."""
        return [self.resolve_import(imp, importer, layout) for imp in imports]

    # -- optional hooks with working defaults (override when the language can do better) -------------

    def extract_outline(self, path: str, source: bytes, tree: tree_sitter.Tree) -> FileFacts:
        """Definitions, imports and exports without references: what the index persists for every file.

        References are the bulk of the per-node work and are only needed for the few files a query
        touches, so the index asks for them on demand (:meth:`extract_references`). The default runs
        :meth:`extract` and drops them; override to skip the reference pass entirely.
        """
        facts = self.extract(path, source, tree)
        facts.references = []
        return facts

    def extract_outline_encoded(
        self, path: str, source: bytes, tree: tree_sitter.Tree
    ) -> tuple[bytes, list[Import], int]:
        """``(encode_facts(outline), outline imports, number of definitions)``: what a cold-index worker
        needs. Override to skip building objects; the default goes through :meth:`extract_outline`."""
        facts = self.extract_outline(path, source, tree)
        return encode_facts(facts), facts.imports, len(facts.definitions)

    def extract_references(self, path: str, source: bytes, tree: tree_sitter.Tree) -> list[Reference]:
        """Identifier uses of one parsed file (on demand). Default: :meth:`extract`'s references."""
        return self.extract(path, source, tree).references

    def update_outline(
        self,
        path: str,
        source: bytes,
        tree: tree_sitter.Tree,
        state: OutlineState,
        old_tree: tree_sitter.Tree | None = None,
        change: TextChange | None = None,
    ) -> FileFacts:
        """The outline of an open buffer after an edit (called on every keystroke).

        ``state`` is private to the language (:class:`OutlineState`), kept per buffer between calls. With ``old_tree`` (the
        previous tree, already edited) and ``change`` (the one edit since the last call) a language can
        re-extract only the edited region. The result must equal :meth:`extract_outline` on the same
        tree. Default: a full :meth:`extract_outline`.
        """
        return self.extract_outline(path, source, tree)

    # True when :meth:`update_outline_local` can answer edits: the index then defers the buffer's
    # whole-file re-parse until the tree is next used.
    updates_outline_locally: bool = False

    def update_outline_local(self, path: str, buffer: Buffer, state: OutlineState) -> FileFacts | None:
        """The outline after one edit from a parse of the edited region alone (``buffer`` has its whole-file
        re-parse deferred), or None when that cannot be shown to equal :meth:`update_outline`, which the
        index then calls. Default: None."""
        return None

    def bound_name(self, imp: Import) -> str | None:
        """The local name a whole-module import binds (``import numpy as np`` → ``np``), None if none.

        Only consulted for imports without ``names``. Default: the alias. Python binds the first dotted
        segment (``import os.path`` → ``os``); Go binds the package name; override accordingly.
        """
        return imp.alias

    def self_names(self) -> tuple[str, ...]:
        """Receivers that mean "the enclosing class/type" (``self``, ``cls``, ``this``)."""
        return ("self", "this")

    def method_receiver(self, method: Definition) -> str | None:
        """The variable naming the receiver inside ``method`` when each method chooses it (Go's
        ``func (w *Warehouse) Add()`` → ``w``); it then means the type named by ``method.parent``. None
        (the default) when only :meth:`self_names` apply."""
        return None

    def declared_type(self, path: str, source: bytes, name: str, at: tuple[int, int]) -> str | None:
        """The type written where ``name`` is declared as a parameter or local variable in scope at ``at``
        (row, byte column) of ``source``: the innermost declaration before ``at`` in the enclosing blocks
        and functions wins. Pointer, reference and generic wrappers are stripped to the named type; a
        qualified name (``pkg.T``, ``a.b.T``) is kept as written, for navigation to resolve like any name.
        None when ``name`` is no parameter or local there (a field, a package-level variable) or its type is
        not written or not one named type. Asked per navigation request, never while indexing. Default: None.
        """
        return None

    def field_type(self, path: str, source: bytes, field: Definition) -> str | None:
        """The type of a field or variable definition of ``path`` (whose text is ``source``) as its
        declaration writes it (``cache: Cache``) or implies it (``self.store = store`` where the parameter
        is ``store: Store``), in :meth:`declared_type`'s form; ``x = Cls(...)`` navigation reads itself. Asked
        per navigation request. Default: None."""
        return None

    def bound_value(self, path: str, source: bytes, name: str, at: tuple[int, int]) -> str | None:
        """What the local ``name`` in scope at ``at`` is bound to where :meth:`declared_type` finds no
        named type, as a receiver expression for retrieval: Go's ``for _, c := range cmd.Commands()`` →
        ``cmd.Commands()[]`` (an element of it), ``x := s[i]`` → ``s[]``, ``s []*T`` → ``[]*T`` (a type
        :meth:`element_type` reads). Default: None."""
        return None

    def written_type(self, definition: Definition) -> str | None:
        """The type ``definition``'s declaration writes, for typing what it gives: a function's (first)
        result, a field's or variable's type, a defined type's underlying type (Go's ``type byName
        []*Command``); a named type without pointers (``pkg.T``), another type whole (``[]*T``). Default:
        None (the resolver reads Python's ``-> T`` and TypeScript's ``): T`` itself)."""
        return None

    def element_type(self, written: str) -> str | None:
        """The type of an element of a value of type ``written`` (:meth:`written_type`'s form): Go's
        ``[]*T`` and ``map[K]*T`` → ``T``. Default: None."""
        return None

    def callback_parameter_type(self, function: Definition, argument: int, parameter: int) -> str | None:
        """The named type ``function``'s declaration gives the ``parameter``-th parameter of the callback it
        takes as its ``argument``-th argument (TypeScript's ``operate(init: (source: Observable<T>) =>
        …)``, 0, 0 → ``Observable``), what :meth:`bound_value`'s ``operate#0#0`` asks. Default: None."""
        return None

    def package_dirs(self, path: str, package: str, directories: Iterable[str]) -> list[str]:
        """Directories (among the workspace's ``directories``) whose files of the same ``package`` see the
        top-level names of ``path`` without an import (Go: the file's own directory; Java: every source
        root's folder for the package). Default: none, names cross files only through imports."""
        return []

    def sees_package_file(self, path: str, other: str) -> bool:
        """Whether ``path`` sees ``other``, a file of its package (Go: ``_test.go`` files only see, and are
        only seen by, each other's package when ``path`` is a test too)."""
        return True

    def module_binding_export(self, imp: Import, statement: str) -> str | None:
        """What a whole-module binding (``imp.names`` empty) takes from its module: an export's name
        (ESM ``import D from 'm'`` and CommonJS ``require`` → ``"default"``), or None when it binds the
        module itself (``import * as ns``, Python ``import m``). ``statement`` is the import's source text."""
        return None

    def function_statements(self, source: bytes, tree: tree_sitter.Tree) -> dict[str, FunctionBody]:
        """Each function's statements (a docstring and comments left out), by its dotted name
        (``Class.method``; nested functions included). An edit that takes a function that had statements
        down to none left a signature without a body. Default: unknown ({}), so nothing is checked."""
        return {}

    def builtin_names(self) -> frozenset[str]:
        """Names every file sees without a definition or an import (Python's builtins); a reference to
        one is never "missing an import". Default: none."""
        return frozenset()

    # -- writing imports (refactors: move symbol, add missing import) ---------------------------------
    # None means the language cannot write imports, and the refactors are not offered for its files.

    def import_module_name(
        self, importer: str, target: str, relative: bool, exists: Callable[[str], bool]
    ) -> str | None:
        """How the file ``importer`` names the module of the workspace file ``target`` in an import
        (relative when ``relative`` and possible); ``exists(path)`` tells whether a workspace file exists."""
        return None

    def render_import(self, module: str, names: Sequence[ImportedName]) -> str | None:
        """The import statement taking ``names`` from ``module`` (as :meth:`import_module_name` gives it)."""
        return None

    def render_module_import(self, module: str, alias: str | None = None) -> str | None:
        """The statement importing the whole ``module`` (absolute, as :meth:`import_module_name` gives it),
        bound to ``alias`` when given; None when the language has no such form."""
        return None

    def import_insertion_line(self, facts: FileFacts | None, lines: Sequence[str]) -> int | None:
        """0-based line where a new import statement goes in a file of ``lines`` with ``facts``."""
        return None

    # -- classes and packages spanning files (Go, Java): inheritance, moves, missing imports -------------
    # Java: a bare name inside a class body also means a member of the class or of its bases (implicit
    # ``this``). Python, Rust, JS/TS reach members only through ``self``/``this``.
    implicit_member_access: bool = False
    # Go, Java: a top-level symbol moves between files of one package (same directory), so dependents
    # need no import changes; the move is planned by ``roost.context.refactor.package_move``.
    moves_within_package: bool = False
    # Java: a ``private`` member is seen in the whole top-level class around it (its nested classes, and
    # the classes it is nested in), not only in its own class's body (TypeScript).
    private_to_top_level_class: bool = False

    def super_names(self) -> tuple[str, ...]:
        """Receivers that mean "the base class(es) of the enclosing class" (Java ``super``)."""
        return ()

    def base_names(self, definition: Definition, members: Sequence[Definition]) -> list[str]:
        """Types whose members a class-like ``definition`` (with its direct ``members``) has too, as
        written (maybe dotted): Java ``extends A implements B, C`` → A, B, C; Go embedded fields. The one
        source of base classes for navigation and retrieval alike; by default read from the signature
        (:func:`bases_in_signature`)."""
        return bases_in_signature(definition)

    def member_access(self, definition: Definition) -> MemberAccess:
        """Where code may name ``definition`` through a receiver (``obj.name``, ``pkg.name``), as its
        declaration says: see :data:`MemberAccess`. Python's ``_name`` is a convention, not a rule: public."""
        return "public"

    def sees_module_private(self, path: str, other: str) -> bool:
        """Whether code in ``path`` sees the ``"module"`` members declared in ``other``."""
        return path == other

    def missing_import_candidates(
        self,
        path: str,
        text: str,
        facts: FileFacts,
        first_line: int,
        last_line: int,
        workspace: PackageWorkspace,
    ) -> list[ImportCandidate] | None:
        """Imports that would make names used on lines ``first_line..last_line`` of ``path`` (current
        ``text``, its ``facts`` with references) resolve — Go: the package of ``pkg.Name``; Java: the class
        of a type name — found through ``workspace``. None (the default): the language does not say, and
        ``refactor.imports.unimported_names`` applies."""
        return None

    def with_import(self, text: str, module: str) -> str | None:
        """``text`` with an import of ``module`` (as :class:`ImportCandidate` names it) where the language
        puts it; ``text`` itself when already imported; None when the language cannot write it."""
        return None

    def with_imports_from(self, text: str, source_text: str, imports: Sequence[Import]) -> str | None:
        """``text`` with the import statements ``imports`` (facts of ``source_text``) added, as written
        there (aliases, ``static``); those already present are skipped. None when unsupported."""
        return None

    def without_imports(self, text: str, imports: Sequence[Import]) -> str | None:
        """``text`` without the import statements ``imports`` (facts of ``text``); None when unsupported."""
        return None

    def declaration_to_move(self, text: str, definition: Definition) -> tuple[int, int, str] | None:
        """For moving the top-level ``definition`` to another file of its package: the character range
        to cut from ``text`` (declaration, doc comment, the blank lines after) and the declaration as it
        is written in its new file. Raises ``ValueError`` with the reason when it cannot move; None when
        the language does not support moves within a package."""
        return None


# "private": code inside its class only (Java: inside its top-level class); "protected": its class and
# subclasses; "package": files of its package (its directory: Go's lower-case names); "module": its
# module and those inside it (Rust's fields without ``pub``, see ``sees_module_private``).
MemberAccess = Literal["public", "protected", "private", "package", "module"]


def modifiers_of(definition: Definition) -> frozenset[str]:
    """The words written before the definition's name in its signature (annotations and decorators with
    their arguments left out): ``@dec() private static readonly c = 3`` → private, static, readonly."""
    signature = _DECORATOR.sub(" ", definition.signature)
    found = re.search(rf"(?<![\w$#]){re.escape(definition.name)}(?![\w$])", signature)
    head = signature[: found.start()] if found else ""
    return frozenset(re.findall(r"[A-Za-z]+", head))


_DECORATOR = re.compile(r"@[\w$.]+(?:\([^)]*\))?")
_DOTTED_NAME = re.compile(r"^[A-Za-z_$][\w$]*(?:\.[A-Za-z_$][\w$]*)*$")
_PARENTHESISED = re.compile(r"\(([^)]*)\)")
_EXTENDS = re.compile(r"\b(?:extends|implements)\s+([\w$.,\s]+)")
# ``extends B implements C, D``: a class's base and its interfaces, all bases here.
_BASE_SEPARATORS = re.compile(r",|\b(?:extends|implements)\b")
_BLOCK_COMMENT = re.compile(r"/\*.*?\*/", re.DOTALL)


def bases_in_signature(definition: Definition) -> list[str]:
    """Base classes named in a signature: ``class A(B, mod.C[T], metaclass=M):`` → B, mod.C (the
    parenthesised list opening on its first line), else ``class A extends B implements C`` → B, C."""
    signature = definition.signature
    first = signature.split("\n")[0]
    # A list that opens on the first line and goes on below (``class A(B,\n        C):``) is read whole.
    head = signature if ")" not in first.partition("(")[2] else first
    match = _PARENTHESISED.search(head) if "(" in first else None
    if match is None:
        match = _EXTENDS.search(_without_type_arguments(signature) if "<" in signature else signature)
    if match is None:
        return []
    bases = []
    for part in _BASE_SEPARATORS.split(match.group(1)):
        written = part.strip().split("[")[0]  # a generic base (``Generic[T]``, ``Base[int]``) is its class
        if written and _DOTTED_NAME.match(written):  # not ``metaclass=M``, ``*mixins``, a string
            bases.append(written)
    return bases


def _without_type_arguments(signature: str) -> str:
    """``interface A<T extends B = C> extends D<E<T>>`` → ``interface A extends D``: the ``extends`` of a
    type parameter's bound is not a base (zod's ``$ZodObject<Shape extends Readonly<…>> extends $ZodType``
    read ``Readonly`` as its base), and a base's type arguments are not bases."""
    kept: list[str] = []
    depth = 0
    for char in _BLOCK_COMMENT.sub(" ", signature).replace("=>", "->"):
        if char == "<":
            depth += 1
        elif char == ">" and depth:
            depth -= 1
        elif depth == 0:
            kept.append(char)
    return "".join(kept)


# A declaration a scope holds: the name's node and its declared type's name (None: not written / not named).
ScopeDeclaration = tuple[tree_sitter.Node, "str | None"]


@lru_cache(maxsize=8)
def parsed_for_lookup(grammar: tree_sitter.Language, source: bytes) -> tree_sitter.Tree:
    """A parse of ``source`` for position lookups (:meth:`LanguageSupport.declared_type`): a references
    search asks about many positions of one file, so its last few parses are kept."""
    return parse(grammar, source)


@lru_cache(maxsize=128)
def parsed_snippet(grammar: tree_sitter.Language, snippet: bytes) -> tree_sitter.Tree:
    """A parse of a short piece of code (a declaration's signature, for
    :meth:`LanguageSupport.field_type`), cached apart from :func:`parsed_for_lookup` so that the snippets of
    one navigation never push a whole file's parse out of that small cache."""
    return parse(grammar, snippet)


def declared_type_in_scopes(
    root: tree_sitter.Node,
    name: str,
    at: tuple[int, int],
    scope_declarations: Callable[[tree_sitter.Node], Iterator[ScopeDeclaration]],
) -> str | None:
    """The declared type of ``name`` at ``at`` (row, byte column) below ``root``: the scopes around ``at``
    are asked innermost first for what each declares directly (``scope_declarations``: parameters, locals,
    loop variables); the last declaration of ``name`` before ``at`` in the innermost scope declaring it
    wins, even when its type is unknown (a shadowing local hides the outer one). The top level (package
    and module variables) is not asked."""
    wanted = name.encode()
    node: tree_sitter.Node | None = root.named_descendant_for_point_range(at, at)
    while node is not None and node.parent is not None:
        declared = [
            (name_node, type_name)
            for name_node, type_name in scope_declarations(node)
            if name_node.end_point <= at and name_node.text == wanted
        ]
        if declared:
            return max(declared, key=lambda declaration: declaration[0].start_byte)[1]
        node = node.parent
    return None


@dataclass(frozen=True, slots=True)
class ImportCandidate:
    """An import that makes an unresolved name resolve."""

    name: str  # the name as used (Go: the package qualifier ``pkg``; Java: the type ``Foo``)
    module: str  # what the import names (Go: ``example.com/app/pkg``; Java: ``com.x.Foo``)
    path: str  # a workspace file defining what the name means there


class PackageWorkspace(Protocol):
    """What :meth:`LanguageSupport.missing_import_candidates` may ask of the workspace."""

    def resolves(self, path: str, line: int, col: int) -> bool:
        """Whether the name at (line, byte col) of ``path`` has a known definition."""
        ...

    def top_level(self, name: str) -> list[tuple[str, Definition]]:
        """Top-level definitions named ``name`` anywhere in the workspace, with their files."""
        ...

    def facts(self, path: str) -> FileFacts | None: ...

    def read_text(self, rel_path: str) -> str | None:
        """Small project files (go.mod); None when missing."""
        ...
