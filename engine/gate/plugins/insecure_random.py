"""RB101: the ``random`` module, whose output is predictable, used by generated code.

Bandit's B311 reports ``random`` calls at LOW severity, which a gate passes, and misses ``random.seed``,
``random.shuffle`` and ``from random import random; random()``. Generated code reaches for ``random`` to make
tokens, salts and passwords, so this rule warns on any use and blocks when the value lands in a name that
must be unpredictable (``token = ...random.choice(...)``, ``def make_password(): return ...random...``).
"""

from __future__ import annotations

import ast
from typing import TYPE_CHECKING

import bandit
from bandit.core import issue
from bandit.core import test_properties as test

if TYPE_CHECKING:
    from bandit.core.context import Context

from roost.engine.gate.plugins._names import SECURITY_SENSITIVE_NAME, enclosing_assignment_targets

_RANDOM_FUNCTIONS = frozenset(
    {
        "random",
        "randint",
        "randrange",
        "randbytes",
        "choice",
        "choices",
        "sample",
        "shuffle",
        "seed",
        "uniform",
        "getrandbits",
        "triangular",
        "gauss",
        "Random",
    }
)


# Bare names that, unresolved, can only be ``random``'s (unlike ``choice`` or ``sample``).
_UNAMBIGUOUS_BARE_NAMES = frozenset({"random", "randint", "randrange", "getrandbits", "randbytes"})


def _random_call(context: Context) -> str | None:
    qualname = context.call_function_name_qual
    if not isinstance(qualname, str):
        return None
    parts = qualname.split(".")
    if len(parts) == 2 and parts[0] == "random" and parts[1] in _RANDOM_FUNCTIONS:
        return qualname
    # ``random()`` with ``from random import random`` out of sight, or numpy's legacy global generator.
    if qualname in _UNAMBIGUOUS_BARE_NAMES:
        return qualname
    if (
        len(parts) == 3
        and parts[:2] in (["numpy", "random"], ["np", "random"])
        and parts[2] in _RANDOM_FUNCTIONS
    ):
        return qualname
    return None


def _enclosing_function_name(node: ast.AST) -> str | None:
    current = getattr(node, "_bandit_parent", None)
    while current is not None:
        if isinstance(current, ast.FunctionDef | ast.AsyncFunctionDef):
            return current.name
        current = getattr(current, "_bandit_parent", None)
    return None


@test.checks("Call")
@test.test_id("RB101")
def roost_insecure_random(context: Context) -> issue.Issue | None:
    """**RB101: predictable random numbers from the ``random`` module**"""
    qualname = _random_call(context)
    if qualname is None:
        return None
    names = enclosing_assignment_targets(context.node)
    function = _enclosing_function_name(context.node)
    sensitive = [n for n in names if SECURITY_SENSITIVE_NAME.search(n)]
    if not sensitive and function and SECURITY_SENSITIVE_NAME.search(function):
        sensitive = [f"{function}()"]
    if sensitive:
        return bandit.Issue(
            severity=bandit.HIGH,
            confidence=bandit.MEDIUM,
            cwe=issue.Cwe.INSUFFICIENT_RANDOM_VALUES,
            text=f"{qualname}() is predictable but makes {sensitive[0]!r}; use the secrets module.",
            lineno=context.node.lineno,
        )
    return bandit.Issue(
        severity=bandit.MEDIUM,
        confidence=bandit.LOW,
        cwe=issue.Cwe.INSUFFICIENT_RANDOM_VALUES,
        text=f"{qualname}() is not suitable for security purposes; use the secrets module where it matters.",
        lineno=context.node.lineno,
    )
