"""ContentDecoder: bounded output per step, so a decompression bomb cannot balloon in memory."""

from __future__ import annotations

import gzip
import zlib

import pytest

from hookwire.errors import DecodingError
from hookwire.plugin import ContentDecoder

LIMIT = 64 * 1024


def _decode(encoding: str, payload: bytes, feed_size: int = 4096) -> list[bytes]:
    decoder = ContentDecoder(encoding, LIMIT)
    pieces: list[bytes] = []
    for start in range(0, len(payload), feed_size):
        pieces.extend(decoder.feed(payload[start : start + feed_size]))
    pieces.extend(decoder.flush())
    return pieces


def test_gzip_bomb_comes_out_in_bounded_pieces():
    original = b"\0" * (20 * 1024 * 1024)
    bomb = gzip.compress(original)
    assert len(bomb) < 100_000
    pieces = _decode("gzip", bomb, feed_size=len(bomb))  # one read holding the whole bomb
    assert max(map(len, pieces)) <= LIMIT
    assert b"".join(pieces) == original


def test_multi_member_gzip_is_decoded_whole():
    assert b"".join(_decode("gzip", gzip.compress(b"one ") + gzip.compress(b"two"))) == b"one two"


@pytest.mark.parametrize("wbits", [zlib.MAX_WBITS, -zlib.MAX_WBITS], ids=["zlib", "raw"])
def test_deflate_accepts_zlib_wrapped_and_raw(wbits):
    compressor = zlib.compressobj(wbits=wbits)
    data = compressor.compress(b"deflated " * 1000) + compressor.flush()
    assert b"".join(_decode("deflate", data)) == b"deflated " * 1000


def test_brotli_bomb_is_bounded():
    brotli = pytest.importorskip("brotli")
    original = b"a" * (8 * 1024 * 1024)
    pieces = _decode("br", brotli.compress(original), feed_size=1 << 20)
    assert max(map(len, pieces)) <= LIMIT
    assert b"".join(pieces) == original


def test_layered_codings_are_undone_in_reverse_order():
    data = zlib.compress(gzip.compress(b"layers"))
    assert b"".join(_decode("gzip, deflate", data)) == b"layers"


def test_identity_and_unknown_codings_pass_through():
    assert not ContentDecoder("identity", LIMIT).active
    assert not ContentDecoder("", LIMIT).active
    assert b"".join(_decode("x-unknown", b"raw")) == b"raw"


def test_corrupt_gzip_is_a_decoding_error():
    with pytest.raises(DecodingError, match="gzip"):
        _decode("gzip", b"\x1f\x8b\x08\x00garbage-not-deflate")
