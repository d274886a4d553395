"""The ``pyreqwest`` transport (async): Rust's reqwest/hyper under ``hookwire.AsyncClient``.

``pip install 'hookwire[pyreqwest]'``. The module imports pyreqwest only inside the transport,
so the plugin registers its name without it; using it then raises a ``PluginError`` naming the
extra. Only the async face is offered: pyreqwest's ``SyncClient`` takes its read and connect
timeouts per client and gives no hook for the response-head deadline, which the async face
enforces from Python (below), so a sync face could not keep the contract.

What the transport turns off or does itself, so behaviour matches the other transports:

- reqwest's redirects, referer, cookie store, environment proxies and all four decoders are
  off: the client follows redirects and keeps cookies, ``_common.decoder_for`` decodes the raw
  body (the bomb bound and the ``DecodingError`` are the core's), and the proxy is the one the
  client chose (``ProxyBuilder.all``, credentials from its userinfo).
- One pyreqwest client per (proxy, TLS setting, connect timeout, read timeout), since reqwest
  binds all four to a client; a timeout cut down by a total deadline reuses the uncut client,
  because reqwest's own request timeout (the total deadline) then bounds that phase as well.
- In-flight exchanges are bounded by ``_common.Slots`` (``max_connections``, waited on for at
  most ``pool`` seconds, released when the body is finished or closed), so ``PoolTimeout``
  means what it means elsewhere.
- Timeouts run inside reqwest where it has them, since a wait given up from Python does not
  abort reqwest's task (its connection lives on): ``read`` is reqwest's per-read timeout (head
  and body alike), ``total`` its request timeout. Python bounds only what reqwest cannot: the
  head under ``first_byte`` (counted from the start of the exchange, connect included), and,
  when ``first_byte`` is longer than ``read`` (so reqwest's read timeout would cut it short),
  every body read under ``read``.
- TLS is rustls with the platform verifier: ``verify=False`` is
  ``danger_accept_invalid_certs``; a CA bundle file (or every PEM file of a CA directory) is
  trusted *in addition to* the platform's roots, as pyreqwest has no switch to drop those; a
  client certificate (one PEM file, or cert and key files) is the identity. An
  ``ssl.SSLContext`` cannot be handed to rustls: it is refused with a ``ConfigError`` naming
  ``verify=ssl.SSLContext``. The platform roots on Linux include what ``SSL_CERT_FILE`` and
  ``SSL_CERT_DIR`` name, whatever ``trust_env`` says (rustls reads them itself).

Known differences, all on the wire only: header names go out in Title-Case (hyper's
``title_case_headers``), reqwest adds ``Accept: */*`` and its own ``User-Agent`` to a request
that carries neither (hookwire's clients always send both), the reason phrase is the standard
one for the status (hyper does not hand the server's own over), and ``Timeout.write`` is not
enforced.
"""

from __future__ import annotations

import asyncio
import contextlib
import http
import os
import re
import ssl
import time
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

from hookwire import errors
from hookwire.errors import ConfigError
from hookwire.plugin import Headers, PluginHost, Request, Response, TransportRegister, hookimpl
from hookwire.plugins.transports import _common
from hookwire.timeouts import Timeout
from hookwire.transports import AsyncBaseTransport, TLSSettings, TransportOptions

ClientKey = tuple[str | None, TLSSettings, float | None, float | None]

_PHRASES = {status.value: status.phrase for status in http.HTTPStatus}


def check_tls(tls: TLSSettings) -> None:
    """Refuse, naming the option, a TLS setting rustls cannot take."""
    verify, _ = tls
    if isinstance(verify, ssl.SSLContext):
        raise ConfigError(
            "the 'pyreqwest' transport cannot use verify=ssl.SSLContext (rustls takes no "
            "Python SSL context); pass a CA bundle path, True or False, or use another transport"
        )
    _common.check_tls_files(tls)


def _read(path: str, what: str) -> bytes:
    try:
        with open(path, "rb") as file:
            return file.read()
    except OSError as exc:
        raise ConfigError(f"cannot read the {what} {path}: {_common.root_reason(exc)}") from exc


def _ca_pem(path: str) -> bytes:
    """A CA bundle file, or every certificate file in a CA directory (``SSL_CERT_DIR``)."""
    if not os.path.isdir(path):
        return _read(path, "CA bundle")
    pems = []
    for name in sorted(os.listdir(path)):
        full = os.path.join(path, name)
        if os.path.isfile(full):
            data = _read(full, "CA file")
            if b"-----BEGIN CERTIFICATE-----" in data:
                pems.append(data)
    if not pems:
        raise ConfigError(f"the CA directory {path} holds no PEM certificate")
    return b"\n".join(pems)


def _connect_key(timeout: Timeout) -> float | None:
    """The connect timeout a client is built with (see the module docstring)."""
    connect, total = timeout.connect, timeout.total
    if connect is None or (total is not None and connect >= total):
        return None
    return connect


def _read_key(timeout: Timeout) -> float | None:
    """The per-read timeout reqwest enforces itself (built into the client), or None when
    Python must: a ``first_byte`` longer than ``read`` would be cut short by it, and a read
    cut down to the total deadline is the request's own timeout already."""
    read, first, total = timeout.read, timeout.first_byte, timeout.total
    if read is None or (first is not None and first > read):
        return None
    if total is not None and read >= total:
        return None
    return read


class PyreqwestTransport(AsyncBaseTransport):
    """Async transport on pooled ``pyreqwest.client.Client`` objects."""

    def __init__(
        self, options: TransportOptions | None = None, *, host: PluginHost | None = None
    ) -> None:
        self._pyreqwest = _common.require("pyreqwest.client", "pyreqwest", "pyreqwest")
        self._options = options or TransportOptions()
        check_tls(self._options.tls)
        self._default_tls = self._options.tls
        self._clients: dict[ClientKey, Any] = {}
        self._slots = _common.Slots(self._options.max_connections)
        self._closed = False

    def _client(self, key: ClientKey) -> Any:
        # No lock: clients are built without awaiting, so no other task can interleave.
        client = self._clients.get(key)
        if client is None:
            client = self._clients[key] = self._build(*key)
        return client

    def _build(
        self, proxy: str | None, tls: TLSSettings, connect: float | None, read: float | None
    ) -> Any:
        check_tls(tls)
        builder = (
            self._pyreqwest.ClientBuilder()
            .follow_redirects(False)
            .referer(False)
            .gzip(False)
            .brotli(False)
            .zstd(False)
            .deflate(False)
            .no_proxy()
            .pool_max_idle_per_host(self._options.max_keepalive)
        )
        if connect is not None:
            builder = builder.connect_timeout(timedelta(seconds=connect))
        if read is not None:
            builder = builder.read_timeout(timedelta(seconds=read))
        if proxy is not None:
            from pyreqwest.proxy import ProxyBuilder

            builder = builder.proxy(ProxyBuilder.all(proxy))
        verify, cert = tls
        if verify is False:
            builder = builder.danger_accept_invalid_certs(True)
        elif isinstance(verify, str):
            builder = builder.add_root_certificate_pem(_ca_pem(verify))
        if cert is not None:
            chain, key = cert if isinstance(cert, tuple) else (cert, None)
            pem = _read(chain, "client certificate")
            if key is not None:
                pem += b"\n" + _read(key, "client certificate key")
            builder = builder.identity_pem(pem)
        try:
            return builder.build()
        except Exception as exc:  # a PEM rustls cannot parse, say
            reason = _common.root_reason(exc)
            raise ConfigError(
                f"the 'pyreqwest' transport cannot use this TLS setting ({reason})"
            ) from exc

    async def handle_async_request(self, request: Request) -> Response:
        if self._closed:
            raise errors.ClientClosed("the pyreqwest transport was closed")
        timeout = _common.timeouts(request)
        head = _common.head_deadline(timeout)
        proxy = _common.proxy_for(request)
        tls = _common.tls_of(request, self._default_tls)
        rust_read = _read_key(timeout)
        client = self._client((proxy, tls, _connect_key(timeout), rust_read))
        slots = self._slots
        if not slots.try_take():
            try:
                await slots.take(timeout.pool)
            except asyncio.TimeoutError:
                raise errors.PoolTimeout(
                    _common.message("no pooled connection became free in time", request),
                    request=request,
                ) from None
        ends = None if timeout.total is None else time.monotonic() + timeout.total
        # Python bounds the head only where reqwest cannot: first_byte (a per-read timeout in
        # reqwest would restart on each byte), or a read it does not enforce (see _read_key).
        limit = _common.headers_timeout(timeout)
        if timeout.first_byte is None and rust_read is not None:
            limit = None
        if ends is not None and (limit is None or limit >= timeout.total):  # type: ignore[operator]
            limit = None  # reqwest's own timeout (below) ends the wait and drops the connection
        body_read = None if rust_read is not None else timeout.read
        if ends is not None and body_read is not None and body_read >= timeout.total:  # type: ignore[operator]
            body_read = None
        try:
            builder = client.request(request.method, request.url).headers(
                _common.wire_headers(request, text=True)
            )
            if timeout.total is not None:
                # In Rust: a wait given up from Python leaves reqwest's task (and its
                # connection) running, while this timeout drops both. The body is bound by
                # the same deadline in the client (Response.set_deadline).
                builder = builder.timeout(timedelta(seconds=timeout.total))
            if request.stream is not None:
                builder = builder.body_stream(request.aiter_body())
            elif request.content:
                builder = builder.body_bytes(request.content)
            context = builder.streamed_read_buffer_limit(_common.READ_AHEAD).build_streamed()
            entered = context.__aenter__()
            raw = await (entered if limit is None else _common.within(entered, limit))
        except Exception as exc:
            slots.release()
            if head is not None and head.expired() and _is_timeout(exc):
                raise head.error(request) from exc  # pyreqwest calls it a connect timeout
            raise _common.head_error(head, map_error(exc, request, proxy), request) from exc
        except BaseException:
            slots.release()
            raise
        status = raw.status
        return Response(
            status,
            headers=Headers.from_wire(list(raw.headers.items())),
            stream=_PyreqwestStream(context, raw, request, slots, body_read, ends),
            request=request,
            reason_phrase=_PHRASES.get(status, ""),
            http_version=raw.version,
        )

    async def aclose(self) -> None:
        self._closed = True
        clients, self._clients = list(self._clients.values()), {}
        for client in clients:
            with contextlib.suppress(Exception):
                await client.close()


class _PyreqwestStream:
    """The body as it arrives (at most 64 KiB a chunk); close releases the slot exactly once."""

    __slots__ = ("_context", "_ends", "_raw", "_read_timeout", "_request", "_slots")

    def __init__(
        self,
        context: Any,
        raw: Any,
        request: Request,
        slots: _common.Slots,
        read: float | None,
        ends: float | None,
    ) -> None:
        self._context = context
        self._ends = ends
        self._raw = raw
        self._request = request
        self._slots: _common.Slots | None = slots
        self._read_timeout = read

    async def __aiter__(self) -> AsyncIterator[bytes]:
        # read_chunk, not read(CHUNK_SIZE): read(n) sets aside n bytes in Rust for every call,
        # 64 KiB a stream while it waits, which 1,000 waiting streams turn into 64 MiB.
        read = self._raw.body_reader.read_chunk
        seconds = self._read_timeout
        decoder = _decoder(self._raw)
        size = _common.CHUNK_SIZE
        try:
            while True:
                chunk = await (read() if seconds is None else _common.within(read(), seconds))
                if chunk is None:
                    break
                data = chunk.to_bytes()
                if decoder is not None:
                    for piece in decoder.feed(data):
                        yield piece
                elif len(data) <= size:
                    yield data
                else:  # hyper's buffer can hand over more than one chunk's worth at once
                    for start in range(0, len(data), size):
                        yield data[start : start + size]
            if decoder is not None:
                for piece in decoder.flush():
                    yield piece
        except Exception as exc:
            await self.aclose()
            raise self._error(exc) from exc
        await self.aclose()

    def _error(self, exc: BaseException) -> errors.SDKError:
        ends = self._ends
        if ends is not None and _is_timeout(exc) and time.monotonic() >= ends - 0.001:
            # reqwest's own timeout is the total deadline: say so, as the client would
            return errors.DeadlineExceeded(
                "the total deadline passed while the response body was being read",
                request=self._request,
            )
        return map_error(exc, self._request, None, reading=True)

    async def aread_all(self, limit: int) -> bytes | None:
        """The whole body in one read when its Content-Length is within ``limit`` and it has
        no Content-Encoding (a compressed body's size says nothing of what it decodes to)."""
        raw = self._raw
        length = raw.get_header("content-length") or ""
        if not (length.isascii() and length.isdigit()) or int(length) > limit:
            return None
        if _decoder(raw) is not None:
            return None
        seconds = self._read_timeout
        try:
            whole = await (raw.bytes() if seconds is None else _common.within(raw.bytes(), seconds))
        except Exception as exc:
            await self.aclose()
            raise self._error(exc) from exc
        # The body is read to its end, so hyper has its connection back already: no need to
        # await the context's exit (a round trip into Rust) to free the slot.
        if self._slots is not None:
            slots, self._slots = self._slots, None
            slots.release()
        return whole.to_bytes()  # type: ignore[no-any-return]

    async def aclose(self) -> None:
        if self._slots is not None:
            slots, self._slots = self._slots, None
            try:
                with contextlib.suppress(Exception):  # a broken response leaves nothing to free
                    await self._context.__aexit__(None, None, None)
            finally:
                slots.release()


def _is_timeout(exc: BaseException) -> bool:
    from pyreqwest.exceptions import RequestTimeoutError

    return isinstance(exc, (RequestTimeoutError, asyncio.TimeoutError))


def _decoder(raw: Any) -> Any:
    codings = raw.get_header_all("content-encoding")
    return _common.decoder_for(", ".join(codings)) if codings else None


_TLS_WORDS = ("certificate", "handshake", "alert", "unknownissuer", "badsignature", "x509")
#: A peer that closed after the handshake (a TLS 1.3 server refusing a client certificate
#: without an alert) is "closed without a response" on every transport, not a TLS failure.
_CLOSED_WORDS = ("close_notify", "unexpected eof", "connection closed", "reset by peer")


def _causes(exc: BaseException) -> str:
    details = getattr(exc, "details", None)
    causes = details.get("causes") if isinstance(details, dict) else None
    return " ".join(str(c.get("message", "")) for c in causes or ())


def _causes_text(exc: BaseException) -> str:
    return _causes(exc).lower()


_TLS_REASON = re.compile(r"(fatal alert|invalid peer certificate): ([A-Za-z]+)")


def _tls_message(request: Request, exc: BaseException) -> str:
    """``TLS failed for ... (<rustls' alert or verdict, as OpenSSL spells it>)``: the name is
    a rustls enum variant (``CertificateRequired``), never text from the peer."""
    found = _TLS_REASON.search(_causes(exc))
    if found is None:
        return _common.message("TLS failed", request, exc)
    name = re.sub(r"(?<=[a-z])(?=[A-Z])", "_", found.group(2)).upper()
    kind = "alert" if found.group(1) == "fatal alert" else "certificate"
    return f"{_common.message('TLS failed', request)} (TLSError: {kind} {name})"


def map_error(
    exc: BaseException, request: Request, proxy: str | None, *, reading: bool = False
) -> errors.SDKError:
    """Translate a pyreqwest exception into the SDK's tree, without pyreqwest's message text
    (its causes are read only to tell a TLS failure from other connect failures)."""
    from pyreqwest import exceptions as px

    msg = _common.message
    if isinstance(exc, errors.SDKError):
        if isinstance(exc, errors.RequestError) and exc.request is None:
            exc.request = request  # a DecodingError from the ContentDecoder, say
        return exc
    if isinstance(exc, px.PoolTimeoutError):
        return errors.PoolTimeout(
            msg("no pooled connection became free in time", request), request=request
        )
    if isinstance(exc, px.ConnectTimeoutError) and "(connect)" in _causes_text(exc):
        return errors.ConnectTimeout(msg("connect timed out", request), request=request)
    if isinstance(exc, px.WriteTimeoutError):
        return errors.WriteTimeout(msg("write timed out", request), request=request)
    if isinstance(exc, (px.RequestTimeoutError, asyncio.TimeoutError)):
        return errors.ReadTimeout(msg("read timed out", request), request=request)
    if isinstance(exc, px.BuilderError):
        return errors.InvalidURL(msg("invalid URL", request))
    text = _causes_text(exc)
    if isinstance(exc, px.ConnectError):
        tls_words = any(word in text for word in _TLS_WORDS)
        if (tls_words and not any(w in text for w in _CLOSED_WORDS)) or (
            _common.is_tls_failure(exc)
        ):
            return errors.TLSError(_tls_message(request, exc), request=request)
        if "(connect)" not in text and "connect error" not in text and "dns" not in text:
            # pyreqwest calls every failure before a response a ConnectError; hyper's causes
            # tell a connection that opened and then closed unanswered (SendRequest).
            return errors.ReadError(
                msg("the server closed the connection without a response", request, exc),
                request=request,
            )
        if proxy:
            return errors.ProxyError(msg("the proxy failed", request, exc), request=request)
        return errors.ConnectError(msg("could not connect", request, exc), request=request)
    if isinstance(exc, px.WriteError):
        return errors.WriteError(
            msg("the connection broke while sending", request, exc), request=request
        )
    if isinstance(exc, px.ReadError) or (
        isinstance(exc, px.NetworkError) and ("closed" in text or "reset" in text)
    ):
        what = (
            "the connection broke while reading the body"
            if reading
            else "the server closed the connection without a response"
        )
        return errors.ReadError(msg(what, request, exc), request=request)
    if isinstance(exc, px.DecodeError):
        if reading and ("incomplete" in text or "closed" in text or "eof" in text):
            return errors.ReadError(
                msg("the connection broke while reading the body", request), request=request
            )
        return errors.ProtocolError(msg("the server broke HTTP framing", request), request=request)
    if isinstance(exc, px.ClientClosedError):
        return errors.TransportError(
            msg("the pyreqwest client was closed under the request", request), request=request
        )
    if isinstance(exc, px.RequestError) and ("parse" in text or "invalid" in text):
        return errors.ProtocolError(msg("the server broke HTTP framing", request), request=request)
    if isinstance(exc, px.RequestError) and reading:
        return errors.ReadError(
            msg("the connection broke while reading the body", request), request=request
        )
    return errors.TransportError(
        msg("the pyreqwest transport failed", request, exc), request=request
    )


@hookimpl(trylast=True)
def hookwire_register_transports(register: TransportRegister) -> None:
    register("pyreqwest", async_=PyreqwestTransport)
