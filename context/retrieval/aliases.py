"""A local that only names a member path of ``this``: ``const v0 = this.v0, v1 = this.v1;`` (three.js's
curves, a common JavaScript idiom to shorten ``this.`` chains), so that ``v0.▮`` is read as ``this.v0.▮``,
which the class's fields type."""

from __future__ import annotations

import re

# ``name = <value>`` where it is assigned (not ``==``, ``=>``, ``<=``); the value is read up to the next ``,``
# or ``;`` at depth 0 by the caller's pattern below.
_THIS_PATH = re.compile(r"this(?:\s*\.\s*[A-Za-z_$][\w$]*)+")


def through_local_alias(receiver: str, lines: list[str], start: int, end: int) -> str:
    """``receiver`` with its head replaced by the ``this.`` path the last assignment to it in
    ``lines[start:end]`` gives it (``v0.x`` → ``this.v0.x``); unchanged when that assignment is anything
    else or there is none."""
    head, dot, rest = receiver.partition(".")
    if not head or head == "this" or not re.fullmatch(r"[A-Za-z_$][\w$]*", head):
        return receiver
    assigned = re.compile(rf"(?<![\w.$]){re.escape(head)}\s*=(?![=>])\s*([^,;]*)")
    value: str | None = None
    for text in lines[max(0, start) : end]:
        for match in assigned.finditer(text):
            value = match.group(1).strip()
    if value is None or not _THIS_PATH.fullmatch(value):
        return receiver
    return re.sub(r"\s+", "", value) + dot + rest
