"""The one Request and Response model shared by every transport, sync and async.

A transport receives a :class:`Request` and returns a :class:`Response` whose body is still a
stream (``SyncByteStream`` or ``AsyncByteStream``); the client reads it unless the caller asked
to stream.
"""

from __future__ import annotations

import codecs
import datetime
import json as jsonlib
from collections.abc import AsyncIterable, AsyncIterator, Iterable, Iterator
from typing import IO, TYPE_CHECKING, Any, Protocol, TypeGuard, runtime_checkable

from hookwire._decoders import LineDecoder
from hookwire._headers import REDACTED, HeaderInput, Headers, check_header_text, check_token
from hookwire._urls import redact_url
from hookwire.errors import (
    BodyTooLarge,
    DeadlineExceeded,
    DecodingError,
    HTTPStatusError,
    ResponseNotRead,
    StreamConsumed,
    UnreplayableBodyError,
)

if TYPE_CHECKING:
    from hookwire._clock import Clock

CHUNK_SIZE = 64 * 1024

#: Default ceiling for a body read into memory (after decompression): 64 MiB.
DEFAULT_MAX_BODY = 64 * 1024 * 1024


@runtime_checkable
class SyncByteStream(Protocol):
    """What a sync transport hands back as a response body."""

    def __iter__(self) -> Iterator[bytes]: ...

    def close(self) -> None: ...


@runtime_checkable
class AsyncByteStream(Protocol):
    """What an async transport hands back as a response body.

    A stream may also offer ``async def aread_all(self, limit: int) -> bytes | None``: the
    whole body in one await, when it can tell before reading that the body is at most
    ``limit`` bytes (say, an uncompressed body with a Content-Length). It returns None,
    having read nothing, when it cannot; the response then iterates as usual. After it
    returns bytes the connection is free, as after a finished iteration.
    ``Response.aread()`` uses it to skip a per-chunk async generator round trip.
    """

    def __aiter__(self) -> AsyncIterator[bytes]: ...

    async def aclose(self) -> None: ...


_STREAM_TYPES: dict[type, set[type]] = {}


def _is_stream(obj: object, protocol: type) -> bool:
    """``isinstance(obj, protocol)`` for the two stream protocols, memoised per class.

    A ``runtime_checkable`` Protocol check re-walks the protocol's attributes on every call
    (~4 us on Python 3.11, several times per response). A class that structurally matches
    keeps matching, so positive answers are cached by type; anything else takes the full check.
    """
    known = _STREAM_TYPES.setdefault(protocol, set())
    cls = type(obj)
    if cls in known:
        return True
    if isinstance(obj, protocol):
        if issubclass(cls, protocol):
            known.add(cls)
        return True
    return False


def _is_sync(obj: object) -> TypeGuard[SyncByteStream]:
    return _is_stream(obj, SyncByteStream)


def _is_async(obj: object) -> TypeGuard[AsyncByteStream]:
    return _is_stream(obj, AsyncByteStream)


class BytesStream:
    """A body already in memory, usable as both a sync and an async stream."""

    def __init__(self, data: bytes) -> None:
        self._data = data

    def __iter__(self) -> Iterator[bytes]:
        if self._data:
            yield self._data

    async def __aiter__(self) -> AsyncIterator[bytes]:
        if self._data:
            yield self._data

    def close(self) -> None:
        pass

    async def aclose(self) -> None:
        pass


class Request:
    """A prepared request: inspectable before and after sending.

    The body is either ``content`` (bytes, replayable) or ``stream``: a file object (replayable
    by seeking back to where it started) or an iterator/async iterator (one-shot).
    """

    def __init__(
        self,
        method: str,
        url: str,
        *,
        headers: HeaderInput = None,
        content: bytes | None = None,
        stream: IO[bytes] | Iterable[bytes] | AsyncIterable[bytes] | None = None,
        extensions: dict[str, Any] | None = None,
    ) -> None:
        check_token("method", method)
        check_header_text("the URL", url)
        self.method = method.upper()
        self.url = url
        self.headers = Headers(headers)
        self.content = content
        self.stream = stream
        self.extensions: dict[str, Any] = extensions or {}
        self._stream_started = False
        self._file_start: int | None = None
        if stream is not None and hasattr(stream, "seek") and hasattr(stream, "tell"):
            try:
                self._file_start = stream.tell()
            except OSError:
                self._file_start = None

    @property
    def body(self) -> bytes | None:
        """The body bytes when they are in memory (requests' ``PreparedRequest.body``)."""
        return self.content

    @property
    def is_replayable(self) -> bool:
        return self.stream is None or self._file_start is not None or not self._stream_started

    def rewind(self) -> None:
        """Make the body ready to be sent again, or raise if it cannot be."""
        if self.stream is None:
            return
        if self._file_start is not None:
            self.stream.seek(self._file_start)  # type: ignore[union-attr]
            return
        if self._stream_started:
            raise UnreplayableBodyError(
                "the request body is a one-shot iterator that was already sent; pass bytes or a "
                "seekable file so it can be replayed (after an auth challenge, redirect or retry)"
            )

    def iter_body(self) -> Iterator[bytes]:
        """The body as chunks for a sync transport (marks a one-shot stream as used)."""
        if self.content is not None:
            if self.content:
                yield self.content
            return
        if self.stream is None:
            return
        self.rewind()
        self._stream_started = True
        if self._file_start is not None:
            read = self.stream.read  # type: ignore[union-attr]
            while chunk := read(CHUNK_SIZE):
                yield chunk if isinstance(chunk, bytes) else str(chunk).encode()
            return
        if isinstance(self.stream, AsyncIterable):
            raise UnreplayableBodyError("an async iterator body needs an AsyncClient")
        for chunk in self.stream:
            yield bytes(chunk)

    async def aiter_body(self) -> AsyncIterator[bytes]:
        """The body as chunks for an async transport."""
        if isinstance(self.stream, AsyncIterable) and self._file_start is None:
            self.rewind()
            self._stream_started = True
            async for chunk in self.stream:
                yield bytes(chunk)
            return
        for chunk in self.iter_body():
            yield chunk

    def read(self) -> bytes:
        """Buffer a sync body into ``content`` so it can be hashed and replayed."""
        if self.content is None and self.stream is not None:
            self.content = b"".join(self.iter_body())
            self.stream = None
        return self.content or b""

    def copy_with(self, **changes: Any) -> Request:
        """A new Request with some fields replaced (headers are copied, never shared)."""
        fields: dict[str, Any] = {
            "headers": self.headers.copy(),
            "content": self.content,
            "stream": self.stream,
            "extensions": dict(self.extensions),
        }
        fields.update(changes)
        method = fields.pop("method", self.method)
        url = fields.pop("url", self.url)
        new = Request(method, url, **fields)
        if new.stream is self.stream:
            new._stream_started = self._stream_started
            new._file_start = self._file_start
        return new

    def __repr__(self) -> str:
        return f"<Request [{self.method} {redact_url(self.url)}]>"


def _charset(content_type: str | None) -> str | None:
    if not content_type:
        return None
    for part in content_type.split(";")[1:]:
        key, _, value = part.strip().partition("=")
        if key.lower() == "charset" and value:
            name = value.strip().strip("'\"")
            try:
                return codecs.lookup(name).name
            except LookupError:
                return None
    return None


class Response:
    """A response; ``bool(response)`` is ``response.ok`` as in requests."""

    def __init__(
        self,
        status_code: int,
        *,
        headers: HeaderInput = None,
        content: bytes | None = None,
        stream: SyncByteStream | AsyncByteStream | None = None,
        request: Request | None = None,
        reason_phrase: str = "",
        http_version: str = "HTTP/1.1",
        max_body_size: int = DEFAULT_MAX_BODY,
    ) -> None:
        self.status_code = status_code
        # A transport hands over the Headers it built (from_wire: taken as received); only
        # other inputs are copied, and checked.
        self.headers = headers if isinstance(headers, Headers) else Headers(headers)
        self.request: Request = request  # type: ignore[assignment]
        self.reason_phrase = reason_phrase
        self.http_version = http_version
        self.history: list[Response] = []
        #: Seconds (a float, as the client measured them) until ``elapsed`` is first read.
        self._elapsed: datetime.timedelta | float = 0.0
        self.max_body_size = max_body_size
        self._content = content
        self._stream = stream if content is None else None
        self._stream_consumed = False
        self._closed = content is not None
        self._encoding: str | None = None
        #: Set by the client: the attempts it took to get this response.
        self.attempts = 1
        #: The call's total deadline on ``_clock`` (see ``set_deadline``), or None.
        self._deadline: float | None = None
        self._clock: Clock | None = None

    # -- status ---------------------------------------------------------------------------
    @property
    def ok(self) -> bool:
        return self.status_code < 400

    def __bool__(self) -> bool:
        return self.ok

    @property
    def is_redirect(self) -> bool:
        return self.status_code in (301, 302, 303, 307, 308) and "location" in self.headers

    @property
    def elapsed(self) -> datetime.timedelta:
        """Time from sending the request until the response headers arrived.

        The client stores plain seconds; the timedelta (~0.3 us to build) is made on first
        read, which most responses never get.
        """
        elapsed = self._elapsed
        if not isinstance(elapsed, datetime.timedelta):
            elapsed = self._elapsed = datetime.timedelta(seconds=elapsed)
        return elapsed

    @elapsed.setter
    def elapsed(self, value: datetime.timedelta) -> None:
        self._elapsed = value

    @property
    def url(self) -> str:
        return self.request.url if self.request is not None else ""

    def raise_for_status(self) -> Response:
        """Raise ``HTTPStatusError`` for 4xx/5xx; return the response otherwise (chainable)."""
        if self.status_code < 400:
            return self
        kind = "Client error" if self.status_code < 500 else "Server error"
        url = redact_url(self.url)
        raise HTTPStatusError(
            f"{kind} '{self.status_code} {self.reason_phrase}' for url '{url}'",
            request=self.request,
            response=self,
            attempts=self.attempts,
        )

    # -- body -----------------------------------------------------------------------------
    @property
    def is_stream_consumed(self) -> bool:
        return self._stream_consumed

    @property
    def content(self) -> bytes:
        if self._content is None:
            raise ResponseNotRead(
                "the body of a streamed response was not read: call read() (or aread()) first"
            )
        return self._content

    @property
    def encoding(self) -> str:
        if self._encoding is not None:
            return self._encoding
        return _charset(self.headers.get("content-type")) or "utf-8"

    @encoding.setter
    def encoding(self, value: str) -> None:
        self._encoding = value

    @property
    def text(self) -> str:
        return self.content.decode(self.encoding, errors="replace")

    def json(self, **kwargs: Any) -> Any:
        content = self.content
        try:
            # json.loads(bytes) sniffs UTF-8/16/32 from the BOM and NUL pattern, then decodes
            # with "surrogatepass". A body starting "{" or "[" with no NUL second byte is
            # UTF-8 to that sniffer, so decode it the same way without the sniffing (~0.5 us);
            # anything else (UTF-16/32, BOMs, scalars) takes json.loads(bytes) itself.
            if content[:1] in (b"{", b"[") and content[1:2] != b"\x00":
                return jsonlib.loads(content.decode("utf-8", "surrogatepass"), **kwargs)
            return jsonlib.loads(content, **kwargs)
        except ValueError as exc:
            raise DecodingError(
                f"response body is not valid JSON ({exc})", request=self.request
            ) from exc

    def _check_size(self, size: int) -> None:
        if size > self.max_body_size:
            raise BodyTooLarge(
                f"response body passed its size limit of {self.max_body_size} bytes",
                request=self.request,
                limit=self.max_body_size,
            )

    def set_deadline(self, deadline: float, clock: Clock) -> None:
        """Read the body against the call's total deadline (``clock.monotonic()`` time): every
        chunk is checked as it arrives, whether the client reads the body or the caller
        iterates a stream, so a body dripping faster than the read timeout still ends in
        ``DeadlineExceeded`` soon after the deadline, on every transport."""
        self._deadline = deadline
        self._clock = clock

    def _check_deadline(self, deadline: float) -> None:
        assert self._clock is not None  # set together with the deadline
        if self._clock.monotonic() > deadline:
            raise DeadlineExceeded(
                "the total deadline passed while the response body was being read",
                request=self.request,
            )

    def _take_sync_stream(self) -> SyncByteStream:
        if self._stream_consumed:
            raise StreamConsumed("the response body was already iterated")
        if not _is_sync(self._stream):
            raise RuntimeError("this response has an async body: use the a* methods")
        self._stream_consumed = True
        return self._stream

    def read(self) -> bytes:
        if self._content is None:
            self._content = b"".join(self.iter_raw())
        return self._content

    def iter_raw(self) -> Iterator[bytes]:
        """The (already decompressed) body chunks as the transport delivers them."""
        if self._content is not None:
            yield from BytesStream(self._content)
            return
        stream = self._take_sync_stream()
        size = 0
        deadline = self._deadline
        try:
            for chunk in stream:
                size += len(chunk)
                self._check_size(size)
                if deadline is not None:
                    self._check_deadline(deadline)  # closes the connection on the way out
                yield chunk
        finally:
            self.close()

    def iter_bytes(self, chunk_size: int | None = None) -> Iterator[bytes]:
        if chunk_size is None:
            yield from self.iter_raw()
            return
        buffer = b""
        for chunk in self.iter_raw():
            buffer += chunk
            while len(buffer) >= chunk_size:
                yield buffer[:chunk_size]
                buffer = buffer[chunk_size:]
        if buffer:
            yield buffer

    def iter_text(self) -> Iterator[str]:
        decoder = codecs.getincrementaldecoder(self.encoding)(errors="replace")
        for chunk in self.iter_raw():
            if text := decoder.decode(chunk):
                yield text
        if tail := decoder.decode(b"", final=True):
            yield tail

    def iter_lines(self) -> Iterator[str]:
        decoder = LineDecoder()
        for text in self.iter_text():
            yield from decoder.feed(text)
        yield from decoder.flush()

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            if _is_sync(self._stream):
                self._stream.close()

    # -- async body -----------------------------------------------------------------------
    async def aread(self) -> bytes:
        if self._content is not None:
            return self._content
        read_all = getattr(self._stream, "aread_all", None)
        # Not against a deadline: one read() of the whole body cannot be checked per chunk.
        if read_all is not None and not self._stream_consumed and self._deadline is None:
            # The stream's one-await read (see ``AsyncByteStream``). It only says yes for a
            # body it knows fits ``max_body_size``; the size is checked again so a stream
            # that got it wrong still cannot hand back more. Inline, not in a helper
            # coroutine: one frame fewer on the path nearly every response takes.
            self._stream_consumed = True
            try:
                whole: bytes | None = await read_all(self.max_body_size)
                if whole is not None:
                    self._check_size(len(whole))
            except BaseException:
                await self.aclose()
                raise
            if whole is not None:
                await self.aclose()
                self._content = whole
                return whole
            self._stream_consumed = False  # nothing was read: iterate as usual
        self._content = b"".join([chunk async for chunk in self.aiter_raw()])
        return self._content

    async def aiter_raw(self) -> AsyncIterator[bytes]:
        if self._content is not None:
            async for chunk in BytesStream(self._content):
                yield chunk
            return
        if self._stream_consumed:
            raise StreamConsumed("the response body was already iterated")
        if not _is_async(self._stream):
            raise RuntimeError("this response has a sync body: use the non-async methods")
        self._stream_consumed = True
        size = 0
        deadline = self._deadline
        try:
            async for chunk in self._stream:
                size += len(chunk)
                self._check_size(size)
                if deadline is not None:
                    self._check_deadline(deadline)
                yield chunk
        finally:
            await self.aclose()

    async def aiter_bytes(self) -> AsyncIterator[bytes]:
        async for chunk in self.aiter_raw():
            yield chunk

    async def aiter_text(self) -> AsyncIterator[str]:
        decoder = codecs.getincrementaldecoder(self.encoding)(errors="replace")
        async for chunk in self.aiter_raw():
            if text := decoder.decode(chunk):
                yield text
        if tail := decoder.decode(b"", final=True):
            yield tail

    async def aiter_lines(self) -> AsyncIterator[str]:
        decoder = LineDecoder()
        async for text in self.aiter_text():
            for line in decoder.feed(text):
                yield line
        for line in decoder.flush():
            yield line

    async def aclose(self) -> None:
        if not self._closed:
            self._closed = True
            if _is_async(self._stream):
                await self._stream.aclose()

    # -- context managers -----------------------------------------------------------------
    def __enter__(self) -> Response:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    async def __aenter__(self) -> Response:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    def __repr__(self) -> str:
        return f"<Response [{self.status_code}]>"


__all__ = [
    "REDACTED",
    "AsyncByteStream",
    "BytesStream",
    "Request",
    "Response",
    "SyncByteStream",
]
