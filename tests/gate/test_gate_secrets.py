"""The secret scanner (every language), redaction, and secrets known to the workspace."""

from __future__ import annotations

from pathlib import Path

import pytest

from roost.engine.gate import Gate, VerdictKind, collect_workspace_secrets, redact, scan_secrets
from roost.engine.gate.secrets import REDACTED, find_reproduced_secrets

# Assembled at run time so that this file does not itself look like it leaks credentials.
GITHUB = "ghp_" + "Zx9Yw8Vu7Ts6Rq5Po4Nm3Lk2Ji1Hg0FeDcBa"
AWS = "AKIA" + "Q3EGHT5XMPLE4ZRT"
SLACK = "xoxb-" + "123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx"
GOOGLE = "AIza" + "SyD3k9f8Hj2Lm4Np6Qr8St0Uv2Wx4Yz6Ab8C"
STRIPE = "sk_live_" + "51HbX9k2Lm4Np6Qr8St0Uv2W"
OPENAI = "sk-proj-" + "A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8"
PRIVATE_KEY = "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEAx3v\n-----END RSA PRIVATE KEY-----"


@pytest.mark.parametrize(
    ("text", "rule"),
    [
        (f'TOKEN = "{GITHUB}"', "secret:github-token"),
        (f"aws_access_key_id = {AWS}", "secret:aws-access-key-id"),
        (f"const slack = '{SLACK}';", "secret:slack-token"),
        (f'key := "{GOOGLE}"', "secret:google-api-key"),
        (f'stripe.api_key = "{STRIPE}"', "secret:stripe-key"),
        (f'client = OpenAI(api_key="{OPENAI}")', "secret:openai-key"),
        (f"key = '''{PRIVATE_KEY}'''", "secret:private-key"),
        ('PEM = """-----BEGIN OPENSSH PRIVATE KEY-----', "secret:private-key"),  # the key comes next
        ("auth = 'Bearer ya29." + "a0AfH6SMBx9Lq2Wn4Vt7Kp3Rz8Yc1Ud5Ef'", "secret:google-oauth-token"),
        ('DATABASE_URL = "postgres://app:Zq8!rT4wLm@db:5432/app"', "secret:url-password"),
        ('password = "Tr0ub4dor&3xyz"', "secret:hardcoded-credential"),
        ('let apiKey = "a8F3kd92LmQ0zX7w";', "secret:hardcoded-credential"),
        ("SECRET_KEY=9fj3k2LmQz81xPwq", "secret:hardcoded-credential"),
    ],
)
def test_secret_formats_are_found(text: str, rule: str) -> None:
    hits = scan_secrets(text)
    assert [hit.rule_id for hit in hits] == [rule]
    assert REDACTED in redact(text)


@pytest.mark.parametrize(
    "text",
    [
        'password = os.environ["PASSWORD"]',
        'password = "your_password_here"',
        'api_key = "<YOUR_API_KEY>"',
        'token = "${GITHUB_TOKEN}"',
        'password_field = "password_input"',
        'label = "Enter your password"',
        'secret_path = "/etc/app/secret"',
        'url = "https://user:${PASS}@example.com"',
        "digest = hashlib.sha256(data).hexdigest()",
        'token_url = "https://oauth2.example.com/token"',
        # Shapes met in the standard library and popular packages:
        'elif token == "#bygroup":',
        'ACL_CREDENTIALS = "Access-Control-Allow-Credentials"',
        "_TOKEN_PATH = 'latest/api/token'",
        '"iam:PassedToService": "elasticmapreduce.amazonaws.com*"',
        "        self.tokenSource = tokenSource",
        "ACCESS_KEY = 'AWSAccessKeyId'",
        "_TOKEN_REF = r'[A-Z]\\w*'",
        'user_id = "AKIAIOSFODNN7EXAMPLE"',
        "when your file has '-----BEGIN RSA PRIVATE KEY-----' and",
        "proxy = 'http://joe:password@proxy.example.com:3128'",
    ],
)
def test_non_secrets_are_left_alone(text: str) -> None:
    assert scan_secrets(text) == []
    assert redact(text) == text


def test_redact_keeps_everything_but_the_values() -> None:
    text = f'import os\nGITHUB = "{GITHUB}"\nkey = """{PRIVATE_KEY}"""\nprint(GITHUB)\n'
    redacted = redact(text)
    assert GITHUB not in redacted and "MIIEowIBAAKCAQEAx3v" not in redacted
    assert redacted.count(REDACTED) == 2
    assert redacted.startswith("import os\nGITHUB = ") and redacted.endswith("print(GITHUB)\n")


def test_hit_lines_are_one_based() -> None:
    hits = scan_secrets(f"a = 1\nb = 2\nc = '{AWS}'\n")
    assert hits[0].line == 3


def test_collect_workspace_secrets(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text(
        "DB_PASSWORD=q8Zr!t4WmLx\nDEBUG=true\n# COMMENTED=k2Lm4Np6Qr8\n", encoding="utf-8"
    )
    (tmp_path / "config").mkdir()
    (tmp_path / "config" / ".env.production").write_text(
        'export API_TOKEN="Hh73kLq92mZx"\n', encoding="utf-8"
    )
    (tmp_path / ".env.example").write_text("DB_PASSWORD=PlaceHolder42x\n", encoding="utf-8")
    (tmp_path / "node_modules").mkdir()
    (tmp_path / "node_modules" / ".env").write_text("VENDOR=zz99Yy88Xx77\n", encoding="utf-8")
    (tmp_path / "app.py").write_text("NOT_A_SECRET_FILE = 'abcdefgh1234'\n", encoding="utf-8")
    secrets = collect_workspace_secrets(tmp_path)
    assert "q8Zr!t4WmLx" in secrets
    assert "Hh73kLq92mZx" in secrets
    assert "PlaceHolder42x" not in secrets  # a template lists names, not values
    assert "zz99Yy88Xx77" not in secrets  # vendored folders are skipped
    assert "abcdefgh1234" not in secrets
    assert "true" not in secrets
    assert "k2Lm4Np6Qr8" not in secrets


def test_suggestion_reproducing_a_dotenv_secret_is_blocked(tmp_path: Path, gate: Gate) -> None:
    (tmp_path / ".env").write_text("DB_PASSWORD=q8Zr!t4WmLx\n", encoding="utf-8")
    secrets = collect_workspace_secrets(tmp_path)
    completion = 'conn = connect(host="db", user="app",\n               pw="q8Zr!t4WmLx")\n'
    verdict = gate.check("python", "from db import connect\n", completion, "", workspace_secrets=secrets)
    assert verdict.blocked
    reproduced = [f for f in verdict.findings if f.test_id == "secret:workspace-secret"]
    assert reproduced and reproduced[0].line == 2
    # The same suggestion without the workspace's secrets is not blocked for reproducing one.
    plain = gate.check("python", "from db import connect\n", completion, "")
    assert not [f for f in plain.findings if f.test_id == "secret:workspace-secret"]
    # Any language.
    assert gate.check("typescript", "", 'const pw = "q8Zr!t4WmLx";\n', "", workspace_secrets=secrets).blocked


def test_reproduced_secret_needs_a_meaningful_length() -> None:
    assert find_reproduced_secrets("x = 'abc'", ["abc"]) == []
    assert find_reproduced_secrets("x = 'abcdef12'", ["abcdef12"])[0].line == 1


def test_secrets_in_python_suggestions_block(gate: Gate) -> None:
    verdict = gate.check("python", "", f'GITHUB_TOKEN = "{GITHUB}"\n', "")
    assert verdict.kind is VerdictKind.BLOCK
    assert "secret:github-token" in {f.test_id for f in verdict.findings}
