"""httpx and aiohttp error mapping: each backend exception lands on the right SDK class."""

from __future__ import annotations

import ssl

import httpx
import pytest

import hookwire
from hookwire import errors
from hookwire.plugins.transports import httpx_transport


def _request() -> hookwire.Request:
    return hookwire.Request("GET", "http://127.0.0.1:9/x")


def _with_cause(exc: BaseException, cause: BaseException) -> BaseException:
    exc.__cause__ = cause
    return exc


@pytest.mark.parametrize(
    ("backend", "expected"),
    [
        (httpx.PoolTimeout("p"), errors.PoolTimeout),
        (httpx.ConnectTimeout("c"), errors.ConnectTimeout),
        (httpx.ReadTimeout("r"), errors.ReadTimeout),
        (httpx.WriteTimeout("w"), errors.WriteTimeout),
        (httpx.ConnectError("refused"), errors.ConnectError),
        (
            _with_cause(httpx.ConnectError("tls"), ssl.SSLCertVerificationError(1, "x")),
            errors.TLSError,
        ),
        (httpx.ReadError("reset"), errors.ReadError),
        (httpx.WriteError("pipe"), errors.WriteError),
        (
            httpx.RemoteProtocolError("Server disconnected without sending a response."),
            errors.ReadError,
        ),
        (httpx.RemoteProtocolError("illegal status line"), errors.ProtocolError),
        (httpx.DecodingError("bad"), errors.DecodingError),
        (httpx.UnsupportedProtocol("ftp"), errors.InvalidURL),
    ],
)
def test_httpx_errors_map_onto_the_sdk_tree(backend, expected):
    mapped = httpx_transport.map_error(backend, _request(), None)
    assert type(mapped) is expected


def test_httpx_connect_error_through_a_proxy_is_a_proxy_error():
    mapped = httpx_transport.map_error(httpx.ConnectError("x"), _request(), "http://u:pw@p:1")
    assert isinstance(mapped, errors.ProxyError)
    assert "pw" not in str(mapped)


def test_aiohttp_errors_map_onto_the_sdk_tree():
    aiohttp = pytest.importorskip("aiohttp")
    from hookwire.plugins.transports import aiohttp_transport

    key = aiohttp.client_reqrep.ConnectionKey("h", 1, False, True, None, None, None)
    cases = [
        (aiohttp.ConnectionTimeoutError("c"), errors.ConnectTimeout),
        (aiohttp.SocketTimeoutError("r"), errors.ReadTimeout),
        (
            aiohttp.ClientConnectorError(key, ConnectionRefusedError(111, "refused")),
            errors.ConnectError,
        ),
        (aiohttp.ServerDisconnectedError(), errors.ReadError),
        (aiohttp.ClientPayloadError("Response payload is not completed"), errors.ReadError),
    ]
    for backend, expected in cases:
        assert type(aiohttp_transport.map_error(backend, _request(), None)) is expected, backend
    refused = aiohttp.ClientConnectorError(key, ConnectionRefusedError(111, "refused"))
    assert isinstance(
        aiohttp_transport.map_error(refused, _request(), "http://p:1"), errors.ProxyError
    )
