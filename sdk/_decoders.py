"""Incremental decoders shared by sync and async response iteration and by every transport.

``ContentDecoder`` undoes gzip/deflate/br in bounded steps (a 64 KiB gzip read can hold ~64 MiB;
a decoder that expands a whole read at once lets a bomb balloon before anyone checks a limit).
``LineDecoder`` splits text into lines.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator
from typing import Any

from hookwire.errors import ConfigError, DecodingError


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


class _Corrupt(Exception):
    """A decoder's verdict on the bytes, in words fit for an error message."""


def _zlib_reason(exc: zlib.error) -> str:
    # "Error -3 while decompressing data: incorrect header check" -> "incorrect header check"
    return str(exc).rpartition(": ")[2] or "invalid data"


def _is_zlib_header(first: int, second: int) -> bool:
    """RFC 1950: method 8 (deflate), window at most 32 KiB, and the header checksum."""
    return first & 0x0F == 8 and first >> 4 <= 7 and ((first << 8) | second) % 31 == 0


class _Zlib:
    """gzip (with multiple members) or deflate (zlib-wrapped, or raw as some servers send)."""

    def __init__(self, gzip: bool) -> None:
        self.name = "gzip" if gzip else "deflate"
        self._gzip = gzip
        # deflate picks its flavour from the first two bytes (see feed), so no object yet.
        self._obj: Any = zlib.decompressobj(zlib.MAX_WBITS | 16) if gzip else None
        self._head = b""

    def feed(self, data: bytes, limit: int) -> Iterator[bytes]:
        if self._obj is None:
            # Zlib-wrapped or raw deflate is read off the RFC 1950 header, so the choice does
            # not depend on how the body was split into reads (a first read of one byte
            # could not tell, and trying one flavour then the other would depend on it).
            data = self._head + data
            if len(data) < 2:
                self._head = data
                return
            self._head = b""
            wrapped = _is_zlib_header(data[0], data[1])
            self._obj = zlib.decompressobj(zlib.MAX_WBITS if wrapped else -zlib.MAX_WBITS)
        try:
            while data:
                out = self._obj.decompress(data, limit)
                if out:
                    yield out
                data = self._obj.unconsumed_tail
                if self._obj.eof:
                    rest = self._obj.unused_data
                    if not (self._gzip and rest):
                        return  # bytes after a deflate stream are ignored, as zlib does
                    self._obj = zlib.decompressobj(zlib.MAX_WBITS | 16)  # next gzip member
                    data = rest
        except zlib.error as exc:
            raise _Corrupt(_zlib_reason(exc)) from exc

    def finish(self) -> bytes:
        if self._obj is None:
            if self._head:
                raise _Corrupt("the compressed data ends early")
            return b""
        try:
            tail = bytes(self._obj.flush())
        except zlib.error as exc:
            raise _Corrupt(_zlib_reason(exc)) from exc
        if not self._obj.eof:
            raise _Corrupt("the compressed data ends early")
        return tail


class _Brotli:
    name = "br"

    def __init__(self) -> None:
        import brotli

        self._error: type[Exception] = brotli.error
        self._obj = brotli.Decompressor()

    def feed(self, data: bytes, limit: int) -> Iterator[bytes]:
        # output_buffer_limit stops the buffer growing once it reaches the limit, but the last
        # growth step can overshoot it; slicing keeps every piece within the limit.
        # Output still held inside the decompressor comes out on calls with empty input.
        try:
            out = self._obj.process(data, output_buffer_limit=limit)
            while out:
                for start in range(0, len(out), limit):
                    yield out[start : start + limit]
                out = self._obj.process(b"", output_buffer_limit=limit)
        except self._error as exc:
            raise _Corrupt("invalid data") from exc

    def finish(self) -> bytes:
        if not self._obj.is_finished():
            raise _Corrupt("the compressed data ends early")
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
    :class:`~hookwire.errors.DecodingError` for a corrupt body, message included, are the same
    on all of them. Layered encodings (``gzip, br``) are undone in reverse order (RFC 9110
    section 8.4.1), down to the first coding that cannot be undone (unknown, or ``br`` without
    the ``brotli`` package): that one and the codings beneath it pass through as sent, since
    decoding an inner layer through an outer one would only fail. ``identity`` is skipped.

    A body that stops before its compressed stream ends is corrupt too (a truncated gzip
    otherwise reads as a shorter, valid-looking body); an empty body is not (HEAD, 204, 304).
    Call :meth:`feed` for every raw chunk, then :meth:`flush` once the body has ended.
    """

    def __init__(self, content_encoding: str, limit: int) -> None:
        if limit < 1:
            # 0 would mean "unbounded" to zlib: exactly the bomb this class exists to stop.
            raise ConfigError(f"ContentDecoder limit must be at least 1 byte, not {limit}")
        codings = [c.strip().lower() for c in content_encoding.split(",") if c.strip()]
        self._decoders: list[Any] = []
        for coding in reversed(codings):
            if coding == "identity":
                continue
            decoder = _decoder_for(coding)
            if decoder is None:
                break
            self._decoders.append(decoder)
        self._limit = limit
        self._fed = [False] * len(self._decoders)  # which layers have seen input (see flush)
        self.encoding = content_encoding

    @classmethod
    def for_encoding(cls, content_encoding: str | None, limit: int) -> ContentDecoder | None:
        """A decoder for this ``Content-Encoding`` value, or None when there is nothing to undo.

        None (no header, ``identity``, only unknown codings) lets a transport hand the body over
        chunk for chunk with no decoding work at all: its fast path for plain bodies.
        """
        if not content_encoding:
            return None
        decoder = cls(content_encoding, limit)
        return decoder if decoder._decoders else None

    @property
    def active(self) -> bool:
        return bool(self._decoders)

    def feed(self, data: bytes) -> Iterator[bytes]:
        if data:
            yield from self._through(data, 0)

    def _through(self, data: bytes, index: int) -> Iterator[bytes]:
        if index == len(self._decoders):
            yield data
            return
        decoder = self._decoders[index]
        self._fed[index] = True
        try:
            for piece in decoder.feed(data, self._limit):
                yield from self._through(piece, index + 1)
        except DecodingError:
            raise  # from a layer beneath, already named
        except Exception as exc:
            raise self._error(decoder, exc) from exc

    def flush(self) -> Iterator[bytes]:
        """The output held back until the end; a DecodingError if a stream is incomplete."""
        for index, decoder in enumerate(self._decoders):
            if not self._fed[index]:
                return  # an empty body (or layer) is no stream at all, so not a truncated one
            try:
                tail = decoder.finish()
            except Exception as exc:
                raise self._error(decoder, exc) from exc
            for start in range(0, len(tail), self._limit):
                yield from self._through(tail[start : start + self._limit], index + 1)

    @staticmethod
    def _error(decoder: Any, exc: Exception) -> DecodingError:
        # The reason is ours (or zlib's fixed text), never the body's bytes.
        reason = str(exc) if isinstance(exc, _Corrupt) else type(exc).__name__
        return DecodingError(f"the response body is not valid {decoder.name} ({reason})")
