"""RB103: an SQL statement built with string formatting and passed to ``execute``.

Bandit's B608 only recognises statements that start like SELECT/INSERT/UPDATE/DELETE, so DDL and other
statements (``cursor.execute('DROP TABLE "%s"' % table)``, ``cursor.execute(sql.format(name=name))``) pass.
This rule looks at the call instead: anything executed that is built by ``%``, ``+``, ``.format`` or an
f-string with values in it should use the driver's parameters.
"""

from __future__ import annotations

import ast
from typing import TYPE_CHECKING

import bandit
from bandit.core import issue
from bandit.core import test_properties as test

if TYPE_CHECKING:
    from bandit.core.context import Context

_EXECUTE_METHODS = frozenset({"execute", "executemany", "executescript", "raw", "mogrify", "exec_driver_sql"})


def _has_string(node: ast.AST) -> bool:
    return any(isinstance(n, ast.Constant) and isinstance(n.value, str) for n in ast.walk(node))


def _add_operands(node: ast.AST) -> list[ast.AST]:
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        return _add_operands(node.left) + _add_operands(node.right)
    return [node]


def _built_string(node: ast.AST) -> str | None:
    """How ``node`` builds a string from values, or None when it is a constant or a plain variable."""
    if isinstance(node, ast.JoinedStr) and any(isinstance(v, ast.FormattedValue) for v in node.values):
        return "an f-string"
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mod) and _has_string(node.left):
        return "% formatting"
    # "a" + "b" + "c" is a constant; "a" + name is built from a value.
    if (
        isinstance(node, ast.BinOp)
        and isinstance(node.op, ast.Add)
        and _has_string(node)
        and any(not isinstance(leaf, ast.Constant) for leaf in _add_operands(node))
    ):
        return "string concatenation"
    if (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "format"
        and (node.args or node.keywords)
    ):
        return "str.format"
    return None


@test.checks("Call")
@test.test_id("RB103")
def roost_sql_string_building(context: Context) -> issue.Issue | None:
    """**RB103: SQL built by string formatting and executed**"""
    node = context.node
    if not isinstance(node.func, ast.Attribute) or node.func.attr not in _EXECUTE_METHODS:
        return None
    statement = node.args[0] if node.args else None
    if statement is None:
        statement = next(
            (k.value for k in node.keywords if k.arg in ("sql", "query", "statement", "operation")), None
        )
    if statement is None:
        return None
    how = _built_string(statement)
    if how is None:
        return None
    return bandit.Issue(
        severity=bandit.MEDIUM,
        confidence=bandit.MEDIUM,
        cwe=issue.Cwe.SQL_INJECTION,
        text=f"Statement passed to {node.func.attr}() is built with {how}; pass the values as query parameters.",
        lineno=node.lineno,
    )
