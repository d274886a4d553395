"""n > 1: distinguishable choices, streams interleaved round robin, as vLLM and OpenAI send them."""

from __future__ import annotations

import json

import httpx
import pytest

from tests.mockserver._openai_spec import validate
from tests.mockserver._sse import payloads

TOOLS = [
    {
        "type": "function",
        "function": {
            "name": "get_weather",
            "parameters": {
                "type": "object",
                "properties": {"city": {"type": "string"}},
                "required": ["city"],
            },
        },
    },
    {"type": "function", "function": {"name": "get_time", "parameters": {"type": "object"}}},
]


def post(server, path="/v1/chat/completions", headers=None, **body):
    body.setdefault("model", "mock-model")
    if path.endswith("chat/completions"):
        body.setdefault("messages", [{"role": "user", "content": "alpha bravo"}])
    r = httpx.post(server.url + path, json=body, headers=headers, timeout=10)
    assert r.status_code == 200, r.text
    return r


def reassemble(chunks, field="reasoning_content"):
    """Each choice's message, rebuilt by index from the stream's chunks (any order)."""
    out: dict[int, dict] = {}
    for chunk in chunks:
        for choice in chunk["choices"]:
            mine = out.setdefault(
                choice["index"], {"content": "", field: "", "calls": {}, "finish": [], "roles": 0}
            )
            delta = choice["delta"]
            mine["roles"] += delta.get("role") == "assistant"
            mine["content"] += delta.get("content") or ""
            mine[field] += delta.get(field) or ""
            for call in delta.get("tool_calls", []):
                slot = mine["calls"].setdefault(call["index"], {"id": "", "name": "", "args": ""})
                slot["id"] += call.get("id", "")
                slot["name"] += call["function"].get("name", "")
                slot["args"] += call["function"].get("arguments", "")
            if choice["finish_reason"]:
                mine["finish"].append(choice["finish_reason"])
    return out


def test_choices_are_numbered_variants_choice_0_unchanged(mock_server):
    r = post(mock_server, model="mock-thinking", n=3).json()
    validate("CreateChatCompletionResponse", r)
    messages = [c["message"] for c in r["choices"]]
    assert [c["index"] for c in r["choices"]] == [0, 1, 2]
    assert [m["content"] for m in messages] == [
        "Echo: alpha bravo",
        "Echo (2): alpha bravo",
        "Echo (3): alpha bravo",
    ]
    assert [m["reasoning_content"] for m in messages] == [
        "Thinking about: alpha bravo",
        "Thinking about (2): alpha bravo",
        "Thinking about (3): alpha bravo",
    ]
    one = post(mock_server, model="mock-thinking").json()["choices"][0]
    assert one == r["choices"][0]
    headers = {"X-Mock-Reply-Tokens": "4"}
    words = post(mock_server, headers=headers, n=2, seed=3).json()
    texts = [c["message"]["content"] for c in words["choices"]]
    assert texts[0] != texts[1] and all(len(t.split()) == 4 for t in texts)
    assert (
        texts[1]
        == post(mock_server, headers=headers, seed=4).json()["choices"][0]["message"]["content"]
    )
    assert words["usage"]["completion_tokens"] == 8


@pytest.mark.parametrize("model", ["mock-model", "mock-thinking"])
def test_stream_interleaves_round_robin_and_matches_the_whole_reply(mock_server, model):
    whole = post(mock_server, model=model, n=3).json()
    body = {"model": model, "n": 3, "stream": True, "stream_options": {"include_usage": True}}
    chunks = payloads(post(mock_server, **body).text)
    for chunk in chunks:
        validate("CreateChatCompletionStreamResponse", chunk)
    order = [c["choices"][0]["index"] for c in chunks if c["choices"]]
    # round robin: role chunks 0, 1, 2, then one token of each in turn
    assert order[:6] == [0, 1, 2, 0, 1, 2]
    rebuilt = reassemble(chunks)
    assert sorted(rebuilt) == [0, 1, 2]
    for choice in whole["choices"]:
        mine = rebuilt[choice["index"]]
        assert mine["roles"] == 1 and mine["finish"] == [choice["finish_reason"]]
        assert mine["content"] == choice["message"]["content"]
        assert mine["reasoning_content"] == (choice["message"].get("reasoning_content") or "")
    assert chunks[-1]["choices"] == [] and chunks[-1]["usage"] == whole["usage"]
    assert whole["usage"]["completion_tokens"] > 3 * 2


def test_a_choice_that_ends_sooner_finishes_in_place(mock_server):
    # choice 0 "Echo: x" has 2 pieces, choice 1 "Echo (2): x" 3: choice 0 finishes first
    chunks = payloads(
        post(mock_server, n=2, stream=True, messages=[{"role": "user", "content": "x"}]).text
    )
    seen = [(c["choices"][0]["index"], c["choices"][0]["finish_reason"]) for c in chunks]
    assert seen == [(0, None), (1, None), (0, None), (1, None), (0, None), (1, None),
                    (0, "stop"), (1, None), (1, "stop")]  # fmt: skip


def test_n_choices_with_parallel_tool_calls(mock_server):
    msgs = [{"role": "user", "content": "get_weather and get_time"}]
    whole = post(mock_server, n=2, messages=msgs, tools=TOOLS).json()
    validate("CreateChatCompletionResponse", whole)
    calls = [c["message"]["tool_calls"] for c in whole["choices"]]
    assert [[c["function"]["name"] for c in mine] for mine in calls] == [
        ["get_weather", "get_time"]
    ] * 2
    ids = [c["id"] for mine in calls for c in mine]
    assert len(set(ids)) == 4
    assert [c["function"]["arguments"] for c in calls[0]] == [
        c["function"]["arguments"] for c in calls[1]
    ]
    chunks = payloads(post(mock_server, n=2, messages=msgs, tools=TOOLS, stream=True).text)
    for chunk in chunks:
        validate("CreateChatCompletionStreamResponse", chunk)
    rebuilt = reassemble(chunks)
    for index, mine in rebuilt.items():
        assert mine["finish"] == ["tool_calls"]
        assert [
            {"id": c["id"], "name": c["function"]["name"], "args": c["function"]["arguments"]}
            for c in calls[index]
        ] == [mine["calls"][j] for j in sorted(mine["calls"])]
        json.loads(mine["calls"][0]["args"])
    indexes = [c["choices"][0]["index"] for c in chunks]
    assert indexes[:4] == [0, 1, 0, 1]


def test_vllm_dialect_n_stream(mock_server_factory):
    server = mock_server_factory(dialect="vllm")
    whole = post(server, model="Qwen/Qwen3-4B", n=2).json()
    chunks = payloads(post(server, model="Qwen/Qwen3-4B", n=2, stream=True).text)
    rebuilt = reassemble(chunks, field="reasoning")
    for choice in whole["choices"]:
        assert rebuilt[choice["index"]]["reasoning"] == choice["message"]["reasoning"]
        assert rebuilt[choice["index"]]["content"] == choice["message"]["content"]
    assert whole["choices"][1]["message"]["reasoning"] == "Thinking about (2): alpha bravo"


def test_completions_n_and_prompts_interleave(mock_server):
    body = {"prompt": ["a", "b"], "n": 2}
    whole = post(mock_server, "/v1/completions", **body).json()
    texts = [c["text"] for c in whole["choices"]]
    assert texts == ["Echo: a", "Echo (2): a", "Echo: b", "Echo (2): b"]
    chunks = payloads(post(mock_server, "/v1/completions", stream=True, **body).text)
    order = [c["choices"][0]["index"] for c in chunks]
    assert order[:4] == [0, 1, 2, 3]
    rebuilt: dict[int, str] = {}
    for chunk in chunks:
        choice = chunk["choices"][0]
        rebuilt[choice["index"]] = rebuilt.get(choice["index"], "") + choice["text"]
    assert [rebuilt[i] for i in range(4)] == texts
    assert whole["usage"]["completion_tokens"] == sum(
        len(httpx.post(mock_server.url + "/tokenize", json={"prompt": t}).json()["tokens"])
        for t in texts
    )


def test_official_client_n3_stream_matches_non_stream(mock_server):
    openai = pytest.importorskip("openai")
    with openai.OpenAI(base_url=mock_server.openai_base_url, api_key="sk-test", max_retries=0) as c:
        messages = [{"role": "user", "content": "alpha bravo charlie"}]
        whole = c.chat.completions.create(model="mock-model", messages=messages, n=3)
        stream = c.chat.completions.create(model="mock-model", messages=messages, n=3, stream=True)
        text: dict[int, str] = {}
        finish: dict[int, str] = {}
        for chunk in stream:
            for choice in chunk.choices:
                text[choice.index] = text.get(choice.index, "") + (choice.delta.content or "")
                if choice.finish_reason:
                    finish[choice.index] = choice.finish_reason
    assert [text[i] for i in range(3)] == [ch.message.content for ch in whole.choices]
    assert len({ch.message.content for ch in whole.choices}) == 3
    assert finish == {0: "stop", 1: "stop", 2: "stop"}
