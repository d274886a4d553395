"""The ``httpx`` transports, sync and async, on httpx's own connection-pool transports.

We drive ``httpx.HTTPTransport`` / ``httpx.AsyncHTTPTransport`` directly rather than an
``httpx.Client``: the client layer would add its default headers, keep a cookie jar, follow
redirects and run auth, all of which belong to ``hookwire.Client`` and must behave the same on every
transport. The transport layer is exactly "one request in, one streamed response out", pooled.

- One pooled httpx transport per (proxy URL, TLS setting), created on first use, because httpx
  binds a proxy and an ``ssl.SSLContext`` to a transport: a request with its own ``verify=``
  or ``cert=`` never shares a connection with one verified differently. ``trust_env=False``
  so httpx never reads proxies or ``SSL_CERT_FILE`` itself (the client has already chosen
  the proxy and the CA bundle).
- ``retries=0``: httpcore's connect retries would add attempts the client cannot see.
- Timeouts go in the request's ``timeout`` extension. ``first_byte`` bounds the headers; the
  body then reads with ``read`` (httpcore reads the extension again when the body starts).
  httpcore's read timeout is per read, so the head deadline (``_common.head_deadline``) is
  enforced one level down: each pool's network backend is wrapped (``_DeadlineBackend``) so
  every read of a response head is clamped to what is left of it. That is the one private
  attribute used here (``HTTPTransport._pool._network_backend``, there since httpx 0.18 and
  httpcore 0.15): httpx takes no backend of its own, and a timer closing the socket would
  need the socket, which httpcore only hands over through that same backend.
- The body is read raw and decoded by :class:`~hookwire.plugin.ContentDecoder` (see
  ``_common.decoder_for``), so no single chunk grows past 64 KiB however well the payload
  compresses.

This module also holds the built-in ``hookwire_default_transport`` answer: httpx for sync clients,
aiohttp for async ones when aiohttp is importable (it is much faster under concurrency), else
httpx.
"""

from __future__ import annotations

import contextlib
import importlib.util
import threading
from collections.abc import AsyncIterator, Iterator
from typing import Any, NoReturn

from hookwire import errors
from hookwire.plugin import (
    PluginHost,
    Request,
    Response,
    TransportRegister,
    hookimpl,
)
from hookwire.plugins.transports import _common
from hookwire.transports import AsyncBaseTransport, BaseTransport, TLSSettings, TransportOptions

PoolKey = tuple[str | None, TLSSettings]


def _build_request(httpx: Any, request: Request, body: Any) -> Any:
    timeout = _common.timeouts(request)
    return httpx.Request(
        request.method,
        request.url,
        headers=_common.wire_headers(request),
        content=body,
        extensions={
            "timeout": {
                "connect": timeout.connect,
                "read": _common.headers_timeout(timeout),
                "write": timeout.write,
                "pool": timeout.pool,
            }
        },
    )


def _after_headers(raw: Any, request: Request, httpx_request: Any, stream: Any) -> Response:
    """Wrap httpx's raw response; body reads from here on use the ``read`` timeout."""
    httpx_request.extensions["timeout"]["read"] = _common.timeouts(request).read
    reason = raw.extensions.get("reason_phrase", b"")
    version = raw.extensions.get("http_version", b"HTTP/1.1")
    return Response(
        raw.status_code,
        headers=[(k.decode("latin-1"), v.decode("latin-1")) for k, v in raw.headers.raw],
        stream=stream,
        request=request,
        reason_phrase=reason.decode("latin-1") if isinstance(reason, bytes) else str(reason),
        http_version=version.decode("ascii") if isinstance(version, bytes) else str(version),
    )


def _head_timed_out(exc: BaseException) -> NoReturn:
    import httpcore

    raise httpcore.ReadTimeout(str(exc)) from exc


def _clamped(timeout: float | None) -> float | None:
    """This read's timeout: cut to the head deadline while a response head is awaited."""
    head = _common.HEAD_DEADLINE.get()
    if head is None:
        return timeout
    try:
        return head.clamp(timeout)
    except _common.HeadTimeout as exc:
        _head_timed_out(exc)


class _DeadlineStream:
    """httpcore's network stream, every read clamped by ``_clamped``; the rest passes through."""

    __slots__ = ("_inner",)

    def __init__(self, inner: Any) -> None:
        self._inner = inner

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._inner.read(max_bytes, _clamped(timeout))  # type: ignore[no-any-return]

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._inner.write(buffer, timeout)

    def close(self) -> None:
        self._inner.close()

    def start_tls(self, *args: Any, **kwargs: Any) -> _DeadlineStream:
        return _DeadlineStream(self._inner.start_tls(*args, **kwargs))

    def get_extra_info(self, info: str) -> Any:
        return self._inner.get_extra_info(info)


class _DeadlineBackend:
    """httpcore's network backend, handing out ``_DeadlineStream`` connections."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner

    def connect_tcp(self, *args: Any, **kwargs: Any) -> _DeadlineStream:
        return _DeadlineStream(self._inner.connect_tcp(*args, **kwargs))

    def connect_unix_socket(self, *args: Any, **kwargs: Any) -> _DeadlineStream:
        return _DeadlineStream(self._inner.connect_unix_socket(*args, **kwargs))

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)


class _AsyncDeadlineStream:
    """The async twin of ``_DeadlineStream`` (the deadline is per task: a context variable).

    It also answers httpcore's ``is_readable`` question itself. httpcore's pool asks it of
    every idle connection each time it places a request (``has_expired``), so with 64
    connections a request asks it dozens of times; anyio's stream answers each by rebuilding
    its table of extra attributes to find the socket (~15 us a request at 64 connections).
    The socket of a stream never changes, so it is looked up once.
    """

    __slots__ = ("_inner", "_sock")

    def __init__(self, inner: Any) -> None:
        self._inner = inner
        self._sock: Any = _UNKNOWN

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return await self._inner.read(max_bytes, _clamped(timeout))  # type: ignore[no-any-return]

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        await self._inner.write(buffer, timeout)

    async def aclose(self) -> None:
        await self._inner.aclose()

    async def start_tls(self, *args: Any, **kwargs: Any) -> _AsyncDeadlineStream:
        return _AsyncDeadlineStream(await self._inner.start_tls(*args, **kwargs))

    def get_extra_info(self, info: str) -> Any:
        if info == "is_readable":
            sock = self._sock
            if sock is _UNKNOWN:
                sock = self._sock = self._inner.get_extra_info("socket")
            return _common.is_readable(sock)
        return self._inner.get_extra_info(info)


#: A stream's socket not looked up yet (None is an answer: a stream without one).
_UNKNOWN: Any = object()


class _AsyncDeadlineBackend:
    def __init__(self, inner: Any) -> None:
        self._inner = inner

    async def connect_tcp(self, *args: Any, **kwargs: Any) -> _AsyncDeadlineStream:
        return _AsyncDeadlineStream(await self._inner.connect_tcp(*args, **kwargs))

    async def connect_unix_socket(self, *args: Any, **kwargs: Any) -> _AsyncDeadlineStream:
        return _AsyncDeadlineStream(await self._inner.connect_unix_socket(*args, **kwargs))

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


def _with_deadline_backend(transport: Any, wrapper: type) -> Any:
    """``transport`` with its httpcore pool's network backend wrapped (before any connection
    exists: connections take the backend when they are made)."""
    pool = getattr(transport, "_pool", None)
    backend = getattr(pool, "_network_backend", None)
    if backend is None:
        raise errors.PluginError(
            "this httpx/httpcore version hides the network backend the httpx transport wraps "
            "to enforce response head deadlines; use the 'requests' or 'aiohttp' transport",
            plugin="transport-httpx",
        )
    pool._network_backend = wrapper(backend)  # type: ignore[union-attr]
    return transport


def _limits(httpx: Any, options: TransportOptions) -> Any:
    return httpx.Limits(
        max_connections=options.max_connections,
        max_keepalive_connections=min(options.max_keepalive, options.max_connections),
    )


class HTTPXTransport(BaseTransport):
    """Sync httpx: one pooled ``httpx.HTTPTransport`` per proxy URL."""

    def __init__(
        self, options: TransportOptions | None = None, *, host: PluginHost | None = None
    ) -> None:
        self._httpx = _common.require("httpx", "httpx", "httpx")
        self._options = options or TransportOptions()
        self._ssl = _common.SSLContexts(self._options)
        self._pools: dict[PoolKey, Any] = {}
        self._lock = threading.Lock()
        self._closed = False

    def _pool(self, proxy: str | None, tls: TLSSettings) -> Any:
        pool = self._pools.get((proxy, tls))
        if pool is None:
            with self._lock:
                if self._closed:
                    raise errors.ClientClosed("the httpx transport was closed")
                pool = self._pools.get((proxy, tls))
                if pool is None:
                    transport = self._httpx.HTTPTransport(
                        verify=self._ssl.get(tls),
                        trust_env=False,
                        limits=_limits(self._httpx, self._options),
                        proxy=proxy,
                        retries=0,
                    )
                    pool = _with_deadline_backend(transport, _DeadlineBackend)
                    self._pools[(proxy, tls)] = pool
        return pool

    def handle_request(self, request: Request) -> Response:
        if self._closed:
            raise errors.ClientClosed("the httpx transport was closed")
        proxy = _common.proxy_for(request)
        head = _common.head_deadline(_common.timeouts(request))
        body = request.iter_body() if request.stream is not None else request.content
        token = _common.HEAD_DEADLINE.set(head) if head is not None else None
        try:
            httpx_request = _build_request(self._httpx, request, body)
            raw = self._pool(proxy, _common.tls_of(request, self._ssl.default)).handle_request(
                httpx_request
            )
        except errors.ClientClosed:
            raise
        except Exception as exc:
            raise _common.head_error(head, map_error(exc, request, proxy), request) from exc
        finally:
            if token is not None:
                _common.HEAD_DEADLINE.reset(token)
        stream = _SyncStream(raw, request)
        return _after_headers(raw, request, httpx_request, stream)

    def close(self) -> None:
        with self._lock:
            self._closed = True
            pools, self._pools = list(self._pools.values()), {}
        for pool in pools:
            pool.close()


class AsyncHTTPXTransport(AsyncBaseTransport):
    """Async httpx: one pooled ``httpx.AsyncHTTPTransport`` per proxy URL."""

    def __init__(
        self, options: TransportOptions | None = None, *, host: PluginHost | None = None
    ) -> None:
        self._httpx = _common.require("httpx", "httpx", "httpx")
        self._options = options or TransportOptions()
        self._ssl = _common.SSLContexts(self._options)
        self._pools: dict[PoolKey, Any] = {}
        self._closed = False

    def _pool(self, proxy: str | None, tls: TLSSettings) -> Any:
        # No lock: pools are created without awaiting, so no other task can interleave.
        pool = self._pools.get((proxy, tls))
        if pool is None:
            transport = self._httpx.AsyncHTTPTransport(
                verify=self._ssl.get(tls),
                trust_env=False,
                limits=_limits(self._httpx, self._options),
                proxy=proxy,
                retries=0,
            )
            pool = _with_deadline_backend(transport, _AsyncDeadlineBackend)
            self._pools[(proxy, tls)] = pool
        return pool

    async def handle_async_request(self, request: Request) -> Response:
        if self._closed:
            raise errors.ClientClosed("the httpx transport was closed")
        proxy = _common.proxy_for(request)
        head = _common.head_deadline(_common.timeouts(request))
        body = request.aiter_body() if request.stream is not None else request.content
        # A context variable is per task: only this task's reads see this head's deadline.
        token = _common.HEAD_DEADLINE.set(head) if head is not None else None
        try:
            httpx_request = _build_request(self._httpx, request, body)
            pool = self._pool(proxy, _common.tls_of(request, self._ssl.default))
            raw = await pool.handle_async_request(httpx_request)
        except Exception as exc:
            raise _common.head_error(head, map_error(exc, request, proxy), request) from exc
        finally:
            if token is not None:
                _common.HEAD_DEADLINE.reset(token)
        stream = _AsyncStream(raw, request)
        return _after_headers(raw, request, httpx_request, stream)

    async def aclose(self) -> None:
        self._closed = True
        pools, self._pools = list(self._pools.values()), {}
        for pool in pools:
            await pool.aclose()


class _SyncStream:
    """Raw httpx body, decoded in bounded steps; errors mapped; close returns the connection."""

    def __init__(self, raw: Any, request: Request) -> None:
        self._raw = raw
        self._request = request

    def __iter__(self) -> Iterator[bytes]:
        decoder = _common.decoder_for(self._raw.headers.get("content-encoding"))
        try:
            if decoder is None:  # a plain body: chunks go straight through
                for data in self._raw.stream:
                    if data:
                        yield data
            else:
                for data in self._raw.stream:
                    yield from decoder.feed(data)
                yield from decoder.flush()
        except Exception as exc:
            self.close()
            raise map_error(exc, self._request, None, reading=True) from exc
        self.close()

    def close(self) -> None:
        with contextlib.suppress(Exception):  # closing a broken stream leaves nothing to release
            self._raw.close()


class _AsyncStream:
    def __init__(self, raw: Any, request: Request) -> None:
        self._raw = raw
        self._request = request

    async def __aiter__(self) -> AsyncIterator[bytes]:
        decoder = _common.decoder_for(self._raw.headers.get("content-encoding"))
        try:
            if decoder is None:  # a plain body: chunks go straight through
                async for data in self._raw.stream:
                    if data:
                        yield data
            else:
                async for data in self._raw.stream:
                    for piece in decoder.feed(data):
                        yield piece
                for piece in decoder.flush():
                    yield piece
        except Exception as exc:
            await self.aclose()
            raise map_error(exc, self._request, None, reading=True) from exc
        await self.aclose()

    async def aclose(self) -> None:
        with contextlib.suppress(Exception):  # closing a broken stream leaves nothing to release
            await self._raw.aclose()


_PEER_CLOSED = ("server disconnected", "peer closed connection", "connection reset")


def map_error(
    exc: BaseException, request: Request, proxy: str | None, *, reading: bool = False
) -> errors.SDKError:
    """Translate an httpx exception into the SDK's tree, without httpx's own message text."""
    import httpx

    msg = _common.message
    if isinstance(exc, errors.SDKError):
        if isinstance(exc, errors.RequestError) and exc.request is None:
            exc.request = request
        return exc
    if isinstance(exc, httpx.PoolTimeout):
        return errors.PoolTimeout(
            msg("no pooled connection became free in time", request), request=request
        )
    if isinstance(exc, httpx.ConnectTimeout):
        return errors.ConnectTimeout(msg("connect timed out", request), request=request)
    if isinstance(exc, httpx.ReadTimeout):
        return errors.ReadTimeout(msg("read timed out", request), request=request)
    if isinstance(exc, httpx.WriteTimeout):
        return errors.WriteTimeout(msg("write timed out", request), request=request)
    if isinstance(exc, httpx.InvalidURL | httpx.UnsupportedProtocol):
        return errors.InvalidURL(msg("invalid URL", request))
    if _common.is_tls_failure(exc):
        return errors.TLSError(msg("TLS failed", request, exc), request=request)
    if isinstance(exc, httpx.ProxyError) or (proxy and isinstance(exc, httpx.ConnectError)):
        return errors.ProxyError(msg("the proxy failed", request, exc), request=request)
    if isinstance(exc, httpx.ConnectError):
        return errors.ConnectError(msg("could not connect", request, exc), request=request)
    if isinstance(exc, httpx.WriteError):
        return errors.WriteError(
            msg("the connection broke while sending", request, exc), request=request
        )
    if isinstance(exc, httpx.ReadError) or (
        isinstance(exc, httpx.RemoteProtocolError)
        and any(text in str(exc).lower() for text in _PEER_CLOSED)
    ):
        what = (
            "the connection broke while reading the body"
            if reading
            else ("the server closed the connection without a response")
        )
        return errors.ReadError(msg(what, request, exc), request=request)
    if isinstance(exc, httpx.DecodingError):
        return errors.DecodingError(
            msg("could not decode the response body", request), request=request
        )
    if isinstance(exc, httpx.ProtocolError):
        return errors.ProtocolError(msg("the server broke HTTP framing", request), request=request)
    if isinstance(exc, httpx.TimeoutException):
        return errors.ReadTimeout(msg("timed out", request), request=request)
    return errors.TransportError(msg("the httpx transport failed", request, exc), request=request)


# -- registration -----------------------------------------------------------------------------


@hookimpl(trylast=True)
def hookwire_register_transports(register: TransportRegister) -> None:
    register("httpx", sync=HTTPXTransport, async_=AsyncHTTPXTransport)


@hookimpl(trylast=True)
def hookwire_default_transport(is_async: bool) -> str | None:
    if not is_async:
        return "httpx"
    return "aiohttp" if importlib.util.find_spec("aiohttp") is not None else "httpx"
