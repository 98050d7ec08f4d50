"""RB102: a string literal stored in a name that holds a credential.

Bandit's B105/B106 find these but rate them LOW, which a gate passes, and do not know "key" names
(``api_key = '3842240593'``). A model that writes a literal password or key into code is worth a warning;
the secret scanner separately blocks literals that look like real credentials (high entropy, known formats).
"""

from __future__ import annotations

import ast
from typing import TYPE_CHECKING

import bandit
from bandit.core import issue
from bandit.core import test_properties as test

if TYPE_CHECKING:
    from bandit.core.context import Context

from roost.engine.gate.plugins._names import is_secret_name, target_name


def _destination(node: ast.AST) -> str | None:
    """The credential-looking name the string ``node`` is stored in, if any."""
    parent = getattr(node, "_bandit_parent", None)
    if isinstance(parent, ast.Assign) and parent.value is node:
        for target in parent.targets:
            name = target_name(target)
            if is_secret_name(name):
                return name
    if isinstance(parent, ast.AnnAssign) and parent.value is node:
        name = target_name(parent.target)
        if is_secret_name(name):
            return name
    if isinstance(parent, ast.keyword) and parent.value is node and is_secret_name(parent.arg):
        return parent.arg
    if isinstance(parent, ast.Dict) and node in parent.values:
        key = parent.keys[parent.values.index(node)]
        name = target_name(key) if key is not None else None
        if is_secret_name(name):
            return name
    return None


@test.checks("Str")
@test.test_id("RB102")
def roost_hardcoded_credential(context: Context) -> issue.Issue | None:
    """**RB102: literal credential in code**"""
    node = context.node
    if not isinstance(node, ast.Constant) or not isinstance(node.value, str) or not node.value.strip():
        # An empty string is an initial value, not a credential.
        return None
    name = _destination(node)
    if name is None:
        return None
    return bandit.Issue(
        severity=bandit.MEDIUM,
        confidence=bandit.MEDIUM,
        cwe=issue.Cwe.HARD_CODED_PASSWORD,
        text=f"Literal credential assigned to {name!r}; read it from the environment or a secret store.",
        lineno=node.lineno,
    )
