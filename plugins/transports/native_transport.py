"""The ``native`` transport: hookwire's own HTTP/1.1 client, here its asyncio face.

``AsyncClient(transport="native")`` (and ``Client(transport="native")``, the sync face on
blocking sockets in ``native_sync``); ``pip install 'hookwire[native]'`` (it needs only
``httptools``, the parser uvicorn runs). It exists to be the fastest path: every other
transport wraps a library that does per-request work of its own (URL objects, header
multidicts, response objects, cookie jars, a redirect loop) which the client has already done,
so here a request is one ``transport.write`` of bytes built straight from the Request, and a
response is what ``_h1.ResponseParser`` makes of the bytes ``data_received`` is handed. The
wire format lives in ``_h1`` (sans-IO, no event loop in it); this module is the IO around it:

- one ``asyncio.Protocol`` per connection (``_Connection``), fed by the event loop; a task
  waiting for the head or the body waits on one future the protocol resolves, under a timer
  for the read timeout (``first_byte`` or ``read`` for the head, ``read`` for each body wait,
  restarted whenever bytes arrive, as in every library's per-read timeout) and, for the head,
  the head deadline (``_common.head_deadline``), which does not restart;
- a pool of idle connections per (scheme, host, port, proxy, TLS setting), last in first out,
  up to ``max_keepalive`` in all; a pooled connection is reused only if nothing arrived on it
  while idle (not even an EOF: ``_common.is_readable``), and a connection whose response was
  not read to its end, had no keep-alive, or carried bytes past its end is closed instead;
- in-flight exchanges bounded by ``_common.Slots`` (``max_connections``, waited on for at most
  ``pool`` seconds), released when the body is finished or closed;
- flow control: a response reads at most ``_common.READ_AHEAD`` ahead of its consumer
  (``pause_reading`` beyond it), and a streamed request body waits for the socket to drain
  (under ``write``) before the next piece;
- proxies as the client chose them (``request.extensions["proxy"]``): a plain-http request goes
  to the proxy in absolute form with ``Proxy-Authorization`` from the proxy URL's userinfo; an
  https request opens a ``CONNECT`` tunnel (the credentials go to the proxy only) and TLS to
  the origin inside it;
- TLS from ``_common.SSLContexts`` (one context, so one pool, per TLS setting), the server
  name checked as the URL's host;
- errors mapped at this boundary onto ``hookwire.errors`` with ``_common.message`` (redacted
  URL, the root cause's type and OS reason), never a library's own text.

What both faces decide alike (request framing, proxies, the CONNECT, error mapping) is
``_native``; ``native_sync`` is the same transport on blocking sockets.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

from hookwire import errors
from hookwire.plugin import PluginHost, Request, Response, TransportRegister, hookimpl
from hookwire.plugins.transports import _common, _h1, _native
from hookwire.plugins.transports._native import PoolKey
from hookwire.transports import AsyncBaseTransport, TransportOptions

if TYPE_CHECKING:
    from hookwire.timeouts import Timeout

#: Keep at most this much of a response body read ahead of its consumer.
_READ_AHEAD = _common.READ_AHEAD


class _Connection(asyncio.Protocol):
    """One HTTP/1.1 connection: the event loop feeds it, one exchange at a time reads it."""

    __slots__ = (
        "_due",
        "_loop",
        "_sock",
        "_timer",
        "_waiter",
        "closed",
        "dead",
        "error",
        "key",
        "lost",
        "parser",
        "paused",
        "spare",
        "transport",
        "writable",
    )

    def __init__(self, loop: asyncio.AbstractEventLoop, key: PoolKey) -> None:
        self._loop = loop
        self.key = key
        self.transport: Any = None
        self._sock: Any = None
        #: The parser of the exchange in progress; None while the connection is idle.
        self.parser: _h1.ResponseParser | None = None
        #: This connection's parser, kept between exchanges (``reset`` for each).
        self.spare: _h1.ResponseParser | None = None
        self._waiter: asyncio.Future[bool] | None = None
        #: The read timer (see ``wait``) and the loop time the current wait gives up at.
        self._timer: asyncio.TimerHandle | None = None
        self._due: float | None = None
        self.error: Exception | None = None
        self.lost = False  # the connection is gone (closed by either side, or broken)
        self.dead = False  # must not be used again
        self.paused = False  # reading paused: the consumer is READ_AHEAD behind
        self.writable = True  # False while the loop asks us to stop writing
        self.closed: asyncio.Future[None] = loop.create_future()

    # -- the event loop's side ------------------------------------------------------------

    def connection_made(self, transport: Any) -> None:
        self.transport = transport
        self._sock = transport.get_extra_info("socket")

    def data_received(self, data: bytes) -> None:
        parser = self.parser
        if parser is None:  # bytes while idle: the server is not speaking HTTP to us any more
            self.dead = True
            self.transport.close()
            return
        try:
            parser.feed(data)
        except Exception as exc:
            self.error = exc
            self.dead = True
            self.transport.close()
        else:
            if parser.buffered > _READ_AHEAD and not self.paused and not parser.complete:
                self.paused = True
                self.transport.pause_reading()
        self._wake()

    def eof_received(self) -> bool:
        if self.parser is not None:
            self.parser.eof()
        self.dead = True
        return False  # close the transport

    def connection_lost(self, exc: Exception | None) -> None:
        self.lost = True
        self.dead = True
        if self._timer is not None:
            self._timer.cancel()  # it holds this connection alive until it fires
            self._timer = None
        if self.parser is not None and exc is None:
            self.parser.eof()
        elif exc is not None and self.error is None:
            self.error = exc
        self._wake()
        if not self.closed.done():
            self.closed.set_result(None)

    def pause_writing(self) -> None:
        self.writable = False

    def resume_writing(self) -> None:
        self.writable = True
        self._wake()

    def _wake(self) -> None:
        waiter = self._waiter
        if waiter is not None:
            self._waiter = self._due = None
            if not waiter.done():  # a waiter cancelled with its task is simply dropped
                waiter.set_result(True)

    # -- the exchange's side --------------------------------------------------------------

    def reusable(self) -> bool:
        """Nothing has happened on this idle connection: no bytes, no EOF, no error."""
        return (
            not self.dead
            and not self.transport.is_closing()
            and (not _common.is_readable(self._sock))
        )

    def wait(self, seconds: float | None) -> asyncio.Future[bool]:
        """A future for the protocol's next news (bytes, the end, room to write), to await:
        True when news came, False when ``seconds`` passed first.

        A plain function, not a coroutine: awaiting the future itself spares a coroutine
        frame on every wait. The timer is lazy: one per connection, left armed when news
        comes first and, when it fires, re-armed for the latest wait's due time instead of
        expiring it. A timer per wait cost a TimerHandle, a heap push and a cancel on every
        exchange, although a read timeout almost never fires.
        """
        loop = self._loop
        waiter: asyncio.Future[bool] = loop.create_future()
        self._waiter = waiter
        if seconds is None:
            self._due = None
            return waiter
        due = self._due = loop.time() + seconds
        timer = self._timer
        if timer is None or timer.when() > due:
            if timer is not None:
                timer.cancel()
            self._timer = loop.call_at(due, self._on_timer)
        return waiter

    def _on_timer(self) -> None:
        self._timer = None
        due = self._due
        if due is None:
            return  # nobody is waiting: stay unarmed until the next wait
        if self._loop.time() >= due:
            waiter = self._waiter
            self._waiter = self._due = None
            if waiter is not None and not waiter.done():
                waiter.set_result(False)  # the wait's time is up, with no news
        else:
            self._timer = self._loop.call_at(due, self._on_timer)

    def resume(self) -> None:
        """The consumer took body bytes: read ahead again if it had stopped."""
        if self.paused and self.parser is not None and self.parser.buffered <= _READ_AHEAD:
            self.paused = False
            if not self.lost:
                self.transport.resume_reading()

    def close(self) -> None:
        self.dead = True
        if self.transport is not None:
            self.transport.close()

    def abort(self) -> None:
        self.dead = True
        if self.transport is not None:
            self.transport.abort()


def _bound_tls_buffer(transport: Any) -> None:
    """Keep asyncio's TLS layer from reading far ahead of a paused response: its own buffer
    of received ciphertext defaults to 256 KiB, on top of the body the protocol holds."""
    limit = getattr(transport, "set_read_buffer_limits", None)
    if limit is not None:
        with contextlib.suppress(Exception):  # a loop whose TLS transport takes no limits
            limit(high=_READ_AHEAD)


class NativeTransport(AsyncBaseTransport):
    """Async HTTP/1.1 transport on asyncio protocols and llhttp (see the module docstring)."""

    def __init__(
        self, options: TransportOptions | None = None, *, host: PluginHost | None = None
    ) -> None:
        _common.require("httptools", "native", "native")
        self._options = options or TransportOptions()
        self._contexts = _common.SSLContexts(self._options)
        self._slots = _common.Slots(self._options.max_connections)
        self._idle: dict[PoolKey, list[_Connection]] = {}
        self._idle_count = 0
        self._conns: set[_Connection] = set()
        self._planner = _native.Planner(self._contexts.default)
        self._closed = False

    # -- one exchange -----------------------------------------------------------------------

    async def handle_async_request(self, request: Request) -> Response:
        if self._closed:
            raise errors.ClientClosed("the native transport was closed")
        timeout, head, origin, proxy, key, outgoing = self._planner.plan(request)
        slots = self._slots
        if not slots.try_take():
            try:
                await slots.take(timeout.pool)
            except asyncio.TimeoutError:
                raise _native.pool_timeout(request) from None
        conn: _Connection | None = None
        try:
            conn = self._pooled(key)
            if conn is None:
                conn = await self._connect(key, origin, proxy, request, timeout)
            parser = conn.spare = _native.ready_parser(conn.spare, request)
            conn.parser = parser
            if outgoing.streamed:
                await self._send_stream(conn, parser, outgoing, request, timeout)
            else:
                data, content = outgoing.head, outgoing.content
                conn.transport.write(data + content if content else data)
                if not conn.writable:
                    await self._drain(conn, parser, request, timeout)
            if not parser.head_done:
                await self._read_head(conn, parser, request, timeout, head)
            if not outgoing.keep:
                parser.keep_alive = False  # the request asked to close: RFC 9112 9.6
        except BaseException as exc:
            if conn is not None:
                self._discard(conn)
            slots.release()
            if isinstance(exc, Exception) and not isinstance(exc, errors.SDKError):
                raise _native.send_failure(exc, request) from exc
            raise
        stream = _Stream(self, conn, parser, request, timeout.read)
        return _native.response(parser, stream, request)

    def _pooled(self, key: PoolKey) -> _Connection | None:
        idle = self._idle.get(key)
        while idle:
            conn = idle.pop()
            self._idle_count -= 1
            if conn.reusable():
                return conn
            self._discard(conn)
        return None

    async def _drain(
        self, conn: _Connection, parser: _h1.ResponseParser, request: Request, timeout: Timeout
    ) -> None:
        """Wait for a body larger than the socket takes at once to go, under ``write`` (unless
        the server answers first), so a slow reader is a WriteTimeout, not a read timeout on
        a head the server has not had the body for."""
        while not conn.writable and not conn.lost and not parser.head_done:
            if not await conn.wait(timeout.write):
                raise _native.write_timeout(request)

    async def _send_stream(
        self,
        conn: _Connection,
        parser: _h1.ResponseParser,
        outgoing: _native.Outgoing,
        request: Request,
        timeout: Timeout,
    ) -> None:
        """Write the head, then the body piece by piece as the socket drains."""
        transport = conn.transport
        counter = None if outgoing.length is None else _native.BodyCounter(outgoing.length, request)
        transport.write(outgoing.head)
        async for piece in request.aiter_body():
            if not piece:
                continue
            if conn.lost or parser.head_done:
                # The server answered (or hung up) before taking the whole body: what it
                # would read next is the rest of this body, so the connection is spent.
                conn.dead = True
                return
            if counter is not None:
                counter.add(piece)  # refused before the excess goes out
            transport.write(_h1.chunk(piece) if outgoing.chunked else piece)
            if not conn.writable:
                await self._drain(conn, parser, request, timeout)
        if counter is not None and not (conn.lost or parser.head_done):
            counter.done()
        if outgoing.chunked and not conn.lost:
            transport.write(_h1.LAST_CHUNK)

    async def _read_head(
        self,
        conn: _Connection,
        parser: _h1.ResponseParser,
        request: Request,
        timeout: Timeout,
        head: _common.HeadDeadline | None,
    ) -> None:
        per_read = _common.headers_timeout(timeout)
        while not parser.head_done:
            if conn.error is not None:
                raise _native.read_failure(conn.error, request, head, reading=False) from (
                    conn.error
                )
            if conn.lost:
                raise _common.head_error(
                    head, _native.closed_early(request, reading=False), request
                ) from _native.eof()
            seconds = per_read
            if head is not None:
                left = head.seconds_left()
                if left <= 0:
                    raise head.error(request)
                if seconds is None or left < seconds:
                    seconds = left
            if not await conn.wait(seconds):
                if head is not None and head.expired():
                    raise head.error(request)
                raise _native.read_timeout(request)
        if head is not None:
            head.done = True

    # -- connections ------------------------------------------------------------------------

    async def _connect(
        self,
        key: PoolKey,
        origin: _native.Origin,
        proxy: str | None,
        request: Request,
        timeout: Timeout,
    ) -> _Connection:
        if self._idle_count and len(self._conns) >= self._options.max_connections:
            self._evict_one()
        opening = self._open(key, origin, proxy, request)
        try:
            if timeout.connect is None:
                return await opening
            return await _common.within(opening, timeout.connect)
        except asyncio.TimeoutError as exc:
            raise _native.connect_timeout(request) from exc

    async def _open(
        self, key: PoolKey, origin: _native.Origin, proxy: str | None, request: Request
    ) -> _Connection:
        loop = asyncio.get_running_loop()
        context = self._contexts.get(key[4]) if origin.scheme == "https" else None

        def factory() -> _Connection:
            return _Connection(loop, key)

        if proxy is None:
            where, where_context = origin, context
        else:
            where = _native.proxy_origin(proxy, request)
            where_context = (
                self._contexts.get(self._contexts.default) if where.scheme == "https" else None
            )
        try:
            _, conn = await loop.create_connection(
                factory,
                where.host,
                where.port,
                ssl=where_context,
                server_hostname=where.host if where_context is not None else None,
            )
        except Exception as exc:
            raise _native.connect_failure(exc, request, via_proxy=proxy is not None) from exc
        self._conns.add(conn)
        if where_context is not None:
            _bound_tls_buffer(conn.transport)
        if proxy is None or context is None:
            return conn  # direct, or plain http through the proxy (absolute-form requests)
        try:
            await self._tunnel(conn, origin, proxy, request)
            try:
                conn.transport = await loop.start_tls(
                    conn.transport, conn, context, server_hostname=origin.host
                )
                _bound_tls_buffer(conn.transport)
            except Exception as exc:
                raise _native.connect_failure(exc, request, via_proxy=False) from exc
        except BaseException:
            self._forget(conn)
            conn.abort()
            raise
        return conn

    async def _tunnel(
        self, conn: _Connection, origin: _native.Origin, proxy: str, request: Request
    ) -> None:
        """``CONNECT host:port`` through the proxy; the tunnel is open on a 2xx."""
        parser = conn.parser = _h1.ResponseParser(head_only=True)
        conn.transport.write(_native.connect_head(origin, proxy))
        per_read = _common.headers_timeout(_common.timeouts(request))
        while not parser.head_done:
            if conn.error is not None or conn.lost:
                raise errors.ProxyError(
                    _common.message("the proxy closed the tunnel before answering", request),
                    request=request,
                )
            if not await conn.wait(per_read):
                raise errors.ProxyError(
                    _common.message("the proxy did not answer CONNECT in time", request),
                    request=request,
                )
        conn.parser = None
        refused = _native.tunnel_refused(parser, request)
        if refused is not None:
            raise refused

    def _release(self, conn: _Connection) -> None:
        """The response was read to its end: keep the connection for the next request."""
        parser = conn.parser
        conn.parser = None
        if (
            self._closed
            or parser is None
            or not parser.keep_alive
            or parser.extra
            or conn.dead
            or self._idle_count >= self._options.max_keepalive
        ):
            self._discard(conn)
            return
        if conn.paused:  # the body is all taken: read again, so an idle close is noticed
            conn.paused = False
            conn.transport.resume_reading()
        self._idle.setdefault(conn.key, []).append(conn)
        self._idle_count += 1

    def _discard(self, conn: _Connection) -> None:
        self._forget(conn)
        conn.close()

    def _forget(self, conn: _Connection) -> None:
        self._conns.discard(conn)

    def _evict_one(self) -> None:
        for idle in self._idle.values():
            if idle:
                conn = idle.pop(0)  # the longest idle of this key
                self._idle_count -= 1
                self._discard(conn)
                return

    async def aclose(self) -> None:
        self._closed = True
        conns = list(self._conns)
        self._conns.clear()
        self._idle.clear()
        self._idle_count = 0
        for conn in conns:
            conn.abort()
        if conns:
            # The sockets close in callbacks the loop runs next: let it, so none is left open
            # when the caller closes its loop.
            with contextlib.suppress(Exception):
                await asyncio.wait([c.closed for c in conns], timeout=1.0)


class _Stream:
    """The body as it arrives (at most 64 KiB a chunk); closing it frees the slot once."""

    __slots__ = ("_conn", "_done", "_parser", "_read", "_request", "_transport")

    def __init__(
        self,
        transport: NativeTransport,
        conn: _Connection,
        parser: _h1.ResponseParser,
        request: Request,
        read: float | None,
    ) -> None:
        self._transport = transport
        self._conn = conn
        self._parser = parser
        self._request = request
        self._read = read
        self._done = False

    async def __aiter__(self) -> AsyncIterator[bytes]:
        decoder = _native.decoder(self._parser.headers)
        try:
            if decoder is None:
                while piece := await self._next():
                    yield piece
            else:
                while piece := await self._next():
                    for out in decoder.feed(piece):
                        yield out
                for out in decoder.flush():
                    yield out
        except Exception as exc:
            await self.aclose()
            if isinstance(exc, errors.SDKError):
                if isinstance(exc, errors.RequestError) and exc.request is None:
                    exc.request = self._request
                raise
            raise _native.read_failure(exc, self._request, None, reading=True) from exc
        self._finish()

    async def _next(self) -> bytes:
        """The next piece of body, or b"" at its end."""
        parser, conn = self._parser, self._conn
        while True:
            piece = parser.take(_common.CHUNK_SIZE)
            if piece:
                if conn.paused:
                    conn.resume()
                return piece
            if parser.complete:
                return b""
            await self._wait()

    async def _wait(self) -> None:
        """Wait for more of the body; the error when the connection broke or went quiet."""
        conn, request = self._conn, self._request
        if conn.error is not None:
            raise _native.read_failure(conn.error, request, None, reading=True) from conn.error
        if conn.lost:
            raise _native.closed_early(request, reading=True) from _native.eof()
        if not await conn.wait(self._read):
            raise _native.read_timeout(request)

    async def aread_all(self, limit: int) -> bytes | None:
        """The whole body at once when a Content-Length within ``limit`` and no
        Content-Encoding say it cannot pass the limit; else None, having read nothing."""
        parser = self._parser
        if not _native.known_length(parser.headers, limit):
            return None
        conn = self._conn
        try:
            while not parser.complete:
                if conn.paused:
                    conn.paused = False  # the whole body is wanted (and bounded): let it in
                    conn.transport.resume_reading()
                await self._wait()
        except BaseException:
            await self.aclose()
            raise
        body = parser.body
        whole = body[0] if len(body) == 1 else b"".join(body)
        body.clear()
        parser.buffered = 0
        self._finish()
        return whole

    def _finish(self) -> None:
        if not self._done:
            self._done = True
            self._transport._release(self._conn)
            self._transport._slots.release()

    async def aclose(self) -> None:
        if not self._done:
            self._done = True
            parser = self._parser
            if parser.complete and not parser.body:
                self._transport._release(self._conn)
            else:
                self._transport._discard(self._conn)  # unread body: the connection is spent
            self._transport._slots.release()


@hookimpl(trylast=True)
def hookwire_register_transports(register: TransportRegister) -> None:
    from hookwire.plugins.transports.native_sync import NativeSyncTransport

    register("native", sync=NativeSyncTransport, async_=NativeTransport)
