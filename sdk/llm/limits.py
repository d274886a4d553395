"""Rate limits of one deployment: requests per minute and tokens per minute, in one process.

::

    llm = hookwire.LLM("siliconflow", model="Qwen/Qwen3-8B", rpm=60, tpm=100_000)

Every chat, stream and embedding call of that ``LLM`` (and of every thread and task using it)
first takes one request and its estimated tokens from a :class:`RateLimiter`; a call that would
pass a limit waits (``time.sleep`` in sync code, ``asyncio.sleep`` in async code, never
blocking the event loop) until the budget refills. Limits are token buckets refilled
continuously (``rpm / 60`` requests a second), so a burst up to the limit passes at once and the
rate over any minute stays under it. Tokens are estimated before sending (the prompt's estimate,
plus ``max_tokens`` when set) and corrected with the usage the reply reports. A 429 with
``Retry-After`` pauses the limiter for every caller until then. Share one limiter between
``LLM`` objects by passing ``rate_limiter=``.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable

from hookwire.errors import InvalidRequest

__all__ = ["RateLimiter"]


class _Bucket:
    __slots__ = ("capacity", "level", "rate")

    def __init__(self, per_minute: float) -> None:
        self.capacity = float(per_minute)
        self.rate = per_minute / 60.0  # refilled per second
        self.level = self.capacity

    def refill(self, elapsed: float) -> None:
        self.level = min(self.capacity, self.level + elapsed * self.rate)

    def wait_for(self, amount: float) -> float:
        """Seconds until ``amount`` is there (an amount over capacity waits for a full
        bucket: it passes alone, as an over-size request must)."""
        amount = min(amount, self.capacity)
        missing = amount - self.level
        return 0.0 if missing <= 0 else missing / self.rate


def _limit(name: str, value: object) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
        raise InvalidRequest(f"{name} must be a number > 0 (per minute), not {value!r}")
    return float(value)


class RateLimiter:
    """Requests-per-minute and tokens-per-minute budgets, shared by threads and tasks.

    ``acquire(tokens)`` / ``await aacquire(tokens)`` wait until one request and ``tokens``
    fit, then take them; ``settle(estimated, actual)`` corrects the tokens taken once the
    reply's usage is known; ``pause(seconds)`` (a 429's ``Retry-After``) holds every caller.
    """

    def __init__(
        self,
        rpm: float | None = None,
        tpm: float | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        rpm, tpm = _limit("rpm", rpm), _limit("tpm", tpm)
        if rpm is None and tpm is None:
            raise InvalidRequest("a RateLimiter needs rpm=, tpm= or both")
        self.rpm, self.tpm = rpm, tpm
        self._requests = _Bucket(rpm) if rpm is not None else None
        self._tokens = _Bucket(tpm) if tpm is not None else None
        self._clock = clock
        self._lock = threading.Lock()
        self._last = clock()
        self._paused_until = 0.0
        #: How many calls had to wait, and for how long in all (seconds).
        self.waits = 0
        self.waited = 0.0

    def _refill(self, now: float) -> None:
        elapsed, self._last = max(0.0, now - self._last), now
        for bucket in (self._requests, self._tokens):
            if bucket is not None:
                bucket.refill(elapsed)

    def _try(self, tokens: int) -> float:
        """Take the budget and return 0, or return the seconds to wait (nothing taken)."""
        with self._lock:
            now = self._clock()
            self._refill(now)
            wait = max(0.0, self._paused_until - now)
            if self._requests is not None:
                wait = max(wait, self._requests.wait_for(1))
            if self._tokens is not None and tokens:
                wait = max(wait, self._tokens.wait_for(tokens))
            if wait > 0:
                return wait
            if self._requests is not None:
                self._requests.level -= 1
            if self._tokens is not None and tokens:
                self._tokens.level -= min(tokens, self._tokens.capacity)
            return 0.0

    def acquire(self, tokens: int = 0) -> float:
        """Block until a request with ``tokens`` fits; the seconds waited."""
        waited = 0.0
        while (wait := self._try(tokens)) > 0:
            time.sleep(wait)
            waited += wait
        self._count(waited)
        return waited

    async def aacquire(self, tokens: int = 0) -> float:
        """``await`` until a request with ``tokens`` fits (the loop keeps running)."""
        waited = 0.0
        while (wait := self._try(tokens)) > 0:
            await asyncio.sleep(wait)
            waited += wait
        self._count(waited)
        return waited

    def _count(self, waited: float) -> None:
        if waited:
            with self._lock:
                self.waits += 1
                self.waited += waited

    def settle(self, estimated: int, actual: int | None) -> None:
        """The reply used ``actual`` tokens where ``estimated`` were taken: correct the bucket."""
        if self._tokens is None or actual is None or actual == estimated:
            return
        with self._lock:
            self._refill(self._clock())
            bucket = self._tokens
            bucket.level = min(bucket.capacity, bucket.level + estimated - actual)

    def pause(self, seconds: float | None) -> None:
        """Hold every caller for ``seconds`` (a 429's ``Retry-After``)."""
        if not seconds or seconds <= 0:
            return
        with self._lock:
            self._paused_until = max(self._paused_until, self._clock() + seconds)

    def __repr__(self) -> str:
        return f"<RateLimiter rpm={self.rpm} tpm={self.tpm}>"
