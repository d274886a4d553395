"""What the ``native`` transport's two faces (asyncio and blocking sockets) share, none of it IO.

The wire format itself is ``_h1``; here is what each face decides the same way around it,
all of it worked out for a request by ``Planner.plan`` before any IO: where a request goes
(``Targets``: origin and request target, per URL; the pool key), what its head says
(``frame``: Host, framing, a proxy's absolute form and login), the ``CONNECT`` for a tunnel,
how a proxy URL is read, and what a failure becomes at the boundary (``connect_failure``,
``read_failure``, ``send_failure``), so the sync face cannot drift from the async one.
"""

from __future__ import annotations

import base64
from typing import TYPE_CHECKING, Any, NamedTuple
from urllib.parse import quote, unquote, urlsplit

from hookwire import errors
from hookwire.plugin import Headers, Response
from hookwire.plugins.transports import _common, _h1
from hookwire.transports import TLSSettings

if TYPE_CHECKING:
    from hookwire.plugin import ContentDecoder, Request
    from hookwire.timeouts import Timeout

#: (scheme, host, port, proxy URL, TLS setting): connections are pooled per key.
PoolKey = tuple[str, str, int, "str | None", TLSSettings]

DEFAULT_PORTS = {"http": 80, "https": 443}
#: Methods that carry ``Content-Length: 0`` when they have no body (as requests and httpx
#: send them; some servers answer 411 Length Required without it).
_LENGTH_METHODS = frozenset({"POST", "PUT", "PATCH"})


class Origin:
    """What the transport needs from a URL's scheme and authority, parsed once per origin."""

    __slots__ = ("host", "host_header", "port", "scheme")

    def __init__(self, scheme: str, host: str, port: int, host_header: str) -> None:
        self.scheme = scheme
        self.host = host
        self.port = port
        self.host_header = host_header

    @property
    def authority(self) -> str:
        """``host:port`` always with the port, as CONNECT wants it."""
        shown = f"[{self.host}]" if ":" in self.host else self.host
        return f"{shown}:{self.port}"


def origin_of(scheme: str, netloc: str) -> Origin:
    """Parse ``netloc`` (ValueError when it is no authority). Userinfo is dropped: the client
    strips it; this is for a request handed to the transport directly, whose
    user:password must not reach the wire."""
    netloc = netloc.rpartition("@")[2]
    parts = urlsplit(f"{scheme}://{netloc}/")
    host = parts.hostname
    port = parts.port  # ValueError for a port that is no number, or out of range
    if not host:
        raise ValueError("no host")
    if not host.isascii():
        host = host.encode("idna").decode("ascii")
    default = DEFAULT_PORTS[scheme]
    shown = f"[{host}]" if ":" in host else host
    header = shown if port is None or port == default else f"{shown}:{port}"
    return Origin(scheme, host, port or default, header)


class Targets:
    """URL -> (origin, request target), kept per URL: an API client calls the same few URLs
    again and again. Bounded (cleared past ``limit``); not locked, as a lost race only parses
    a URL twice."""

    __slots__ = ("_limit", "_origins", "_targets")

    def __init__(self, limit: int = 512) -> None:
        self._limit = limit
        self._origins: dict[str, Origin] = {}
        self._targets: dict[str, tuple[Origin, str]] = {}

    def split(self, request: Request) -> tuple[Origin, str]:
        url = request.url
        known = self._targets.get(url)
        if known is not None:
            return known
        split = self._split(request, url)
        if len(self._targets) >= self._limit:
            self._targets.clear()
        self._targets[url] = split
        return split

    def _split(self, request: Request, url: str) -> tuple[Origin, str]:
        sent = _common.as_sent(url)
        scheme, sep, rest = (url if sent is None else sent).partition("://")
        scheme = scheme.lower()
        if not sep or scheme not in DEFAULT_PORTS:
            raise errors.InvalidURL(_common.message("invalid URL", request))
        cut = len(rest)
        for mark in "/?#":
            at = rest.find(mark)
            if 0 <= at < cut:
                cut = at
        netloc, target = rest[:cut], rest[cut:].partition("#")[0]
        if not target.startswith("/"):
            target = "/" + target
        if sent is None:  # non-ASCII text in the path or query: UTF-8, percent-encoded
            target = quote(target, safe="!#$%&'()*+,/:;=?@[]~")
        origin = self._origins.get(f"{scheme}://{netloc}")
        if origin is None:
            try:
                origin = origin_of(scheme, netloc)
            except (ValueError, UnicodeError) as exc:
                raise errors.InvalidURL(_common.message("invalid URL", request)) from exc
            if len(self._origins) >= self._limit:
                self._origins.clear()
            self._origins[f"{scheme}://{netloc}"] = origin
        return origin, target


class Outgoing(NamedTuple):
    """A request ready to write: its head, its body in memory (None when streamed or empty),
    whether a streamed body goes chunked, and whether the connection may be kept after it
    (False when the request itself says ``Connection: close``, RFC 9112 9.6)."""

    head: bytes
    content: bytes | None
    streamed: bool
    chunked: bool
    keep: bool = True
    #: The Content-Length a streamed, unchunked body declared (the caller's, or its file's
    #: size): the faces count what they send against it.
    length: int | None = None


def frame(
    request: Request, origin: Origin, target: str, proxy: str | None, heads: Heads
) -> Outgoing:
    """The request's head as it goes: Host first, then its own headers (``wire_pairs``), a
    proxy's login for a plain-http request through it (sent in absolute form), then framing:
    Content-Length for a body in memory or of known size, chunked for any other stream.

    For a body in memory (or none), everything but the Content-Length is a function of the
    method, URL, headers and proxy alone, so it is built once per combination and kept in
    ``heads``, the transport's own (an API client sends the same few again and again; the
    cache goes with the transport, and with it the credentials its keys hold).
    """
    content = request.content
    if request.stream is not None:
        head, chunked, keep = _head(request, origin, target, proxy)
        length = None if chunked else _declared_length(head)
        return Outgoing(head + b"\r\n", None, True, chunked, keep, length)
    key = (request.method, request.url, tuple(request.headers.multi_items()), proxy)
    known = heads.get(key)
    if known is None:
        known = _head(request, origin, target, proxy)
        if len(heads) >= _HEADS_LIMIT:
            heads.clear()
        heads[key] = known
    prefix, framed, keep = known
    body = content or None
    if framed or not (content or request.method in _LENGTH_METHODS):
        return Outgoing(prefix + b"\r\n", body, False, False, keep)
    framing = b"Content-Length: %d\r\n\r\n" % len(content or b"")
    return Outgoing(prefix + framing, body, False, False, keep)


#: Heads built for bodies in memory, keyed on (method, URL, header pairs, proxy); the value is
#: the head without its final blank line, whether the caller framed the body itself, and
#: whether the connection may be kept after it.
Heads = dict[tuple[str, str, tuple[tuple[str, str], ...], "str | None"], tuple[bytes, bool, bool]]
_HEADS_LIMIT = 256


class Plan(NamedTuple):
    """What both faces work out before any IO: the phases' timeouts and the head deadline,
    where the request goes (origin, proxy, pool key) and the bytes it goes as."""

    timeout: Timeout
    head: _common.HeadDeadline | None
    origin: Origin
    proxy: str | None
    key: PoolKey
    outgoing: Outgoing


class Planner:
    """A transport's per-request planning, and the caches it keeps (URL splits, heads)."""

    __slots__ = ("_default_tls", "_heads", "_targets")

    def __init__(self, default_tls: TLSSettings) -> None:
        self._default_tls = default_tls
        self._targets = Targets()
        self._heads: Heads = {}

    def plan(self, request: Request) -> Plan:
        timeout = _common.timeouts(request)
        origin, target = self._targets.split(request)
        proxy = _common.proxy_for(request)
        tls = _common.tls_of(request, self._default_tls)
        return Plan(
            timeout,
            _common.head_deadline(timeout),
            origin,
            proxy,
            (origin.scheme, origin.host, origin.port, proxy, tls),
            frame(request, origin, target, proxy, self._heads),
        )


def _head(
    request: Request, origin: Origin, target: str, proxy: str | None
) -> tuple[bytes, bool, bool]:
    """The head without its last CRLF; then for a stream whether it goes chunked, for a
    body in memory whether the caller framed it (Content-Length or Transfer-Encoding); then
    whether the request leaves the connection open (no ``Connection: close`` of its own)."""
    pairs, names = _common.wire_pairs(request)
    keep = "connection" not in names or "close" not in (
        request.headers.get("connection", "").lower()
    )
    if "host" not in names:
        pairs.insert(0, ("Host", origin.host_header))
    if proxy is not None and origin.scheme == "http":
        target = f"http://{origin.host_header}{target}"
        login = proxy_login(proxy)
        if login is not None and "proxy-authorization" not in names:
            pairs.append(("Proxy-Authorization", login))
    framed = "content-length" in names or "transfer-encoding" in names
    flag = framed
    if request.stream is not None:
        flag = False
        if not framed and not (pairs and pairs[-1][0] == "Content-Length"):  # added last
            pairs.append(("Transfer-Encoding", "chunked"))
            flag = True
        elif "transfer-encoding" in names:
            codings = request.headers.get("transfer-encoding", "")
            flag = codings.rsplit(",", 1)[-1].strip().lower() == "chunked"
    return _h1.request_head(request.method, target, pairs)[:-2], flag, keep


def _declared_length(head: bytes) -> int | None:
    """The Content-Length a head carries (None without one, or with one that is no number:
    the body then goes as it comes, as before)."""
    at = head.lower().find(b"\r\ncontent-length:")
    if at < 0:
        return None
    value = head[at + 17 :].split(b"\r\n", 1)[0].strip()
    return int(value) if value.isdigit() else None


class BodyCounter:
    """Counts a streamed body against the Content-Length it declared; an InvalidRequest
    naming both lengths when it runs over (before the excess is sent) or ends short (the
    server would wait for the rest, or read the next request as it)."""

    __slots__ = ("_declared", "_request", "sent")

    def __init__(self, declared: int, request: Request) -> None:
        self._declared = declared
        self._request = request
        self.sent = 0

    def add(self, piece: bytes) -> None:
        self.sent += len(piece)
        if self.sent > self._declared:
            raise errors.InvalidRequest(
                _common.message(
                    f"the streamed body is longer than its Content-Length ({self._declared})",
                    self._request,
                )
            )

    def done(self) -> None:
        if self.sent != self._declared:
            raise errors.InvalidRequest(
                _common.message(
                    f"the streamed body ended after {self.sent} of the {self._declared} bytes "
                    "its Content-Length declared",
                    self._request,
                )
            )


def ready_parser(kept: _h1.ResponseParser | None, request: Request) -> _h1.ResponseParser:
    """The connection's parser, reset for this exchange (made on its first)."""
    head_only = request.method == "HEAD"
    if kept is None:
        return _h1.ResponseParser(head_only=head_only)
    kept.reset(head_only=head_only)
    return kept


def response(parser: _h1.ResponseParser, stream: object, request: Request) -> Response:
    """The Response for a parsed head, its body to come from ``stream``."""
    return Response(
        parser.status,
        headers=Headers.from_wire(
            [(k.decode("latin-1"), v.decode("latin-1")) for k, v in parser.headers]
        ),
        stream=stream,  # type: ignore[arg-type]
        request=request,
        reason_phrase=parser.reason,
        http_version=parser.version,
    )


def connect_head(origin: Origin, proxy: str) -> bytes:
    """``CONNECT host:port`` for a tunnel to ``origin``; the proxy's login goes here only."""
    pairs: list[tuple[str, Any]] = [("Host", origin.authority)]
    login = proxy_login(proxy)
    if login is not None:
        pairs.append(("Proxy-Authorization", login))
    return _h1.request_head("CONNECT", origin.authority, pairs)


def proxy_origin(proxy: str, request: Request) -> Origin:
    """Where the proxy listens; a ProxyError for a scheme other than http(s) or a bad URL."""
    scheme, _, rest = proxy.partition("://")
    scheme = scheme.lower()
    if scheme not in DEFAULT_PORTS:
        raise errors.ProxyError(
            _common.message(f"unsupported proxy scheme {scheme!r}", request), request=request
        )
    try:
        return origin_of(scheme, rest.split("/", 1)[0])
    except (ValueError, UnicodeError) as exc:
        raise errors.ProxyError(
            _common.message("invalid proxy URL", request), request=request
        ) from exc


def proxy_login(proxy: str) -> str | None:
    """``Basic ...`` from the proxy URL's userinfo, or None without one."""
    netloc = proxy.partition("://")[2].split("/", 1)[0]
    if "@" not in netloc:
        return None
    user, _, password = netloc.rpartition("@")[0].partition(":")
    token = f"{unquote(user)}:{unquote(password)}".encode()
    return "Basic " + base64.b64encode(token).decode("ascii")


def tunnel_refused(parser: _h1.ResponseParser, request: Request) -> errors.ProxyError | None:
    """The error for a CONNECT the proxy did not grant (anything but a 2xx), else None."""
    if 200 <= parser.status < 300 and not parser.extra:
        return None
    return errors.ProxyError(
        _common.message(f"the proxy refused the tunnel ({parser.status})", request),
        request=request,
    )


def decoder(headers: list[tuple[bytes, bytes]]) -> ContentDecoder | None:
    """The core's decoder for every Content-Encoding line, or None for a plain body."""
    codings = [v.decode("latin-1") for k, v in headers if k.lower() == b"content-encoding"]
    if not codings:
        return None
    return _common.decoder_for(", ".join(codings))


def known_length(headers: list[tuple[bytes, bytes]], limit: int) -> bool:
    """Whether the body has a Content-Length within ``limit`` and no Content-Encoding (the
    size of a compressed body says nothing of what it decodes to), so it can be read at once."""
    length = None
    for name, value in headers:
        lowered = name.lower()
        if lowered == b"content-length":
            length = value
        elif lowered == b"content-encoding":
            return False
    return length is not None and length.isdigit() and int(length) <= limit


def eof() -> EOFError:
    """The cause of a read cut short by the server closing the connection cleanly."""
    return EOFError("the server closed the connection")


def closed_early(request: Request, *, reading: bool) -> errors.ReadError:
    what = (
        "the connection broke while reading the body"
        if reading
        else "the server closed the connection without a response"
    )
    return errors.ReadError(_common.message(what, request), request=request)


def read_timeout(request: Request) -> errors.ReadTimeout:
    return errors.ReadTimeout(_common.message("read timed out", request), request=request)


def write_timeout(request: Request) -> errors.WriteTimeout:
    return errors.WriteTimeout(_common.message("write timed out", request), request=request)


def connect_timeout(request: Request) -> errors.ConnectTimeout:
    return errors.ConnectTimeout(_common.message("connect timed out", request), request=request)


def pool_timeout(request: Request) -> errors.PoolTimeout:
    return errors.PoolTimeout(
        _common.message("no pooled connection became free in time", request), request=request
    )


def connect_failure(exc: BaseException, request: Request, *, via_proxy: bool) -> errors.SDKError:
    """A failed connect or TLS handshake: TLSError, ProxyError (reaching the proxy) or
    ConnectError, with the root cause's type and OS reason."""
    if isinstance(exc, errors.SDKError):
        return exc
    if _common.is_tls_failure(exc):
        return errors.TLSError(_common.message("TLS failed", request, exc), request=request)
    if via_proxy:
        return errors.ProxyError(_common.message("the proxy failed", request, exc), request=request)
    return errors.ConnectError(_common.message("could not connect", request, exc), request=request)


def read_failure(
    exc: BaseException, request: Request, head: _common.HeadDeadline | None, *, reading: bool
) -> errors.SDKError:
    """What a broken read becomes: the parser's ProtocolError (now naming the request), a TLS
    failure, or a ReadError; the head deadline's own error when it is what ran out."""
    if isinstance(exc, errors.SDKError):
        if isinstance(exc, errors.ProtocolError) and exc.request is None:
            return type(exc)(_common.message(str(exc), request), request=request)
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


def send_failure(exc: Exception, request: Request) -> errors.SDKError:
    """What an error while sending the request becomes."""
    if isinstance(exc, errors.SDKError):
        return exc
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
