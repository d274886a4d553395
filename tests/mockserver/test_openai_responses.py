"""The OpenAI Responses API on the mock: shapes against the official spec, the typed event
stream, and the official `openai` client (sync and async) over a live server."""

from __future__ import annotations

import asyncio
import json
import uuid
from typing import Any

import httpx
import pytest

from hookwire.mockserver.app import create_app
from hookwire.mockserver.runner import ThreadedServer
from tests.mockserver._openai_spec import validate

openai = pytest.importorskip("openai")

WEATHER = {
    "type": "function",
    "name": "get_weather",
    "description": "Weather for a city",
    "parameters": {
        "type": "object",
        "properties": {"city": {"type": "string"}},
        "required": ["city"],
        "additionalProperties": False,
    },
    "strict": True,
}

BODIES: dict[str, dict[str, Any]] = {
    "plain": {"model": "mock-model", "input": "hello there"},
    "thinking": {"model": "mock-thinking", "input": "why", "instructions": "Be brief."},
    "thinking-off": {"model": "mock-thinking", "input": "why", "reasoning": {"effort": "none"}},
    "messages": {
        "model": "mock-model",
        "input": [
            {"role": "developer", "content": "Answer in one line."},
            {"role": "user", "content": [{"type": "input_text", "text": "alpha bravo"}]},
        ],
    },
    "tools": {"model": "mock-model", "input": "call get_weather for Paris", "tools": [WEATHER]},
    "forced-tool": {
        "model": "mock-model",
        "input": "anything",
        "tools": [WEATHER],
        "tool_choice": {"type": "function", "name": "get_weather"},
    },
    "incomplete": {"model": "mock-thinking", "input": "one two three four", "max_output_tokens": 5},
    "json-schema": {
        "model": "mock-model",
        "input": "a person",
        "text": {
            "format": {
                "type": "json_schema",
                "name": "person",
                "schema": {
                    "type": "object",
                    "properties": {"name": {"type": "string"}},
                    "required": ["name"],
                },
            }
        },
    },
}

# event type -> the spec schema of that event
EVENT_SCHEMAS = {
    "response.created": "ResponseCreatedEvent",
    "response.in_progress": "ResponseInProgressEvent",
    "response.output_item.added": "ResponseOutputItemAddedEvent",
    "response.output_item.done": "ResponseOutputItemDoneEvent",
    "response.content_part.added": "ResponseContentPartAddedEvent",
    "response.content_part.done": "ResponseContentPartDoneEvent",
    "response.output_text.delta": "ResponseTextDeltaEvent",
    "response.output_text.done": "ResponseTextDoneEvent",
    "response.reasoning_summary_part.added": "ResponseReasoningSummaryPartAddedEvent",
    "response.reasoning_summary_part.done": "ResponseReasoningSummaryPartDoneEvent",
    "response.reasoning_summary_text.delta": "ResponseReasoningSummaryTextDeltaEvent",
    "response.reasoning_summary_text.done": "ResponseReasoningSummaryTextDoneEvent",
    "response.function_call_arguments.delta": "ResponseFunctionCallArgumentsDeltaEvent",
    "response.function_call_arguments.done": "ResponseFunctionCallArgumentsDoneEvent",
    "response.completed": "ResponseCompletedEvent",
    "response.incomplete": "ResponseIncompleteEvent",
    "error": "ResponseErrorEvent",
}


def events(text: str) -> list[tuple[str, dict[str, Any]]]:
    """(event name, data) of an event stream; every event has both lines, no [DONE]."""
    out = []
    for block in text.split("\n\n"):
        if not block:
            continue
        lines = block.split("\n")
        assert len(lines) == 2 and lines[0].startswith("event: "), block[:200]
        assert lines[1].startswith("data: "), block[:200]
        assert lines[1] != "data: [DONE]"
        out.append((lines[0][len("event: ") :], json.loads(lines[1][len("data: ") :])))
    return out


@pytest.fixture
def http(mock_server):
    with httpx.Client(base_url=mock_server.url, timeout=10) as c:
        yield c


@pytest.fixture
def client(mock_server):
    with openai.OpenAI(base_url=mock_server.openai_base_url, api_key="sk-test", max_retries=0) as c:
        yield c


def _stream(http: httpx.Client, body: dict[str, Any], **headers: str) -> list[dict[str, Any]]:
    r = http.post("/v1/responses", json={**body, "stream": True}, headers=headers)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/event-stream")
    pairs = events(r.text)
    for name, data in pairs:
        assert name == data["type"]
    return [data for _, data in pairs]


# ---- shapes ------------------------------------------------------------------------------


@pytest.mark.parametrize("case", sorted(BODIES))
def test_response_matches_spec(http, case):
    r = http.post("/v1/responses", json=BODIES[case])
    assert r.status_code == 200, r.text
    body = r.json()
    validate("Response", body)
    assert body["object"] == "response" and body["id"].startswith("resp_")
    usage = body["usage"]
    assert usage["total_tokens"] == usage["input_tokens"] + usage["output_tokens"]


@pytest.mark.parametrize("case", sorted(BODIES))
def test_every_stream_event_matches_spec(http, case):
    stream = _stream(http, BODIES[case])
    assert [e["sequence_number"] for e in stream] == list(range(len(stream)))
    for event in stream:
        validate(EVENT_SCHEMAS[event["type"]], event)
    final = stream[-1]["response"]
    # the stream's deltas add up to the final response's items
    for index, item in enumerate(final["output"]):
        kinds = {
            "message": "response.output_text.delta",
            "reasoning": "response.reasoning_summary_text.delta",
            "function_call": "response.function_call_arguments.delta",
        }
        deltas = [
            e["delta"] for e in _of_type(stream, kinds[item["type"]]) if e["output_index"] == index
        ]
        whole = {
            "message": lambda i: i["content"][0]["text"],
            "reasoning": lambda i: i["summary"][0]["text"],
            "function_call": lambda i: i["arguments"],
        }[item["type"]](item)
        assert "".join(deltas) == whole


def _of_type(stream: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [e for e in stream if e["type"] == kind]


def test_text_stream_order_is_the_spec_happy_path(http):
    types = [e["type"] for e in _stream(http, {"model": "mock-model", "input": "alpha bravo"})]
    deltas = types.count("response.output_text.delta")
    assert deltas == 3  # "Echo:", " alpha", " bravo": one token piece each, as the chat sends
    assert types == [
        "response.created",
        "response.in_progress",
        "response.output_item.added",
        "response.content_part.added",
        *["response.output_text.delta"] * deltas,
        "response.output_text.done",
        "response.content_part.done",
        "response.output_item.done",
        "response.completed",
    ]


def test_reasoning_comes_first_with_summary_events(http):
    stream = _stream(http, {"model": "mock-thinking", "input": "golf"})
    final = stream[-1]["response"]
    assert [i["type"] for i in final["output"]] == ["reasoning", "message"]
    assert final["output"][0]["summary"][0]["text"] == "Thinking about: golf"
    done = _of_type(stream, "response.reasoning_summary_text.done")
    assert [e["text"] for e in done] == ["Thinking about: golf"]
    assert _of_type(stream, "response.output_text.done")[0]["output_index"] == 1
    usage = final["usage"]
    assert usage["output_tokens_details"]["reasoning_tokens"] == 3  # Thinking, about:, golf
    assert usage["output_tokens"] == 3 + 2


def test_max_output_tokens_makes_an_incomplete_response(http):
    body = {"model": "mock-thinking", "input": "one two three four", "max_output_tokens": 5}
    r = http.post("/v1/responses", json=body).json()
    assert r["status"] == "incomplete" and r["completed_at"] is None
    assert r["incomplete_details"] == {"reason": "max_output_tokens"}
    assert r["usage"]["output_tokens"] == 5
    stream = _stream(http, body)
    assert stream[-1]["type"] == "response.incomplete"
    assert stream[-1]["response"]["incomplete_details"] == {"reason": "max_output_tokens"}
    # the reasoning alone fills the budget: no message item
    r = http.post("/v1/responses", json={**body, "max_output_tokens": 2}).json()
    assert [i["type"] for i in r["output"]] == ["reasoning"]


def test_reply_tokens_header_sizes_the_stream(http):
    stream = _stream(http, {"model": "mock-model", "input": "x"}, **{"X-Mock-Reply-Tokens": "50"})
    assert len(_of_type(stream, "response.output_text.delta")) == 50
    assert stream[-1]["response"]["usage"]["output_tokens"] == 50


# ---- store, retrieve, previous_response_id -------------------------------------------------


def test_stored_response_is_retrieved_and_unstored_is_404(http):
    created = http.post("/v1/responses", json={"model": "mock-model", "input": "keep"}).json()
    got = http.get(f"/v1/responses/{created['id']}")
    assert got.status_code == 200 and got.json() == created
    streamed = _stream(http, {"model": "mock-model", "input": "keep too"})[-1]["response"]
    assert http.get(f"/v1/responses/{streamed['id']}").json() == streamed
    unstored = http.post(
        "/v1/responses", json={"model": "mock-model", "input": "x", "store": False}
    )
    missing = http.get(f"/v1/responses/{unstored.json()['id']}")
    assert missing.status_code == 404
    validate("ErrorResponse", missing.json())
    assert missing.json()["error"]["code"] is None
    assert "not found" in missing.json()["error"]["message"]


def test_retrieve_stream_replays_the_events_and_delete_forgets(http, client):
    created = client.responses.create(model="mock-thinking", input="alpha")
    replay = list(client.responses.retrieve(created.id, stream=True))
    assert replay[0].type == "response.created" and replay[-1].type == "response.completed"
    assert replay[-1].response.output_text == created.output_text == "Echo: alpha"
    r = http.get(f"/v1/responses/{created.id}", params={"stream": "true"})
    for name, event in events(r.text):
        validate(EVENT_SCHEMAS[name], event)
    gone = http.delete(f"/v1/responses/{created.id}")
    assert gone.json() == {"id": created.id, "object": "response.deleted", "deleted": True}
    assert http.get(f"/v1/responses/{created.id}").status_code == 404
    assert http.delete(f"/v1/responses/{created.id}").status_code == 404
    other = client.responses.create(model="mock-model", input="x")
    client.responses.delete(other.id)
    with pytest.raises(openai.NotFoundError):
        client.responses.retrieve(other.id)


def test_background_response_is_complete_at_the_first_poll(client):
    r = client.responses.create(model="mock-model", input="later", background=True)
    assert r.background is True and r.status == "completed"
    assert client.responses.retrieve(r.id).output_text == "Echo: later"


def test_previous_response_id_continues_the_conversation(http):
    first = http.post("/v1/responses", json={"model": "mock-model", "input": "alpha"}).json()
    body = {"model": "mock-model", "input": "bravo", "previous_response_id": first["id"]}
    second = http.post("/v1/responses", json=body).json()
    assert second["previous_response_id"] == first["id"]
    assert second["output"][0]["content"][0]["text"] == "Echo: bravo"
    # the first turn's input and output are counted as input of the second
    assert second["usage"]["input_tokens"] > first["usage"]["input_tokens"] + 1
    bad = http.post("/v1/responses", json={**body, "previous_response_id": "resp_nope"})
    assert bad.status_code == 400 and bad.json()["error"]["param"] == "previous_response_id"


# ---- errors --------------------------------------------------------------------------------

OTHER = {"type": "function", "name": "other"}
BAD = [
    ({"model": "mock-model"}, "input"),
    ({"model": "mock-model", "input": 3}, "input"),
    ({"model": "mock-model", "input": [{"type": "web_search_call"}]}, "input[0].type"),
    ({"model": "mock-model", "input": [{"role": "tool", "content": "x"}]}, "input[0].role"),
    ({"model": "mock-model", "input": [{"type": "function_call_output"}]}, "input[0].call_id"),
    ({"model": "mock-model", "input": "x", "instructions": 1}, "instructions"),
    ({"model": "mock-model", "input": "x", "max_output_tokens": 0}, "max_output_tokens"),
    ({"model": "mock-model", "input": "x", "temperature": 3}, "temperature"),
    ({"model": "mock-model", "input": "x", "stream": "yes"}, "stream"),
    ({"model": "mock-model", "input": "x", "tools": [{"type": "web_search"}]}, "tools[0].type"),
    ({"model": "mock-model", "input": "x", "tools": [{"type": "function"}]}, "tools[0].name"),
    ({"model": "mock-model", "input": "x", "tool_choice": "sometimes"}, "tool_choice"),
    ({"model": "mock-model", "input": "x", "reasoning": {"effort": "huge"}}, "reasoning.effort"),
    (
        {"model": "mock-model", "input": "x", "text": {"format": {"type": "yaml"}}},
        "text.format.type",
    ),
    (
        {"model": "mock-model", "input": "x", "tools": [WEATHER], "tool_choice": OTHER},
        "tool_choice",
    ),
    ({"model": "mock-model", "input": "x", "tool_choice": {"type": "mcp"}}, "tool_choice"),
    ({"model": "mock-model", "input": "x", "reasoning": {"effort": {}}}, "reasoning.effort"),
    ({"model": "mock-model", "input": [{"type": {}}]}, "input[0].type"),
    ({"model": "mock-model", "input": "x", "truncation": []}, "truncation"),
    ({"model": "mock-model", "input": "x", "store": "no"}, "store"),
    ({"model": "mock-model", "input": "x", "metadata": {"k": 1}}, "metadata"),
    ({"model": "mock-model", "input": "x", "background": 1}, "background"),
    ({"model": "mock-model", "input": "x", "background": True, "store": False}, "store"),
    (
        {"model": "mock-model", "input": "x", "previous_response_id": "r", "conversation": "c"},
        "previous_response_id",
    ),
    ({"input": "x"}, "model"),
]


@pytest.mark.parametrize(("body", "param"), BAD, ids=[p for _, p in BAD])
def test_bad_request_is_a_400_naming_the_parameter(http, body, param):
    r = http.post("/v1/responses", json=body)
    assert r.status_code == 400, r.text
    validate("ErrorResponse", r.json())
    assert r.json()["error"]["param"] == param
    assert r.json()["error"]["type"] == "invalid_request_error"


def test_unknown_model_and_wrong_method(http):
    r = http.post("/v1/responses", json={"model": "nope", "input": "x"})
    assert r.status_code == 404 and r.json()["error"]["code"] == "model_not_found"
    assert http.delete("/v1/responses").status_code == 405
    assert http.put("/v1/responses/resp_x").status_code == 405
    assert http.post("/v1/responses", content=b"{not json").status_code == 400


# ---- auth, faults, journal, limits, dialects ------------------------------------------------


def test_auth_faults_journal_and_limits_apply(mock_server, mock_server_factory, http):
    keyed = mock_server_factory(api_key="sk-right")  # pragma: allowlist secret
    body = {"model": "mock-model", "input": "x"}
    assert httpx.post(keyed.url + "/v1/responses", json=body).status_code == 401
    ok = httpx.post(
        keyed.url + "/v1/responses",
        json=body,
        headers={"Authorization": "Bearer sk-right"},  # pragma: allowlist secret
    )
    assert ok.status_code == 200
    faulted = http.post("/v1/responses", json=body, headers={"X-Mock-Fault": "status=429"})
    assert faulted.status_code == 429 and faulted.json()["error"]["type"] == "rate_limit_error"
    marker = uuid.uuid4().hex
    http.post("/v1/responses", json={**body, "input": marker})
    entries = [e for e in mock_server.journal.entries("/v1/responses") if _input(e) == marker]
    assert len(entries) == 1 and entries[0].status == 200
    huge = http.post("/v1/responses", json=body, headers={"X-Mock-Reply-Tokens": "3000000"})
    assert huge.status_code == 400 and "limit" in huge.json()["error"]["message"]


def _input(entry: Any) -> Any:
    return entry.body.get("input") if isinstance(entry.body, dict) else None


def test_stream_faults_act_on_events(http):
    body = {"model": "mock-model", "input": "alpha bravo"}
    stream = _stream(http, body, **{"X-Mock-Fault": "error-at=3"})
    assert [e["type"] for e in stream][-1] == "error" and len(stream) == 4
    validate("ResponseErrorEvent", stream[-1])
    assert stream[-1]["sequence_number"] == 3
    stream = _stream(http, body, **{"X-Mock-Fault": "no-done"})
    assert stream[-1]["type"] == "response.output_item.done"
    r = http.post(
        "/v1/responses", json={**body, "stream": True}, headers={"X-Mock-Fault": "malformed-at=2"}
    )
    blocks = [b for b in r.text.split("\n\n") if b]
    with pytest.raises(json.JSONDecodeError):
        json.loads(blocks[2].split("\ndata: ", 1)[1])
    assert json.loads(blocks[-1].split("\ndata: ", 1)[1])["type"] == "response.completed"


def test_vllm_dialect_thinking_model_and_error_shape(mock_server_factory):
    server = mock_server_factory(dialect="vllm")
    r = httpx.post(server.url + "/v1/responses", json={"model": "Qwen/Qwen3-4B", "input": "hi"})
    assert [i["type"] for i in r.json()["output"]] == ["reasoning", "message"]
    missing = httpx.get(server.url + "/v1/responses/resp_nope")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == 404


# ---- the official openai client -----------------------------------------------------------


def test_client_create_output_text_and_reasoning(client):
    r = client.responses.create(model="mock-thinking", input="golf", instructions="Be brief.")
    assert r.output_text == "Echo: golf"
    assert r.output[0].type == "reasoning"
    assert r.output[0].summary[0].text == "Thinking about: golf"
    assert r.usage.output_tokens_details.reasoning_tokens == 3
    assert r.status == "completed"
    assert client.responses.retrieve(r.id).output_text == "Echo: golf"
    with pytest.raises(openai.NotFoundError):
        client.responses.retrieve("resp_missing")
    with pytest.raises(openai.BadRequestError) as info:
        client.responses.create(model="mock-model", input="x", max_output_tokens=0)
    assert info.value.param == "max_output_tokens"


def test_client_stream_true_and_stream_helper(client):
    stream = client.responses.create(model="mock-thinking", input="alpha bravo", stream=True)
    seen = list(stream)
    assert seen[0].type == "response.created" and seen[-1].type == "response.completed"
    text = "".join(e.delta for e in seen if e.type == "response.output_text.delta")
    assert text == "Echo: alpha bravo" == seen[-1].response.output_text
    summary = "".join(e.delta for e in seen if e.type == "response.reasoning_summary_text.delta")
    assert summary == "Thinking about: alpha bravo"
    with client.responses.stream(model="mock-model", input="charlie") as s:
        names = [e.type for e in s]
        final = s.get_final_response()
    assert final.output_text == "Echo: charlie" and "response.output_text.done" in names


def test_client_tool_call_round_trip(client):
    tools = [WEATHER]
    first = client.responses.create(model="mock-model", input="call get_weather", tools=tools)
    call = first.output[0]
    assert call.type == "function_call" and call.name == "get_weather"
    assert json.loads(call.arguments).keys() == {"city"}
    assert first.output_text == ""
    result = {"type": "function_call_output", "call_id": call.call_id, "output": "sunny, 21 C"}
    # chained by id...
    second = client.responses.create(
        model="mock-model", previous_response_id=first.id, input=[result], tools=tools
    )
    assert second.output_text == "Echo: sunny, 21 C"
    # ...or with the whole conversation sent back
    third = client.responses.create(
        model="mock-model",
        input=[{"role": "user", "content": "call get_weather"}, call, result],
        tools=tools,
    )
    assert third.output_text == "Echo: sunny, 21 C"
    # streamed, the call's arguments arrive as deltas
    with client.responses.stream(model="mock-model", input="call get_weather", tools=tools) as s:
        args = [e.delta for e in s if e.type == "response.function_call_arguments.delta"]
        final = s.get_final_response()
    assert "".join(args) == final.output[0].arguments == call.arguments


def test_async_client(mock_server):
    async def main() -> tuple[str, str]:
        async with openai.AsyncOpenAI(
            base_url=mock_server.openai_base_url, api_key="sk-test", max_retries=0
        ) as c:
            plain = await c.responses.create(model="mock-model", input="async")
            stream = await c.responses.create(model="mock-model", input="async two", stream=True)
            text = "".join(
                [e.delta async for e in stream if e.type == "response.output_text.delta"]
            )
            return plain.output_text, text

    assert asyncio.run(main()) == ("Echo: async", "Echo: async two")


def test_scenario_rules_script_the_response():
    app = create_app()
    app.scenario.add(
        {"path": "/v1/responses", "content": "Scripted.", "reasoning": "A plan.", "calls": "1"}
    )
    call = {"name": "lookup", "arguments": '{"q": 1}'}
    app.scenario.add({"path": "/v1/responses", "tool_calls": [call], "calls": "2"})
    app.scenario.add({"path": "/v1/responses", "finish_reason": "length", "calls": "3"})
    body = {"model": "mock-model", "input": "x"}
    with ThreadedServer(app) as srv, httpx.Client(base_url=srv.url, timeout=10) as c:
        first = c.post("/v1/responses", json=body).json()
        assert [(i["type"]) for i in first["output"]] == ["reasoning", "message"]
        assert first["output"][0]["summary"][0]["text"] == "A plan."
        assert first["output"][1]["content"][0]["text"] == "Scripted."
        second = c.post("/v1/responses", json=body).json()
        assert [(i["type"], i["name"]) for i in second["output"]] == [("function_call", "lookup")]
        third = _stream(c, body)
        assert third[-1]["type"] == "response.incomplete"
        validate("Response", third[-1]["response"])


def test_parallel_tool_calls_false_and_several_outputs(http):
    other = {**WEATHER, "name": "get_time"}
    body = {
        "model": "mock-model",
        "input": "call get_weather and get_time",
        "tools": [WEATHER, other],
        "parallel_tool_calls": False,
    }
    r = http.post("/v1/responses", json=body).json()
    assert [i["name"] for i in r["output"]] == ["get_weather"] and r["parallel_tool_calls"] is False
    calls = [
        {"type": "function_call", "call_id": f"call_{n}", "name": n, "arguments": "{}"}
        for n in ("get_weather", "get_time")
    ]
    outputs = [
        {"type": "function_call_output", "call_id": c["call_id"], "output": out}
        for c, out in zip(calls, ("sunny", "noon"), strict=True)
    ]
    turn = {**body, "input": [{"role": "user", "content": "call both"}, *calls, *outputs]}
    answer = http.post("/v1/responses", json=turn).json()
    assert [i["type"] for i in answer["output"]] == ["message"]  # answers, does not call again
    text = answer["output"][0]["content"][0]["text"]
    assert text.startswith("Echo: ") and text.endswith("noon")


def test_client_parse_structured_output(client):
    pydantic = pytest.importorskip("pydantic")

    class Person(pydantic.BaseModel):
        name: str
        age: int
        tags: list[str]

    parsed = client.responses.parse(model="mock-model", input="a person", text_format=Person)
    assert isinstance(parsed.output_parsed, Person)
    assert json.loads(parsed.output_text) == parsed.output_parsed.model_dump()
    with client.responses.stream(model="mock-model", input="x", text_format=Person) as stream:
        list(stream)
        assert isinstance(stream.get_final_response().output_parsed, Person)
    tool = openai.pydantic_function_tool(Person, name="lookup")
    called = client.responses.parse(model="mock-model", input="call lookup", tools=[tool])
    assert isinstance(called.output[0].parsed_arguments, Person)


def test_the_store_is_bounded(monkeypatch):
    from hookwire.mockserver.openai import responses

    monkeypatch.setattr(responses, "STORE_RESPONSES", 2)
    monkeypatch.setattr(responses, "STORE_CHARS", 1000)
    with ThreadedServer(create_app()) as srv, httpx.Client(base_url=srv.url, timeout=10) as c:
        ids = [
            c.post("/v1/responses", json={"model": "mock-model", "input": f"n{i}"}).json()["id"]
            for i in range(3)
        ]
        assert [c.get(f"/v1/responses/{i}").status_code for i in ids] == [404, 200, 200]
        big = c.post("/v1/responses", json={"model": "mock-model", "input": "x" * 2000}).json()
        assert c.get(f"/v1/responses/{big['id']}").status_code == 404  # alone over the cap
        assert c.get(f"/v1/responses/{ids[2]}").status_code == 404  # pushed out by it
