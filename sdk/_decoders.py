"""Incremental decoders shared by sync and async response iteration and by every transport.

``ContentDecoder`` undoes gzip/deflate/br in bounded steps (a 64 KiB gzip read can hold ~64 MiB;
a decoder that expands a whole read at once lets a bomb balloon before anyone checks a limit).
``LineDecoder`` splits text into lines.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator
from typing import Any

from hookwire.errors import DecodingError


class LineDecoder:
    """Split text fed in arbitrary pieces into lines (``\\n``, ``\\r\\n`` or ``\\r``).

    A ``\\r`` at the end of one piece is held back until the next shows whether a ``\\n``
    follows, so a CRLF split across chunks yields one line break, not two.
    """

    __slots__ = ("_buffer", "_trailing_cr")

    def __init__(self) -> None:
        self._buffer: list[str] = []
        self._trailing_cr = False

    def feed(self, text: str) -> list[str]:
        if self._trailing_cr:
            text = "\r" + text
            self._trailing_cr = False
        if text.endswith("\r"):
            self._trailing_cr = True
            text = text[:-1]
        if not text:
            return []
        lines = text.splitlines(keepends=True)
        ended = lines[-1].endswith(("\n", "\r"))
        tail = "" if ended else lines.pop()
        out: list[str] = []
        for line in lines:
            if self._buffer:
                line = "".join(self._buffer) + line
                self._buffer = []
            out.append(line.rstrip("\r\n"))
        if tail:
            self._buffer.append(tail)
        return out

    def flush(self) -> list[str]:
        pending = "".join(self._buffer)
        self._buffer = []
        if self._trailing_cr:
            self._trailing_cr = False
            return [pending]
        return [pending] if pending else []


class _Zlib:
    """gzip (with multiple members) or deflate (zlib-wrapped, or raw as some servers send)."""

    def __init__(self, gzip: bool) -> None:
        self._gzip = gzip
        self._obj: Any = zlib.decompressobj(zlib.MAX_WBITS | 16 if gzip else zlib.MAX_WBITS)
        self._first = not gzip

    def feed(self, data: bytes, limit: int) -> Iterator[bytes]:
        while data:
            try:
                out = self._obj.decompress(data, limit)
            except zlib.error:
                if not self._first:
                    raise
                self._first = False  # RFC 1951 raw deflate, sent by some servers as "deflate"
                self._obj = zlib.decompressobj(-zlib.MAX_WBITS)
                continue
            self._first = False
            if out:
                yield out
            data = self._obj.unconsumed_tail
            if self._obj.eof:
                rest = self._obj.unused_data
                if not (self._gzip and rest):
                    return
                self._obj = zlib.decompressobj(zlib.MAX_WBITS | 16)  # next gzip member
                data = rest

    def flush(self) -> bytes:
        return bytes(self._obj.flush())


class _Brotli:
    def __init__(self) -> None:
        import brotli

        self._obj = brotli.Decompressor()

    def feed(self, data: bytes, limit: int) -> Iterator[bytes]:
        # output_buffer_limit stops the buffer growing once it reaches the limit, but the last
        # growth step can overshoot it; slicing keeps every piece within the limit.
        # Output still held inside the decompressor comes out on calls with empty input.
        out = self._obj.process(data, output_buffer_limit=limit)
        while out:
            for start in range(0, len(out), limit):
                yield out[start : start + limit]
            out = self._obj.process(b"", output_buffer_limit=limit)

    def flush(self) -> bytes:
        return b""


def _decoder_for(coding: str) -> Any:
    if coding in ("gzip", "x-gzip"):
        return _Zlib(gzip=True)
    if coding == "deflate":
        return _Zlib(gzip=False)
    if coding == "br":
        try:
            return _Brotli()
        except ImportError:
            return None
    return None


class ContentDecoder:
    """Undoes ``Content-Encoding`` chunk by chunk; every piece it yields is at most ``limit`` bytes.

    Every transport hands the raw body through one of these, so the decompression-bomb bound
    (the Response's ``max_body_size`` check runs after each bounded piece) and the
    :class:`~hookwire.errors.DecodingError` for a corrupt body are the same on all of them.
    Layered encodings (``gzip, br``) are undone in reverse order (RFC 9110 section 8.4.1);
    unknown codings and ``identity`` pass through; ``br`` needs the ``brotli`` package.
    """

    def __init__(self, content_encoding: str, limit: int) -> None:
        codings = [c.strip().lower() for c in content_encoding.split(",") if c.strip()]
        self._decoders = [d for d in (_decoder_for(c) for c in reversed(codings)) if d is not None]
        self._limit = limit
        self.encoding = content_encoding

    @property
    def active(self) -> bool:
        return bool(self._decoders)

    def feed(self, data: bytes) -> Iterator[bytes]:
        try:
            yield from self._through(data, 0)
        except Exception as exc:
            raise DecodingError(
                f"the response body is not valid {self.encoding} ({type(exc).__name__})"
            ) from exc

    def _through(self, data: bytes, index: int) -> Iterator[bytes]:
        if index == len(self._decoders):
            yield data
            return
        for piece in self._decoders[index].feed(data, self._limit):
            yield from self._through(piece, index + 1)

    def flush(self) -> Iterator[bytes]:
        try:
            for index, decoder in enumerate(self._decoders):
                tail = decoder.flush()
                if tail:
                    yield from self._through(tail, index + 1)
        except Exception as exc:
            raise DecodingError(
                f"the response body is not valid {self.encoding} ({type(exc).__name__})"
            ) from exc
