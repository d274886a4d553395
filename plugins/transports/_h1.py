"""HTTP/1.1 on the wire, sans-IO: the part of the ``native`` transport that does no IO.

``request_head`` turns a request into the bytes of its head, ``chunk`` frames one piece of a
body of unknown length, and ``ResponseParser`` is fed whatever bytes a connection reads and
says what they amount to: a head, body pieces, the end of the message, or a broken message.
An event loop, a blocking socket or a test feeds it the same way; nothing here waits.

The parsing itself is llhttp's (Node's parser, through ``httptools``, the one uvicorn runs):
strict about framing (duplicate or malformed Content-Length, bad chunk sizes, whitespace
before a colon, obs-fold) where a hand-written parser would be the weak point. What llhttp
leaves to its caller is decided here:

- the head is bounded (``MAX_HEAD`` bytes, ``MAX_HEADERS`` fields): a server that never ends
  its headers is a ``ProtocolError``, not unbounded memory;
- interim 1xx responses (``100 Continue``, ``103 Early Hints``) are skipped, the final response
  is the one returned;
- a reply to HEAD (or to CONNECT) has no body whatever its Content-Length says; llhttp cannot
  know the request's method, so ``head_only`` ends the message at its head;
- a body with neither Content-Length nor chunked framing lasts until the server closes the
  connection (``until_close``), and such a connection is never reused;
- any byte after the end of the message (a server that sent more than it framed) marks the
  connection as not reusable (``extra``), so it can never be read as the next response.
"""

from __future__ import annotations

from typing import Any

from hookwire import errors

#: The most bytes a response head may take (status line and headers together).
MAX_HEAD = 64 * 1024
#: The most header fields a response head may carry.
MAX_HEADERS = 256

_NO_BODY_STATUS = frozenset({204, 304})


_HTTPTOOLS: Any = None


def _httptools() -> Any:
    """httptools, imported on first use (the plugin registers without it installed)."""
    global _HTTPTOOLS
    if _HTTPTOOLS is None:
        import httptools

        _HTTPTOOLS = httptools
    return _HTTPTOOLS


class HeadTooLarge(Exception):
    """Raised inside a parser callback: the head passed ``MAX_HEADERS`` fields or
    ``MAX_HEAD`` bytes (its message is the ProtocolError's)."""


class ResponseParser:
    """One response, fed as it arrives. Read the attributes after each ``feed``.

    ``head_done`` once the final head is in (``status``, ``reason``, ``headers``,
    ``version``, ``keep_alive``); ``body`` holds decoded-from-framing body pieces not yet taken
    (``buffered`` bytes of them); ``complete`` once the message has ended (``eof()`` ends an
    ``until_close`` body). A broken message raises ``errors.ProtocolError`` from ``feed``,
    with ``request`` unset (the transport names it).
    """

    __slots__ = (
        "_fields",
        "_parser",
        "_reason",
        "_seen",
        "body",
        "buffered",
        "chunked",
        "complete",
        "extra",
        "head_done",
        "head_only",
        "headers",
        "keep_alive",
        "status",
        "until_close",
        "version",
    )

    def __init__(self, *, head_only: bool = False) -> None:
        self._parser = _httptools().HttpResponseParser(self)
        self.head_only = False
        self.reset(head_only=head_only)

    def reset(self, *, head_only: bool = False) -> None:
        """Ready for the next response on the same connection (after one read to its end).

        llhttp goes on to the next message by itself; only after a reply to HEAD, whose body
        it was still expecting, does it need a parser of its own again.
        """
        if self.head_only:
            self._parser = _httptools().HttpResponseParser(self)
        self.head_only = head_only
        self._reason = b""
        self._seen = 0
        self._fields = 0
        self.status = 0
        self.headers: list[tuple[bytes, bytes]] = []
        self.version = "HTTP/1.1"
        self.head_done = False
        self.keep_alive = False
        self.until_close = False
        self.chunked = False
        self.complete = False
        self.extra = False
        self.body: list[bytes] = []
        self.buffered = 0

    @property
    def reason(self) -> str:
        return self._reason.decode("latin-1")

    # -- fed by the connection --------------------------------------------------------------

    def feed(self, data: bytes) -> None:
        """Parse the next bytes read from the connection."""
        if self.complete:
            self.extra = True  # more than the message framed: never reuse this connection
            return
        httptools = _httptools()
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserUpgrade as exc:
            # 101 Switching Protocols: the head is all there is of it for HTTP; what follows
            # (in this read or a later one) belongs to another protocol.
            self.complete = True
            self.keep_alive = False
            offset = exc.args[0] if exc.args and isinstance(exc.args[0], int) else len(data)
            if offset < len(data):
                self.extra = True
            return
        except httptools.HttpParserCallbackError as exc:
            if isinstance(exc.__context__, HeadTooLarge):
                raise errors.ProtocolError(str(exc.__context__)) from None
            raise
        except httptools.HttpParserError as exc:
            if self.complete:  # garbage after the end: the message itself is whole
                self.extra = True
                return
            if self.head_done and self.chunked:
                raise errors.ProtocolError("malformed chunked body") from exc
            raise errors.ProtocolError("the server broke HTTP framing") from exc
        if not self.head_done:
            self._seen += len(data)
            if self._seen > MAX_HEAD:
                raise errors.ProtocolError(f"the response head is larger than {MAX_HEAD} bytes")

    def eof(self) -> None:
        """The server closed the connection: ends an ``until_close`` body, else nothing."""
        if self.head_done and self.until_close and not self.complete:
            self.complete = True

    def take(self, limit: int) -> bytes:
        """Up to ``limit`` bytes of buffered body (b"" when none is buffered)."""
        body = self.body
        if not body:
            return b""
        if len(body) == 1:
            piece = body[0]
            if len(piece) <= limit:
                body.clear()
                self.buffered = 0
                return piece
            body[0] = piece[limit:]
            self.buffered -= limit
            return piece[:limit]
        joined = b"".join(body)
        body.clear()
        if len(joined) > limit:
            body.append(joined[limit:])
            joined = joined[:limit]
        self.buffered -= len(joined)
        return joined

    # -- llhttp's callbacks -----------------------------------------------------------------

    def on_message_begin(self) -> None:
        if self.complete:
            self.extra = True

    def on_status(self, status: bytes) -> None:
        if not self.head_done:
            self._reason += status  # llhttp hands a status split across reads in pieces
            self._count(len(status))

    def on_header(self, name: bytes, value: bytes | None) -> None:
        if self.head_done:
            return  # a trailer field of a chunked body: not headers
        headers = self.headers
        value = value or b""
        headers.append((name, value))
        self._fields += len(name) + len(value) + 4  # _count, inlined: four times a response
        if self._fields > MAX_HEAD:
            raise HeadTooLarge(f"the response head is larger than {MAX_HEAD} bytes")
        if len(headers) > MAX_HEADERS:
            raise HeadTooLarge(f"the response head has more than {MAX_HEADERS} header fields")

    def _count(self, size: int) -> None:
        """Bound the head however it arrives: ``feed`` sees only what is still unparsed after
        a read, so a head that ends inside one large read is measured here, field by field
        (interim responses included)."""
        self._fields += size
        if self._fields > MAX_HEAD:
            raise HeadTooLarge(f"the response head is larger than {MAX_HEAD} bytes")

    def on_headers_complete(self) -> None:
        if self.head_done:
            self.extra = True  # a second message in the same read: not this one's head
            return
        parser = self._parser
        status = parser.get_status_code()
        if 100 <= status < 200 and status != 101:
            self.headers = []  # an interim response: the final one follows
            self._reason = b""
            self._count(17)  # its status line and blank line count against the head bound
            return
        self.status = status
        self.version = "HTTP/" + parser.get_http_version()
        self.keep_alive = bool(parser.should_keep_alive())
        self.head_done = True
        if self.head_only or status in _NO_BODY_STATUS:
            self.complete = True
            return
        # RFC 9112 6.3: a Transfer-Encoding frames the body only when chunked is its final
        # coding (otherwise the body lasts until the close), and overrides a Content-Length.
        length = False
        coding = None
        for name, value in self.headers:
            lowered = name.lower()
            if lowered == b"content-length":
                length = True
            elif lowered == b"transfer-encoding":
                coding = value
        if coding is not None:
            self.chunked = coding.rsplit(b",", 1)[-1].strip().lower() == b"chunked"
            framed = self.chunked
        else:
            framed = length
        if not framed:
            self.until_close = True
            self.keep_alive = False

    def on_body(self, body: bytes) -> None:
        if self.complete:
            self.extra = True  # bytes llhttp took for a body a HEAD reply does not have
            return
        self.body.append(body)
        self.buffered += len(body)

    def on_message_complete(self) -> None:
        if self.head_done:
            self.complete = True


def chunk(data: bytes) -> bytes:
    """One piece of a chunked request body (never empty: that would end the body)."""
    return b"%x\r\n%b\r\n" % (len(data), data)


#: The last chunk, no trailers.
LAST_CHUNK = b"0\r\n\r\n"


def request_head(method: str, target: str, pairs: list[tuple[str, Any]]) -> bytes:
    """The request line and header block, ready to write.

    ``pairs`` are the headers as they go (Host first, framing last); a value is text, or bytes
    for one that is not ASCII. Header names, values and the method were checked for CR, LF and
    NUL when the request was built, so nothing here can split the head.
    """
    if all(type(v) is str for _, v in pairs):
        text = "".join([f"{method} {target} HTTP/1.1\r\n", *[f"{k}: {v}\r\n" for k, v in pairs]])
        try:
            return text.encode("latin-1") + b"\r\n"
        except UnicodeEncodeError as exc:
            raise errors.InvalidHeader("a header name is not ASCII") from exc
    parts = [f"{method} {target} HTTP/1.1\r\n".encode("latin-1")]
    for name, value in pairs:
        raw = value if isinstance(value, bytes) else str(value).encode("latin-1")
        parts.append(b"%b: %b\r\n" % (name.encode("latin-1"), raw))
    parts.append(b"\r\n")
    return b"".join(parts)
