"""Log probabilities: chat `logprobs`/`top_logprobs` and the legacy completions `logprobs`."""

from __future__ import annotations

import httpx
import pytest

from hookwire.mockserver.limits import Limits
from tests.mockserver._openai_spec import validate
from tests.mockserver._sse import payloads

MESSAGES = [{"role": "user", "content": "alpha bravo héllo, world"}]


def post(server, path="/v1/chat/completions", **body):
    body.setdefault("model", "mock-model")
    if path.endswith("chat/completions"):
        body.setdefault("messages", MESSAGES)
    return httpx.post(server.url + path, json=body, timeout=10)


def check_entry(entry, top):
    assert entry["logprob"] <= 0
    assert entry["bytes"] == list(entry["token"].encode("utf-8"))
    alternatives = entry["top_logprobs"]
    assert len(alternatives) == top
    if top:
        assert alternatives[0] == {k: entry[k] for k in ("token", "logprob", "bytes")}
    values = [a["logprob"] for a in alternatives]
    assert values == sorted(values, reverse=True) and len(set(values)) == len(values)
    assert len({a["token"] for a in alternatives}) == top
    for alternative in alternatives:
        assert alternative["bytes"] == list(alternative["token"].encode("utf-8"))


def test_chat_logprobs_shape_values_and_spec(mock_server):
    r = post(mock_server, logprobs=True, top_logprobs=5)
    assert r.status_code == 200, r.text
    validate("CreateChatCompletionResponse", r.json())
    choice = r.json()["choices"][0]
    entries = choice["logprobs"]["content"]
    assert choice["logprobs"]["refusal"] is None
    assert "".join(e["token"] for e in entries) == choice["message"]["content"]
    assert len(entries) == 5  # "Echo:", " alpha", " bravo", " héllo,", " world": one a piece
    for entry in entries:
        check_entry(entry, 5)
    assert post(mock_server, logprobs=True, top_logprobs=5).json()["choices"] == r.json()["choices"]
    bare = post(mock_server, logprobs=True).json()["choices"][0]["logprobs"]["content"]
    assert [e["top_logprobs"] for e in bare] == [[]] * len(entries)
    assert [e["logprob"] for e in bare] == [e["logprob"] for e in entries]
    top20 = post(mock_server, logprobs=True, top_logprobs=20).json()["choices"][0]
    for entry in top20["logprobs"]["content"]:
        check_entry(entry, 20)
    for off in ({}, {"logprobs": False}, {"logprobs": None}):
        assert post(mock_server, **off).json()["choices"][0]["logprobs"] is None


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"top_logprobs": 3}, "top_logprobs"),
        ({"logprobs": False, "top_logprobs": 3}, "top_logprobs"),
        ({"logprobs": True, "top_logprobs": 21}, "top_logprobs"),
        ({"logprobs": True, "top_logprobs": -1}, "top_logprobs"),
        ({"logprobs": True, "top_logprobs": "5"}, "top_logprobs"),
        ({"logprobs": "yes"}, "logprobs"),
    ],
)
def test_chat_logprobs_bad_input_is_a_400_naming_the_field(mock_server, body, param):
    r = post(mock_server, **body)
    assert r.status_code == 400
    assert r.json()["error"]["param"] == param and param in r.json()["error"]["message"]


def test_chat_stream_chunks_carry_their_pieces_logprobs(mock_server):
    whole = post(mock_server, logprobs=True, top_logprobs=3).json()["choices"][0]["logprobs"]
    body = {"logprobs": True, "top_logprobs": 3, "stream": True}
    chunks = payloads(post(mock_server, stream_options={"include_usage": True}, **body).text)
    streamed = []
    for chunk in chunks:
        validate("CreateChatCompletionStreamResponse", chunk)
        for choice in chunk["choices"]:
            piece = choice["delta"].get("content")
            if piece:
                (entry,) = choice["logprobs"]["content"]
                assert entry["token"] == piece and choice["logprobs"]["refusal"] is None
                streamed.append(entry)
            else:
                assert choice["logprobs"] is None
    assert streamed == whole["content"]
    plain = payloads(post(mock_server, stream=True).text)
    assert all(c["choices"][0]["logprobs"] is None for c in plain)


def test_vllm_logprobs_have_content_only(mock_server_factory):
    server = mock_server_factory(dialect="vllm")
    choice = post(server, logprobs=True, top_logprobs=2).json()["choices"][0]
    assert set(choice["logprobs"]) == {"content"}
    assert (
        "".join(e["token"] for e in choice["logprobs"]["content"]) == choice["message"]["content"]
    )
    chunks = payloads(post(server, logprobs=True, top_logprobs=2, stream=True).text)
    carried = [
        c["choices"][0]["logprobs"] for c in chunks if c["choices"][0]["delta"].get("content")
    ]
    assert carried and all(set(lp) == {"content"} for lp in carried)
    assert [lp["content"][0] for lp in carried] == choice["logprobs"]["content"]


def test_logprobs_on_a_tool_call_reply_are_an_empty_content_list(mock_server):
    tools = [{"type": "function", "function": {"name": "get_time"}}]
    body = {"messages": [{"role": "user", "content": "get_time"}], "tools": tools}
    choice = post(mock_server, logprobs=True, **body).json()["choices"][0]
    assert choice["message"]["tool_calls"] and choice["logprobs"]["content"] == []


def test_legacy_completion_logprobs(mock_server_factory, mock_server):
    r = post(mock_server, "/v1/completions", prompt="alpha bravo", logprobs=3)
    assert r.status_code == 200, r.text
    validate("CreateCompletionResponse", r.json())
    choice = r.json()["choices"][0]
    lp = choice["logprobs"]
    assert "".join(lp["tokens"]) == choice["text"] == "Echo: alpha bravo"
    assert lp["text_offset"] == [0, 5, 11]
    assert all(v <= 0 for v in lp["token_logprobs"])
    for token, value, top in zip(
        lp["tokens"], lp["token_logprobs"], lp["top_logprobs"], strict=True
    ):
        assert len(top) == 3 and top[token] == value == max(top.values())
    body = {"prompt": "alpha bravo", "logprobs": 3, "stream": True}
    chunks = payloads(post(mock_server, "/v1/completions", **body).text)
    merged: dict[str, list] = {k: [] for k in lp}
    for chunk in chunks:
        if chunk["choices"][0]["text"]:
            for key in merged:
                merged[key] += chunk["choices"][0]["logprobs"][key]
    assert merged == lp
    assert post(mock_server, "/v1/completions", prompt="x").json()["choices"][0]["logprobs"] is None
    for bad in (6, -1, True, "2"):
        r = post(mock_server, "/v1/completions", prompt="x", logprobs=bad)
        assert r.status_code == 400 and r.json()["error"]["param"] == "logprobs"
    vllm = mock_server_factory(dialect="vllm")
    r = post(vllm, "/v1/completions", prompt="x", logprobs=20)
    assert all(len(top) == 20 for top in r.json()["choices"][0]["logprobs"]["top_logprobs"])
    assert post(vllm, "/v1/completions", prompt="x", logprobs=21).status_code == 400


def test_logprob_values_cap_answers_400_before_rendering(mock_server_factory):
    server = mock_server_factory(limits=Limits(logprob_values=100))
    headers = {"X-Mock-Reply-Tokens": "30"}
    assert post(server, logprobs=True, top_logprobs=2).status_code == 200
    r = httpx.post(
        server.url + "/v1/chat/completions",
        json={"model": "mock-model", "messages": MESSAGES, "logprobs": True, "top_logprobs": 4},
        headers=headers,
    )
    assert r.status_code == 400 and "logprob_values=100" in r.json()["error"]["message"]
    assert r.json()["error"]["param"] == "top_logprobs"
    r = httpx.post(
        server.url + "/v1/completions",
        json={"model": "mock-model", "prompt": "x", "logprobs": 5, "n": 2},
        headers=headers,
    )
    assert r.status_code == 400 and "logprob_values" in r.json()["error"]["message"]


def test_official_client_reads_top_logprobs(mock_server):
    openai = pytest.importorskip("openai")
    with openai.OpenAI(base_url=mock_server.openai_base_url, api_key="sk-test", max_retries=0) as c:
        r = c.chat.completions.create(
            model="mock-model", messages=MESSAGES, logprobs=True, top_logprobs=4
        )
        content = r.choices[0].logprobs.content
        assert "".join(t.token for t in content) == r.choices[0].message.content
        assert all(len(t.top_logprobs) == 4 and t.top_logprobs[0].token == t.token for t in content)
        assert content[0].top_logprobs[0].logprob == content[0].logprob
        stream = c.chat.completions.create(
            model="mock-model", messages=MESSAGES, logprobs=True, top_logprobs=4, stream=True
        )
        streamed = [
            token
            for chunk in stream
            if chunk.choices and chunk.choices[0].logprobs
            for token in chunk.choices[0].logprobs.content
        ]
    assert streamed == content
