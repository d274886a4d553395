"""requests transport specifics: the inert urllib3 Retry, the blocking pool, error mapping."""

from __future__ import annotations

import pytest
import requests.exceptions as rex
import urllib3.exceptions as uex

import hookwire
from hookwire import errors
from hookwire.plugins.transports import requests_transport
from hookwire.transports import TransportOptions


def test_adapter_retry_is_built_from_the_policy_but_never_retries():
    policy = hookwire.RetryPolicy(attempts=5, methods={"GET", "PUT"})
    transport = requests_transport.RequestsTransport(TransportOptions(retry=policy))
    try:
        retry = transport.adapter.max_retries
        assert retry.total == 0 and retry.connect == 0 and retry.status == 0
        assert retry.read is False and retry.redirect == 0
        assert not retry.status_forcelist
        assert set(retry.allowed_methods) == {"GET", "PUT"}  # taken from the policy
        assert retry.backoff_factor == policy.backoff_base
    finally:
        transport.close()


def test_pool_blocks_at_max_connections():
    transport = requests_transport.RequestsTransport(TransportOptions(max_connections=3))
    try:
        pool = transport.adapter.poolmanager.connection_from_url("http://127.0.0.1:1/")
        assert pool.block is True
        assert pool.pool.maxsize == 3
        assert isinstance(pool, requests_transport._PoolTimeoutMixin)
    finally:
        transport.close()


def _request() -> hookwire.Request:
    return hookwire.Request("GET", "http://127.0.0.1:9/path?token=abc")


@pytest.mark.parametrize(
    ("backend", "expected"),
    [
        (uex.EmptyPoolError(None, "empty"), errors.PoolTimeout),
        (rex.ConnectTimeout("slow"), errors.ConnectTimeout),
        (rex.ReadTimeout("slow"), errors.ReadTimeout),
        (
            rex.ConnectionError(uex.NewConnectionError(None, "refused")),
            errors.ConnectError,
        ),
        (rex.SSLError(uex.SSLError("bad cert")), errors.TLSError),
        (rex.ChunkedEncodingError("broken"), errors.ReadError),
        (rex.ContentDecodingError("bad gzip"), errors.DecodingError),
        (
            uex.ProtocolError("Connection aborted.", ConnectionResetError(104, "reset")),
            errors.ReadError,
        ),
    ],
)
def test_backend_errors_map_onto_the_sdk_tree(backend, expected):
    mapped = requests_transport._map_error(backend, _request(), None)
    assert isinstance(mapped, expected)
    assert mapped.request is not None
    assert "token=abc" in str(mapped)  # the URL is shown (redacted of userinfo only)


def test_connect_failure_through_a_proxy_is_a_proxy_error_without_its_credentials():
    backend = rex.ProxyError(uex.ProxyError("down", uex.NewConnectionError(None, "refused")))
    mapped = requests_transport._map_error(backend, _request(), "http://pu:secret@proxy:3128")
    assert isinstance(mapped, errors.ProxyError)
    assert "secret" not in str(mapped)
