"""Review of the ``native`` transport (commit 44f06e3) against real loopback servers.

Every server here is an ``asyncio.start_server`` that records each request head (and body)
per connection and sends scripted bytes, so a test can say how many connections a sequence of
requests took, what went on the wire, and whether the client hung up (the server reads EOF).
What the contract matrix checks through the mock server (status, headers, bodies, faults) is
not repeated; this file is about the connection layer: reuse and its refusals, the pool bound,
cancellation, timeouts, flow control both ways, proxies and tunnels, and what errors say.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import socket
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import pytest

import hookwire
from hookwire import errors
from hookwire.plugin import Request
from hookwire.transports import TransportOptions

pytest.importorskip("httptools")
from hookwire.plugins.transports import _common
from hookwire.plugins.transports.native_transport import NativeTransport

pytestmark = [pytest.mark.network, pytest.mark.timeout(10)]

_HEADERS = {"User-Agent": "review", "Accept": "*/*"}
_OK = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
_OK_CLOSE = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok"


@dataclass
class _Exchange:
    """One request as the server read it, and the connection to answer on."""

    conn: int
    head: bytes
    body: bytes
    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter
    server: _Server

    @property
    def line(self) -> bytes:
        return self.head.split(b"\r\n", 1)[0]

    def header(self, name: str) -> list[bytes]:
        wanted = name.lower().encode()
        out = []
        for line in self.head.split(b"\r\n")[1:]:
            key, _, value = line.partition(b":")
            if key.strip().lower() == wanted:
                out.append(value.strip())
        return out


#: Answers one exchange; returns False to close the connection afterwards.
Reply = Callable[[_Exchange], Awaitable[bool]]


async def _read_message(reader: asyncio.StreamReader) -> tuple[bytes, bytes] | None:
    """One request: its head and its body (by Content-Length or chunked); None at EOF."""
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError:
        return None
    lines = head.lower().split(b"\r\n")
    length = next((int(x.split(b":")[1]) for x in lines if x.startswith(b"content-length:")), 0)
    if any(x.startswith(b"transfer-encoding:") and b"chunked" in x for x in lines):
        body = b""
        while True:
            size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
            body += (await reader.readexactly(size + 2))[:-2]
            if size == 0:
                return head[:-4], body
    return head[:-4], await reader.readexactly(length) if length else b""


@dataclass
class _Server:
    """A loopback HTTP/1.1 server: ``reply`` is fixed bytes or a coroutine per exchange."""

    reply: Reply | bytes = _OK
    host: str = "127.0.0.1"
    read_bodies: bool = True
    exchanges: list[_Exchange] = field(default_factory=list)
    accepted: int = 0
    #: Connections whose client hung up (the server read EOF or a reset on them).
    hung_up: list[int] = field(default_factory=list)
    _tasks: set[asyncio.Task[None]] = field(default_factory=set)

    async def __aenter__(self) -> _Server:
        self._server = await asyncio.start_server(self._handle, self.host, 0, **self._tls())
        self.port = self._server.sockets[0].getsockname()[1]
        shown = f"[{self.host}]" if ":" in self.host else self.host
        self.url = f"{self.scheme}://{shown}:{self.port}"
        return self

    scheme = "http"

    def _tls(self) -> dict[str, Any]:
        return {}

    async def __aexit__(self, *exc: object) -> None:
        self._server.close()
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(BaseException):
                await task

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        self.accepted += 1
        number = self.accepted
        try:
            while True:
                if self.read_bodies:
                    message = await _read_message(reader)
                else:
                    with contextlib.suppress(asyncio.IncompleteReadError):
                        message = (await reader.readuntil(b"\r\n\r\n"))[:-4], b""
                if message is None:
                    self.hung_up.append(number)
                    return
                exchange = _Exchange(number, message[0], message[1], reader, writer, self)
                self.exchanges.append(exchange)
                if isinstance(self.reply, bytes):
                    writer.write(self.reply)
                    await writer.drain()
                    if b"Connection: close" in self.reply:
                        return
                elif not await self.reply(exchange):
                    return
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
            self.hung_up.append(number)
        except asyncio.CancelledError:
            pass  # torn down by __aexit__ (asyncio logs a handler that ends cancelled)
        finally:
            self._tasks.discard(task)
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()

    @property
    def last(self) -> _Exchange:
        return self.exchanges[-1]

    def conns(self) -> list[int]:
        return [e.conn for e in self.exchanges]


async def _hang_until_hangup(ex: _Exchange) -> bool:
    """Never answer; return once the client hangs up (recorded as the server's own EOF)."""
    with contextlib.suppress(ConnectionError):
        while await ex.reader.read(65536):
            pass
    ex.server.hung_up.append(ex.conn)
    return False


def _request(method: str, url: str, **kw: Any) -> Request:
    timeout = kw.pop("timeout", None)
    extensions = kw.pop("extensions", {})
    if timeout is not None:
        extensions["timeout"] = timeout
    return Request(method, url, headers=kw.pop("headers", _HEADERS), extensions=extensions, **kw)


async def _fetch(transport: NativeTransport, method: str, url: str, **kw: Any) -> tuple[int, bytes]:
    response = await transport.handle_async_request(_request(method, url, **kw))
    return response.status_code, await response.aread()


def _all_free(transport: NativeTransport) -> None:
    """Every in-flight slot is back."""
    assert transport._slots._free == transport._options.max_connections
    assert not transport._slots._waiters


async def _settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


async def _until(predicate: Callable[[], bool]) -> None:
    """Yield to the loop until ``predicate`` holds (the test's own timeout bounds it)."""
    while not predicate():
        await asyncio.sleep(0.005)


@pytest.fixture
async def transport() -> AsyncIterator[NativeTransport]:
    t = NativeTransport(TransportOptions(max_connections=4, max_keepalive=4))
    try:
        yield t
    finally:
        await t.aclose()


# -- connection reuse -------------------------------------------------------------------------


async def test_sequential_requests_share_one_connection(transport: NativeTransport) -> None:
    async with _Server() as server:
        for _ in range(3):
            assert await _fetch(transport, "GET", server.url + "/a") == (200, b"ok")
        assert server.conns() == [1, 1, 1]
        assert len(transport._conns) == 1 and transport._idle_count == 1
        _all_free(transport)


async def test_connection_close_means_a_new_connection(transport: NativeTransport) -> None:
    async with _Server(_OK_CLOSE) as server:
        for _ in range(2):
            assert await _fetch(transport, "GET", server.url + "/c") == (200, b"ok")
        assert server.conns() == [1, 2]
        assert transport._idle_count == 0 and not transport._conns


async def test_an_abandoned_body_is_not_reused(transport: NativeTransport) -> None:
    big = b"HTTP/1.1 200 OK\r\nContent-Length: 300000\r\n\r\n" + b"x" * 300000

    async def reply(ex: _Exchange) -> bool:
        ex.writer.write(big if ex.line.startswith(b"GET /big") else _OK)
        await ex.writer.drain()
        return True

    async with _Server(reply) as server:
        response = await transport.handle_async_request(_request("GET", server.url + "/big"))
        first = await response._stream.__aiter__().__anext__()
        assert first
        await response.aclose()  # body unread: the connection is spent
        await _until(lambda: 1 in server.hung_up)
        assert await _fetch(transport, "GET", server.url + "/next") == (200, b"ok")
        assert server.conns() == [1, 2]
        _all_free(transport)


async def test_a_head_reply_is_reused_and_the_next_reply_parses(
    transport: NativeTransport,
) -> None:
    async def reply(ex: _Exchange) -> bool:
        if ex.line.startswith(b"HEAD"):
            ex.writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n")
        else:
            ex.writer.write(b"HTTP/1.1 201 Created\r\nContent-Length: 3\r\n\r\nabc")
        await ex.writer.drain()
        return True

    async with _Server(reply) as server:
        response = await transport.handle_async_request(_request("HEAD", server.url + "/h"))
        assert response.headers["content-length"] == "5"
        assert await response.aread() == b""
        assert await _fetch(transport, "GET", server.url + "/g") == (201, b"abc")
        assert await _fetch(transport, "HEAD", server.url + "/h") == (200, b"")
        assert await _fetch(transport, "GET", server.url + "/g") == (201, b"abc")
        assert server.conns() == [1, 1, 1, 1]


async def test_a_body_sent_after_a_head_reply_spends_the_connection(
    transport: NativeTransport,
) -> None:
    async def reply(ex: _Exchange) -> bool:
        if ex.line.startswith(b"HEAD"):  # wrongly sends the body too
            ex.writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello")
        else:
            ex.writer.write(b"HTTP/1.1 201 Created\r\nContent-Length: 3\r\n\r\nabc")
        await ex.writer.drain()
        return True

    async with _Server(reply) as server:
        assert await _fetch(transport, "HEAD", server.url + "/h") == (200, b"")
        await _settle()
        assert await _fetch(transport, "GET", server.url + "/g") == (201, b"abc")
        assert server.conns() == [1, 2]


async def test_an_empty_body_with_a_content_encoding_decodes_to_nothing(
    transport: NativeTransport,
) -> None:
    async def reply(ex: _Exchange) -> bool:
        path = ex.line.split(b" ")[1]
        gzip = b"HTTP/1.1 %s\r\nContent-Encoding: gzip\r\n%s\r\n"
        ex.writer.write(
            {
                b"/head": gzip % (b"200 OK", b"Content-Length: 20\r\n"),
                b"/304": gzip % (b"304 Not Modified", b""),
                b"/empty": gzip % (b"200 OK", b"Content-Length: 0\r\n"),
            }[path]
        )
        await ex.writer.drain()
        return True

    async with _Server(reply) as server:
        assert await _fetch(transport, "HEAD", server.url + "/head") == (200, b"")
        assert await _fetch(transport, "GET", server.url + "/304") == (304, b"")
        assert await _fetch(transport, "GET", server.url + "/empty") == (200, b"")
        assert server.conns() == [1, 1, 1]


async def test_interim_responses_then_the_final_one(transport: NativeTransport) -> None:
    async def interim(ex: _Exchange) -> bool:
        ex.writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")
        await ex.writer.drain()
        ex.writer.write(b"HTTP/1.1 103 Early Hints\r\nLink: </s.css>\r\n\r\n")
        await ex.writer.drain()
        ex.writer.write(b"HTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok")
        await ex.writer.drain()
        return True

    async with _Server(interim) as server:
        response = await transport.handle_async_request(
            _request("POST", server.url + "/", content=b"abcd")
        )
        assert (response.status_code, response.reason_phrase) == (201, "Created")
        assert "link" not in response.headers
        assert await response.aread() == b"ok"
        assert await _fetch(transport, "GET", server.url + "/") == (201, b"ok")
        assert server.conns() == [1, 1]
        assert server.exchanges[0].body == b"abcd"


async def test_a_chunked_reply_with_trailers_is_read_and_reused(
    transport: NativeTransport,
) -> None:
    reply = (
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTrailer: X-Sum\r\n\r\n"
        b"3\r\nabc\r\n2\r\nde\r\n0\r\nX-Sum: 5\r\n\r\n"
    )
    async with _Server(reply) as server:
        for _ in range(2):
            response = await transport.handle_async_request(_request("GET", server.url + "/"))
            assert await response.aread() == b"abcde"
            assert "x-sum" not in response.headers
        assert server.conns() == [1, 1]


async def test_101_is_returned_and_its_connection_never_pooled(
    transport: NativeTransport,
) -> None:
    reply = b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: x\r\nConnection: Upgrade\r\n\r\n"

    async def upgrade(ex: _Exchange) -> bool:
        ex.writer.write(reply + b"not-http")
        await ex.writer.drain()
        return await _hang_until_hangup(ex)

    async with _Server(upgrade) as server:
        assert await _fetch(transport, "GET", server.url + "/") == (101, b"")
        assert transport._idle_count == 0 and not transport._conns
        _all_free(transport)
        await _until(lambda: server.hung_up == [1])


async def test_bytes_past_the_end_are_never_read_as_the_next_reply(
    transport: NativeTransport,
) -> None:
    smuggled = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok" + (
        b"HTTP/1.1 666 Smuggled\r\nContent-Length: 0\r\n\r\n"
    )
    async with _Server(smuggled) as server:
        assert await _fetch(transport, "GET", server.url + "/1") == (200, b"ok")
        await _settle()
        assert await _fetch(transport, "GET", server.url + "/2") == (200, b"ok")
        assert server.conns() == [1, 2]


async def test_garbage_past_the_end_spends_the_connection(transport: NativeTransport) -> None:
    async with _Server(_OK + b"GARBAGE") as server:
        assert await _fetch(transport, "GET", server.url + "/1") == (200, b"ok")
        await _settle()
        assert await _fetch(transport, "GET", server.url + "/2") == (200, b"ok")
        assert server.conns() == [1, 2]


async def test_an_until_close_body_is_read_to_eof_and_not_reused(
    transport: NativeTransport,
) -> None:
    async def reply(ex: _Exchange) -> bool:
        ex.writer.write(b"HTTP/1.1 200 OK\r\n\r\nuntil-")
        await ex.writer.drain()
        ex.writer.write(b"close")
        return False  # closes the connection: the end of the body

    async with _Server(reply) as server:
        assert await _fetch(transport, "GET", server.url + "/1") == (200, b"until-close")
        assert await _fetch(transport, "GET", server.url + "/2") == (200, b"until-close")
        assert server.conns() == [1, 2]
        assert not transport._conns
        _all_free(transport)


async def test_an_unsolicited_408_on_an_idle_connection_is_never_read_as_a_reply(
    transport: NativeTransport,
) -> None:
    async def reply(ex: _Exchange) -> bool:
        ex.writer.write(_OK)
        await ex.writer.drain()
        if ex.conn == 1:  # then, idle, the server gives up on the connection as some do
            ex.writer.write(b"HTTP/1.1 408 Request Timeout\r\nContent-Length: 0\r\n\r\n")
            await ex.writer.drain()
        return True  # and keeps it open

    async with _Server(reply) as server:
        assert await _fetch(transport, "GET", server.url + "/1") == (200, b"ok")
        await _settle()
        assert await _fetch(transport, "GET", server.url + "/2") == (200, b"ok")
        assert server.conns() == [1, 2]


async def test_a_pooled_connection_closed_by_the_server_is_replaced_not_sent_on(
    transport: NativeTransport,
) -> None:
    async def reply(ex: _Exchange) -> bool:
        ex.writer.write(_OK)  # keep-alive, but the server closes it once idle
        await ex.writer.drain()
        return False

    async with _Server(reply) as server:
        assert await _fetch(transport, "GET", server.url + "/1") == (200, b"ok")
        await _until(lambda: not server._tasks)  # the server side is closed
        assert await _fetch(transport, "GET", server.url + "/2") == (200, b"ok")
        assert server.conns() == [1, 2]  # one request on each: none lost on the dead one


async def test_a_request_that_said_connection_close_is_not_reused(
    transport: NativeTransport,
) -> None:
    async with _Server() as server:  # answers keep-alive and goes on reading
        headers = {**_HEADERS, "Connection": "close"}
        for _ in range(2):
            assert await _fetch(transport, "GET", server.url + "/", headers=headers) == (
                200,
                b"ok",
            )
        assert server.conns() == [1, 2]


async def test_a_body_cut_short_is_a_read_error_and_not_reused(
    transport: NativeTransport,
) -> None:
    async def short(ex: _Exchange) -> bool:
        ex.writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc")
        return False  # and hang up

    async with _Server(short) as server:
        with pytest.raises(errors.ReadError) as caught:
            await _fetch(transport, "GET", server.url + "/short")
        assert caught.value.request is not None
        assert not transport._conns and transport._idle_count == 0
        _all_free(transport)


async def test_an_idle_connection_of_another_origin_is_evicted_at_the_bound() -> None:
    transport = NativeTransport(TransportOptions(max_connections=1, max_keepalive=1))
    try:
        async with _Server() as a, _Server() as b:
            assert await _fetch(transport, "GET", a.url + "/") == (200, b"ok")
            assert await _fetch(transport, "GET", b.url + "/") == (200, b"ok")
            await _until(lambda: a.hung_up == [1])  # a's idle connection made room for b's
            assert len(transport._conns) == 1 and transport._idle_count == 1
            assert await _fetch(transport, "GET", a.url + "/") == (200, b"ok")
            assert a.accepted == 2
    finally:
        await transport.aclose()


async def test_at_most_max_keepalive_connections_stay_idle() -> None:
    async def slow(ex: _Exchange) -> bool:
        await asyncio.sleep(0.02)
        ex.writer.write(_OK)
        await ex.writer.drain()
        return True

    transport = NativeTransport(TransportOptions(max_connections=3, max_keepalive=1))
    try:
        async with _Server(slow) as server:
            results = await asyncio.gather(
                *[_fetch(transport, "GET", f"{server.url}/{i}") for i in range(3)]
            )
            assert results == [(200, b"ok")] * 3 and server.accepted == 3
            assert transport._idle_count == 1 and len(transport._conns) == 1
            await _until(lambda: len(server.hung_up) == 2)
    finally:
        await transport.aclose()


# -- the pool bound ---------------------------------------------------------------------------


async def test_the_pool_bound_and_pool_timeout() -> None:
    transport = NativeTransport(TransportOptions(max_connections=1, max_keepalive=1))
    try:
        async with _Server() as server:
            held = await transport.handle_async_request(_request("GET", server.url + "/a"))
            with pytest.raises(errors.PoolTimeout) as caught:
                await transport.handle_async_request(
                    _request("GET", server.url + "/b", timeout=hookwire.Timeout(pool=0.2))
                )
            assert caught.value.request is not None
            assert len(server.exchanges) == 1  # the refused request never went out
            assert await held.aread() == b"ok"
            assert await _fetch(transport, "GET", server.url + "/c") == (200, b"ok")
            _all_free(transport)
    finally:
        await transport.aclose()


async def test_concurrent_requests_never_exceed_max_connections() -> None:
    inflight = {"now": 0, "most": 0}

    async def slow(ex: _Exchange) -> bool:
        inflight["now"] += 1
        inflight["most"] = max(inflight["most"], inflight["now"])
        await asyncio.sleep(0.02)
        inflight["now"] -= 1
        ex.writer.write(_OK)
        await ex.writer.drain()
        return True

    transport = NativeTransport(TransportOptions(max_connections=2, max_keepalive=2))
    try:
        async with _Server(slow) as server:
            results = await asyncio.gather(
                *[_fetch(transport, "GET", f"{server.url}/{i}") for i in range(8)]
            )
            assert results == [(200, b"ok")] * 8
            assert inflight["most"] == 2
            assert server.accepted == 2  # the waiters got the released connections
            _all_free(transport)
    finally:
        await transport.aclose()


# -- cancellation -----------------------------------------------------------------------------


async def test_a_cancelled_pool_waiter_takes_no_slot() -> None:
    transport = NativeTransport(TransportOptions(max_connections=1, max_keepalive=1))
    try:
        async with _Server() as server:
            held = await transport.handle_async_request(_request("GET", server.url + "/a"))
            waiter = asyncio.create_task(
                transport.handle_async_request(
                    _request("GET", server.url + "/b", timeout=hookwire.Timeout(pool=None))
                )
            )
            await _until(lambda: bool(transport._slots._waiters))
            waiter.cancel()
            with pytest.raises(asyncio.CancelledError):
                await waiter
            assert await held.aread() == b"ok"
            _all_free(transport)
            assert await _fetch(transport, "GET", server.url + "/c") == (200, b"ok")
            assert [e.line for e in server.exchanges] == [
                b"GET /a HTTP/1.1",
                b"GET /c HTTP/1.1",
            ]
    finally:
        await transport.aclose()


async def test_cancelled_while_waiting_for_the_head(transport: NativeTransport) -> None:
    async with _Server(_hang_until_hangup) as server:
        task = asyncio.create_task(
            transport.handle_async_request(_request("GET", server.url + "/"))
        )
        await _until(lambda: bool(server.exchanges))
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        _all_free(transport)
        assert not transport._conns and transport._idle_count == 0
        await _until(lambda: server.hung_up == [1])  # the socket was closed


async def test_cancelled_while_reading_the_body(transport: NativeTransport) -> None:
    async def partial(ex: _Exchange) -> bool:
        ex.writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nfirst")
        await ex.writer.drain()
        return await _hang_until_hangup(ex)

    async with _Server(partial) as server:
        response = await transport.handle_async_request(_request("GET", server.url + "/"))
        got: list[bytes] = []

        async def consume() -> None:
            async for piece in response.aiter_bytes():
                got.append(piece)

        task = asyncio.create_task(consume())
        await _until(lambda: bool(got))
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert got == [b"first"]
        _all_free(transport)
        assert not transport._conns
        await _until(lambda: server.hung_up == [1])


async def test_cancelled_get_through_the_client_frees_everything() -> None:
    async def partial(ex: _Exchange) -> bool:
        ex.writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nfirst")
        await ex.writer.drain()
        return await _hang_until_hangup(ex)

    async with _Server(partial) as server, hookwire.AsyncClient(transport="native") as client:
        task = asyncio.create_task(client.get(server.url + "/"))
        await _until(lambda: bool(server.exchanges))
        await asyncio.sleep(0.02)  # let the head arrive: cancelled mid-body (either is fine)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        transport = client._transport
        _all_free(transport)
        assert not transport._conns
        await _until(lambda: server.hung_up == [1])


# -- timeouts ---------------------------------------------------------------------------------


async def test_first_byte_bounds_the_wait_for_the_head(transport: NativeTransport) -> None:
    async with _Server(_hang_until_hangup) as server:
        with pytest.raises(errors.ReadTimeout, match="first_byte"):
            await _fetch(
                transport, "GET", server.url + "/", timeout=hookwire.Timeout(first_byte=0.2)
            )
        _all_free(transport)
        await _until(lambda: server.hung_up == [1])


async def test_a_read_timeout_on_a_silent_server(transport: NativeTransport) -> None:
    async with _Server(_hang_until_hangup) as server:
        with pytest.raises(errors.ReadTimeout):
            await _fetch(transport, "GET", server.url + "/", timeout=hookwire.Timeout(read=0.2))
        _all_free(transport)


async def _drip(ex: _Exchange) -> bool:
    """A head that never ends, a byte every 20 ms (each well inside any read timeout)."""
    ex.writer.write(b"HTTP/1.1 200 OK\r\n")
    while True:
        ex.writer.write(b"X")
        await ex.writer.drain()
        await asyncio.sleep(0.02)


async def test_a_dripping_head_is_cut_off_by_first_byte(transport: NativeTransport) -> None:
    async with _Server(_drip) as server:
        with pytest.raises(errors.ReadTimeout, match="first_byte"):
            await _fetch(
                transport,
                "GET",
                server.url + "/",
                timeout=hookwire.Timeout(first_byte=0.3, read=5),
            )
        _all_free(transport)


async def test_a_dripping_head_is_cut_off_by_the_total_deadline() -> None:
    async with (
        _Server(_drip) as server,
        hookwire.AsyncClient(transport="native", timeout=hookwire.Timeout(total=0.3)) as client,
    ):
        with pytest.raises(errors.DeadlineExceeded):
            await client.get(server.url + "/")
        _all_free(client._transport)


async def test_the_read_timeout_restarts_whenever_bytes_arrive(
    transport: NativeTransport,
) -> None:
    async def drip_body(ex: _Exchange) -> bool:
        ex.writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\n")
        for byte in b"abcdef":
            await asyncio.sleep(0.08)
            ex.writer.write(bytes([byte]))
            await ex.writer.drain()
        return True

    async with _Server(drip_body) as server:
        # 0.48 s of body in all, never 0.2 s without a byte: no timeout
        status, body = await _fetch(
            transport, "GET", server.url + "/", timeout=hookwire.Timeout(read=0.2)
        )
        assert (status, body) == (200, b"abcdef")


async def test_each_exchange_on_a_reused_connection_has_its_own_read_timeout(
    transport: NativeTransport,
) -> None:
    async def reply(ex: _Exchange) -> bool:
        if ex.line.startswith(b"GET /stall"):
            ex.writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc")
            await ex.writer.drain()
            return await _hang_until_hangup(ex)
        if ex.line.startswith(b"GET /slow"):
            await asyncio.sleep(0.3)
        ex.writer.write(_OK)
        await ex.writer.drain()
        return True

    async with _Server(reply) as server:
        short, none = hookwire.Timeout(read=0.1), hookwire.Timeout(read=None)
        # a short timeout first, then none: its timer must not cut the second one short
        assert await _fetch(transport, "GET", server.url + "/fast", timeout=short) == (200, b"ok")
        assert await _fetch(transport, "GET", server.url + "/slow", timeout=none) == (200, b"ok")
        # a long one, then a short one on the same connection: the short one still applies
        long = hookwire.Timeout(read=30)
        assert await _fetch(transport, "GET", server.url + "/fast", timeout=long) == (200, b"ok")
        with pytest.raises(errors.ReadTimeout):
            await _fetch(transport, "GET", server.url + "/stall", timeout=short)
        assert server.conns() == [1, 1, 1, 1]


async def test_a_stalled_body_is_a_read_timeout(transport: NativeTransport) -> None:
    async def stall(ex: _Exchange) -> bool:
        ex.writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc")
        await ex.writer.drain()
        return await _hang_until_hangup(ex)

    async with _Server(stall) as server:
        response = await transport.handle_async_request(
            _request("GET", server.url + "/", timeout=hookwire.Timeout(read=0.2))
        )
        with pytest.raises(errors.ReadTimeout) as caught:
            await response.aread()
        assert caught.value.request is not None
        _all_free(transport)
        await _until(lambda: server.hung_up == [1])


# -- request bodies ---------------------------------------------------------------------------


async def test_each_body_in_memory_gets_its_own_length_and_headers(
    transport: NativeTransport,
) -> None:
    """The same method, URL and headers with another body, or another header value, is
    another head (the transport keeps heads it built before)."""
    async with _Server() as server:
        url = server.url + "/same"
        for content in (b"abc", b"abcdefgh", b"", b"x" * 70000):
            assert await _fetch(transport, "POST", url, content=content) == (200, b"ok")
            assert server.last.header("content-length") == [str(len(content)).encode()]
            assert server.last.body == content
        for token in ("one", "two"):
            headers = {**_HEADERS, "Authorization": f"Bearer {token}"}
            await _fetch(transport, "POST", url, content=b"z", headers=headers)
            assert server.last.header("authorization") == [f"Bearer {token}".encode()]
        await _fetch(transport, "GET", url)
        assert server.last.header("content-length") == []  # GET with no body: no framing
        await _fetch(transport, "PUT", url)
        assert server.last.header("content-length") == [b"0"]
        assert len(set(server.conns())) == 1  # every body framed right: one connection


async def test_a_streamed_upload_is_chunked(transport: NativeTransport) -> None:
    async def body() -> AsyncIterator[bytes]:
        yield b"ab"
        yield b""  # an empty piece must not end the chunked body
        yield b"c" * 70000

    async with _Server() as server:
        assert await _fetch(transport, "POST", server.url + "/up", stream=body()) == (200, b"ok")
    assert server.last.header("transfer-encoding") == [b"chunked"]
    assert server.last.header("content-length") == []
    assert server.last.body == b"ab" + b"c" * 70000


async def test_a_file_body_of_known_length_has_content_length(
    transport: NativeTransport, tmp_path: Any
) -> None:
    path = tmp_path / "upload.bin"
    path.write_bytes(b"f" * 100000)
    async with _Server() as server:
        with path.open("rb") as f:
            assert await _fetch(transport, "PUT", server.url + "/f", stream=f) == (200, b"ok")
        assert server.last.header("content-length") == [b"100000"]
        assert server.last.header("transfer-encoding") == []
        assert server.last.body == b"f" * 100000
        buffer = io.BytesIO(b"0123456789")
        buffer.seek(4)  # what is left of it
        assert await _fetch(transport, "PUT", server.url + "/b", stream=buffer) == (200, b"ok")
        assert server.last.header("content-length") == [b"6"]
        assert server.last.body == b"456789"
        assert server.conns() == [1, 1]


async def test_an_early_413_while_uploading_is_returned(transport: NativeTransport) -> None:
    finished: list[bool] = []

    async def endless() -> AsyncIterator[bytes]:
        try:
            while True:
                yield b"y" * 65536
        finally:
            finished.append(True)

    async def refuse(ex: _Exchange) -> bool:
        ex.writer.write(
            b"HTTP/1.1 413 Content Too Large\r\nContent-Length: 4\r\nConnection: close\r\n\r\nbig!"
        )
        await ex.writer.drain()
        await asyncio.sleep(1)  # reads nothing more, keeps the socket open a while
        return False

    async with _Server(refuse, read_bodies=False) as server:
        status, body = await _fetch(
            transport,
            "POST",
            server.url + "/up",
            stream=endless(),
            timeout=hookwire.Timeout(write=2, read=2),
        )
        assert (status, body) == (413, b"big!")
        _all_free(transport)
    await _settle()
    assert finished == [True]  # the body generator was closed, not left suspended


async def test_an_early_keep_alive_reply_to_an_unfinished_upload_spends_the_connection(
    transport: NativeTransport,
) -> None:
    async def endless() -> AsyncIterator[bytes]:
        while True:
            yield b"y" * 1000
            await asyncio.sleep(0)

    async def reply(ex: _Exchange) -> bool:
        if ex.line.startswith(b"POST"):  # answers at once, keep-alive, then reads on
            ex.writer.write(b"HTTP/1.1 413 Content Too Large\r\nContent-Length: 4\r\n\r\nbig!")
            await ex.writer.drain()
            return await _hang_until_hangup(ex)  # what follows is still the POST's body
        ex.writer.write(_OK)
        await ex.writer.drain()
        return True

    async with _Server(reply, read_bodies=False) as server:
        assert await _fetch(transport, "POST", server.url + "/up", stream=endless()) == (
            413,
            b"big!",
        )
        second = await _fetch(
            transport, "GET", server.url + "/next", timeout=hookwire.Timeout(read=0.3)
        )
        assert second == (200, b"ok")
        assert server.conns() == [1, 2]


async def test_an_early_reply_while_the_upload_waits_to_drain_is_returned(
    transport: NativeTransport,
) -> None:
    async def endless() -> AsyncIterator[bytes]:
        while True:
            yield b"y" * (1024 * 1024)

    async def late_refusal(ex: _Exchange) -> bool:
        await asyncio.sleep(0.2)  # the client fills the socket and waits for it to drain
        ex.writer.write(
            b"HTTP/1.1 413 Content Too Large\r\nContent-Length: 4\r\nConnection: close\r\n\r\nbig!"
        )
        await ex.writer.drain()
        await asyncio.sleep(5)  # never reads the rest
        return False

    async with _Server(late_refusal, read_bodies=False) as server:
        status, body = await _fetch(
            transport,
            "POST",
            server.url + "/up",
            stream=endless(),
            timeout=hookwire.Timeout(write=1, read=2),
        )
        assert (status, body) == (413, b"big!")  # not a WriteTimeout
        _all_free(transport)


async def test_a_body_generator_that_raises_is_a_typed_error_and_spends_the_connection(
    transport: NativeTransport,
) -> None:
    async def broken() -> AsyncIterator[bytes]:
        yield b"abc"
        raise ValueError("the caller's generator broke")

    async with _Server(_hang_until_hangup, read_bodies=False) as server:
        with pytest.raises(errors.TransportError) as caught:
            await _fetch(transport, "POST", server.url + "/up", stream=broken())
        assert isinstance(caught.value.__cause__, ValueError)  # chained, not swallowed
        _all_free(transport)
        assert not transport._conns
        await _until(lambda: server.hung_up == [1])  # no half-sent body left to finish


@pytest.mark.parametrize("size", [3, 8], ids=["short", "long"])
async def test_a_streamed_body_that_breaks_its_content_length_is_refused(
    transport: NativeTransport, size: int
) -> None:
    async def body() -> AsyncIterator[bytes]:
        yield b"x" * size

    async with _Server() as server:
        headers = {**_HEADERS, "Content-Length": "5"}
        with pytest.raises((errors.InvalidRequest, errors.TransportError), match=r"(?i)length"):
            await _fetch(
                transport,
                "POST",
                server.url + "/cl",
                stream=body(),
                headers=headers,
                timeout=hookwire.Timeout(read=0.5),
            )
        assert await _fetch(transport, "GET", server.url + "/next") == (200, b"ok")
        assert [e.line for e in server.exchanges][-1] == b"GET /next HTTP/1.1"
        _all_free(transport)


async def _never_read(ex: _Exchange) -> bool:
    await asyncio.sleep(5)  # the kernel buffers fill; the client cannot drain
    return False


@pytest.mark.parametrize("streamed", [False, True], ids=["bytes", "stream"])
async def test_a_write_that_cannot_drain_is_a_write_timeout(
    transport: NativeTransport, streamed: bool
) -> None:
    payload = b"z" * (64 * 1024 * 1024)

    async def pieces() -> AsyncIterator[bytes]:
        for at in range(0, len(payload), 1024 * 1024):
            yield payload[at : at + 1024 * 1024]

    body: dict[str, Any] = {"stream": pieces()} if streamed else {"content": payload}
    async with _Server(_never_read, read_bodies=False) as server:
        with pytest.raises(errors.WriteTimeout) as caught:
            await _fetch(
                transport,
                "POST",
                server.url + "/w",
                timeout=hookwire.Timeout(write=0.3, read=5),
                **body,
            )
        assert caught.value.request is not None
        _all_free(transport)
        assert not transport._conns


# -- flow control -----------------------------------------------------------------------------


async def test_a_body_over_read_ahead_read_whole_keeps_its_connection() -> None:
    size = 4 * _common.READ_AHEAD
    reply = b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (size, b"w" * size)
    async with _Server(reply) as server, hookwire.AsyncClient(transport="native") as client:
        for _ in range(3):
            response = await client.get(server.url + "/whole")
            assert len(response.content) == size
        assert server.conns() == [1, 1, 1]


async def test_a_slow_reader_keeps_at_most_read_ahead_plus_one_read_buffered(
    transport: NativeTransport,
) -> None:
    size = 5 * 1024 * 1024

    async def big(ex: _Exchange) -> bool:
        ex.writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % size)
        ex.writer.write(b"b" * size)
        await ex.writer.drain()
        return True

    async with _Server(big) as server:
        response = await transport.handle_async_request(_request("GET", server.url + "/big"))
        # No public observable for how much the transport holds: the response stream's
        # private parser is where the unread bytes sit.
        parser = response._stream._parser
        most = total = 0
        async for piece in response.aiter_bytes():
            total += len(piece)
            for _ in range(3):  # a slow consumer: the loop may read all it is allowed to
                await asyncio.sleep(0)
                most = max(most, parser.buffered)
        assert total == size
        # One read of asyncio's selector transport is at most 256 KiB.
        assert most <= _common.READ_AHEAD + 256 * 1024
        assert await _fetch(transport, "GET", server.url + "/again") == (200, b"b" * size)
        assert server.conns() == [1, 1]  # read to the end: the connection was reused


# -- proxies and tunnels ----------------------------------------------------------------------

_PROXY_PASSWORD = "pr0xy-s3cret"  # pragma: allowlist secret


async def test_an_http_proxy_gets_the_absolute_form_and_its_credentials(
    transport: NativeTransport,
) -> None:
    async with _Server() as proxy:
        proxy_url = f"http://pu:{_PROXY_PASSWORD}@127.0.0.1:{proxy.port}"
        status, body = await _fetch(
            transport,
            "GET",
            "http://origin.invalid:8080/p?q=1",
            extensions={"proxy": proxy_url},
        )
        assert (status, body) == (200, b"ok")
        assert proxy.last.line == b"GET http://origin.invalid:8080/p?q=1 HTTP/1.1"
        import base64

        token = base64.b64encode(f"pu:{_PROXY_PASSWORD}".encode())
        assert proxy.last.header("proxy-authorization") == [b"Basic " + token]
        assert proxy.last.header("host") == [b"origin.invalid:8080"]
        assert proxy.last.header("authorization") == []
    # Without the proxy, the origin itself never gets the proxy's credentials.
    async with _Server() as origin:
        assert await _fetch(transport, "GET", origin.url + "/") == (200, b"ok")
        assert origin.last.header("proxy-authorization") == []


class _TLSServer(_Server):
    scheme = "https"

    def __init__(self, context: ssl.SSLContext, **kw: Any) -> None:
        super().__init__(**kw)
        self._context = context

    def _tls(self) -> dict[str, Any]:
        return {"ssl": self._context}


@dataclass
class _ConnectProxy:
    """A CONNECT proxy: records each CONNECT head, answers ``answer``, then pipes bytes."""

    answer: bytes = b"HTTP/1.1 200 Connection Established\r\n\r\n"
    heads: list[bytes] = field(default_factory=list)
    _tasks: set[asyncio.Task[Any]] = field(default_factory=set)

    async def __aenter__(self) -> _ConnectProxy:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        self._server.close()
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(BaseException):
                await task

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        try:
            head = (await reader.readuntil(b"\r\n\r\n"))[:-4]
            self.heads.append(head)
            writer.write(self.answer)
            await writer.drain()
            if not self.answer.split(b" ", 2)[1].startswith(b"2"):
                return
            host, _, port = head.split(b" ")[1].rpartition(b":")
            up_reader, up_writer = await asyncio.open_connection(host.decode(), int(port))
            try:
                await asyncio.gather(_pipe(reader, up_writer), _pipe(up_reader, writer))
            finally:
                up_writer.close()
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.CancelledError):
            pass
        finally:
            self._tasks.discard(task)
            writer.close()


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    with contextlib.suppress(ConnectionError):
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    with contextlib.suppress(OSError):
        writer.write_eof()


@pytest.fixture(scope="module")
def tls_ca() -> tuple[ssl.SSLContext, str, Any]:
    trustme = pytest.importorskip("trustme")
    ca = trustme.CA()
    server_context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ca.issue_cert("127.0.0.1", "localhost").configure_cert(server_context)
    pem = ca.cert_pem.tempfile()
    ca_file = pem.__enter__()
    try:
        yield server_context, ca_file, ca
    finally:
        pem.__exit__(None, None, None)


async def test_https_through_a_plain_proxy_is_a_connect_tunnel(
    tls_ca: tuple[ssl.SSLContext, str, Any],
) -> None:
    server_context, ca_file, _ = tls_ca
    transport = NativeTransport(TransportOptions(verify=ca_file))
    try:
        async with _TLSServer(server_context) as origin, _ConnectProxy() as proxy:
            proxy_url = f"http://pu:{_PROXY_PASSWORD}@127.0.0.1:{proxy.port}"
            url = f"https://127.0.0.1:{origin.port}/secret/path?token=abc"
            for _ in range(2):
                status, body = await _fetch(transport, "GET", url, extensions={"proxy": proxy_url})
                assert (status, body) == (200, b"ok")
            assert len(proxy.heads) == 1  # the tunnel was pooled and reused
            assert proxy.heads[0].split(b"\r\n")[0] == (
                f"CONNECT 127.0.0.1:{origin.port} HTTP/1.1".encode()
            )
            assert b"Proxy-Authorization: Basic " in proxy.heads[0]
            assert b"secret" not in proxy.heads[0] and b"token" not in proxy.heads[0]
            # Inside the tunnel: origin-form, and no proxy credentials for the origin.
            assert origin.last.line == b"GET /secret/path?token=abc HTTP/1.1"
            assert origin.last.header("proxy-authorization") == []
            assert origin.last.header("host") == [f"127.0.0.1:{origin.port}".encode()]
            _all_free(transport)
    finally:
        await transport.aclose()


async def test_a_tunnel_to_an_untrusted_origin_is_a_tls_error(
    tls_ca: tuple[ssl.SSLContext, str, Any],
) -> None:
    server_context, _, _ = tls_ca
    transport = NativeTransport()  # certifi: does not know the test CA
    try:
        async with _TLSServer(server_context) as origin, _ConnectProxy() as proxy:
            with pytest.raises(errors.TLSError):
                await _fetch(
                    transport,
                    "GET",
                    f"https://127.0.0.1:{origin.port}/",
                    extensions={"proxy": f"http://127.0.0.1:{proxy.port}"},
                )
            _all_free(transport)
            assert not transport._conns
    finally:
        await transport.aclose()


async def test_bytes_after_a_connect_200_are_a_proxy_error(transport: NativeTransport) -> None:
    async with _ConnectProxy(b"HTTP/1.1 200 OK\r\n\r\nGARBAGE") as proxy:
        with pytest.raises(errors.ProxyError):
            await _fetch(
                transport,
                "GET",
                "https://origin.invalid/",
                extensions={"proxy": f"http://127.0.0.1:{proxy.port}"},
            )
        _all_free(transport)
        assert not transport._conns


async def test_a_proxy_that_never_answers_connect_is_a_proxy_error(
    transport: NativeTransport,
) -> None:
    async with _Server(_hang_until_hangup) as proxy:
        with pytest.raises(errors.ProxyError):
            await _fetch(
                transport,
                "GET",
                "https://origin.invalid/",
                extensions={"proxy": proxy.url},
                timeout=hookwire.Timeout(read=0.2),
            )
        assert proxy.last.line == b"CONNECT origin.invalid:443 HTTP/1.1"
        _all_free(transport)
        await _until(lambda: proxy.hung_up == [1])


async def test_flow_control_and_reuse_over_tls(tls_ca: tuple[ssl.SSLContext, str, Any]) -> None:
    server_context, ca_file, _ = tls_ca
    size = 4 * 1024 * 1024

    async def big(ex: _Exchange) -> bool:
        ex.writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % size)
        ex.writer.write(b"t" * size)
        await ex.writer.drain()
        return True

    transport = NativeTransport(TransportOptions(verify=ca_file))
    try:
        async with _TLSServer(server_context, reply=big) as server:
            response = await transport.handle_async_request(_request("GET", server.url + "/"))
            parser = response._stream._parser  # as in the plain-http test: no public observable
            most = total = 0
            async for piece in response.aiter_bytes():
                total += len(piece)
                for _ in range(3):
                    await asyncio.sleep(0)
                    most = max(most, parser.buffered)
            assert total == size
            # asyncio's TLS layer hands over all it can decrypt of one socket read (up to
            # 256 KiB) in one data_received; the transport caps the layer's own buffer of
            # ciphertext at READ_AHEAD (its default high-water mark is 256 KiB, which let 432
            # KiB pile up here), so never much past one read, and never the 4 MB body.
            assert most <= _common.READ_AHEAD + 320 * 1024
            assert await _fetch(transport, "GET", server.url + "/") == (200, b"t" * size)
            assert await _fetch(transport, "GET", server.url + "/") == (200, b"t" * size)
            assert server.conns() == [1, 1, 1]
    finally:
        await transport.aclose()


async def test_https_direct_with_the_callers_ca_and_one_pool_per_tls_setting(
    tls_ca: tuple[ssl.SSLContext, str, Any],
) -> None:
    from hookwire.transports import TLSSettings

    server_context, ca_file, _ = tls_ca
    transport = NativeTransport()  # certifi by default: does not know the test CA
    try:
        async with _TLSServer(server_context) as server:
            with pytest.raises(errors.TLSError):
                await _fetch(transport, "GET", server.url + "/")
            own = {"tls": TLSSettings(ca_file, None)}
            for _ in range(2):
                assert await _fetch(transport, "GET", server.url + "/", extensions=own) == (
                    200,
                    b"ok",
                )
            unverified = {"tls": TLSSettings(False, None)}
            assert await _fetch(transport, "GET", server.url + "/", extensions=unverified) == (
                200,
                b"ok",
            )
            assert server.conns() == [1, 1, 2]  # a verified and an unverified never share
            by_name = f"https://localhost:{server.port}/"
            assert await _fetch(transport, "GET", by_name, extensions=own) == (200, b"ok")
            assert server.last.header("host") == [f"localhost:{server.port}".encode()]
            _all_free(transport)
    finally:
        await transport.aclose()


async def test_a_tls_handshake_that_never_completes_is_a_connect_timeout(
    transport: NativeTransport,
) -> None:
    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(Exception):
            await reader.read()  # takes the ClientHello, answers nothing
        writer.close()

    server = await asyncio.start_server(silent, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        for extensions in ({}, {"proxy": f"http://127.0.0.1:{port}"}):  # direct, then CONNECT
            with pytest.raises(errors.ConnectTimeout):
                await _fetch(
                    transport,
                    "GET",
                    f"https://127.0.0.1:{port}/",
                    extensions=extensions,
                    timeout=hookwire.Timeout(connect=0.2, read=5),
                )
            _all_free(transport)
            assert not transport._conns
    finally:
        server.close()


async def test_a_407_on_connect_is_a_proxy_error_naming_no_credentials(
    transport: NativeTransport,
) -> None:
    answer = b"HTTP/1.1 407 Proxy Authentication Required\r\nContent-Length: 0\r\n\r\n"
    async with _ConnectProxy(answer) as proxy:
        proxy_url = f"http://proxyuser:{_PROXY_PASSWORD}@127.0.0.1:{proxy.port}"
        with pytest.raises(errors.ProxyError) as caught:
            await _fetch(
                transport,
                "GET",
                "https://origin.invalid/p?api_key=qs-s3cret",
                extensions={"proxy": proxy_url},
            )
        text = f"{caught.value} {caught.value!r}"
        assert "407" in text
        for secret in (_PROXY_PASSWORD, "proxyuser", "qs-s3cret"):
            assert secret not in text
        _all_free(transport)
        assert not transport._conns


# -- URLs and what reaches the wire -----------------------------------------------------------


async def test_the_request_line_keeps_the_urls_escapes_and_drops_the_fragment(
    transport: NativeTransport,
) -> None:
    async with _Server() as server:
        await _fetch(transport, "GET", server.url)  # no path at all
        assert server.last.line == b"GET / HTTP/1.1"
        await _fetch(transport, "GET", server.url + "/a%2Fb/%41 c?x=%7E+y&s=a b#frag")
        assert server.last.line == b"GET /a%2Fb/%41%20c?x=%7E+y&s=a%20b HTTP/1.1"
        await _fetch(transport, "GET", server.url + "/caf\u00e9?q=\u2603")
        assert server.last.line == b"GET /caf%C3%A9?q=%E2%98%83 HTTP/1.1"


async def test_an_idn_host_and_a_non_ascii_header_value_on_the_wire(
    transport: NativeTransport,
) -> None:
    async with _Server() as proxy:  # through a proxy: no DNS for the made-up host
        headers = {**_HEADERS, "X-Name": "na\u00efve \u2603"}
        await _fetch(
            transport,
            "GET",
            "http://b\u00fccher.invalid:8080/p",
            headers=headers,
            extensions={"proxy": proxy.url},
        )
        assert proxy.last.line == b"GET http://xn--bcher-kva.invalid:8080/p HTTP/1.1"
        assert proxy.last.header("host") == [b"xn--bcher-kva.invalid:8080"]
        assert proxy.last.header("x-name") == ["na\u00efve \u2603".encode()]


async def test_the_client_hands_its_proxy_to_the_transport() -> None:
    async with _Server() as proxy:
        login = f"us%40er:p%3A{_PROXY_PASSWORD}"  # pragma: allowlist secret
        proxy_url = f"http://{login}@127.0.0.1:{proxy.port}"
        async with hookwire.AsyncClient(
            transport="native", proxy=proxy_url, trust_env=False
        ) as client:
            response = await client.get("http://origin.invalid/x?y=1")
        assert response.status_code == 200 and response.content == b"ok"
        import base64

        token = base64.b64encode(f"us@er:p:{_PROXY_PASSWORD}".encode())  # unescaped
        assert proxy.last.line == b"GET http://origin.invalid/x?y=1 HTTP/1.1"
        assert proxy.last.header("proxy-authorization") == [b"Basic " + token]


async def test_a_head_past_the_bounds_over_the_wire_is_a_protocol_error(
    transport: NativeTransport,
) -> None:
    from hookwire.plugins.transports import _h1

    async def huge(ex: _Exchange) -> bool:
        ex.writer.write(b"HTTP/1.1 200 OK\r\n")
        for i in range(200):  # 200 x 1 KiB fields, written apart: many reads
            ex.writer.write(b"X-%d: %s\r\n" % (i, b"v" * 1024))
            await ex.writer.drain()
            await asyncio.sleep(0)
        ex.writer.write(b"Content-Length: 0\r\n\r\n")
        return await _hang_until_hangup(ex)

    async def many(ex: _Exchange) -> bool:
        fields = b"".join(b"X-%d: v\r\n" % i for i in range(_h1.MAX_HEADERS + 1))
        ex.writer.write(b"HTTP/1.1 200 OK\r\n" + fields + b"Content-Length: 0\r\n\r\n")
        return await _hang_until_hangup(ex)

    for reply in (huge, many):
        async with _Server(reply) as server:
            with pytest.raises(errors.ProtocolError) as caught:
                await _fetch(transport, "GET", server.url + "/")
            assert caught.value.request is not None
            _all_free(transport)
            assert not transport._conns
            await _until(lambda: server.hung_up == [1])


async def test_userinfo_in_the_url_never_reaches_the_wire(transport: NativeTransport) -> None:
    async with _Server() as server:
        url = f"http://user:{_PROXY_PASSWORD}@127.0.0.1:{server.port}/u"
        assert await _fetch(transport, "GET", url) == (200, b"ok")
        assert server.last.line == b"GET /u HTTP/1.1"
        assert server.last.header("host") == [f"127.0.0.1:{server.port}".encode()]
        assert _PROXY_PASSWORD.encode() not in server.last.head
        assert b"user" not in server.last.head.lower().replace(b"user-agent", b"")
        assert server.last.header("authorization") == []
    async with _Server() as proxy:  # nor a proxy's request line
        await _fetch(
            transport,
            "GET",
            f"http://user:{_PROXY_PASSWORD}@origin.invalid/u",
            extensions={"proxy": proxy.url},
        )
        assert proxy.last.line == b"GET http://origin.invalid/u HTTP/1.1"
        assert _PROXY_PASSWORD.encode() not in proxy.last.head


@pytest.mark.parametrize("scheme", ["ftp", "ws", "file", "httpx"])
async def test_a_non_http_scheme_is_refused_unsent(transport: NativeTransport, scheme: str) -> None:
    async with _Server() as server:
        with pytest.raises(errors.InvalidURL):
            await _fetch(transport, "GET", f"{scheme}://127.0.0.1:{server.port}/x")
        await _settle()
        assert server.accepted == 0
        _all_free(transport)


@pytest.mark.parametrize(
    ("url", "proxy", "error"),
    [
        ("http://127.0.0.1:99999/", None, errors.InvalidURL),
        ("http://[::1/", None, errors.InvalidURL),
        ("http:///no-host", None, errors.InvalidURL),
        ("http://host:abc/", None, errors.InvalidURL),
        ("http://origin.invalid/", "socks5://u:{pw}@127.0.0.1:1080", errors.ProxyError),
        ("https://origin.invalid/", "socks5://127.0.0.1:1080", errors.ProxyError),
        ("http://origin.invalid/", "http://u:{pw}@127.0.0.1:99999", errors.ProxyError),
        ("http://origin.invalid/", "http://[bad", errors.ProxyError),
    ],
)
async def test_bad_urls_and_proxies_are_typed_errors_before_anything_is_sent(
    transport: NativeTransport, url: str, proxy: str | None, error: type[Exception]
) -> None:
    extensions = {} if proxy is None else {"proxy": proxy.format(pw=_PROXY_PASSWORD)}
    with pytest.raises(error) as caught:
        await _fetch(transport, "GET", url, extensions=extensions)
    assert _PROXY_PASSWORD not in str(caught.value)
    _all_free(transport)
    assert not transport._conns


async def test_an_ipv6_literal_goes_in_brackets_in_the_host_header(
    transport: NativeTransport,
) -> None:
    if not socket.has_ipv6:
        pytest.skip("no IPv6")
    server = _Server(host="::1")
    try:
        await server.__aenter__()
    except OSError:
        pytest.skip("no IPv6 loopback")
    try:
        assert await _fetch(transport, "GET", server.url + "/v6") == (200, b"ok")
    finally:
        await server.__aexit__()
    assert server.last.line == b"GET /v6 HTTP/1.1"
    assert server.last.header("host") == [f"[::1]:{server.port}".encode()]


async def test_broken_framing_is_a_protocol_error_naming_the_request(
    transport: NativeTransport,
) -> None:
    reply = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nok"
    async with _Server(reply) as server:
        with pytest.raises(errors.ProtocolError) as caught:
            await _fetch(transport, "GET", server.url + "/p?token=qs-s3cret")
        assert caught.value.request is not None
        assert "qs-s3cret" not in str(caught.value)
        assert f"127.0.0.1:{server.port}/p" in str(caught.value)
        _all_free(transport)


# -- closing ----------------------------------------------------------------------------------


async def test_aclose_while_a_request_waits_for_its_head_ends_it(
    transport: NativeTransport,
) -> None:
    async with _Server(_hang_until_hangup) as server:
        task = asyncio.create_task(_fetch(transport, "GET", server.url + "/"))
        await _until(lambda: bool(server.exchanges))
        await transport.aclose()
        with pytest.raises(errors.TransportError):  # a typed error, not a hang
            await task
        _all_free(transport)
        await _until(lambda: server.hung_up == [1])


def _sockets_to(port: int) -> list[Any]:
    psutil = pytest.importorskip("psutil")
    process = psutil.Process()
    listing = getattr(process, "net_connections", None) or process.connections  # psutil < 6
    return [
        c
        for c in listing(kind="tcp")
        if c.raddr and c.raddr.port == port and c.status != psutil.CONN_TIME_WAIT
    ]


async def test_aclose_leaves_no_open_socket_and_no_task() -> None:
    async def slow(ex: _Exchange) -> bool:
        await asyncio.sleep(0.02)
        ex.writer.write(_OK)
        await ex.writer.drain()
        return True

    transport = NativeTransport(TransportOptions(max_connections=3, max_keepalive=3))
    async with _Server(slow) as server:
        results = await asyncio.gather(
            *[_fetch(transport, "GET", f"{server.url}/{i}") for i in range(3)]
        )
        assert results == [(200, b"ok")] * 3 and server.accepted == 3
        assert len(_sockets_to(server.port)) == 3  # three pooled, idle
        await transport.aclose()
        assert _sockets_to(server.port) == []
        await _until(lambda: sorted(server.hung_up) == [1, 2, 3])
        assert asyncio.all_tasks() - set(server._tasks) == {asyncio.current_task()}
        with pytest.raises(errors.ClientClosed):
            await _fetch(transport, "GET", server.url + "/after")
        assert server.accepted == 3


async def test_aclose_with_a_response_still_open_closes_its_socket() -> None:
    async def partial(ex: _Exchange) -> bool:
        ex.writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nfirst")
        await ex.writer.drain()
        return await _hang_until_hangup(ex)

    transport = NativeTransport()
    async with _Server(partial) as server:
        response = await transport.handle_async_request(_request("GET", server.url + "/"))
        await transport.aclose()
        assert _sockets_to(server.port) == []
        with pytest.raises(errors.ReadError):
            await response.aread()
        await _until(lambda: server.hung_up == [1])


# -- what errors say --------------------------------------------------------------------------


async def test_errors_name_no_proxy_password_and_no_query_secret(
    transport: NativeTransport,
) -> None:
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        closed = sock.getsockname()[1]
    url = f"http://127.0.0.1:{closed}/p?api_key=qs-s3cret&token=qs-s3cret&x=1"
    raised: list[BaseException] = []
    with pytest.raises(errors.ConnectError) as connect:
        await _fetch(transport, "GET", url)
    raised.append(connect.value)
    proxy_url = f"http://pu:{_PROXY_PASSWORD}@127.0.0.1:{closed}"
    targets = ("http://origin.invalid/p?token=qs-s3cret", "https://origin.invalid/?sig=qs-s3cret")
    for target in targets:
        with pytest.raises(errors.ProxyError) as proxy:
            await _fetch(transport, "GET", target, extensions={"proxy": proxy_url})
        raised.append(proxy.value)
    async with _Server(_hang_until_hangup) as server:
        with pytest.raises(errors.ReadTimeout) as timeout:
            await _fetch(
                transport,
                "GET",
                f"{server.url}/p?password=qs-s3cret",
                timeout=hookwire.Timeout(read=0.2),
            )
        raised.append(timeout.value)
    for exc in raised:
        text = f"{exc} {exc!r}"
        assert "qs-s3cret" not in text and _PROXY_PASSWORD not in text, text
        assert exc.request is not None  # type: ignore[attr-defined]
    _all_free(transport)
