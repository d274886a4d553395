"""Resources stay bounded: abandoned streams, decompression bombs.

- Chat streams, each abandoned after its first event, through a pool of 2 connections: no
  ``PoolTimeout`` (every abandoned stream gave its connection back), and the process's open file
  descriptors and threads are the same afterwards (psutil). The default run abandons
  ``ABANDONED`` (a few hundred: one stream that kept its connection would exhaust the pool of 2 by
  the third, one that kept a descriptor would show as hundreds); ``pytest -m slow`` runs the full
  ``ABANDONED_FULL``, which also catches a leak that happens once in a thousand streams.
- A decompression bomb (``_hostile.BOMB_MB`` MiB of zeros as ~100 KiB of gzip or deflate)
  against ``max_body_size=1 MiB``: ``BodyTooLarge``, with the Python heap's peak growth
  (tracemalloc) a few MiB, not the bomb's size.
"""

from __future__ import annotations

import asyncio
import gc
import importlib.util
import threading
import time
import tracemalloc

import psutil
import pytest

import hookwire
from hookwire import errors
from hookwire.llm import LLM
from tests._transport_cases import ensure_transport
from tests.reliability import _hostile, _report

pytestmark = pytest.mark.network

ABANDONED = 500
ABANDONED_FULL = 5_000
SIZES = [
    pytest.param(ABANDONED, id=f"{ABANDONED}"),
    pytest.param(ABANDONED_FULL, id=f"{ABANDONED_FULL}", marks=pytest.mark.slow),
]
MIB = 1024 * 1024


def _resources() -> tuple[int, int]:
    gc.collect()
    return psutil.Process().num_fds(), threading.active_count()


FACES = [
    pytest.param(("requests", False), id="requests-sync"),
    pytest.param(("httpx", False), id="httpx-sync"),
    pytest.param(("httpx", True), id="httpx-async"),
    pytest.param(("aiohttp", True), id="aiohttp-async"),
    pytest.param(
        ("pyreqwest", True),
        id="pyreqwest-async",
        marks=pytest.mark.skipif(
            importlib.util.find_spec("pyreqwest") is None, reason="pyreqwest is not installed"
        ),
    ),
    *(
        pytest.param(
            ("native", is_async),
            id=f"native-{'async' if is_async else 'sync'}",
            marks=pytest.mark.skipif(
                importlib.util.find_spec("httptools") is None, reason="httptools is not installed"
            ),
        )
        for is_async in (False, True)
    ),
]


def _abandon_sync(llm: LLM, count: int) -> None:
    for _ in range(count):
        stream = llm.stream("hi", max_tokens=8)
        first = next(iter(stream))
        assert first is not None
        del stream, first  # abandoned: no close(), no with-block; dropping it must be enough


async def _abandon_async(llm: LLM, count: int) -> None:
    for _ in range(count):
        stream = llm.astream("hi", max_tokens=8)
        first = await stream.__anext__()
        assert first is not None
        del stream, first
        await asyncio.sleep(0)  # let the loop run the abandoned generator's finaliser


@pytest.mark.parametrize("count", SIZES)
@pytest.mark.parametrize("face", FACES)
def test_abandoned_streams_leak_nothing(mock_server, face, count):
    transport, is_async = face
    ensure_transport(transport)
    timeout = hookwire.Timeout(connect=5, read=10, pool=5)
    llm = LLM("openai-compatible", base_url=mock_server.openai_base_url, model="mock-model",
              transport=transport, max_connections=2, timeout=timeout)
    loop = asyncio.new_event_loop() if is_async else None

    def abandon(count: int) -> None:
        if loop is None:
            _abandon_sync(llm, count)
        else:
            loop.run_until_complete(_abandon_async(llm, count))

    try:
        abandon(50)  # warm up: pools, lazy imports, the loop's own descriptors
        fds, threads = _resources()
        started = time.monotonic()
        abandon(count)  # a leaked connection would exhaust the pool of 2 -> PoolTimeout
        elapsed = time.monotonic() - started
        after_fds, after_threads = _resources()
    finally:
        if loop is None:
            llm.close()
        else:
            loop.run_until_complete(llm.aclose())
            loop.close()
    assert after_fds - fds <= 4, f"descriptors grew from {fds} to {after_fds}"
    assert after_threads == threads
    _report.add("leaks", "abandoned_streams", count)
    _report.note("leaks", f"{face[0]}-{'async' if is_async else 'sync'}",
                 {"streams": count, "fd_delta": after_fds - fds,
                  "thread_delta": after_threads - threads, "seconds": round(elapsed, 1)})


@pytest.mark.parametrize("encoding", ["gzip", "deflate"])
def test_a_decompression_bomb_is_stopped_with_bounded_memory(make_client, hostile_server, encoding):
    client = make_client(max_body_size=MIB)
    _hostile.bomb(encoding)  # build the payload before measuring
    rss = psutil.Process().memory_info().rss
    tracemalloc.start()
    try:
        with pytest.raises(errors.BodyTooLarge) as info:
            client.get(hostile_server.join(f"/bomb/{encoding}"))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    rss_growth = psutil.Process().memory_info().rss - rss
    assert info.value.limit == MIB
    assert peak < 16 * MIB, f"peak Python heap {peak / MIB:.1f} MiB for a 1 MiB limit"
    assert rss_growth < 48 * MIB, f"RSS grew {rss_growth / MIB:.1f} MiB"
    _report.note("bomb", f"{client.case.id}-{encoding}",
                 {"bomb_mib": _hostile.BOMB_MB, "limit_mib": 1,
                  "peak_heap_mib": round(peak / MIB, 2)})
