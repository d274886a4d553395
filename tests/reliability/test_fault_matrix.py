"""The HTTP fault matrix: every case on every transport, sync and async (issue 6).

The mock server injects each fault (``X-Mock-Fault``) and its journal is the witness of what
reached the wire and how often. Retries sleep on a ``FakeClock``, so "after about a second" is
asserted on the recorded sleeps, never on a wall clock. The few cases that need real time (a
stalled or dripping body against a deadline) run on the real clock with deadlines under a
second; their elapsed time is only checked against a generous bound, as a guard against hangs.
"""

from __future__ import annotations

import socket
import time

import pytest

import hookwire
from hookwire import errors
from hookwire._clock import Clock

pytestmark = pytest.mark.network

#: Generous upper bound for anything that must fail "within the deadline" (a hang guard only).
HANG_GUARD = 10.0


def fault(session_id: str, spec: str, **extra: str) -> dict[str, str]:
    return {"X-Mock-Session": session_id, "X-Mock-Fault": spec, **extra}


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# -- Retry-After ------------------------------------------------------------------------------


@pytest.mark.parametrize("status", [429, 503])
@pytest.mark.parametrize("header", ["retry-after=1", "retry-after-ms=1000"])
def test_retry_after_one_second_is_one_retry_after_a_second(
    make_client, server, session_id, status, header
):
    client = make_client(retry=hookwire.RetryPolicy(attempts=3))
    spec = f"calls=1;status={status};{header}"
    r = client.get(server.join("/get"), headers=fault(session_id, spec))
    assert (r.status_code, r.attempts) == (200, 2)
    assert client.clock.sleeps == [pytest.approx(1.0)]
    assert [e.status for e in server.journal.entries(path="/get")] == [status, 200]


@pytest.mark.parametrize("status", [429, 503])
def test_retry_after_above_the_cap_is_not_retried_and_exposes_the_wait(
    make_client, server, session_id, status
):
    client = make_client(retry=hookwire.RetryPolicy(attempts=3, retry_after_max=60))
    with pytest.raises(errors.RetryError) as info:
        spec = f"status={status};retry-after=3600"
        client.get(server.join("/get"), headers=fault(session_id, spec))
    assert info.value.retry_after == 3600
    assert info.value.attempts == 1
    assert info.value.last_response.status_code == status
    assert client.clock.sleeps == []
    assert server.journal.count(path="/get") == 1


GARBAGE = {
    "negative": "-1",
    "nan": "nan",
    "overflow": "1e309",
    "bad-date": "Wed, 99 Foo 2000 25:61:61 GMT",
    "year-100000": "Fri, 01 Jan 100000 00:00:00 GMT",
}


@pytest.mark.parametrize("raw", list(GARBAGE.values()), ids=list(GARBAGE))
def test_garbage_retry_after_falls_back_to_ordinary_backoff(make_client, server, session_id, raw):
    policy = hookwire.RetryPolicy(attempts=3, backoff_base=0.5, backoff_max=8.0, jitter=0.25)
    client = make_client(retry=policy)
    spec = f"calls=1-2;status=503;retry-after={raw}"
    r = client.get(server.join("/get"), headers=fault(session_id, spec))
    assert (r.status_code, r.attempts) == (200, 3)
    first, second = client.clock.sleeps
    assert 0.5 * 0.75 <= first <= 0.5  # backoff(1): base, shortened by at most 25 % jitter
    assert 1.0 * 0.75 <= second <= 1.0  # backoff(2): doubled
    entries = server.journal.entries(path="/get")
    assert [e.status for e in entries] == [503, 503, 200]


# -- connection faults ------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_connection_refused_is_a_connect_error_retried_for_any_method(make_client, method):
    client = make_client(retry=hookwire.RetryPolicy(attempts=3))
    with pytest.raises(errors.ConnectError) as info:
        client.request(method, f"http://127.0.0.1:{_closed_port()}/anything", content=b"x")
    # A refused connection never reached a server, so even a POST is safe to try again.
    assert info.value.attempts == 3
    assert len(client.clock.sleeps) == 2


def test_reset_after_body_post_is_not_replayed(make_client, server, session_id):
    client = make_client(retry=hookwire.RetryPolicy(attempts=3))
    with pytest.raises(errors.ReadError) as info:
        headers = fault(session_id, "reset-after-body")
        client.post(server.join("/post"), json={"n": 1}, headers=headers)
    assert info.value.attempts == 1
    assert server.journal.count(path="/post") == 1
    assert client.clock.sleeps == []


def test_reset_after_body_keyed_post_is_replayed_with_the_same_key(make_client, server, session_id):
    client = make_client(retry=hookwire.RetryPolicy(attempts=3))
    headers = fault(session_id, "calls=1;reset-after-body", **{"Idempotency-Key": session_id})
    r = client.post(server.join("/post"), json={"n": 1}, headers=headers)
    assert (r.status_code, r.attempts) == (200, 2)
    entries = server.journal.entries(path="/post")
    assert [e.status for e in entries] == [0, 200]  # 0: dropped without a response
    assert [e.headers["idempotency-key"] for e in entries] == [session_id, session_id]
    assert [e.body for e in entries] == [{"n": 1}, {"n": 1}]


@pytest.mark.parametrize("method", ["PUT", "POST-opt-in"])
def test_reset_after_body_idempotent_or_opted_in_is_replayed(
    make_client, server, session_id, method
):
    retry = hookwire.RetryPolicy(attempts=3, retry_post=method == "POST-opt-in")
    client = make_client(retry=retry)
    verb = method.split("-")[0]
    r = client.request(verb, server.join(f"/{verb.lower()}"), content=b"payload",
                       headers=fault(session_id, "calls=1;reset-after-body"))
    assert (r.status_code, r.attempts) == (200, 2)
    assert server.journal.count(path=f"/{verb.lower()}") == 2


def test_stalled_body_is_a_read_timeout(make_client, server, session_id):
    client = make_client(timeout=hookwire.Timeout(read=0.3))
    started = time.monotonic()
    with pytest.raises(errors.ReadTimeout):
        client.get(server.join("/stream/20"), headers=fault(session_id, "stall-after=2"))
    assert time.monotonic() - started < HANG_GUARD


def test_stalled_body_fails_within_the_total_deadline(make_client, server, session_id):
    client = make_client(timeout=hookwire.Timeout(read=60, total=0.5), clock=Clock())
    started = time.monotonic()
    with pytest.raises(errors.TimeoutException):
        client.get(server.join("/stream/20"), headers=fault(session_id, "stall-after=2"))
    assert time.monotonic() - started < HANG_GUARD


def test_drip_one_byte_a_second_is_a_read_timeout(make_client, server):
    client = make_client(timeout=hookwire.Timeout(read=0.4))
    started = time.monotonic()
    with pytest.raises(errors.ReadTimeout):
        client.get(server.join("/drip"), params={"numbytes": 10, "duration": 10})
    assert time.monotonic() - started < HANG_GUARD


def test_drip_faster_than_the_read_timeout_still_meets_the_total_deadline(make_client, server):
    # Every byte arrives within the read timeout, so only the total deadline can stop it.
    client = make_client(timeout=hookwire.Timeout(read=5, total=1.5), clock=Clock())
    started = time.monotonic()
    with pytest.raises(errors.TimeoutException):
        client.get(server.join("/drip"), params={"numbytes": 10, "duration": 5})
    assert time.monotonic() - started < HANG_GUARD


def test_slow_post_reply_is_not_replayed_after_a_read_timeout(make_client, server, session_id):
    client = make_client(retry=hookwire.RetryPolicy(attempts=3), timeout=hookwire.Timeout(read=0.3))
    with pytest.raises(errors.ReadTimeout):
        client.post(server.join("/post"), content=b"x", headers=fault(session_id, "delay=2"))
    assert server.journal.count(path="/post") == 1


# -- redirects --------------------------------------------------------------------------------

SECRET_HEADERS = {
    "Authorization": "Bearer redirect-secret-1",  # pragma: allowlist secret
    "Proxy-Authorization": "Basic cmVkaXJlY3Q6c2VjcmV0",  # pragma: allowlist secret
    "Cookie": "session=redirect-secret-2",  # pragma: allowlist secret
    "api-key": "redirect-secret-3",  # pragma: allowlist secret
    "x-api-key": "redirect-secret-4",  # pragma: allowlist secret
}
STRIPPED = {name.lower() for name in SECRET_HEADERS}


def _target_headers(client, url: str) -> dict[str, str]:
    r = client.get(url, headers={**SECRET_HEADERS, "X-Keep": "kept"})
    assert r.status_code == 200 and len(r.history) == 1
    return {k.lower(): v for k, v in r.json()["headers"].items()}


def test_redirect_to_another_host_strips_credentials(make_client, server):
    client = make_client()
    other = server.url.replace("127.0.0.1", "localhost") + "/headers"
    seen = _target_headers(client, server.join("/redirect-to") + f"?url={other}")
    assert seen["x-keep"] == "kept"
    assert not STRIPPED & set(seen)


def test_redirect_to_another_port_strips_credentials(make_client, server, mock_server_factory):
    client = make_client()
    other = mock_server_factory(dialect="vllm").join("/headers")
    seen = _target_headers(client, server.join("/redirect-to") + f"?url={other}")
    assert seen["x-keep"] == "kept"
    assert not STRIPPED & set(seen)


def test_redirect_to_another_scheme_strips_credentials(
    make_client, server, httpbin_secure, httpbin_ca_bundle
):
    client = make_client(verify=httpbin_ca_bundle)
    other = httpbin_secure.url + "/headers"
    seen = _target_headers(client, server.join("/redirect-to") + f"?url={other}")
    assert seen["x-keep"] == "kept"
    assert not STRIPPED & set(seen)


def test_same_origin_redirect_keeps_credentials(make_client, server):
    client = make_client()
    seen = _target_headers(client, server.join("/redirect-to") + "?url=/headers")
    assert set(seen) >= STRIPPED


def test_303_after_post_is_a_get_without_a_body(make_client, server):
    client = make_client()
    url = server.join("/redirect-to") + "?url=/anything&status_code=303"
    r = client.post(url, json={"secret": "body"})
    echoed = r.json()
    assert (r.status_code, echoed["method"], echoed["data"]) == (200, "GET", "")
    (final,) = server.journal.entries(path="/anything")
    assert final.method == "GET" and final.body_size == 0
    assert "content-type" not in final.headers and "content-length" not in final.headers


def test_a_redirect_loop_is_too_many_redirects(make_client, server):
    client = make_client(max_redirects=5)
    # "?url=" -> /redirect-to?url= -> Location "" -> the same URL again, forever.
    with pytest.raises(errors.TooManyRedirects) as info:
        client.get(server.join("/redirect-to") + "?url=%3Furl%3D")
    history = info.value.history
    assert len(history) == 5
    assert len({r.url for r in history[1:]}) == 1  # the loop: one URL, again and again
    assert server.journal.count(path="/redirect-to") == 6


# -- digest -----------------------------------------------------------------------------------


def test_digest_stale_nonce_is_retried_once_silently(make_client, server):
    client = make_client(auth=hookwire.DigestAuth("user", "pass"))
    url = server.join("/digest-auth/auth/user/pass/MD5/2")  # stale after 2 uses of a nonce
    statuses = [client.get(url).status_code for _ in range(3)]
    assert statuses == [200, 200, 200]
    seen = [e.status for e in server.journal.entries() if e.path.startswith("/digest-auth")]
    # challenge, answer, preemptive answer, then: stale 401, fresh answer (one silent retry)
    assert seen == [401, 200, 200, 401, 200]


def test_digest_wrong_password_is_an_authentication_error(make_client, server):
    client = make_client(auth=hookwire.DigestAuth("user", "wrong"))
    with pytest.raises(errors.AuthenticationError) as info:
        client.get(server.join("/digest-auth/auth/user/pass/SHA-256"))
    assert info.value.response.status_code == 401
    assert server.journal.count() == 2  # the challenge and one refused answer, no loop


def test_digest_unknown_algorithm_is_a_clear_error_not_a_key_error(make_client, hostile_server):
    client = make_client(auth=hookwire.DigestAuth("user", "pass"))
    with pytest.raises(errors.DigestChallengeError, match="MD6") as info:
        client.get(hostile_server.join("/digest/unknown"))
    assert not isinstance(info.value, KeyError)
    assert isinstance(info.value, errors.AuthenticationError)


def test_digest_unknown_algorithm_falls_to_the_next_supported_challenge(
    make_client, hostile_server
):
    client = make_client(auth=hookwire.DigestAuth("user", "pass"))
    r = client.get(hostile_server.join("/digest/fallback"))
    assert r.status_code == 200
    assert "algorithm=SHA-256" in r.text and 'nonce="n2"' in r.text
