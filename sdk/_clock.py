"""Time and randomness behind one small seam, so retry timing is tested on a fake clock."""

from __future__ import annotations

import random
import time


class Clock:
    """The real clock: monotonic time, blocking and async sleep, jitter randomness."""

    def monotonic(self) -> float:
        return time.monotonic()

    def now(self) -> float:
        """Wall-clock seconds since the epoch (for HTTP-date Retry-After)."""
        return time.time()

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            time.sleep(seconds)

    async def asleep(self, seconds: float) -> None:
        if seconds > 0:
            import asyncio  # here, not at the top: ~20 ms that a sync-only program never needs

            await asyncio.sleep(seconds)

    def random(self) -> float:
        # Backoff jitter, not a secret: the random module is the right tool.
        return random.random()  # nosec B311


class FakeClock(Clock):
    """A clock that only moves when something sleeps; records every sleep.

    Use it in tests: ``Client(clock=FakeClock())`` then assert on ``clock.sleeps``.
    """

    def __init__(self, start: float = 1_000.0, wall: float = 1_700_000_000.0, seed: int = 0):
        self.t = start
        self.wall = wall
        self.sleeps: list[float] = []
        self._rng = random.Random(seed)  # nosec B311

    def monotonic(self) -> float:
        return self.t

    def now(self) -> float:
        return self.wall + self.t

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.t += max(seconds, 0.0)

    async def asleep(self, seconds: float) -> None:
        import asyncio

        self.sleep(seconds)
        await asyncio.sleep(0)

    def random(self) -> float:
        return self._rng.random()
