"""SSEDecoder against the WHATWG event-stream rules, with no client and no server."""

from __future__ import annotations

import itertools
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hookwire.errors import BodyTooLarge, DecodingError, ProtocolError
from hookwire.sse import ServerSentEvent, SSEDecoder


def decode(*chunks: bytes, **options: object) -> list[ServerSentEvent]:
    decoder = SSEDecoder(**options)  # type: ignore[arg-type]
    events: list[ServerSentEvent] = []
    for chunk in chunks:
        events.extend(decoder.feed(chunk))
    events.extend(decoder.flush())
    return events


def reference_events(raw: bytes) -> list[ServerSentEvent]:
    """An independent, whole-buffer reading of the spec's parsing algorithm (the oracle)."""
    text = raw.decode("utf-8", errors="replace")
    if text.startswith("\ufeff"):
        text = text[1:]
    *lines, _unterminated = re.split(r"\r\n|\r|\n", text)
    events, data, event_type, last_id, retry = [], "", "", None, None
    for line in lines:
        if line == "":
            if data:
                events.append(
                    ServerSentEvent(
                        event=event_type or "message", data=data[:-1], id=last_id, retry=retry
                    )
                )
            data, event_type, retry = "", "", None
            continue
        if line.startswith(":"):
            continue
        if ":" in line:
            field, value = line.split(":", 1)
            value = value[1:] if value.startswith(" ") else value
        else:
            field, value = line, ""
        if field == "data":
            data += value + "\n"
        elif field == "event":
            event_type = value
        elif field == "id" and "\0" not in value:
            last_id = value
        elif field == "retry" and re.fullmatch(r"[0-9]+", value) and len(value) < 4000:
            retry = int(value)
    return events


# -- the basics -------------------------------------------------------------------------------


def test_openai_style_stream() -> None:
    raw = b'data: {"id": 1}\n\ndata: {"id": 2}\n\ndata: [DONE]\n\n'
    events = decode(raw)
    assert [e.data for e in events] == ['{"id": 1}', '{"id": 2}', "[DONE]"]
    assert events[0].json() == {"id": 1}
    assert all(e.event == "message" and e.id is None and e.retry is None for e in events)


def test_fields_event_id_retry_and_multiline_data() -> None:
    raw = b"event: update\nid: 7\nretry: 1500\ndata: first\ndata:second\ndata\n\n"
    (event,) = decode(raw)
    assert event == ServerSentEvent(event="update", data="first\nsecond\n", id="7", retry=1500)


@pytest.mark.parametrize("eol", [b"\n", b"\r", b"\r\n"])
def test_every_line_ending(eol: bytes) -> None:
    raw = eol.join([b"data: a", b"data: b", b"", b"data: c", b"", b""])
    assert [e.data for e in decode(raw)] == ["a\nb", "c"]


def test_cr_at_the_end_of_a_chunk_and_lf_at_the_start_of_the_next() -> None:
    decoder = SSEDecoder()
    assert decoder.feed(b"data: x\r") == []
    # The CR already ended the blank line's predecessor; the LF must not count as a blank line.
    assert decoder.feed(b"\ndata: y\r") == []
    assert [e.data for e in decoder.feed(b"\n\r")] == ["x\ny"]  # the lone CR is the blank line
    assert decoder.feed(b"\n") == []  # ...and this LF belongs to that CR


def test_an_event_ending_in_cr_is_dispatched_without_waiting() -> None:
    decoder = SSEDecoder()
    assert [e.data for e in decoder.feed(b"data: now\r\r")] == ["now"]


def test_utf8_split_across_chunks_and_invalid_bytes() -> None:
    snowman = "☃".encode()
    events = decode(b"data: " + snowman[:1], snowman[1:2], snowman[2:] + b"\n\n")
    assert events[0].data == "☃"
    assert decode(b"data: \xff\xfe ok\n\n")[0].data == "\ufffd\ufffd ok"


def test_one_leading_bom_is_dropped_even_when_split() -> None:
    assert decode(b"\xef\xbb", b"\xbfdata: a\n\n")[0].data == "a"
    # A second BOM is part of the field name "\ufeffdata", which is unknown and ignored.
    assert decode(b"\xef\xbb\xbf\xef\xbb\xbfdata: a\n\n") == []


def test_comments_are_counted_not_dispatched() -> None:
    decoder = SSEDecoder()
    assert decoder.feed(b": keep-alive\n\n:ping\n") == []
    assert decoder.comment_count == 2 and decoder.last_comment == "ping"


def test_id_rules() -> None:
    raw = b"id: 1\ndata: a\n\ndata: b\n\nid: x\x00y\ndata: c\n\nid\ndata: d\n\n"
    assert [(e.data, e.id) for e in decode(raw)] == [("a", "1"), ("b", "1"), ("c", "1"), ("d", "")]


@pytest.mark.parametrize("value", [b"1a", b"-5", b"1.5", b"", b"  5", "\u0665".encode()])
def test_retry_must_be_ascii_digits(value: bytes) -> None:
    decoder = SSEDecoder()
    (event,) = decoder.feed(b"retry:" + value + b"\ndata: x\n\n")
    assert event.retry is None and decoder.retry is None


def test_retry_persists_on_the_decoder_even_without_an_event() -> None:
    decoder = SSEDecoder()
    assert decoder.feed(b"retry: 3000\n\n") == []
    assert decoder.retry == 3000
    assert decoder.feed(b"retry: " + b"9" * 5000 + b"\ndata: x\n\n")[0].retry is None


def test_empty_data_is_not_dispatched_but_an_empty_data_line_is() -> None:
    assert decode(b"event: ping\n\n") == []
    assert decode(b"data:\n\n") == [ServerSentEvent(data="")]
    assert decode(b"data:  two spaces\n\n")[0].data == " two spaces"  # only one space stripped
    assert decode(b"bogus: field\ndata: x\n\n")[0].data == "x"


def test_end_of_stream_discards_an_unterminated_event() -> None:
    decoder = SSEDecoder()
    assert decoder.feed(b"data: a\n\ndata: cut") == [ServerSentEvent(data="a")]
    assert decoder.flush() == [] and decoder.truncated
    # The decoder is reusable after flush: a new stream, a new BOM allowance.
    assert decoder.feed(b"\xef\xbb\xbfdata: b\n\n") == [ServerSentEvent(data="b")]
    assert decoder.flush() == [] and not decoder.truncated


def test_dispatch_at_eof_is_lenient() -> None:
    assert decode(b"data: a\ndata: b", dispatch_at_eof=True) == [ServerSentEvent(data="a\nb")]


def test_json_helper_raises_the_sdk_protocol_error() -> None:
    event = ServerSentEvent(data="{not json")
    with pytest.raises(DecodingError, match="not JSON") as info:
        event.json()
    assert isinstance(info.value, ProtocolError)


# -- size guard -------------------------------------------------------------------------------


def test_a_line_that_never_ends_hits_the_limit() -> None:
    decoder = SSEDecoder(max_size=1000)
    decoder.feed(b"data: ")
    with pytest.raises(BodyTooLarge, match="1000") as info:
        for _ in range(100):
            decoder.feed(b"x" * 64)
    assert info.value.limit == 1000 and isinstance(info.value, ProtocolError)


def test_many_short_data_lines_hit_the_limit() -> None:
    decoder = SSEDecoder(max_size=100)
    with pytest.raises(BodyTooLarge, match="data"):
        decoder.feed(b"data: 0123456789\n" * 20)


def test_a_big_line_in_one_chunk_hits_the_limit() -> None:
    with pytest.raises(BodyTooLarge):
        SSEDecoder(max_size=10).feed(b"data: " + b"y" * 20 + b"\n")


def test_limit_is_validated() -> None:
    with pytest.raises(ValueError, match="max_size"):
        SSEDecoder(max_size=0)


# -- properties -------------------------------------------------------------------------------

FIELD = st.sampled_from([b"data:", b"data: ", b"data", b"event: ", b"id: ", b"retry: ", b":", b""])
VALUE = st.lists(
    st.one_of(
        st.sampled_from(
            [
                b"x",
                b"42",
                b" ",
                b'{"a": 1}',
                b"[DONE]",
                "é😀".encode(),
                b"\xff",
                b"\xe2\x98",
                b"\x00",
            ]
        ),
        st.binary(max_size=3),
    ),
    max_size=4,
).map(b"".join)
EOL = st.sampled_from([b"\n", b"\r", b"\r\n"])
LINE = st.tuples(FIELD, VALUE, EOL).map(b"".join)
STREAMS = st.tuples(
    st.sampled_from([b"", b"\xef\xbb\xbf", b"\xef\xbb"]),
    st.lists(st.one_of(LINE, EOL), max_size=30).map(b"".join),
).map(b"".join)


def split_at(raw: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({c % (len(raw) + 1) for c in cuts})
    bounds = [0, *points, len(raw)]
    return [raw[a:b] for a, b in itertools.pairwise(bounds)]


@settings(max_examples=500, deadline=None)
@given(raw=STREAMS, cuts=st.lists(st.integers(0, 10_000), max_size=12))
def test_any_split_gives_the_same_events_as_the_reference(raw: bytes, cuts: list[int]) -> None:
    expected = reference_events(raw)
    assert decode(raw) == expected
    assert decode(*split_at(raw, cuts)) == expected
    assert decode(*[raw[i : i + 1] for i in range(len(raw))]) == expected


@settings(max_examples=300, deadline=None)
@given(raw=st.binary(max_size=200), cuts=st.lists(st.integers(0, 10_000), max_size=8))
def test_arbitrary_bytes_never_raise_anything_but_the_size_error(
    raw: bytes, cuts: list[int]
) -> None:
    decoder = SSEDecoder(max_size=16)
    try:
        for chunk in split_at(raw, cuts):
            decoder.feed(chunk)
        decoder.flush()
    except BodyTooLarge:
        pass
