"""Timeouts: per phase, plus a total deadline over every attempt and wait.

=======================  =============================================================
``timeout=``             means
=======================  =============================================================
``5.0``                  connect, read, write and pool each 5 s; no total deadline
``(3.05, 27)``           connect 3.05 s, read 27 s (requests' tuple form)
``Timeout(total=30)``    default phases, and the whole call (retries, waits) within 30 s
``Timeout(None)``        wait forever (not recommended)
=======================  =============================================================
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Union

from hookwire.errors import InvalidRequest

TimeoutTypes = Union["Timeout", float, int, tuple[float | None, float | None], None]

_UNSET = -1.0


def _check(name: str, value: float | None) -> float | None:
    if value is None:
        return None
    value = float(value)
    if math.isnan(value) or value <= 0:
        raise InvalidRequest(f"timeout {name} must be a positive number of seconds, got {value!r}")
    return value


@dataclass(frozen=True)
class Timeout:
    """Seconds allowed for each phase of an exchange; ``None`` means no limit.

    ``read`` is also the idle limit between two chunks of a streamed body. ``first_byte`` bounds
    the wait for the first chunk of a stream (the LLM's time to first token) and falls back to
    ``read``. ``total`` is a deadline for the whole call, every retry and backoff included.
    """

    connect: float | None = 5.0
    read: float | None = 60.0
    write: float | None = 60.0
    pool: float | None = 10.0
    total: float | None = None
    first_byte: float | None = None

    def __post_init__(self) -> None:
        for name in ("connect", "read", "write", "pool", "total", "first_byte"):
            object.__setattr__(self, name, _check(name, getattr(self, name)))

    @classmethod
    def of(cls, value: TimeoutTypes | object = _UNSET) -> Timeout:
        """Normalise any accepted ``timeout=`` form into a ``Timeout``."""
        if isinstance(value, Timeout):
            return value
        if value is _UNSET:
            return cls()
        if value is None:
            return cls(connect=None, read=None, write=None, pool=None)
        if isinstance(value, tuple):
            if len(value) != 2:
                raise InvalidRequest(f"timeout tuple must be (connect, read), got {value!r}")
            return cls(connect=value[0], read=value[1])
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return cls(connect=value, read=value, write=value, pool=value)
        raise InvalidRequest(
            f"timeout must be a number, a (connect, read) tuple or Timeout: {value!r}"
        )

    def capped(self, remaining: float | None) -> Timeout:
        """The phases cut down to what is left of the total deadline, and ``total`` set to
        that: a transport handed a capped Timeout knows how long the whole exchange may still
        take (it bounds the wait for the response head by it, however slowly bytes drip)."""
        if remaining is None:
            return self

        left = max(remaining, 0.001)

        def cap(v: float | None) -> float:
            return left if v is None else min(v, left)

        first = None if self.first_byte is None else cap(self.first_byte)
        return replace(
            self,
            connect=cap(self.connect),
            read=cap(self.read),
            write=cap(self.write),
            pool=cap(self.pool),
            total=left,
            first_byte=first,
        )
