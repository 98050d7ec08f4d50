"""`backend.endpoint` as users write it: with a trailing slash (`http://host:8080/v1/`, as copied from a
server's banner) the requests went to `/v1/v1/completions` and every completion failed with a 404."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

_RELIABILITY = Path(__file__).resolve().parents[1] / "reliability"
if str(_RELIABILITY) not in sys.path:
    sys.path.insert(0, str(_RELIABILITY))

from raw_client import RawClient  # noqa: E402
from reliability_support import FakeOpenAI, fake_backend_options  # noqa: E402

from roost.engine.backends.openai_http import base_url_from_endpoint  # noqa: E402


@pytest.mark.parametrize(
    ("endpoint", "base"),
    [
        ("http://h:8080/v1", "http://h:8080"),
        ("http://h:8080/v1/", "http://h:8080"),
        ("http://h:8080/v1//", "http://h:8080"),
        ("http://h:8080/", "http://h:8080"),
        ("http://h:8080", "http://h:8080"),
        ("https://h/proxy/v1/", "https://h/proxy"),
    ],
)
def test_the_base_url_drops_v1_and_trailing_slashes(endpoint: str, base: str) -> None:
    assert base_url_from_endpoint(endpoint) == base


@pytest.mark.parametrize("suffix", ["/", ""])
def test_a_completion_reaches_the_server_whatever_the_endpoint_s_trailing_slash(
    tmp_path: Path, suffix: str
) -> None:
    (tmp_path / "helpers.py").write_text("def compute(value):\n    return value\n")
    with FakeOpenAI(rules=[("", "value)")]) as fake, RawClient(tmp_path) as client:
        options = fake_backend_options(fake)
        backend = dict(options["backend"])  # type: ignore[call-overload]
        backend["endpoint"] = fake.endpoint + suffix
        client.initialize({"roost": {**options, "backend": backend}})
        uri = (tmp_path / "caller.py").resolve().as_uri()
        client.open_document(uri, "from helpers import compute\n\n\ndef use():\n    return compute(")
        texts, details = client.inline_completion(uri, 4, 19)
        assert texts == ["value)"], details
        assert fake.paths and set(fake.paths) == {"/v1/completions"}, fake.paths
