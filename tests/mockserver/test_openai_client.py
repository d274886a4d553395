"""The official `openai` client works unchanged against the live mock (contract test)."""

from __future__ import annotations

import uuid

import pytest

openai = pytest.importorskip("openai")


@pytest.fixture
def client(mock_server):
    with openai.OpenAI(base_url=mock_server.openai_base_url, api_key="sk-test", max_retries=0) as c:
        yield c


def test_chat_and_stream(client):
    r = client.chat.completions.create(
        model="mock-thinking", messages=[{"role": "user", "content": "ping"}]
    )
    assert r.choices[0].message.content == "Echo: ping"
    assert r.choices[0].message.model_extra["reasoning_content"] == "Thinking about: ping"
    stream = client.chat.completions.create(
        model="mock-model",
        messages=[{"role": "user", "content": "alpha bravo"}],
        stream=True,
        stream_options={"include_usage": True},
    )
    chunks = list(stream)
    assert (
        "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
        == "Echo: alpha bravo"
    )
    assert chunks[-1].usage.completion_tokens == 3


def test_models_and_embeddings(client):
    assert {m.id for m in client.models.list()} == {"mock-model", "mock-thinking"}
    assert client.models.retrieve("mock-model").id == "mock-model"
    # The client asks for base64 by default and decodes it itself.
    emb = client.embeddings.create(model="mock-model", input=["a", "b"], dimensions=8)
    assert len(emb.data) == 2 and len(emb.data[0].embedding) == 8


def test_exception_classes(client, mock_server_factory):
    keyed = mock_server_factory(api_key="sk-right")
    bad = openai.OpenAI(base_url=keyed.openai_base_url, api_key="sk-wrong", max_retries=0)
    with bad, pytest.raises(openai.AuthenticationError):
        bad.models.list()
    with pytest.raises(openai.NotFoundError):
        client.chat.completions.create(model="nope", messages=[{"role": "user", "content": "x"}])
    with pytest.raises(openai.BadRequestError) as info:
        client.chat.completions.create(
            model="mock-model", messages=[{"role": "user", "content": "x"}], temperature=3
        )
    assert info.value.param == "temperature"
    with pytest.raises(openai.RateLimitError):
        client.with_options(default_headers={"X-Mock-Fault": "status=429"}).models.list()


def test_client_retries_honour_retry_after_ms(mock_server):
    session = uuid.uuid4().hex
    fault = "calls=1-2;status=503;retry-after-ms=1 | calls=3;status=429;retry-after-ms=1"
    headers = {"X-Mock-Fault": fault, "X-Mock-Session": session}
    with openai.OpenAI(
        base_url=mock_server.openai_base_url, api_key="k", max_retries=3, default_headers=headers
    ) as c:
        r = c.chat.completions.create(
            model="mock-model", messages=[{"role": "user", "content": "x"}]
        )
    assert r.choices[0].message.content == "Echo: x"
    mine = [
        e
        for e in mock_server.journal.entries("/v1/chat/completions")
        if e.headers.get("x-mock-session") == session
    ]
    assert [e.status for e in mine] == [503, 503, 429, 200]
    assert mine[0].headers["authorization"] == "[REDACTED]"


def test_client_gives_up_after_max_retries(mock_server):
    session = uuid.uuid4().hex
    headers = {"X-Mock-Fault": "status=503;retry-after-ms=1", "X-Mock-Session": session}
    with (
        openai.OpenAI(
            base_url=mock_server.openai_base_url,
            api_key="k",
            max_retries=2,
            default_headers=headers,
        ) as c,
        pytest.raises(openai.InternalServerError),
    ):
        c.models.list()
    mine = [
        e
        for e in mock_server.journal.entries("/v1/models")
        if e.headers.get("x-mock-session") == session
    ]
    assert len(mine) == 3


def test_parallel_tool_calls_round_trip(client):
    tools = [
        {"type": "function", "function": {"name": n, "parameters": {"type": "object"}}}
        for n in ("get_weather", "get_time")
    ]
    messages: list = [{"role": "user", "content": "get_time and get_weather"}]
    r = client.chat.completions.create(model="mock-model", messages=messages, tools=tools)
    calls = r.choices[0].message.tool_calls
    assert [c.function.name for c in calls] == ["get_time", "get_weather"]
    assert r.choices[0].finish_reason == "tool_calls" and calls[0].id != calls[1].id
    messages.append(r.choices[0].message.model_dump(exclude_none=True))
    messages += [{"role": "tool", "tool_call_id": c.id, "content": c.function.name} for c in calls]
    r = client.chat.completions.create(model="mock-model", messages=messages, tools=tools)
    assert r.choices[0].message.content == "Echo: get_time; get_weather"
