"""The pure half of embeddings and token counts (``hookwire.llm._embed``): what a server may send
that the mock does not (out-of-order items, JSON floats, short replies)."""

from __future__ import annotations

import base64
import struct

import pytest

from hookwire.errors import DecodingError
from hookwire.llm import _embed
from hookwire.llm.types import Usage


def _b64(*values: float) -> str:
    return base64.b64encode(struct.pack(f"<{len(values)}f", *values)).decode()


def test_items_are_put_back_in_input_order_whatever_the_encoding() -> None:
    data = {
        "data": [
            {"index": 2, "embedding": [0.5, -0.5]},
            {"index": 0, "embedding": _b64(0.25, 1.0)},
            {"index": 1, "embedding": _b64(-2.0, 0.125)},
        ],
        "model": "m",
        "usage": {"prompt_tokens": 7, "total_tokens": 7},
    }
    vectors, model, usage = _embed.parse_embeddings(data, 3)
    assert vectors == [[0.25, 1.0], [-2.0, 0.125], [0.5, -0.5]]
    assert (model, usage) == ("m", Usage(7, 0, 7))


@pytest.mark.parametrize(
    ("data", "match"),
    [
        ({"data": [{"index": 0, "embedding": [1.0]}]}, "asked for 2 embeddings, the server sent 1"),
        ({"data": [{"index": 0}, {"index": 1}]}, "no data"),
        ({"object": "list"}, "no data"),
        ({"data": [{"index": 0, "embedding": 3}, {"index": 1, "embedding": 4}]}, "neither"),
    ],
)
def test_a_malformed_reply_is_a_decoding_error(data: dict, match: str) -> None:
    with pytest.raises(DecodingError, match=match):
        _embed.parse_embeddings(data, 2)


def test_batches_are_merged_in_order_with_usage_summed() -> None:
    parts = [([[1.0]], "m", Usage(2, 0, 2), "r1"), ([[2.0], [3.0]], "", Usage(3, 0, 3), "r2")]
    merged = _embed.merge(parts, "asked", "p")
    assert merged.vectors == [[1.0], [2.0], [3.0]] and merged.raw == ["r1", "r2"]
    assert (merged.model, merged.usage, merged.provider) == ("m", Usage(5, 0, 5), "p")
    assert _embed.merge([([[1.0]], "", None, None)], "asked", "p").usage is None


@pytest.mark.parametrize(
    ("base", "root"),
    [("http://h:8000/v1", "http://h:8000"), ("http://h/v1/", "http://h"), ("http://h/x", "http://h/x")],
)
def test_tokenize_lives_at_the_server_root(base: str, root: str) -> None:
    assert _embed.root_url(base) == root


def test_tokenize_replies() -> None:
    assert _embed.parse_tokenize({"count": 5, "max_model_len": 100, "tokens": []}) == (5, 100)
    assert _embed.parse_tokenize({"count": 5}) == (5, None)
    with pytest.raises(DecodingError, match="no count"):
        _embed.parse_tokenize({"tokens": [1]})
