"""The native transport's sync face (``native_sync``) on real loopback sockets, plus TLS inside
TLS on the async face.

The contract and fault matrix run ``native-sync`` like every other case; these check what a
blocking-socket pool must get right on its own: one connection for sequential requests, a
request's ``Connection: close`` and an unread body each spending theirs, the in-flight bound
across threads, a ``CONNECT`` tunnel, an early reply to an upload, and the TLS-in-TLS case the
sync face refuses (and the async face serves).
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import socketserver
import ssl
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

import hookwire
from hookwire import errors
from tests._raw_server import RawServer, read_head

pytest.importorskip("httptools")

pytestmark = [pytest.mark.network, pytest.mark.timeout(15)]

_PASSWORD = "tunnel-secret"  # pragma: allowlist secret


class _Threaded:
    """A loopback server with a thread per connection (``RawServer`` serves one at a time,
    which would serialise a pool's connections); ``handle(conn)`` runs on each, TLS already
    wrapped when ``tls`` is given. ``url`` has no trailing slash."""

    def __init__(self, handle: Any, *, tls: ssl.SSLContext | None = None) -> None:
        self._handle = handle
        self._tls = tls
        self._server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), self._make_handler())
        # Not daemon threads: server_close() joins every handler (block_on_close), so none
        # outlives the test and trips another test's thread count.
        self._server.daemon_threads = False
        self._server.block_on_close = True
        self.port = self._server.server_address[1]
        self.url = f"{'https' if tls else 'http'}://127.0.0.1:{self.port}"
        self._serving = threading.Thread(target=self._server.serve_forever, args=(0.05,))
        self._serving.start()

    def _make_handler(self) -> type[socketserver.BaseRequestHandler]:
        outer = self

        class Handler(socketserver.BaseRequestHandler):
            def handle(self) -> None:
                conn: socket.socket = self.request
                conn.settimeout(5)
                with contextlib.suppress(OSError):
                    if outer._tls is not None:
                        conn = outer._tls.wrap_socket(conn, server_side=True)
                    outer._handle(conn)
                with contextlib.suppress(OSError):
                    conn.close()

        return Handler

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._serving.join(5)


class _KeepAlive:
    """A keep-alive HTTP/1.1 server: answers every request on a connection with ``ok`` and
    counts the connections it accepted."""

    def __init__(self, *, tls: ssl.SSLContext | None = None) -> None:
        self.accepted = 0
        self.hung_up = 0
        self.lines: list[bytes] = []
        self._lock = threading.Lock()
        self.server = _Threaded(self._handle, tls=tls)
        self.url = self.server.url

    def _handle(self, conn: socket.socket) -> None:
        with self._lock:
            self.accepted += 1
        try:
            self._serve(conn)
        finally:
            with self._lock:
                self.hung_up += 1  # the client closed (or the server gave up on) it

    def _serve(self, conn: socket.socket) -> None:
        while True:
            head = read_head(conn)
            if not head:
                return
            with self._lock:
                self.lines.append(head.split(b"\r\n", 1)[0])
            length = 0
            for line in head.split(b"\r\n"):
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":", 1)[1])
            body = head.split(b"\r\n\r\n", 1)[1]
            while len(body) < length:
                more = conn.recv(65536)
                if not more:
                    return  # the client gave up on this body
                body += more
            closing = b"connection: close" in head.lower()
            conn.sendall(
                b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n"
                + (b"Connection: close\r\n" if closing else b"")
                + b"\r\nok"
            )
            if closing:
                return

    def close(self) -> None:
        self.server.close()


@pytest.fixture
def keep_alive() -> Iterator[_KeepAlive]:
    server = _KeepAlive()
    yield server
    server.close()


def _client(**kwargs: Any) -> hookwire.Client:
    return hookwire.Client(transport="native", **kwargs)


def test_sequential_requests_share_one_connection(keep_alive: _KeepAlive) -> None:
    with _client() as client:
        for i in range(5):
            assert client.get(f"{keep_alive.url}/n/{i}").text == "ok"
    assert keep_alive.accepted == 1
    assert keep_alive.lines == [f"GET /n/{i} HTTP/1.1".encode() for i in range(5)]


def test_a_request_saying_connection_close_spends_its_connection(keep_alive: _KeepAlive) -> None:
    with _client() as client:
        client.get(keep_alive.url + "/a", headers={"Connection": "close"})
        client.get(keep_alive.url + "/b")
        client.get(keep_alive.url + "/c")
    assert keep_alive.accepted == 2  # /a's connection was not kept; /b and /c share one


def test_an_unread_body_spends_its_connection() -> None:
    body = b"x" * 200_000

    def handle(conn: socket.socket) -> None:
        while read_head(conn):
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(body) + body)

    accepted = []

    def counting(conn: socket.socket) -> None:
        accepted.append(1)
        with contextlib.suppress(OSError):
            handle(conn)

    with RawServer(counting) as server, _client() as client:
        with client.stream("GET", server.url + "/big") as response:
            assert len(next(response.iter_bytes())) > 0  # one chunk, then abandon the rest
        assert client.get(server.url + "/big").content == body
    assert len(accepted) == 2


def test_the_in_flight_bound_holds_across_threads(keep_alive: _KeepAlive) -> None:
    with _client(max_connections=1, timeout=hookwire.Timeout(pool=0.3)) as client:
        with client.stream("GET", keep_alive.url + "/held"):
            started = time.monotonic()
            with pytest.raises(errors.PoolTimeout):
                client.get(keep_alive.url + "/waits")
            assert time.monotonic() - started < 5
        assert client.get(keep_alive.url + "/after").text == "ok"  # the slot came back


def test_at_the_bound_an_idle_connection_of_another_origin_makes_room() -> None:
    servers = [_KeepAlive() for _ in range(3)]
    try:
        with _client(max_connections=2) as client:
            for server in servers:
                assert client.get(server.url + "/").text == "ok"
            deadline = time.monotonic() + 5
            while servers[0].hung_up == 0 and time.monotonic() < deadline:
                time.sleep(0.01)
            # The first origin's idle connection was closed to open the third's; the other
            # two stay pooled (and are used again without a new connect).
            assert [s.hung_up for s in servers] == [1, 0, 0]
            assert client.get(servers[2].url + "/again").text == "ok"
            assert [s.accepted for s in servers] == [1, 1, 1]
    finally:
        for server in servers:
            server.close()


def test_threads_share_the_pool_without_losing_a_request(keep_alive: _KeepAlive) -> None:
    results: list[str] = []
    lock = threading.Lock()
    with _client(max_connections=4) as client:

        def work(t: int) -> None:
            for i in range(15):
                text = client.get(f"{keep_alive.url}/t{t}/{i}").text
                with lock:
                    results.append(text)

        threads = [threading.Thread(target=work, args=(t,)) for t in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(10)
    assert results == ["ok"] * 120
    assert keep_alive.accepted <= 4 * 2  # at most max_connections in flight, plus replacements
    assert len(set(keep_alive.lines)) == 120  # each request reached the server exactly once


def test_an_early_reply_to_an_upload_is_returned() -> None:
    def reject(conn: socket.socket) -> None:
        read_head(conn)
        conn.sendall(
            b"HTTP/1.1 413 Content Too Large\r\nContent-Length: 4\r\nConnection: close\r\n\r\nbig!"
        )
        conn.shutdown(socket.SHUT_RDWR)

    def body() -> Iterator[bytes]:
        for _ in range(400):
            yield b"x" * 65536  # 25 MiB, far more than the socket buffers hold

    with RawServer(reject) as server, _client() as client:
        response = client.post(server.url + "/upload", content=body())
    assert (response.status_code, response.content) == (413, b"big!")


# -- CONNECT tunnels ----------------------------------------------------------------------------


class _ThreadedConnectProxy:
    """A CONNECT proxy, a thread per connection (TLS to the client when ``tls`` is given);
    records each CONNECT head, then pipes bytes both ways."""

    def __init__(self, *, tls: ssl.SSLContext | None = None) -> None:
        self.heads: list[bytes] = []
        self.server = _Threaded(self._handle, tls=tls)
        self.port = self.server.port
        self.scheme = "https" if tls is not None else "http"

    def _handle(self, conn: socket.socket) -> None:
        head = read_head(conn)
        self.heads.append(head)
        host, _, port = head.split(b" ")[1].rpartition(b":")
        upstream = socket.create_connection((host.decode(), int(port)), timeout=5)
        conn.sendall(b"HTTP/1.1 200 Connection Established\r\n\r\n")

        def pipe(src: socket.socket, dst: socket.socket) -> None:
            with contextlib.suppress(OSError):
                while data := src.recv(65536):
                    dst.sendall(data)
            with contextlib.suppress(OSError):
                dst.shutdown(socket.SHUT_WR)

        back = threading.Thread(target=pipe, args=(upstream, conn))
        back.start()
        pipe(conn, upstream)
        back.join(5)
        upstream.close()

    def url(self) -> str:
        return f"{self.scheme}://pu:{_PASSWORD}@127.0.0.1:{self.port}"

    def close(self) -> None:
        self.server.close()


@pytest.fixture(scope="module")
def pki() -> Iterator[tuple[ssl.SSLContext, str]]:
    trustme = pytest.importorskip("trustme")
    ca = trustme.CA()
    server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ca.issue_cert("127.0.0.1", "localhost").configure_cert(server)
    with ca.cert_pem.tempfile() as ca_file:
        yield server, ca_file


def test_https_through_a_plain_proxy_is_a_tunnel_on_the_sync_face(
    pki: tuple[ssl.SSLContext, str],
) -> None:
    server_tls, ca_file = pki
    origin = _KeepAlive(tls=server_tls)
    proxy = _ThreadedConnectProxy()
    try:
        with _client(verify=ca_file, proxy=proxy.url(), trust_env=False) as client:
            for _ in range(2):
                assert client.get(origin.url + "/secret?token=abc").text == "ok"
        assert len(proxy.heads) == 1  # the tunnel was pooled and reused
        first = proxy.heads[0].split(b"\r\n")
        assert first[0] == f"CONNECT 127.0.0.1:{origin.url.rsplit(':', 1)[1]} HTTP/1.1".encode()
        assert any(line.startswith(b"Proxy-Authorization: Basic ") for line in first)
        assert b"token" not in proxy.heads[0]
        assert origin.lines == [b"GET /secret?token=abc HTTP/1.1"] * 2
    finally:
        proxy.close()
        origin.close()


def test_tls_inside_tls_is_refused_by_the_sync_face_naming_why(
    pki: tuple[ssl.SSLContext, str],
) -> None:
    server_tls, ca_file = pki
    proxy = _ThreadedConnectProxy(tls=server_tls)
    try:
        with (
            _client(verify=ca_file, proxy=proxy.url(), trust_env=False) as client,
            pytest.raises(errors.ProxyError, match="TLS in TLS") as info,
        ):
            client.get("https://127.0.0.1:9/")
        assert _PASSWORD not in str(info.value)
        assert proxy.heads == []  # refused before anything was sent
    finally:
        proxy.close()


async def _tls_connect_proxy(
    context: ssl.SSLContext, heads: list[bytes]
) -> tuple[asyncio.AbstractServer, int]:
    """A CONNECT proxy spoken to over TLS, on the running loop (one task per direction: an
    SSL connection must not be read and written from two threads at once, as a threaded pipe
    would)."""

    async def pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(ConnectionError, ssl.SSLError):
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        writer.close()

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        heads.append(head)
        host, _, port = head.split(b" ")[1].rpartition(b":")
        up_reader, up_writer = await asyncio.open_connection(host.decode(), int(port))
        writer.write(b"HTTP/1.1 200 Connection Established\r\n\r\n")
        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))

    server = await asyncio.start_server(handle, "127.0.0.1", 0, ssl=context)
    return server, server.sockets[0].getsockname()[1]


def test_tls_inside_tls_works_on_the_async_face(pki: tuple[ssl.SSLContext, str]) -> None:
    server_tls, ca_file = pki
    origin = _KeepAlive(tls=server_tls)
    heads: list[bytes] = []

    async def main() -> list[str]:
        proxy, port = await _tls_connect_proxy(server_tls, heads)
        url = f"https://pu:{_PASSWORD}@127.0.0.1:{port}"
        try:
            async with hookwire.AsyncClient(
                transport="native", verify=ca_file, proxy=url, trust_env=False
            ) as client:
                return [(await client.get(origin.url + f"/in/{i}")).text for i in range(2)]
        finally:
            proxy.close()

    try:
        assert asyncio.run(main()) == ["ok", "ok"]
        assert len(heads) == 1 and heads[0].startswith(b"CONNECT 127.0.0.1:")
        assert b"Proxy-Authorization: Basic " in heads[0]
        assert origin.lines == [b"GET /in/0 HTTP/1.1", b"GET /in/1 HTTP/1.1"]
    finally:
        origin.close()


@pytest.mark.parametrize("size", [3, 8], ids=["short", "long"])
def test_a_streamed_body_that_breaks_its_content_length_is_refused(
    keep_alive: _KeepAlive, size: int
) -> None:
    with _client(timeout=hookwire.Timeout(read=2)) as client:
        with pytest.raises(errors.InvalidRequest, match="Content-Length") as info:
            client.post(
                keep_alive.url + "/cl", content=iter([b"x" * size]), headers={"Content-Length": "5"}
            )
        assert "5" in str(info.value) and info.value.__class__ is errors.InvalidRequest
        assert client.get(keep_alive.url + "/next").text == "ok"
    # On a fresh connection: the refused one was closed, never reused for /next. (The two
    # server threads append their lines in either order.)
    assert b"GET /next HTTP/1.1" in keep_alive.lines
    deadline = time.monotonic() + 5
    while keep_alive.hung_up < 2 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert (keep_alive.accepted, keep_alive.hung_up) == (2, 2)
