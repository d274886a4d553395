"""One set of chat and stream scenarios, run against every provider dialect.

Each entry of ``CASES`` names a fixture that returns an :class:`LLMCase`; a new provider joins
the contract by adding a fixture and its name (the transformers provider is added this way).
The bodies assert only what every provider must do, with the mock's echo rule checked where
``case.echo`` says the reply is the mock's ``"Echo: <prompt>"``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from hookwire.llm import LLM, list_providers

KEY = "sk-contract-fake"


@dataclass
class LLMCase:
    """A provider under contract. ``thinking_model``: the model to ask for reasoning with
    (None: the default model thinks when ``thinking=True``); ``echo``: replies follow the
    mock's echo rule; ``tools``: the provider can call tools."""

    llm: LLM
    thinking_model: str | None = None
    echo: bool = True
    tools: bool = True

    def think(self) -> dict[str, Any]:
        return {"thinking": True, **({"model": self.thinking_model} if self.thinking_model else {})}


def _closing(llm: LLM, **kwargs: Any) -> Iterator[LLMCase]:
    case = LLMCase(llm, **kwargs)
    yield case
    llm.close()
    asyncio.run(llm.aclose())


@pytest.fixture
def openai_case(mock_server_factory: Any) -> Iterator[LLMCase]:
    server = mock_server_factory(dialect="openai")
    # openai-compatible, not the openai preset: that one refuses thinking=False (OpenAI has
    # no switch), which tests/plugins/test_provider_openai.py covers
    llm = LLM("openai-compatible", base_url=server.openai_base_url, api_key=KEY, model="mock-model")
    yield from _closing(llm, thinking_model="mock-thinking")


@pytest.fixture
def vllm_case(mock_server_factory: Any) -> Iterator[LLMCase]:
    server = mock_server_factory(dialect="vllm")
    if "vllm" in list_providers():
        llm = LLM("vllm", base_url=server.openai_base_url, model="Qwen/Qwen3-4B")
    else:  # until the vllm plugin is installed: the same wire through the generic provider
        llm = LLM(
            "openai-compatible",
            base_url=server.openai_base_url,
            model="Qwen/Qwen3-4B",
            thinking_style="chat_template_kwargs",
        )
    yield from _closing(llm)


@pytest.fixture
def siliconflow_case(mock_server_factory: Any) -> Iterator[LLMCase]:
    server = mock_server_factory(dialect="siliconflow")
    llm = LLM("siliconflow", base_url=server.openai_base_url, api_key=KEY, model="Qwen/Qwen3-8B")
    yield from _closing(llm)


CASES = ["openai_case", "vllm_case", "siliconflow_case"]


@pytest.fixture(params=CASES, ids=lambda name: name.removesuffix("_case"))
def case(request: pytest.FixtureRequest) -> LLMCase:
    return request.getfixturevalue(request.param)  # type: ignore[no-any-return]


def test_chat_returns_content_finish_and_usage(case: LLMCase) -> None:
    result = case.llm.chat("Hello there", system="Be brief.", thinking=False)
    assert result.content and result.finish_reason == "stop" and result.reasoning is None
    assert result.usage is not None and result.usage.completion_tokens > 0
    if case.echo:
        assert result.content == "Echo: Hello there"


def test_stream_reassembles_to_the_chat_reply(case: LLMCase) -> None:
    whole = case.llm.chat("same reply", seed=1, **case.think())
    with case.llm.stream("same reply", seed=1, **case.think()) as stream:
        deltas = list(stream)
    result = stream.result()
    assert len(deltas) > 2 and all(not (d.content and d.reasoning) for d in deltas)
    assert (result.content, result.reasoning) == (whole.content, whole.reasoning)
    assert result.finish_reason == whole.finish_reason == "stop"
    assert result.usage is not None and result.usage == whole.usage


def test_thinking_on_and_off(case: LLMCase) -> None:
    on = case.llm.chat("think about it", **case.think())
    off = case.llm.chat("think about it", **{**case.think(), "thinking": False})
    assert on.reasoning and off.reasoning is None
    assert "<think>" not in on.content and "</think>" not in on.content
    if case.echo:
        assert on.reasoning == "Thinking about: think about it"
        assert on.content == off.content == "Echo: think about it"


def test_max_tokens_stops_with_length(case: LLMCase) -> None:
    result = case.llm.chat("one two three four five six seven", max_tokens=2, thinking=False)
    assert result.finish_reason == "length"
    assert result.usage is not None and result.usage.completion_tokens <= 2


def test_async_stream_matches_sync(case: LLMCase) -> None:
    async def run() -> tuple[str, str | None]:
        stream = case.llm.astream("async parity", **case.think())
        result = await stream.aresult()
        await case.llm.aclose()
        return result.content, result.reasoning

    sync = case.llm.stream("async parity", **case.think()).result()
    assert asyncio.run(run()) == (sync.content, sync.reasoning)


def test_conversation_carries_history(case: LLMCase) -> None:
    conv = case.llm.conversation(system="Remember things.", thinking=False)
    conv.send("My name is Ada.")
    second = conv.stream("What is my name?").result()
    assert [m.role for m in conv.messages] == ["user", "assistant", "user", "assistant"]
    assert conv.messages[-1].content == second.content
    if case.echo:
        assert second.content == "Echo: What is my name?"


def test_tool_call_round_trip(case: LLMCase) -> None:
    if not case.tools:
        pytest.skip("this provider does not call tools")
    tools = [
        {
            "type": "function",
            "function": {
                "name": "add",
                "parameters": {
                    "type": "object",
                    "properties": {"a": {"type": "integer"}, "b": {"type": "integer"}},
                    "required": ["a", "b"],
                },
            },
        }
    ]
    conv = case.llm.conversation(tools=tools, thinking=False)
    first = conv.stream("please add", tool_choice="add").result()
    assert first.finish_reason == "tool_calls"
    call = first.tool_calls[0]
    args = call.json()
    total = args["a"] + args["b"]
    final = conv.send({"role": "tool", "tool_call_id": call.id, "content": str(total)})
    assert final.finish_reason == "stop" and final.content
    if case.echo:
        assert final.content == f"Echo: {total}"
