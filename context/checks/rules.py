"""What a security rule is, and the syntax views rules match on.

A rule is data in the style of bandit's plugins: an id, a CWE, a severity and a confidence (bandit's scale:
LOW, MEDIUM, HIGH), a message, the tree-sitter node types it looks at, a check, and the code it must and must
not flag (``positives``/``negatives``, run by the tests). A check gets a :class:`Site` (a node with the
language's view of it: callee, arguments, strings) and returns the node that is the evidence — the finding
counts against a suggestion only when the span from the site's start to the evidence's end touches an inserted
line — or None.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cached_property

import tree_sitter

LOW, MEDIUM, HIGH = "LOW", "MEDIUM", "HIGH"


@dataclass(frozen=True)
class Syntax:
    """A language's node types and field names, as far as the rules need them."""

    call_types: frozenset[str]
    new_types: frozenset[str]
    string_types: frozenset[str]
    # Node types of string interpolation inside a string node (a template literal's ``${...}``).
    interpolation_types: frozenset[str]
    literal_types: frozenset[str]
    binary_types: frozenset[str]
    comment_types: frozenset[str]
    # Callees whose result is a string built from parts (``String.format``, ``fmt.Sprintf``, ``format!``).
    format_callee: re.Pattern[str]
    # Text that reads user input in this language's usual frameworks (``req.query``, ``getParameter``).
    user_input: re.Pattern[str]
    # Parents whose left side names the value a node is assigned to.
    binding_types: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Site:
    """A node as the rules see it."""

    node: tree_sitter.Node
    syntax: Syntax

    @cached_property
    def text(self) -> str:
        return node_text(self.node)

    @cached_property
    def callee(self) -> str:
        """The called name without whitespace: ``child_process.exec``, ``new Function``, ``format!``."""
        node = self.node
        kind = node.type
        if kind == "method_invocation":  # Java: object.name(args)
            receiver = node.child_by_field_name("object")
            name = node.child_by_field_name("name")
            head = f"{compact(receiver)}." if receiver is not None else ""
            return head + compact(name)
        if kind == "macro_invocation":
            return compact(node.child_by_field_name("macro")) + "!"
        for field_name in ("function", "constructor", "type"):
            target = node.child_by_field_name(field_name)
            if target is not None:
                return ("new " if kind in self.syntax.new_types else "") + compact(target)
        return ""

    @cached_property
    def args(self) -> tuple[tree_sitter.Node, ...]:
        """The argument nodes (a macro's token tree is one argument); comments are left out."""
        node = self.node
        if node.type == "macro_invocation":
            tree = next((c for c in node.named_children if c.type == "token_tree"), None)
            return (tree,) if tree is not None else ()
        arguments = node.child_by_field_name("arguments")
        if arguments is None:
            return ()
        return tuple(c for c in arguments.named_children if c.type not in self.syntax.comment_types)

    def arg(self, index: int) -> tree_sitter.Node | None:
        return self.args[index] if index < len(self.args) else None

    def arguments_node(self) -> tree_sitter.Node:
        """The evidence for a call: its argument list (or the call itself when it has none)."""
        arguments = self.node.child_by_field_name("arguments")
        return arguments if arguments is not None else self.node

    def is_literal(self, node: tree_sitter.Node | None) -> bool:
        """A constant: a string without interpolation, a number, a boolean, or a sum of such."""
        if node is None:
            return False
        if node.type in ("parenthesized_expression", "string_literal_expression"):
            inner = node.named_children
            return len(inner) == 1 and self.is_literal(inner[0])
        if node.type in self.syntax.string_types:
            return not any(_descendant_of_type(node, self.syntax.interpolation_types))
        if node.type in self.syntax.literal_types:
            return True
        if node.type in self.syntax.binary_types:
            return all(self.is_literal(c) for c in node.named_children)
        return False

    def is_built_string(self, node: tree_sitter.Node | None) -> bool:
        """A string put together at run time: concatenation with a variable, interpolation, formatting."""
        if node is None or self.is_literal(node):
            return False
        if node.type in self.syntax.string_types:
            return True  # a string node that is not literal has interpolation
        if node.type in self.syntax.binary_types:
            operator = node.child_by_field_name("operator")
            if operator is not None and operator.type != "+":
                return False
            return any(
                c.type in self.syntax.string_types or self.is_built_string(c) for c in node.named_children
            )
        if node.type == "parenthesized_expression" or node.type == "reference_expression":
            return any(self.is_built_string(c) for c in node.named_children)
        if node.type in self.syntax.call_types:
            return bool(self.syntax.format_callee.search(Site(node, self.syntax).callee))
        return False

    def is_user_input(self, node: tree_sitter.Node | None) -> bool:
        return node is not None and bool(self.syntax.user_input.search(node_text(node)))

    def bound_name(self) -> str:
        """The name this node's value is assigned to (``token = ...``, ``token: ...``), or ''."""
        node: tree_sitter.Node | None = self.node
        for _ in range(6):
            parent = node.parent if node is not None else None
            if parent is None:
                return ""
            if parent.type in self.syntax.binding_types:
                left = (
                    parent.child_by_field_name("name")
                    or parent.child_by_field_name("left")
                    or parent.child_by_field_name("key")
                    or parent.child_by_field_name("pattern")
                )
                return node_text(left) if left is not None else ""
            node = parent
        return ""


Check = Callable[[Site], "tree_sitter.Node | None"]


@dataclass(frozen=True)
class Rule:
    rule_id: str
    cwe: int
    severity: str
    confidence: str
    message: str
    node_types: frozenset[str]
    check: Check
    # Code this rule must flag, and code it must leave alone (run by tests/context/test_checks_rules.py).
    positives: Sequence[str] = field(default=())
    negatives: Sequence[str] = field(default=())
    # Rules of one group are alternatives for one node (a built eval before a plain one): the first wins.
    group: str = ""


def node_text(node: tree_sitter.Node | None) -> str:
    if node is None or node.text is None:
        return ""
    return node.text.decode("utf-8", "replace")


def compact(node: tree_sitter.Node | None) -> str:
    """A node's text without whitespace or block comments (``a./*OK*/b`` is ``a.b``)."""
    return re.sub(r"\s+|/\*.*?\*/", "", node_text(node))


def string_value(node: tree_sitter.Node | None) -> str:
    """A literal string's text without its quotes and prefixes (for matching names such as "MD5")."""
    text = node_text(node).strip()
    match = re.fullmatch(r'(?s)(?:[bcr]|br|rb)?#*(["\'`])(.*)\1#*', text)
    return match.group(2) if match else text


def _descendant_of_type(node: tree_sitter.Node, types: frozenset[str]) -> list[tree_sitter.Node]:
    found: list[tree_sitter.Node] = []
    stack = list(node.children)
    while stack and not found:
        child = stack.pop()
        if child.type in types:
            found.append(child)
        stack.extend(child.children)
    return found


def calls(
    callee: str, when: Callable[[Site], tree_sitter.Node | None] | None = None
) -> Callable[[Site], tree_sitter.Node | None]:
    """A check for calls whose callee matches the regex ``callee`` (searched) and, if given, ``when``."""
    pattern = re.compile(callee)

    def check(site: Site) -> tree_sitter.Node | None:
        if not pattern.search(site.callee):
            return None
        return when(site) if when is not None else site.arguments_node()

    return check


def first_arg_built(site: Site) -> tree_sitter.Node | None:
    node = site.arg(0)
    return node if site.is_built_string(node) else None


def first_arg_not_literal(site: Site) -> tree_sitter.Node | None:
    node = site.arg(0)
    if node is None:
        return site.arguments_node()  # cut off before its argument: the call itself is the evidence
    return None if site.is_literal(node) else node


def any_arg_user_input(site: Site) -> tree_sitter.Node | None:
    return next((a for a in site.args if site.is_user_input(a)), None)


def first_arg_matches(pattern: str) -> Callable[[Site], tree_sitter.Node | None]:
    compiled = re.compile(pattern, re.IGNORECASE)

    def check(site: Site) -> tree_sitter.Node | None:
        node = site.arg(0)
        return node if node is not None and compiled.search(string_value(node)) else None

    return check


SECRET_NAME = re.compile(
    r"(?i)(passw(or)?d|passwd|pwd|secret|api_?key|apikey|access_?key|auth_?token|private_?key|client_?secret|"
    r"credential)"
)
# Names of values that must be unpredictable (a weak random source feeding one of them blocks).
TOKEN_NAME = re.compile(
    r"(?i)(token|secret|passw|nonce|salt|otp|api_?key|csrf|session_?id|sessid|verif\w*code|uuid|guid)"
)
PLACEHOLDER = re.compile(r"(?i)^(|x+|\*+|\.+|changeme|your[-_ ].*|<.*>|\$\{.*\}|%s|\{\}|test|example|dummy)$")


def hard_coded_secret(site: Site) -> tree_sitter.Node | None:
    """A binding of a secret-looking name to a non-placeholder string literal."""
    node = site.node
    left = (
        node.child_by_field_name("name")
        or node.child_by_field_name("left")
        or node.child_by_field_name("key")
        or node.child_by_field_name("pattern")
    )
    value = node.child_by_field_name("value") or node.child_by_field_name("right")
    if left is None or value is None:
        return None
    if value.type == "expression_list" and value.named_child_count == 1:
        value = value.named_children[0]
    name = node_text(left).strip("'\"`")
    if not SECRET_NAME.search(name) or re.search(
        r"(?i)(field|label|prompt|hint|placeholder|name|key_?id)$", name
    ):
        return None
    if value.type not in site.syntax.string_types or not site.is_literal(value):
        return None
    secret = string_value(value)
    if len(secret) < 4 or PLACEHOLDER.match(secret) or " " in secret:
        return None
    return value
