"""RateLimiter: rpm/tpm token buckets shared by threads and tasks; Retry-After pauses them.

The bucket arithmetic runs on a fake clock (``_try`` returns the wait it would sleep); the
thread and task tests use the real clock with a limit high enough to finish in well under a
second, and check counts, never durations.
"""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import pytest

from hookwire.errors import InvalidRequest, RateLimitError
from hookwire.llm import LLM
from hookwire.llm.limits import RateLimiter
from hookwire.retry import RetryPolicy


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_rpm_bucket_lets_a_burst_through_then_refills_at_the_rate() -> None:
    clock = Clock()
    limiter = RateLimiter(rpm=60, clock=clock)
    assert [limiter._try(0) for _ in range(60)] == [0.0] * 60  # a full minute's burst
    assert limiter._try(0) == pytest.approx(1.0)  # then one a second
    clock.now += 0.5
    assert limiter._try(0) == pytest.approx(0.5)
    clock.now += 0.5
    assert limiter._try(0) == 0.0


def test_tpm_counts_tokens_and_settles_with_the_real_usage() -> None:
    clock = Clock()
    limiter = RateLimiter(tpm=600, clock=clock)  # 10 tokens a second
    assert limiter._try(500) == 0.0
    assert limiter._try(200) == pytest.approx(10.0)  # 100 left, 100 missing
    limiter.settle(500, 100)  # the reply took 100, not 500: 400 come back
    assert limiter._try(200) == 0.0
    assert limiter._try(10_000) == pytest.approx(30.0)  # over capacity: waits for a full bucket


def test_pause_holds_every_caller_until_retry_after() -> None:
    clock = Clock()
    limiter = RateLimiter(rpm=1000, clock=clock)
    limiter.pause(2.0)
    assert limiter._try(0) == pytest.approx(2.0)
    clock.now += 2.0
    assert limiter._try(0) == 0.0


def test_bad_limits_are_refused() -> None:
    for bad in ({"rpm": 0}, {"tpm": -5}, {"rpm": "60"}, {"rpm": True}):
        with pytest.raises(InvalidRequest):
            RateLimiter(**bad)
    with pytest.raises(InvalidRequest, match="needs rpm"):
        RateLimiter()


def test_threads_share_one_budget() -> None:
    clock = Clock()
    limiter = RateLimiter(rpm=100, clock=clock)
    granted: list[float] = []
    lock = threading.Lock()

    def worker() -> None:
        for _ in range(10):
            wait = limiter._try(0)
            with lock:
                granted.append(wait)

    threads = [threading.Thread(target=worker) for _ in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert granted.count(0.0) == 100  # exactly the bucket, whatever the interleaving


def test_tasks_wait_without_blocking_the_loop() -> None:
    limiter = RateLimiter(rpm=6000)  # 100 a second, burst 6000
    limiter._requests.level = 0  # type: ignore[union-attr]  # empty: every call must wait

    async def run() -> tuple[int, int]:
        ticks = 0
        stop = asyncio.Event()

        async def ticker() -> None:
            nonlocal ticks
            while not stop.is_set():
                ticks += 1
                await asyncio.sleep(0)

        tick = asyncio.create_task(ticker())
        waited = await asyncio.gather(*(limiter.aacquire() for _ in range(5)))
        stop.set()
        await tick
        return sum(1 for w in waited if w > 0), ticks

    waiters, ticks = asyncio.run(run())
    assert waiters == 5 and ticks > 5  # the loop kept running while they waited
    assert limiter.waits == 5


def test_llm_takes_rpm_and_a_429_pauses_its_limiter(mock_server_factory: Any) -> None:
    server = mock_server_factory(dialect="openai")
    with pytest.raises(InvalidRequest, match="rpm"):
        LLM("mock", rpm=0)  # refused before any server starts
    llm = LLM("openai-compatible", base_url=server.openai_base_url, model="mock-model",
              api_key="k", rpm=600, tpm=100_000, retry=RetryPolicy(attempts=1))
    limiter = llm.provider.limiter  # type: ignore[attr-defined]
    assert llm.provider.base_url  # the inner provider's attributes still reachable
    before = limiter._tokens.level
    llm.chat("hello")
    assert limiter._tokens.level < before  # the reply's real usage was taken
    with pytest.raises(RateLimitError):
        llm.chat("x", extra_headers={"X-Mock-Fault": "status=429;retry-after=30"})
    assert limiter._try(0) > 25  # every caller now waits for the Retry-After
    llm.close()
