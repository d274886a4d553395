"""Small valid images, generated here rather than copied from httpbin's assets.

Each encoder writes the least a conforming decoder needs, which keeps the bytes tiny and the
code short:
- PNG: 16x16 RGB gradient, one IDAT (RFC 2083 / PNG spec chunks with CRC-32);
- JPEG: 8x8 baseline grayscale, flat mid-grey: one quantisation table, one-code Huffman tables
  (DC category 0, AC end-of-block), one scan of two bits;
- WebP: lossless (VP8L) 16x16 solid colour, every prefix code a one-symbol "simple" code so the
  pixels cost zero bits;
- SVG: a hand-written drawing.
"""

from __future__ import annotations

import struct
import zlib

__all__ = ["JPEG", "PNG", "SVG", "WEBP"]


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def _png(size: int = 16) -> bytes:
    rows = b"".join(
        b"\x00" + b"".join(bytes((x * 16, y * 16, 160)) for x in range(size)) for y in range(size)
    )
    header = struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0)  # 8-bit truecolour
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", header)
        + _png_chunk(b"IDAT", zlib.compress(rows, 9))
        + _png_chunk(b"IEND", b"")
    )


def _jpeg_segment(marker: int, payload: bytes) -> bytes:
    return struct.pack(">BBH", 0xFF, marker, len(payload) + 2) + payload


def _jpeg() -> bytes:
    one_code = bytes([1] + [0] * 15)  # a single Huffman code, of length 1
    return (
        b"\xff\xd8"
        + _jpeg_segment(0xDB, b"\x00" + bytes([1] * 64))
        + _jpeg_segment(0xC0, struct.pack(">BHHB", 8, 8, 8, 1) + b"\x01\x11\x00")
        + _jpeg_segment(0xC4, b"\x00" + one_code + b"\x00")  # DC: category 0
        + _jpeg_segment(0xC4, b"\x10" + one_code + b"\x00")  # AC: end of block
        + _jpeg_segment(0xDA, b"\x01\x01\x00\x00\x3f\x00")
        + b"\x3f"  # DC code 0, EOB code 0, then 1-bits padding
        + b"\xff\xd9"
    )


class _BitWriter:
    """VP8L packs fields least-significant bit first."""

    def __init__(self) -> None:
        self.value = 0
        self.length = 0

    def write(self, bits: int, count: int) -> None:
        self.value |= bits << self.length
        self.length += count

    def getvalue(self) -> bytes:
        return self.value.to_bytes((self.length + 7) // 8, "little")


def _webp(size: int = 16, argb: tuple[int, int, int, int] = (255, 40, 120, 200)) -> bytes:
    alpha, red, green, blue = argb
    bits = _BitWriter()
    bits.write(size - 1, 14)
    bits.write(size - 1, 14)
    bits.write(0, 1)  # alpha not used
    bits.write(0, 3)  # version
    bits.write(0, 1)  # no transform
    bits.write(0, 1)  # no colour cache
    bits.write(0, 1)  # no meta prefix codes
    for symbol in (green, red, blue, alpha):
        bits.write(1, 1)  # simple code
        bits.write(0, 1)  # one symbol
        bits.write(1, 1)  # 8-bit symbol
        bits.write(symbol, 8)
    bits.write(1, 1)  # distance code: simple, one 1-bit symbol (0)
    bits.write(0, 1)
    bits.write(0, 1)
    bits.write(0, 1)
    payload = b"\x2f" + bits.getvalue()
    chunk = b"VP8L" + struct.pack("<I", len(payload)) + payload + b"\x00" * (len(payload) % 2)
    return b"RIFF" + struct.pack("<I", 4 + len(chunk)) + b"WEBP" + chunk


PNG = _png()
JPEG = _jpeg()
WEBP = _webp()
SVG = b"""<?xml version="1.0" encoding="UTF-8"?>
<svg xmlns="http://www.w3.org/2000/svg" width="100" height="100" viewBox="0 0 100 100">
  <title>hookwire mock server</title>
  <rect x="5" y="5" width="90" height="90" rx="12" fill="#1f6feb"/>
  <path d="M20 50 L40 30 L60 70 L80 50" stroke="#ffffff" stroke-width="8" fill="none"
        stroke-linecap="round" stroke-linejoin="round"/>
</svg>
"""
