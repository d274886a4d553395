"""httpie-style request items (pure parsing, no I/O)."""

from __future__ import annotations

import pytest

from hookwire.cli._errors import CLIError
from hookwire.cli._items import normalise_url, parse_items, split_item, split_method


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
    ],
)
def test_split_item(item: str, expected: tuple[str, str, str]) -> None:
    assert split_item(item) == expected


@pytest.mark.parametrize("item", ["novalue", "=x", "==x", ":x"])
def test_unreadable_items_are_refused_by_name(item: str) -> None:
    with pytest.raises(CLIError, match="cannot read request item"):
        split_item(item)


def test_parse_items_sorts_them_out() -> None:
    items = parse_items(["q==1", "q==2", "X-Trace:abc", "name=hw", "tags:=[1, 2]", "ok:=true"])
    assert items.params == [("q", "1"), ("q", "2")]
    assert items.headers == [("X-Trace", "abc")]
    assert items.fields == {"name": "hw", "tags": [1, 2], "ok": True}
    assert items.raw_json


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
