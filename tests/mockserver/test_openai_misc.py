"""Models, embeddings, tokenize/detokenize, health and version."""

from __future__ import annotations

import base64
import math
import struct

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hookwire.mockserver.openai import tokens


def test_models_per_dialect_and_extra_models(mock_server, mock_server_factory):
    ids = {m["id"] for m in httpx.get(mock_server.url + "/v1/models").json()["data"]}
    assert ids == {"mock-model", "mock-thinking"}
    vllm = mock_server_factory(dialect="vllm", models=("my/extra",))
    cards = httpx.get(vllm.url + "/v1/models").json()["data"]
    assert {c["id"] for c in cards} == {"mock-model", "mock-thinking", "Qwen/Qwen3-4B", "my/extra"}
    assert all(
        c["owned_by"] == "vllm" and c["max_model_len"] > 0 and c["root"] == c["id"] for c in cards
    )
    card = httpx.get(vllm.url + "/v1/models/Qwen/Qwen3-4B").json()
    assert card["id"] == "Qwen/Qwen3-4B"
    assert httpx.get(vllm.url + "/v1/models/nope").status_code == 404


def test_only_models_serves_the_given_models_alone():
    from hookwire.mockserver.app import create_app
    from hookwire.mockserver.config import ConfigError, MockConfig
    from hookwire.mockserver.testing import InProcessHandler

    app = create_app(MockConfig(dialect="vllm", models=("org/served",), only_models=True))
    handler = InProcessHandler(app)
    try:
        with httpx.Client(transport=httpx.MockTransport(handler), base_url="http://x") as c:
            assert [m["id"] for m in c.get("/v1/models").json()["data"]] == ["org/served"]
            chat = {"model": "mock-model", "messages": [{"role": "user", "content": "hi"}]}
            assert c.post("/v1/chat/completions", json=chat).status_code == 404
            chat["model"] = "org/served"
            assert c.post("/v1/chat/completions", json=chat).status_code == 200
    finally:
        handler.close()
    with pytest.raises(ConfigError, match="only_models"):
        MockConfig(only_models=True)


def test_embeddings_deterministic_unit_vectors(mock_server):
    url = mock_server.url + "/v1/embeddings"
    a = httpx.post(
        url, json={"model": "mock-model", "input": ["cat", "dog"], "dimensions": 32}
    ).json()
    b = httpx.post(url, json={"model": "mock-model", "input": "cat", "dimensions": 32}).json()
    cat, dog = (d["embedding"] for d in a["data"])
    assert len(cat) == 32 and cat == b["data"][0]["embedding"] and cat != dog
    assert math.isclose(sum(v * v for v in cat), 1.0, rel_tol=1e-9)
    packed = httpx.post(
        url,
        json={"model": "mock-model", "input": "cat", "dimensions": 32, "encoding_format": "base64"},
    ).json()["data"][0]["embedding"]
    floats = struct.unpack("<32f", base64.b64decode(packed))
    assert all(math.isclose(x, y, abs_tol=1e-6) for x, y in zip(floats, cat, strict=True))
    bad = httpx.post(url, json={"model": "mock-model", "input": "x", "dimensions": 0})
    assert bad.status_code == 400 and bad.json()["error"]["param"] == "dimensions"


def test_tokenize_detokenize_round_trip_over_http(mock_server_factory):
    server = mock_server_factory(dialect="vllm")
    text = "Echo: héllo wörld \n\n the end ✓"
    tok = httpx.post(server.url + "/tokenize", json={"model": "mock-model", "prompt": text}).json()
    assert tok["count"] == len(tok["tokens"]) and tok["max_model_len"] > 0
    back = httpx.post(
        server.url + "/detokenize", json={"model": "mock-model", "tokens": tok["tokens"]}
    )
    assert back.json() == {"prompt": text}
    chat = httpx.post(
        server.url + "/tokenize",
        json={"model": "mock-model", "messages": [{"role": "user", "content": "hi"}]},
    ).json()
    assert tokens.decode(chat["tokens"]).endswith("<|im_start|>assistant\n")
    bad = httpx.post(server.url + "/detokenize", json={"model": "mock-model", "tokens": [10**9]})
    assert bad.status_code == 400 and bad.json()["error"]["code"] == 400


@settings(max_examples=200, deadline=None)
@given(st.text())
def test_tokenizer_round_trips_any_text(text):
    ids = tokens.encode(text)
    assert tokens.decode(ids) == text
    assert all(0 <= i < tokens.VOCAB_SIZE for i in ids)


def test_vocabulary_words_are_single_tokens():
    assert len(tokens.encode(tokens.generated_words(50))) == 50


def test_health_and_version(mock_server):
    r = httpx.get(mock_server.url + "/health")
    assert r.status_code == 200 and r.content == b""
    assert "version" in httpx.get(mock_server.url + "/version").json()
