"""The ``roost guard --batch`` protocol: one JSON request per line in, one JSON answer per line out."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator

from roost.engine.gate.gate import Gate

_REQUIRED_TEXT_FIELDS = ("language", "completion")
_OPTIONAL_TEXT_FIELDS = ("prefix", "suffix", "path")


class BadRequest(ValueError):
    """A batch line that is not a valid request."""


def parse_request(line: str) -> dict[str, object]:
    if not line.strip():
        raise BadRequest("empty line; expected a JSON object")
    try:
        request = json.loads(line)
    except json.JSONDecodeError as error:
        raise BadRequest(f"invalid JSON: {error.msg} at column {error.colno}") from None
    if not isinstance(request, dict):
        raise BadRequest(f"expected a JSON object, got {type(request).__name__}")
    for name in _REQUIRED_TEXT_FIELDS:
        if name not in request:
            raise BadRequest(f"missing field {name!r}")
    for name in _REQUIRED_TEXT_FIELDS + _OPTIONAL_TEXT_FIELDS:
        if name in request and not isinstance(request[name], str):
            raise BadRequest(f"field {name!r} must be a string, got {type(request[name]).__name__}")
    secrets = request.get("workspace_secrets", [])
    if not isinstance(secrets, list) or not all(isinstance(s, str) for s in secrets):
        raise BadRequest("field 'workspace_secrets' must be a list of strings")
    return request


def answer(gate: Gate, line: str, workspace_secrets: Iterable[str] = ()) -> dict[str, object]:
    """The JSON answer for one request line; a bad line gets ``{"error": ...}``."""
    try:
        request = parse_request(line)
    except BadRequest as error:
        return {"error": str(error)}
    secrets = [*workspace_secrets, *request.get("workspace_secrets", [])]  # type: ignore[misc]
    try:
        verdict = gate.check(
            str(request["language"]),
            str(request.get("prefix", "")),
            str(request["completion"]),
            str(request.get("suffix", "")),
            workspace_secrets=secrets,
            path=request.get("path"),  # type: ignore[arg-type]
        )
    except Exception as error:  # noqa: BLE001 - one bad request must not end the batch
        return {"error": f"internal error while checking: {type(error).__name__}: {error}"}
    return verdict.to_json()


def run_batch(gate: Gate, lines: Iterable[str], workspace_secrets: Iterable[str] = ()) -> Iterator[str]:
    """Answers, as JSON text without newline, in input order."""
    known = tuple(workspace_secrets)
    for line in lines:
        yield json.dumps(answer(gate, line.rstrip("\r\n"), known), ensure_ascii=False)
