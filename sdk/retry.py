"""The retry policy: an immutable value whose decisions are pure functions.

Nothing here sleeps, reads a clock or draws a random number on its own: the caller passes the
attempt number, ``now`` and a random source, and gets back a :class:`RetryDecision`. The sync
and async clients therefore share every decision and differ only in how they wait
(``time.sleep`` or ``await asyncio.sleep``), and tests run on a fake clock (urllib3's ``Retry``
is the model; openai-python's ``_should_retry``/``_calculate_retry_timeout`` set the defaults).

=====================  =========================================================================
usage                  policy
=====================  =========================================================================
default                ``RetryPolicy()``: 3 attempts, idempotent methods, 408/429/5xx gateway
openai-python          ``RetryPolicy.from_openai()``: every method, 408/409/429/>=500
never retry            ``RetryPolicy.none()``
POST with a key        ``policy.decide(..., has_idempotency_key=True)`` retries POST/PATCH too
requests/urllib3       ``hookwire.plugins.transports.requests_transport.urllib3_retry(policy)``
=====================  =========================================================================

A driver loop looks like this (``send`` and ``sleep`` belong to the shell)::

    state = RetryState()
    while True:
        response = send(request)
        decision = policy.decide(method=request.method, status=response.status_code,
                                 headers=response.headers, attempt=state.attempt,
                                 now=time.time(), rng=random, remaining=deadline - clock())
        if not decision.retry:
            return response
        sleep(decision.delay)
        state = state.advance(decision)
"""

from __future__ import annotations

import dataclasses
import datetime
import email.utils
import math
import random
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Literal, Protocol

from hookwire._headers import Headers

__all__ = [
    "IDEMPOTENT_METHODS",
    "RETRY_AFTER_STATUSES",
    "ErrorKind",
    "RandomSource",
    "RetryDecision",
    "RetryPolicy",
    "RetryState",
    "backoff",
    "parse_retry_after",
]

ErrorKind = Literal["connect", "timeout", "read", "protocol"]
_ERROR_KINDS = frozenset({"connect", "timeout", "read", "protocol"})

#: RFC 9110 section 9.2.2: repeating these has the same effect as sending them once.
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "PUT", "DELETE", "OPTIONS", "TRACE"})
_ALL_METHODS = IDEMPOTENT_METHODS | {"POST", "PATCH", "CONNECT"}
DEFAULT_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
#: urllib3 retries these whenever the server sent a usable Retry-After, listed or not.
RETRY_AFTER_STATUSES = frozenset({413, 429, 503})


class RandomSource(Protocol):
    """Anything with ``random() -> float`` in [0, 1): the ``random`` module, ``random.Random``."""

    def random(self) -> float: ...


@dataclass(frozen=True, slots=True)
class RetryDecision:
    """What to do after a failed attempt: ``retry`` after ``delay`` seconds, and why."""

    retry: bool
    delay: float
    reason: str


@dataclass(frozen=True, slots=True)
class RetryState:
    """Where a retry loop stands: the number of the attempt in flight and past decisions.

    Immutable like the policy: :meth:`advance` returns the state for the next attempt.
    """

    attempt: int = 1
    history: tuple[RetryDecision, ...] = ()

    def advance(self, decision: RetryDecision) -> RetryState:
        return RetryState(self.attempt + 1, (*self.history, decision))

    @property
    def total_delay(self) -> float:
        """Seconds slept so far (the sum of the delays of the decisions taken)."""
        return math.fsum(d.delay for d in self.history)


def _header(headers: Mapping[str, str], name: str) -> str | None:
    """Case-insensitive lookup of a lower-case ``name`` that also works on a plain ``dict``.

    ``hookwire.Headers`` already ignores case, so one ``get`` answers; scanning its items again
    after a miss cost a second pass over every header (~5 us per lookup, two or three
    lookups per retry decision). Only a plain mapping needs the scan.
    """
    value = headers.get(name)
    if value is not None or isinstance(headers, Headers):
        return value
    for key, found in headers.items():
        if key.lower() == name:
            return found
    return None


def _parse_seconds(value: str, divisor: float) -> float | None:
    """A numeric delay, or None for garbage; ``inf`` for a number too large to represent."""
    text = value.strip()
    try:
        number = float(text)
    except ValueError:
        return None
    if math.isnan(number) or number < 0:
        return None
    if math.isinf(number):
        # RFC 9110 section 10.2.3: delay-seconds is 1*DIGIT. A run of digits too long for a
        # float is a valid, excessive delay (refuse the retry); an exponent ("1e309") or a
        # literal "inf" is not delay-seconds at all, so it is garbage and backoff applies, as
        # for "-1" and "nan" (issues 2 and 6; openai-python 3.x refuses "1e309" instead).
        return math.inf if text.lstrip("+").isdigit() else None
    return number / divisor


def _parse_http_date(value: str, now: float) -> float | None:
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if when.tzinfo is None:  # "-0000" means UTC with no claim about the local zone (RFC 5322)
        when = when.replace(tzinfo=datetime.timezone.utc)
    try:
        delay = when.timestamp() - now
    except (OverflowError, ValueError, OSError):
        return None
    return delay if delay >= 0 else None


def parse_retry_after(headers: Mapping[str, str] | None, now: float) -> float | None:
    """The server's requested wait in seconds, or None when it sent none or garbage.

    ``retry-after-ms`` (milliseconds, a de-facto header of OpenAI and Azure) wins over
    ``retry-after``, which is float seconds or an HTTP-date (RFC 9110 section 10.2.3) taken
    relative to ``now`` (epoch seconds). Negative values, NaN, a literal ``inf``, dates in the
    past and unparsable text give None, and so does a non-digit number too large for a float
    (``1e309``): it is not RFC 9110 ``delay-seconds``. A run of digits too large for a float
    gives ``math.inf``: the server asked for longer than any cap, so
    :meth:`RetryPolicy.decide` refuses rather than hammering it on a short backoff. Never raises.
    """
    if not headers:
        return None
    for name, divisor in (("retry-after-ms", 1000.0), ("retry-after", 1.0)):
        raw = _header(headers, name)
        if raw is None:
            continue
        seconds = _parse_seconds(raw, divisor)
        if seconds is not None:
            return seconds
    raw = _header(headers, "retry-after")
    if raw is None or not raw.strip():
        return None
    return _parse_http_date(raw.strip(), now)


def backoff(
    attempt: int,
    rng: RandomSource,
    *,
    base: float = 0.5,
    cap: float = 8.0,
    jitter: float = 0.25,
) -> float:
    """Exponential backoff after failed attempt number ``attempt`` (1-based), in [0, cap].

    ``min(base * 2 ** (attempt - 1), cap)`` reduced by up to ``jitter`` of itself, as
    openai-python does: jitter only shortens the wait, so the cap is never passed.
    """
    exponent = min(max(attempt - 1, 0), 1000)  # 2.0 ** 1024 overflows a float
    delay = min(base * 2.0**exponent, cap)
    return max(0.0, delay * (1.0 - jitter * rng.random()))


def _frozen_upper(methods: Iterable[str]) -> frozenset[str]:
    return frozenset(m.upper() for m in methods)


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """When to try a request again, and how long to wait first.

    ``attempts`` counts every try, the first included (``attempts=1`` never retries).
    Statuses in ``statuses`` and ``timeout``/``read``/``protocol`` errors are retried only for
    ``methods`` (idempotent ones by default), for any method when ``retry_post`` is set, and for
    a request that carries an ``Idempotency-Key`` (the caller says so with
    ``has_idempotency_key``). Connect errors are retried for every method: the request never
    reached the server. A ``Retry-After`` longer than ``retry_after_max`` means "do not retry"
    (openai-python); a garbage one falls back to :func:`backoff`.
    """

    attempts: int = 3
    statuses: frozenset[int] = DEFAULT_STATUSES
    methods: frozenset[str] = IDEMPOTENT_METHODS
    retry_post: bool = False
    retry_on_connect_errors: bool = True
    retry_on_timeouts: bool = True
    retry_on_read_errors: bool = True
    backoff_base: float = 0.5
    backoff_max: float = 8.0
    jitter: float = 0.25
    retry_after_max: float = 60.0
    respect_retry_after: bool = True
    respect_x_should_retry: bool = True

    def __post_init__(self) -> None:
        # Accept any iterable (a set, a list) but keep the value hashable and immutable.
        object.__setattr__(self, "statuses", frozenset(int(s) for s in self.statuses))
        object.__setattr__(self, "methods", _frozen_upper(self.methods))
        if isinstance(self.attempts, bool) or not isinstance(self.attempts, int):
            raise TypeError(f"attempts must be an int, got {type(self.attempts).__name__}")
        if self.attempts < 1:
            raise ValueError(
                f"attempts counts the first try too and must be >= 1, got {self.attempts}"
            )
        for name in ("backoff_base", "backoff_max", "retry_after_max"):
            value = getattr(self, name)
            if not (isinstance(value, (int, float)) and math.isfinite(value) and value >= 0):
                raise ValueError(f"{name} must be a finite number >= 0, got {value!r}")
        if not (isinstance(self.jitter, (int, float)) and 0 <= self.jitter <= 1):
            raise ValueError(f"jitter is a fraction of the delay in [0, 1], got {self.jitter!r}")

    # -- presets ----------------------------------------------------------------------------
    @classmethod
    def none(cls) -> RetryPolicy:
        """Never retry."""
        return cls(attempts=1)

    @classmethod
    def from_openai(cls) -> RetryPolicy:
        """openai-python's policy: 3 tries, any method, 408/409/429/>=500, Retry-After <= 120."""
        return cls(
            attempts=3,
            statuses=frozenset({408, 409, 429, *range(500, 600)}),
            methods=_ALL_METHODS,
            retry_post=True,
            backoff_base=0.5,
            backoff_max=8.0,
            jitter=0.25,
            retry_after_max=120.0,
        )

    def replace(self, **changes: object) -> RetryPolicy:
        """A copy with some fields changed (``policy.replace(attempts=5)``)."""
        return dataclasses.replace(self, **changes)  # type: ignore[arg-type]

    # -- decisions --------------------------------------------------------------------------
    def method_allowed(self, method: str, *, has_idempotency_key: bool = False) -> bool:
        """Whether repeating ``method`` is safe under this policy."""
        return self.retry_post or has_idempotency_key or method.upper() in self.methods

    def backoff(self, attempt: int, rng: RandomSource) -> float:
        """This policy's backoff after failed attempt ``attempt``; in [0, backoff_max]."""
        return backoff(
            attempt, rng, base=self.backoff_base, cap=self.backoff_max, jitter=self.jitter
        )

    def _retryable(
        self, method: str, status: int | None, error_kind: str | None, key: bool, hint: bool
    ) -> tuple[bool, str]:
        if error_kind is not None:
            if error_kind not in _ERROR_KINDS:
                raise ValueError(
                    f"unknown error_kind {error_kind!r}; use one of {sorted(_ERROR_KINDS)}"
                )
            if error_kind == "connect":
                # The request never reached the server, so any method is safe to repeat.
                return self.retry_on_connect_errors, "connect error"
            enabled = (
                self.retry_on_timeouts if error_kind == "timeout" else self.retry_on_read_errors
            )
            if not enabled:
                return False, f"{error_kind} errors are not retried"
            if not self.method_allowed(method, has_idempotency_key=key):
                return False, f"{method.upper()} is not idempotent"
            return True, f"{error_kind} error"
        assert status is not None
        listed = status in self.statuses or (hint and status in RETRY_AFTER_STATUSES)
        if not listed:
            return False, f"status {status} is not retried"
        if not self.method_allowed(method, has_idempotency_key=key):
            return False, f"{method.upper()} is not idempotent"
        return True, f"status {status}"

    def decide(
        self,
        *,
        method: str,
        status: int | None = None,
        error_kind: ErrorKind | None = None,
        headers: Mapping[str, str] | None = None,
        attempt: int,
        has_idempotency_key: bool = False,
        remaining: float | None = None,
        now: float,
        rng: RandomSource | None = None,
    ) -> RetryDecision:
        """Whether to retry after attempt number ``attempt`` (1-based) failed, and the wait.

        Pass ``status`` and ``headers`` for a response, or ``error_kind`` when no response came
        ("connect", "timeout", "read", "protocol"). ``remaining`` is the time left before the
        caller's deadline; a retry whose wait would pass it is refused. ``rng`` defaults to
        the ``random`` module. The server's ``x-should-retry: true|false`` overrides the
        status and method rules (openai-python), but never the attempt count, the deadline or
        the Retry-After cap.
        """
        if status is None and error_kind is None:
            raise ValueError("decide() needs the response status or the error_kind")
        if attempt >= self.attempts:
            return RetryDecision(False, 0.0, f"attempts exhausted ({attempt} of {self.attempts})")
        if remaining is not None and remaining <= 0:
            return RetryDecision(False, 0.0, "the deadline has passed")
        hint = parse_retry_after(headers, now) if self.respect_retry_after else None
        if hint is not None and hint > self.retry_after_max:
            return RetryDecision(
                False, 0.0, f"Retry-After {hint:g}s exceeds the {self.retry_after_max:g}s cap"
            )
        usable_hint = hint is not None and hint > 0
        override = (
            _header(headers, "x-should-retry") if headers and self.respect_x_should_retry else None
        )
        if override is not None and override.strip().lower() in ("true", "false"):
            retry = override.strip().lower() == "true"
            reason = f"x-should-retry: {override.strip().lower()}"
        else:
            retry, reason = self._retryable(
                method, status, error_kind, has_idempotency_key, usable_hint
            )
        if not retry:
            return RetryDecision(False, 0.0, reason)
        if usable_hint:
            assert hint is not None
            delay, reason = hint, f"{reason}; Retry-After {hint:g}s"
        else:
            delay = self.backoff(attempt, rng if rng is not None else random)
        if remaining is not None and delay > remaining:
            return RetryDecision(
                False, 0.0, f"waiting {delay:.3g}s would pass the deadline ({remaining:.3g}s left)"
            )
        return RetryDecision(True, delay, reason)
