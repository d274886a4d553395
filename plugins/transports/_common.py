"""What the three transport plugins share: wire headers, body framing, timeouts, TLS, messages.

Each transport is a thin translation of one library; everything that must come out the same
on all of them is decided here once, so the contract suite cannot drift between backends:

- the headers on the wire are the request's own, plus ``Accept-Encoding`` naming what every
  transport decodes (gzip, deflate, and br when ``brotli`` is installed) when the caller set
  none, plus ``Content-Length`` for a file body whose size is known (otherwise chunked);
- the body comes off the wire raw and goes through one ``ContentDecoder`` (``decoder_for``);
- one deadline for the whole response head (``head_deadline``): ``first_byte`` or what is left
  of ``total``, whichever ends first, however slowly the head drips (the libraries' read
  timeouts are per read, so each transport enforces this one itself); ``read`` bounds every
  read after that;
- one ``ssl.SSLContext`` per TLS setting (verify: bool, CA bundle path or a context of the
  caller's; cert: path or (cert, key)) with the certifi bundle by default, as requests and
  httpx do; a request may carry its own setting (``tls_of``) and gets its own pool for it;
- error messages say what failed, for which method and redacted URL, and the root cause's
  type and OS reason, never a backend's own text (which can hold a proxy's credentials or a
  query string).
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
import os
import re
import select
import socket
import ssl
import sys
import threading
import time
from collections import deque
from collections.abc import Awaitable, Iterator
from typing import TYPE_CHECKING, Any, TypeVar

from hookwire import errors
from hookwire.errors import ConfigError, PluginError
from hookwire.plugin import ContentDecoder, redact_url, wire_value
from hookwire.timeouts import Timeout
from hookwire.transports import TLSSettings

if TYPE_CHECKING:
    import asyncio

    from hookwire.plugin import Request
    from hookwire.transports import TransportOptions

T = TypeVar("T")

#: Read size for response bodies: every chunk handed to the client is at most this long, so
#: the Response's max_body_size check stops a decompression bomb after one chunk.
CHUNK_SIZE = 64 * 1024

#: How much of a body a backend may read ahead of its consumer, per response (aiohttp's
#: ``read_bufsize``, pyreqwest's ``streamed_read_buffer_limit``; both default to 64 KiB). A fast
#: server and a slow consumer fill it on every stream: with 1,000 concurrent LLM streams the
#: 64 KiB default cost more memory per stream than openai's client spends in all.
READ_AHEAD = 16 * 1024

_DEFAULT_TIMEOUT = Timeout()


@functools.lru_cache(maxsize=1)
def accept_encoding() -> str:
    """The encodings all backends decode here (br needs the ``brotli`` package)."""
    try:
        import brotli  # noqa: F401
    except ImportError:
        return "gzip, deflate"
    return "gzip, deflate, br"


def decoder_for(content_encoding: str | None) -> ContentDecoder | None:
    """The decoder every transport feeds a raw body through, or None for a plain body.

    The backends' own decoding is off (httpx is read raw, urllib3 with ``decode_content=False``,
    aiohttp with ``auto_decompress=False``), so the bomb bound, what passes through unknown
    codings and the ``DecodingError`` for a corrupt body, message included, are decided here
    once. ``content_encoding`` is every ``Content-Encoding`` line, joined with ", ". None lets
    the transport hand chunks over with no per-chunk work.
    """
    return ContentDecoder.for_encoding(content_encoding, CHUNK_SIZE)


def body_length(request: Request) -> int | None:
    """Bytes left in a seekable file body (so it goes with Content-Length), else None."""
    stream = request.stream
    if stream is None or not hasattr(stream, "seek") or not hasattr(stream, "tell"):
        return None
    try:
        start = int(stream.tell())
        try:
            return max(os.fstat(stream.fileno()).st_size - start, 0)  # type: ignore[union-attr]
        except (AttributeError, OSError, ValueError):
            pass  # BytesIO and friends: no file descriptor, measure by seeking
        end = stream.seek(0, os.SEEK_END)
        stream.seek(start)
        return max(int(end) - start, 0)
    except (OSError, ValueError, AttributeError):
        return None


def wire_headers(request: Request, *, text: bool = False) -> list[tuple[str, Any]]:
    """The header pairs to send: the request's own (case and repeats kept) plus framing.

    A non-ASCII value is handed over as UTF-8 bytes (``hookwire.plugin.wire_value``), so every
    library puts the same bytes on the wire; ``text=True`` keeps it text, for aiohttp, which
    takes only text and encodes it as UTF-8 itself.
    """
    return wire_pairs(request, text=text)[0]


def wire_pairs(request: Request, *, text: bool = False) -> tuple[list[tuple[str, Any]], set[str]]:
    """``wire_headers`` and the lower-cased names among the request's own headers (one pass
    over them, for a transport that frames the message itself and asks about several)."""
    pairs: list[tuple[str, Any]] = request.headers.multi_items()
    names = {k.lower() for k, _ in pairs}
    if not text and not all(v.isascii() for _, v in pairs):
        pairs = [(k, wire_value(v)) for k, v in pairs]
    if "accept-encoding" not in names:
        pairs.append(("Accept-Encoding", accept_encoding()))
    if (
        request.stream is not None
        and "content-length" not in names
        and "transfer-encoding" not in names
    ):
        length = body_length(request)
        if length is not None:
            pairs.append(("Content-Length", str(length)))
    return pairs, names


def timeouts(request: Request) -> Timeout:
    """The per-phase timeouts the client chose for this exchange (already deadline-capped)."""
    timeout = request.extensions.get("timeout")
    return timeout if isinstance(timeout, Timeout) else _DEFAULT_TIMEOUT


def headers_timeout(timeout: Timeout) -> float | None:
    """How long to wait for the response headers: ``first_byte`` when set, else ``read``."""
    return timeout.first_byte if timeout.first_byte is not None else timeout.read


class HeadDeadline:
    """The one bound on the wait for a response head, armed when the exchange starts.

    Every backend's read timeout restarts on each read, so a server sending its status line
    and headers a byte at a time, each byte inside the timeout, holds a call for ever. This
    deadline does not restart: the transport clamps each head read to what is left of it
    (``clamp``) or cancels the head wait when it passes (``seconds_left``), then raises
    ``error(request)``: ``DeadlineExceeded`` when the total deadline is what ran out,
    ``ReadTimeout`` when ``first_byte`` did.
    """

    __slots__ = ("at", "done", "first_byte")

    def __init__(self, seconds: float, first_byte: float | None) -> None:
        self.at = time.monotonic() + seconds
        #: Set when first_byte, not the total deadline, is the nearer limit.
        self.first_byte = first_byte
        #: Set by the transport once the head is in: later reads are not clamped.
        self.done = False

    def seconds_left(self) -> float:
        return self.at - time.monotonic()

    def expired(self) -> bool:
        # A millisecond of slack: an event loop may run a timer a clock tick early.
        return time.monotonic() >= self.at - 0.001

    def clamp(self, timeout: float | None) -> float | None:
        """``timeout`` for one head read, cut to what is left; ``HeadTimeout`` if nothing is."""
        if self.done:
            return timeout
        left = self.at - time.monotonic()
        if left <= 0:
            raise HeadTimeout("the response head deadline passed")
        return left if timeout is None or timeout > left else timeout

    def error(self, request: Request) -> errors.TimeoutException:
        if self.first_byte is not None:
            return errors.ReadTimeout(
                message(f"no response head within first_byte={self.first_byte:g}s", request),
                request=request,
            )
        return errors.DeadlineExceeded(
            message("the total deadline passed while waiting for the response head", request),
            request=request,
        )


class HeadTimeout(TimeoutError):
    """A head read refused because the head deadline passed (a ``socket.timeout`` to the
    backend, so it drops the connection as after any read timeout)."""


def head_deadline(timeout: Timeout) -> HeadDeadline | None:
    """The deadline for this exchange's response head, or None when neither ``first_byte``
    nor a total deadline applies (the per-read timeout alone then bounds each read).

    ``timeout`` is the client's deadline-capped Timeout, whose ``total`` is what is left of
    the call's deadline; ``first_byte`` is already no longer than that, and when they are
    equal the total deadline is what ran out.
    """
    first, total = timeout.first_byte, timeout.total
    if total is not None and (first is None or total <= first):
        return HeadDeadline(total, None)
    if first is not None:
        return HeadDeadline(first, first)
    return None


#: The head deadline of the exchange this thread or task is sending (read by the transports'
#: socket-level read wrappers, which see no request).
HEAD_DEADLINE: contextvars.ContextVar[HeadDeadline | None] = contextvars.ContextVar(
    "hookwire_head_deadline", default=None
)


def head_error(
    head: HeadDeadline | None, mapped: errors.SDKError, request: Request
) -> errors.SDKError:
    """The error to raise for a failure while waiting for the head: the deadline's own when
    it is what ran out (the backend saw only a read timeout, or a socket closed under it)."""
    if (
        head is not None
        and isinstance(mapped, (errors.ReadTimeout, errors.ReadError))
        and head.expired()
    ):
        return head.error(request)
    return mapped


async def within(awaitable: Awaitable[T], seconds: float) -> T:
    """Await with a deadline (``TimeoutError`` when it passes); the task is cancelled, so the
    backend drops what it was reading, as it does for any cancellation."""
    import asyncio  # here: a sync-only program never pays for importing it (~20 ms)

    if sys.version_info >= (3, 11):
        async with asyncio.timeout(seconds):
            return await awaitable
    return await asyncio.wait_for(awaitable, seconds)  # pragma: no cover - Python 3.10


class Slots:
    """At most ``limit`` exchanges in flight; waiters are served first come, first served.

    What ``asyncio.Semaphore`` does, without its cost on the hot path: on Python 3.11 its
    ``locked()`` builds a generator over the waiters, and ``acquire()`` runs it again, even
    when a slot is free (~1.5 us a request). Here a free slot is one integer test.

    ``release()`` hands the slot straight to the first waiter still waiting, so ``_free`` only
    grows when nobody waits: ``_free > 0`` implies an empty queue, and a newcomer can never
    overtake a waiter.
    """

    __slots__ = ("_free", "_waiters")

    def __init__(self, limit: int) -> None:
        self._free = limit
        self._waiters: deque[asyncio.Future[None]] = deque()

    def try_take(self) -> bool:
        if self._free > 0:
            self._free -= 1
            return True
        return False

    async def take(self, timeout: float | None) -> None:
        """Wait for a slot; ``asyncio.TimeoutError`` after ``timeout`` seconds."""
        waiter: asyncio.Future[None] = _asyncio().get_running_loop().create_future()
        self._waiters.append(waiter)
        try:
            await _asyncio().wait_for(waiter, timeout)
        except BaseException:
            if waiter.done() and not waiter.cancelled():
                self.release()  # handed a slot just as the wait was given up: pass it on
            else:
                with contextlib.suppress(ValueError):
                    self._waiters.remove(waiter)
            raise

    def release(self) -> None:
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():  # a cancelled or timed-out waiter no longer wants it
                waiter.set_result(None)
                return
        self._free += 1


def _asyncio() -> Any:
    import asyncio  # lazily, as in within()

    return asyncio


#: What may not go on a request line as it is: controls, space, the characters RFC 3986
#: leaves out, and a "%" that does not start an escape.
_UNSAFE = re.compile(r'[\x00-\x20\x7f"<>\\^`{|}]|%(?![0-9A-Fa-f]{2})')


def _escape(match: re.Match[str]) -> str:
    return f"%{ord(match.group()):02X}"


def as_sent(url: str) -> str | None:
    """The URL to put on the wire with its escapes as the client built them, or None for a
    URL with non-ASCII text (an IDN host, UTF-8 in the path), which the library's own
    quoting must handle.

    Only what cannot go on a request line is escaped (a space as ``%20``, a stray ``%`` as
    ``%25``); ``%41``, ``%7E`` and ``+`` stay as they are. Libraries that requote a URL
    (requests, aiohttp's yarl) decode escapes of unreserved characters, and yarl writes a space
    in the query as ``+``: a signed URL would stop matching its signature, and the bytes would
    differ from transport to transport.
    """
    if not url.isascii():
        return None
    return _UNSAFE.sub(_escape, url) if _UNSAFE.search(url) else url


def is_readable(sock: socket.socket | None) -> bool:
    """Whether a read on this idle socket would return at once (data or EOF): the test a
    pool makes before reusing a kept-alive connection. No socket, or a closed one, counts as
    readable (the next read is its end), as in httpcore's own check."""
    fd = -1 if sock is None else sock.fileno()
    if fd < 0:
        return True
    poll = getattr(select, "poll", None)
    if poll is None:  # pragma: no cover - Windows
        ready, _, _ = select.select([fd], [], [], 0)
        return bool(ready)
    poller = poll()
    poller.register(fd, select.POLLIN)
    return bool(poller.poll(0))


def proxy_for(request: Request) -> str | None:
    """The proxy URL the client chose for this request (credentials inside), or None."""
    proxy = request.extensions.get("proxy")
    return str(proxy) if proxy else None


def check_tls_files(options: TransportOptions | TLSSettings) -> None:
    """Fail at construction, with a clear message, when a CA bundle or cert file is missing."""
    verify, cert = options if isinstance(options, TLSSettings) else options.tls
    paths: list[tuple[str, str]] = []
    if isinstance(verify, str):
        paths.append(("verify (CA bundle)", verify))
    if isinstance(cert, str):
        paths.append(("cert", cert))
    elif isinstance(cert, tuple):
        paths.extend([("cert", cert[0]), ("cert key", cert[1])])
    for what, path in paths:
        if not os.path.exists(path):
            raise ConfigError(f"{what} file not found: {path}")


def tls_of(request: Request, default: TLSSettings) -> TLSSettings:
    """The TLS setting this request needs: its own (the ``"tls"`` extension) or the default
    (the options'). A plain-http request uses no TLS, so it shares the default's pool whatever
    it says."""
    tls = request.extensions.get("tls")
    if tls is None or request.url[:6].lower() != "https:":
        return default
    return tls  # type: ignore[no-any-return]


def is_unverified(context: ssl.SSLContext) -> bool:
    return context.verify_mode == ssl.CERT_NONE


class SSLContexts:
    """The transport's ``ssl.SSLContext`` per TLS setting, made on first use (loading a CA
    bundle takes milliseconds) and kept, so one setting always means one context, and so one
    pool. A caller's own context is used as it is: it says everything."""

    def __init__(self, options: TransportOptions) -> None:
        self.default = options.tls
        self._contexts = {options.tls: ssl_context(options)}
        self._lock = threading.Lock()

    def get(self, tls: TLSSettings) -> ssl.SSLContext:
        context = self._contexts.get(tls)
        if context is None:
            if isinstance(tls.verify, ssl.SSLContext):
                return tls.verify
            with self._lock:
                context = self._contexts.get(tls)
                if context is None:
                    context = self._contexts[tls] = tls_context(tls)
        return context


def ssl_context(options: TransportOptions) -> ssl.SSLContext:
    """The context for the options' own TLS setting (see ``tls_context``)."""
    return tls_context(options.tls)


def tls_context(tls: TLSSettings) -> ssl.SSLContext:
    """CA bundle or certifi, optional client cert, or no checks; a caller's context as is."""
    if isinstance(tls.verify, ssl.SSLContext):
        return tls.verify
    check_tls_files(tls)
    verify, cert = tls
    if verify is False:
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    elif isinstance(verify, str):
        if os.path.isdir(verify):
            context = ssl.create_default_context(capath=verify)
        else:
            context = ssl.create_default_context(cafile=verify)
    else:
        context = ssl.create_default_context(cafile=_certifi_where())
    if cert is not None:
        chain, key = cert if isinstance(cert, tuple) else (cert, None)
        try:
            context.load_cert_chain(chain, key)
        except (OSError, ssl.SSLError) as exc:
            raise ConfigError(
                f"cannot load the client certificate {chain}: {root_reason(exc)}"
            ) from exc
    return context


def _certifi_where() -> str | None:
    try:
        import certifi
    except ImportError:  # pragma: no cover - certifi comes with requests and httpx
        return None
    return str(certifi.where())


def require(module: str, extra: str, transport: str) -> Any:
    """Import a backend lazily; a missing one is a PluginError naming the extra to install."""
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise PluginError(
            f"the {transport!r} transport needs the {module!r} package: "
            f"pip install 'hookwire[{extra}]'",
            plugin=f"transport-{transport}",
        ) from exc


# -- error text ---------------------------------------------------------------------------


def causes(exc: BaseException) -> Iterator[BaseException]:
    """The exception and what it wraps: __cause__, __context__ and exceptions in args/reason."""
    seen: set[int] = set()
    todo: list[BaseException] = [exc]
    while todo:
        current = todo.pop(0)
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        nested = [current.__cause__, current.__context__, getattr(current, "reason", None)]
        nested.extend(current.args)
        todo.extend(e for e in nested if isinstance(e, BaseException))


def find_cause(exc: BaseException, *types: type[BaseException]) -> BaseException | None:
    return next((e for e in causes(exc) if isinstance(e, types)), None)


def root_reason(exc: BaseException) -> str:
    """A short, secret-free reason: the innermost OS/TLS error's type and strerror."""
    for cause in reversed(list(causes(exc))):
        if isinstance(cause, _SSL_RETRY_SIGNALS):
            continue
        if isinstance(cause, ssl.SSLError):
            detail = getattr(cause, "verify_message", None) or getattr(cause, "reason", None)
            return f"{type(cause).__name__}: {detail or 'handshake failed'}"
        if isinstance(cause, OSError) and cause.strerror:
            return f"{type(cause).__name__}: {cause.strerror}"
    innermost = list(causes(exc))[-1]
    return type(innermost).__name__


def message(what: str, request: Request, exc: BaseException | None = None) -> str:
    """``"<what> for GET http://host/path (<root cause>)"`` with the URL redacted."""
    text = f"{what} for {request.method} {redact_url(request.url)}"
    if exc is not None:
        text += f" ({root_reason(exc)})"
    return text


#: "call again once the socket is ready": flow control of a non-blocking TLS object, not a
#: failure; it turns up as the implicit ``__context__`` of whatever broke next (anyio's TLS
#: stream raises a connection reset inside its ``except SSLWantReadError``), so a peer that
#: refused a client certificate by resetting the socket must still read as a ReadError.
_SSL_RETRY_SIGNALS = (ssl.SSLWantReadError, ssl.SSLWantWriteError)


def is_tls_failure(exc: BaseException) -> bool:
    return any(
        isinstance(cause, (ssl.SSLError, ssl.CertificateError))
        and not isinstance(cause, _SSL_RETRY_SIGNALS)
        for cause in causes(exc)
    )


def is_peer_close(exc: BaseException) -> bool:
    """The peer dropped the connection (reset, EOF before or inside the response)."""
    import http.client

    return (
        find_cause(
            exc,
            ConnectionResetError,
            ConnectionAbortedError,
            BrokenPipeError,
            http.client.RemoteDisconnected,
            http.client.IncompleteRead,
        )
        is not None
    )
