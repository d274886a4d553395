"""The retry policy is pure: every test runs on a fake clock and a scripted random source."""

from __future__ import annotations

import email.utils
import math
import pickle

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hookwire.retry import (
    RetryDecision,
    RetryPolicy,
    RetryState,
    backoff,
    parse_retry_after,
)

NOW = 1_700_000_000.0  # a fixed "wall clock" for HTTP-date arithmetic


class FakeRandom:
    """Replays scripted values in [0, 1) so jitter is predictable."""

    def __init__(self, *values: float) -> None:
        self.values = list(values) or [0.0]
        self.calls = 0

    def random(self) -> float:
        value = self.values[self.calls % len(self.values)]
        self.calls += 1
        return value


def http_date(ts: float) -> str:
    return email.utils.formatdate(ts, usegmt=True)


# -- parse_retry_after ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"Retry-After": "5"}, 5.0),
        ({"retry-after": " 2.5 "}, 2.5),
        ({"Retry-After": "0"}, 0.0),
        ({"retry-after-ms": "1500"}, 1.5),
        ({"retry-after-ms": "250", "retry-after": "30"}, 0.25),  # ms wins
        ({"retry-after-ms": "junk", "retry-after": "30"}, 30.0),  # bad ms falls through
        ({"Retry-After": http_date(NOW + 42)}, 42.0),
        ({"RETRY-AFTER": "7"}, 7.0),  # a plain dict with odd casing
    ],
)
def test_parse_retry_after_valid(headers: dict[str, str], expected: float) -> None:
    assert parse_retry_after(headers, NOW) == pytest.approx(expected)


@pytest.mark.parametrize(
    "value",
    [
        "-1",
        "nan",
        "NaN",
        "inf",
        "+Infinity",
        "",
        "   ",
        "soon",
        "5s",
        "Wed, 32 Foo 2024 99:99:99 GMT",
        "Fri, 01 Jan 100000 00:00:00 GMT",
        http_date(NOW - 3600),  # in the past
    ],
)
def test_parse_retry_after_garbage_is_none(value: str) -> None:
    assert parse_retry_after({"Retry-After": value}, NOW) is None


def test_parse_retry_after_overflow_of_digits_means_too_long() -> None:
    # RFC 9110 delay-seconds (1*DIGIT) too big for a float: an excessive delay, not garbage.
    assert parse_retry_after({"Retry-After": "9" * 400}, NOW) == math.inf
    # An exponent is not delay-seconds: garbage, like "-1" and "nan" (issues 2 and 6).
    assert parse_retry_after({"Retry-After": "1e309"}, NOW) is None
    assert parse_retry_after({"Retry-After-Ms": "-1e999"}, NOW) is None
    assert parse_retry_after(None, NOW) is None
    assert parse_retry_after({}, NOW) is None


@settings(max_examples=400, deadline=None)
@given(value=st.text(), ms=st.one_of(st.none(), st.text()), now=st.floats(0, 4e9))
def test_parse_retry_after_never_raises(value: str, ms: str | None, now: float) -> None:
    headers = {"retry-after": value}
    if ms is not None:
        headers["retry-after-ms"] = ms
    result = parse_retry_after(headers, now)
    assert result is None or (result >= 0 and not math.isnan(result))


@settings(max_examples=200, deadline=None)
@given(offset=st.integers(1, 10**7))
def test_parse_retry_after_http_date_roundtrip(offset: int) -> None:
    assert parse_retry_after({"Retry-After": http_date(NOW + offset)}, NOW) == offset


# -- backoff ----------------------------------------------------------------------------------


def test_backoff_doubles_then_caps() -> None:
    no_jitter = FakeRandom(0.0)
    delays = [backoff(n, no_jitter, base=0.5, cap=8.0) for n in range(1, 8)]
    assert delays == [0.5, 1.0, 2.0, 4.0, 8.0, 8.0, 8.0]


def test_backoff_jitter_only_shortens() -> None:
    # random() just below 1 removes almost the whole jitter fraction.
    assert backoff(1, FakeRandom(0.999999), base=4.0, cap=8.0, jitter=0.25) == pytest.approx(3.0)
    assert backoff(10_000, FakeRandom(0.5), cap=8.0) == pytest.approx(8.0 * (1 - 0.125))


@settings(max_examples=400, deadline=None)
@given(
    attempt=st.integers(-5, 5000),
    r=st.floats(0, 1, exclude_max=True),
    base=st.floats(0, 100),
    cap=st.floats(0, 1000),
    jitter=st.floats(0, 1),
)
def test_backoff_within_bounds(
    attempt: int, r: float, base: float, cap: float, jitter: float
) -> None:
    delay = backoff(attempt, FakeRandom(r), base=base, cap=cap, jitter=jitter)
    ceiling = min(base * 2.0 ** min(max(attempt - 1, 0), 1000), cap)
    assert 0 <= delay <= cap
    assert ceiling * (1 - jitter) - 1e-9 <= delay <= ceiling + 1e-9


# -- the policy value -------------------------------------------------------------------------


def test_policy_is_immutable_hashable_and_pickles() -> None:
    policy = RetryPolicy(methods=["get", "post"], statuses=[503])
    assert policy.methods == frozenset({"GET", "POST"})
    assert policy.statuses == frozenset({503})
    with pytest.raises(AttributeError):
        policy.attempts = 5  # type: ignore[misc]
    assert hash(policy) == hash(RetryPolicy(methods={"GET", "POST"}, statuses={503}))
    assert pickle.loads(pickle.dumps(policy)) == policy
    assert policy.replace(attempts=5).attempts == 5 and policy.attempts == 3


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"attempts": 0}, "attempts"),
        ({"attempts": True}, "attempts"),
        ({"backoff_base": -1}, "backoff_base"),
        ({"backoff_max": math.inf}, "backoff_max"),
        ({"jitter": 1.5}, "jitter"),
        ({"retry_after_max": math.nan}, "retry_after_max"),
    ],
)
def test_policy_rejects_bad_configuration(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises((ValueError, TypeError), match=message):
        RetryPolicy(**kwargs)  # type: ignore[arg-type]


def decide(policy: RetryPolicy, **kwargs: object) -> RetryDecision:
    kwargs.setdefault("method", "GET")
    kwargs.setdefault("attempt", 1)
    kwargs.setdefault("now", NOW)
    kwargs.setdefault("rng", FakeRandom(0.0))
    return policy.decide(**kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize("status", sorted(RetryPolicy().statuses))
def test_default_retries_listed_statuses_for_get(status: int) -> None:
    decision = decide(RetryPolicy(), status=status)
    assert decision.retry and decision.delay == 0.5
    assert str(status) in decision.reason


@pytest.mark.parametrize("status", [200, 400, 401, 404, 409, 501])
def test_default_does_not_retry_other_statuses(status: int) -> None:
    assert not decide(RetryPolicy(), status=status).retry


@pytest.mark.parametrize("method", ["POST", "PATCH"])
def test_non_idempotent_needs_opt_in_or_idempotency_key(method: str) -> None:
    refused = decide(RetryPolicy(), method=method, status=503)
    assert not refused.retry and "not idempotent" in refused.reason
    assert decide(RetryPolicy(), method=method, status=503, has_idempotency_key=True).retry
    assert decide(RetryPolicy(retry_post=True), method=method, status=503).retry
    assert not decide(RetryPolicy(), method=method, error_kind="timeout").retry
    assert decide(
        RetryPolicy(), method=method, error_kind="timeout", has_idempotency_key=True
    ).retry


def test_connect_errors_retry_any_method_unless_disabled() -> None:
    assert decide(RetryPolicy(), method="POST", error_kind="connect").retry
    assert not decide(RetryPolicy(retry_on_connect_errors=False), error_kind="connect").retry
    assert not decide(RetryPolicy(retry_on_timeouts=False), error_kind="timeout").retry
    assert not decide(RetryPolicy(retry_on_read_errors=False), error_kind="read").retry
    assert decide(RetryPolicy(), error_kind="protocol").retry


def test_decide_rejects_missing_outcome_and_unknown_error_kind() -> None:
    with pytest.raises(ValueError, match="status or the error_kind"):
        decide(RetryPolicy())
    with pytest.raises(ValueError, match="banana"):
        decide(RetryPolicy(), error_kind="banana")


def test_retry_after_honoured_up_to_the_cap() -> None:
    policy = RetryPolicy(retry_after_max=60)
    honoured = decide(policy, status=429, headers={"Retry-After": "60"})
    assert honoured.retry and honoured.delay == 60.0
    refused = decide(policy, status=429, headers={"Retry-After": "61"})
    assert not refused.retry and "cap" in refused.reason
    assert not decide(policy, status=429, headers={"Retry-After": "9" * 400}).retry
    ignored = decide(
        policy.replace(respect_retry_after=False), status=429, headers={"Retry-After": "61"}
    )
    assert ignored.retry and ignored.delay == 0.5


@pytest.mark.parametrize("garbage", ["-1", "nan", "inf", "1e309", "tomorrow", "", "0"])
def test_garbage_retry_after_falls_back_to_backoff(garbage: str) -> None:
    decision = decide(RetryPolicy(), status=503, attempt=2, headers={"Retry-After": garbage})
    assert decision.retry and decision.delay == 1.0  # 0.5 * 2**1, no jitter from FakeRandom(0)


def test_retry_after_makes_413_retryable_like_urllib3() -> None:
    assert not decide(RetryPolicy(), status=413).retry
    assert decide(RetryPolicy(), status=413, headers={"Retry-After": "3"}).delay == 3.0


def test_x_should_retry_overrides_status_and_method() -> None:
    forced = decide(RetryPolicy(), method="POST", status=400, headers={"x-should-retry": "true"})
    assert forced.retry and "x-should-retry" in forced.reason
    assert not decide(RetryPolicy(), status=503, headers={"X-Should-Retry": "false"}).retry
    # ...but not the attempt budget or the Retry-After cap.
    assert not decide(
        RetryPolicy(), status=503, attempt=3, headers={"x-should-retry": "true"}
    ).retry
    too_long = {"x-should-retry": "true", "retry-after": "600"}
    assert not decide(RetryPolicy(), status=503, headers=too_long).retry
    off = RetryPolicy(respect_x_should_retry=False)
    assert not decide(off, status=400, headers={"x-should-retry": "true"}).retry


def test_deadline_refuses_a_wait_that_would_pass_it() -> None:
    assert decide(RetryPolicy(), status=503, remaining=0.5).retry
    late = decide(RetryPolicy(), status=503, remaining=0.49)
    assert not late.retry and "deadline" in late.reason
    assert not decide(RetryPolicy(), status=503, headers={"Retry-After": "10"}, remaining=9).retry
    passed = decide(RetryPolicy(), status=503, headers={"Retry-After": "0"}, remaining=0.0)
    assert not passed.retry and "deadline" in passed.reason


@settings(max_examples=300, deadline=None)
@given(
    attempts=st.integers(1, 8),
    statuses=st.lists(st.sampled_from([408, 429, 500, 502, 503, 504]), min_size=20, max_size=20),
    rs=st.lists(st.floats(0, 1, exclude_max=True), min_size=1, max_size=5),
    retry_after=st.one_of(st.none(), st.integers(0, 100).map(str), st.text(max_size=8)),
)
def test_a_driver_loop_never_exceeds_the_policy(
    attempts: int, statuses: list[int], rs: list[float], retry_after: str | None
) -> None:
    policy = RetryPolicy(attempts=attempts)
    rng = FakeRandom(*rs)
    headers = {} if retry_after is None else {"Retry-After": retry_after}
    state = RetryState()
    for status in statuses:  # the server fails every time
        decision = policy.decide(
            method="GET", status=status, headers=headers, attempt=state.attempt, now=NOW, rng=rng
        )
        if not decision.retry:
            break
        hint = parse_retry_after(headers, NOW)
        if hint is not None and 0 < hint <= policy.retry_after_max:
            assert decision.delay == hint
        else:
            assert 0 <= decision.delay <= policy.backoff_max
            ceiling = min(0.5 * 2 ** (state.attempt - 1), 8.0)
            assert ceiling * 0.75 - 1e-9 <= decision.delay <= ceiling
        state = state.advance(decision)
    hint = parse_retry_after(headers, NOW)
    if hint is not None and hint > policy.retry_after_max:
        assert state.attempt == 1  # the server asked for longer than the cap: no retry at all
    else:
        assert state.attempt == attempts  # every allowed attempt used, never one more
    assert len(state.history) == state.attempt - 1
    assert state.total_delay == pytest.approx(sum(d.delay for d in state.history))


# -- presets ----------------------------------------------------------------------------------


def test_none_never_retries() -> None:
    assert not decide(RetryPolicy.none(), error_kind="connect").retry


def test_openai_preset_matches_openai_python() -> None:
    policy = RetryPolicy.from_openai()
    for status in (408, 409, 429, 500, 599):
        assert decide(policy, method="POST", status=status).retry
    assert not decide(policy, status=400).retry
    assert decide(policy, status=429, headers={"retry-after": "120"}).delay == 120.0
    assert not decide(policy, status=429, headers={"retry-after": "121"}).retry
    assert not decide(policy, status=500, attempt=3).retry  # max_retries=2
    delays = [decide(policy, status=500, attempt=n, rng=FakeRandom(0.0)).delay for n in (1, 2)]
    assert delays == [0.5, 1.0]
