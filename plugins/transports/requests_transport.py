"""The ``requests`` transport (sync): a ``requests.Session`` whose mounted ``HTTPAdapter`` pools
connections, with a urllib3 ``Retry`` built from the client's policy.

Retries: one place only. The client's loop (``hookwire._client``) decides and sleeps for every
retry,
on every transport, on its fakeable clock, honouring the total deadline, ``Idempotency-Key`` and
``x-should-retry`` (rules urllib3 cannot express). If urllib3 retried as well, a request would be
attempted up to ``attempts**2`` times here and ``attempts`` times on httpx and aiohttp. So the
adapter's ``Retry`` is ``urllib3_retry(policy)`` with every counter set to zero (``total=0``,
``read=False`` so read errors surface as themselves, no status list, no redirects): it keeps
the policy's method set and backoff for anyone who inspects ``adapter.max_retries``, but never
repeats a request. The contract suite checks the attempt count is the same on every transport.

Other choices:
- The session is a container for the adapter and its pools, nothing more: requests are built
  as ``PreparedRequest`` objects by hand and sent through the adapter, so the session's default
  headers (``python-requests`` User-Agent, ``Connection: keep-alive``), its cookie jar, hooks,
  redirect logic and environment lookups never run. ``trust_env`` is off as well.
- Headers go out in a urllib3 ``HTTPHeaderDict``, which keeps repeated names as separate lines.
- The pool blocks at ``max_connections`` per host and waits at most the ``pool`` timeout for a
  free connection (requests would otherwise open extra throwaway connections, or wait forever
  with ``pool_block=True``): a ``PoolTimeout`` here means what it means on httpx and aiohttp.
- TLS is one ``ssl.SSLContext`` per setting, built as on the other transports
  (``_common.SSLContexts``), in one adapter per setting whose pools all use it
  (``init_poolmanager(ssl_context=)``, requests' documented way to bring a context): a request
  with its own ``verify=``/``cert=`` gets its own pools, and requests' own CA choices
  (``cert_verify``, which would load certifi into a caller's context) never run.
- The response head is read under the head deadline (``_common.head_deadline``): urllib3's
  read timeout is per ``recv``, so the connections' ``http.client`` responses read through
  ``_HeadTimedReader``, which cuts each head ``recv``'s timeout to what is left and then gives
  the body the ``read`` timeout.
- ``Client(transport_options={"mounts": {PREFIX: adapter}})`` sends the URLs that start with
  ``PREFIX`` (longest prefix first, as ``Session.mount``) through that ``requests`` adapter
  instead of the pooled one: ``hookwire.mockserver.asgi_requests.ASGIAdapter`` reaches the mock
  app in-process, say. Such an adapter stays its owner's to close; pool, TLS and proxy settings
  do not apply to it.
- The body is read with urllib3's ``read1``/``read_chunked``, which return data as it arrives,
  with ``decode_content=False``: the raw bytes go through the core's ``ContentDecoder``
  (``_common.decoder_for``), as on every transport, so the bomb bound and the error for a
  corrupt body do not depend on urllib3's decoders.
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
import http.client
import io
import math
import socket
import ssl
import threading
import warnings
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, NamedTuple

from hookwire import errors
from hookwire.plugin import PluginHost, Request, Response, TransportRegister, hookimpl
from hookwire.plugins.transports import _common
from hookwire.transports import BaseTransport, TLSSettings, TransportOptions

if TYPE_CHECKING:
    from hookwire.retry import RetryPolicy

#: The pool timeout for the request being sent on this thread (read by the pool classes).
_POOL_TIMEOUT: contextvars.ContextVar[float | None] = contextvars.ContextVar(
    "hookwire_requests_pool_timeout", default=None
)


class _HeadWait(NamedTuple):
    """The head deadline of the exchange being sent on this thread, and the body's timeout."""

    head: _common.HeadDeadline
    read: float | None


_HEAD_WAIT: contextvars.ContextVar[_HeadWait | None] = contextvars.ContextVar(
    "hookwire_requests_head_wait", default=None
)


class _HeadTimedReader(io.RawIOBase):
    """The socket as ``http.client`` reads it: each read of the head has its timeout cut to
    what is left of the head deadline; the first read after the head sets the ``read``
    timeout, and from then on reads pass straight through."""

    def __init__(self, sock: socket.socket, wait: _HeadWait) -> None:
        super().__init__()
        self._sock = sock
        # An unbuffered socket file, as http.client's own: it holds a reference that keeps
        # the socket open until the response is closed (a "Connection: close" reply closes
        # the connection's own reference before the body is read).
        self._raw = sock.makefile("rb", buffering=0)
        self._wait: _HeadWait | None = wait
        self._base = sock.gettimeout()  # urllib3 set the head's per-read timeout

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int | None:
        wait = self._wait
        if wait is not None:
            if wait.head.done:
                self._sock.settimeout(wait.read)
                self._wait = None
            else:
                self._sock.settimeout(wait.head.clamp(self._base))
        return self._raw.readinto(buffer)

    def fileno(self) -> int:
        return self._raw.fileno()

    def close(self) -> None:
        self._raw.close()
        super().close()


class _HeadTimedSocket:
    """What ``http.client.HTTPResponse`` is given instead of the socket: it only calls
    ``makefile``."""

    def __init__(self, sock: socket.socket, wait: _HeadWait) -> None:
        self._sock = sock
        self._wait = wait

    def makefile(self, mode: str = "rb", *args: Any, **kwargs: Any) -> io.BufferedReader:
        return io.BufferedReader(_HeadTimedReader(self._sock, self._wait))


class _HeadTimedResponse(http.client.HTTPResponse):
    def __init__(self, sock: Any, *args: Any, **kwargs: Any) -> None:
        wait = _HEAD_WAIT.get()
        if wait is not None and hasattr(sock, "settimeout") and hasattr(sock, "makefile"):
            sock = _HeadTimedSocket(sock, wait)
        super().__init__(sock, *args, **kwargs)


class _PoolTimeoutMixin:
    """A urllib3 pool whose connection checkout waits at most the current pool timeout."""

    def _get_conn(self, timeout: float | None = None) -> Any:
        wait = timeout if timeout is not None else _POOL_TIMEOUT.get()
        return super()._get_conn(timeout=wait)  # type: ignore[misc]


@functools.lru_cache(maxsize=1)
def _pool_classes() -> dict[str, type]:
    from urllib3.connection import HTTPConnection, HTTPSConnection
    from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

    class HeadTimedHTTPConnection(HTTPConnection):
        response_class = _HeadTimedResponse

    class HeadTimedHTTPSConnection(HTTPSConnection):
        response_class = _HeadTimedResponse

    class TimedHTTPConnectionPool(_PoolTimeoutMixin, HTTPConnectionPool):
        ConnectionCls = HeadTimedHTTPConnection

    class TimedHTTPSConnectionPool(_PoolTimeoutMixin, HTTPSConnectionPool):
        ConnectionCls = HeadTimedHTTPSConnection

    return {"http": TimedHTTPConnectionPool, "https": TimedHTTPSConnectionPool}


def _tls_pool_kwargs(context: ssl.SSLContext) -> dict[str, Any]:
    """urllib3 pool settings that leave every TLS decision to ``context``: no ``cert_reqs``
    (urllib3 then takes the context's ``verify_mode``), and no hostname check of urllib3's own
    when the context turned its own off."""
    kwargs: dict[str, Any] = {"ssl_context": context}
    if not context.check_hostname and context.verify_mode != ssl.CERT_NONE:
        kwargs["assert_hostname"] = False
    return kwargs


@functools.lru_cache(maxsize=1)
def _adapter_class() -> type:
    from requests.adapters import HTTPAdapter

    class BlockingAdapter(HTTPAdapter):
        """HTTPAdapter whose pools block at maxsize, with a per-request pool timeout, and
        whose pools (direct and proxied) all use one ``ssl.SSLContext``."""

        def __init__(self, *args: Any, ssl_context: ssl.SSLContext, **kwargs: Any) -> None:
            self.tls_kwargs = _tls_pool_kwargs(ssl_context)
            super().__init__(*args, **kwargs)  # calls init_poolmanager

        def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
            kwargs["block"] = True
            kwargs.update(self.tls_kwargs)
            super().init_poolmanager(*args, **kwargs)
            self.poolmanager.pool_classes_by_scheme = _pool_classes()

        def proxy_manager_for(self, proxy: str, **kwargs: Any) -> Any:
            kwargs.update(self.tls_kwargs)
            manager = super().proxy_manager_for(proxy, **kwargs)
            manager.pool_classes_by_scheme = _pool_classes()
            return manager

        def build_connection_pool_key_attributes(
            self, request: Any, verify: Any, cert: Any = None
        ) -> Any:
            # Scheme, host and port only: the TLS settings are the pool manager's own.
            host_params, _ = super().build_connection_pool_key_attributes(request, True, None)
            return host_params, {}

        def cert_verify(self, conn: Any, url: str, verify: Any, cert: Any) -> None:
            """Nothing to do: the context decides (requests would set certifi's bundle on the
            pool, and urllib3 load it into the context)."""

    return BlockingAdapter


def urllib3_retry(policy: RetryPolicy) -> Any:
    """The closest ``urllib3.util.Retry`` to ``policy`` (for ``HTTPAdapter(max_retries=)``).

    Here, not on ``RetryPolicy``, because the core imports no HTTP library. Known differences,
    which urllib3 cannot express: its first retry waits 0 s (ours waits ``backoff_base``); its
    jitter is additive (``backoff_jitter`` is set to ``jitter * backoff_base``); it clamps an
    over-long Retry-After to ``retry_after_max`` instead of refusing the retry; it has no
    Idempotency-Key or ``x-should-retry`` rule.
    """
    from urllib3.util import Retry

    retries = policy.attempts - 1
    read_retries = retries if (policy.retry_on_timeouts or policy.retry_on_read_errors) else 0
    return Retry(
        total=retries,
        connect=retries if policy.retry_on_connect_errors else 0,
        read=read_retries,
        status=retries,
        allowed_methods=None if policy.retry_post else policy.methods,
        status_forcelist=policy.statuses,
        backoff_factor=policy.backoff_base,
        backoff_max=policy.backoff_max,
        backoff_jitter=policy.jitter * policy.backoff_base,
        respect_retry_after_header=policy.respect_retry_after,
        retry_after_max=math.ceil(policy.retry_after_max),
        raise_on_status=False,
    )


def inert_retry(options: TransportOptions) -> Any:
    """The policy's urllib3 ``Retry`` with every counter at zero (see the module docstring)."""
    from urllib3.util import Retry

    base = urllib3_retry(options.retry) if options.retry is not None else Retry(0)
    return base.new(
        total=0,
        connect=0,
        read=False,
        status=0,
        other=0,
        redirect=False,
        status_forcelist=None,
        respect_retry_after_header=False,
        raise_on_redirect=False,
        raise_on_status=False,
    )


class RequestsTransport(BaseTransport):
    """Sends requests through one pooled ``HTTPAdapter`` of a ``requests.Session``."""

    def __init__(
        self, options: TransportOptions | None = None, *, host: PluginHost | None = None
    ) -> None:
        options = options or TransportOptions()
        requests = _common.require("requests", "requests", "requests")
        self._options = options
        self._contexts = _common.SSLContexts(options)
        self._session = requests.Session()
        self._session.trust_env = False
        self._session.headers.clear()
        self.adapter = self._new_adapter(self._contexts.default)
        self._adapters: dict[TLSSettings, Any] = {self._contexts.default: self.adapter}
        self._session.mount("http://", self.adapter)
        self._session.mount("https://", self.adapter)
        self._mounts = _mounts(options.extra.get("mounts"), requests)
        self._lock = threading.Lock()
        self._closed = False

    def _new_adapter(self, tls: TLSSettings) -> Any:
        return _adapter_class()(
            pool_connections=16,
            pool_maxsize=self._options.max_connections,
            pool_block=True,
            max_retries=inert_retry(self._options),
            ssl_context=self._contexts.get(tls),
        )

    def _adapter(self, tls: TLSSettings) -> Any:
        """The adapter (and so the pools) for one TLS setting, made on first use."""
        adapter = self._adapters.get(tls)
        if adapter is None:
            with self._lock:
                if self._closed:
                    raise errors.ClientClosed("the requests transport was closed")
                adapter = self._adapters.get(tls)
                if adapter is None:
                    adapter = self._adapters[tls] = self._new_adapter(tls)
        return adapter

    def _mounted(self, url: str) -> Any:
        """The caller's adapter mounted on the longest prefix of ``url``, if any."""
        lowered = url.lower()
        return next((a for prefix, a in self._mounts if lowered.startswith(prefix)), None)

    def _prepare(self, request: Request) -> Any:
        from requests import PreparedRequest
        from urllib3 import HTTPHeaderDict

        prepared = PreparedRequest()
        prepared.method = request.method
        sent = _common.as_sent(request.url)
        if sent is None:
            prepared.prepare_url(request.url, None)  # requests' IDNA and quoting
        else:
            # The client validated it; requests' prepare_url would requote it (%7E to ~).
            prepared.url = sent
        # HTTPHeaderDict keeps repeated names as separate header lines on the wire.
        prepared.headers = HTTPHeaderDict(_common.wire_headers(request))  # type: ignore[assignment]
        if request.stream is not None:
            prepared.body = request.iter_body()  # type: ignore[assignment]
        else:
            prepared.body = request.content
        return prepared

    def handle_request(self, request: Request) -> Response:
        if self._closed:
            raise errors.ClientClosed("the requests transport was closed")
        timeout = _common.timeouts(request)
        head = _common.head_deadline(timeout)
        proxy = _common.proxy_for(request)
        try:
            prepared = self._prepare(request)
            adapter = self._mounted(request.url) or self._adapter(
                _common.tls_of(request, self._contexts.default)
            )
        except errors.ClientClosed:
            raise
        except Exception as exc:
            raise _map_error(exc, request, proxy) from exc
        tls = getattr(adapter, "tls_kwargs", None)  # None: a mounted adapter of the caller's
        verified = tls is None or not _common.is_unverified(tls["ssl_context"])
        token = _POOL_TIMEOUT.set(timeout.pool)
        wait = _HEAD_WAIT.set(_HeadWait(head, timeout.read)) if head is not None else None
        try:
            with _quiet_if_unverified(verified):
                raw_response = adapter.send(
                    prepared,
                    stream=True,
                    timeout=(timeout.connect, _common.headers_timeout(timeout)),
                    verify=verified,
                    proxies={"all": proxy} if proxy else None,
                )
        except Exception as exc:
            raise _common.head_error(head, _map_error(exc, request, proxy), request) from exc
        finally:
            _POOL_TIMEOUT.reset(token)
            if wait is not None:
                _HEAD_WAIT.reset(wait)
        if head is not None:
            head.done = True  # the body's reads get the read timeout, not what the head left
        return self._response(raw_response, request, timeout.first_byte, timeout.read, head)

    def _response(
        self,
        raw_response: Any,
        request: Request,
        first_byte: float | None,
        read: float | None,
        head: _common.HeadDeadline | None = None,
    ) -> Response:
        raw = raw_response.raw
        if head is not None or (first_byte is not None and first_byte != read):
            _set_read_timeout(raw, read)
        version = getattr(raw, "version", 11)
        return Response(
            raw_response.status_code,
            headers=list(raw.headers.items()),
            stream=_RequestsStream(raw, request),
            request=request,
            reason_phrase=raw_response.reason or "",
            http_version="HTTP/1.0" if version == 10 else "HTTP/1.1",
        )

    def close(self) -> None:
        with self._lock:
            if not self._closed:
                self._closed = True
                self._session.close()
                for adapter in self._adapters.values():  # those of other TLS settings
                    adapter.close()


def _mounts(value: Any, requests: Any) -> list[tuple[str, Any]]:
    """``transport_options["mounts"]`` checked: ``{prefix: requests adapter}``, longest first."""
    if value is None:
        return []
    if not isinstance(value, dict):
        raise TypeError(
            "transport_options['mounts'] must be a dict of URL prefix -> requests adapter, "
            f"not {type(value).__name__}"
        )
    for prefix, adapter in value.items():
        if not isinstance(prefix, str) or not prefix:
            raise TypeError(f"transport_options['mounts']: a prefix must be a str, not {prefix!r}")
        if not isinstance(adapter, requests.adapters.BaseAdapter):
            raise TypeError(
                f"transport_options['mounts'][{prefix!r}] must be a requests adapter "
                f"(requests.adapters.BaseAdapter), not {type(adapter).__name__}"
            )
    return sorted(((p.lower(), a) for p, a in value.items()), key=lambda m: -len(m[0]))


@contextlib.contextmanager
def _quiet_if_unverified(verified: bool) -> Iterator[None]:
    """``verify=False`` (or a context that checks nothing) is the caller's explicit choice,
    yet urllib3 warns about it on every request (httpx and aiohttp do not), which under
    ``-W error`` fails the request. Only in that mode, and only around the send, is
    ``InsecureRequestWarning`` silenced."""
    if verified:
        yield
        return
    from urllib3.exceptions import InsecureRequestWarning

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", InsecureRequestWarning)
        yield


def _set_read_timeout(raw: Any, read: float | None) -> None:
    """After the headers came within ``first_byte``, body reads get the ``read`` timeout."""
    connection = getattr(raw, "connection", None)
    sock = getattr(connection, "sock", None)
    if sock is not None:
        sock.settimeout(read)


class _RequestsStream:
    """The response body as it arrives, decoded; every error mapped; close frees the slot."""

    def __init__(self, raw: Any, request: Request) -> None:
        self._raw = raw
        self._request = request
        self._closed = False

    def __iter__(self) -> Iterator[bytes]:
        raw = self._raw
        decoder = _common.decoder_for(raw.headers.get("content-encoding"))
        try:
            if decoder is None:  # a plain body: chunks go straight through
                yield from _raw_chunks(raw)
            else:
                for data in _raw_chunks(raw):
                    yield from decoder.feed(data)
                yield from decoder.flush()
        except Exception as exc:
            self.close()
            raise _map_error(exc, self._request, None, reading=True) from exc
        self._release()

    def _release(self) -> None:
        """Fully read: the connection goes back to the pool for reuse."""
        if not self._closed:
            self._closed = True
            with contextlib.suppress(
                Exception
            ):  # releasing a finished response cannot fail usefully
                self._raw.release_conn()

    def close(self) -> None:
        """Closed early: drop the connection (unread bytes would poison it) and free the slot."""
        if not self._closed:
            self._closed = True
            try:
                self._raw.close()
                self._raw.release_conn()
            except Exception:  # noqa: S110 - a failing close leaves nothing to clean up # nosec B110
                pass


def _raw_chunks(raw: Any) -> Iterator[bytes]:
    """The body's bytes as sent (never urllib3-decoded: ``ContentDecoder`` does that), as they
    arrive, at most ``CHUNK_SIZE`` at a time."""
    if raw.chunked and raw.supports_chunked_reads():
        for chunk in raw.read_chunked(_common.CHUNK_SIZE, decode_content=False):
            if chunk:
                yield chunk
    else:
        while chunk := raw.read1(_common.CHUNK_SIZE, decode_content=False):
            yield chunk


def _map_error(
    exc: BaseException, request: Request, proxy: str | None, *, reading: bool = False
) -> errors.SDKError:
    """Translate a requests/urllib3/socket exception into the SDK's tree (no backend text)."""
    import requests.exceptions as rex
    import urllib3.exceptions as uex

    if isinstance(exc, errors.SDKError):
        if isinstance(exc, errors.RequestError) and exc.request is None:
            exc.request = request  # a DecodingError from the ContentDecoder, say
        return exc
    msg = _common.message
    if isinstance(exc, uex.EmptyPoolError):
        return errors.PoolTimeout(
            msg("no pooled connection became free in time", request), request=request
        )
    if isinstance(
        exc, (rex.InvalidURL, rex.MissingSchema, rex.InvalidSchema, uex.LocationParseError)
    ):
        return errors.InvalidURL(msg("invalid URL", request))
    if isinstance(exc, rex.InvalidHeader):
        return errors.InvalidHeader(msg("invalid header", request))
    if isinstance(exc, (rex.ContentDecodingError, uex.DecodeError)):
        return errors.DecodingError(
            msg("could not decode the response body", request, exc), request=request
        )
    refused = _common.find_cause(exc, uex.NewConnectionError, uex.NameResolutionError)
    if proxy and refused is not None:
        return errors.ProxyError(
            msg("could not connect to the proxy", request, exc), request=request
        )
    if not reading and refused is not None:
        return errors.ConnectError(msg("could not connect", request, exc), request=request)
    # urllib3's NewConnectionError subclasses ConnectTimeoutError; only a real timeout gets here.
    if isinstance(exc, rex.ConnectTimeout) or _common.find_cause(exc, uex.ConnectTimeoutError):
        return errors.ConnectTimeout(msg("connect timed out", request), request=request)
    if isinstance(exc, (rex.ReadTimeout, uex.ReadTimeoutError, TimeoutError)):
        return errors.ReadTimeout(msg("read timed out", request), request=request)
    if isinstance(exc, (rex.SSLError, uex.SSLError)) or _common.is_tls_failure(exc):
        return errors.TLSError(msg("TLS failed", request, exc), request=request)
    if proxy and (isinstance(exc, rex.ProxyError) or _common.find_cause(exc, uex.ProxyError)):
        return errors.ProxyError(msg("the proxy failed", request, exc), request=request)
    if _common.is_peer_close(exc) or isinstance(exc, rex.ChunkedEncodingError):
        what = (
            "the connection broke while reading the body"
            if reading
            else ("the server closed the connection without a response")
        )
        if _common.find_cause(exc, uex.InvalidChunkLength) is not None:
            return errors.ProtocolError(msg("malformed chunked body", request), request=request)
        return errors.ReadError(msg(what, request, exc), request=request)
    if _common.find_cause(exc, uex.ProtocolError, http.client.HTTPException):
        return errors.ProtocolError(
            msg("the server broke HTTP framing", request, exc), request=request
        )
    if isinstance(exc, (rex.RequestException, uex.HTTPError, OSError)):
        kind = errors.ReadError if reading else errors.ConnectError
        return kind(msg("the exchange failed", request, exc), request=request)
    return errors.TransportError(
        msg("the requests transport failed", request, exc), request=request
    )


@hookimpl(trylast=True)
def hookwire_register_transports(register: TransportRegister) -> None:
    register("requests", sync=RequestsTransport)
