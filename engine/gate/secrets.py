"""Secrets in text, for every language: scanning suggestions, redacting prompts, known workspace values.

Three kinds of evidence:
- well-known credential formats (private-key blocks and their base64 bodies, AWS, GitHub, GitLab, Slack,
  Google, Stripe, OpenAI-like, Anthropic, Hugging Face, SendGrid, npm, Twilio, PyPI tokens, Azure keys and
  signatures, Discord webhooks, JWTs, URLs with an embedded password);
- a high-entropy literal assigned to a name that says it is a password, secret, token or key (typed or
  not), or named so by another notation (a connection string, ``.netrc``, XML, an ``Authorization`` header);
- a value the caller knows to be a secret of this workspace (see :func:`collect_workspace_secrets`).

Nothing here imports bandit or knows about Python; the module is pure text processing so that retrieval can
use :func:`redact` on prompt snippets.
"""

from __future__ import annotations

import math
import os
import re
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from roost.engine.gate.model import Level

REDACTED = "[REDACTED]"


@dataclass(frozen=True)
class SecretHit:
    """A secret in a text: ``start``/``end`` delimit the secret value itself; ``line`` is 1-based."""

    rule_id: str
    message: str
    line: int
    start: int
    end: int
    severity: Level = Level.HIGH
    confidence: Level = Level.HIGH


@dataclass(frozen=True)
class _TokenRule:
    rule_id: str
    description: str
    pattern: re.Pattern[str]
    confidence: Level = Level.HIGH


def _rule(rule_id: str, description: str, pattern: str, confidence: Level = Level.HIGH) -> _TokenRule:
    return _TokenRule(rule_id, description, re.compile(pattern), confidence)


# Formats with a fixed, distinctive shape: a match is a credential whatever name it is assigned to.
TOKEN_RULES: tuple[_TokenRule, ...] = (
    # A key needs its body (a BEGIN line quoted in documentation is not a key), or the text must end right
    # after the BEGIN line: the key is what comes next.
    _rule(
        "secret:private-key",
        "private key block",
        r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----"
        # The body may follow as concatenated string literals: ``"…-----\n"``, newline, ``"MIIE…\n"``.
        r"(?:(?:\s|\\n|\\r|[\"'`+,])+(?:[A-Za-z-]+:[^\n]*(?:\s|\\n)+)*[A-Za-z0-9+/=]{16,}[\s\S]*?"
        r"(?:-----END (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----|\Z)|[\s\"']*\Z)",
    ),
    _rule(
        "secret:aws-access-key-id",
        "AWS access key id",
        r"\b(?:AKIA|ASIA|ABIA|ACCA|AGPA|AIDA|AROA)[0-9A-Z]{16}\b",
    ),
    _rule(
        "secret:github-token",
        "GitHub token",
        r"\b(?:gh[pousr]_[A-Za-z0-9]{36,255}|github_pat_[A-Za-z0-9_]{60,255})\b",
    ),
    _rule("secret:gitlab-token", "GitLab token", r"\bglpat-[A-Za-z0-9_\-]{20,}"),
    _rule("secret:slack-token", "Slack token", r"\bxox[abposr]-[A-Za-z0-9-]{10,}"),
    _rule(
        "secret:slack-webhook",
        "Slack webhook URL",
        r"https://hooks\.slack\.com/services/T[A-Za-z0-9_]+/B[A-Za-z0-9_]+/[A-Za-z0-9_]+",
    ),
    _rule("secret:google-api-key", "Google API key", r"\bAIza[0-9A-Za-z_\-]{35}"),
    _rule("secret:google-oauth-token", "Google OAuth access token", r"\bya29\.[0-9A-Za-z_\-]{20,}"),
    _rule("secret:google-oauth-secret", "Google OAuth client secret", r"\bGOCSPX-[A-Za-z0-9_\-]{20,}"),
    _rule("secret:stripe-key", "Stripe secret key", r"\b(?:sk|rk)_(?:live|test)_[0-9A-Za-z]{16,}"),
    _rule("secret:anthropic-key", "Anthropic API key", r"\bsk-ant-[A-Za-z0-9_\-]{32,}"),
    _rule("secret:openai-key", "OpenAI-style API key", r"\bsk-(?:proj-|svcacct-|None-)?[A-Za-z0-9_\-]{32,}"),
    _rule("secret:huggingface-token", "Hugging Face token", r"\bhf_[A-Za-z0-9]{30,}"),
    _rule("secret:sendgrid-key", "SendGrid API key", r"\bSG\.[A-Za-z0-9_\-]{16,}\.[A-Za-z0-9_\-]{16,}"),
    _rule("secret:npm-token", "npm token", r"\bnpm_[A-Za-z0-9]{36}\b"),
    _rule("secret:twilio-key", "Twilio API key", r"\bSK[0-9a-f]{32}\b", Level.MEDIUM),
    # A key block's body without its BEGIN line (split off, or one line of it): the DER encodings of RSA,
    # PKCS#8, EC and OpenSSH private keys begin the same way in base64. Public keys and certificates begin
    # otherwise (``MIIBIjANBg``, ``MIIDdzCCA``).
    _rule(
        "secret:private-key-body",
        "private key (base64 body)",
        # Not inside a longer base64 run, but after a ``\n`` escape: ``"-----\nMIIE…"``.
        r"(?:(?<=\\n)|(?<![A-Za-z0-9+/]))"
        r"(?:MII[A-Za-z0-9+/]{1,3}IBA(?:AKC|DAN)|MHcCAQEE|MIGHAgEAMBMG|b3BlbnNzaC1rZXktdjE)[A-Za-z0-9+/]{16,}={0,2}",
    ),
    _rule(
        "secret:azure-key",
        "Azure account or shared access key",
        r"(?:Account|Access)Key=(?P<value>[A-Za-z0-9+/]{20,}={0,2})",
    ),
    _rule("secret:azure-sas", "Azure shared access signature", r"[?&]sig=(?P<value>[A-Za-z0-9%+/=]{20,})"),
    _rule("secret:pypi-token", "PyPI API token", r"\bpypi-AgEIcHlwaS5vcmc[A-Za-z0-9_\-]{16,}"),
    _rule(
        "secret:discord-webhook",
        "Discord webhook URL",
        r"https://(?:ptb\.|canary\.)?discord(?:app)?\.com/api/webhooks/[0-9]+/[A-Za-z0-9_\-]{40,}",
    ),
    # .npmrc: ``//registry.npmjs.org/:_authToken=…`` (any registry's token, a UUID as often as ``npm_…``).
    _rule("secret:npm-auth", "npm registry credential", r":_(?:authToken|password)=(?P<value>[^\s'\"]{16,})"),
    _rule(
        "secret:jwt",
        "JSON Web Token",
        r"\beyJ[A-Za-z0-9_\-]{8,}\.eyJ[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{8,}",
        Level.MEDIUM,
    ),
)

# scheme://user:password@host — the password group is the secret.
_URL_PASSWORD = re.compile(r"\b[a-zA-Z][a-zA-Z0-9+.\-]*://[^\s:/@'\"]*:(?P<value>[^\s@/'\"]{6,})@[^\s'\"]+")

_SECRET_NAME = (
    r"[A-Za-z0-9_.\-]*?(?:pass(?:word|wd|phrase)?|pwd|secret|token|api[_\-]?key|apikey|access[_\-]?key|"
    r"private[_\-]?key|secret[_\-]?key|auth[_\-]?key|client[_\-]?secret|credentials?|signing[_\-]?key)"
    # The word must end there ("password", "api_key", "PASSWORD_2"), not run on ("PassedToService",
    # "tokenSource", "secretsmanager").
    r"(?![a-z])[A-Za-z0-9_]*"
)
# NAME = "value", NAME: "value", "NAME": "value", NAME := "value", name="value" (keyword argument). Not
# comparisons: ``token == "#bygroup"`` is a lexer, not a leak.
_QUOTED_ASSIGNMENT = re.compile(
    r"(?i)(?P<name>['\"]?\b" + _SECRET_NAME + r"['\"]?)"
    # A declared type: ``password: str = "…"`` (a parameter's default too), ``api_key: &str``, Go's
    # ``var password string = "…"``.
    r"(?:\s*:\s*&?[A-Za-z_][\w.\[\], |']*?|[ \t]+[A-Za-z_][\w.]*)?"
    r"\s*(?::=|=|:|=>)\s*"
    r"(?:[rbuRBU]{0,2}|@)(?P<quote>'''|\"\"\"|['\"`])(?P<value>[^'\"`\n]{8,})(?P=quote)"
)
# .env style: NAME=value at the start of a line, unquoted.
_BARE_ASSIGNMENT = re.compile(
    # A line starts after any line end (``\r\n`` and ``\r`` too, which ``^``/``$`` do not know) and may start
    # the file with a byte-order mark.
    r"(?im)(?:^|(?<=\r))[ \t\ufeff]*(?:export[ \t]+)?(?P<name>" + _SECRET_NAME + r")[ \t]*[=:][ \t]*"
    # Unquoted: a raw token as in .env files, not an expression (no calls, indexing or operators).
    r"(?P<value>[^\s'\"#()\[\]{}<>=,;]{8,})[ \t]*(?:[ \t]#[^\r\n]*)?(?=\r|\n|\Z)"
)
# Values that other notations name: a connection string's ``Password=…;``, ``.netrc``'s ``machine h login u
# password …``, XML's ``<password>…</password>``, an ``Authorization: Bearer …`` header's credentials.
_NAMED_VALUES = (
    re.compile(
        r"\b(?P<name>[Pp]assword|PASSWORD|[Pp]wd|PWD)=(?P<value>[^;'\"\s(){}\[\]<>,]{8,})(?=[;'\"\s]|$)"
    ),
    re.compile(
        r"\b(?:machine|login|default)[ \t\n]+\S+[ \t\n]+(?P<name>password|passwd)[ \t]+"
        r"(?P<value>[^\s'\"]{8,})"
    ),
    re.compile(
        r"(?i)<(?P<name>[\w.:\-]*(?:password|passwd|secret|token|api_?key)[\w.\-]*)>(?P<value>[^<\s]{8,})</"
    ),
    re.compile(r"(?P<name>Bearer|Basic) +(?P<value>[A-Za-z0-9\-._~+/]{16,}={0,2})(?![A-Za-z0-9\-._~+/=])"),
)

_SECRET_WORD = re.compile(r"(?i)pass(?:word|wd)|secret|token|credential|api[_\-]?key")
# Names that refer to a secret (its path, URL, field, label...) rather than hold it.
_REFERENCE_NAME = re.compile(
    r"(?i)[_\-.](?:path|file|filename|dir|url|uri|endpoint|field|label|prompt|message|msg|template|name|col|"
    r"column|env|var|header|param|type|kind|mode|id|format|regex|pattern|length|hash)$"
)
_PLACEHOLDER = re.compile(
    r"(?i)^(?:x+|\*+|\.+|-+|<[^>]*>|\[[A-Za-z_]*\]|\{\{?[^}]*\}\}?|\$\{?[A-Za-z_][A-Za-z0-9_]*\}?|%\(?[a-z_]*\)?s|"
    r".*(?:changeme|change_me|change-me|example|placeholder|your[_\-]?|dummy|redacted|replace[_\-]?me|"
    r"xxxx|test[_\-]?(?:key|token|secret|password)|fake|sample|todo).*|"
    # Words people use as stand-ins: "http://joe:password@proxy", "User:Pass@host".
    r"pass(?:word|wd)?|pwd|secret|admin|root|user(?:name)?|guest|test|foo|bar|baz|none|null|\*{3,})$"
)
_ENTROPY_THRESHOLD = 3.0


def shannon_entropy(value: str) -> float:
    if not value:
        return 0.0
    counts = Counter(value)
    total = len(value)
    return -sum(n / total * math.log2(n / total) for n in counts.values())


def looks_like_placeholder(value: str) -> bool:
    return bool(_PLACEHOLDER.match(value.strip()))


def _looks_like_code(value: str) -> bool:
    # "os.environ['X']", "get_password()", "settings.SECRET_KEY": references, not literals.
    return bool(re.fullmatch(r"[A-Za-z_][\w.]*(?:\(.*\)|\[.*\])?", value)) and ("." in value or "(" in value)


def _is_secret_literal(value: str) -> bool:
    if len(value) < 8 or looks_like_placeholder(value) or _looks_like_code(value):
        return False
    if " " in value.strip():
        # Prose ("Enter your password"), not a credential.
        return False
    if re.fullmatch(r"[a-z_.\-]+|[A-Z_.\-]+", value) or value.startswith(("/", "http://", "https://", "./")):
        # A single-case word or identifier ("password_input"), or a path: a name for a secret, not one.
        return False
    if re.search(r"\\[wsdbWSD]|\(\?|\[[^\]]+\][*+?]", value):
        return False  # a regular expression
    if not re.search(r"[0-9]|[^A-Za-z]", value):
        # Letters only ("AWSAccessKeyId", "MyPassword"): a name or a label far more often than a credential.
        return False
    classes = sum(
        bool(re.search(pattern, value)) for pattern in (r"[a-z]", r"[A-Z]", r"[0-9]", r"[^A-Za-z0-9]")
    )
    return classes >= 2 and shannon_entropy(value) >= _ENTROPY_THRESHOLD


def _line_of(text: str, offset: int) -> int:
    return text.count("\n", 0, offset) + 1


def _iter_hits(text: str) -> Iterator[SecretHit]:
    for rule in TOKEN_RULES:
        for match in rule.pattern.finditer(text):
            if "EXAMPLE" in match.group(0):
                continue  # documentation keys such as AWS's AKIAIOSFODNN7EXAMPLE
            # A rule may name the secret with a ``value`` group; the rest of its match is context.
            start, end = match.span("value") if "value" in rule.pattern.groupindex else match.span()
            yield SecretHit(
                rule_id=rule.rule_id,
                message=f"{rule.description} in the suggestion",
                line=_line_of(text, start),
                start=start,
                end=end,
                confidence=rule.confidence,
            )
    for match in _URL_PASSWORD.finditer(text):
        value = match.group("value")
        if looks_like_placeholder(value):
            continue
        yield SecretHit(
            rule_id="secret:url-password",
            message="password embedded in a URL",
            line=_line_of(text, match.start("value")),
            start=match.start("value"),
            end=match.end("value"),
            confidence=Level.MEDIUM,
        )
    for pattern in (_QUOTED_ASSIGNMENT, _BARE_ASSIGNMENT, *_NAMED_VALUES):
        for match in pattern.finditer(text):
            value = match.group("value")
            if not _is_secret_literal(value):
                continue
            if pattern is _BARE_ASSIGNMENT and re.fullmatch(r"[A-Za-z_][A-Za-z_.]*", value):
                continue  # "self.tokenSource = tokenSource": a variable, not a token
            name = match.group("name").strip("'\"")
            if _REFERENCE_NAME.search(name):
                continue  # "_TOKEN_PATH", "password_field": where a secret goes, not the secret
            if _SECRET_WORD.search(value):
                continue  # "Access-Control-Allow-Credentials": a label that names the secret
            yield SecretHit(
                rule_id="secret:hardcoded-credential",
                message=f"high-entropy literal assigned to {name!r}",
                line=_line_of(text, match.start("value")),
                start=match.start("value"),
                end=match.end("value"),
                confidence=Level.MEDIUM,
            )


def scan_secrets(text: str) -> list[SecretHit]:
    """Secrets in ``text``, one hit per secret value (overlapping matches keep the widest)."""
    hits = sorted(_iter_hits(text), key=lambda h: (h.start, -(h.end - h.start)))
    kept: list[SecretHit] = []
    for hit in hits:
        if kept and hit.start < kept[-1].end:
            continue
        kept.append(hit)
    return kept


def redact(text: str) -> str:
    """``text`` with every secret value found by :func:`scan_secrets` replaced by ``[REDACTED]``."""
    hits = scan_secrets(text)
    if not hits:
        return text
    pieces: list[str] = []
    position = 0
    for hit in hits:
        pieces.append(text[position : hit.start])
        pieces.append(REDACTED)
        position = hit.end
    pieces.append(text[position:])
    return "".join(pieces)


# -- secrets known to the workspace ----------------------------------------------------------------------

_MIN_KNOWN_SECRET_LENGTH = 6


def find_reproduced_secrets(text: str, known_secrets: Iterable[str]) -> list[SecretHit]:
    """Hits for every known secret value that ``text`` reproduces verbatim."""
    hits: list[SecretHit] = []
    for value in known_secrets:
        if len(value) < _MIN_KNOWN_SECRET_LENGTH:
            continue
        offset = text.find(value)
        if offset < 0:
            continue
        hits.append(
            SecretHit(
                rule_id="secret:workspace-secret",
                message="reproduces a secret value found in the workspace",
                line=_line_of(text, offset),
                start=offset,
                end=offset + len(value),
            )
        )
    return hits


# Files whose values are secrets by convention (matched on the file name).
_SECRET_FILE = re.compile(
    r"(?i)^(?:\.env(?:\..+)?|.*\.env|\.envrc|\.npmrc|\.pypirc|\.netrc|credentials(?:\.\w+)?|secrets?\.(?:json|ya?ml|toml|ini|env)|"
    r".*\.(?:pem|key|p8)|id_(?:rsa|dsa|ecdsa|ed25519))$"
)
# Templates list the names, not the values.
_TEMPLATE_FILE = re.compile(r"(?i)\.(?:example|sample|template|dist|defaults?)$")
_SKIPPED_DIRS = frozenset(
    {".git", ".hg", ".svn", "node_modules", ".venv", "venv", "__pycache__", ".tox", ".mypy_cache"}
)
_KEY_VALUE = re.compile(r"^\s*(?:export\s+)?[\"']?[A-Za-z_][\w.\-]*[\"']?\s*[=:]\s*(?P<value>.+?)\s*,?\s*$")
_MAX_SECRET_FILE_BYTES = 256 * 1024


def secret_values_in(text: str) -> set[str]:
    """Values in the text of a secrets file: ``KEY=value`` lines, and private-key bodies."""
    text = text.removeprefix("\ufeff")  # a byte-order mark is no part of the first key
    values: set[str] = set()
    for hit in scan_secrets(text):
        if hit.rule_id == "secret:private-key":
            # A suggestion would reproduce a key line by line: remember its longest base64 lines.
            body = text[hit.start : hit.end].splitlines()[1:-1]
            values.update(line.strip() for line in body if len(line.strip()) >= 40)
        else:
            values.add(text[hit.start : hit.end])
    for line in text.splitlines():
        if line.lstrip().startswith(("#", ";", "//")):
            continue
        match = _KEY_VALUE.match(line)
        if not match:
            continue
        value = match.group("value").strip().strip("'\"")
        if (
            len(value) >= 8
            and not looks_like_placeholder(value)
            and " " not in value
            and value.lower()
            not in (
                "true",
                "false",
                "null",
                "none",
            )
        ):
            values.add(value)
    return values


def collect_workspace_secrets(root: Path, *, max_depth: int = 4, max_files: int = 200) -> frozenset[str]:
    """Secret values from the secret files under ``root`` (``.env*``, ``*.pem``, ``credentials``, ...)."""
    values: set[str] = set()
    seen_files = 0
    root = Path(root)
    if not root.is_dir():
        raise NotADirectoryError(f"not a directory: {root}")
    base_depth = len(root.parts)
    for directory, dirnames, filenames in os.walk(root):
        depth = len(Path(directory).parts) - base_depth
        dirnames[:] = [d for d in dirnames if d not in _SKIPPED_DIRS and depth < max_depth]
        for name in filenames:
            if not _SECRET_FILE.match(name) or _TEMPLATE_FILE.search(name):
                continue
            path = Path(directory) / name
            try:
                if path.stat().st_size > _MAX_SECRET_FILE_BYTES:
                    continue
                text = path.read_text(encoding="utf-8", errors="replace")
            except OSError:
                continue
            values.update(secret_values_in(text))
            seen_files += 1
            if seen_files >= max_files:
                return frozenset(values)
    return frozenset(values)
