"""The LLM observation hooks fire for every provider: the mock's dialects and the local model.

A plugin registered on a private :class:`PluginHost` records what it is told; the same
expectations hold whichever provider served the call, since ``LLM`` (not each provider)
fires the hooks.
"""

from __future__ import annotations

import asyncio
import importlib.util
from collections.abc import Iterator
from typing import Any

import pytest

from hookwire.errors import NotFoundError, StreamTruncated
from hookwire.hookspecs import hookimpl
from hookwire.llm import LLM
from hookwire.registry import PluginHost

_HAS_LOCAL = all(importlib.util.find_spec(m) for m in ("torch", "transformers"))
KEY = "sk-observed-fake"  # pragma: allowlist secret


class Recorder:
    def __init__(self) -> None:
        self.events: list[tuple[Any, ...]] = []
        self.calls: list[Any] = []

    @hookimpl
    def hookwire_llm_request(self, call: Any) -> None:
        self.calls.append(call)
        call.state["seen"] = True  # room for a plugin's own state, kept to the end
        self.events.append(("request", call.operation))

    @hookimpl
    def hookwire_llm_first_token(self, call: Any, seconds: float) -> None:
        self.events.append(("first_token", seconds >= 0))

    @hookimpl
    def hookwire_llm_response(self, call: Any, result: Any) -> None:
        assert call.state["seen"]
        self.events.append(("response", call.outcome, type(result).__name__))

    @hookimpl
    def hookwire_llm_error(self, call: Any, error: BaseException) -> None:
        self.events.append(("error", type(error).__name__))


def _host() -> tuple[PluginHost, Recorder]:
    host = PluginHost()
    recorder = Recorder()
    host.register(recorder, "recorder")
    return host, recorder


@pytest.fixture
def mock_llm(mock_server_factory: Any) -> Iterator[tuple[LLM, Recorder]]:
    server = mock_server_factory(dialect="vllm")
    host, recorder = _host()
    llm = LLM("vllm", base_url=server.openai_base_url, model="Qwen/Qwen3-4B", plugins=host)
    yield llm, recorder
    llm.close()


@pytest.fixture
def local_llm(tiny_engine: Any) -> Iterator[tuple[LLM, Recorder]]:
    if not _HAS_LOCAL:
        pytest.skip("torch/transformers not installed")
    from tests.contract.test_llm_contract_local import ScriptedReply

    host, recorder = _host()
    llm = LLM("transformers", engine=tiny_engine, model="tiny-qwen3", plugins=host,
              logits_processor=[ScriptedReply(tiny_engine.tokenizer)])  # fmt: skip
    yield llm, recorder
    llm.close()


@pytest.fixture(params=["mock_llm", "local_llm"])
def observed(request: pytest.FixtureRequest) -> tuple[LLM, Recorder]:
    return request.getfixturevalue(request.param)  # type: ignore[no-any-return]


def test_chat_fires_request_then_response(observed: tuple[LLM, Recorder]) -> None:
    llm, recorder = observed
    result = llm.chat("hello", max_tokens=32)
    assert recorder.events == [("request", "chat"), ("response", "ok", "ChatResult")]
    call = recorder.calls[0]
    assert call.provider == llm.name and call.model == (llm.model or "")
    assert call.request.messages[-1].content == "hello" and result.content


def test_stream_fires_first_token_once_and_the_end(observed: tuple[LLM, Recorder]) -> None:
    llm, recorder = observed
    llm.stream("hello", max_tokens=32).result()
    assert recorder.events == [
        ("request", "stream"), ("first_token", True), ("response", "ok", "ChatResult"),
    ]


def test_a_stream_closed_early_ends_as_closed(observed: tuple[LLM, Recorder]) -> None:
    llm, recorder = observed
    with llm.stream("hello", max_tokens=32) as stream:
        next(iter(stream))
    assert recorder.events[-1] == ("response", "closed", "ChatResult")


def test_async_calls_fire_the_same_hooks(observed: tuple[LLM, Recorder]) -> None:
    llm, recorder = observed

    async def run() -> None:
        await llm.achat("hello", max_tokens=32)
        await llm.astream("hello", max_tokens=32).aresult()
        await llm.aclose()

    asyncio.run(run())
    assert recorder.events == [
        ("request", "chat"), ("response", "ok", "ChatResult"),
        ("request", "stream"), ("first_token", True), ("response", "ok", "ChatResult"),
    ]


def test_embeddings_are_observed(observed: tuple[LLM, Recorder]) -> None:
    llm, recorder = observed
    llm.embed(["a", "b"])
    assert recorder.events == [("request", "embeddings"), ("response", "ok", "EmbeddingResult")]
    assert recorder.calls[0].inputs == 2


def test_errors_are_observed(mock_llm: tuple[LLM, Recorder]) -> None:
    llm, recorder = mock_llm
    with pytest.raises(NotFoundError):
        llm.chat("hello", model="no-such-model")
    assert recorder.events == [("request", "chat"), ("error", "NotFoundError")]
    recorder.events.clear()
    # a stream that ends without a finish_reason fails at its end: the error hook says so
    stream = llm.stream("hello", extra_headers={"X-Mock-Fault": "no-done"})
    with pytest.raises(StreamTruncated):
        stream.result()
    assert recorder.events[0] == ("request", "stream") and recorder.events[-1] == (
        "error", "StreamTruncated")


def test_no_observer_means_no_overhead_objects(mock_server_factory: Any) -> None:
    server = mock_server_factory(dialect="vllm")
    llm = LLM("vllm", base_url=server.openai_base_url, model="Qwen/Qwen3-4B",
              plugins=PluginHost())
    assert llm._observer() is None  # nothing registered: the call path skips the hooks
    llm.close()
