"""httpie-style request items (pure parsing, no I/O)."""

from __future__ import annotations

import pytest

from hookwire.cli._errors import CLIError
from hookwire.cli._items import (
    JSON,
    JSON_FILE,
    TEXT,
    TEXT_FILE,
    Field,
    Upload,
    normalise_url,
    parse_items,
    split_item,
    split_method,
)


@pytest.mark.parametrize(
    ("item", "expected"),
    [
        ("q==x", ("q", "==", "x")),
        ("Accept:text/plain", ("Accept", ":", "text/plain")),
        ("city=Paris", ("city", "=", "Paris")),
        ("n:=3", ("n", ":=", "3")),
        ("a=b:c", ("a", "=", "b:c")),  # the first separator wins
        ("X-A:b=c", ("X-A", ":", "b=c")),
        ("Referer:http://x/?a==b", ("Referer", ":", "http://x/?a==b")),
        ("q==", ("q", "==", "")),
        ("bio=@bio.txt", ("bio", "=@", "bio.txt")),  # the longest separator at a position
        ("meta:=@m.json", ("meta", ":=@", "m.json")),
        ("cv@cv.pdf;type=application/pdf", ("cv", "@", "cv.pdf;type=application/pdf")),
        ("email=me@example.org", ("email", "=", "me@example.org")),
        ("X-Empty;", ("X-Empty", ";", "")),
        (r"a\=b=c", ("a=b", "=", "c")),  # a backslash makes a separator part of the name
        (r"path\:x:=1", ("path:x", ":=", "1")),
    ],
)
def test_split_item(item: str, expected: tuple[str, str, str]) -> None:
    assert split_item(item) == expected


@pytest.mark.parametrize("item", ["novalue", "=x", "==x", ":x", "a;b", ";"])
def test_unreadable_items_are_refused_by_name(item: str) -> None:
    with pytest.raises(CLIError, match="cannot read request item"):
        split_item(item)


def test_parse_items_sorts_them_out() -> None:
    items = parse_items(
        ["q==1", "q==2", "X-Trace:abc", "X-E;", "name=hw", "tags:=[1, 2]", "ok:=true",
         "bio=@b.txt", "m:=@m.json", "up@a.png", "doc@d.bin;type=text/plain"]
    )  # fmt: skip
    assert items.params == [("q", "1"), ("q", "2")]
    assert items.headers == [("X-Trace", "abc"), ("X-E", "")]
    assert items.fields == [
        Field("name", "hw", TEXT), Field("tags", [1, 2], JSON), Field("ok", True, JSON),
        Field("bio", "b.txt", TEXT_FILE), Field("m", "m.json", JSON_FILE),
    ]
    assert items.uploads == [Upload("up", "a.png"), Upload("doc", "d.bin", "text/plain")]
    assert items.raw_json and items.has_data and items.body_file is None


def test_a_raw_body_item_and_only_one() -> None:
    items = parse_items(["@payload.xml", "X-A:1"])
    assert items.body_file == "payload.xml" and items.has_data and not items.fields
    with pytest.raises(CLIError, match="only one raw body"):
        parse_items(["@a", "@b"])


def test_no_data_items_means_no_body() -> None:
    items = parse_items(["q==1", "A:b"])
    assert not items.has_data and not items.raw_json


def test_raw_json_must_parse() -> None:
    with pytest.raises(CLIError, match=r"'n'.*not valid JSON"):
        parse_items(["n:={oops"])


def test_method_is_optional() -> None:
    assert split_method("get", ["http://x", "a==1"]) == ("GET", "http://x", ["a==1"])
    assert split_method("http://x", ["a==1"]) == (None, "http://x", ["a==1"])


def test_url_shorthands() -> None:
    assert normalise_url(":8000/get") == "http://localhost:8000/get"
    assert normalise_url("example.org/x") == "http://example.org/x"
    assert normalise_url("https://example.org") == "https://example.org"
