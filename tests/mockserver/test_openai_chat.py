"""Chat and text completions: echo rule, thinking per dialect, limits, tools, JSON output."""

from __future__ import annotations

import json

import httpx
import jsonschema
import pytest

from tests.mockserver._sse import payloads


def chat(server, headers=None, **body):
    body.setdefault("model", "mock-model")
    body.setdefault("messages", [{"role": "user", "content": "hello world"}])
    r = httpx.post(server.url + "/v1/chat/completions", json=body, headers=headers, timeout=10)
    assert r.status_code == 200, r.text
    return r


def test_echo_rule_uses_last_user_or_tool_message(mock_server):
    msgs = [
        {"role": "system", "content": "be nice"},
        {
            "role": "user",
            "content": [{"type": "text", "text": "first"}, {"type": "text", "text": "part"}],
        },
        {"role": "assistant", "content": "ok"},
    ]
    msg = chat(mock_server, messages=msgs).json()["choices"][0]["message"]
    assert msg["content"] == "Echo: first part"
    assert "reasoning_content" not in msg
    msgs.append({"role": "tool", "tool_call_id": "c1", "content": "22C"})
    assert (
        chat(mock_server, messages=msgs).json()["choices"][0]["message"]["content"] == "Echo: 22C"
    )


@pytest.mark.parametrize(
    ("dialect", "model", "field"),
    [
        ("openai", "mock-thinking", "reasoning_content"),
        ("vllm", "Qwen/Qwen3-4B", "reasoning"),
        ("siliconflow", "Qwen/Qwen3-8B", "reasoning_content"),
    ],
)
def test_thinking_field_per_dialect(mock_server_factory, dialect, model, field):
    server = mock_server_factory(dialect=dialect)
    msg = chat(server, model=model).json()["choices"][0]["message"]
    assert msg[field] == "Thinking about: hello world"
    assert msg["content"] == "Echo: hello world"
    chunks = payloads(chat(server, model=model, stream=True).text)
    thought = "".join(c["choices"][0]["delta"].get(field, "") for c in chunks)
    assert thought == "Thinking about: hello world"
    off = chat(server, model=model, chat_template_kwargs={"enable_thinking": False})
    assert field not in off.json()["choices"][0]["message"]
    off = chat(server, model=model, enable_thinking=False)
    assert field not in off.json()["choices"][0]["message"]


def test_stream_shape_role_once_one_finish_same_id(mock_server):
    chunks = payloads(chat(mock_server, stream=True, n=2).text)
    assert len({c["id"] for c in chunks}) == 1
    for index, echo in ((0, "Echo: "), (1, "Echo (2): ")):
        mine = [c["choices"][0] for c in chunks if c["choices"][0]["index"] == index]
        assert [ch["delta"].get("role") for ch in mine].count("assistant") == 1
        assert mine[0]["delta"]["role"] == "assistant"
        assert [ch["finish_reason"] for ch in mine if ch["finish_reason"]] == ["stop"]
        assert "".join(ch["delta"].get("content") or "" for ch in mine) == echo + "hello world"
    assert all("usage" not in c for c in chunks)


def test_stop_and_length(mock_server):
    r = chat(mock_server, stop=["wor", "zzz"]).json()["choices"][0]
    assert (r["message"]["content"], r["finish_reason"]) == ("Echo: hello ", "stop")
    r = chat(
        mock_server, max_tokens=2, messages=[{"role": "user", "content": "alpha bravo charlie"}]
    )
    choice = r.json()["choices"][0]
    assert (choice["message"]["content"], choice["finish_reason"]) == ("Echo: alpha", "length")
    assert r.json()["usage"]["completion_tokens"] == 2
    r = chat(mock_server, max_completion_tokens=1).json()["choices"][0]
    assert r["finish_reason"] == "length" and r["message"]["content"] == "Echo:"


def test_reply_tokens_header_gives_exact_chunks_and_seed_is_deterministic(mock_server):
    headers = {"X-Mock-Reply-Tokens": "1000"}
    chunks = payloads(chat(mock_server, headers=headers, stream=True).text)
    content = [c["choices"][0]["delta"]["content"] for c in chunks[1:-1]]
    assert len(content) == 1000 and all(content)
    one = chat(mock_server, headers={"X-Mock-Reply-Tokens": "5"}, seed=7).json()
    two = chat(mock_server, headers={"X-Mock-Reply-Tokens": "5"}, seed=7).json()
    other = chat(mock_server, headers={"X-Mock-Reply-Tokens": "5"}, seed=8).json()
    text = one["choices"][0]["message"]["content"]
    assert (
        text == two["choices"][0]["message"]["content"] != other["choices"][0]["message"]["content"]
    )
    assert one["usage"]["completion_tokens"] == 5 and len(text.split()) == 5


WEATHER = {
    "type": "object",
    "properties": {
        "city": {"type": "string", "minLength": 2},
        "unit": {"type": "string", "enum": ["c", "f"]},
        "days": {"type": "integer", "minimum": 1, "maximum": 7},
        "where": {
            "type": "object",
            "properties": {"lat": {"type": "number", "exclusiveMinimum": 0}},
            "required": ["lat"],
        },
        "tags": {"type": "array", "items": {"type": "string"}, "minItems": 2},
    },
    "required": ["city", "unit", "days", "where", "tags"],
    "additionalProperties": False,
}
TOOLS = [
    {"type": "function", "function": {"name": "get_weather", "parameters": WEATHER}},
    {"type": "function", "function": {"name": "get_time", "parameters": {"type": "object"}}},
]


def test_tool_call_when_user_names_the_tool(mock_server):
    msgs = [{"role": "user", "content": "Please call get_weather for Paris"}]
    r = chat(mock_server, messages=msgs, tools=TOOLS).json()["choices"][0]
    assert r["finish_reason"] == "tool_calls" and r["message"]["content"] is None
    (call,) = r["message"]["tool_calls"]
    assert call["function"]["name"] == "get_weather"
    jsonschema.validate(json.loads(call["function"]["arguments"]), WEATHER)
    plain = chat(mock_server, messages=[{"role": "user", "content": "hi"}], tools=TOOLS)
    assert "tool_calls" not in plain.json()["choices"][0]["message"]


def test_tool_choice_forces_named_function_and_stream_fragments_join(mock_server):
    choice = {"type": "function", "function": {"name": "get_weather"}}
    chunks = payloads(chat(mock_server, tools=TOOLS, tool_choice=choice, stream=True).text)
    deltas = [d for c in chunks for d in c["choices"][0]["delta"].get("tool_calls", [])]
    assert deltas[0]["id"].startswith("call_") and deltas[0]["function"]["name"] == "get_weather"
    assert len(deltas) > 2  # arguments really arrive in several fragments
    args = "".join(d["function"].get("arguments", "") for d in deltas)
    jsonschema.validate(json.loads(args), WEATHER)
    assert chunks[-1]["choices"][0]["finish_reason"] == "tool_calls"
    r = httpx.post(
        mock_server.url + "/v1/chat/completions",
        json={
            "model": "mock-model",
            "messages": [{"role": "user", "content": "x"}],
            "tools": TOOLS,
            "tool_choice": {"type": "function", "function": {"name": "nope"}},
        },
    )
    assert r.status_code == 400 and "nope" in r.json()["error"]["message"]


SCHEMA = {
    "type": "object",
    "$defs": {
        "item": {"type": "object", "properties": {"n": {"type": "integer"}}, "required": ["n"]}
    },
    "properties": {
        "name": {"type": "string", "format": "email"},
        "kind": {"enum": ["a", "b"]},
        "items": {"type": "array", "items": {"$ref": "#/$defs/item"}, "minItems": 1},
        "maybe": {"anyOf": [{"type": "null"}, {"type": "boolean"}]},
        "score": {"type": "number", "minimum": 2.5, "multipleOf": 0.5},
    },
    "required": ["name", "kind", "items", "maybe", "score"],
}


def test_response_format_json_schema_and_json_object(mock_server):
    fmt = {"type": "json_schema", "json_schema": {"name": "x", "schema": SCHEMA, "strict": True}}
    content = chat(mock_server, response_format=fmt).json()["choices"][0]["message"]["content"]
    jsonschema.Draft202012Validator(SCHEMA, format_checker=jsonschema.FormatChecker()).validate(
        json.loads(content)
    )
    obj = chat(mock_server, response_format={"type": "json_object"}).json()
    assert json.loads(obj["choices"][0]["message"]["content"]) == {"echo": "hello world"}


def test_completions_echo_and_inline_think(mock_server):
    r = httpx.post(
        mock_server.url + "/v1/completions", json={"model": "mock-model", "prompt": "hi"}
    )
    assert r.json()["choices"][0]["text"] == "Echo: hi"
    r = httpx.post(
        mock_server.url + "/v1/completions", json={"model": "mock-thinking", "prompt": "hi", "n": 2}
    )
    texts = [c["text"] for c in r.json()["choices"]]
    assert texts == [
        "<think>\nThinking about: hi\n</think>\n\nEcho: hi",
        "<think>\nThinking about (2): hi\n</think>\n\nEcho (2): hi",
    ]
    r = httpx.post(
        mock_server.url + "/v1/completions",
        json={"model": "mock-model", "prompt": "hi", "stream": True, "stop": "hi"},
    )
    chunks = payloads(r.text)
    assert "".join(c["choices"][0]["text"] for c in chunks) == "Echo: "


def test_parallel_tool_calls_in_order_of_first_appearance(mock_server):
    msgs = [{"role": "user", "content": "first GET_TIME, then get_weather, then get_time again"}]
    r = chat(mock_server, messages=msgs, tools=TOOLS).json()["choices"][0]
    assert r["finish_reason"] == "tool_calls" and r["message"]["content"] is None
    calls = r["message"]["tool_calls"]
    assert [c["function"]["name"] for c in calls] == ["get_time", "get_weather"]
    assert len({c["id"] for c in calls}) == 2
    jsonschema.validate(json.loads(calls[1]["function"]["arguments"]), WEATHER)
    one = chat(mock_server, messages=msgs, tools=TOOLS, parallel_tool_calls=False).json()
    (only,) = one["choices"][0]["message"]["tool_calls"]
    assert only == calls[0]
    forced = {"type": "function", "function": {"name": "get_weather"}}
    reply = chat(mock_server, messages=msgs, tools=TOOLS, tool_choice=forced).json()
    (call,) = reply["choices"][0]["message"]["tool_calls"]
    assert call["function"]["name"] == "get_weather"
    reply = chat(mock_server, messages=msgs, tools=TOOLS, tool_choice="none").json()
    assert "tool_calls" not in reply["choices"][0]["message"]
    r = httpx.post(
        mock_server.url + "/v1/chat/completions",
        json={"model": "mock-model", "messages": msgs, "tools": TOOLS, "parallel_tool_calls": 1},
    )
    assert r.status_code == 400 and r.json()["error"]["param"] == "parallel_tool_calls"


def test_parallel_tool_calls_stream_indexes_and_answer_echoes_every_result(mock_server):
    msgs = [{"role": "user", "content": "get_weather and get_time please"}]
    chunks = payloads(chat(mock_server, messages=msgs, tools=TOOLS, stream=True).text)
    calls: dict[int, dict[str, str]] = {}
    for chunk in chunks:
        for delta in chunk["choices"][0]["delta"].get("tool_calls", []):
            mine = calls.setdefault(delta["index"], {"id": "", "name": "", "arguments": ""})
            mine["id"] += delta.get("id", "")
            mine["name"] += delta["function"].get("name", "")
            mine["arguments"] += delta["function"].get("arguments", "")
    assert sorted(calls) == [0, 1]
    assert [calls[0]["name"], calls[1]["name"]] == ["get_weather", "get_time"]
    assert calls[0]["id"] != calls[1]["id"]
    assert all(c["id"].startswith("call_") for c in calls.values())
    jsonschema.validate(json.loads(calls[0]["arguments"]), WEATHER)
    assert chunks[-1]["choices"][0]["finish_reason"] == "tool_calls"
    whole = chat(mock_server, messages=msgs, tools=TOOLS).json()["choices"][0]["message"]
    assert [c["id"] for c in whole["tool_calls"]] == [calls[0]["id"], calls[1]["id"]]
    history = [
        *msgs,
        {"role": "assistant", "content": None, "tool_calls": whole["tool_calls"]},
        {"role": "tool", "tool_call_id": calls[0]["id"], "content": "22C"},
        {"role": "tool", "tool_call_id": calls[1]["id"], "content": "10:00"},
    ]
    answer = chat(mock_server, messages=history, tools=TOOLS).json()["choices"][0]
    assert answer["finish_reason"] == "stop" and "tool_calls" not in answer["message"]
    assert answer["message"]["content"] == "Echo: 22C; 10:00"
