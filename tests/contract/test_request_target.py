"""The request target reaches the server as the client built it, on every transport.

A URL's escapes are the caller's: ``%41`` and ``%7e`` in a signed URL (an S3 presigned link,
an HMAC-signed webhook) must arrive as sent, or the signature no longer matches. Libraries that
requote a URL decode escapes of unreserved characters (requests: ``%7e`` to ``~``; aiohttp's
yarl as well, and it writes a space in the query as ``+``). The transports hand an ASCII URL
over with only what cannot go on a request line escaped (``_common.as_sent``). One difference
is left: urllib3, under the requests transport, writes the hex digits of an escape in upper
case (``%7e`` as ``%7E``), which RFC 3986 section 6.2.2.1 makes the same URI. (A stray ``%``
that starts no escape goes out as ``%25`` on requests and aiohttp and as it is on httpx and
pyreqwest: not pinned here.)
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests._raw_server import RawServer, read_head

pytestmark = pytest.mark.network

_OK = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok"


@pytest.fixture(scope="module")
def recording() -> Iterator[tuple[RawServer, list[bytes]]]:
    lines: list[bytes] = []

    def handle(conn: object) -> None:
        head = read_head(conn)  # type: ignore[arg-type]
        lines.append(head.split(b"\r\n", 1)[0])
        conn.sendall(_OK)  # type: ignore[attr-defined]

    with RawServer(handle) as server:
        yield server, lines


@pytest.mark.parametrize(
    ("path", "target"),
    [
        pytest.param(
            "/a%41b/%7e/x%2Fy?q=a%20b&p=1+2&s=%7E&t=a%2Bb",
            "/a%41b/%7e/x%2Fy?q=a%20b&p=1+2&s=%7E&t=a%2Bb",
            id="escapes-kept",
        ),
        pytest.param("/sp ace?q=a b", "/sp%20ace?q=a%20b", id="unsafe-escaped"),
        pytest.param("/ü?q=ü", "/%C3%BC?q=%C3%BC", id="non-ascii-utf8"),
    ],
)
def test_the_request_line_carries_the_url_as_built(
    make_client, recording: tuple[RawServer, list[bytes]], path: str, target: str
) -> None:
    server, lines = recording
    client = make_client()
    lines.clear()
    response = client.get(server.url + path)
    assert response.status_code == 200
    assert len(lines) == 1
    method, sent, version = lines[0].decode("ascii").split(" ")
    assert (method, version) == ("GET", "HTTP/1.1")
    if client.case.transport == "requests":
        assert sent == target.replace("%7e", "%7E")  # urllib3 upper-cases escape digits
    else:
        assert sent == target


def test_a_redirect_to_a_location_with_credentials_keeps_the_callers_auth(make_client) -> None:
    """``Location: http://u:p@host/next``: the next request goes to ``/next`` with the
    caller's own Authorization; the server's user:password is neither used nor sent. The
    client strips it (``_redirects.redirect_url``); the aiohttp transport also strips a
    URL's userinfo itself, for a request handed to it directly."""
    heads: list[bytes] = []

    def handle(conn: object) -> None:
        head = read_head(conn)  # type: ignore[arg-type]
        heads.append(head)
        if head.startswith(b"GET /start "):
            port = server.url.rsplit(":", 1)[1]
            conn.sendall(  # type: ignore[attr-defined]
                b"HTTP/1.1 302 Found\r\nLocation: http://u:p@127.0.0.1:%s/next\r\n"
                b"Content-Length: 0\r\nConnection: close\r\n\r\n" % port.encode()
            )
        else:
            conn.sendall(_OK)  # type: ignore[attr-defined]

    with RawServer(handle) as server:
        client = make_client(headers={"Authorization": "Bearer tok"})
        response = client.get(server.url + "/start")
    assert response.status_code == 200
    assert len(heads) == 2
    second = heads[1].lower()
    assert second.startswith(b"get /next ")
    assert b"authorization: bearer tok\r\n" in second
    assert b"basic" not in second
