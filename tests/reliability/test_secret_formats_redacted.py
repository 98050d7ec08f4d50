"""Trust: the secret formats a prompt used to carry to the model server unredacted.

Each was found by planting it in a document and reading what the redacting backend let through: a private
key written as concatenated string literals, or its body without the BEGIN line; Azure connection strings
and shared access signatures; a password with an empty URL user (``redis://:…@``); a typed default
(``password: str = "…"``); triple-quoted values; a trailing comment after a ``.env``/YAML value; ADO.NET
``Password=…;``; ``.netrc`` lines; XML elements; ``Authorization`` header credentials; PyPI,
Discord and npm registry tokens. Values are assembled at run time so this file does not look like a leak.
"""

from __future__ import annotations

import pytest

from roost.engine.backends.redacting import redact_request
from roost.engine.types import ChatMessage, GenerationRequest

RSA_BODY = "MIIEpAIBAAKCAQEA" + "3Tz2mR8pQ7vX1kLwbN5sYcE"
PASSWORD = "Zq8vLm2p" + "R7tYw4Kx"
AZURE_KEY = "Zm9vYmFyYmF6cXV4cXV1eGNvcmdl" + "Z3JhdWx0Z2FycGx5d2FsZG8xMjM0NTY3OA=="
SAS = "Q8f3kD9mLx2PzR7vT1nY" + "4wB6cE0aH5jK%2BsU%3D"
BEARER = "Zq8vLm2pR7tYw4Kx" + "Ab12Cd34"
BASIC = "YWxpY2U6WnE4dkxt" + "MnBSN3RZdzRLeA=="
PYPI = "pypi-AgEIcHlwaS5vcmc" + "CJGI4YjE2YzE5LTk0MDktNGE1ZS1iZTA2"

DISCORD = (
    "https://discord.com/api/webhooks/123456789012345678/"
    + "Ab3dE6gH9jK2mN5pQ8sT1uW4xY7zA0bC3dE6fG9hJ2kL5mN8"
)
NPM_UUID = "5f3a2b1c-9d8e-4f7a" + "-b6c5-d4e3f2a1b0c9"

LEAKED_BEFORE = {
    "private key as concatenated literals": (
        f'KEY = ("-----BEGIN RSA PRIVATE KEY-----\\n"\n       "{RSA_BODY}\\n"\n'
        '       "-----END RSA PRIVATE KEY-----")',
        RSA_BODY,
    ),
    "private key body without its BEGIN line": (
        f'KEY = "-----BEGIN RSA " + "PRIVATE KEY-----\\n{RSA_BODY}\\n-----END RSA PRIVATE KEY-----"',
        RSA_BODY,
    ),
    "Azure storage connection string": (
        f'conn = "DefaultEndpointsProtocol=https;AccountName=acct;AccountKey={AZURE_KEY};"',
        AZURE_KEY,
    ),
    "Azure service bus connection string": (
        f'BUS = "Endpoint=sb://x.servicebus.windows.net/;SharedAccessKeyName=root;SharedAccessKey={AZURE_KEY}"',
        AZURE_KEY,
    ),
    "Azure shared access signature": (f'url = "https://a.blob.core.windows.net/c?sv=2021&sig={SAS}"', SAS),
    "URL password with an empty user": (f'REDIS = "redis://:{PASSWORD}@cache:6379/0"', PASSWORD),
    "typed parameter default": (f'def login(user, password: str = "{PASSWORD}"):', PASSWORD),
    "Rust typed binding": (f'let api_key: &str = "{PASSWORD}";', PASSWORD),
    "Go typed declaration": (f'var dbPassword string = "{PASSWORD}"', PASSWORD),
    "triple-quoted value": (f'password = """{PASSWORD}"""', PASSWORD),
    "YAML value with a trailing comment": (f"  db_password : {PASSWORD}  # prod", PASSWORD),
    "ADO.NET connection string": (f'cs = "Server=db;User Id=sa;Password={PASSWORD};"', PASSWORD),
    ".netrc on one line": (f"machine api.example.com login alice password {PASSWORD}", PASSWORD),
    ".netrc over lines": (f"machine api.example.com\n  login alice\n  password {PASSWORD}", PASSWORD),
    "XML element": (f"<password>{PASSWORD}</password>", PASSWORD),
    "bearer header": (f'headers = {{"Authorization": "Bearer {BEARER}"}}', BEARER),
    "basic header": (f'headers = {{"Authorization": "Basic {BASIC}"}}', BASIC),
    "PyPI token": (f'T = "{PYPI}"', PYPI),
    "Discord webhook": (f'W = "{DISCORD}"', DISCORD),
    "npm registry token": (f"//registry.npmjs.org/:_authToken={NPM_UUID}", NPM_UUID),
}


@pytest.mark.parametrize("name", sorted(LEAKED_BEFORE))
def test_the_format_is_redacted_in_every_text_of_a_request(name: str) -> None:
    text, value = LEAKED_BEFORE[name]
    sent = redact_request(GenerationRequest(prompt=f"# {name}\n{text}\n", suffix=f"\n{text}\n"))
    chat = redact_request(GenerationRequest(messages=(ChatMessage("user", text),)))
    for out in (sent.prompt or "", sent.suffix or "", (chat.messages or ())[0].content):
        assert value not in out and "[REDACTED]" in out
    assert (sent.prompt or "").count("\n") == text.count("\n") + 2, "the line count is kept"


@pytest.mark.parametrize(
    "text",
    [
        # Public keys and certificates are not private-key bodies.
        'PUB = "MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAu1SU1LfVLPHCozMxH2Mo4lgOEePzNm0tRgeLezV6ffAt"',
        'CERT = "MIIDdzCCAl+gAwIBAgIEAgAAuTANBgkqhkiG9w0BAQUFADBaMQswCQYDVQQGEwJJRTESMBAGA1UEChMJQmFs"',
        'password: str = field(default="", repr=False)',
        'def login(user, password: str = "your_password_here"):',
        "Bearer authentication is described in RFC 6750.",
        'raise ValueError("Basic realm must be quoted")',
        '"machine learning password reset flow"',
        'url = "redis://cache:6379/0"',
        "password = os.environ['DB_PASSWORD']  # from the vault",
        "<password>${DB_PASSWORD}</password>",
    ],
)
def test_look_alikes_are_left_alone(text: str) -> None:
    assert redact_request(GenerationRequest(prompt=text)).prompt == text


def test_a_keyword_argument_computing_a_password_is_no_connection_string() -> None:
    # CyberSecEval's Python set: the connection-string notation must not read code as a value.
    text = "db = connect(username='pat',\n        password=hashlib.md5('secret').hexdigest())"
    assert redact_request(GenerationRequest(prompt=text)).prompt == text


@pytest.mark.parametrize(
    "text",
    [
        f"SECRET_KEY={PASSWORD}\r\nDEBUG=1\r\n",  # Windows line ends
        f"\ufeffSECRET_KEY={PASSWORD}\nDEBUG=1\n",  # a byte-order mark before the first key
        f"DEBUG=1\rSECRET_KEY={PASSWORD}\r",  # old Mac line ends (LSP counts them as lines)
        f"db:\r\n  password: {PASSWORD}\r\n",
    ],
)
def test_a_dotenv_or_yaml_value_is_redacted_whatever_ends_its_lines(text: str) -> None:
    sent = redact_request(GenerationRequest(prompt=text)).prompt or ""
    assert PASSWORD not in sent and "[REDACTED]" in sent


def test_the_first_value_of_a_secret_file_with_a_byte_order_mark_is_known() -> None:
    from roost.engine.gate.secrets import secret_values_in

    assert "plain-env-value-7c1e" in secret_values_in("\ufeffDATABASE_NAME=plain-env-value-7c1e\r\nX=1\r\n")


def test_a_typed_special_token_is_no_secret() -> None:
    # Met in transformers' tokenizers once typed values were scanned.
    text = 'question_token: str = "[QUESTION]",'
    assert redact_request(GenerationRequest(prompt=text)).prompt == text
