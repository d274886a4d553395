"""The router: ordered fallback, load balancing, cooldowns, rate limits, against live mocks.

Two mock servers of different dialects stand in for two providers. Faults are scenario rules on
one server only, keyed by an ``X-Mock-Session`` header each test sends to both (a rule matches
only where it is installed), so a deployment "fails N times" exactly. Each deployment retries
nothing itself (``retry=RetryPolicy(attempts=1)``), so every failure reaches the router.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from hookwire.errors import (
    BadRequestError,
    InternalServerError,
    InvalidRequest,
    NoDeploymentAvailable,
    RateLimitError,
    StreamInterrupted,
)
from hookwire.hookspecs import hookimpl
from hookwire.llm import LLM
from hookwire.registry import PluginHost
from hookwire.retry import RetryPolicy

CHAT = "/v1/chat/completions"
KEY = "sk-router-fake"  # pragma: allowlist secret
ONCE = RetryPolicy(attempts=1)


class Servers:
    def __init__(self, a: Any, b: Any) -> None:
        self.a, self.b = a, b
        self.session = uuid.uuid4().hex
        self.headers = {"X-Mock-Session": self.session}

    def fail(self, server: Any, calls: str = "1-99", path: str = CHAT, **fault: Any) -> None:
        rule = {"path": path, "session": self.session, "calls": calls, **fault}
        httpx.post(server.url + "/__mock__/scenario", json=rule).raise_for_status()

    def count(self, server: Any, path: str = CHAT) -> int:
        return sum(
            1 for e in server.journal.entries()
            if e.path == path and e.headers.get("x-mock-session") == self.session
        )

    def deployments(self, **extra: Any) -> list[dict[str, Any]]:
        return [
            {"provider": "openai-compatible", "base_url": self.a.openai_base_url,
             "model": "mock-model", "api_key": KEY, "name": "a", "retry": ONCE, **extra},
            {"provider": "vllm", "base_url": self.b.openai_base_url, "model": "Qwen/Qwen3-4B",
             "name": "b", "retry": ONCE, **extra},
        ]


@pytest.fixture
def servers(mock_server_factory: Any) -> Servers:
    return Servers(mock_server_factory(dialect="openai"), mock_server_factory(dialect="vllm"))


@pytest.fixture
def router(servers: Servers) -> Iterator[LLM]:
    llm = LLM(servers.deployments())
    yield llm
    llm.close()


def test_ordered_router_uses_the_first_and_falls_back_on_5xx(servers: Servers,
                                                             router: LLM) -> None:
    first = router.chat("hello", extra_headers=servers.headers)
    assert first.provider == "openai-compatible" and first.content == "Echo: hello"
    servers.fail(servers.a, status=503)
    second = router.chat("hello", extra_headers=servers.headers)
    assert second.provider == "vllm" and second.content == "Echo: hello"
    assert servers.count(servers.a) == 2 and servers.count(servers.b) == 1
    stats = {s["name"]: s for s in router.provider.stats()}  # type: ignore[attr-defined]
    assert stats["a"]["failures"] == 1 and stats["b"]["calls"] == 1


def test_a_bad_request_does_not_fall_back(servers: Servers, router: LLM) -> None:
    servers.fail(servers.a, status=400)
    with pytest.raises(BadRequestError):
        router.chat("hello", extra_headers=servers.headers)
    assert servers.count(servers.b) == 0


def test_every_deployment_failing_raises_the_last_error_with_each(servers: Servers,
                                                                  router: LLM) -> None:
    servers.fail(servers.a, status=503)
    servers.fail(servers.b, status=500)
    with pytest.raises(InternalServerError) as info:
        router.chat("hello", extra_headers=servers.headers)
    routed = info.value.routed  # type: ignore[attr-defined]
    assert [name for name, _ in routed] == ["a", "b"]
    assert all(isinstance(e, InternalServerError) for _, e in routed)


def test_stream_falls_back_before_its_first_token_only(servers: Servers, router: LLM) -> None:
    servers.fail(servers.a, calls="1", status=503)
    stream = router.stream("hi there", extra_headers=servers.headers)
    assert "".join(d.content for d in stream) == "Echo: hi there"
    assert stream.result().provider == "vllm"
    # now a breaks after two chunks: the stream began, so no fallback: the partial is kept
    servers.fail(servers.a, calls="2", **{"close-after": 3})
    with pytest.raises(StreamInterrupted) as info:
        router.stream("one two three four five", extra_headers=servers.headers).result()
    assert info.value.partial.content and servers.count(servers.b) == 1


def test_async_and_embeddings_fall_back_too(servers: Servers, router: LLM) -> None:
    servers.fail(servers.a, status=503)
    servers.fail(servers.a, status=503, path="/v1/embeddings")

    async def run() -> tuple[Any, Any, Any]:
        try:
            chat = await router.achat("async", extra_headers=servers.headers)
            text = "".join([d.content async for d in router.astream(
                "async stream", extra_headers=servers.headers)])
            return chat, text, await router.aembed(["x", "y"])
        finally:
            await router.aclose()

    chat, text, vectors = asyncio.run(run())
    assert chat.provider == "vllm" and text == "Echo: async stream" and len(vectors) == 2


def test_a_failing_deployment_cools_down_and_comes_back(servers: Servers) -> None:
    clock = [0.0]
    llm = LLM(servers.deployments(), allowed_fails=2, cooldown=30)
    llm.provider._clock = lambda: clock[0]  # type: ignore[attr-defined]
    servers.fail(servers.a, calls="1-2", status=503)
    for _ in range(2):
        assert llm.chat("x", extra_headers=servers.headers).provider == "vllm"
    assert servers.count(servers.a) == 2
    llm.chat("x", extra_headers=servers.headers)  # a is cooling: straight to b
    assert servers.count(servers.a) == 2 and servers.count(servers.b) == 3
    clock[0] += 31
    assert llm.chat("x", extra_headers=servers.headers).provider == "openai-compatible"
    llm.close()


def test_a_429_with_retry_after_cools_that_long(servers: Servers) -> None:
    clock = [0.0]
    llm = LLM(servers.deployments())
    llm.provider._clock = lambda: clock[0]  # type: ignore[attr-defined]
    servers.fail(servers.a, calls="1", status=429, **{"retry-after": "120"})
    servers.fail(servers.b, calls="1", status=429, **{"retry-after": "60"})
    with pytest.raises(RateLimitError):
        llm.chat("x", extra_headers=servers.headers)
    with pytest.raises(NoDeploymentAvailable) as info:  # both cooling: nothing is sent
        llm.chat("x", extra_headers=servers.headers)
    assert info.value.retry_after == pytest.approx(60)
    clock[0] += 61
    assert llm.chat("x", extra_headers=servers.headers).provider == "vllm"
    llm.close()


def test_round_robin_alternates(servers: Servers) -> None:
    llm = LLM(servers.deployments(), strategy="round_robin")
    used = [llm.chat("x", extra_headers=servers.headers).provider for _ in range(4)]
    assert used == ["openai-compatible", "vllm", "openai-compatible", "vllm"]
    llm.close()


def test_least_busy_spreads_concurrent_calls(mock_server_factory: Any) -> None:
    slow_a = mock_server_factory(dialect="openai", ttft=0.3)
    slow_b = mock_server_factory(dialect="vllm", ttft=0.3)
    llm = LLM(Servers(slow_a, slow_b).deployments(), strategy="least_busy")

    async def run() -> list[str]:
        try:
            results = await asyncio.gather(*(llm.achat("x") for _ in range(4)))
            return sorted(r.provider for r in results)
        finally:
            await llm.aclose()

    assert asyncio.run(run()) == ["openai-compatible"] * 2 + ["vllm"] * 2


def test_lowest_latency_prefers_the_faster(mock_server_factory: Any) -> None:
    slow = mock_server_factory(dialect="openai", ttft=0.3)
    fast = mock_server_factory(dialect="vllm")
    llm = LLM(Servers(slow, fast).deployments(), strategy="lowest_latency")
    first = [llm.chat("x").provider for _ in range(2)]  # unmeasured ones are tried first
    assert sorted(first) == ["openai-compatible", "vllm"]
    assert [llm.chat("x").provider for _ in range(3)] == ["vllm"] * 3
    llm.close()


def test_fallbacks_spelling_and_refusals(servers: Servers) -> None:
    llm = LLM("openai-compatible", base_url=servers.a.openai_base_url, model="mock-model",
              api_key=KEY, retry=ONCE, fallbacks=[servers.deployments()[1]])
    servers.fail(servers.a, status=503)
    assert llm.chat("x", extra_headers=servers.headers).provider == "vllm"
    llm.close()
    with pytest.raises(InvalidRequest, match="inside the list"):
        LLM(servers.deployments(), model="m")
    with pytest.raises(InvalidRequest, match="apply to a router"):
        LLM("mock", strategy="round_robin")
    with pytest.raises(InvalidRequest, match="strategy must be"):
        LLM(servers.deployments(), strategy="random")
    with pytest.raises(InvalidRequest, match="needs 'provider'"):
        LLM([{"model": "x"}])


def test_model_picks_deployments_by_name_or_model(servers: Servers, router: LLM) -> None:
    assert router.chat("x", model="b").provider == "vllm"
    assert router.chat("x", model="Qwen/Qwen3-4B").provider == "vllm"
    with pytest.raises(InvalidRequest, match="no deployment serves"):
        router.chat("x", model="gpt-9")


def test_tools_and_structured_output_run_through_a_router(servers: Servers,
                                                          router: LLM) -> None:
    def get_weather(city: str) -> str:
        return f"sunny in {city}"

    servers.fail(servers.a, status=503)
    result = router.chat("call get_weather", tools=[get_weather], extra_headers=servers.headers)
    assert result.tool_runs[0].output.startswith("sunny") and result.provider == "vllm"
    parsed = router.chat("x", response_format={"type": "object", "properties": {
        "n": {"type": "integer"}}, "required": ["n"]}).parsed
    assert isinstance(parsed["n"], int)


def test_every_decision_reaches_the_route_hook(servers: Servers) -> None:
    events: list[tuple[str | None, str]] = []

    class Watch:
        @hookimpl
        def hookwire_llm_route(self, router: Any, deployment: str | None, event: str,
                               error: BaseException | None) -> None:
            events.append((deployment, event))

    host = PluginHost(plugins=[("watch", Watch())])
    llm = LLM(servers.deployments(), plugins=host, allowed_fails=1)
    servers.fail(servers.a, status=503)
    llm.chat("x", extra_headers=servers.headers)
    assert events == [("a", "attempt"), ("a", "fallback"), ("a", "cooldown"),
                      ("b", "attempt"), ("b", "success")]
    llm.close()


def test_per_deployment_rate_limits(servers: Servers) -> None:
    llm = LLM(servers.deployments(rpm=600))
    limiters = [d.provider.limiter for d in llm.provider.deployments]  # type: ignore[attr-defined]
    assert [lim.rpm for lim in limiters] == [600, 600] and limiters[0] is not limiters[1]
    for _ in range(3):
        llm.chat("x")
    llm.close()


def test_router_is_the_spelling_litellm_users_know(servers: Servers) -> None:
    import hookwire

    router = hookwire.Router(servers.deployments(), strategy="round_robin")
    assert isinstance(router, LLM)
    used = [router.chat("x").provider for _ in range(2)]
    assert used == ["openai-compatible", "vllm"]
    assert [s["calls"] for s in router.stats()] == [1, 1]
    router.close()
    with pytest.raises(InvalidRequest, match="list of deployments"):
        hookwire.Router("openai")  # type: ignore[arg-type]
