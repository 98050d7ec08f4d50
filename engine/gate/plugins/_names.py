"""Helpers shared by Roost's bandit plugins."""

from __future__ import annotations

import ast
import re

# Names that hold credentials. Broader than bandit's B105 (which has no "key" words).
SECRET_NAME = re.compile(
    r"(?i)(?:^|_|\b)(?:pas+wo?r?d|pass(?:phrase)?|pwd|passwd|token|secrete?|api_?key|apikey|secret_?key|"
    r"access_?key|private_?key|auth_?key|client_?secret|credentials?|signing_?key)(?:$|_|\b)"
)
# Names that only *refer to* a credential: a path, a column, a form field, a prompt text.
SECRET_REFERENCE_SUFFIX = re.compile(
    r"(?i)(?:_|^)(?:path|file|filename|dir|url|uri|field|label|prompt|message|msg|template|name|col|column|"
    r"env|var|header|param|length|len|len_min|len_max|min|max|regex|pattern|hash|hashed|type|id|kind|mode|"
    r"policy|format|fmt|format_string|validator|widget|input|placeholder|hint|help|error|attr|key_name)$"
)
# Names whose value must be unpredictable.
SECURITY_SENSITIVE_NAME = re.compile(
    r"(?i)(?:^|_)(?:pas+wo?r?d|pwd|passwd|token|secret|salt|nonce|key|otp|pin|session|sessionid|csrf|iv|"
    r"seed|code|verifier|challenge|reset|api_?key|auth|cookie)s?(?:$|_)"
)


def target_name(node: ast.AST) -> str | None:
    """The plain name an assignment target or dict key stands for: ``x``, ``self.x``, ``d['x']``."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    if (
        isinstance(node, ast.Subscript)
        and isinstance(node.slice, ast.Constant)
        and isinstance(node.slice.value, str)
    ):
        return node.slice.value
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    return None


def is_secret_name(name: str | None) -> bool:
    if not name:
        return False
    return bool(SECRET_NAME.search(name)) and not SECRET_REFERENCE_SUFFIX.search(name)


def enclosing_assignment_targets(node: ast.AST, max_depth: int = 6) -> list[str]:
    """Names the value of ``node`` ends up in: assignment targets and keyword names, walking up a little."""
    names: list[str] = []
    current = node
    for _ in range(max_depth):
        parent = getattr(current, "_bandit_parent", None)
        if parent is None:
            break
        if isinstance(parent, ast.Assign):
            names.extend(n for n in (target_name(t) for t in parent.targets) if n)
            break
        if isinstance(parent, ast.AnnAssign | ast.AugAssign):
            name = target_name(parent.target)
            if name:
                names.append(name)
            break
        if isinstance(parent, ast.keyword) and parent.arg:
            names.append(parent.arg)
            break
        if isinstance(parent, ast.Return):
            break
        current = parent
    return names
