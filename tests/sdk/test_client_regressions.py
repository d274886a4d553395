"""Bugs found by review, each pinned by a test that failed before its fix."""

from __future__ import annotations

import uuid

import pytest

import hookwire
from hookwire._headers import Headers


def test_a_size_limit_is_not_retried(mock_server) -> None:  # type: ignore[no-untyped-def]
    """BodyTooLarge is our own limit: the same body would pass it on no attempt."""
    session = uuid.uuid4().hex
    client = hookwire.Client(
        transport="requests",
        max_body_size=10,
        retry=hookwire.RetryPolicy(attempts=3),
        clock=hookwire.FakeClock(),
    )
    with client, pytest.raises(hookwire.BodyTooLarge) as info:
        client.get(mock_server.join("/bytes/1000"), headers={"X-Mock-Session": session})
    assert info.value.attempts == 1
    sent = [e for e in mock_server.journal.entries() if e.headers.get("x-mock-session") == session]
    assert len(sent) == 1


def test_invalid_json_is_not_retried() -> None:
    from hookwire._client_base import error_kind

    assert error_kind(hookwire.DecodingError("bad json")) == "other"
    assert error_kind(hookwire.ReadError("cut")) == "read"


def test_send_accepts_a_request_built_directly(mock_server) -> None:  # type: ignore[no-untyped-def]
    with hookwire.Client(retry=hookwire.RetryPolicy(attempts=2)) as client:
        response = client.send(hookwire.Request("GET", mock_server.join("/get")))
    assert response.status_code == 200
    assert response.request.extensions["timeout"] == client.timeout


def test_wire_headers_are_checked_when_copied_into_a_request() -> None:
    received = Headers.from_wire([("X-Echo", "a\r\nInjected: 1")])
    assert received["x-echo"] == "a\r\nInjected: 1"  # kept as received
    with pytest.raises(hookwire.InvalidHeader):
        hookwire.Request("GET", "http://h/", headers=received)
    with pytest.raises(hookwire.InvalidHeader):
        received.copy()


# pragma: allowlist nextline secret
@pytest.mark.parametrize("url", ["//\r[", "http://[::1", "http://u:pw@[::1/x", "http://h:port/"])
def test_unparseable_urls_raise_invalid_url_without_leaking(url: str) -> None:
    """Found by the fuzz suite: urlsplit's bare ValueError escaped while building the message."""
    with hookwire.Client() as client, pytest.raises(hookwire.InvalidURL) as info:
        client.build_request("GET", url)
    assert "pw" not in str(info.value)
    with hookwire.Client(base_url="http://h/") as client, pytest.raises(hookwire.InvalidURL):
        client.build_request("GET", url)


def test_content_takes_an_iterator_of_bytes_as_a_stream_and_names_a_wrong_type(
    mock_server,  # type: ignore[no-untyped-def]
) -> None:
    """``content=`` a generator used to die in ``bytes(generator)`` with a TypeError that
    named nothing the caller passed; it streams now, as httpx's ``content=`` does."""
    with hookwire.Client() as client:
        request = client.build_request("POST", "http://h/", content=iter([b"a", b"b"]))
        assert request.content is None and request.stream is not None
        sent = client.post(mock_server.join("/post"), content=(p for p in (b"ab", b"cd")))
        assert sent.json()["data"] == "abcd"
        with pytest.raises(hookwire.InvalidRequest, match=r"content= must be bytes.*int"):
            client.build_request("POST", "http://h/", content=12)  # type: ignore[arg-type]
