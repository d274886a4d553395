"""The OpenAI-compatible providers against the live mock server: what reaches the wire, keys,
errors, retries and hooks. Assertions read the JSON the server journaled, not our own state."""

from __future__ import annotations

import logging
import uuid
from typing import Any

import pytest

from hookwire import FakeClock, RetryPolicy
from hookwire.errors import (
    APIAuthenticationError,
    InvalidRequest,
    MissingAPIKeyError,
    NotFoundError,
    RateLimitError,
    RetryError,
)
from hookwire.hookspecs import hookimpl
from hookwire.llm import LLM, list_providers
from hookwire.registry import PluginHost

FAKE_KEY = "sk-hookwire-FAKE-7f3a9c1e5b"
KEY_VARS = ("OPENAI_API_KEY", "SILICONFLOW_API_KEY", "DEEPSEEK_API_KEY", "DASHSCOPE_API_KEY")


@pytest.fixture(autouse=True)
def isolated_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> None:
    monkeypatch.setenv("HOOKWIRE_CONFIG", str(tmp_path / "config.toml"))
    for var in (*KEY_VARS, "HOOKWIRE_PROVIDER", "HOOKWIRE_MODEL", "SILICONFLOW_BASE_URL"):
        monkeypatch.delenv(var, raising=False)


@pytest.fixture
def make_llm() -> Any:
    """``LLM(...)`` that is closed at teardown (an unclosed pool would leak its sockets)."""
    made: list[LLM] = []

    def make(*args: Any, **kwargs: Any) -> LLM:
        llm = LLM(*args, **kwargs)
        made.append(llm)
        return llm

    yield make
    for llm in made:
        llm.close()


def session() -> tuple[str, dict[str, str]]:
    sid = uuid.uuid4().hex
    return sid, {"X-Mock-Session": sid}


def wire_bodies(server: Any, sid: str) -> list[dict[str, Any]]:
    return [
        e.body
        for e in server.journal.entries()
        if e.headers.get("x-mock-session") == sid and e.path == "/v1/chat/completions"
    ]


def test_builtin_presets_are_registered() -> None:
    names = set(list_providers())
    assert {"openai", "siliconflow", "deepseek", "dashscope", "openai-compatible", "mock"} <= names


def test_every_chat_argument_reaches_the_wire(mock_server: Any, make_llm: Any) -> None:
    llm = make_llm("openai-compatible", base_url=mock_server.openai_base_url, model="mock-model")
    sid, headers = session()
    tools = [
        {
            "type": "function",
            "function": {
                "name": "lookup",
                "parameters": {
                    "type": "object",
                    "properties": {"q": {"type": "string"}},
                    "required": ["q"],
                },
            },
        }
    ]
    llm.chat(
        "question",
        system="You are terse.",
        history=[{"role": "user", "content": "earlier"}, {"role": "assistant", "content": "reply"}],
        temperature=0.3,
        top_p=0.8,
        max_tokens=50,
        stop=["END"],
        seed=11,
        tools=tools,
        tool_choice="none",
        response_format={"type": "text"},
        extra_body={"user": "u-1"},
        extra_headers=headers,
    )
    (body,) = wire_bodies(mock_server, sid)
    assert body["messages"][0] == {"role": "system", "content": "You are terse."}
    assert [m["role"] for m in body["messages"]] == ["system", "user", "assistant", "user"]
    assert body["messages"][-1]["content"] == "question"
    expected = {
        "model": "mock-model",
        "temperature": 0.3,
        "top_p": 0.8,
        "max_tokens": 50,
        "stop": ["END"],
        "seed": 11,
        "tools": tools,
        "tool_choice": "none",
        "response_format": {"type": "text"},
        "user": "u-1",
    }
    assert {k: body[k] for k in expected} == expected


def test_reply_fields_and_limits_come_back(mock_server: Any, make_llm: Any) -> None:
    llm = make_llm("openai-compatible", base_url=mock_server.openai_base_url, model="mock-model")
    result = llm.chat("one two three four five six", max_tokens=3)
    assert result.finish_reason == "length" and result.usage is not None
    assert result.usage.completion_tokens == 3 and result.content == "Echo: one two"
    stopped = llm.chat("alpha STOP beta", stop="STOP")
    assert stopped.content == "Echo: alpha " and stopped.finish_reason == "stop"
    assert stopped.raw["object"] == "chat.completion" and stopped.model == "mock-model"


def test_siliconflow_thinking_is_top_level(mock_server_factory: Any, make_llm: Any) -> None:
    server = mock_server_factory(dialect="siliconflow")
    llm = make_llm(
        "siliconflow", base_url=server.openai_base_url, api_key=FAKE_KEY, model="Qwen/Qwen3-8B"
    )
    sid, headers = session()
    on = llm.chat("hi", thinking=True, thinking_budget=2, extra_headers=headers)
    off = llm.chat("hi", thinking=False, extra_headers=headers)
    first, second = wire_bodies(server, sid)
    assert first["enable_thinking"] is True and first["thinking_budget"] == 2
    assert second["enable_thinking"] is False and "thinking_budget" not in second
    assert on.reasoning == "Thinking about:" and off.reasoning is None  # budget cut it to 2
    assert on.content == off.content == "Echo: hi"


def test_presets_without_a_thinking_switch_refuse_it_instead_of_dropping_it(make_llm: Any) -> None:
    llm = make_llm("openai", api_key=FAKE_KEY, model="gpt-x")
    with pytest.raises(InvalidRequest, match="no thinking switch"):
        llm.chat("hi", thinking=False)


def test_mock_provider_thinking_uses_the_thinking_model(make_llm: Any) -> None:
    llm = make_llm("mock")
    result = llm.chat("why", thinking=True)
    assert result.model == "mock-thinking" and result.reasoning == "Thinking about: why"
    plain = llm.chat("why")
    assert plain.model == "mock-model" and plain.reasoning is None
    vllm = make_llm("mock", dialect="vllm").chat("why", thinking=True)
    assert vllm.reasoning == "Thinking about: why"


def test_models_lists_the_served_ids(mock_server_factory: Any, make_llm: Any) -> None:
    server = mock_server_factory(dialect="vllm")
    llm = make_llm("openai-compatible", base_url=server.openai_base_url)
    assert "Qwen/Qwen3-4B" in llm.models()


# -- keys ------------------------------------------------------------------------------------


def test_missing_key_names_the_variable(make_llm: Any) -> None:
    with pytest.raises(MissingAPIKeyError, match="set SILICONFLOW_API_KEY or pass api_key=") as e:
        make_llm("siliconflow", model="Qwen/Qwen3-8B")
    assert e.value.env_var == "SILICONFLOW_API_KEY" and e.value.provider == "siliconflow"


def test_key_from_environment_is_sent_as_bearer(
    mock_server_factory: Any,
    monkeypatch: pytest.MonkeyPatch,
    make_llm: Any,
) -> None:
    server = mock_server_factory(dialect="siliconflow", api_key=FAKE_KEY)
    monkeypatch.setenv("SILICONFLOW_API_KEY", FAKE_KEY)
    llm = make_llm("siliconflow", base_url=server.openai_base_url, model="Qwen/Qwen3-8B")
    assert llm.chat("hi").content == "Echo: hi"  # the server checks the bearer token


def test_key_never_appears_in_reprs_errors_or_logs(
    mock_server_factory: Any,
    caplog: pytest.LogCaptureFixture,
    make_llm: Any,
) -> None:
    server = mock_server_factory(dialect="openai", api_key="the-right-key")
    caplog.set_level(logging.DEBUG)
    llm = make_llm("openai", base_url=server.openai_base_url, api_key=FAKE_KEY, model="mock-model")
    with pytest.raises(APIAuthenticationError) as info:
        llm.chat("hi")
    err = info.value
    texts = [
        repr(llm),
        repr(llm.provider),
        str(err),
        repr(err),
        repr(err.body),
        repr(llm.provider.client),
        caplog.text,
    ]
    assert all(FAKE_KEY not in t for t in texts)
    assert "[REDACTED]" in repr(llm.provider)
    assert err.status_code == 401 and err.code == "invalid_api_key"


# -- errors, retries, hooks ------------------------------------------------------------------


def test_unknown_model_is_not_found(mock_server: Any, make_llm: Any) -> None:
    llm = make_llm("openai-compatible", base_url=mock_server.openai_base_url, model="no-such-model")
    with pytest.raises(NotFoundError) as info:
        llm.chat("hi")
    assert info.value.code == "model_not_found" and "no-such-model" in str(info.value)


def test_vllm_dialect_error_code_is_the_status(mock_server_factory: Any, make_llm: Any) -> None:
    server = mock_server_factory(dialect="vllm")
    llm = make_llm("openai-compatible", base_url=server.openai_base_url, model="mock-model")
    with pytest.raises(InvalidRequest):
        llm.chat("hi", temperature=9)  # caught before sending
    from hookwire.errors import BadRequestError

    with pytest.raises(BadRequestError) as info:
        llm.chat("hi", extra_body={"temperature": 9})
    assert info.value.code == 400 and info.value.param == "temperature"


class Observer:
    def __init__(self) -> None:
        self.prepared: list[str] = []
        self.retries: list[tuple[int, str]] = []

    @hookimpl
    def hookwire_request_prepared(self, request: Any) -> None:
        self.prepared.append(f"{request.method} {request.url}")

    @hookimpl
    def hookwire_retry_scheduled(
        self, request: Any, attempt: int, delay: float, reason: str
    ) -> None:
        self.retries.append((attempt, reason))


def test_hooks_see_llm_requests_and_the_client_retries_a_429(
    mock_server: Any,
    make_llm: Any,
) -> None:
    observer = Observer()
    host = PluginHost(plugins=[("observer", observer)])
    llm = make_llm(
        "openai-compatible",
        base_url=mock_server.openai_base_url,
        model="mock-model",
        plugins=host,
        retry=RetryPolicy.from_openai(),
    )
    sid, headers = session()
    headers["X-Mock-Fault"] = "calls=1;status=429;retry-after=0"
    result = llm.chat("after a rate limit", extra_headers=headers)
    assert result.content == "Echo: after a rate limit"
    url = mock_server.openai_base_url + "/chat/completions"
    assert observer.prepared == [f"POST {url}", f"POST {url}"]
    assert [a for a, _ in observer.retries] == [2] and "429" in observer.retries[0][1]
    assert len(wire_bodies(mock_server, sid)) == 2


def test_exhausted_rate_limit_is_a_rate_limit_error(mock_server: Any, make_llm: Any) -> None:
    clock = FakeClock()
    llm = make_llm(
        "openai-compatible",
        base_url=mock_server.openai_base_url,
        model="mock-model",
        retry=RetryPolicy.from_openai(),
        clock=clock,
    )
    sid, headers = session()
    headers["X-Mock-Fault"] = "status=429;retry-after=2"
    with pytest.raises(RateLimitError) as info:
        llm.chat("hi", extra_headers=headers)
    assert info.value.retry_after == 2.0 and info.value.attempts == 3
    assert isinstance(info.value.__cause__, RetryError)
    assert clock.sleeps == [2.0, 2.0] and len(wire_bodies(mock_server, sid)) == 3


def test_no_retry_means_one_attempt(mock_server: Any, make_llm: Any) -> None:
    llm = make_llm(
        "openai-compatible", base_url=mock_server.openai_base_url, model="mock-model", retry=0
    )
    sid, headers = session()
    headers["X-Mock-Fault"] = "calls=1;status=503"
    from hookwire.errors import InternalServerError

    with pytest.raises(InternalServerError):
        llm.chat("hi", extra_headers=headers)
    assert len(wire_bodies(mock_server, sid)) == 1


async def test_async_chat_and_models(mock_server: Any) -> None:
    async with LLM(
        "openai-compatible", base_url=mock_server.openai_base_url, model="mock-model"
    ) as llm:
        result = await llm.achat("async hi", system="s")
        assert result.content == "Echo: async hi"
        assert "mock-thinking" in await llm.amodels()


def test_threads_share_one_llm(mock_server: Any, make_llm: Any) -> None:
    from concurrent.futures import ThreadPoolExecutor

    llm = make_llm("openai-compatible", base_url=mock_server.openai_base_url, model="mock-model")
    with ThreadPoolExecutor(8) as pool:
        replies = list(pool.map(lambda i: llm.chat(f"n{i}").content, range(32)))
    assert replies == [f"Echo: n{i}" for i in range(32)]
    assert llm.provider.client is llm.provider.client  # one pool for every thread
