"""The pyreqwest transport's own choices: what it refuses, what it maps, what it documents.

The shared behaviour (headers, bodies, retries, redirects, TLS, proxies, pools, bombs) is proven
by the contract and reliability suites, where ``pyreqwest-async`` is one case of the matrix.
Here: the options rustls cannot take are refused with a ConfigError naming them; the library
missing is a PluginError naming the extra; pyreqwest's exceptions land on the SDK's tree, without
its text; the reason phrase is the standard one (hyper keeps no other); body chunks stay within
64 KiB however hyper hands them over; the plain-body fast read is taken. All against real
loopback servers.
"""

from __future__ import annotations

import asyncio
import ssl
import sys
from typing import Any

import pytest

import hookwire
from hookwire import errors
from tests._raw_server import RawServer, replying
from tests._transport_cases import ensure_transport

pytest.importorskip("pyreqwest")
from pyreqwest import exceptions as px

from hookwire.plugins.transports import pyreqwest_transport

pytestmark = pytest.mark.network

URL = "http://127.0.0.1:9/x?token=s3cret-q"  # pragma: allowlist secret


@pytest.fixture(autouse=True)
def registered() -> None:
    ensure_transport("pyreqwest")


def run(coro: Any) -> Any:
    return asyncio.run(coro)


async def _get(url: str, **kwargs: Any) -> hookwire.Response:
    async with hookwire.AsyncClient(transport="pyreqwest", **kwargs) as client:
        return await client.get(url)


def test_an_ssl_context_is_refused_naming_the_option(mock_server):
    with pytest.raises(errors.ConfigError, match=r"verify=ssl\.SSLContext"):
        run(_get(mock_server.join("/get"), verify=ssl.create_default_context()))


def test_a_ca_directory_without_certificates_is_refused(mock_server, tmp_path):
    (tmp_path / "README").write_text("no certificates here")
    with pytest.raises(errors.ConfigError, match="holds no PEM certificate"):
        run(_get(mock_server.join("/get"), verify=str(tmp_path)))


def test_a_missing_library_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "pyreqwest.client", None)  # import now fails
    with pytest.raises(errors.PluginError, match=r"hookwire\[pyreqwest\]"):
        pyreqwest_transport.PyreqwestTransport()


def test_the_transport_is_async_only():
    client = hookwire.Client(transport="pyreqwest")
    with pytest.raises(errors.InvalidRequest, match="pyreqwest"), client:
        client.get("http://127.0.0.1:9/")


def _causes(*messages: str) -> dict[str, Any]:
    return {"causes": [{"message": m} for m in messages]}


@pytest.mark.parametrize(
    ("backend", "proxy", "expected"),
    [
        (px.PoolTimeoutError("p", _causes()), None, errors.PoolTimeout),
        (
            px.ConnectTimeoutError("c", _causes("client error (Connect)", "deadline has elapsed")),
            None,
            errors.ConnectTimeout,
        ),
        # reqwest's read timeout while the head is awaited: pyreqwest calls it a connect timeout
        (px.ConnectTimeoutError("c", _causes("operation timed out")), None, errors.ReadTimeout),
        (px.ReadTimeoutError("r", _causes()), None, errors.ReadTimeout),
        (px.WriteTimeoutError("w", _causes()), None, errors.WriteTimeout),
        (
            px.ConnectError("x", _causes("client error (Connect)", "tcp connect error")),
            None,
            errors.ConnectError,
        ),
        (
            px.ConnectError("x", _causes("client error (Connect)", "tcp connect error")),
            "http://pu:pp@127.0.0.1:1",  # pragma: allowlist secret
            errors.ProxyError,
        ),
        (
            px.ConnectError(
                "x", _causes("client error (Connect)", "invalid peer certificate: UnknownIssuer")
            ),
            None,
            errors.TLSError,
        ),
        (
            px.ConnectError(
                "x", _causes("client error (SendRequest)", "connection closed before message")
            ),
            None,
            errors.ReadError,
        ),
        (
            px.ConnectError(
                "x",
                _causes(
                    "client error (SendRequest)",
                    "peer closed connection without sending TLS close_notify",
                ),
            ),
            None,
            errors.ReadError,
        ),
        (px.ReadError("r", _causes("unexpected EOF in a chunk")), None, errors.ReadError),
        (px.WriteError("w", _causes("broken pipe")), None, errors.WriteError),
        (px.BuilderError("b", _causes("relative URL without a base")), None, errors.InvalidURL),
    ],
)
def test_pyreqwest_errors_map_onto_the_sdk_tree(backend, proxy, expected):
    request = hookwire.Request("GET", URL)
    mapped = pyreqwest_transport.map_error(backend, request, proxy)
    assert type(mapped) is expected
    assert "s3cret" not in str(mapped) and "pp@" not in str(mapped)
    assert getattr(mapped, "request", request) is request


def test_a_tls_refusal_names_the_alert_as_openssl_spells_it():
    backend = px.ConnectError(
        "x", _causes("client error (SendRequest)", "received fatal alert: CertificateRequired")
    )
    mapped = pyreqwest_transport.map_error(backend, hookwire.Request("GET", URL), None)
    assert type(mapped) is errors.TLSError
    assert "alert CERTIFICATE_REQUIRED" in str(mapped)


def test_the_reason_phrase_is_the_standard_one():
    reply = b"HTTP/1.1 200 Fine Thanks\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok"
    with RawServer(replying(reply)) as raw:
        r = run(_get(raw.url + "/"))
    assert (r.status_code, r.reason_phrase, r.text) == (200, "OK", "ok")


def test_big_raw_chunks_are_split_to_64_kib():
    body = bytes(range(256)) * 4096  # 1 MiB in one write: hyper's buffer grows past 64 KiB
    head = f"HTTP/1.1 200 OK\r\nContent-Length: {len(body)}\r\nConnection: close\r\n\r\n"

    async def chunks(url: str) -> list[bytes]:
        client = hookwire.AsyncClient(transport="pyreqwest")
        async with client, client.stream("GET", url) as r:
            await asyncio.sleep(0.2)  # let the whole body arrive before the first read
            return [c async for c in r.aiter_bytes()]

    with RawServer(replying(head.encode() + body)) as raw:
        got = run(chunks(raw.url + "/"))
    assert b"".join(got) == body
    assert max(map(len, got)) <= 64 * 1024


def test_a_plain_body_within_the_limit_is_read_in_one_await(mock_server, monkeypatch):
    seen: list[int | None] = []
    real = pyreqwest_transport._PyreqwestStream.aread_all

    async def spy(self: Any, limit: int) -> bytes | None:
        whole = await real(self, limit)
        seen.append(None if whole is None else len(whole))
        return whole

    monkeypatch.setattr(pyreqwest_transport._PyreqwestStream, "aread_all", spy)
    r = run(_get(mock_server.join("/bytes/1000")))
    assert len(r.content) == 1000
    assert seen == [1000]
    r = run(_get(mock_server.join("/gzip")))  # compressed: streamed through the decoder instead
    assert r.json()["gzipped"] is True
    assert seen[-1] is None


def test_a_closed_transport_refuses_requests(mock_server):
    async def after_close() -> None:
        client = hookwire.AsyncClient(transport="pyreqwest")
        assert (await client.get(mock_server.join("/get"))).status_code == 200
        await client.aclose()
        await client.get(mock_server.join("/get"))

    with pytest.raises(errors.ClientClosed):
        run(after_close())


def test_the_plugin_registers_an_async_face_only():
    entry = hookwire.get_plugin_host().transports()["pyreqwest"]
    assert entry.async_ is pyreqwest_transport.PyreqwestTransport
    assert entry.sync is None


def test_importing_the_plugin_does_not_import_pyreqwest():
    import subprocess

    code = (
        "import sys, hookwire.plugins.transports.pyreqwest_transport; "
        "print('pyreqwest' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
