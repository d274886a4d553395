"""Unit tests of ``_h1``, the sans-IO HTTP/1.1 wire format of the ``native`` transport.

No sockets: bytes go into a ``ResponseParser`` in one piece, byte by byte and split at every
point, and what it says must not depend on how the bytes were cut. Hostile input (framing
llhttp refuses, heads past the bounds, 1xx, HEAD, bytes past the end) is checked the same way.
"""

from __future__ import annotations

from typing import Any

import pytest

from hookwire import errors

pytest.importorskip("httptools")
from hookwire.plugins.transports import _h1

pytestmark = [pytest.mark.timeout(10)]

Snapshot = tuple[Any, ...]


def _snapshot(parser: _h1.ResponseParser) -> Snapshot:
    return (
        parser.status,
        parser.reason,
        parser.version,
        list(parser.headers),
        b"".join(parser.body),
        parser.buffered,
        parser.head_done,
        parser.complete,
        parser.keep_alive,
        parser.until_close,
        parser.chunked,
        parser.extra,
    )


def _parse(data: bytes, cuts: list[int] | tuple[int, ...] = (), **kw: Any) -> _h1.ResponseParser:
    """Feed ``data`` cut at ``cuts`` (sorted offsets) into a fresh parser."""
    parser = _h1.ResponseParser(**kw)
    start = 0
    for cut in [*cuts, len(data)]:
        if cut > start:
            parser.feed(data[start:cut])
            start = cut
    return parser


def _bytewise(data: bytes, **kw: Any) -> _h1.ResponseParser:
    return _parse(data, list(range(1, len(data))), **kw)


_OK = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"

#: Valid responses, each parsed to its end by itself (no eof needed).
_VALID = {
    "content-length": _OK,
    "empty-body": b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",
    "no-reason": b"HTTP/1.1 200\r\nContent-Length: 1\r\n\r\nx",
    "long-reason": b"HTTP/1.1 404 Not Found Anywhere At All\r\nContent-Length: 0\r\n\r\n",
    "chunked": (
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n"
    ),
    "chunk-extension": (
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2;x=y\r\nok\r\n0\r\n\r\n"
    ),
    "trailers": (
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTrailer: X-Sum\r\n\r\n"
        b"2\r\nok\r\n0\r\nX-Sum: abc\r\n\r\n"
    ),
    "interim-100-103": (
        b"HTTP/1.1 100 Continue\r\n\r\n"
        b"HTTP/1.1 103 Early Hints\r\nLink: </s.css>; rel=preload\r\n\r\n"
        b"HTTP/1.1 201 Created\r\nContent-Length: 2\r\nX-A: 1\r\n\r\nok"
    ),
    "connection-close": b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok",
    "http-1.0": b"HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok",
    "repeated-headers": (
        b"HTTP/1.1 200 OK\r\nSet-Cookie: a=1\r\nSet-Cookie: b=2\r\nX-Empty:\r\n"
        b"Content-Length: 2\r\n\r\nok"
    ),
    "latin-1-value": b"HTTP/1.1 200 OK\r\nX-Name: caf\xe9\r\nContent-Length: 2\r\n\r\nok",
    "204-with-length": b"HTTP/1.1 204 No Content\r\nContent-Length: 5\r\n\r\n",
    "304-with-length": b"HTTP/1.1 304 Not Modified\r\nContent-Length: 5\r\n\r\n",
}


@pytest.mark.parametrize("data", list(_VALID.values()), ids=list(_VALID))
def test_a_valid_response_parses_the_same_however_it_is_split(data: bytes) -> None:
    whole = _snapshot(_parse(data))
    assert whole[7] is True, "complete"
    assert whole[11] is False, "no extra"
    assert _snapshot(_bytewise(data)) == whole
    for cut in range(1, len(data)):
        assert _snapshot(_parse(data, [cut])) == whole, cut


def test_what_the_parser_makes_of_a_plain_response() -> None:
    parser = _parse(_VALID["repeated-headers"])
    assert (parser.status, parser.reason, parser.version) == (200, "OK", "HTTP/1.1")
    assert parser.headers == [
        (b"Set-Cookie", b"a=1"),
        (b"Set-Cookie", b"b=2"),
        (b"X-Empty", b""),
        (b"Content-Length", b"2"),
    ]
    assert parser.body == [b"ok"] and parser.buffered == 2
    assert parser.keep_alive and parser.complete and not parser.until_close


def test_http_1_0_and_connection_close_are_not_kept_alive() -> None:
    assert not _parse(_VALID["http-1.0"]).keep_alive
    assert _parse(_VALID["http-1.0"]).version == "HTTP/1.0"
    assert not _parse(_VALID["connection-close"]).keep_alive
    keep = b"HTTP/1.0 200 OK\r\nContent-Length: 0\r\nConnection: keep-alive\r\n\r\n"
    assert _parse(keep).keep_alive


def test_a_chunked_body_is_unframed_and_its_trailers_are_not_headers() -> None:
    parser = _parse(_VALID["trailers"])
    assert parser.chunked
    assert b"".join(parser.body) == b"ok"
    assert parser.headers == [(b"Transfer-Encoding", b"chunked"), (b"Trailer", b"X-Sum")]


@pytest.mark.parametrize("cut", range(len(b"HTTP/1.1 404 "), len(b"HTTP/1.1 404 Not Found") + 1))
def test_a_reason_phrase_split_across_feeds_is_whole(cut: int) -> None:
    data = b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n"
    assert _parse(data, [cut]).reason == "Not Found"
    assert _parse(data, [cut - 3, cut] if cut > 16 else [cut]).reason == "Not Found"


def test_interim_responses_are_skipped_and_the_final_one_is_returned() -> None:
    data = _VALID["interim-100-103"]
    for parser in (_parse(data), _bytewise(data)):
        assert (parser.status, parser.reason) == (201, "Created")
        assert parser.headers == [(b"Content-Length", b"2"), (b"X-A", b"1")]  # no Link
        assert parser.body == [b"ok"] or b"".join(parser.body) == b"ok"
    # Until the final head arrives, an interim one is not a head.
    parser = _parse(b"HTTP/1.1 100 Continue\r\n\r\n")
    assert not parser.head_done and parser.status == 0 and parser.headers == []


def test_101_switching_protocols_ends_the_message_at_its_head() -> None:
    data = b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n"
    for parser in (_parse(data), _bytewise(data)):
        assert parser.status == 101 and parser.head_done and parser.complete
        assert not parser.keep_alive  # the connection now speaks another protocol
        assert parser.body == []


def test_bytes_after_a_101_head_read_the_same_however_split() -> None:
    head = b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: x\r\nConnection: Upgrade\r\n\r\n"
    assert _snapshot(_parse(head + b"raw")) == _snapshot(_parse(head + b"raw", [len(head)]))


@pytest.mark.parametrize("status", [204, 304])
def test_204_and_304_have_no_body_whatever_content_length_says(status: int) -> None:
    data = b"HTTP/1.1 %d X\r\nContent-Length: 5\r\n\r\n" % status
    parser = _parse(data)
    assert parser.complete and parser.body == [] and parser.keep_alive and not parser.extra
    # The next response on the connection is its own message, not the 5 "body" bytes.
    parser.reset()
    parser.feed(_OK)
    assert (parser.status, parser.body, parser.complete) == (200, [b"ok"], True)
    assert not parser.extra


def test_a_head_reply_ends_at_its_head_and_the_parser_is_reused_after_reset() -> None:
    data = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n"
    for parser in (_parse(data, head_only=True), _bytewise(data, head_only=True)):
        assert parser.complete and parser.body == [] and parser.keep_alive and not parser.extra
        assert parser.headers == [(b"Content-Length", b"5")]
        # llhttp still expects 5 body bytes; reset() must not read the next head as them.
        parser.reset()
        parser.feed(b"HTTP/1.1 201 Created\r\nContent-Length: 3\r\n\r\nabc")
        assert (parser.status, parser.body, parser.complete) == (201, [b"abc"], True)
        assert not parser.extra and not parser.head_only


def test_head_after_get_and_get_after_head_on_one_parser() -> None:
    parser = _parse(_OK)
    parser.reset(head_only=True)
    parser.feed(b"HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\n")
    assert parser.complete and parser.body == []
    parser.reset(head_only=True)
    parser.feed(b"HTTP/1.1 200 OK\r\nContent-Length: 7\r\n\r\n")
    assert parser.complete and parser.headers == [(b"Content-Length", b"7")]
    parser.reset()
    parser.feed(b"HTTP/1.1 202 Accepted\r\nContent-Length: 2\r\n\r\nhi")
    assert (parser.status, parser.body, parser.extra) == (202, [b"hi"], False)


def test_a_body_sent_after_a_head_reply_marks_the_connection_spent() -> None:
    data = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello"
    assert _parse(data, head_only=True).extra
    assert _parse(data, [len(data) - 5], head_only=True).extra
    assert _parse(data, head_only=True).body == []


def test_an_until_close_body_ends_only_at_eof() -> None:
    data = b"HTTP/1.1 200 OK\r\n\r\nhello"
    for parser in (_parse(data), _bytewise(data)):
        assert parser.head_done and parser.until_close and not parser.keep_alive
        assert not parser.complete and b"".join(parser.body) == b"hello"
        parser.eof()
        assert parser.complete and not parser.extra


def test_eof_does_not_end_a_framed_body_cut_short() -> None:
    for data in (
        b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nok",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nok",
    ):
        parser = _parse(data)
        parser.eof()
        assert not parser.complete  # the transport reads this as a broken body
    parser = _parse(b"HTTP/1.1 200 OK\r\nContent-Le")
    parser.eof()
    assert not parser.complete and not parser.head_done


def test_a_transfer_coding_that_does_not_end_in_chunked_lasts_until_close() -> None:
    parser = _parse(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: identity\r\n\r\nhello")
    assert not parser.keep_alive and not parser.chunked
    parser.eof()
    assert parser.complete and b"".join(parser.body) == b"hello"


@pytest.mark.parametrize(
    "after",
    [b"X", b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", b"\r\n\r\nX"],
    ids=["garbage", "a-second-response", "blank-lines-then-garbage"],
)
def test_bytes_past_the_end_of_the_message_set_extra(after: bytes) -> None:
    data = _OK + after
    for parser in (_parse(data), _parse(data, [len(_OK)]), _bytewise(data)):
        assert parser.complete and parser.extra
        assert b"".join(parser.body) == b"ok"
        assert parser.status == 200 and parser.headers == [(b"Content-Length", b"2")]


def test_a_second_response_in_the_same_feed_does_not_overwrite_the_first() -> None:
    data = _OK + b"HTTP/1.0 666 Smuggled\r\nContent-Length: 0\r\n\r\n"
    whole, cut = _parse(data), _parse(data, [len(_OK)])
    assert whole.extra and cut.extra
    assert (whole.status, whole.version) == (cut.status, cut.version) == (200, "HTTP/1.1")
    assert whole.keep_alive == cut.keep_alive


def test_take_hands_the_body_over_in_pieces_no_longer_than_limit() -> None:
    parser = _parse(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc", [0])
    parser.feed(b"defg")
    parser.feed(b"hij")
    assert parser.buffered == 10
    assert parser.take(2) == b"ab" and parser.buffered == 8
    assert parser.take(5) == b"cdefg" and parser.buffered == 3
    assert parser.take(100) == b"hij" and parser.buffered == 0
    assert parser.take(100) == b""
    parser = _parse(b"HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nabcdef")
    assert [parser.take(4), parser.take(4), parser.take(4)] == [b"abcd", b"ef", b""]
    assert parser.buffered == 0 and parser.body == []


# -- hostile input ----------------------------------------------------------------------------

_HOSTILE = {
    "duplicate-content-length": (
        b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\nok"
    ),
    "conflicting-content-length": (
        b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nok"
    ),
    "content-length-list": b"HTTP/1.1 200 OK\r\nContent-Length: 2, 3\r\n\r\nok",
    "negative-content-length": b"HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\nok",
    "signed-content-length": b"HTTP/1.1 200 OK\r\nContent-Length: +2\r\n\r\nok",
    "empty-content-length": b"HTTP/1.1 200 OK\r\nContent-Length: \r\n\r\nok",
    "content-length-and-chunked": (
        b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"2\r\nok\r\n0\r\n\r\n"
    ),
    "chunk-size-not-hex": b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nok\r\n",
    "chunk-size-negative": b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n-2\r\nok\r\n",
    "chunk-size-overflow": (
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nfffffffffffffffffff\r\nok\r\n"
    ),
    "chunk-longer-than-size": b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nokX\r\n",
    "obs-fold": b"HTTP/1.1 200 OK\r\nX-A: a\r\n b\r\nContent-Length: 0\r\n\r\n",
    "space-before-colon": b"HTTP/1.1 200 OK\r\nX-A : a\r\nContent-Length: 0\r\n\r\n",
    "bare-cr-in-value": b"HTTP/1.1 200 OK\r\nX-A: a\rb\r\nContent-Length: 0\r\n\r\n",
    "bare-lf-in-value": b"HTTP/1.1 200 OK\r\nX-A: a\nb\r\nContent-Length: 0\r\n\r\n",
    "nul-in-value": b"HTTP/1.1 200 OK\r\nX-A: a\x00b\r\nContent-Length: 0\r\n\r\n",
    "bare-lf-line-ends": b"HTTP/1.1 200 OK\nContent-Length: 2\n\nok",
    "bad-status-code": b"HTTP/1.1 2x0 OK\r\nContent-Length: 0\r\n\r\n",
    "not-http": b"SSH-2.0-OpenSSH_9.6\r\n\r\n",
}


@pytest.mark.parametrize("data", list(_HOSTILE.values()), ids=list(_HOSTILE))
def test_broken_framing_is_a_protocol_error_however_it_is_split(data: bytes) -> None:
    for feed in (_parse, _bytewise):
        with pytest.raises(errors.ProtocolError) as caught:
            feed(data)
        assert caught.value.request is None  # the transport names the request
        assert caught.value.__cause__ is not None  # llhttp's own error, chained
        assert "OpenSSH" not in str(caught.value)  # our words, not the server's bytes


def test_a_malformed_chunked_body_is_named_as_such() -> None:
    with pytest.raises(errors.ProtocolError, match="malformed chunked body"):
        _parse(_HOSTILE["chunk-size-not-hex"])
    with pytest.raises(errors.ProtocolError, match="broke HTTP framing"):
        _parse(_HOSTILE["obs-fold"])


def _big_head() -> bytes:
    return (
        b"HTTP/1.1 200 OK\r\nX-Big: "
        + b"a" * (2 * _h1.MAX_HEAD)
        + b"\r\nContent-Length: 0\r\n\r\n"
    )


def test_a_head_larger_than_max_head_fed_in_pieces_is_a_protocol_error() -> None:
    data = _big_head()
    with pytest.raises(errors.ProtocolError, match="larger than"):
        _parse(data, list(range(4096, len(data), 4096)))


def test_a_head_larger_than_max_head_in_one_piece_is_a_protocol_error() -> None:
    with pytest.raises(errors.ProtocolError, match="larger than"):
        _parse(_big_head())


def test_a_head_that_never_ends_is_stopped_by_the_bound() -> None:
    parser = _h1.ResponseParser()
    parser.feed(b"HTTP/1.1 200 OK\r\n")
    with pytest.raises(errors.ProtocolError):
        for i in range(_h1.MAX_HEAD):
            parser.feed(b"X-%d: %s\r\n" % (i, b"v" * 200))
    assert i < _h1.MAX_HEAD // 100  # stopped near the bound, not at the end of the loop


def test_endless_interim_responses_are_stopped_by_the_head_bound() -> None:
    parser = _h1.ResponseParser()
    with pytest.raises(errors.ProtocolError, match="larger than"):
        for _ in range(_h1.MAX_HEAD):
            parser.feed(b"HTTP/1.1 100 Continue\r\n\r\n")
    assert not parser.head_done


def test_interim_responses_in_one_piece_count_towards_the_head_bound() -> None:
    hint = b"HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload\r\n\r\n"
    flood = hint * (2 * _h1.MAX_HEAD // len(hint)) + _OK  # their fields alone pass MAX_HEAD
    with pytest.raises(errors.ProtocolError, match="larger than"):
        _parse(flood)


def _fields(n: int) -> bytes:
    lines = b"".join(b"X-%d: v\r\n" % i for i in range(n - 1))
    return b"HTTP/1.1 200 OK\r\n" + lines + b"Content-Length: 0\r\n\r\n"


def test_max_headers_fields_pass_and_one_more_is_a_protocol_error() -> None:
    assert len(_parse(_fields(_h1.MAX_HEADERS)).headers) == _h1.MAX_HEADERS
    assert len(_bytewise(_fields(_h1.MAX_HEADERS)).headers) == _h1.MAX_HEADERS
    for feed in (_parse, _bytewise):
        with pytest.raises(errors.ProtocolError, match=f"more than {_h1.MAX_HEADERS}"):
            feed(_fields(_h1.MAX_HEADERS + 1))


def test_interim_responses_do_not_count_towards_the_final_heads_fields() -> None:
    interim = b"HTTP/1.1 103 Early Hints\r\n" + b"Link: x\r\n" * 200 + b"\r\n"
    parser = _parse(interim + _fields(_h1.MAX_HEADERS))
    assert parser.status == 200 and len(parser.headers) == _h1.MAX_HEADERS


# -- the request side -------------------------------------------------------------------------


def test_request_head_with_text_values() -> None:
    head = _h1.request_head(
        "GET", "/p?q=1", [("Host", "example.com"), ("X-A", "1"), ("X-A", "2")]
    )
    assert head == b"GET /p?q=1 HTTP/1.1\r\nHost: example.com\r\nX-A: 1\r\nX-A: 2\r\n\r\n"
    assert _h1.request_head("GET", "/", []) == b"GET / HTTP/1.1\r\n\r\n"


def test_request_head_with_bytes_values_puts_them_on_the_wire_as_they_are() -> None:
    utf8 = "naïve ☃".encode()
    head = _h1.request_head("POST", "/u", [("Host", "h"), ("X-Name", utf8), ("X-N", 5)])
    assert head == b"POST /u HTTP/1.1\r\nHost: h\r\nX-Name: " + utf8 + b"\r\nX-N: 5\r\n\r\n"


def test_request_head_with_a_latin_1_text_value_and_a_non_ascii_name() -> None:
    assert b"X: caf\xe9\r\n" in _h1.request_head("GET", "/", [("X", "café")])
    with pytest.raises(errors.InvalidHeader):
        _h1.request_head("GET", "/", [("X-☃", "v")])


def test_chunk_frames_one_piece_in_hex() -> None:
    assert _h1.chunk(b"abc") == b"3\r\nabc\r\n"
    assert _h1.chunk(b"x" * 255) == b"ff\r\n" + b"x" * 255 + b"\r\n"
    assert _h1.chunk(b"\r\n0\r\n\r\n") == b"7\r\n\r\n0\r\n\r\n\r\n"  # payload is opaque
    assert _h1.LAST_CHUNK == b"0\r\n\r\n"


def test_chunks_and_the_last_chunk_parse_back_to_the_body() -> None:
    pieces = [b"a", b"\r\n", b"0\r\n\r\n", b"z" * 5000]
    framed = b"".join(_h1.chunk(p) for p in pieces) + _h1.LAST_CHUNK
    parser = _parse(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + framed)
    assert parser.complete and not parser.extra
    assert b"".join(parser.body) == b"".join(pieces)


# -- random splits ----------------------------------------------------------------------------

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402


@st.composite
def _response_and_cuts(draw: Any) -> tuple[bytes, list[int]]:
    body = draw(st.binary(max_size=300))
    status = draw(st.sampled_from([200, 201, 404, 500]))
    names = draw(
        st.lists(st.from_regex(r"X-[A-Za-z0-9]{1,12}", fullmatch=True), max_size=6)
    )
    values = draw(
        st.lists(
            st.from_regex(r"[!-~]([ -~]{0,20}[!-~])?", fullmatch=True),
            min_size=len(names),
            max_size=len(names),
        )
    )
    pairs = zip(names, values, strict=True)
    fields = b"".join(b"%s: %s\r\n" % (n.encode(), v.encode()) for n, v in pairs)
    if draw(st.booleans()):
        sizes = draw(st.lists(st.integers(1, 40), max_size=10))
        pieces, at = [], 0
        for size in sizes:
            pieces.append(_h1.chunk(body[at : at + size]) if body[at : at + size] else b"")
            at += size
        if at < len(body):
            pieces.append(_h1.chunk(body[at:]))
        framing = b"Transfer-Encoding: chunked\r\n\r\n" + b"".join(pieces) + _h1.LAST_CHUNK
    else:
        framing = b"Content-Length: %d\r\n\r\n" % len(body) + body
    interim = b"HTTP/1.1 100 Continue\r\n\r\n" if draw(st.booleans()) else b""
    data = interim + b"HTTP/1.1 %d Reason Phrase\r\n" % status + fields + framing
    cuts = draw(st.lists(st.integers(1, len(data) - 1), max_size=12, unique=True))
    return data, sorted(cuts)


@settings(max_examples=75, deadline=None)
@given(_response_and_cuts())
def test_random_splits_of_valid_responses_give_the_same_result(
    case: tuple[bytes, list[int]],
) -> None:
    data, cuts = case
    whole = _parse(data)
    assert whole.complete and not whole.extra
    assert _snapshot(_parse(data, cuts)) == _snapshot(whole)
