"""requests transport specifics: the urllib3 Retry built from a policy (and kept inert), the
blocking pool, error mapping."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
import requests.exceptions as rex
import urllib3.exceptions as uex
import urllib3.util

import hookwire
from hookwire import errors
from hookwire.plugins.transports import requests_transport
from hookwire.retry import IDEMPOTENT_METHODS, RetryDecision, RetryPolicy
from hookwire.transports import TransportOptions


class _NoJitter:
    def random(self) -> float:
        return 0.0


def _decide(policy: RetryPolicy, **kwargs: object) -> RetryDecision:
    kwargs.setdefault("method", "GET")
    kwargs.setdefault("attempt", 1)
    kwargs.setdefault("now", 1_700_000_000.0)
    return policy.decide(rng=_NoJitter(), **kwargs)  # type: ignore[arg-type]


def test_urllib3_retry_is_equivalent_to_the_policy():
    policy = RetryPolicy(attempts=4, backoff_base=0.5, backoff_max=8.0, jitter=0.0)
    retry = requests_transport.urllib3_retry(policy)
    assert isinstance(retry, urllib3.util.Retry)
    assert retry.total == 3 and retry.raise_on_status is False
    methods = ["GET", "HEAD", "PUT", "DELETE", "OPTIONS", "TRACE", "POST", "PATCH"]
    for method in methods:
        for status in (200, 400, 404, 408, 413, 429, 500, 501, 502, 503, 504):
            for retry_after in (None, "3"):
                headers = {} if retry_after is None else {"Retry-After": retry_after}
                ours = _decide(policy, method=method, status=status, headers=headers).retry
                theirs = retry.is_retry(method, status, has_retry_after=retry_after is not None)
                assert ours == theirs, (method, status, retry_after)
    # The backoff agrees from the second retry on (urllib3 waits 0 s before the first).
    current = retry
    for attempt in range(1, 4):
        current = current.increment(method="GET", url="/", error=None, response=None)
        if attempt >= 2:
            assert current.get_backoff_time() == policy.backoff(attempt, _NoJitter())
    assert requests_transport.urllib3_retry(policy.replace(retry_post=True)).is_retry("POST", 503)
    assert requests_transport.urllib3_retry(RetryPolicy()).allowed_methods == IDEMPOTENT_METHODS


_HTTP_LIBRARIES = {"requests", "httpx", "httpcore", "urllib3", "aiohttp"}


def test_the_core_imports_no_http_library_not_even_for_type_checking():
    # which is why the urllib3 bridge lives here and not on RetryPolicy
    sdk = Path(hookwire.__file__).parent
    found = []
    for path in sorted(sdk.rglob("*.py")):
        if path.relative_to(sdk).parts[0] in ("plugins", "mockserver"):
            continue  # not the core (laid out inside hookwire/ when installed as a wheel)
        for node in ast.walk(ast.parse(path.read_text())):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            found += [
                f"{path.name}:{node.lineno} {n}"
                for n in names
                if n.split(".")[0] in _HTTP_LIBRARIES
            ]
    assert found == []
    assert not hasattr(RetryPolicy(), "to_urllib3")


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
    assert "path?token=[REDACTED]" in str(mapped) and "abc" not in str(mapped)  # the URL, redacted


def test_connect_failure_through_a_proxy_is_a_proxy_error_without_its_credentials():
    backend = rex.ProxyError(uex.ProxyError("down", uex.NewConnectionError(None, "refused")))
    mapped = requests_transport._map_error(backend, _request(), "http://pu:secret@proxy:3128")
    assert isinstance(mapped, errors.ProxyError)
    assert "secret" not in str(mapped)
