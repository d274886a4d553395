"""The vllm provider against a live mock server in the vllm dialect: every option on the wire.

Assertions read the JSON the server journaled (what really crossed the socket) and the result the
SDK parsed from the server's reply; the mock server shares no protocol code with the SDK.
"""

from __future__ import annotations

import json
import pickle

import pytest

import hookwire
import hookwire.llm
from hookwire.errors import APIAuthenticationError, InvalidRequest, NotFoundError
from hookwire.plugins.providers.vllm import ReplicasUnavailable, VLLMProvider

CHAT = "/v1/chat/completions"


@pytest.fixture
def vllm_server(mock_server_factory):
    """A vllm-dialect server of this module's own (journal and scenario cleared)."""
    server = mock_server_factory(dialect="vllm", models=("vllm-tests",))
    server.reset()
    server.app.scenario.clear()
    yield server
    server.app.scenario.clear()


@pytest.fixture
def make():
    """``make(...)`` is ``hookwire.LLM(...)``, closed after the test (no socket left to the GC)."""
    made = []

    def factory(*args, **kwargs):
        llm = hookwire.LLM(*args, **kwargs)
        made.append(llm)
        return llm

    yield factory
    for llm in made:
        llm.close()


def bodies(server):
    return [e.body for e in server.journal.entries(CHAT)]


def test_is_registered_with_vllm_defaults(make, monkeypatch):
    monkeypatch.delenv("VLLM_API_KEY", raising=False)
    assert "vllm" in hookwire.llm.list_providers()
    llm = make("vllm")
    assert isinstance(llm.provider, VLLMProvider)
    assert llm.provider.base_url == "http://127.0.0.1:8000/v1"
    assert llm.model == "auto"
    assert not llm.provider.has_key  # the key is optional


@pytest.mark.parametrize("thinking", [True, False])
def test_thinking_goes_in_chat_template_kwargs(make, vllm_server, thinking):
    llm = make("vllm", base_url=vllm_server.openai_base_url, model="Qwen/Qwen3-4B")
    result = llm.chat("你好哇", thinking=thinking, max_tokens=512, temperature=0.7)
    body = bodies(vllm_server)[-1]
    assert body["chat_template_kwargs"] == {"enable_thinking": thinking}
    assert "enable_thinking" not in body  # vLLM reads only the template kwargs
    assert (body["max_tokens"], body["temperature"]) == (512, 0.7)
    assert result.content == "Echo: 你好哇"
    assert result.reasoning == ("Thinking about: 你好哇" if thinking else None)


def test_template_kwargs_merge_provider_thinking_and_extra_body(make, vllm_server):
    llm = make(
        "vllm", base_url=vllm_server.openai_base_url, model="Qwen/Qwen3-4B",
        chat_template_kwargs={"custom_flag": 1},
    )  # fmt: skip
    llm.chat("hi", thinking=False, extra_body={"chat_template_kwargs": {"tools_style": "x"}})
    assert bodies(vllm_server)[-1]["chat_template_kwargs"] == {
        "custom_flag": 1, "enable_thinking": False, "tools_style": "x",
    }  # fmt: skip


def test_sampling_extras_and_structured_outputs_reach_the_wire(make, vllm_server):
    llm = make(
        "vllm", base_url=vllm_server.openai_base_url, model="mock-model",
        top_k=20, min_p=0.05, repetition_penalty=1.05,
    )  # fmt: skip
    llm.chat("one")
    first = bodies(vllm_server)[-1]
    assert (first["top_k"], first["min_p"], first["repetition_penalty"]) == (20, 0.05, 1.05)
    so = {"choice": ["yes", "no"]}
    llm.chat("two", extra_body={"top_k": -1, "structured_outputs": so})
    second = bodies(vllm_server)[-1]
    assert second["top_k"] == -1  # the per-call value wins over the provider default
    assert second["structured_outputs"] == so
    assert second["min_p"] == 0.05


def test_response_format_json_schema_is_sent_and_honoured(make, vllm_server):
    schema = {
        "type": "object",
        "properties": {"city": {"type": "string"}, "days": {"type": "integer"}},
        "required": ["city", "days"],
    }
    fmt = {"type": "json_schema", "json_schema": {"name": "trip", "schema": schema}}
    llm = make("vllm", base_url=vllm_server.openai_base_url, model="mock-model")
    result = llm.chat("plan a trip", response_format=fmt)
    assert bodies(vllm_server)[-1]["response_format"] == fmt
    data = json.loads(result.content)
    assert isinstance(data["city"], str) and isinstance(data["days"], int)


@pytest.mark.parametrize(
    ("options", "word"),
    [
        ({"top_k": 2.5}, "top_k"),
        ({"top_k": -2}, "top_k"),
        ({"min_p": 1.5}, "min_p"),
        ({"repetition_penalty": 0}, "repetition_penalty"),
        ({"structured_outputs": "json"}, "structured_outputs"),
    ],
)
def test_bad_extras_are_refused_before_sending(make, vllm_server, options, word):
    llm = make("vllm", base_url=vllm_server.openai_base_url, model="mock-model")
    with pytest.raises(InvalidRequest, match=word):
        llm.chat("x", extra_body=options)
    with pytest.raises(InvalidRequest, match=word):
        make("vllm", base_url=vllm_server.openai_base_url, **options)
    assert bodies(vllm_server) == []


def test_thinking_budget_is_refused_not_dropped(make, vllm_server):
    llm = make("vllm", base_url=vllm_server.openai_base_url, model="Qwen/Qwen3-4B")
    with pytest.raises(InvalidRequest, match="thinking budget"):
        llm.chat("x", thinking_budget=100)


def test_reads_the_old_reasoning_content_name_too(make, mock_server_factory):
    # The openai dialect sends reasoning_content, as vLLM releases before the rename did.
    server = mock_server_factory(dialect="openai", models=("vllm-old-name",))
    llm = make("vllm", base_url=server.openai_base_url, model="mock-thinking")
    assert llm.chat("why").reasoning == "Thinking about: why"
    assert llm.stream("why").result().reasoning == "Thinking about: why"


def test_stream_keeps_reasoning_and_content_apart(make, vllm_server):
    llm = make("vllm", base_url=vllm_server.openai_base_url, model="Qwen/Qwen3-4B")
    deltas = list(llm.stream("tell me"))
    reasoning = "".join(d.reasoning for d in deltas)
    content = "".join(d.content for d in deltas)
    assert (reasoning, content) == ("Thinking about: tell me", "Echo: tell me")
    assert not any(d.reasoning and d.content for d in deltas)
    assert deltas[-1].usage is not None and deltas[-1].usage.reasoning_tokens > 0


def test_model_auto_takes_the_served_model_once(make, vllm_server):
    llm = make("vllm", base_url=vllm_server.openai_base_url)  # model defaults to "auto"
    with hookwire.Client() as client:
        listed = client.get(vllm_server.openai_base_url + "/models").json()["data"][0]["id"]
    vllm_server.reset()
    first = llm.chat("a")
    llm.chat("b")
    assert [b["model"] for b in bodies(vllm_server)] == [listed, listed]
    assert first.model == listed == llm.provider.served_model
    assert vllm_server.journal.count("/v1/models") == 1  # looked up once, then remembered


async def test_model_auto_async_chat_and_stream(make, vllm_server):
    llm = make("vllm", base_url=vllm_server.openai_base_url, model="auto")
    stream = llm.astream("async hi")
    result = await stream.aresult()
    assert result.content == "Echo: async hi"
    again = await llm.achat("second")
    served = llm.provider.served_model
    assert served is not None and again.model == served
    assert [b["model"] for b in bodies(vllm_server)] == [served, served]
    assert vllm_server.journal.count("/v1/models") == 1
    await llm.aclose()


def test_explicit_unknown_model_is_a_typed_404(make, vllm_server):
    llm = make("vllm", base_url=vllm_server.openai_base_url, model="no-such-model")
    with pytest.raises(NotFoundError):
        llm.chat("x")


def test_health_reports_200_503_and_unreachable(make, vllm_server):
    provider = make("vllm", base_url=vllm_server.openai_base_url).provider
    assert provider.health() == {vllm_server.openai_base_url: True}
    assert vllm_server.journal.entries("/health")[-1].status == 200
    vllm_server.app.scenario.add({"path": "/health", "status": 503})
    assert provider.health() == {vllm_server.openai_base_url: False}
    dead = make("vllm", base_url="http://127.0.0.1:9/v1", retry=0).provider
    assert dead.health() == {"http://127.0.0.1:9/v1": False}


async def test_async_health(make, vllm_server):
    provider = make("vllm", base_url=vllm_server.openai_base_url).provider
    assert await provider.ahealth() == {vllm_server.openai_base_url: True}
    await provider.aclose()


def test_api_key_from_vllm_api_key(make, mock_server_factory, monkeypatch):
    server = mock_server_factory(dialect="vllm", api_key="vllm-secret-key", models=("vk",))
    monkeypatch.delenv("VLLM_API_KEY", raising=False)
    with pytest.raises(APIAuthenticationError):
        make("vllm", base_url=server.openai_base_url, model="mock-model").chat("x")
    monkeypatch.setenv("VLLM_API_KEY", "vllm-secret-key")
    llm = make("vllm", base_url=server.openai_base_url, model="mock-model")
    assert llm.chat("x").content == "Echo: x"
    assert "vllm-secret-key" not in repr(llm.provider)


def test_replicas_unavailable_pickles_with_its_list():
    error = ReplicasUnavailable("none", replicas=[("http://a/v1", "HTTP 503")])
    copy = pickle.loads(pickle.dumps(error))
    assert copy.replicas == [("http://a/v1", "HTTP 503")] and str(copy) == "none"
