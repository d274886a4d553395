"""Review of the aiohttp transport on aiohttp's connection layer (commit 1ea29ce).

The transport builds ``aiohttp.ClientRequest`` itself and drives ``connector.connect``,
``send`` and ``start`` as ``ClientSession._request`` does for one exchange. These tests check,
against a real loopback ``asyncio`` server that records each request head, what the session
used to give: cleanup on timeout and cancellation (nothing left checked out of aiohttp's pool,
every in-flight slot back), the request line and headers for odd but valid URLs, 1xx, HEAD,
``Connection: close``, proxies, and the error mapping. Four of them first failed there: a
URL's ``user:password@`` became aiohttp's basic auth over the request's own Authorization and
reached a plain-http proxy on the request line, a non-http scheme went out as HTTP, and a
streamed body with its own ``Transfer-Encoding: chunked`` was refused; the transport now
strips the userinfo, refuses the scheme and lets aiohttp frame the stream.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest

import hookwire
from hookwire import errors
from hookwire.plugin import Request

pytest.importorskip("aiohttp")
aiohttp_transport = pytest.importorskip("hookwire.plugins.transports.aiohttp_transport")
AiohttpTransport = aiohttp_transport.AiohttpTransport

pytestmark = [pytest.mark.network, pytest.mark.timeout(10)]

_OK_CLOSE = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok"
_OK_KEEP = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
#: The headers hookwire's clients always carry, so aiohttp adds none of its own.
_HEADERS = {"User-Agent": "review", "Accept": "*/*"}

Reply = Callable[[bytes, asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


async def _read_head(reader: asyncio.StreamReader) -> bytes:
    head = b""
    while b"\r\n\r\n" not in head:
        data = await reader.read(65536)
        if not data:
            break
        head += data
    return head


class _Server:
    """A loopback server: records every request head, answers with ``reply``."""

    def __init__(self, reply: Reply | bytes = _OK_CLOSE, host: str = "127.0.0.1") -> None:
        self._reply = reply
        self._host = host
        self.heads: list[bytes] = []
        self._server: asyncio.AbstractServer | None = None
        self._handlers: set[asyncio.Task[None]] = set()

    async def __aenter__(self) -> _Server:
        self._server = await asyncio.start_server(self._handle, self._host, 0)
        self.port = self._server.sockets[0].getsockname()[1]
        host = f"[{self._host}]" if ":" in self._host else self._host
        self.url = f"http://{host}:{self.port}"
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.close()
        for task in list(self._handlers):
            task.cancel()
        for task in list(self._handlers):
            with contextlib.suppress(BaseException):
                await task

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._handlers.add(task)
        try:
            while True:
                head = await _read_head(reader)
                if not head:
                    return
                self.heads.append(head.split(b"\r\n\r\n")[0])
                if isinstance(self._reply, bytes):
                    writer.write(self._reply)
                    await writer.drain()
                    if b"Connection: close" in self._reply:
                        return
                else:
                    await self._reply(head, reader, writer)
                    return
        except (OSError, asyncio.IncompleteReadError):
            pass
        finally:
            self._handlers.discard(task)
            writer.close()

    def request_line(self, i: int = -1) -> bytes:
        return self.heads[i].split(b"\r\n")[0]

    def header(self, name: str, i: int = -1) -> list[bytes]:
        wanted = name.lower().encode()
        out = []
        for line in self.heads[i].split(b"\r\n")[1:]:
            key, _, value = line.partition(b":")
            if key.strip().lower() == wanted:
                out.append(value.strip())
        return out


async def _never_answer(head: bytes, reader: asyncio.StreamReader, w: Any) -> None:
    """Read the request (body included) until the client hangs up; never reply."""
    while await reader.read(65536):
        pass


async def _settle() -> None:
    for _ in range(10):
        await asyncio.sleep(0)


def _nothing_checked_out(transport: Any) -> None:
    """No connection left acquired in aiohttp's pool, every in-flight slot free again."""
    assert len(transport._connector._acquired) == 0
    assert transport._slots.try_take()
    transport._slots.release()
    assert transport._slots._free == transport._options.max_connections


async def _send(transport: Any, method: str, url: str, **kw: Any) -> tuple[Any, bytes]:
    response = await transport.handle_async_request(
        Request(method, url, headers=kw.pop("headers", _HEADERS), **kw)
    )
    chunks = [chunk async for chunk in response._stream]
    return response, b"".join(chunks)


# --- problems: what the session did and the connection layer no longer does ------------------


async def _redirect_to_userinfo(head: bytes, reader: Any, writer: asyncio.StreamWriter) -> None:
    port = writer.get_extra_info("sockname")[1]
    if b"/start " in head.split(b"\r\n")[0]:
        writer.write(
            b"HTTP/1.1 302 Found\r\nLocation: http://u:p@127.0.0.1:%d/next\r\n"
            b"Content-Length: 0\r\nConnection: close\r\n\r\n" % port
        )
    else:
        writer.write(_OK_CLOSE)
    await writer.drain()


async def test_a_redirect_to_a_userinfo_url_keeps_the_callers_authorization() -> None:
    async with (
        _Server(_redirect_to_userinfo) as server,
        hookwire.AsyncClient(
            transport="aiohttp", headers={"Authorization": "Bearer tok"}
        ) as client,
    ):
        response = await client.get(server.url + "/start")
    assert response.status_code == 200
    assert server.request_line(1).startswith(b"GET /next ")
    assert server.header("authorization", 1) == [b"Bearer tok"]


async def test_userinfo_never_reaches_a_proxys_request_line() -> None:
    async with (
        _Server(_redirect_to_userinfo) as server,
        hookwire.AsyncClient(transport="aiohttp", proxy=server.url) as client,
    ):
        response = await client.get(server.url + "/start")
    assert response.status_code == 200
    assert server.request_line(1) == f"GET {server.url}/next HTTP/1.1".encode()


async def test_a_non_http_url_handed_to_the_transport_is_refused_unsent() -> None:
    async with _Server() as server:
        transport = AiohttpTransport()
        try:
            with pytest.raises(errors.InvalidURL):
                await _send(transport, "GET", f"ftp://127.0.0.1:{server.port}/x")
        finally:
            await transport.aclose()
        assert server.heads == []


async def test_an_explicit_chunked_header_with_a_streamed_body_is_sent() -> None:
    async def body() -> AsyncIterator[bytes]:
        yield b"ab"

    async with _Server() as server:
        transport = AiohttpTransport()
        try:
            headers = {**_HEADERS, "Transfer-Encoding": "chunked"}
            _, reply = await _send(
                transport, "POST", server.url + "/te", headers=headers, stream=body()
            )
        finally:
            await transport.aclose()
    assert reply == b"ok"
    assert server.header("transfer-encoding") == [b"chunked"]


# --- behaviour worth keeping ---------------------------------------------------------------


async def test_a_head_deadline_mid_exchange_leaves_nothing_checked_out() -> None:
    async with _Server(_never_answer) as server:
        transport = AiohttpTransport()
        try:
            timeout = hookwire.Timeout(first_byte=0.2)
            with pytest.raises(errors.ReadTimeout):
                await transport.handle_async_request(
                    Request(
                        "GET", server.url + "/", headers=_HEADERS, extensions={"timeout": timeout}
                    )
                )
            await _settle()
            _nothing_checked_out(transport)
        finally:
            await transport.aclose()


async def test_a_cancelled_exchange_leaves_nothing_checked_out() -> None:
    async with _Server(_never_answer) as server:
        transport = AiohttpTransport()
        try:
            task = asyncio.create_task(
                transport.handle_async_request(Request("GET", server.url + "/", headers=_HEADERS))
            )
            while not server.heads:  # cancelled while waiting for the head
                await asyncio.sleep(0.01)
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            await _settle()
            _nothing_checked_out(transport)
        finally:
            await transport.aclose()


async def test_a_head_deadline_while_a_streamed_body_is_sent_stops_the_writer() -> None:
    finished: list[bool] = []

    async def slow_body() -> AsyncIterator[bytes]:
        try:
            for _ in range(200):
                yield b"x" * 10
                await asyncio.sleep(0.02)
        finally:
            finished.append(True)

    async with _Server(_never_answer) as server:
        transport = AiohttpTransport()
        try:
            request = Request(
                "POST",
                server.url + "/upload",
                headers=_HEADERS,
                stream=slow_body(),
                extensions={"timeout": hookwire.Timeout(first_byte=0.2)},
            )
            with pytest.raises(errors.ReadTimeout):
                await transport.handle_async_request(request)
            await _settle()
            _nothing_checked_out(transport)
            assert finished == [True]  # the body generator was closed, not left suspended
            assert asyncio.all_tasks() == {asyncio.current_task()}  # no writer task left
        finally:
            await transport.aclose()


async def test_the_request_line_for_odd_but_valid_urls() -> None:
    async with _Server() as server:
        transport = AiohttpTransport()
        try:
            await _send(transport, "GET", server.url)  # no path at all
            assert server.request_line() == b"GET / HTTP/1.1"
            await _send(transport, "GET", server.url + "/a%2Fb/c d?x=1#frag")
            # %2F kept (not a path separator), the space quoted, the fragment never sent
            assert server.request_line() == b"GET /a%2Fb/c%20d?x=1 HTTP/1.1"
            assert server.header("host") == [f"127.0.0.1:{server.port}".encode()]
        finally:
            await transport.aclose()


async def test_an_ipv6_literal_goes_in_brackets_in_the_host_header() -> None:
    if not socket.has_ipv6:
        pytest.skip("no IPv6")
    try:
        server = _Server(host="::1")
        await server.__aenter__()
    except OSError:
        pytest.skip("no IPv6 loopback")
    try:
        transport = AiohttpTransport()
        try:
            _, body = await _send(transport, "GET", server.url + "/v6")
        finally:
            await transport.aclose()
    finally:
        await server.__aexit__()
    assert body == b"ok"
    assert server.request_line() == b"GET /v6 HTTP/1.1"
    assert server.header("host") == [f"[::1]:{server.port}".encode()]


async def test_only_the_requests_headers_reach_the_wire() -> None:
    async with _Server() as server:
        transport = AiohttpTransport()
        try:
            await _send(transport, "POST", server.url + "/p", headers={}, content=b"abc")
        finally:
            await transport.aclose()
    names = sorted(line.split(b":")[0].lower() for line in server.heads[0].split(b"\r\n")[1:])
    # aiohttp adds no User-Agent, Accept or Content-Type of its own
    assert names == [b"accept-encoding", b"content-length", b"host"]
    assert server.header("content-length") == [b"3"]


async def test_an_async_iterable_body_goes_chunked() -> None:
    async def body() -> AsyncIterator[bytes]:
        yield b"ab"
        yield b"cd"

    async def echo_chunked(head: bytes, reader: asyncio.StreamReader, writer: Any) -> None:
        got = head.split(b"\r\n\r\n", 1)[1]  # what came with the head
        while not got.endswith(b"0\r\n\r\n"):
            got += await reader.read(65536)
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(got), got))
        await writer.drain()

    async with _Server(echo_chunked) as server:
        transport = AiohttpTransport()
        try:
            _, echoed = await _send(transport, "POST", server.url + "/s", stream=body())
            _nothing_checked_out(transport)
        finally:
            await transport.aclose()
    assert server.header("transfer-encoding") == [b"chunked"]
    assert echoed == b"2\r\nab\r\n2\r\ncd\r\n0\r\n\r\n"


async def test_expect_100_continue_sends_the_body_after_the_interim_response() -> None:
    async def continue_then_ok(head: bytes, reader: asyncio.StreamReader, writer: Any) -> None:
        writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")
        await writer.drain()
        body = await reader.readexactly(4)
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 4\r\nConnection: close\r\n\r\n" + body)
        await writer.drain()

    async with _Server(continue_then_ok) as server:
        transport = AiohttpTransport()
        try:
            response, body = await _send(
                transport,
                "POST",
                server.url + "/e",
                headers={**_HEADERS, "Expect": "100-continue", "Content-Length": "4"},
                content=b"abcd",
            )
            await _settle()
            _nothing_checked_out(transport)
        finally:
            await transport.aclose()
    assert response.status_code == 200  # the 100 is not the response
    assert body == b"abcd"


async def test_a_head_response_has_no_body_and_its_connection_is_reused() -> None:
    reply = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n"
    async with _Server(reply) as server:
        transport = AiohttpTransport()
        try:
            for _ in range(2):
                response, body = await _send(transport, "HEAD", server.url + "/h")
                assert response.status_code == 200
                assert response.headers["content-length"] == "5"
                assert body == b""
            _nothing_checked_out(transport)
            assert sum(len(c) for c in transport._connector._conns.values()) == 1
        finally:
            await transport.aclose()
    assert len(server.heads) == 2


async def test_a_connection_close_response_is_not_pooled() -> None:
    async with _Server(_OK_CLOSE) as server:
        transport = AiohttpTransport()
        try:
            _, body = await _send(transport, "GET", server.url + "/c")
            _, body2 = await _send(transport, "GET", server.url + "/c")
            assert body == body2 == b"ok"
            _nothing_checked_out(transport)
            assert not transport._connector._conns
        finally:
            await transport.aclose()


async def test_an_http_proxy_gets_the_absolute_form_and_the_proxy_credentials() -> None:
    async with _Server(_OK_KEEP) as proxy:
        transport = AiohttpTransport()
        proxy_url = f"http://pu:pw@127.0.0.1:{proxy.port}"  # pragma: allowlist secret
        try:
            target = "http://example.invalid:8080/p?q=1"
            _, body = await _send(transport, "GET", target, extensions={"proxy": proxy_url})
        finally:
            await transport.aclose()
    assert body == b"ok"
    assert proxy.request_line() == b"GET http://example.invalid:8080/p?q=1 HTTP/1.1"
    assert proxy.header("proxy-authorization") == [b"Basic cHU6cHc="]
    assert proxy.header("authorization") == []
    assert proxy.header("host") == [b"example.invalid:8080"]


async def test_https_through_a_proxy_opens_a_tunnel_with_connect() -> None:
    reply = b"HTTP/1.1 407 Proxy Authentication Required\r\nContent-Length: 0\r\n\r\n"
    async with _Server(reply) as proxy:
        transport = AiohttpTransport()
        proxy_url = f"http://pu:pw@127.0.0.1:{proxy.port}"  # pragma: allowlist secret
        try:
            with pytest.raises(errors.ProxyError):
                await _send(
                    transport,
                    "GET",
                    "https://example.invalid/secret?token=x",
                    extensions={"proxy": proxy_url},
                )
            await _settle()
            _nothing_checked_out(transport)
        finally:
            await transport.aclose()
    assert proxy.request_line() == b"CONNECT example.invalid:443 HTTP/1.1"
    assert proxy.header("proxy-authorization") == [b"Basic cHU6cHc="]
    assert b"secret" not in proxy.heads[0]  # the path never goes to the proxy in clear


async def test_connection_errors_map_to_the_sdk_tree() -> None:
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    closed = f"http://127.0.0.1:{port}/"

    async def hang_up(head: bytes, reader: Any, writer: Any) -> None:
        return  # close without a response

    transport = AiohttpTransport()
    try:
        with pytest.raises(errors.ConnectError):
            await _send(transport, "GET", closed)
        with pytest.raises(errors.ProxyError):
            await _send(transport, "GET", "http://example.invalid/", extensions={"proxy": closed})
        with pytest.raises(errors.InvalidURL):
            await _send(transport, "GET", "http:///no-host")
        with pytest.raises(errors.InvalidURL):
            await _send(transport, "GET", "http://[::1/bad-literal")
        async with _Server(hang_up) as server:
            with pytest.raises(errors.ReadError):
                await _send(transport, "GET", server.url + "/")
        _nothing_checked_out(transport)
    finally:
        await transport.aclose()


def test_raw_socket_errors_from_the_connection_layer_map_to_read_errors() -> None:
    """What ClientSession wrapped in ClientOSError now arrives as it is."""
    request = Request("GET", "http://127.0.0.1/")
    for exc in (ConnectionResetError(104, "reset"), BrokenPipeError(32, "pipe")):
        mapped = aiohttp_transport.map_error(exc, request, None)
        assert isinstance(mapped, errors.ReadError), exc
        assert mapped.request is request
    # A local error is not the server hanging up.
    local = aiohttp_transport.map_error(FileNotFoundError(2, "no such file"), request, None)
    assert not isinstance(local, errors.ReadError)
    mapped = aiohttp_transport.map_error(asyncio.TimeoutError(), request, None)
    assert isinstance(mapped, errors.ReadTimeout)


async def test_a_connect_that_never_completes_is_a_connect_timeout() -> None:
    """``asyncio.TimeoutError`` from ``connector.connect`` (the session's
    ConnectionTimeoutError) is a ConnectTimeout, and leaves nothing checked out."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(0)
    fillers = []
    try:
        for _ in range(4):  # fill the accept backlog: further SYNs go unanswered
            filler = socket.socket()
            filler.setblocking(False)
            with contextlib.suppress(BlockingIOError):
                filler.connect(listener.getsockname())
            fillers.append(filler)
        transport = AiohttpTransport()
        try:
            request = Request(
                "GET",
                f"http://127.0.0.1:{listener.getsockname()[1]}/",
                headers=_HEADERS,
                extensions={"timeout": hookwire.Timeout(connect=0.3)},
            )
            with pytest.raises(errors.ConnectTimeout):
                await transport.handle_async_request(request)
            _nothing_checked_out(transport)
        finally:
            await transport.aclose()
    finally:
        for filler in fillers:
            filler.close()
        listener.close()


async def test_a_requests_own_tls_setting_gets_its_own_context() -> None:
    import ssl

    trustme = pytest.importorskip("trustme")
    from hookwire.transports import TLSSettings

    ca = trustme.CA()
    server_context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ca.issue_cert("127.0.0.1").configure_cert(server_context)

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(OSError, ssl.SSLError):
            if await _read_head(reader):
                writer.write(_OK_CLOSE)
                await writer.drain()
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0, ssl=server_context)
    url = f"https://127.0.0.1:{server.sockets[0].getsockname()[1]}/"
    with contextlib.ExitStack() as stack:
        ca_file = stack.enter_context(ca.cert_pem.tempfile())
        transport = AiohttpTransport()  # the default: certifi, which does not know this CA
        try:
            with pytest.raises(errors.TLSError):
                await _send(transport, "GET", url)
            own = {"tls": TLSSettings(ca_file, None)}
            _, body = await _send(transport, "GET", url, extensions=own)
            assert body == b"ok"
            _, body = await _send(
                transport, "GET", url, extensions={"tls": TLSSettings(False, None)}
            )
            assert body == b"ok"
            _nothing_checked_out(transport)
        finally:
            await transport.aclose()
            server.close()


async def test_an_early_response_to_a_streamed_upload_stops_the_upload() -> None:
    finished: list[bool] = []

    async def endless() -> AsyncIterator[bytes]:
        try:
            while True:
                yield b"y" * 1000
                await asyncio.sleep(0.01)
        finally:
            finished.append(True)

    reply = b"HTTP/1.1 413 Too Large\r\nContent-Length: 4\r\nConnection: close\r\n\r\nbig!"

    async def early(head: bytes, reader: asyncio.StreamReader, writer: Any) -> None:
        writer.write(reply)
        await writer.drain()
        await asyncio.sleep(0.3)  # keep reading nothing while the client notices

    async with _Server(early) as server:
        transport = AiohttpTransport()
        try:
            response, body = await _send(transport, "POST", server.url + "/up", stream=endless())
            await _settle()
            assert (response.status_code, body) == (413, b"big!")
            _nothing_checked_out(transport)
            assert finished == [True]
        finally:
            await transport.aclose()


async def test_a_stalled_body_is_a_read_timeout_and_frees_its_connection() -> None:
    async def stall(head: bytes, reader: asyncio.StreamReader, writer: Any) -> None:
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc")
        await writer.drain()
        await reader.read(65536)  # until the client hangs up

    async with _Server(stall) as server:
        transport = AiohttpTransport()
        try:
            timeout = hookwire.Timeout(read=0.2)
            with pytest.raises(errors.ReadTimeout):
                await _send(transport, "GET", server.url + "/s", extensions={"timeout": timeout})
            await _settle()
            _nothing_checked_out(transport)
        finally:
            await transport.aclose()


async def test_a_pool_timeout_and_a_twice_closed_body_release_one_slot_each() -> None:
    from hookwire.transports import TransportOptions

    async with _Server(_OK_KEEP) as server:
        transport = AiohttpTransport(TransportOptions(max_connections=1))
        try:
            held = await transport.handle_async_request(
                Request("GET", server.url + "/a", headers=_HEADERS)
            )
            with pytest.raises(errors.PoolTimeout):
                await transport.handle_async_request(
                    Request(
                        "GET",
                        server.url + "/b",
                        headers=_HEADERS,
                        extensions={"timeout": hookwire.Timeout(pool=0.1)},
                    )
                )
            await held._stream.aclose()
            await held._stream.aclose()
            _nothing_checked_out(transport)  # one slot, not two
        finally:
            await transport.aclose()
