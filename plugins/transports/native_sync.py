"""The ``native`` transport's sync face: the same HTTP/1.1 (``_h1``, ``_native``) on sockets.

``Client(transport="native")``. What the async face does with an event loop this does with
blocking sockets, one thread per exchange, and the wire format, framing, proxy handling and
error mapping are the very same functions (``_h1``, ``_native``), so the two faces cannot
differ on the wire or in what they raise:

- a connection is a socket (``TCP_NODELAY``; wrapped in TLS from ``_common.SSLContexts``, the
  server name checked as the URL's host) and its ``_h1.ResponseParser``, kept between
  exchanges; a request is one ``sendall`` of head and body when the body is in memory;
- every recv runs under the socket timeout of its phase: ``first_byte`` or ``read`` for the
  head, cut to what is left of the head deadline (``_common.HeadDeadline.clamp``), which does
  not restart; ``read`` for each body read; ``write`` for each send; ``connect`` for the TCP
  connect and the TLS handshake together;
- a pool of idle connections per (scheme, host, port, proxy, TLS setting), last in first out,
  up to ``max_keepalive`` in all, under a lock (a client may be shared by threads); a pooled
  connection is reused only if nothing is readable on it (an EOF the server sent while it
  idled, or stray bytes); in-flight exchanges are bounded by ``max_connections``, waited on for
  at most ``pool`` seconds (``PoolTimeout``);
- proxies as the client chose them: a plain-http request goes in absolute form with the
  proxy's login; an https request opens a ``CONNECT`` tunnel and TLS inside it. TLS to an
  https proxy with an https origin inside would be TLS in TLS, which ``ssl.SSLSocket`` cannot
  stack: it is refused with a ``ProxyError`` saying so (the async face supports it);
- a server that answers (say 413) and closes while a body is still going up: its response is
  returned when it already arrived, so the caller sees the status, not a broken pipe.
"""

from __future__ import annotations

import contextlib
import socket
import ssl
import struct
import sys
import threading
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

from hookwire import errors
from hookwire.plugin import PluginHost, Request, Response
from hookwire.plugins.transports import _common, _h1, _native
from hookwire.plugins.transports._native import PoolKey
from hookwire.transports import BaseTransport, TransportOptions

if TYPE_CHECKING:
    from hookwire.timeouts import Timeout

#: How much one recv may take: a body chunk is at most this much before the decoder.
_RECV = _common.CHUNK_SIZE


#: Whether timeouts can be the kernel's (SO_RCVTIMEO/SO_SNDTIMEO on a blocking socket, a
#: struct timeval): a Python socket with a timeout polls before every recv and send, so
#: each costs two system calls instead of one.
_KERNEL_TIMEOUTS = sys.platform.startswith(("linux", "darwin"))
_UNSET = -1.0


def _timeval(seconds: float | None) -> bytes:
    """A struct timeval for ``seconds`` (zero, the kernel's "no timeout", for None; never
    zero for a positive timeout, however small)."""
    if seconds is None:
        return struct.pack("ll", 0, 0)
    whole = int(seconds)
    micro = int((seconds - whole) * 1_000_000)
    if whole == 0 and micro == 0:
        micro = 1
    return struct.pack("ll", whole, micro)


class _SyncConnection:
    """A socket and the parser its responses go through.

    On Linux and macOS the socket stays blocking and each phase's timeout is set in the
    kernel, only when it changes (``_recv_for``, ``_send_for``): one system call per recv or
    send instead of a poll and the call. A kernel timeout ends the call with EAGAIN, which
    this class turns into ``TimeoutError`` as a Python socket timeout would be. Elsewhere,
    or when the socket option is refused, it falls back to ``settimeout``.
    """

    __slots__ = ("_kernel", "_rcv", "_snd", "closed", "dead", "key", "on_close", "parser", "sock")

    def __init__(self, sock: socket.socket, key: PoolKey) -> None:
        self.sock = sock
        self.key = key
        self.parser: _h1.ResponseParser | None = None
        self.dead = False
        self.closed = False
        #: Told once when the socket is closed (the transport's count of open connections).
        self.on_close: Callable[[_SyncConnection], None] | None = None
        self._rcv = self._snd = _UNSET
        self._kernel = _KERNEL_TIMEOUTS
        if self._kernel:
            try:
                sock.settimeout(None)
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVTIMEO, _timeval(None))
            except OSError:
                self._kernel = False

    def reusable(self) -> bool:
        return not self.dead and not _common.is_readable(self.sock)

    def wrapped(self, sock: socket.socket) -> None:
        """Go on over ``sock``, the TLS socket now around this one (a tunnel's)."""
        self.sock = sock
        if self._kernel:
            sock.settimeout(None)  # the handshake ran under a Python timeout; blocking again

    def _recv_for(self, seconds: float | None) -> None:
        if not self._kernel:
            self.sock.settimeout(seconds)
        elif seconds != self._rcv:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVTIMEO, _timeval(seconds))
            self._rcv = _UNSET if seconds is None else seconds

    def send(self, data: bytes, seconds: float | None) -> None:
        """``sendall`` under ``seconds`` (``TimeoutError`` when the socket did not drain)."""
        sock = self.sock
        if not self._kernel:
            sock.settimeout(seconds)
            sock.sendall(data)
            return
        if seconds != self._snd:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDTIMEO, _timeval(seconds))
            self._snd = _UNSET if seconds is None else seconds
        try:
            sock.sendall(data)
        except (BlockingIOError, ssl.SSLWantWriteError) as exc:
            raise TimeoutError("timed out") from exc

    def fill(self, parser: _h1.ResponseParser, seconds: float | None) -> None:
        """One recv into the parser (an EOF ends an until-close body); ``TimeoutError`` when
        nothing came within ``seconds``."""
        self._recv_for(seconds)
        try:
            data = self.sock.recv(_RECV)
        except (BlockingIOError, ssl.SSLWantReadError) as exc:
            raise TimeoutError("timed out") from exc
        if data:
            parser.feed(data)
        else:
            self.dead = True
            parser.eof()
            if not parser.complete:
                raise _Closed

    def close(self) -> None:
        self.dead = True
        if self.closed:
            return
        self.closed = True
        with contextlib.suppress(OSError):
            self.sock.close()
        if self.on_close is not None:
            self.on_close(self)


class _Closed(Exception):
    """The server closed the connection before the message ended."""


class NativeSyncTransport(BaseTransport):
    """Sync HTTP/1.1 transport on sockets and llhttp (see the module docstring)."""

    def __init__(
        self, options: TransportOptions | None = None, *, host: PluginHost | None = None
    ) -> None:
        _common.require("httptools", "native", "native")
        self._options = options or TransportOptions()
        self._contexts = _common.SSLContexts(self._options)
        self._free = threading.BoundedSemaphore(self._options.max_connections)
        self._lock = threading.Lock()
        self._idle: dict[PoolKey, list[_SyncConnection]] = {}
        self._idle_count = 0
        #: Every connection not yet closed, in use or idle: at most ``max_connections``.
        self._open: set[_SyncConnection] = set()
        self._planner = _native.Planner(self._contexts.default)
        self._closed = False

    # -- one exchange -----------------------------------------------------------------------

    def handle_request(self, request: Request) -> Response:
        if self._closed:
            raise errors.ClientClosed("the native transport was closed")
        timeout, head, origin, proxy, key, outgoing = self._planner.plan(request)
        if not self._free.acquire(timeout=-1 if timeout.pool is None else timeout.pool):
            raise _native.pool_timeout(request)
        conn: _SyncConnection | None = None
        try:
            conn = self._pooled(key)
            if conn is None:
                conn = self._connect(key, origin, proxy, request, timeout)
            parser = conn.parser = _native.ready_parser(conn.parser, request)
            self._send(conn, parser, outgoing, request, timeout, head)
            self._read_head(conn, parser, request, timeout, head)
            if not outgoing.keep:
                parser.keep_alive = False  # the request asked to close: RFC 9112 9.6
        except BaseException as exc:
            if conn is not None:
                conn.close()
            self._free.release()
            if isinstance(exc, Exception) and not isinstance(exc, errors.SDKError):
                raise _native.send_failure(exc, request) from exc
            raise
        return _native.response(
            parser, _SyncStream(self, conn, parser, request, timeout.read), request
        )

    def _pooled(self, key: PoolKey) -> _SyncConnection | None:
        stale = []
        found = None
        with self._lock:
            idle = self._idle.get(key)
            while idle:
                conn = idle.pop()
                self._idle_count -= 1
                if conn.reusable():
                    found = conn
                    break
                stale.append(conn)
        for conn in stale:
            conn.close()
        return found

    def _send(
        self,
        conn: _SyncConnection,
        parser: _h1.ResponseParser,
        outgoing: _native.Outgoing,
        request: Request,
        timeout: Timeout,
        head: _common.HeadDeadline | None,
    ) -> None:
        data, content, streamed, chunked = outgoing[:4]
        write = timeout.write
        try:
            if not streamed:
                conn.send(data + content if content else data, write)
                return
            conn.send(data, write)
            length = outgoing.length
            counter = None if length is None else _native.BodyCounter(length, request)
            for piece in request.iter_body():
                if piece:
                    if counter is not None:
                        counter.add(piece)  # refused before the excess goes out
                    conn.send(_h1.chunk(piece) if chunked else piece, write)
            if counter is not None:
                counter.done()
            if chunked:
                conn.send(_h1.LAST_CHUNK, write)
        except TimeoutError as exc:
            raise _native.write_timeout(request) from exc
        except OSError as exc:
            conn.dead = True  # the body did not all go: never reuse the connection
            if _common.is_tls_failure(exc) or not self._answered_early(conn, parser, timeout):
                raise _native.send_failure(exc, request) from exc

    @staticmethod
    def _answered_early(
        conn: _SyncConnection, parser: _h1.ResponseParser, timeout: Timeout
    ) -> bool:
        """Whether the server's response head is already there after a send failed (it
        answered, then closed, before taking the whole body)."""
        try:
            while not parser.head_done:
                conn.fill(parser, _common.headers_timeout(timeout))
        except Exception:
            return False
        return True

    def _read_head(
        self,
        conn: _SyncConnection,
        parser: _h1.ResponseParser,
        request: Request,
        timeout: Timeout,
        head: _common.HeadDeadline | None,
    ) -> None:
        per_read = _common.headers_timeout(timeout)
        try:
            while not parser.head_done:
                conn.fill(parser, per_read if head is None else head.clamp(per_read))
        except _common.HeadTimeout:
            assert head is not None
            raise head.error(request) from None
        except TimeoutError as exc:
            if head is not None and head.expired():
                raise head.error(request) from exc
            raise _native.read_timeout(request) from exc
        except _Closed:
            raise _common.head_error(
                head, _native.closed_early(request, reading=False), request
            ) from _native.eof()
        except errors.SDKError as exc:
            raise _native.read_failure(exc, request, head, reading=False) from exc
        except OSError as exc:
            raise _native.read_failure(exc, request, head, reading=False) from exc
        if head is not None:
            head.done = True

    # -- connections ------------------------------------------------------------------------

    def _connect(
        self,
        key: PoolKey,
        origin: _native.Origin,
        proxy: str | None,
        request: Request,
        timeout: Timeout,
    ) -> _SyncConnection:
        context = self._contexts.get(key[4]) if origin.scheme == "https" else None
        if proxy is None:
            where, where_context = origin, context
        else:
            where = _native.proxy_origin(proxy, request)
            where_context = (
                self._contexts.get(self._contexts.default) if where.scheme == "https" else None
            )
            if where_context is not None and context is not None:
                raise errors.ProxyError(
                    _common.message(
                        "an https origin through an https proxy (TLS in TLS) is not supported "
                        "by the sync native transport; use an http proxy URL or another "
                        "transport",
                        request,
                    ),
                    request=request,
                )
        via_proxy = proxy is not None
        self._make_room()
        try:
            sock = socket.create_connection((where.host, where.port), timeout=timeout.connect)
        except TimeoutError as exc:
            raise _native.connect_timeout(request) from exc
        except OSError as exc:
            raise _native.connect_failure(exc, request, via_proxy=via_proxy) from exc
        conn: _SyncConnection | None = None
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if where_context is not None:
                sock = self._wrap(sock, where_context, where.host, request, timeout, via_proxy)
            conn = _SyncConnection(sock, key)
            with self._lock:
                self._open.add(conn)
            conn.on_close = self._gone
            if proxy is not None and context is not None:
                self._tunnel(conn, origin, proxy, request, timeout)
                conn.wrapped(self._wrap(sock, context, origin.host, request, timeout, False))
        except BaseException:
            with contextlib.suppress(OSError):
                sock.close()
            if conn is not None:
                conn.close()  # and out of the count
            raise
        return conn

    def _make_room(self) -> None:
        """At ``max_connections`` open, close the longest idle connection (of any origin)
        before opening another, so idle ones never push the total past the bound."""
        victim = None
        with self._lock:
            if len(self._open) >= self._options.max_connections and self._idle_count:
                for idle in self._idle.values():
                    if idle:
                        victim = idle.pop(0)
                        self._idle_count -= 1
                        break
        if victim is not None:
            victim.close()

    def _gone(self, conn: _SyncConnection) -> None:
        with self._lock:
            self._open.discard(conn)

    @staticmethod
    def _wrap(
        sock: socket.socket,
        context: ssl.SSLContext,
        host: str,
        request: Request,
        timeout: Timeout,
        via_proxy: bool,
    ) -> ssl.SSLSocket:
        """TLS over ``sock``, the handshake under the connect timeout."""
        sock.settimeout(timeout.connect)
        try:
            return context.wrap_socket(sock, server_hostname=host)
        except TimeoutError as exc:
            raise _native.connect_timeout(request) from exc
        except OSError as exc:
            raise _native.connect_failure(exc, request, via_proxy=via_proxy) from exc

    @staticmethod
    def _tunnel(
        conn: _SyncConnection,
        origin: _native.Origin,
        proxy: str,
        request: Request,
        timeout: Timeout,
    ) -> None:
        """``CONNECT host:port`` through the proxy; the tunnel is open on a 2xx."""
        parser = _h1.ResponseParser(head_only=True)
        try:
            conn.send(_native.connect_head(origin, proxy), timeout.write)
            while not parser.head_done:
                conn.fill(parser, _common.headers_timeout(timeout))
        except TimeoutError as exc:
            raise errors.ProxyError(
                _common.message("the proxy did not answer CONNECT in time", request),
                request=request,
            ) from exc
        except (OSError, _Closed, errors.ProtocolError) as exc:
            raise errors.ProxyError(
                _common.message("the proxy closed the tunnel before answering", request),
                request=request,
            ) from exc
        refused = _native.tunnel_refused(parser, request)
        if refused is not None:
            raise refused

    def _release(self, conn: _SyncConnection) -> None:
        """The response was read to its end: keep the connection for the next request."""
        parser = conn.parser
        keep = (
            not self._closed
            and parser is not None
            and parser.keep_alive
            and not parser.extra
            and not conn.dead
        )
        if keep:
            with self._lock:
                if self._idle_count < self._options.max_keepalive and not self._closed:
                    self._idle.setdefault(conn.key, []).append(conn)
                    self._idle_count += 1
                    return
        conn.close()

    def close(self) -> None:
        self._closed = True
        with self._lock:
            conns = [c for idle in self._idle.values() for c in idle]
            self._idle.clear()
            self._idle_count = 0
        for conn in conns:
            conn.close()


class _SyncStream:
    """The body as it arrives (at most 64 KiB a chunk); closing it frees the slot once."""

    __slots__ = ("_conn", "_done", "_parser", "_read", "_request", "_transport")

    def __init__(
        self,
        transport: NativeSyncTransport,
        conn: _SyncConnection,
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

    def __iter__(self) -> Iterator[bytes]:
        decoder = _native.decoder(self._parser.headers)
        try:
            if decoder is None:
                while piece := self._next():
                    yield piece
            else:
                while piece := self._next():
                    yield from decoder.feed(piece)
                yield from decoder.flush()
        except Exception as exc:
            self.close()
            if isinstance(exc, errors.SDKError):
                if isinstance(exc, errors.RequestError) and exc.request is None:
                    exc.request = self._request
                raise
            raise _native.read_failure(exc, self._request, None, reading=True) from exc
        self._finish()

    def _next(self) -> bytes:
        """The next piece of body, or b"" at its end."""
        parser, conn, request = self._parser, self._conn, self._request
        while True:
            piece = parser.take(_common.CHUNK_SIZE)
            if piece or parser.complete:
                return piece
            try:
                conn.fill(parser, self._read)
            except TimeoutError as exc:
                raise _native.read_timeout(request) from exc
            except _Closed:
                raise _native.closed_early(request, reading=True) from _native.eof()
            except errors.SDKError as exc:
                raise _native.read_failure(exc, request, None, reading=True) from exc

    def _finish(self) -> None:
        if not self._done:
            self._done = True
            self._transport._release(self._conn)
            self._transport._free.release()

    def close(self) -> None:
        if not self._done:
            self._done = True
            parser = self._parser
            if parser.complete and not parser.body:
                self._transport._release(self._conn)
            else:
                self._conn.close()  # unread body: the connection is spent
            self._transport._free.release()
