"""The soak: the SDK's own ``AsyncClient`` (aiohttp transport) drives the mock server with 256
requests in flight for a fixed count, streams and injected faults included, retries on.
The default run drives ``TOTAL`` requests (every kind meets every fault a dozen times over);
``pytest -m slow`` drives the full ``TOTAL_FULL``.

Every request carries a unique id (``X-Soak-Id``, also its ``X-Mock-Session``, so the mock's
``calls=`` counters are per request) and a fault chosen deterministically from its number. The
test knows, for each id, how many attempts the server must see and what the client must end
with; the server's journal and the client's results must agree exactly: nothing lost, nothing
duplicated. Descriptors and memory are measured before and after.
"""

from __future__ import annotations

import asyncio
import gc
import time
from collections import Counter
from dataclasses import dataclass
from typing import Any

import psutil
import pytest

import hookwire
from hookwire import errors
from tests.reliability import _report

pytestmark = pytest.mark.network

TOTAL = 1_000
TOTAL_FULL = 5_000
CONCURRENCY = 256
KINDS = ("get", "post", "lines", "chat-stream")
POLICY = hookwire.RetryPolicy(attempts=3, backoff_base=0.01, backoff_max=0.05, retry_after_max=60)


@dataclass(frozen=True)
class Plan:
    """What request ``n`` sends, which fault it carries, and what must come of it."""

    n: int
    kind: str
    fault: str | None
    attempts: int  # requests the server must record for this id
    outcome: str  # "ok" or the error class the client must raise


def plan(n: int) -> Plan:
    kind = KINDS[n % len(KINDS)]
    streamed = kind in ("lines", "chat-stream")
    r = (n // len(KINDS)) % 20  # independent of the kind, so every kind meets every fault
    if r == 3:
        return Plan(n, kind, "calls=1;status=503", 2, "ok")
    if r == 7:
        return Plan(n, kind, "calls=1;close-after=0", 2, "ok")
    if r == 11:
        return Plan(n, kind, "status=503", 3, "RetryError")
    if r == 13:
        return Plan(n, kind, "status=429;retry-after=3600", 1, "RetryError")
    if r == 17:  # a break inside the body: retried when the client reads it, not once streaming
        return Plan(n, kind, "calls=1;close-after=3", 1 if streamed else 2,
                    "ReadError" if streamed else "ok")
    return Plan(n, kind, None, 1, "ok")


async def send(client: hookwire.AsyncClient, base: str, p: Plan, run: str) -> str:
    rid = f"{run}-{p.n}"
    headers = {"X-Soak-Id": rid, "X-Mock-Session": rid}
    if p.fault:
        headers["X-Mock-Fault"] = p.fault
    try:
        if p.kind == "get":
            r = await client.get(f"{base}/get", headers=headers)
            assert r.json()["headers"]["X-Soak-Id"] == rid
        elif p.kind == "post":
            headers["Idempotency-Key"] = rid
            r = await client.post(f"{base}/post", json={"n": p.n}, headers=headers)
            assert r.json()["json"] == {"n": p.n}
        elif p.kind == "lines":
            async with client.stream("GET", f"{base}/stream/5", headers=headers) as r:
                lines = [line async for line in r.aiter_lines()]
            assert len(lines) == 5
        else:
            headers["Idempotency-Key"] = rid
            body = {"model": "mock-model", "stream": True,
                    "messages": [{"role": "user", "content": f"soak {p.n}"}]}
            async with client.stream("POST", f"{base}/v1/chat/completions", json=body,
                                     headers=headers) as r:
                events = [line async for line in r.aiter_lines() if line.startswith("data:")]
            assert events[-1] == "data: [DONE]" and len(events) > 2
    except errors.SDKError as exc:
        return type(exc).__name__
    return "ok"


async def drive(server: Any, count: int, run: str) -> dict[int, str]:
    limit = asyncio.Semaphore(CONCURRENCY)
    client = hookwire.AsyncClient(transport="aiohttp", retry=POLICY, max_connections=CONCURRENCY,
                             timeout=hookwire.Timeout(connect=10, read=30, pool=30))

    async def one(n: int) -> tuple[int, str]:
        async with limit:
            return n, await send(client, server.url, plan(n), run)

    try:
        results = await asyncio.gather(*(one(n) for n in range(count)))
    finally:
        await client.aclose()
    return dict(results)


def _measure() -> tuple[int, int]:
    gc.collect()
    process = psutil.Process()
    return process.num_fds(), process.memory_info().rss


@pytest.mark.parametrize(
    "total",
    [
        pytest.param(TOTAL, id=f"{TOTAL}"),
        pytest.param(TOTAL_FULL, id=f"{TOTAL_FULL}", marks=pytest.mark.slow),
    ],
)
def test_soak_nothing_lost_nothing_duplicated(mock_server_factory, total):
    server = mock_server_factory(dialect="openai", models=("soak-model",))  # its own journal
    loop = asyncio.new_event_loop()
    try:
        loop.run_until_complete(drive(server, 500, "warm"))  # pools, imports, allocator arenas
        server.reset()
        loop.run_until_complete(asyncio.sleep(0.2))  # the warm-up's sockets finish closing
        fds, rss = _measure()
        started = time.monotonic()
        results = loop.run_until_complete(drive(server, total, "soak"))
        elapsed = time.monotonic() - started
        seen = Counter(e.headers.get("x-soak-id") for e in server.journal.entries())
        server.reset()
        loop.run_until_complete(asyncio.sleep(0.2))  # let the server finish closing sockets
        after_fds, after_rss = _measure()
    finally:
        loop.close()

    plans = [plan(n) for n in range(total)]
    assert len(results) == total  # one outcome per request
    wrong_outcome = [(p, results[p.n]) for p in plans if results[p.n] != p.outcome]
    assert not wrong_outcome, wrong_outcome[:10]
    wrong_count = [(p, seen[f"soak-{p.n}"]) for p in plans if seen[f"soak-{p.n}"] != p.attempts]
    assert not wrong_count, wrong_count[:10]  # lost (fewer) or duplicated (more) on the wire
    assert set(seen) == {f"soak-{n}" for n in range(total)}  # nothing the client did not send
    assert after_fds - fds <= 8, f"descriptors {fds} -> {after_fds}"
    assert after_rss - rss < 64 * 1024 * 1024, f"RSS grew {(after_rss - rss) >> 20} MiB"

    by_type = Counter(results.values())
    _report.add("soak", "requests", total)
    _report.add("soak", "attempts_on_the_wire", sum(seen.values()))
    _report.add("soak", "lost", sum(1 for p in plans if seen[f"soak-{p.n}"] < p.attempts))
    _report.add("soak", "duplicated", sum(1 for p in plans if seen[f"soak-{p.n}"] > p.attempts))
    for name, count in sorted(by_type.items()):
        _report.add("soak_outcomes", name, count)
    for p in plans:
        _report.add("soak_faults", p.fault or "none")
    _report.note("soak", "concurrency", CONCURRENCY)
    _report.note("soak", "seconds", round(elapsed, 1))
    _report.note("soak", "fd_delta", after_fds - fds)
    _report.note("soak", "rss_delta_mib", round((after_rss - rss) / 2**20, 1))
