"""The automatic tool loop (``tools=[a_function]``) against the mock, on every provider dialect.

The mock calls a declared function whose name appears in the user's text (arguments made from
the function's JSON schema), answers ``"Echo: <tool result>"`` once a tool result is the last
message, and takes scripted tool calls from a scenario rule (several calls in one reply, or
arguments that are not JSON or do not fit), keyed by an ``X-Mock-Session`` header so each test
has its own call counter.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Iterator
from typing import Any, Literal

import httpx
import pytest

from hookwire.errors import InvalidRequest, MaxTurnsExceeded, ToolExecutionError
from hookwire.hookspecs import hookimpl
from hookwire.llm import LLM
from hookwire.registry import PluginHost
from tests.contract import test_llm_contract as contract
from tests.contract.test_llm_contract import KEY, LLMCase

# the contract's provider fixtures, so the loop runs on every dialect the contract covers
case, openai_case, vllm_case, siliconflow_case = (
    contract.case, contract.openai_case, contract.vllm_case, contract.siliconflow_case
)

CHAT = "/v1/chat/completions"


def get_weather(city: str, unit: Literal["c", "f"] = "c") -> dict[str, Any]:
    """The current weather of a city.

    Args:
        city: The city's name.
        unit: Celsius or Fahrenheit.
    """
    return {"city": city, "unit": unit, "temp": 21}


def explode(reason: str) -> str:
    """Always fails."""
    raise ValueError(f"boom: {reason}")


def _base(case: LLMCase) -> str:
    return str(case.llm.provider.base_url).removesuffix("/").removesuffix("/v1")  # type: ignore[attr-defined]


def _script(case: LLMCase, calls: list[dict[str, Any]], **more: Any) -> dict[str, Any]:
    """A rule: the first reply of a fresh session asks for ``calls``; the session's headers."""
    session = uuid.uuid4().hex
    rule = {"path": CHAT, "session": session, "calls": "1", "tool_calls": calls, **more}
    httpx.post(_base(case) + "/__mock__/scenario", json=rule).raise_for_status()
    return {"extra_headers": {"X-Mock-Session": session}}


def test_loop_runs_the_function_and_answers_with_its_result(case: LLMCase) -> None:
    result = case.llm.chat("please call get_weather", tools=[get_weather], thinking=False)
    (run,) = result.tool_runs
    assert run.call.name == "get_weather" and run.ok and run.turn == 1
    assert run.arguments == json.loads(run.call.arguments)
    assert run.result == get_weather(**run.arguments)
    assert run.output == json.dumps(run.result)
    assert result.content == f"Echo: {run.output}" and result.finish_reason == "stop"
    assert [m.role for m in result.messages] == ["assistant", "tool", "assistant"]
    assert result.messages[1].tool_call_id == run.call.id
    # usage covers both replies: more than the final reply alone reports
    alone = case.llm.chat(result.messages[1].content, thinking=False)
    assert result.usage is not None and alone.usage is not None
    assert result.usage.completion_tokens > alone.usage.completion_tokens


def test_stream_goes_through_the_loop(case: LLMCase) -> None:
    whole = case.llm.chat("please call get_weather", tools=[get_weather], thinking=False)
    with case.llm.stream("please call get_weather", tools=[get_weather], thinking=False) as s:
        deltas = list(s)
    result = s.result()
    assert any(d.tool_calls for d in deltas)  # the first reply's call, as it arrived
    assert "".join(d.content for d in deltas) == whole.content == result.content
    assert [r.output for r in s.tool_runs] == [r.output for r in whole.tool_runs]
    assert result.tool_runs == s.tool_runs and len(result.messages) == 3


def test_async_calls_of_one_reply_run_concurrently(case: LLMCase) -> None:
    # each tool waits for the other to have started: run one after the other, they never finish
    started = {"left": asyncio.Event(), "right": asyncio.Event()}

    async def left(x: int) -> str:
        started["left"].set()
        await asyncio.wait_for(started["right"].wait(), 10)
        return f"left {x}"

    def right(x: int) -> str:  # a sync tool in the async loop runs on a worker thread
        return f"right {x}"

    async def right_async(x: int) -> str:
        started["right"].set()
        await asyncio.wait_for(started["left"].wait(), 10)
        return right(x)

    right_async.__name__ = "right"
    calls = [{"name": "left", "arguments": {"x": 1}}, {"name": "right", "arguments": {"x": 2}}]

    async def run() -> Any:
        try:
            return await case.llm.achat("go", tools=[left, right_async], **_script(case, calls))
        finally:
            await case.llm.aclose()

    result = asyncio.run(run())
    assert [r.output for r in result.tool_runs] == ["left 1", "right 2"]  # the calls' order
    assert [m.role for m in result.messages] == ["assistant", "tool", "tool", "assistant"]


def test_async_stream_goes_through_the_loop(case: LLMCase) -> None:
    async def run() -> Any:
        stream = case.llm.astream("please call get_weather", tools=[get_weather], thinking=False)
        text = "".join([d.content async for d in stream])
        result = await stream.aresult()
        await case.llm.aclose()
        return text, result

    text, result = asyncio.run(run())
    assert text == result.content == f"Echo: {result.tool_runs[0].output}"


def test_a_tool_that_raises_is_reported_to_the_model(case: LLMCase) -> None:
    result = case.llm.chat("call explode", tools=[explode], thinking=False)
    (run,) = result.tool_runs
    assert isinstance(run.error, ValueError) and run.result is None
    assert run.output.startswith("error: ValueError: boom")
    assert result.content == f"Echo: {run.output}"


def test_tool_errors_raise_stops_the_loop_with_the_exchange(case: LLMCase) -> None:
    with pytest.raises(ToolExecutionError, match="explode") as info:
        case.llm.chat("call explode", tools=[explode], tool_errors="raise", thinking=False)
    error = info.value
    assert isinstance(error.__cause__, ValueError)
    assert error.run is error.tool_runs[0] and error.run.call.name == "explode"
    assert [m.role for m in error.messages] == ["assistant", "tool"]


@pytest.mark.parametrize(
    ("arguments", "said"),
    [("{not json", "not valid JSON"), ({"city": 5}, "do not match the tool's schema"),
     ({"town": "Paris"}, "do not match the tool's schema")],
)
def test_bad_arguments_go_back_to_the_model(case: LLMCase, arguments: Any, said: str) -> None:
    ran: list[str] = []

    def lookup(city: str) -> str:
        ran.append(city)
        return city

    script = _script(case, [{"name": "lookup", "arguments": arguments}])
    # tool_errors="raise" is about the tool's own exceptions: arguments still go to the model
    result = case.llm.chat("go", tools=[lookup], tool_errors="raise", **script)
    (run,) = result.tool_runs
    assert ran == [] and isinstance(run.error, InvalidRequest) and said in run.output
    assert result.content == f"Echo: {run.output}"


def test_an_unknown_tool_name_is_reported(case: LLMCase) -> None:
    script = _script(case, [{"name": "nope", "arguments": {}}])
    result = case.llm.chat("go", tools=[get_weather], **script)
    assert "no tool named 'nope'" in result.tool_runs[0].output
    assert "get_weather" in result.tool_runs[0].output


def test_max_turns_raises_with_every_run(case: LLMCase) -> None:
    with pytest.raises(MaxTurnsExceeded, match="max_turns=2") as info:
        case.llm.chat("x", tools=[get_weather], tool_choice="required", max_turns=2)
    assert len(info.value.tool_runs) == 1 and info.value.result.tool_calls


def test_approve_can_veto_a_call(case: LLMCase) -> None:
    ran: list[str] = []

    def delete_all(path: str) -> str:
        ran.append(path)
        return "deleted"

    asked: list[str] = []

    def approve(call: Any) -> bool:
        asked.append(call.name)
        return False

    result = case.llm.chat("call delete_all", tools=[delete_all], approve=approve)
    (run,) = result.tool_runs
    assert asked == ["delete_all"] and ran == [] and not run.approved
    assert "refused" in run.output and result.content == f"Echo: {run.output}"


def test_a_raw_tool_dict_ends_the_loop_for_the_caller(case: LLMCase) -> None:
    raw = {"type": "function", "function": {"name": "search", "parameters": {
        "type": "object", "properties": {"q": {"type": "string"}}, "required": ["q"]}}}
    result = case.llm.chat("call search", tools=[get_weather, raw])
    assert result.finish_reason == "tool_calls" and result.tool_calls[0].name == "search"
    assert result.tool_runs == []


def test_conversation_keeps_the_whole_exchange(case: LLMCase) -> None:
    conv = case.llm.conversation(thinking=False)
    conv.send("please call get_weather", tools=[get_weather])
    assert [m.role for m in conv.messages] == ["user", "assistant", "tool", "assistant"]
    second = conv.send("thanks")
    assert second.content == "Echo: thanks"


def test_loop_options_without_functions_are_refused(case: LLMCase) -> None:
    raw = {"type": "function", "function": {"name": "f", "parameters": {"type": "object"}}}
    with pytest.raises(InvalidRequest, match="max_turns"):
        case.llm.chat("x", tools=[raw], max_turns=3)
    with pytest.raises(InvalidRequest, match="max_turns must be"):
        case.llm.chat("x", tools=[get_weather], max_turns=0)
    with pytest.raises(InvalidRequest, match="tool_errors"):
        case.llm.chat("x", tools=[get_weather], tool_errors="ignore")  # type: ignore[typeddict-item]
    with pytest.raises(InvalidRequest, match="n must be 1"):
        case.llm.chat("x", tools=[get_weather], n=2)


# -- the hooks see the loop --------------------------------------------------------------------


class Recorder:
    def __init__(self, veto: set[str] | None = None) -> None:
        self.events: list[tuple[Any, ...]] = []
        self.veto = veto or set()

    @hookimpl
    def hookwire_llm_request(self, call: Any) -> None:
        self.events.append(("request", call.operation, call.turn))

    @hookimpl
    def hookwire_llm_first_token(self, call: Any, seconds: float) -> None:
        assert seconds >= 0
        self.events.append(("first_token", call.turn))

    @hookimpl
    def hookwire_llm_tool_call(self, call: Any, run: Any) -> None:
        self.events.append(("tool", call.turn, run.call.name, run.approved))

    @hookimpl
    def hookwire_llm_response(self, call: Any, result: Any) -> None:
        self.events.append(("response", call.turn, call.outcome))

    @hookimpl
    def hookwire_llm_error(self, call: Any, error: BaseException) -> None:
        self.events.append(("error", call.turn, type(error).__name__))

    @hookimpl
    def hookwire_approve_tool_call(self, call: Any, tool_call: Any, tool: Any) -> bool | None:
        return False if tool_call.name in self.veto else None


@pytest.fixture
def observed(mock_server_factory: Any) -> Iterator[tuple[LLM, Recorder]]:
    server = mock_server_factory(dialect="openai")
    host = PluginHost()
    recorder = Recorder(veto={"delete_all"})
    host.register(recorder, "recorder")
    llm = LLM("openai-compatible", base_url=server.openai_base_url, api_key=KEY,
              model="mock-model", plugins=host)
    yield llm, recorder
    llm.close()


def test_hooks_see_each_reply_and_each_tool_run(observed: tuple[LLM, Recorder]) -> None:
    llm, recorder = observed
    llm.chat("please call get_weather", tools=[get_weather])
    assert recorder.events == [
        ("request", "chat", 1), ("response", 1, "ok"), ("tool", 1, "get_weather", True),
        ("request", "chat", 2), ("response", 2, "ok"),
    ]
    recorder.events.clear()
    llm.stream("please call get_weather", tools=[get_weather]).result()
    assert recorder.events == [
        ("request", "stream", 1), ("first_token", 1), ("response", 1, "ok"),
        ("tool", 1, "get_weather", True),
        ("request", "stream", 2), ("first_token", 2), ("response", 2, "ok"),
    ]


def test_a_plugin_can_veto_a_tool_call(observed: tuple[LLM, Recorder]) -> None:
    llm, recorder = observed
    ran: list[str] = []

    def delete_all(path: str) -> str:
        ran.append(path)
        return "gone"

    result = llm.chat("call delete_all", tools=[delete_all])
    assert ran == [] and not result.tool_runs[0].approved
    assert ("tool", 1, "delete_all", False) in recorder.events
