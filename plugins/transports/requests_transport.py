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
import math
import threading
import warnings
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from hookwire import errors
from hookwire.plugin import PluginHost, Request, Response, TransportRegister, hookimpl
from hookwire.plugins.transports import _common
from hookwire.transports import BaseTransport, TransportOptions

if TYPE_CHECKING:
    from hookwire.retry import RetryPolicy

#: The pool timeout for the request being sent on this thread (read by the pool classes).
_POOL_TIMEOUT: contextvars.ContextVar[float | None] = contextvars.ContextVar(
    "hookwire_requests_pool_timeout", default=None
)


class _PoolTimeoutMixin:
    """A urllib3 pool whose connection checkout waits at most the current pool timeout."""

    def _get_conn(self, timeout: float | None = None) -> Any:
        wait = timeout if timeout is not None else _POOL_TIMEOUT.get()
        return super()._get_conn(timeout=wait)  # type: ignore[misc]


@functools.lru_cache(maxsize=1)
def _pool_classes() -> dict[str, type]:
    from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

    class TimedHTTPConnectionPool(_PoolTimeoutMixin, HTTPConnectionPool):
        pass

    class TimedHTTPSConnectionPool(_PoolTimeoutMixin, HTTPSConnectionPool):
        pass

    return {"http": TimedHTTPConnectionPool, "https": TimedHTTPSConnectionPool}


def _adapter_class() -> type:
    from requests.adapters import HTTPAdapter

    class BlockingAdapter(HTTPAdapter):
        """HTTPAdapter whose pools block at maxsize, with a per-request pool timeout."""

        def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
            kwargs["block"] = True
            super().init_poolmanager(*args, **kwargs)
            self.poolmanager.pool_classes_by_scheme = _pool_classes()

        def proxy_manager_for(self, proxy: str, **kwargs: Any) -> Any:
            manager = super().proxy_manager_for(proxy, **kwargs)
            manager.pool_classes_by_scheme = _pool_classes()
            return manager

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
        _common.check_tls_files(options)
        self._options = options
        self._verify = options.verify
        self._cert = options.cert
        self._session = requests.Session()
        self._session.trust_env = False
        self._session.headers.clear()
        self.adapter = _adapter_class()(
            pool_connections=16,
            pool_maxsize=options.max_connections,
            pool_block=True,
            max_retries=inert_retry(options),
        )
        self._session.mount("http://", self.adapter)
        self._session.mount("https://", self.adapter)
        self._lock = threading.Lock()
        self._closed = False

    def _prepare(self, request: Request) -> Any:
        from requests import PreparedRequest
        from urllib3 import HTTPHeaderDict

        prepared = PreparedRequest()
        prepared.method = request.method
        prepared.prepare_url(request.url, None)
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
        proxy = _common.proxy_for(request)
        try:
            prepared = self._prepare(request)
        except Exception as exc:
            raise _map_error(exc, request, proxy) from exc
        token = _POOL_TIMEOUT.set(timeout.pool)
        try:
            with _quiet_if_unverified(self._verify):
                raw_response = self.adapter.send(
                    prepared,
                    stream=True,
                    timeout=(timeout.connect, _common.headers_timeout(timeout)),
                    verify=self._verify,
                    cert=self._cert,
                    proxies={"all": proxy} if proxy else None,
                )
        except Exception as exc:
            raise _map_error(exc, request, proxy) from exc
        finally:
            _POOL_TIMEOUT.reset(token)
        return self._response(raw_response, request, timeout.first_byte, timeout.read)

    def _response(
        self, raw_response: Any, request: Request, first_byte: float | None, read: float | None
    ) -> Response:
        raw = raw_response.raw
        if first_byte is not None and first_byte != read:
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


@contextlib.contextmanager
def _quiet_if_unverified(verify: bool | str) -> Iterator[None]:
    """``verify=False`` is the caller's explicit choice, yet urllib3 warns about it on every
    request (httpx and aiohttp do not), which under ``-W error`` fails the request. Only in that
    mode, and only around the send, is ``InsecureRequestWarning`` silenced."""
    if verify is not False:
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
            if decoder is None:  # a plain body: chunks go straight through, as _raw_chunks
                if raw.chunked and raw.supports_chunked_reads():
                    for chunk in raw.read_chunked(_common.CHUNK_SIZE, decode_content=False):
                        if chunk:
                            yield chunk
                else:
                    while chunk := raw.read1(_common.CHUNK_SIZE, decode_content=False):
                        yield chunk
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
