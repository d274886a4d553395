"""Stream semantics on scripted sources and a fake clock: assembly, deadlines, failures, closing."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator

import pytest

from hookwire import Client, FakeClock, Response
from hookwire.errors import (
    DeadlineExceeded,
    ReadError,
    ReadTimeout,
    StreamErrorEvent,
    StreamInterrupted,
    StreamTruncated,
)
from hookwire.llm import (
    AsyncChatStream,
    ChatDelta,
    ChatStream,
    OpenAICompatibleProvider,
    StreamTimeout,
    ToolCallDelta,
    Usage,
)
from hookwire.llm._request import build_request
from hookwire.llm._stream import Accumulator, StreamDeadlines
from hookwire.transports import BaseTransport


def deltas_then(*items: ChatDelta | BaseException) -> Iterator[ChatDelta]:
    for item in items:
        if isinstance(item, BaseException):
            raise item
        yield item


def test_accumulator_joins_tool_fragments_by_index() -> None:
    acc = Accumulator()
    acc.add(ChatDelta(tool_calls=[ToolCallDelta(1, "b", "second", '{"x"')]))
    acc.add(ChatDelta(tool_calls=[ToolCallDelta(0, "a", "first", "{}")]))
    acc.add(ChatDelta(tool_calls=[ToolCallDelta(1, None, None, ": 2}")]))
    acc.add(ChatDelta(finish_reason="tool_calls", usage=Usage(1, 2, 3)))
    result = acc.result(provider="p", model="m")
    assert [c.name for c in result.tool_calls] == ["first", "second"]
    assert result.tool_calls[1].json() == {"x": 2}
    assert result.finish_reason == "tool_calls" and result.usage == Usage(1, 2, 3)


def test_deadlines_first_token_idle_total() -> None:
    d = StreamDeadlines(StreamTimeout(first_token=5, idle=2, total=20), now=0.0)
    d.check(4.9)
    with pytest.raises(ReadTimeout, match="first_token=5"):
        d.check(5.1)
    d = StreamDeadlines(StreamTimeout(first_token=5, idle=2, total=20), now=0.0)
    d.progress(1.0, token=False)  # a role-only chunk is not a token
    d.progress(3.0, token=True)
    d.check(4.9)
    with pytest.raises(ReadTimeout, match="idle=2"):
        d.check(5.1)
    d.progress(5.0, token=True)
    with pytest.raises(DeadlineExceeded, match="total deadline of 20s"):
        d.progress(20.5, token=True)


def test_stream_success_and_done_callback() -> None:
    seen = []
    stream = ChatStream(deltas_then(ChatDelta("a"), ChatDelta(reasoning="r"), ChatDelta("b"),
                                    ChatDelta(finish_reason="stop")), provider="p", model="m")
    stream.add_done_callback(seen.append)
    assert [d.content for d in stream] == ["a", "", "b", ""]
    result = stream.result()
    assert (result.content, result.reasoning, result.finish_reason) == ("ab", "r", "stop")
    assert seen == [result] and stream.done
    assert list(stream) == []  # a finished stream stays finished


def test_end_without_finish_reason_is_truncated_with_partial() -> None:
    stream = ChatStream(deltas_then(ChatDelta("half")), provider="p", model="m")
    with pytest.raises(StreamTruncated) as info:
        stream.result()
    assert info.value.partial.content == "half"
    with pytest.raises(StreamTruncated):  # the failure is remembered
        stream.result()


def test_break_after_first_chunk_is_interrupted_with_partial() -> None:
    stream = ChatStream(deltas_then(ChatDelta("He"), ChatDelta(reasoning="x"),
                                    ReadError("connection reset")), provider="p", model="m")
    with pytest.raises(StreamInterrupted) as info:
        list(stream)
    assert info.value.partial.content == "He" and info.value.partial.reasoning == "x"
    assert isinstance(info.value.__cause__, ReadError)


def test_break_before_first_chunk_raises_the_transport_error() -> None:
    stream = ChatStream(deltas_then(ReadError("refused")), provider="p", model="m")
    with pytest.raises(ReadError):
        next(stream)


def test_error_event_gets_partial() -> None:
    stream = ChatStream(deltas_then(ChatDelta("ok"), StreamErrorEvent("boom")),
                        provider="p", model="m")
    with pytest.raises(StreamErrorEvent) as info:
        list(stream)
    assert info.value.partial.content == "ok"


def test_close_closes_the_source_and_ends_iteration() -> None:
    closed = []

    def source() -> Iterator[ChatDelta]:
        try:
            yield ChatDelta("a")
            yield ChatDelta("b")
        finally:
            closed.append(True)

    with ChatStream(source(), provider="p", model="m") as stream:
        next(stream)
    assert closed == [True] and list(stream) == []
    with pytest.raises(StreamTruncated, match="closed before it finished"):
        stream.result()


async def test_async_stream_mirrors_sync() -> None:
    async def source() -> AsyncIterator[ChatDelta]:
        yield ChatDelta("x")
        raise ReadError("gone")

    stream = AsyncChatStream(source(), provider="p", model="m")
    with pytest.raises(StreamInterrupted) as info:
        async for _ in stream:
            pass
    assert info.value.partial.content == "x"


# -- deadlines through the provider, on a fake clock ------------------------------------------

class ScriptedBody:
    """A response body that advances a fake clock before each chunk."""

    def __init__(self, clock: FakeClock, script: list[tuple[float, bytes]]) -> None:
        self.clock, self.script, self.closed = clock, script, False

    def __iter__(self) -> Iterator[bytes]:
        for wait, data in self.script:
            self.clock.sleep(wait)
            yield data

    def close(self) -> None:
        self.closed = True


class ScriptedTransport(BaseTransport):
    def __init__(self, body: ScriptedBody) -> None:
        self.body = body

    def handle_request(self, request):  # type: ignore[no-untyped-def]
        return Response(200, headers={"content-type": "text/event-stream"}, stream=self.body)


def data(delta: dict, finish: str | None = None) -> bytes:
    payload = {"choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}
    return b"data: " + json.dumps(payload).encode() + b"\n\n"


def provider_for(script: list[tuple[float, bytes]]) -> tuple[OpenAICompatibleProvider,
                                                             ScriptedBody]:
    clock = FakeClock()
    body = ScriptedBody(clock, script)
    client = Client(transport=ScriptedTransport(body), clock=clock)
    return OpenAICompatibleProvider(base_url="http://llm.test/v1", model="m", client=client), body


TIMEOUT = StreamTimeout(first_token=10, idle=3, total=100)


def test_keepalives_do_not_reset_the_idle_timer() -> None:
    script = [(0, data({"content": "a"}))] + [(1, b": keep-alive\n\n")] * 10
    provider, body = provider_for(script)
    stream = provider.stream(build_request("hi", stream=True, timeout=TIMEOUT))
    with pytest.raises(StreamInterrupted, match="idle=3") as info:
        list(stream)
    assert isinstance(info.value.__cause__, ReadTimeout)
    assert info.value.partial.content == "a" and body.closed


def test_only_keepalives_hit_the_first_token_deadline() -> None:
    provider, body = provider_for([(1, b": keep-alive\n\n")] * 20)
    with pytest.raises(ReadTimeout, match="first_token=10"):
        list(provider.stream(build_request("hi", timeout=TIMEOUT)))
    assert body.closed


def test_slow_but_steady_tokens_pass_and_total_still_applies() -> None:
    steady = [(2, data({"content": "t"}))] * 20 + [(0, data({}, "stop"))]
    provider, _ = provider_for(steady)
    result = provider.stream(build_request("hi", timeout=TIMEOUT)).result()
    assert result.content == "t" * 20
    provider, _ = provider_for(steady)
    short = StreamTimeout(first_token=10, idle=3, total=15)
    with pytest.raises(StreamInterrupted, match="total deadline") as info:
        list(provider.stream(build_request("hi", timeout=short)))
    assert info.value.partial.content == "t" * 7
