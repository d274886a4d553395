"""ContentDecoder: bounded output per step, so a decompression bomb cannot balloon in memory."""

from __future__ import annotations

import gzip
import zlib

import pytest

from hookwire.errors import ConfigError, DecodingError
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


def test_layered_gzip_then_br_bomb_is_bounded():
    brotli = pytest.importorskip("brotli")
    original = bytes(16 * 1024 * 1024)
    pieces = _decode("gzip, br", brotli.compress(gzip.compress(original)), feed_size=1 << 20)
    assert max(map(len, pieces)) <= LIMIT
    assert b"".join(pieces) == original


def test_identity_and_unknown_codings_pass_through():
    assert not ContentDecoder("identity", LIMIT).active
    assert not ContentDecoder("", LIMIT).active
    assert b"".join(_decode("x-unknown", b"raw")) == b"raw"


def test_an_unknown_outer_coding_leaves_the_layers_beneath_it_alone():
    # "gzip, x-custom": x-custom was applied last, so without undoing it gzip cannot be undone
    inner = gzip.compress(b"payload")
    assert b"".join(_decode("gzip, x-custom", inner)) == inner
    # "x-custom, gzip": gzip is the outer layer and comes off; x-custom stays as sent
    assert b"".join(_decode("x-custom, gzip", gzip.compress(b"custom"))) == b"custom"
    assert b"".join(_decode("identity, gzip", gzip.compress(b"plain"))) == b"plain"


def test_for_encoding_is_none_when_there_is_nothing_to_undo():
    for value in (None, "", "identity", "x-unknown", "gzip, x-unknown", " , "):
        assert ContentDecoder.for_encoding(value, LIMIT) is None, value
    decoder = ContentDecoder.for_encoding("GZip", LIMIT)
    assert decoder is not None and decoder.active


def test_a_limit_below_one_byte_is_refused():
    with pytest.raises(ConfigError, match="at least 1 byte"):
        ContentDecoder("gzip", 0)


def _encoded(encoding: str, payload: bytes) -> bytes:
    if encoding == "gzip":
        return gzip.compress(payload)
    if encoding == "deflate":
        return zlib.compress(payload)
    if encoding == "raw-deflate":
        compressor = zlib.compressobj(wbits=-zlib.MAX_WBITS)
        return compressor.compress(payload) + compressor.flush()
    return pytest.importorskip("brotli").compress(payload)  # type: ignore[no-any-return]


ENCODINGS = ["gzip", "deflate", "raw-deflate", "br"]


@pytest.mark.parametrize("encoding", ENCODINGS)
@pytest.mark.parametrize("feed_size", [1, 2, 3, 1000, 1 << 20])
def test_the_output_does_not_depend_on_how_the_body_was_split(encoding, feed_size):
    # a transport's read sizes are its own; a raw deflate body read one byte first used to be
    # taken for zlib-wrapped and fail
    payload = b"".join(b"%d split " % i for i in range(20_000))
    coding = "deflate" if encoding == "raw-deflate" else encoding
    pieces = _decode(coding, _encoded(encoding, payload), feed_size=feed_size)
    assert b"".join(pieces) == payload
    assert max(map(len, pieces)) <= LIMIT


@pytest.mark.parametrize("encoding", ENCODINGS)
def test_a_truncated_body_is_a_decoding_error(encoding):
    coding = "deflate" if encoding == "raw-deflate" else encoding
    body = _encoded(encoding, b"truncated " * 10_000)
    for cut in (1, len(body) // 2, len(body) - 1):
        with pytest.raises(DecodingError) as info:
            _decode(coding, body[:cut])
        expected = f"the response body is not valid {coding} (the compressed data ends early)"
        assert str(info.value) == expected, cut


@pytest.mark.parametrize("encoding", ["gzip", "deflate", "br", "gzip, br"])
def test_an_empty_body_is_not_a_truncated_one(encoding):
    assert _decode(encoding, b"") == []  # HEAD, 204 and 304 replies carry the header, no body


CORRUPT_GZIP = gzip.compress(b"x" * 1000)[:10] + b"\xff" * 40  # a valid header, then garbage


def test_corrupt_gzip_is_a_decoding_error():
    with pytest.raises(DecodingError, match="gzip"):
        _decode("gzip", b"\x1f\x8b\x08\x00garbage-not-deflate")


@pytest.mark.parametrize("feed_size", [1, 5, 4096])
def test_the_error_for_a_corrupt_body_does_not_depend_on_the_split(feed_size):
    with pytest.raises(DecodingError) as info:
        _decode("gzip", CORRUPT_GZIP, feed_size=feed_size)
    assert str(info.value) == "the response body is not valid gzip (invalid block type)"
    assert b"\xff" not in str(info.value).encode()


def test_the_error_names_the_layer_that_failed():
    brotli = pytest.importorskip("brotli")
    with pytest.raises(DecodingError) as info:
        _decode("gzip, br", brotli.compress(CORRUPT_GZIP))  # valid br around corrupt gzip
    assert str(info.value) == "the response body is not valid gzip (invalid block type)"
    with pytest.raises(DecodingError) as info:
        _decode("gzip, br", b"\xff" * 64)
    assert str(info.value) == "the response body is not valid br (invalid data)"
