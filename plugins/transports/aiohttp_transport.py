"""The ``aiohttp`` transport (async only): the fast path for concurrent async clients.

httpx's async client measured ~16x slower than aiohttp at 64 concurrent requests here, so async
users get aiohttp by default when it is installed (``pip install 'hookwire[aiohttp]'``). This
module imports aiohttp only inside the transport, so the plugin loads (and registers its name)
without it; using it then raises a ``PluginError`` naming the extra.

Choices, all to keep per-request work small and behaviour identical to the other transports:
- aiohttp's connection layer, not its ``ClientSession``: one ``TCPConnector`` per transport
  (made on first use, inside the running loop; ``limit=max_connections``), and per exchange the
  calls ``ClientSession._request`` makes for one request that follows no redirect: an
  ``aiohttp.ClientRequest``, ``connector.connect``, the protocol's ``set_response_params``,
  ``send`` and ``start``. Everything else the session does per request (URL joining, cookie
  jar, auth, netrc and proxy lookups, trace hooks, middlewares, its silent resend of an
  idempotent request on a stale pooled connection, the redirect loop) is work the client
  already did or must not be done twice; skipping it is what puts this transport under raw
  ``ClientSession`` (``benchmarks/bench_http.py``). Those calls are aiohttp's internal layer:
  ``pyproject.toml`` bounds aiohttp below 4 and ``tests/plugins/test_transport_aiohttp_layer.py``
  names each one this module relies on, so an aiohttp that changes them fails there first.
- The parser runs with ``auto_decompress=False`` (the raw body goes through the core's
  ``ContentDecoder``, as on every transport, so the bomb bound and the error for a corrupt body
  are not aiohttp's) and ``read_bufsize=_common.READ_AHEAD``, which bounds what each response
  reads ahead of its consumer; ``skip_auto_headers`` names whichever of User-Agent, Accept,
  Accept-Encoding and Content-Type the request lacks (``_skipped``: None, aiohttp's fast path,
  when it lacks none that matter), so only the headers the request carries (plus Host and
  framing) reach the wire.
- The pool timeout: aiohttp reports a slow pool wait and a slow TCP connect as the same
  exception, so the transport bounds in-flight exchanges with ``_common.Slots`` (waited on for
  at most ``pool`` seconds, released when the body is finished or closed) and the
  connector's ``sock_connect`` timeout then always means a connect timeout.
- The protocol's read timeout is ``first_byte`` (or ``read``) for the headers, and is set
  to ``read`` once they arrive, so it bounds each idle gap in the body. It restarts on
  every byte, so the head as a whole is awaited under the head deadline
  (``_common.head_deadline``: ``first_byte`` or what is left of ``total``) with
  ``_common.within``, a cancellation aiohttp answers by closing the connection.
- TLS per request: ``ssl=`` the context for the request's setting (``_common.SSLContexts``);
  aiohttp keys pooled connections on it, so differently verified requests never share one.
- The proxy URL goes per request (``proxy=``), credentials in its userinfo.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

from hookwire import errors
from hookwire.plugin import Headers, PluginHost, Request, Response, TransportRegister, hookimpl
from hookwire.plugins.transports import _common
from hookwire.transports import AsyncBaseTransport, TransportOptions

if TYPE_CHECKING:
    from hookwire.plugin import ContentDecoder

_SKIP_AUTO_HEADERS = ("User-Agent", "Accept", "Accept-Encoding", "Content-Type")

#: The in-flight bound, shared with the pyreqwest transport (kept under its old name here).
_Slots = _common.Slots


@functools.lru_cache(maxsize=64)
def _client_timeout(connect: float | None, sock_read: float | None) -> Any:
    import aiohttp

    return aiohttp.ClientTimeout(
        total=None, connect=None, sock_connect=connect, sock_read=sock_read
    )


@functools.lru_cache(maxsize=1)
def _accepted_response_params() -> frozenset[str]:
    """The keyword arguments this aiohttp's ``ResponseHandler.set_response_params`` takes
    (3.10 lacks ``max_headers``; what it lacks keeps aiohttp's default)."""
    import inspect

    from aiohttp.client_proto import ResponseHandler

    return frozenset(inspect.signature(ResponseHandler.set_response_params).parameters)


@functools.lru_cache(maxsize=64)
def _response_params(skip_payload: bool, read_timeout: float | None, ceil: float) -> Any:
    """The parser settings for one response, as ``ClientSession`` passes them (its defaults),
    with decompression off (the core decodes) and the transport's read-ahead bound."""
    from aiohttp.helpers import TimerNoop

    wanted = {
        "timer": TimerNoop(),
        "skip_payload": skip_payload,
        "read_until_eof": True,
        "auto_decompress": False,
        "read_timeout": read_timeout,
        "read_bufsize": _common.READ_AHEAD,
        "timeout_ceil_threshold": ceil,
        "max_line_size": 8190,
        "max_field_size": 8190,
    }
    accepted = _accepted_response_params()
    return {k: v for k, v in wanted.items() if k in accepted}


#: Methods aiohttp gives a default Content-Type even without a body.
_CONTENT_TYPE_METHODS = frozenset({"POST", "PUT", "PATCH"})


def _skipped(headers: Headers, has_body: bool, method: str) -> tuple[str, ...] | None:
    """The auto headers aiohttp must not add to this request: those it lacks, or None.

    None lets aiohttp take its fast path (a skip list costs it a new CIMultiDict and a copy of
    the headers per request). The request always carries Accept-Encoding (``wire_headers``)
    and, from hookwire's clients, User-Agent and Accept; Content-Type matters only with a body
    or for a method aiohttp gives one by default.
    """
    if (
        "user-agent" in headers
        and "accept" in headers
        and ("content-type" in headers or not (has_body or method in _CONTENT_TYPE_METHODS))
    ):
        return None
    return tuple(h for h in _SKIP_AUTO_HEADERS if h.lower() not in headers) or None


class AiohttpTransport(AsyncBaseTransport):
    """Async transport on one pooled ``aiohttp.ClientSession``."""

    def __init__(
        self, options: TransportOptions | None = None, *, host: PluginHost | None = None
    ) -> None:
        self._aiohttp = _common.require("aiohttp", "aiohttp", "aiohttp")
        from aiohttp.helpers import TimerNoop
        from yarl import URL  # aiohttp's own URL type (a dependency of aiohttp)

        self._url_type = URL
        self._no_timer = TimerNoop()
        self._options = options or TransportOptions()
        self._contexts = _common.SSLContexts(self._options)
        self._ssl = self._contexts.get(self._options.tls)
        self._connector: Any = None
        self._loop: Any = None
        self._slots: _common.Slots | None = None
        self._closed = False

    def _open(self) -> Any:
        aiohttp = self._aiohttp
        self._connector = aiohttp.TCPConnector(
            limit=self._options.max_connections, limit_per_host=0, ssl=self._ssl
        )
        self._loop = asyncio.get_running_loop()
        self._slots = _common.Slots(self._options.max_connections)
        return self._connector

    async def _wait_for_slot(
        self, slots: _common.Slots, request: Request, pool: float | None
    ) -> None:
        """Wait at most ``pool`` seconds for a free slot (only called when none is free)."""
        try:
            await slots.take(pool)
        except asyncio.TimeoutError:
            raise errors.PoolTimeout(
                _common.message("no pooled connection became free in time", request),
                request=request,
            ) from None

    async def handle_async_request(self, request: Request) -> Response:
        if self._closed:
            raise errors.ClientClosed("the aiohttp transport was closed")
        connector = self._connector or self._open()
        timeout = _common.timeouts(request)
        head = _common.head_deadline(timeout)
        proxy = _common.proxy_for(request)
        tls = _common.tls_of(request, self._contexts.default)
        slots = self._slots
        assert slots is not None
        if not slots.try_take():
            await self._wait_for_slot(slots, request, timeout.pool)
        try:
            exchange = self._exchange(connector, request, timeout, proxy, tls)
            raw = await (
                exchange if head is None else _common.within(exchange, head.seconds_left())
            )
        except Exception as exc:
            slots.release()
            raise _common.head_error(head, map_error(exc, request, proxy), request) from exc
        except BaseException:
            slots.release()
            raise
        if timeout.first_byte is not None and raw.connection is not None:
            raw.connection.protocol.read_timeout = timeout.read
        return Response(
            raw.status,
            headers=Headers.from_wire(
                [(k.decode("latin-1"), v.decode("latin-1")) for k, v in raw.raw_headers]
            ),
            stream=_AiohttpStream(raw, request, slots),
            request=request,
            reason_phrase=raw.reason or "",
            http_version=f"HTTP/{raw.version.major}.{raw.version.minor}",
        )

    def _url(self, url: str) -> Any:
        """The URL as yarl's ``URL``, its escapes kept as the client built them.

        ``URL(text)`` requotes: it decodes escapes of unreserved characters (``%41`` to ``A``,
        ``%7E`` to ``~``) and writes a space in the query as ``+``, so a signed URL would no
        longer match its signature. An ASCII URL goes in ``encoded=True`` instead, as
        ``_common.as_sent`` escapes it; a URL with non-ASCII text (an IDN host, say) still
        takes yarl's requoting.
        """
        sent = _common.as_sent(url)
        return self._url_type(url) if sent is None else self._url_type(sent, encoded=True)

    async def _exchange(
        self, connector: Any, request: Request, timeout: Any, proxy: str | None, tls: Any
    ) -> Any:
        """One request on aiohttp's connection layer: pool, request writer, response parser.

        What ``ClientSession._request`` does for one exchange that follows no redirect, keeps
        no cookies and adds no auth (the client does all three), minus its per-request setup:
        the same ``ClientRequest``, ``connector.connect``, ``send`` and ``start`` calls.
        """
        aiohttp = self._aiohttp
        body = request.aiter_body() if request.stream is not None else (request.content or None)
        try:
            url = self._url(request.url)
            proxy_url = None if proxy is None else self._url_type(proxy)
        except ValueError as exc:
            raise errors.InvalidURL(_common.message("invalid URL", request)) from exc
        if url.scheme not in ("http", "https"):
            raise errors.InvalidURL(_common.message("invalid URL", request))
        if url.raw_user is not None or url.raw_password is not None:
            # As ClientSession did: a user:password@ in the URL would become aiohttp's basic
            # auth over the request's own Authorization, and go to a plain-http proxy on the
            # request line. The client never hands one over (it strips them, a redirect's
            # too); this is for a request given to the transport directly. The proxy's own
            # userinfo (proxy_url) stays: it is the proxy's login.
            url = url.with_user(None)
        headers = _common.wire_headers(request, text=True)
        if body is not None and request.stream is not None:
            # aiohttp frames a stream of unknown length itself and refuses a
            # "Transfer-Encoding: chunked" the caller set as well.
            headers = [
                (k, v)
                for k, v in headers
                if not (k.lower() == "transfer-encoding" and v.strip().lower() == "chunked")
            ]
        req = aiohttp.ClientRequest(
            request.method,
            url,
            headers=headers,
            skip_auto_headers=_skipped(request.headers, body is not None, request.method),
            data=body,
            loop=self._loop,
            proxy=proxy_url,
            timer=self._no_timer,
            # True: the connector's own context, for the client's default setting.
            ssl=True if tls == self._contexts.default else self._contexts.get(tls),
        )
        try:
            try:
                conn = await connector.connect(
                    req, traces=[], timeout=_client_timeout(timeout.connect, None)
                )
            except asyncio.TimeoutError as exc:
                raise errors.ConnectTimeout(
                    _common.message("connect timed out", request), request=request
                ) from exc
            conn.protocol.set_response_params(
                **_response_params(
                    request.method == "HEAD",
                    _common.headers_timeout(timeout),
                    connector._timeout_ceil_threshold,
                )
            )
            try:
                raw = await req.send(conn)
                try:
                    await raw.start(conn)
                except BaseException:
                    raw.close()
                    raise
            except BaseException:
                conn.close()
                raise
        except BaseException:
            if req._body is not None:
                with contextlib.suppress(Exception):
                    await req._body.close()
            raise
        if req._body is not None:  # as ClientSession does once the head is in
            await req._body.close()
        return raw

    async def aclose(self) -> None:
        self._closed = True
        if self._connector is not None:
            connector, self._connector = self._connector, None
            await connector.close()


class _AiohttpStream:
    """The body as it arrives (at most 64 KiB a chunk); close releases the slot exactly once."""

    def __init__(self, raw: Any, request: Request, slots: _common.Slots) -> None:
        self._raw = raw
        self._request = request
        self._slots: _common.Slots | None = slots

    async def __aiter__(self) -> AsyncIterator[bytes]:
        read = self._raw.content.read
        decoder = _decoder(self._raw.headers)
        try:
            if decoder is None:  # a plain body: chunks go straight through
                while chunk := await read(_common.CHUNK_SIZE):
                    yield chunk
            else:
                while chunk := await read(_common.CHUNK_SIZE):
                    for piece in decoder.feed(chunk):
                        yield piece
                for piece in decoder.flush():
                    yield piece
        except Exception as exc:
            await self.aclose()
            raise map_error(exc, self._request, None, reading=True) from exc
        self._raw.release()
        self._free()

    async def aread_all(self, limit: int) -> bytes | None:
        """The whole body in one ``read()`` when it cannot pass ``limit``, else None.

        Only for a body with a Content-Length within the limit and no Content-Encoding: the
        size of a compressed body says nothing of what it decodes to (a bomb of any size), so
        it keeps going through ``__aiter__``, where the decoder bounds every piece.
        """
        raw = self._raw
        headers = raw.headers
        length = headers.get("Content-Length", "")
        if not (length.isascii() and length.isdigit()) or int(length) > limit:
            return None
        if _decoder(headers) is not None:
            return None
        try:
            whole: bytes = await raw.read()
        except Exception as exc:
            await self.aclose()
            raise map_error(exc, self._request, None, reading=True) from exc
        self._free()  # read() returns after aiohttp released the connection to its pool
        return whole

    def _free(self) -> None:
        if self._slots is not None:
            slots, self._slots = self._slots, None
            slots.release()

    async def aclose(self) -> None:
        if self._slots is not None:
            with contextlib.suppress(Exception):  # closing a broken response leaves nothing to free
                self._raw.close()  # drops an unfinished connection; a finished one was released
            self._free()


def _decoder(headers: Any) -> ContentDecoder | None:
    """``decoder_for`` over every Content-Encoding line (``CIMultiDict.get`` gives the first)."""
    if "Content-Encoding" not in headers:
        return None  # the common case: one lookup, nothing to undo
    return _common.decoder_for(", ".join(headers.getall("Content-Encoding")))


def map_error(
    exc: BaseException, request: Request, proxy: str | None, *, reading: bool = False
) -> errors.SDKError:
    """Translate an aiohttp exception into the SDK's tree, without aiohttp's message text."""
    import aiohttp

    msg = _common.message
    if isinstance(exc, errors.SDKError):
        if isinstance(exc, errors.RequestError) and exc.request is None:
            exc.request = request  # a DecodingError from the ContentDecoder, say
        return exc
    if isinstance(exc, aiohttp.ConnectionTimeoutError):
        return errors.ConnectTimeout(msg("connect timed out", request), request=request)
    if isinstance(exc, (aiohttp.SocketTimeoutError, asyncio.TimeoutError)):
        return errors.ReadTimeout(msg("read timed out", request), request=request)
    if isinstance(exc, aiohttp.InvalidURL):
        return errors.InvalidURL(msg("invalid URL", request))
    if isinstance(exc, (aiohttp.ClientSSLError, aiohttp.ServerFingerprintMismatch)) or (
        _common.is_tls_failure(exc)
    ):
        return errors.TLSError(msg("TLS failed", request, exc), request=request)
    if isinstance(exc, aiohttp.ClientHttpProxyError) or (
        proxy and isinstance(exc, aiohttp.ClientConnectorError)
    ):
        return errors.ProxyError(msg("the proxy failed", request, exc), request=request)
    if isinstance(exc, aiohttp.ClientConnectorError):
        return errors.ConnectError(msg("could not connect", request, exc), request=request)
    if isinstance(exc, aiohttp.ClientPayloadError):
        if _common.find_cause(exc, aiohttp.http_exceptions.ContentEncodingError) is not None:
            return errors.DecodingError(
                msg("could not decode the response body", request), request=request
            )
        if _common.find_cause(exc, aiohttp.http_exceptions.TransferEncodingError) is not None and (
            "not completed" not in str(exc)
        ):
            return errors.ProtocolError(msg("malformed chunked body", request), request=request)
        return errors.ReadError(
            msg("the connection broke while reading the body", request), request=request
        )
    # ConnectionError: a socket error from writing the request (ClientSession wrapped it in
    # ClientOSError; the connection layer used here raises it as it is).
    if isinstance(exc, (aiohttp.ServerDisconnectedError, aiohttp.ClientOSError, ConnectionError)):
        what = (
            "the connection broke while reading the body"
            if reading
            else ("the server closed the connection without a response")
        )
        return errors.ReadError(msg(what, request, exc), request=request)
    if isinstance(exc, (aiohttp.ClientResponseError, aiohttp.http_exceptions.HttpProcessingError)):
        return errors.ProtocolError(msg("the server broke HTTP framing", request), request=request)
    return errors.TransportError(msg("the aiohttp transport failed", request, exc), request=request)


@hookimpl(trylast=True)
def hookwire_register_transports(register: TransportRegister) -> None:
    register("aiohttp", async_=AiohttpTransport)
