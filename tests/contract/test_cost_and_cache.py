"""Cost from a user's price table, and the opt-in response cache, against the live mock."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from hookwire.config import load_config
from hookwire.errors import ConfigError, InvalidRequest
from hookwire.llm import LLM
from hookwire.llm.cache import MemoryCache, SQLiteCache
from hookwire.llm.cost import Cost, Price, PriceTable
from hookwire.llm.types import Usage

KEY = "sk-cost-fake"  # pragma: allowlist secret
PRICES = {"openai-compatible": {"mock-model": {"input": 2.0, "output": 8.0, "currency": "USD",
                                               "cached_input": 0.5}}}


def _llm(server: Any, **options: Any) -> LLM:
    return LLM("openai-compatible", base_url=server.openai_base_url, model="mock-model",
               api_key=KEY, **options)


# -- cost -----------------------------------------------------------------------------------


def test_price_arithmetic_covers_cached_and_reasoning_tokens() -> None:
    price = Price(input=2.0, output=8.0, currency="USD", cached_input=0.5, reasoning=16.0)
    cost = price.cost(Usage(1000, 500, 1500, reasoning_tokens=100, cached_tokens=400))
    assert cost.input == pytest.approx(600 * 2 / 1e6)
    assert cost.cached_input == pytest.approx(400 * 0.5 / 1e6)
    assert cost.output == pytest.approx(400 * 8 / 1e6)
    assert cost.reasoning == pytest.approx(100 * 16 / 1e6)
    assert cost.amount == pytest.approx(cost.input + cost.cached_input + cost.output
                                        + cost.reasoning)
    with pytest.raises(ValueError, match="CNY"):
        cost + Cost(1.0, "CNY")


def test_each_call_conversation_and_llm_add_up(mock_server: Any) -> None:
    llm = _llm(mock_server, prices=PRICES)
    result = llm.chat("hello there")
    usage = result.usage
    assert usage is not None and result.cost is not None and result.cost.currency == "USD"
    assert result.cost.amount == pytest.approx(
        (usage.prompt_tokens * 2 + usage.completion_tokens * 8) / 1e6)
    conv = llm.conversation()
    one = conv.send("one")
    two = conv.stream("two").result()
    assert one.cost is not None and two.cost is not None  # streams are priced too
    assert conv.cost is not None and conv.cost.amount == pytest.approx(
        one.cost.amount + two.cost.amount)
    total = result.cost + conv.cost
    assert llm.cost is not None and llm.cost.amount == pytest.approx(total.amount)
    llm.close()


def test_an_unpriced_model_has_no_cost_and_nothing_is_bundled(mock_server: Any) -> None:
    llm = _llm(mock_server, prices={})
    assert llm.chat("x").cost is None and llm.cost is None
    other = _llm(mock_server, prices={"openai-compatible": {"*": {"input": 1, "output": 1,
                                                                  "currency": "EUR"}}})
    assert other.chat("x").cost.currency == "EUR"  # the provider's wildcard
    llm.close()
    other.close()


def test_prices_come_from_the_config_file(tmp_path: Path, mock_server: Any,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "config.toml"
    config.write_text('[prices.openai-compatible."mock-model"]\ncurrency = "CNY"\n'
                      "input = 1.0\noutput = 4.0\nper = 1000\n", encoding="utf-8")
    monkeypatch.setenv("HOOKWIRE_CONFIG", str(config))
    table = load_config().prices()
    assert table.price("openai-compatible", "mock-model").per == 1000
    llm = _llm(mock_server)
    assert llm.chat("x").cost.currency == "CNY"
    llm.close()
    config.write_text('[prices.p."m"]\ninput = 1\noutput = 1\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="currency"):
        load_config().prices()


def test_bad_price_tables_name_the_field() -> None:
    with pytest.raises(ConfigError, match="input must be a price"):
        PriceTable({"p": {"m": {"input": -1, "output": 1, "currency": "USD"}}})
    with pytest.raises(ConfigError, match="unknown price keys"):
        PriceTable({"p": {"m": {"input": 1, "output": 1, "currency": "USD", "inptu": 2}}})


def test_a_router_sums_its_deployments_costs(mock_server_factory: Any) -> None:
    a, b = mock_server_factory(dialect="openai"), mock_server_factory(dialect="vllm")
    prices = {**PRICES, "vllm": {"Qwen/Qwen3-4B": {"input": 1, "output": 1, "currency": "USD"}}}
    router = LLM([
        {"provider": "openai-compatible", "base_url": a.openai_base_url, "model": "mock-model",
         "api_key": KEY},
        {"provider": "vllm", "base_url": b.openai_base_url, "model": "Qwen/Qwen3-4B"},
    ], strategy="round_robin", prices=prices)
    results = [router.chat("hello") for _ in range(2)]
    assert {r.provider for r in results} == {"openai-compatible", "vllm"}
    assert router.cost.amount == pytest.approx(sum(r.cost.amount for r in results))
    router.close()


# -- cache ----------------------------------------------------------------------------------


@pytest.fixture(params=["memory", "sqlite"])
def cache(request: pytest.FixtureRequest, tmp_path: Path) -> Any:
    return MemoryCache() if request.param == "memory" else SQLiteCache(tmp_path / "c.sqlite3")


def _sent(server: Any) -> int:
    return server.journal.count("/v1/chat/completions")


def test_a_repeated_deterministic_request_is_answered_from_the_cache(mock_server_factory: Any,
                                                                    cache: Any) -> None:
    server = mock_server_factory(dialect="openai", models=("mock-model", "cache-a"))
    llm = LLM("openai-compatible", base_url=server.openai_base_url, model="cache-a",
              api_key=KEY, cache=cache, prices={"openai-compatible": {"cache-a": {
                  "input": 1, "output": 1, "currency": "USD"}}})
    before = _sent(server)
    first = llm.chat("remember me", temperature=0)
    again = llm.chat("remember me", temperature=0)
    assert _sent(server) == before + 1 and not first.cached and again.cached
    assert (again.content, again.usage, again.finish_reason) == (
        first.content, first.usage, first.finish_reason)
    assert again.cost.amount == 0.0 and first.cost.amount > 0  # a hit costs nothing
    # a stream of the same request replays from the cache as a stream
    stream = llm.stream("remember me", temperature=0)
    assert "".join(d.content for d in stream) == first.content and stream.result().cached
    assert _sent(server) == before + 1
    llm.close()


def test_a_cached_stream_replays_its_pieces(mock_server_factory: Any, cache: Any) -> None:
    server = mock_server_factory(dialect="openai", models=("mock-model", "cache-b"))
    llm = LLM("openai-compatible", base_url=server.openai_base_url, model="cache-b",
              api_key=KEY, cache=cache)
    live = [d.content for d in llm.stream("one two three four", temperature=0) if d.content]
    sent = _sent(server)
    replayed = [d.content for d in llm.stream("one two three four", temperature=0)
                if d.content]
    assert replayed == live and len(live) > 2 and _sent(server) == sent

    async def run() -> list[str]:
        try:
            return [d.content async for d in llm.astream("one two three four",
                                                         temperature=0) if d.content]
        finally:
            await llm.aclose()

    assert asyncio.run(run()) == live and _sent(server) == sent


def test_sampled_replies_and_errors_are_not_kept(mock_server_factory: Any) -> None:
    server = mock_server_factory(dialect="openai", models=("mock-model", "cache-c"))
    store = MemoryCache()
    llm = LLM("openai-compatible", base_url=server.openai_base_url, model="cache-c",
              api_key=KEY, cache=store, retry=1)
    llm.chat("sampled")  # temperature unset: the provider samples
    llm.chat("sampled", temperature=0.7)
    assert len(store) == 0
    with pytest.raises(Exception):
        llm.chat("fails", temperature=0, extra_headers={"X-Mock-Fault": "status=400"})
    assert len(store) == 0
    llm.chat("cut", temperature=0, max_tokens=1)  # "length" is a finished reply: kept
    assert len(store) == 1
    sampled = LLM("openai-compatible", base_url=server.openai_base_url, model="cache-c",
                  api_key=KEY, cache=MemoryCache(), cache_sampled=True)
    assert not sampled.chat("s", temperature=0.9).cached and sampled.chat("s",
                                                                          temperature=0.9).cached
    llm.close()
    sampled.close()


def test_ttl_and_size_bounds(tmp_path: Path) -> None:
    now = [0.0]
    memory = MemoryCache(max_entries=2, clock=lambda: now[0])
    disk = SQLiteCache(tmp_path / "b.sqlite3", max_entries=2, clock=lambda: now[0])
    for store in (memory, disk):
        store.set("a", b"1", ttl=10)
        store.set("b", b"2", ttl=None)
        store.set("c", b"3", ttl=None)  # over max_entries: the least recently used goes
        assert store.get("a") is None and store.get("c") == b"3"
        store.set("d", b"4", ttl=5)
        now[0] += 6
        assert store.get("d") is None and store.get("c") == b"3"
        now[0] = 0.0


def test_cache_options_are_checked(tmp_path: Path) -> None:
    with pytest.raises(InvalidRequest, match="cache must be"):
        LLM("mock", cache=42)
    with pytest.raises(InvalidRequest, match="need cache"):
        LLM("mock", cache_ttl=5)
    with pytest.raises(InvalidRequest, match="cache_ttl"):
        LLM("mock", cache=True, cache_ttl=0)
    blocker = tmp_path / "a-file"
    blocker.write_text("", encoding="utf-8")  # a file where the cache's folder would go
    with pytest.raises(ConfigError, match="cannot open the response cache"):
        SQLiteCache(blocker / "x.sqlite3")
