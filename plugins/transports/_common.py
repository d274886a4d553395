"""What the three transport plugins share: wire headers, body framing, timeouts, TLS, messages.

Each transport is a thin translation of one library; everything that must come out the same
on all of them is decided here once, so the contract suite cannot drift between backends:

- the headers on the wire are the request's own, plus ``Accept-Encoding`` naming what every
  transport decodes (gzip, deflate, and br when ``brotli`` is installed) when the caller set
  none, plus ``Content-Length`` for a file body whose size is known (otherwise chunked);
- the body comes off the wire raw and goes through one ``ContentDecoder`` (``decoder_for``);
- ``first_byte`` bounds the wait for the response headers, ``read`` every later read;
- one ``ssl.SSLContext`` (verify: bool or CA bundle path; cert: path or (cert, key)) with the
  certifi bundle by default, as requests and httpx do;
- error messages say what failed, for which method and redacted URL, and the root cause's
  type and OS reason, never a backend's own text (which can hold a proxy's credentials or a
  query string).
"""

from __future__ import annotations

import functools
import os
import ssl
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from hookwire.errors import ConfigError, PluginError
from hookwire.plugin import ContentDecoder, redact_url, wire_value
from hookwire.timeouts import Timeout

if TYPE_CHECKING:
    from hookwire.plugin import Request
    from hookwire.transports import TransportOptions

#: Read size for response bodies: every chunk handed to the client is at most this long, so
#: the Response's max_body_size check stops a decompression bomb after one chunk.
CHUNK_SIZE = 64 * 1024

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
    headers = request.headers
    pairs: list[tuple[str, Any]] = headers.multi_items()
    if not text and not all(v.isascii() for _, v in pairs):
        pairs = [(k, wire_value(v)) for k, v in pairs]
    if "accept-encoding" not in headers:
        pairs.append(("Accept-Encoding", accept_encoding()))
    if (
        request.stream is not None
        and "content-length" not in headers
        and "transfer-encoding" not in headers
    ):
        length = body_length(request)
        if length is not None:
            pairs.append(("Content-Length", str(length)))
    return pairs


def timeouts(request: Request) -> Timeout:
    """The per-phase timeouts the client chose for this exchange (already deadline-capped)."""
    timeout = request.extensions.get("timeout")
    return timeout if isinstance(timeout, Timeout) else _DEFAULT_TIMEOUT


def headers_timeout(timeout: Timeout) -> float | None:
    """How long to wait for the response headers: ``first_byte`` when set, else ``read``."""
    return timeout.first_byte if timeout.first_byte is not None else timeout.read


def proxy_for(request: Request) -> str | None:
    """The proxy URL the client chose for this request (credentials inside), or None."""
    proxy = request.extensions.get("proxy")
    return str(proxy) if proxy else None


def check_tls_files(options: TransportOptions) -> None:
    """Fail at construction, with a clear message, when a CA bundle or cert file is missing."""
    paths: list[tuple[str, str]] = []
    if isinstance(options.verify, str):
        paths.append(("verify (CA bundle)", options.verify))
    if isinstance(options.cert, str):
        paths.append(("cert", options.cert))
    elif isinstance(options.cert, tuple):
        paths.extend([("cert", options.cert[0]), ("cert key", options.cert[1])])
    for what, path in paths:
        if not os.path.exists(path):
            raise ConfigError(f"{what} file not found: {path}")


def ssl_context(options: TransportOptions) -> ssl.SSLContext:
    """One context per transport: CA bundle or certifi, optional client cert, or no checks."""
    check_tls_files(options)
    if options.verify is False:
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    elif isinstance(options.verify, str):
        if os.path.isdir(options.verify):
            context = ssl.create_default_context(capath=options.verify)
        else:
            context = ssl.create_default_context(cafile=options.verify)
    else:
        context = ssl.create_default_context(cafile=_certifi_where())
    if options.cert is not None:
        cert, key = options.cert if isinstance(options.cert, tuple) else (options.cert, None)
        try:
            context.load_cert_chain(cert, key)
        except (OSError, ssl.SSLError) as exc:
            raise ConfigError(
                f"cannot load the client certificate {cert}: {root_reason(exc)}"
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
