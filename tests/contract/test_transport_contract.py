"""One test body per behaviour, run on every transport (see conftest.py for the matrix).

Everything goes through ``hookwire.Client``/``hookwire.AsyncClient`` against the live mock server,
and
the server's journal is the witness: what reached the wire, and how many times. Retries run on
a ``FakeClock``, so backoff never sleeps; only the real-timeout tests wait (sub-second).
"""

from __future__ import annotations

import io
import json
import socket
import time
import uuid

import pytest

import hookwire
from hookwire import errors

pytestmark = pytest.mark.network


def _session() -> dict[str, str]:
    return {"X-Mock-Session": uuid.uuid4().hex}


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# -- request and response shape --------------------------------------------------------------


def test_get_returns_status_reason_version_headers_and_body(make_client, server):
    client = make_client()
    r = client.get(server.join("/get"), params={"q": "1"}, headers={"X-Custom": "v"})
    assert (r.status_code, r.reason_phrase, r.http_version) == (200, "OK", "HTTP/1.1")
    assert r.headers["content-type"] == "application/json"
    body = r.json()
    assert body["args"] == {"q": "1"}
    assert body["headers"]["X-Custom"] == "v"


def test_only_the_requests_own_headers_reach_the_wire(make_client, server):
    client = make_client()
    client.get(server.join("/get"), headers=[("X-Dup", "a"), ("X-Dup", "b")])
    (entry,) = server.journal.entries(path="/get")
    names = sorted(entry.headers)
    assert names == ["accept", "accept-encoding", "host", "user-agent", "x-dup"]
    assert entry.headers["user-agent"] == "hookwire/0.1"


def test_repeated_request_headers_are_sent_as_separate_lines(make_client, server):
    r = make_client().get(server.join("/headers"), headers=[("X-Dup", "a"), ("X-Dup", "b")])
    assert r.json()["headers"]["X-Dup"] == "a,b"


def test_repeated_response_headers_are_all_kept(make_client, server):
    r = make_client().get(
        server.join("/response-headers"), params=[("Set-Cookie", "a=1"), ("Set-Cookie", "b=2")]
    )
    assert r.headers.get_list("set-cookie") == ["a=1", "b=2"]


def test_json_form_and_multipart_bodies(make_client, server):
    client = make_client()
    assert client.post(server.join("/post"), json={"k": [1, 2]}).json()["json"] == {"k": [1, 2]}
    assert client.post(server.join("/post"), data={"a": "1"}).json()["form"] == {"a": "1"}
    r = client.post(
        server.join("/post"), data={"f": "v"}, files={"up": ("a.txt", b"file-bytes", "text/plain")}
    )
    assert r.json()["files"] == {"up": "file-bytes"}
    assert r.json()["form"] == {"f": "v"}


def test_file_body_goes_with_content_length_and_generator_body_chunked(make_client, server):
    client = make_client()
    payload = b"x" * 200_000
    r = client.post(server.join("/post"), data=io.BytesIO(payload))
    assert r.json()["data"] == payload.decode()
    assert r.json()["headers"]["Content-Length"] == str(len(payload))

    def chunks():
        yield b"part1-"
        yield b"part2"

    r = client.post(server.join("/post"), data=chunks())
    assert r.json()["data"] == "part1-part2"
    assert r.json()["headers"]["Transfer-Encoding"] == "chunked"


def test_head_has_no_body(make_client, server):
    r = make_client().request("HEAD", server.join("/get"))
    assert r.status_code == 200
    assert r.content == b""
    assert int(r.headers["content-length"]) > 0


@pytest.mark.parametrize("encoding", ["gzip", "deflate", "brotli"])
def test_compressed_bodies_are_decoded(make_client, server, encoding):
    pytest.importorskip("brotli") if encoding == "brotli" else None
    r = make_client().get(server.join(f"/{encoding}"))
    assert r.json()[{"gzip": "gzipped", "deflate": "deflated", "brotli": "brotli"}[encoding]]


def test_streamed_lines_and_bytes(make_client, server):
    client = make_client()
    _, lines = client.stream("GET", server.join("/stream/5"), lines=True)
    assert [json.loads(line)["id"] for line in lines] == [0, 1, 2, 3, 4]
    _, chunks = client.stream("GET", server.join("/bytes/100000"))
    assert sum(map(len, chunks)) == 100_000
    assert max(map(len, chunks)) <= 64 * 1024


def test_body_size_limit_stops_a_large_body(make_client, server):
    client = make_client(max_body_size=10_000)
    with pytest.raises(errors.BodyTooLarge):
        client.get(server.join("/bytes/100000"))


# -- retries: the same number of attempts everywhere ------------------------------------------


def test_retry_on_status_then_success_counts_attempts(make_client, server):
    client = make_client(retry=hookwire.RetryPolicy(attempts=4))
    headers = {**_session(), "X-Mock-Fault": "calls=1-2;status=503"}
    r = client.get(server.join("/get"), headers=headers)
    assert r.status_code == 200
    assert r.attempts == 3
    assert server.journal.count(path="/get") == 3
    assert len(client.clock.sleeps) == 2


def test_retries_exhausted_raise_retry_error_with_last_response(make_client, server):
    client = make_client(retry=hookwire.RetryPolicy(attempts=3))
    headers = {**_session(), "X-Mock-Fault": "status=503;retry-after=0.5"}
    with pytest.raises(errors.RetryError) as info:
        client.get(server.join("/get"), headers=headers)
    assert info.value.attempts == 3
    assert info.value.last_response.status_code == 503
    assert server.journal.count(path="/get") == 3
    assert client.clock.sleeps == [0.5, 0.5]


def test_post_is_not_retried_without_opt_in(make_client, server):
    client = make_client(retry=hookwire.RetryPolicy(attempts=3))
    r = client.post(server.join("/post"), headers={**_session(), "X-Mock-Fault": "status=503"})
    assert r.status_code == 503
    assert server.journal.count(path="/post") == 1


def test_dropped_connection_is_a_read_error_and_retried(make_client, server):
    client = make_client(retry=hookwire.RetryPolicy(attempts=3))
    headers = {**_session(), "X-Mock-Fault": "calls=1;close-after=0"}
    r = client.get(server.join("/get"), headers=headers)
    assert r.status_code == 200 and r.attempts == 2
    with pytest.raises(errors.ReadError) as info:
        make_client().get(server.join("/get"), headers={"X-Mock-Fault": "close-after=0"})
    assert info.value.__cause__ is not None
    assert info.value.request is not None


# -- errors: typed, chained, secret-free ------------------------------------------------------


def test_closed_port_is_connect_error_after_every_attempt(make_client):
    client = make_client(retry=hookwire.RetryPolicy(attempts=3))
    url = f"http://user:s3cret@127.0.0.1:{_closed_port()}/get?x=1"  # pragma: allowlist secret
    with pytest.raises(errors.ConnectError) as info:
        client.get(url)
    assert info.value.attempts == 3
    assert info.value.__cause__ is not None
    assert "s3cret" not in str(info.value)
    assert len(client.clock.sleeps) == 2


def test_slow_headers_raise_read_timeout(make_client, server):
    client = make_client(timeout=hookwire.Timeout(read=0.2))
    with pytest.raises(errors.ReadTimeout):
        client.get(server.join("/get"), headers={"X-Mock-Fault": "delay=1"})


def test_first_byte_bounds_the_wait_for_headers(make_client, server):
    client = make_client(timeout=hookwire.Timeout(read=5, first_byte=0.2))
    with pytest.raises(errors.ReadTimeout):
        client.get(server.join("/get"), headers={"X-Mock-Fault": "delay=1"})


def test_broken_stream_raises_a_mapped_error_while_iterating(make_client, server):
    client = make_client()
    with pytest.raises(errors.TransportError) as info:
        client.stream("GET", server.join("/stream/20"), headers={"X-Mock-Fault": "close-after=2"})
    assert isinstance(info.value, (errors.ReadError, errors.ProtocolError))
    assert info.value.__cause__ is not None


def test_stalled_stream_raises_read_timeout(make_client, server):
    client = make_client(timeout=hookwire.Timeout(read=0.3))
    with pytest.raises(errors.ReadTimeout):
        client.stream("GET", server.join("/stream/20"), headers={"X-Mock-Fault": "stall-after=2"})


def test_control_characters_are_rejected_before_sending(make_client, server):
    client = make_client()
    with pytest.raises(errors.InvalidHeader):
        client.get(server.join("/get"), headers={"X-Evil": "a\r\nInjected: 1"})
    with pytest.raises(errors.InvalidRequest):
        client.get(server.join("/get\r\nX: y"))
    with pytest.raises(errors.InvalidHeader):
        client.request("GET\r\n", server.join("/get"))
    assert server.journal.count() == 0


# -- redirects --------------------------------------------------------------------------------


def test_redirects_are_followed_with_history(make_client, server):
    r = make_client().get(server.join("/redirect/3"))
    assert r.status_code == 200
    assert [h.status_code for h in r.history] == [302, 302, 302]
    assert r.url.endswith("/get")


def test_too_many_redirects(make_client, server):
    with pytest.raises(errors.TooManyRedirects):
        make_client(max_redirects=2).get(server.join("/redirect/5"))


def test_303_turns_post_into_get_without_body(make_client, server):
    client = make_client()
    r = client.post(
        server.join("/redirect-to"),
        params={"url": "/get", "status_code": "303"},
        content=b"payload",
    )
    assert r.status_code == 200
    last = server.journal.entries(path="/get")[-1]
    assert (last.method, last.body_size) == ("GET", 0)
    assert "content-length" not in last.headers


def test_cross_origin_redirect_strips_credentials(make_client, server):
    secret = {
        "Authorization": "Bearer a",
        "Proxy-Authorization": "Basic b",
        "Cookie": "c=1",
        "api-key": "d",
        "x-api-key": "e",
        "X-Keep": "kept",
    }
    client = make_client()
    other = server.url.replace("127.0.0.1", "localhost") + "/headers"
    r = client.get(server.join("/redirect-to"), params={"url": other}, headers=secret)
    sent = {k.lower() for k in r.json()["headers"]}
    assert "x-keep" in sent
    assert not sent & {"authorization", "proxy-authorization", "cookie", "api-key", "x-api-key"}
    same = client.get(server.join("/redirect-to"), params={"url": "/headers"}, headers=secret)
    assert {"authorization", "x-api-key"} <= {k.lower() for k in same.json()["headers"]}


# -- auth and cookies -------------------------------------------------------------------------


def test_basic_and_bearer_auth(make_client, server):
    client = make_client()
    assert client.get(server.join("/basic-auth/u/p"), auth=("u", "p")).status_code == 200
    assert client.get(server.join("/basic-auth/u/p"), auth=("u", "wrong")).status_code == 401
    r = client.get(server.join("/bearer"), auth=hookwire.BearerAuth("tok"))
    assert r.json() == {"authenticated": True, "token": "tok"}


def test_digest_auth(make_client, server):
    import hookwire.auth as auth_module

    digest = getattr(auth_module, "DigestAuth", None)
    if digest is None:
        pytest.skip("hookwire.auth.DigestAuth is not written yet")
    r = make_client().get(server.join("/digest-auth/auth/u/p/SHA-256"), auth=digest("u", "p"))
    assert r.status_code == 200


def test_cookies_persist_across_calls(make_client, server):
    client = make_client()
    client.get(server.join("/cookies/set"), params={"flavour": "oat"})
    assert client.get(server.join("/cookies")).json()["cookies"] == {"flavour": "oat"}


# -- TLS and proxies --------------------------------------------------------------------------


def test_tls_with_ca_bundle_and_failure_without(make_client, httpbin_secure, httpbin_ca_bundle):
    import os

    bundle = os.environ["REQUESTS_CA_BUNDLE"]
    assert make_client(verify=bundle).get(httpbin_secure.join("/get")).status_code == 200
    with pytest.raises(errors.TLSError) as info:
        make_client(trust_env=False).get(httpbin_secure.join("/get"))
    assert info.value.__cause__ is not None
    assert make_client(verify=False).get(httpbin_secure.join("/get")).status_code == 200


def test_requests_go_through_the_chosen_proxy_with_credentials(make_client, server):
    proxy = server.url.replace("http://", "http://pu:pp@")
    client = make_client(proxy=proxy)
    r = client.get("http://proxied.invalid/get")
    assert r.status_code == 200
    (entry,) = server.journal.entries(path="/get")
    assert entry.headers["host"] == "proxied.invalid"
    assert "proxy-authorization" in entry.headers


def test_backend_never_reads_proxy_settings_from_the_environment(make_client, server, monkeypatch):
    for name in ("HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.setenv(name, f"http://127.0.0.1:{_closed_port()}")
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    assert make_client(trust_env=False).get(server.join("/get")).status_code == 200


# -- connection pool --------------------------------------------------------------------------


def _client_ports(port: int) -> set[int]:
    psutil = pytest.importorskip("psutil")
    return {
        c.laddr.port
        for c in psutil.Process().net_connections(kind="tcp")
        if c.raddr and c.raddr.port == port and c.status == psutil.CONN_ESTABLISHED
    }


def test_connections_are_reused_across_calls(make_client, mock_server_factory):
    server = mock_server_factory(api_key="contract-reuse")
    client = make_client()
    seen = []
    for _ in range(3):
        assert client.get(server.join("/get")).status_code == 200
        seen.append(_client_ports(server.port))
    assert len(seen[0]) == 1
    assert seen[1] == seen[0] and seen[2] == seen[0]


def test_early_closed_streams_return_their_connections(make_client, server):
    client = make_client(max_connections=2, timeout=hookwire.Timeout(pool=0.5))
    for _ in range(6):
        _, chunks = client.stream("GET", server.join("/stream/50"), take=1)
        assert len(chunks) == 1
    assert client.get(server.join("/get")).status_code == 200


def test_pool_timeout_when_every_connection_is_held(make_client, server):
    client = make_client(max_connections=1, timeout=hookwire.Timeout(pool=0.2))
    held = client.open_stream("GET", server.join("/stream/5"))
    try:
        with pytest.raises(errors.PoolTimeout):
            client.get(server.join("/get"))
    finally:
        client.close_response(held)
    assert client.get(server.join("/get")).status_code == 200


def test_transport_name_is_the_one_asked_for(make_client, case):
    assert make_client().client.transport_name == case.transport


def test_decompression_bomb_is_stopped_after_a_bounded_chunk(make_client, gzip_bomb):
    client = make_client(max_body_size=1024 * 1024)
    with pytest.raises(errors.BodyTooLarge):
        client.get(gzip_bomb.url + "/bomb")
    _, chunks = client.stream("GET", gzip_bomb.url + "/bomb", take=10)
    assert len(chunks) == 10
    assert max(map(len, chunks)) <= 64 * 1024
    assert set(b"".join(chunks)) == {0}


def test_closing_the_client_closes_its_connections(make_client, mock_server_factory):
    server = mock_server_factory(api_key="contract-close")
    client = make_client()
    for _ in range(2):
        client.stream("GET", server.join("/stream/3"))
    assert len(_client_ports(server.port)) == 1
    client.close()
    # closed by the time close() returns, or (pyreqwest closes on its own thread) very soon:
    # a bounded wait for the sockets to go, never a timing assertion
    deadline = time.monotonic() + 10
    while _client_ports(server.port) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert _client_ports(server.port) == set()
