"""The ``native`` transport (async): hookwire's own HTTP/1.1 client on asyncio.

``AsyncClient(transport="native")``; ``pip install 'hookwire[native]'`` (it needs only
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

There is no sync face yet: the sync transports (requests, httpx) already come within 10% of
their raw libraries, and the async one is where the other libraries' overhead showed.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import ssl
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, unquote, urlsplit

from hookwire import errors
from hookwire.plugin import Headers, PluginHost, Request, Response, TransportRegister, hookimpl
from hookwire.plugins.transports import _common, _h1
from hookwire.transports import AsyncBaseTransport, TLSSettings, TransportOptions

if TYPE_CHECKING:
    from hookwire.plugin import ContentDecoder
    from hookwire.timeouts import Timeout

#: (scheme, host, port, proxy URL, TLS setting): connections are pooled per key.
PoolKey = tuple[str, str, int, "str | None", TLSSettings]

_DEFAULT_PORTS = {"http": 80, "https": 443}
#: Methods that carry ``Content-Length: 0`` when they have no body (as requests and httpx
#: send them; some servers answer 411 Length Required without it).
_LENGTH_METHODS = frozenset({"POST", "PUT", "PATCH"})
#: Keep the kernel's socket buffer from holding more than this much of a response unread.
_READ_AHEAD = _common.READ_AHEAD


class _Origin:
    """What the transport needs from a URL's scheme and authority, parsed once per origin."""

    __slots__ = ("host", "host_header", "port", "scheme")

    def __init__(self, scheme: str, host: str, port: int, host_header: str) -> None:
        self.scheme = scheme
        self.host = host
        self.port = port
        self.host_header = host_header


def _origin_of(scheme: str, netloc: str) -> _Origin:
    """Parse ``netloc`` (userinfo dropped: the client strips it; this is for a request handed
    to the transport directly, whose user:password must not reach the wire)."""
    netloc = netloc.rpartition("@")[2]
    parts = urlsplit(f"{scheme}://{netloc}/")
    try:
        host = parts.hostname
        port = parts.port
    except ValueError as exc:  # a port that is not a number, or out of range
        raise ValueError(str(exc)) from None
    if not host:
        raise ValueError("no host")
    if not host.isascii():
        host = host.encode("idna").decode("ascii")
    default = _DEFAULT_PORTS[scheme]
    shown = f"[{host}]" if ":" in host else host
    header = shown if port is None or port == default else f"{shown}:{port}"
    return _Origin(scheme, host, port or default, header)


class _Connection(asyncio.Protocol):
    """One HTTP/1.1 connection: the event loop feeds it, one exchange at a time reads it."""

    __slots__ = (
        "_loop",
        "_sock",
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
            if parser.buffered > _READ_AHEAD and not self.paused:
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
        if waiter is not None and not waiter.done():
            waiter.set_result(True)

    # -- the exchange's side --------------------------------------------------------------

    def reusable(self) -> bool:
        """Nothing has happened on this idle connection: no bytes, no EOF, no error."""
        return (
            not self.dead
            and not self.transport.is_closing()
            and (not _common.is_readable(self._sock))
        )

    async def wait(self, seconds: float | None) -> bool:
        """Wait for the protocol to have news (bytes, the end, room to write); False when
        ``seconds`` passed first."""
        waiter: asyncio.Future[bool] = self._loop.create_future()
        self._waiter = waiter
        if seconds is None:
            try:
                return await waiter
            finally:
                self._waiter = None
        timer = self._loop.call_later(seconds, _expire, waiter)
        try:
            return await waiter
        finally:
            timer.cancel()
            self._waiter = None

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


def _expire(waiter: asyncio.Future[bool]) -> None:
    if not waiter.done():
        waiter.set_result(False)  # the timer fired before any news


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
        self._origins: dict[str, _Origin] = {}
        self._targets: dict[str, tuple[_Origin, str]] = {}
        self._closed = False

    # -- one exchange -----------------------------------------------------------------------

    async def handle_async_request(self, request: Request) -> Response:
        if self._closed:
            raise errors.ClientClosed("the native transport was closed")
        timeout = _common.timeouts(request)
        head = _common.head_deadline(timeout)
        origin, target = self._split(request)
        proxy = _common.proxy_for(request)
        tls = _common.tls_of(request, self._contexts.default)
        key: PoolKey = (origin.scheme, origin.host, origin.port, proxy, tls)
        slots = self._slots
        if not slots.try_take():
            try:
                await slots.take(timeout.pool)
            except asyncio.TimeoutError:
                raise errors.PoolTimeout(
                    _common.message("no pooled connection became free in time", request),
                    request=request,
                ) from None
        conn: _Connection | None = None
        try:
            conn = self._pooled(key)
            if conn is None:
                conn = await self._connect(key, origin, proxy, request, timeout)
            parser = conn.spare
            if parser is None:
                parser = conn.spare = _h1.ResponseParser(head_only=request.method == "HEAD")
            else:
                parser.reset(head_only=request.method == "HEAD")
            conn.parser = parser
            await self._send(conn, request, origin, target, proxy, timeout)
            if not parser.head_done:
                await self._read_head(conn, parser, request, timeout, head)
        except BaseException as exc:
            if conn is not None:
                self._discard(conn)
            slots.release()
            if isinstance(exc, Exception) and not isinstance(exc, errors.SDKError):
                raise self._map(exc, request, proxy) from exc
            raise
        headers = Headers.from_wire(
            [(k.decode("latin-1"), v.decode("latin-1")) for k, v in parser.headers]
        )
        return Response(
            parser.status,
            headers=headers,
            stream=_Stream(self, conn, parser, request, timeout.read),
            request=request,
            reason_phrase=parser.reason,
            http_version=parser.version,
        )

    def _split(self, request: Request) -> tuple[_Origin, str]:
        """The origin and the request target, kept per URL (an API client calls the same few
        URLs again and again; the cache is bounded)."""
        url = request.url
        known = self._targets.get(url)
        if known is not None:
            return known
        split = self._split_new(request, url)
        if len(self._targets) >= 512:
            self._targets.clear()
        self._targets[url] = split
        return split

    def _split_new(self, request: Request, url: str) -> tuple[_Origin, str]:
        sent = _common.as_sent(url)
        scheme, sep, rest = (url if sent is None else sent).partition("://")
        scheme = scheme.lower()
        if not sep or scheme not in _DEFAULT_PORTS:
            raise errors.InvalidURL(_common.message("invalid URL", request))
        cut = len(rest)
        for mark in "/?#":
            at = rest.find(mark)
            if 0 <= at < cut:
                cut = at
        netloc, target = rest[:cut], rest[cut:]
        target = target.partition("#")[0]
        if not target.startswith("/"):
            target = "/" + target
        if sent is None:  # non-ASCII text in the path or query: UTF-8, percent-encoded
            target = quote(target, safe="!#$%&'()*+,/:;=?@[]~")
        origin = self._origins.get(f"{scheme}://{netloc}")
        if origin is None:
            try:
                origin = _origin_of(scheme, netloc)
            except (ValueError, UnicodeError) as exc:
                raise errors.InvalidURL(_common.message("invalid URL", request)) from exc
            if len(self._origins) < 1024:
                self._origins[f"{scheme}://{netloc}"] = origin
        return origin, target

    def _pooled(self, key: PoolKey) -> _Connection | None:
        idle = self._idle.get(key)
        while idle:
            conn = idle.pop()
            self._idle_count -= 1
            if conn.reusable():
                return conn
            self._forget(conn)
            conn.close()
        return None

    async def _send(
        self,
        conn: _Connection,
        request: Request,
        origin: _Origin,
        target: str,
        proxy: str | None,
        timeout: Timeout,
    ) -> None:
        pairs, names = _common.wire_pairs(request)
        if "host" not in names:
            pairs.insert(0, ("Host", origin.host_header))
        if proxy is not None and origin.scheme == "http":
            # Absolute form, to the proxy itself; its login goes in Proxy-Authorization.
            target = f"http://{origin.host_header}{target}"
            login = _proxy_login(proxy)
            if login is not None and "proxy-authorization" not in names:
                pairs.append(("Proxy-Authorization", login))
        content = request.content
        streamed = request.stream is not None
        framed = "content-length" in names or "transfer-encoding" in names
        chunked = False
        if streamed:
            if not framed and not (pairs and pairs[-1][0] == "Content-Length"):  # added last
                pairs.append(("Transfer-Encoding", "chunked"))
                chunked = True
            elif (
                "transfer-encoding" in names
                and request.headers.get("transfer-encoding", "").rsplit(",", 1)[-1].strip().lower()
                == "chunked"
            ):
                chunked = True
        elif not framed and (content or request.method in _LENGTH_METHODS):
            pairs.append(("Content-Length", str(len(content or b""))))
        head = _h1.request_head(request.method, target, pairs)
        transport = conn.transport
        parser = conn.parser
        assert parser is not None
        if not streamed:
            transport.write(head + content if content else head)
            # A body larger than the socket takes at once: wait for it to go, under ``write``
            # (unless the server answers first), so a slow reader is a WriteTimeout, not a
            # read timeout on a head the server has not had the body for.
            while not conn.writable and not conn.lost and not parser.head_done:
                if not await conn.wait(timeout.write):
                    raise errors.WriteTimeout(
                        _common.message("write timed out", request), request=request
                    )
            return
        transport.write(head)
        async for piece in request.aiter_body():
            if not piece:
                continue
            if conn.lost or parser.head_done:
                break  # the server answered (or hung up) before taking the whole body
            transport.write(_h1.chunk(piece) if chunked else piece)
            while not conn.writable and not conn.lost:
                if not await conn.wait(timeout.write):
                    raise errors.WriteTimeout(
                        _common.message("write timed out", request), request=request
                    )
        else:
            if chunked and not conn.lost:
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
                raise _read_failure(conn.error, request, head, reading=False) from conn.error
            if conn.lost:
                raise _common.head_error(
                    head,
                    errors.ReadError(
                        _common.message(
                            "the server closed the connection without a response", request
                        ),
                        request=request,
                    ),
                    request,
                ) from _EOF()
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
                raise errors.ReadTimeout(
                    _common.message("read timed out", request), request=request
                )
        if head is not None:
            head.done = True

    # -- connections ------------------------------------------------------------------------

    async def _connect(
        self,
        key: PoolKey,
        origin: _Origin,
        proxy: str | None,
        request: Request,
        timeout: Timeout,
    ) -> _Connection:
        if self._idle_count and len(self._conns) >= self._options.max_connections:
            self._evict_one()
        opening = self._open(key, origin, proxy, request)
        try:
            if timeout.connect is None:
                conn = await opening
            else:
                conn = await _common.within(opening, timeout.connect)
        except asyncio.TimeoutError as exc:
            raise errors.ConnectTimeout(
                _common.message("connect timed out", request), request=request
            ) from exc
        return conn

    async def _open(
        self, key: PoolKey, origin: _Origin, proxy: str | None, request: Request
    ) -> _Connection:
        loop = asyncio.get_running_loop()
        tls = key[4]
        context = self._contexts.get(tls) if origin.scheme == "https" else None

        def factory() -> _Connection:
            return _Connection(loop, key)

        if proxy is None:
            try:
                _, conn = await loop.create_connection(
                    factory,
                    origin.host,
                    origin.port,
                    ssl=context,
                    server_hostname=origin.host if context is not None else None,
                )
            except Exception as exc:
                raise _connect_failure(exc, request, via_proxy=False) from exc
            self._conns.add(conn)
            return conn
        proxy_origin, proxy_context = self._proxy_origin(proxy, request)
        try:
            _, conn = await loop.create_connection(
                factory,
                proxy_origin.host,
                proxy_origin.port,
                ssl=proxy_context,
                server_hostname=proxy_origin.host if proxy_context is not None else None,
            )
        except Exception as exc:
            raise _connect_failure(exc, request, via_proxy=True) from exc
        self._conns.add(conn)
        if context is None:
            return conn  # plain http: requests go to the proxy in absolute form
        try:
            await self._tunnel(conn, origin, proxy, request)
            try:
                transport = await loop.start_tls(
                    conn.transport, conn, context, server_hostname=origin.host
                )
            except Exception as exc:
                raise _connect_failure(exc, request, via_proxy=False) from exc
            conn.transport = transport
        except BaseException:
            self._forget(conn)
            conn.abort()
            raise
        return conn

    def _proxy_origin(self, proxy: str, request: Request) -> tuple[_Origin, ssl.SSLContext | None]:
        scheme, _, rest = proxy.partition("://")
        scheme = scheme.lower()
        if scheme not in _DEFAULT_PORTS:
            raise errors.ProxyError(
                _common.message(f"unsupported proxy scheme {scheme!r}", request),
                request=request,
            )
        try:
            origin = _origin_of(scheme, rest.split("/", 1)[0])
        except (ValueError, UnicodeError) as exc:
            raise errors.ProxyError(
                _common.message("invalid proxy URL", request), request=request
            ) from exc
        context = self._contexts.get(self._contexts.default) if scheme == "https" else None
        return origin, context

    async def _tunnel(
        self, conn: _Connection, origin: _Origin, proxy: str, request: Request
    ) -> None:
        """``CONNECT host:port`` through the proxy; the tunnel is open on a 2xx."""
        authority = f"[{origin.host}]" if ":" in origin.host else origin.host
        authority = f"{authority}:{origin.port}"
        pairs: list[tuple[str, Any]] = [("Host", authority)]
        login = _proxy_login(proxy)
        if login is not None:
            pairs.append(("Proxy-Authorization", login))
        parser = conn.parser = _h1.ResponseParser(head_only=True)
        conn.transport.write(_h1.request_head("CONNECT", authority, pairs))
        timeout = _common.timeouts(request)
        while not parser.head_done:
            if conn.error is not None or conn.lost:
                raise errors.ProxyError(
                    _common.message("the proxy closed the tunnel before answering", request),
                    request=request,
                )
            if not await conn.wait(_common.headers_timeout(timeout)):
                raise errors.ProxyError(
                    _common.message("the proxy did not answer CONNECT in time", request),
                    request=request,
                )
        conn.parser = None
        if not 200 <= parser.status < 300 or parser.extra:
            raise errors.ProxyError(
                _common.message(f"the proxy refused the tunnel ({parser.status})", request),
                request=request,
            )

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
            or conn.paused
            or self._idle_count >= self._options.max_keepalive
        ):
            self._discard(conn)
            return
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

    def _map(self, exc: Exception, request: Request, proxy: str | None) -> errors.SDKError:
        if _common.is_tls_failure(exc):
            return errors.TLSError(_common.message("TLS failed", request, exc), request=request)
        if isinstance(exc, OSError):
            return errors.WriteError(
                _common.message("the connection broke while sending the request", request, exc),
                request=request,
            )
        return errors.TransportError(
            _common.message("the native transport failed", request, exc), request=request
        )

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
        decoder = _decoder(self._parser.headers)
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
            raise _read_failure(exc, self._request, None, reading=True) from exc
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
            if conn.error is not None:
                raise _read_failure(conn.error, self._request, None, reading=True) from conn.error
            if conn.lost:
                raise errors.ReadError(
                    _common.message("the connection broke while reading the body", self._request),
                    request=self._request,
                ) from _EOF()
            if not await conn.wait(self._read):
                raise errors.ReadTimeout(
                    _common.message("read timed out", self._request), request=self._request
                )

    async def aread_all(self, limit: int) -> bytes | None:
        """The whole body at once when a Content-Length within ``limit`` and no
        Content-Encoding say it cannot pass the limit; else None, having read nothing."""
        parser = self._parser
        length = None
        for name, value in parser.headers:
            lowered = name.lower()
            if lowered == b"content-length":
                length = value
            elif lowered == b"content-encoding":
                return None
        if length is None or not length.isdigit() or int(length) > limit:
            return None
        conn = self._conn
        try:
            while not parser.complete:
                if conn.error is not None:
                    raise _read_failure(
                        conn.error, self._request, None, reading=True
                    ) from conn.error
                if conn.lost:
                    raise errors.ReadError(
                        _common.message(
                            "the connection broke while reading the body", self._request
                        ),
                        request=self._request,
                    ) from _EOF()
                if parser.buffered > _READ_AHEAD and conn.paused:
                    conn.paused = False  # the whole body is wanted: let it all in
                    conn.transport.resume_reading()
                if not await conn.wait(self._read):
                    raise errors.ReadTimeout(
                        _common.message("read timed out", self._request), request=self._request
                    )
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


def _decoder(headers: list[tuple[bytes, bytes]]) -> ContentDecoder | None:
    codings = [v.decode("latin-1") for k, v in headers if k.lower() == b"content-encoding"]
    if not codings:
        return None
    return _common.decoder_for(", ".join(codings))


def _EOF() -> EOFError:
    """The cause of a read cut short by the server closing the connection cleanly."""
    return EOFError("the server closed the connection")


def _proxy_login(proxy: str) -> str | None:
    """``Basic ...`` from the proxy URL's userinfo, or None without one."""
    netloc = proxy.partition("://")[2].split("/", 1)[0]
    if "@" not in netloc:
        return None
    userinfo = netloc.rpartition("@")[0]
    user, _, password = userinfo.partition(":")
    token = f"{unquote(user)}:{unquote(password)}".encode()
    return "Basic " + base64.b64encode(token).decode("ascii")


def _connect_failure(exc: BaseException, request: Request, *, via_proxy: bool) -> errors.SDKError:
    if isinstance(exc, errors.SDKError):
        return exc
    if _common.is_tls_failure(exc):
        return errors.TLSError(_common.message("TLS failed", request, exc), request=request)
    if via_proxy:
        return errors.ProxyError(_common.message("the proxy failed", request, exc), request=request)
    return errors.ConnectError(_common.message("could not connect", request, exc), request=request)


def _read_failure(
    exc: BaseException, request: Request, head: _common.HeadDeadline | None, *, reading: bool
) -> errors.SDKError:
    """What a broken read becomes: the parser's ProtocolError (now naming the request), a TLS
    failure, or a ReadError; the head deadline's own error when it is what ran out."""
    if isinstance(exc, errors.SDKError):
        if isinstance(exc, errors.ProtocolError):
            mapped: errors.SDKError = type(exc)(_common.message(str(exc), request), request=request)
            return mapped
        return exc
    if _common.is_tls_failure(exc):
        return errors.TLSError(_common.message("TLS failed", request, exc), request=request)
    what = (
        "the connection broke while reading the body"
        if reading
        else "the server closed the connection without a response"
    )
    return _common.head_error(
        head, errors.ReadError(_common.message(what, request, exc), request=request), request
    )


@hookimpl(trylast=True)
def hookwire_register_transports(register: TransportRegister) -> None:
    register("native", async_=NativeTransport)
