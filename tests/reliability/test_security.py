"""No secret escapes: logs (DEBUG, root logger), reprs, exception texts (with their chained
causes), the mock server's journal as returned over HTTP, and the CLI's output.

One test sets recognisable secrets, drives every path with them (basic, bearer, API-key and
digest auth on every transport, sync and async; LLM chat, stream, retries and errors; a proxy
with credentials that refuses), collects everything a user or an operator could see, and scans
it for each secret in every form it travels in (raw, Basic's base64, percent-encoded).

Plus the mock server's own hygiene: loopback by default, constant-time key comparison, a body
cap that answers 413 and keeps serving.
"""

from __future__ import annotations

import asyncio
import base64
import hmac
import logging
import os
import shutil
import socket
import subprocess
import sys
import traceback
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest

import hookwire
from hookwire import errors
from hookwire.llm import LLM
from tests._transport_cases import CASES, Harness
from tests.reliability import _report

pytestmark = pytest.mark.network

BASIC_PASSWORD = "hwleak-basic-pw-4c1f9e"  # pragma: allowlist secret
BEARER_TOKEN = "hwleak-bearer-tok-8a2d7b"  # pragma: allowlist secret
API_KEY = "hwleak-apikey-3e9b0c"  # pragma: allowlist secret
DIGEST_PASSWORD = "hwleak-digest-pw-5d6a1f"  # pragma: allowlist secret
LLM_KEY = "hwleak-llm-key-7b3c2e"  # pragma: allowlist secret
PROXY_PASSWORD = "hwleak-proxy-pw-2f8e4a"  # pragma: allowlist secret
SECRETS = [BASIC_PASSWORD, BEARER_TOKEN, API_KEY, DIGEST_PASSWORD, LLM_KEY, PROXY_PASSWORD]
#: The digest route takes its password in the URL path (httpbin's design); that path is the
#: test's own choice of URL, not a channel the SDK controls, so it is masked before scanning.
DIGEST_PATH = f"/digest-auth/auth/user/{DIGEST_PASSWORD}"


def forms(secret: str) -> set[str]:
    """Every shape a secret takes on its way: raw, Basic's base64 (as user or password),
    percent-encoded."""
    out = {secret, quote(secret, safe="")}
    for user in ("user", "puser"):
        out.add(base64.b64encode(f"{user}:{secret}".encode()).decode())
    return out


def scan(where: str, text: str) -> list[str]:
    text = text.replace(DIGEST_PATH, "/digest-auth/auth/user/<path>")
    return [f"{where}: {form!r}" for s in SECRETS for form in forms(s) if form in text]


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def describe(exc: BaseException) -> str:
    """What a user sees of an error: str, repr, the whole chained traceback, pickled context."""
    parts = [str(exc), repr(exc), "".join(traceback.format_exception(exc))]
    for name in ("request", "response", "last_response", "partial"):
        value = getattr(exc, name, None)
        if value is not None:
            parts.append(repr(value))
    return "\n".join(parts)


class Seen:
    def __init__(self) -> None:
        self.texts: list[tuple[str, str]] = []

    def add(self, where: str, *values: Any) -> None:
        for value in values:
            self.texts.append((where, value if isinstance(value, str) else repr(value)))

    def error(self, where: str, exc: BaseException) -> None:
        self.texts.append((where, describe(exc)))
        _report.add("security", "errors_scanned")


def drive_http(case: Any, server: Any, seen: Seen) -> None:
    """Every auth scheme, good and refused, plus a proxy with credentials that refuses."""
    schemes = {
        "basic": hookwire.BasicAuth("user", BASIC_PASSWORD),
        "bearer": hookwire.BearerAuth(BEARER_TOKEN),
        "api-key": hookwire.APIKeyAuth(API_KEY, header="api-key"),
        "x-api-key": hookwire.APIKeyAuth(API_KEY),
        "digest": hookwire.DigestAuth("user", DIGEST_PASSWORD),
    }
    for name, auth in schemes.items():
        h = Harness(case, auth=auth, retry=hookwire.RetryPolicy(attempts=2))
        try:
            seen.add(f"{case.id} {name} client repr", h.client, auth)
            ok_path = DIGEST_PATH if name == "digest" else "/status/200"
            r = h.get(server.join(ok_path))
            assert r.status_code == 200, (name, r.status_code)
            seen.add(f"{case.id} {name} response", r, r.request, r.request.headers)
            # refused: a 401 that raise_for_status turns into an error
            refused = h.get(server.join("/status/401"))
            try:
                refused.raise_for_status()
            except errors.HTTPStatusError as exc:
                seen.error(f"{case.id} {name} 401", exc)
            # retried then exhausted: RetryError with the last response
            try:
                h.get(server.join("/status/503"))
            except errors.RetryError as exc:
                seen.error(f"{case.id} {name} retry", exc)
        finally:
            h.close()
    wrong = Harness(case, auth=hookwire.DigestAuth("user", DIGEST_PASSWORD + "x"))
    try:
        wrong.get(server.join(DIGEST_PATH))
    except errors.AuthenticationError as exc:
        seen.error(f"{case.id} digest refused", exc)
    finally:
        wrong.close()
    proxied = Harness(case, proxy=f"http://127.0.0.1:{_closed_port()}",
                      proxy_auth=("puser", PROXY_PASSWORD))
    try:
        proxied.get(server.join("/get"))
    except errors.TransportError as exc:
        seen.error(f"{case.id} proxy refused", exc)
    finally:
        seen.add(f"{case.id} proxy client", proxied.client)
        proxied.close()
    # credentials in the URL's userinfo
    h = Harness(case)
    try:
        r = h.get(server.url.replace("http://", f"http://user:{BASIC_PASSWORD}@") + "/get")
        seen.add(f"{case.id} userinfo response", r, r.request, r.url)
        h.get(f"http://user:{BASIC_PASSWORD}@127.0.0.1:{_closed_port()}/get")
    except errors.ConnectError as exc:
        seen.error(f"{case.id} userinfo refused", exc)
    finally:
        h.close()


def drive_llm(keyed: Any, seen: Seen) -> None:
    for transport, is_async in (("requests", False), ("httpx", False), ("httpx", True),
                                ("aiohttp", True)):
        where = f"llm {transport}-{'async' if is_async else 'sync'}"
        retry_fault = {"X-Mock-Fault": "calls=1;status=503",
                       "X-Mock-Session": f"{where}-retry"}
        llm = LLM("openai-compatible", base_url=keyed.openai_base_url, api_key=LLM_KEY,
                  model="mock-model", transport=transport, clock=hookwire.FakeClock())
        bad = LLM("openai-compatible", base_url=keyed.openai_base_url, api_key=LLM_KEY + "x",
                  model="mock-model", transport=transport)
        seen.add(where, llm, llm.provider, bad)
        if not is_async:
            with llm, bad:
                seen.add(where, llm.chat("hi", extra_headers=retry_fault))
                with llm.stream("hi") as stream:
                    seen.add(where, list(stream), stream.result(), stream)
                limited = {"X-Mock-Fault": "status=429"}
                for call, args in ((bad.chat, ("hi",)), (list, (bad.stream("hi"),))):
                    try:
                        call(*args)
                    except errors.SDKError as exc:
                        seen.error(where, exc)
                try:
                    llm.chat("hi", extra_headers=limited)
                except errors.RateLimitError as exc:
                    seen.error(where, exc)
            continue

        async def run(llm: LLM = llm, bad: LLM = bad, where: str = where,
                      retry_fault: dict[str, str] = retry_fault) -> None:
            async with llm, bad:
                seen.add(where, await llm.achat("hi", extra_headers=retry_fault))
                async with llm.astream("hi") as stream:
                    seen.add(where, [d async for d in stream], await stream.aresult())
                try:
                    await bad.achat("hi")
                except errors.SDKError as exc:
                    seen.error(where, exc)
                try:
                    async for _ in bad.astream("hi"):
                        pass
                except errors.SDKError as exc:
                    seen.error(where, exc)

        loop = asyncio.new_event_loop()
        try:
            loop.run_until_complete(run())
        finally:
            loop.close()


def run_cli(*args: str, env: dict[str, str], home: Path) -> str:
    exe = shutil.which("hookwire") or str(Path(sys.executable).parent / "hookwire")
    if not Path(exe).exists():
        pytest.skip("the hookwire console script is not installed")
    clean = {k: v for k, v in os.environ.items()
             if not k.endswith("_API_KEY") and not k.startswith("HOOKWIRE_")}
    clean.update(HOME=str(home), XDG_CONFIG_HOME=str(home / ".config"),
                 HOOKWIRE_CONFIG=str(home / "config.toml"), NO_COLOR="1",
                 PYTHON_KEYRING_BACKEND="keyring.backends.null.Keyring", **env)
    done = subprocess.run([exe, *args], capture_output=True, text=True, env=clean, timeout=60,
                          check=False)
    return f"{done.stdout}\n{done.stderr}"  # the command line itself holds the secrets


def drive_cli(server: Any, keyed: Any, seen: Seen, home: Path) -> None:
    out = [
        run_cli("http", "-v", "--auth", f"user:{BASIC_PASSWORD}", "GET",
                server.join("/status/200"), env={}, home=home),
        run_cli("http", "-v", "-A", "bearer", "--auth", BEARER_TOKEN, "GET",
                server.join("/status/401"), env={}, home=home),
        run_cli("http", "-v", "-A", "digest", "--auth", f"user:{DIGEST_PASSWORD}", "GET",
                server.join(DIGEST_PATH), env={}, home=home),
        run_cli("chat", "hi", "-p", "openai-compatible", "--base-url", keyed.openai_base_url,
                "-m", "mock-model", env={"OPENAI_API_KEY": LLM_KEY}, home=home),
        run_cli("chat", "hi", "--stream", "-p", "openai-compatible", "--base-url",
                keyed.openai_base_url, "-m", "mock-model",
                env={"OPENAI_API_KEY": LLM_KEY + "x"}, home=home),
    ]
    assert "200" in out[0] and "401" in out[1] and "200" in out[2]
    assert "Echo: hi" in out[3], out[3]
    for text in out:
        seen.add("cli", text)


def test_no_secret_reaches_logs_reprs_errors_journal_or_cli(
    mock_server, mock_server_factory, caplog, tmp_path
):
    mock_server.reset()
    keyed = mock_server_factory(dialect="openai", api_key=LLM_KEY)
    seen = Seen()
    caplog.set_level(logging.DEBUG)  # the root logger: every library's DEBUG lines too
    for param in CASES:
        case = param.values[0]
        drive_http(case, mock_server, seen)
    drive_llm(keyed, seen)
    drive_cli(mock_server, keyed, seen, tmp_path)
    # what the mock server hands back over HTTP
    for srv in (mock_server, keyed):
        for path in ("/__mock__/journal", "/__mock__/last"):
            seen.add(f"journal {srv.url}{path}", httpx.get(srv.url + path).text)
    assert len(httpx.get(mock_server.url + "/__mock__/journal").json()) > 50
    for record in caplog.records:
        seen.add(f"log {record.name}:{record.levelname}", record.getMessage())
        if record.exc_info and record.exc_info[1] is not None:
            seen.add(f"log {record.name} exc", describe(record.exc_info[1]))
    leaks = [hit for where, text in seen.texts for hit in scan(where, text)]
    _report.note("security", "texts_scanned", len(seen.texts))
    _report.note("security", "log_records_scanned", len(caplog.records))
    _report.note("security", "secrets_planted", len(SECRETS))
    assert not leaks, "\n".join(leaks[:20])
    # the scan can fail: the secrets did travel (the mock saw them, redacted in its journal)
    journal = mock_server.journal.entries()
    assert any(e.headers.get("authorization") == "[REDACTED]" for e in journal)
    assert any(e.headers.get("api-key") == "[REDACTED]" for e in journal)
    assert scan("self-check", f"Basic {base64.b64encode(f'user:{BASIC_PASSWORD}'.encode())}")


# -- the mock server's own hygiene ------------------------------------------------------------


def test_mock_server_binds_to_loopback_by_default(mock_server):
    from hookwire.mockserver.config import MockConfig

    assert MockConfig().host == "127.0.0.1"
    assert mock_server.host == "127.0.0.1"
    bound = {c.laddr.ip for c in __import__("psutil").Process().net_connections("tcp")
             if c.status == "LISTEN" and c.laddr.port == mock_server.port}
    assert bound == {"127.0.0.1"}


def test_mock_server_compares_keys_in_constant_time(mock_server_factory, monkeypatch):
    srv = mock_server_factory(dialect="openai", api_key=LLM_KEY)
    calls: list[tuple[bytes, bytes]] = []
    real = hmac.compare_digest

    def spy(a: Any, b: Any) -> bool:
        calls.append((a, b))
        return real(a, b)

    monkeypatch.setattr(hmac, "compare_digest", spy)
    body = {"model": "mock-model", "messages": [{"role": "user", "content": "x"}]}
    wrong = httpx.post(srv.openai_base_url + "/chat/completions", json=body,
                       headers={"Authorization": "Bearer nope"})
    right = httpx.post(srv.openai_base_url + "/chat/completions", json=body,
                       headers={"Authorization": f"Bearer {LLM_KEY}"})
    assert (wrong.status_code, right.status_code) == (401, 200)
    assert len(calls) == 2  # both checks went through hmac.compare_digest


@pytest.mark.parametrize("framing", ["content-length", "chunked"])
def test_mock_server_caps_request_bodies(mock_server_factory, framing):
    srv = mock_server_factory(dialect="openai", max_body=64 * 1024)
    payload = b"x" * (64 * 1024 + 1)
    chunks = iter([payload[:4096], payload[4096:]])
    content: Any = payload if framing == "content-length" else chunks
    r = httpx.post(srv.url + "/post", content=content)
    assert r.status_code == 413
    assert httpx.get(srv.url + "/get").status_code == 200  # and it keeps serving
