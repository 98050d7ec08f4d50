"""RB105: ``system(...)``/``popen(...)`` called by bare name where bandit cannot resolve the import.

With ``from os import system`` in view bandit's B605 reports the call; in a window of a file whose imports
are out of sight the bare name resolves to nothing and the call passes. A bare ``system`` or ``popen`` is
almost always ``os.system``/``os.popen``, so warn.
"""

from __future__ import annotations

import ast
from typing import TYPE_CHECKING

import bandit
from bandit.core import issue
from bandit.core import test_properties as test

if TYPE_CHECKING:
    from bandit.core.context import Context

_SHELL_NAMES = frozenset({"system", "popen", "popen2", "popen3", "getoutput", "getstatusoutput"})


@test.checks("Call")
@test.test_id("RB105")
def roost_unresolved_shell_call(context: Context) -> issue.Issue | None:
    """**RB105: bare system()/popen() call**"""
    node = context.node
    if not isinstance(node.func, ast.Name) or node.func.id not in _SHELL_NAMES:
        return None
    if context.call_function_name_qual != node.func.id:
        return None  # imported in view: bandit's own shell rules resolve it
    return bandit.Issue(
        severity=bandit.MEDIUM,
        confidence=bandit.LOW,
        cwe=issue.Cwe.OS_COMMAND_INJECTION,
        text=f"{node.func.id}() probably runs a shell command; use subprocess with a list of arguments.",
        lineno=node.lineno,
    )
