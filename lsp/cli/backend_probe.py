"""``roost doctor --online``: whether the configured OpenAI-compatible endpoint (or the running shared engine)
answers, and serves the model.

Sent through the backend's own HTTP client (its base URL, TLS and proxy settings, API key header), so the
check sees what completions will see."""

from __future__ import annotations

import asyncio
import os
import ssl
from dataclasses import dataclass

import httpx2 as httpx

from roost.engine.backends.openai_http import OpenAIHTTPBackend, OpenAIHTTPOptions, base_url_from_endpoint
from roost.engine.shared import SharedEngine

PROBE_TIMEOUT_S = 5.0
# Servers with a liveness route besides /v1/models (docs/deploy.md); llama.cpp's Python server, Ollama and
# OpenAI's API have none.
HEALTH_ROUTES: dict[str, str] = {"roost": "/health", "vllm": "/health", "sglang": "/health", "tgi": "/health"}


@dataclass
class ProbeResult:
    ok: bool
    detail: str
    fix: str = ""


def _failure(error: httpx.HTTPError) -> str:
    """The precise cause: connection refused, DNS, TLS, timeout."""
    cause: BaseException | None = error
    for _ in range(8):  # httpx → httpcore → OSError: the first named cause wins
        if cause is None:
            break
        if (
            isinstance(cause, ssl.SSLError)
            or "certificate" in str(cause).lower()
            or "ssl" in str(cause).lower()
        ):
            return f"TLS failed ({cause})"
        if isinstance(cause, ConnectionRefusedError) or "refused" in str(cause).lower():
            return "connection refused"
        text = str(cause).lower()
        if any(s in text for s in ("name or service not known", "nodename nor servname", "name resolution")):
            return f"DNS lookup failed ({cause})"
        cause = cause.__cause__ or cause.__context__
    if isinstance(error, httpx.TimeoutException):
        return f"no answer within {PROBE_TIMEOUT_S:g} s"
    return f"cannot connect ({error or type(error).__name__})"


def _status_fix(status: int, endpoint: str) -> str:
    if status in (401, 403):
        return "the server refused the key: check backend.api_key_env (the variable must hold the key)"
    if status == 404:
        return f"is the endpoint's /v1 missing? (backend.endpoint = {endpoint!r})"
    return "see the server's log"


async def probe(
    options: OpenAIHTTPOptions,
    endpoint: str,
    *,
    check_model: bool = True,
    unreachable_fix: str = "start the server or fix backend.endpoint",
) -> ProbeResult:
    """``check_model``: whether ``options.model`` must be among the served models (the shared engine
    serves the model it was started with under its own name; connecting editors compare the settings)."""
    backend = OpenAIHTTPBackend(options)
    # The backend's own client (base URL, auth header, no proxy from the environment), not a second one.
    client = backend.http_client
    timeout = httpx.Timeout(PROBE_TIMEOUT_S)
    try:
        try:
            response = await client.get("/v1/models", timeout=timeout, headers={"Accept": "application/json"})
        except httpx.HTTPError as error:
            return ProbeResult(False, f"{endpoint}: {_failure(error)}", unreachable_fix)
        if response.status_code >= 400:
            return ProbeResult(
                False,
                f"{endpoint}/models: HTTP {response.status_code}",
                _status_fix(response.status_code, endpoint),
            )
        try:
            served = [str(m.get("id")) for m in response.json().get("data", [])]
        except (ValueError, AttributeError):
            return ProbeResult(
                False, f"{endpoint}/models: not an OpenAI model list", "is this an OpenAI-compatible server?"
            )
        parts = [f"{endpoint}: reachable; serves {', '.join(served) or 'no models'}"]
        ok, fix = True, ""
        if check_model and options.server_kind == "llama.cpp":
            parts.append("llama.cpp has no /health and answers to any model name")
        elif check_model and options.model in served:
            parts.append(f"model.name {options.model!r} is served")
        elif check_model:
            ok, fix = False, f"set model.name to one of: {', '.join(served)}"
            parts.append(f"model.name {options.model!r} is not among them")
        route = HEALTH_ROUTES.get(options.server_kind)
        if route is not None:
            try:
                health = await client.get(route, timeout=timeout)
                parts.append(f"{route}: HTTP {health.status_code}")
                if health.status_code >= 400:
                    ok, fix = False, fix or f"the server is up but {route} fails: see its log"
            except httpx.HTTPError as error:
                parts.append(f"{route}: {_failure(error)}")
        return ProbeResult(ok, "; ".join(parts), fix)
    finally:
        await backend.aclose()


def backend_options(endpoint: str, model: str, api_key_env: str, server: str) -> OpenAIHTTPOptions:
    """The options the language server's ``openai`` backend is built with (lsp/core/services.py)."""
    return OpenAIHTTPOptions(
        base_url=base_url_from_endpoint(endpoint),
        model=model,
        api_key=os.environ.get(api_key_env) if api_key_env else None,
        connect_timeout_s=PROBE_TIMEOUT_S,
        server_kind=server,  # type: ignore[arg-type]
    )


def shared_engine_probe_options(engine: SharedEngine, model: str) -> OpenAIHTTPOptions:
    """The options the language server connects to the running shared engine with (its own key)."""
    return OpenAIHTTPOptions(
        base_url=engine.url,
        model=model,
        api_key=engine.api_key,
        connect_timeout_s=PROBE_TIMEOUT_S,
        server_kind="roost",
    )


def run_probe(
    options: OpenAIHTTPOptions,
    endpoint: str,
    *,
    check_model: bool = True,
    unreachable_fix: str = "start the server or fix backend.endpoint",
) -> ProbeResult:
    return asyncio.run(probe(options, endpoint, check_model=check_model, unreachable_fix=unreachable_fix))
