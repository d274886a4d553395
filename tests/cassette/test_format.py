"""The cassette file: bodies come back byte for byte, the JSON reads well, bad files say why."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hookwire.mockserver.cassette import (
    CassetteFormatError,
    Interaction,
    RecordedRequest,
    RecordedResponse,
    dumps,
    loads,
    read_file,
    write_file,
)
from hookwire.mockserver.cassette._format import decode_body, encode_body


@pytest.mark.parametrize(
    "data",
    [
        b'{"a":1,"b":[1,2]}',
        b'{"a": 1, "b": [1, 2]}',
        b'{\n  "z": "\xc3\xa9",\n  "a": null\n}\n',
        b'{"z":"\\u00e9"}',
        b'{"a": 1.0, "b": 1e5}',
        b"[1,2,3]",
        b'{"dup": 1, "dup": 2}',
    ],
)
def test_a_json_body_round_trips_exactly(data: bytes) -> None:
    assert decode_body(json.loads(json.dumps(encode_body(data))), "t") == data


def test_a_json_body_is_kept_as_json_when_its_layout_is_known() -> None:
    assert encode_body(b'{"b":1,"a":2}') == {"json": {"b": 1, "a": 2}, "format": "compact"}
    assert encode_body(b'{\n  "a": 1\n}\n') == {"json": {"a": 1}, "format": "indent2+nl"}
    # a layout no table entry writes: kept as text, exact
    assert encode_body(b'{ "a":1}') == {"text": '{ "a":1}'}


def test_text_and_binary_bodies() -> None:
    assert encode_body("héllo".encode()) == {"text": "héllo"}
    assert encode_body(b"\xff\x00") == {"base64": "/wA="}
    assert decode_body({"base64": "/wA="}, "t") == b"\xff\x00"
    assert decode_body("plain", "t") == b"plain"  # hand-written shorthand
    assert decode_body(None, "t") == b""


def _item() -> Interaction:
    return Interaction(
        RecordedRequest("POST", "http://h/v1/x", [("Content-Type", "application/json")],
                        b'{"m":"x"}'),
        RecordedResponse(
            200, "OK", [("set-cookie", "a=1"), ("set-cookie", "b=2"), ("x", "y")],
            chunks=[b"data: 1\n\n", "é".encode()[:1], "é".encode()[1:]], offsets=[0.0, 0.5, 1.0],
        ),
    )


def test_chunks_offsets_and_repeated_headers_survive_a_round_trip(tmp_path) -> None:
    path = tmp_path / "deep" / "c.json"
    write_file(path, [_item()])
    (back,) = read_file(path)
    assert back == _item()
    doc = json.loads(path.read_text())
    response = doc["interactions"][0]["response"]
    assert response["headers"]["set-cookie"] == ["a=1", "b=2"]
    assert response["chunks"][0] == "data: 1\n\n"  # a chunk that is text reads as text
    assert "base64" in response["chunks"][1]  # half a UTF-8 character cannot be
    assert list(doc) == ["version", "interactions"]
    assert list(doc["interactions"][0]) == ["request", "response"]


def test_the_file_is_stable_and_diff_friendly() -> None:
    text = dumps([_item()])
    assert text == dumps(loads(text))  # write, read, write: the same text
    assert text.endswith("\n") and '\n      "request": {' in text


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("not json", "not JSON"),
        ("[]", "an interactions list"),
        ('{"version": 9, "interactions": []}', "format version 9 is not supported"),
        ('{"version": 1, "interactions": [{"request": {}}]}', "interactions[0]"),
        (
            '{"version": 1, "interactions": [{"request": {"method": "GET", "uri": "u"}, '
            '"response": {"status": 99}}]}',
            "status is an integer 100..599",
        ),
        (
            '{"version": 1, "interactions": [{"request": {"method": "GET", "uri": "u", '
            '"body": {"base64": "!!"}}, "response": {"status": 200}}]}',
            "base64 body does not decode",
        ),
        (
            '{"version": 1, "interactions": [{"request": {"method": "GET", "uri": "u"}, '
            '"response": {"status": 200, "chunks": ["a"], "offsets": [1, 2]}}]}',
            "offsets is one number >= 0 per chunk",
        ),
    ],
)
def test_a_bad_file_names_the_file_and_the_problem(tmp_path, text: str, message: str) -> None:
    path = tmp_path / "bad.json"
    path.write_text(text)
    with pytest.raises(CassetteFormatError, match=r"bad\.json") as info:
        read_file(path)
    assert message in str(info.value)


def test_a_missing_file_is_a_format_error_naming_it(tmp_path) -> None:
    with pytest.raises(CassetteFormatError, match=r"nope\.json: cannot read"):
        read_file(tmp_path / "nope.json")


@settings(max_examples=150, deadline=None)
@given(
    body=st.one_of(
        st.binary(max_size=64),
        st.text(max_size=32).map(str.encode),
        st.recursive(
            st.none() | st.booleans() | st.integers() | st.text(max_size=8),
            lambda inner: st.lists(inner, max_size=3)
            | st.dictionaries(st.text(max_size=4), inner, max_size=3),
            max_leaves=8,
        ).map(lambda v: json.dumps(v, separators=(",", ":")).encode()),
    ),
    chunks=st.lists(st.binary(max_size=16), max_size=5),
)
def test_any_body_and_any_chunks_come_back_byte_for_byte(body: bytes, chunks: list[bytes]) -> None:
    item = Interaction(
        RecordedRequest("POST", "http://h/", [], body),
        RecordedResponse(200, "OK", [], chunks=chunks),
    )
    (back,) = loads(dumps([item]))
    assert back.request.body == body and back.response.chunks == chunks


def test_the_format_module_is_standard_library_only() -> None:
    import subprocess
    import sys

    code = (  # (``import hookwire`` itself, the package every import path passes, is cheap)
        "import sys, hookwire\nbase = set(sys.modules)\n"
        "import hookwire.mockserver.cassette as c, hookwire.mockserver.cassette.asgi\n"
        "c.Cassette(); c.Scrubber()\n"
        "bad = {'starlette', 'uvicorn', 'httpx', 'pluggy', 'pytest'} & {m.split('.')[0] for m in "
        "sys.modules}\n"
        "sdk = [m for m in set(sys.modules) - base if m.startswith('hookwire.') and not "
        "m.startswith('hookwire.mockserver')]\n"
        "print(sorted(bad), sdk)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[] []"
