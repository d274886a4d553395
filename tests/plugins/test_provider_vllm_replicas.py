"""vLLM replicas: round-robin over live mock servers, failover, cooldown, and the pool's decisions.

The distribution is proved by each server's own journal (how many chat requests reached it);
"down" is real: a stopped server refuses connections, or a scenario rule makes a live one
answer 503. Cooldowns run on a fake clock.
"""

from __future__ import annotations

import pytest

import hookwire
from hookwire import FakeClock
from hookwire.errors import InvalidRequest, NotFoundError, StreamInterrupted
from hookwire.mockserver.config import MockConfig
from hookwire.mockserver.server import LiveServer
from hookwire.plugins.providers._vllm_replicas import ReplicaPool, health_url
from hookwire.plugins.providers.vllm import ReplicasUnavailable

CHAT = "/v1/chat/completions"


@pytest.fixture
def replicas(mock_server_factory):
    """Three vllm-dialect servers of this module's own, with clean journals and scenarios."""
    servers = [mock_server_factory(dialect="vllm", models=(f"replica-{n}",)) for n in "abc"]
    for server in servers:
        server.reset()
        server.app.scenario.clear()
    yield servers
    for server in servers:
        server.app.scenario.clear()


@pytest.fixture
def dead_url():
    """The /v1 URL of a server that was started and stopped: its port now refuses connections."""
    server = LiveServer(MockConfig(dialect="vllm")).start()
    url = server.openai_base_url
    server.stop()
    return url


@pytest.fixture
def make():
    made = []

    def factory(**kwargs):
        llm = hookwire.LLM("vllm", model="mock-model", **kwargs)
        made.append(llm)
        return llm

    yield factory
    for llm in made:
        llm.close()


def chats(server):
    return server.journal.count(CHAT)


def urls(servers):
    return [s.openai_base_url for s in servers]


# ---------------------------------------------------------------- the pool, without I/O


def test_pool_rotates_and_skips_cooling_replicas():
    pool = ReplicaPool(["http://a/v1", "http://b/v1/", "http://c/v1"], cooldown=10)
    plan, skipped = pool.plan(0.0)
    assert [(r.base_url, probe) for r, probe in plan] == [
        ("http://a/v1", True), ("http://b/v1", True), ("http://c/v1", True),
    ]  # fmt: skip
    a, b, _ = pool.replicas
    pool.served(a)
    pool.mark_down(b, now=0.0, reason="HTTP 503")
    plan, skipped = pool.plan(5.0)
    assert [r.base_url for r, _ in plan] == ["http://c/v1", "http://a/v1"]
    assert skipped[0][0] == "http://b/v1" and "HTTP 503" in skipped[0][1]
    plan, _ = pool.plan(10.0)  # the cooldown is over: b is back, to be probed first
    assert (b, True) in plan


def test_pool_rejects_bad_lists():
    with pytest.raises(InvalidRequest):
        ReplicaPool([])
    with pytest.raises(InvalidRequest, match="twice"):
        ReplicaPool(["http://a/v1", "http://a/v1/"])
    with pytest.raises(InvalidRequest, match="cooldown"):
        ReplicaPool(["http://a/v1"], cooldown=-1)


def test_health_url_sits_beside_v1():
    assert health_url("http://h:8000/v1/") == "http://h:8000/health"
    assert health_url("http://h:8000") == "http://h:8000/health"


def test_replicas_option_is_checked(make):
    with pytest.raises(InvalidRequest, match="not both"):
        make(replicas=["http://a/v1"], base_url="http://b/v1")
    with pytest.raises(InvalidRequest, match="list"):
        make(replicas="http://a/v1")


# ---------------------------------------------------------------- live servers


def test_round_robin_spreads_requests_evenly(make, replicas):
    llm = make(replicas=urls(replicas))
    replies = [llm.chat(f"q{i}").content for i in range(6)]
    assert replies == [f"Echo: q{i}" for i in range(6)]
    assert [chats(s) for s in replicas] == [2, 2, 2]
    assert [s.journal.count("/health") for s in replicas] == [1, 1, 1]  # probed once each


def test_a_refusing_replica_is_skipped_and_the_rest_share_the_load(make, replicas, dead_url):
    llm = make(replicas=[replicas[0].openai_base_url, dead_url, replicas[1].openai_base_url])
    for i in range(6):
        assert llm.chat(f"q{i}").content == f"Echo: q{i}"
    assert [chats(replicas[0]), chats(replicas[1])] == [3, 3]
    state = {r.base_url: r.state for r in llm.provider.pool.replicas}
    assert state[dead_url] == "down"


def test_a_replica_with_503_health_gets_no_traffic(make, replicas):
    replicas[1].app.scenario.add({"path": "/health", "status": 503})
    llm = make(replicas=urls(replicas))
    for i in range(4):
        llm.chat(f"q{i}")
    assert [chats(s) for s in replicas] == [2, 0, 2]
    assert llm.provider.health() == dict(zip(urls(replicas), [True, False, True], strict=True))


def test_a_503_reply_fails_over_and_marks_the_replica_down(make, replicas):
    replicas[0].app.scenario.add({"path": CHAT, "status": 503})
    llm = make(replicas=urls(replicas))
    for i in range(4):
        assert llm.chat(f"q{i}").content == f"Echo: q{i}"
    assert [e.status for e in replicas[0].journal.entries(CHAT)] == [503]  # tried once only
    assert chats(replicas[1]) + chats(replicas[2]) == 4


def test_a_replica_comes_back_after_its_cooldown(make, replicas):
    clock = FakeClock()
    a, b = replicas[:2]
    b.app.scenario.add({"path": "/health", "status": 503})
    llm = make(replicas=urls([a, b]), replica_cooldown=30, clock=clock)
    llm.chat("1")
    llm.chat("2")
    assert (chats(a), chats(b)) == (2, 0)
    b.app.scenario.clear()  # b recovers, but is still cooling down
    llm.chat("3")
    assert chats(b) == 0
    clock.t += 31
    llm.chat("4")
    llm.chat("5")
    assert chats(b) >= 1 and chats(a) + chats(b) == 5
    assert b.journal.count("/health") == 2  # one failed probe, one after the cooldown


def test_all_down_is_one_typed_error_listing_every_replica(make, replicas, dead_url):
    replicas[0].app.scenario.add({"path": CHAT, "status": 503})
    tried = [replicas[0].openai_base_url, dead_url]
    llm = make(replicas=tried)
    with pytest.raises(ReplicasUnavailable) as info:
        llm.chat("anyone?")
    listed = dict(info.value.replicas)
    assert set(listed) == set(tried)
    assert listed[replicas[0].openai_base_url] == "HTTP 503"
    assert "unhealthy" in listed[dead_url]
    assert dead_url in str(info.value)
    with pytest.raises(ReplicasUnavailable, match="down"):  # both cooling down now
        llm.chat("still?")


def test_client_errors_are_not_failed_over(make, replicas):
    llm = make(replicas=urls(replicas))
    with pytest.raises(NotFoundError):
        llm.chat("x", model="no-such-model")
    assert sum(chats(s) for s in replicas) == 1


def test_stream_fails_over_before_the_first_chunk_only(make, replicas, dead_url):
    llm = make(replicas=[dead_url, replicas[0].openai_base_url])
    assert llm.stream("s").result().content == "Echo: s"
    with pytest.raises(StreamInterrupted) as info:
        llm.stream("break me", extra_headers={"X-Mock-Fault": "close-after=3"}).result()
    assert info.value.partial is not None
    assert chats(replicas[0]) == 2  # the broken stream was not sent again anywhere


def test_models_and_auto_go_through_the_pool(replicas, dead_url):
    with hookwire.LLM("vllm", replicas=[dead_url, replicas[2].openai_base_url]) as llm:
        assert "replica-c" in llm.models()
        assert llm.chat("auto").model == llm.provider.served_model


async def test_async_round_robin_and_failover(replicas, dead_url):
    llm = hookwire.LLM("vllm", model="mock-model", replicas=[*urls(replicas[:2]), dead_url])
    try:
        for i in range(4):
            assert (await llm.achat(f"q{i}")).content == f"Echo: q{i}"
        result = await llm.astream("s").aresult()
        assert result.content == "Echo: s"
        assert chats(replicas[0]) + chats(replicas[1]) == 5
        assert min(chats(replicas[0]), chats(replicas[1])) >= 2
        assert await llm.provider.ahealth() == {
            replicas[0].openai_base_url: True, replicas[1].openai_base_url: True, dead_url: False,
        }  # fmt: skip
    finally:
        await llm.aclose()
