"""The aiohttp transport's pool slots (``_Slots``): order, timeout, cancellation, wake-ups.

``_Slots`` replaces ``asyncio.Semaphore`` on the hot path, so it has to keep what the
semaphore promised: waiters are served first come, first served; a wait gives up after
``pool`` seconds (the transport turns that into ``PoolTimeout``); a waiter cancelled after it
was handed a slot passes the slot on instead of losing it; one release wakes one waiter.
The unit tests drive ``_Slots`` on the running loop with no network; one test goes through
the transport against the live mock server.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

import hookwire
from hookwire import errors

pytest.importorskip("aiohttp")
aiohttp_transport = pytest.importorskip("hookwire.plugins.transports.aiohttp_transport")
_Slots = aiohttp_transport._Slots


async def _spin(times: int = 5) -> None:
    """Let every ready callback and task run (no wall-clock waiting)."""
    for _ in range(times):
        await asyncio.sleep(0)


async def _capacity(slots: Any) -> int:
    """How many slots can be taken right now without waiting (all are released again)."""
    taken = 0
    while slots.try_take():
        taken += 1
    for _ in range(taken):
        slots.release()
    return taken


async def test_waiters_are_served_first_come_first_served() -> None:
    slots = _Slots(1)
    assert slots.try_take()
    served: list[int] = []

    async def wait(i: int) -> None:
        await slots.take(None)
        served.append(i)

    tasks = []
    for i in range(4):
        tasks.append(asyncio.create_task(wait(i)))
        await _spin()  # each waiter queues before the next one starts
    for _ in range(4):
        slots.release()
        await _spin()
    await asyncio.gather(*tasks)
    assert served == [0, 1, 2, 3]
    slots.release()
    assert await _capacity(slots) == 1


async def test_a_newcomer_does_not_overtake_a_waiter() -> None:
    slots = _Slots(1)
    assert slots.try_take()
    waiter = asyncio.create_task(slots.take(None))
    await _spin()
    slots.release()  # handed to the waiter, not left free for try_take
    assert not slots.try_take()
    await waiter
    slots.release()
    assert await _capacity(slots) == 1


async def test_release_wakes_exactly_one_waiter() -> None:
    slots = _Slots(1)
    assert slots.try_take()
    waiters = [asyncio.create_task(slots.take(None)) for _ in range(3)]
    await _spin()
    slots.release()
    await _spin()
    assert [w.done() for w in waiters] == [True, False, False]
    for w in waiters[1:]:
        w.cancel()
    await asyncio.gather(*waiters, return_exceptions=True)
    slots.release()  # the slot the first waiter got
    assert await _capacity(slots) == 1


async def test_a_wait_that_times_out_leaves_the_queue() -> None:
    slots = _Slots(1)
    assert slots.try_take()
    with pytest.raises(asyncio.TimeoutError):
        await slots.take(0)
    assert not slots._waiters  # no dead future left behind to pile up
    slots.release()  # nobody waits any more: the slot becomes free again
    assert await _capacity(slots) == 1


async def test_a_waiter_cancelled_after_being_handed_a_slot_passes_it_on() -> None:
    slots = _Slots(2)
    assert slots.try_take() and slots.try_take()
    first = asyncio.create_task(slots.take(None))
    second = asyncio.create_task(slots.take(None))
    await _spin()
    slots.release()  # hands the slot to ``first``'s future ...
    first.cancel()  # ... which is cancelled before it runs again
    await _spin()
    assert first.cancelled()
    assert second.done() and second.exception() is None  # the slot went on to ``second``
    slots.release()  # ``second``'s slot
    slots.release()  # the last one still held from try_take
    assert await _capacity(slots) == 2  # nothing lost, nothing invented


async def test_a_cancelled_waiter_is_skipped_by_release() -> None:
    slots = _Slots(1)
    assert slots.try_take()
    gone = asyncio.create_task(slots.take(None))
    stays = asyncio.create_task(slots.take(None))
    await _spin()
    # The moment between wait_for cancelling the first future and its task leaving the
    # queue: the future is done but still queued, and release() must pass over it.
    slots._waiters[0].cancel()
    slots.release()
    await _spin()
    assert stays.done() and stays.exception() is None
    assert gone.cancelled()
    slots.release()
    assert await _capacity(slots) == 1


@pytest.mark.network
async def test_a_full_pool_raises_pool_timeout_through_the_transport(mock_server: Any) -> None:
    url = mock_server.join("/get")
    async with hookwire.AsyncClient(transport="aiohttp", max_connections=1) as client:
        async with client.stream("GET", url) as held:  # keeps the only slot until closed
            assert held.status_code == 200
            with pytest.raises(errors.PoolTimeout) as info:
                await client.get(url, timeout=hookwire.Timeout(pool=0.05))
            assert info.value.request is not None
        # The held response is closed: its slot is free again for the next request.
        again = await client.get(url, timeout=hookwire.Timeout(pool=5.0))
        assert again.status_code == 200
