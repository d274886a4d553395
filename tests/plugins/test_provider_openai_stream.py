"""Streaming against the live mock server, over every transport: assembly, faults, abandonment.

Faults are scripted per call with the mock's ``X-Mock-Fault`` header; every failure must come
out typed, with the partial reply attached, and leave no connection behind.
"""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import pytest

from hookwire import Timeout
from hookwire.errors import (
    ProtocolError,
    ReadTimeout,
    StreamErrorEvent,
    StreamInterrupted,
    StreamTruncated,
)
from hookwire.llm import LLM, StreamTimeout

SYNC = ["requests", "httpx", "native"]
#: 200 abandoned streams on the fastest transport of each colour; fewer on httpx, whose
#: connection setup is slower, to keep the suite quick (a leak shows after 2 either way).
ABANDON = {"requests": 200, "aiohttp": 200, "httpx": 60, "native": 200}
ASYNC = ["httpx", "aiohttp", "native"]
TOOLS = [
    {
        "type": "function",
        "function": {
            "name": "get_weather",
            "parameters": {
                "type": "object",
                "properties": {"city": {"type": "string"}, "days": {"type": "integer"}},
                "required": ["city", "days"],
            },
        },
    }
]


def fault(spec: str) -> dict[str, str]:
    return {"X-Mock-Fault": spec, "X-Mock-Session": uuid.uuid4().hex}


@pytest.fixture
def open_llm(mock_server: Any) -> Any:
    made: list[LLM] = []

    def make(transport: str, **kwargs: Any) -> LLM:
        kwargs.setdefault("model", "mock-thinking")
        llm = LLM(
            "openai-compatible", base_url=mock_server.openai_base_url, transport=transport, **kwargs
        )
        made.append(llm)
        return llm

    yield make
    for llm in made:
        llm.close()


@pytest.mark.parametrize("transport", SYNC)
def test_stream_matches_chat_and_ends_with_usage(open_llm: Any, transport: str) -> None:
    llm = open_llm(transport)
    whole = llm.chat("stream me please")
    with llm.stream("stream me please") as stream:
        deltas = list(stream)
    result = stream.result()
    assert (result.content, result.reasoning) == (whole.content, whole.reasoning)
    assert result.content == "Echo: stream me please"
    assert result.reasoning == "Thinking about: stream me please"
    assert all(not (d.content and d.reasoning) for d in deltas)
    assert deltas[-1].usage is not None and deltas[-1].usage == result.usage
    assert result.usage == whole.usage and result.finish_reason == "stop"


@pytest.mark.parametrize("transport", SYNC)
def test_tool_call_deltas_assemble_to_valid_json(open_llm: Any, transport: str) -> None:
    llm = open_llm(transport, model="mock-model")
    whole = llm.chat("weather?", tools=TOOLS, tool_choice="get_weather")
    streamed = llm.stream("weather?", tools=TOOLS, tool_choice="get_weather").result()
    assert streamed.finish_reason == "tool_calls" and len(streamed.tool_calls) == 1
    call = streamed.tool_calls[0]
    assert call == whole.tool_calls[0] and call.name == "get_weather"
    args = call.json()
    assert isinstance(args["city"], str) and isinstance(args["days"], int)


@pytest.mark.parametrize("transport", SYNC)
def test_connection_cut_midstream_is_interrupted_with_partial(
    open_llm: Any, transport: str
) -> None:
    llm = open_llm(transport)
    stream = llm.stream("cut me off", extra_headers=fault("close-after=4"))
    with pytest.raises(StreamInterrupted) as info:
        for _ in stream:
            pass
    partial = info.value.partial
    assert partial.reasoning and partial.reasoning.startswith("Thinking")
    assert partial.finish_reason is None


@pytest.mark.parametrize("transport", SYNC)
def test_faults_are_typed(open_llm: Any, transport: str) -> None:
    llm = open_llm(transport, model="mock-model")
    with pytest.raises(StreamTruncated) as truncated:
        llm.stream("no end", extra_headers=fault("no-done")).result()
    assert truncated.value.partial.content == "Echo: no end"
    with pytest.raises(StreamErrorEvent) as event:
        llm.stream("a b c", extra_headers=fault("error-at=3")).result()
    assert event.value.partial.content == "Echo: a"
    assert "mock fault" in str(event.value)
    with pytest.raises(ProtocolError, match="stream event 2 is not valid JSON"):
        llm.stream("a b c", extra_headers=fault("malformed-at=2")).result()


@pytest.mark.parametrize("transport", SYNC)
def test_keepalive_only_stream_hits_the_first_token_deadline(open_llm: Any, transport: str) -> None:
    llm = open_llm(transport)
    deadline = StreamTimeout(connect=5, first_token=0.3, idle=0.3, total=10)
    with pytest.raises(ReadTimeout, match="first_token"):
        llm.stream("hello", extra_headers=fault("keepalive-only"), timeout=deadline).result()


@pytest.mark.parametrize("transport", SYNC)
def test_retry_before_the_first_chunk(open_llm: Any, transport: str) -> None:
    llm = open_llm(transport, retry=2)
    headers = fault("calls=1;status=503;retry-after=0")
    assert llm.stream("again", extra_headers=headers).result().content == "Echo: again"


@pytest.mark.parametrize("transport", SYNC)
def test_abandoned_streams_return_their_connections(open_llm: Any, transport: str) -> None:
    llm = open_llm(transport, max_connections=2, timeout=Timeout(5, pool=3))
    for i in range(ABANDON[transport]):
        stream = llm.stream("x y z", extra_headers={"X-Mock-Reply-Tokens": "50"})
        if i % 3 == 0:
            for _ in stream:
                break  # leave mid-stream
            stream.close()
        elif i % 3 == 1:
            with stream:
                next(stream)
        else:
            next(stream)
            del stream  # dropping the last reference closes it (no gc.collect needed)
    assert llm.chat("still alive").content == "Echo: still alive"


@pytest.mark.parametrize("transport", ASYNC)
async def test_async_stream_and_faults(open_llm: Any, transport: str) -> None:
    llm = open_llm(transport)
    try:
        stream = llm.astream("async stream")
        content = "".join([d.content async for d in stream])
        assert content == "Echo: async stream"
        assert (await stream.aresult()).reasoning == "Thinking about: async stream"
        with pytest.raises(StreamInterrupted) as info:
            await llm.astream("x", extra_headers=fault("close-after=4")).aresult()
        assert info.value.partial.reasoning
        with pytest.raises(StreamTruncated):
            await llm.astream("x", extra_headers=fault("no-done")).aresult()
    finally:
        await llm.aclose()


@pytest.mark.parametrize("transport", ASYNC)
async def test_abandoned_and_cancelled_async_streams_free_the_pool(
    open_llm: Any, transport: str
) -> None:
    llm = open_llm(transport, max_connections=2, timeout=Timeout(5, pool=3))
    try:
        for i in range(ABANDON[transport]):
            stream = llm.astream("x y z", extra_headers={"X-Mock-Reply-Tokens": "50"})
            if i % 2 == 0:
                async with stream:
                    await stream.__anext__()
            else:
                async for _ in stream:
                    break
                await stream.aclose()

        async def consume(started: asyncio.Event) -> None:
            async for _ in llm.astream("slow", extra_headers={"X-Mock-Reply-Tokens": "1000"}):
                started.set()
                await asyncio.sleep(0.001)

        for _ in range(4):
            started = asyncio.Event()
            task = asyncio.create_task(consume(started))
            await started.wait()  # cancelled mid-stream, holding a connection
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
        assert (await llm.achat("alive")).content == "Echo: alive"
    finally:
        await llm.aclose()
