"""Properties and fuzzing (hypothesis) that extend the unit suites' own properties.

``tests/sdk/test_sse.py`` already checks the SSE decoder's events against an oracle for any
split, ``tests/sdk/test_digest.py`` the challenge parser and ``tests/sdk/test_retry.py`` the pure
retry decisions. Here the same inputs go one layer further out:

- SSE: any split leaves the decoder in the same *state* (last event id, retry, comments,
  truncation), id-only and retry-only blocks included, and the OpenAI chunk parser built on it
  gives the same text for any split and raises only the SDK's errors on arbitrary bytes;
- Digest: the whole ``DigestAuth`` flow, fed any ``WWW-Authenticate``, raises only
  ``DigestChallengeError`` and never puts CR/LF into the header it builds;
- Retries: the real ``Client`` send loop, driven by a scripted transport through any sequence
  of statuses, errors and Retry-After values, never makes more attempts than the policy allows
  and never sleeps outside [0, cap] or outside the jitter band;
- Validation: any method/URL/header text is either rejected with ``InvalidRequest`` before
  anything is sent or contains no CR, LF or NUL; any redirect ``Location`` likewise.

Each test counts its examples into the reliability report (``fuzz_examples``).
"""

from __future__ import annotations

import contextlib
import itertools
import math
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import hookwire
from hookwire import errors
from hookwire._digest_auth import DigestAuth
from hookwire._models import Request, Response
from hookwire._redirects import next_request
from hookwire.llm._openai_wire import ChunkParser
from hookwire.retry import RetryPolicy
from hookwire.sse import SSEDecoder
from hookwire.transports import BaseTransport
from tests.reliability import _report

FUZZ = settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def counted(name: str) -> None:
    _report.add("fuzz_examples", name)


def split_at(raw: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({c % (len(raw) + 1) for c in cuts})
    return [raw[a:b] for a, b in itertools.pairwise([0, *points, len(raw)])]


# -- SSE --------------------------------------------------------------------------------------

EOL = st.sampled_from([b"\n", b"\r", b"\r\n"])
FIELD_LINE = st.one_of(
    st.tuples(st.just(b"data: "), st.sampled_from([b"x", "é😀".encode(), b"\xe2\x98", b""])),
    st.tuples(st.just(b"id: "), st.sampled_from([b"7", b"", b"a\x00b", "ü".encode()])),
    st.tuples(st.just(b"retry: "), st.sampled_from([b"1000", b"-1", b"1e3", b"", b"9" * 30])),
    st.tuples(st.just(b":"), st.sampled_from([b" keep-alive", b""])),
    st.tuples(st.just(b"event: "), st.sampled_from([b"error", b"message", b""])),
).map(b"".join)
BLOCK = st.tuples(st.lists(st.tuples(FIELD_LINE, EOL).map(b"".join), max_size=4), EOL).map(
    lambda parts: b"".join(parts[0]) + parts[1]
)
SSE_STREAM = st.tuples(
    st.sampled_from([b"", b"\xef\xbb\xbf"]), st.lists(BLOCK, max_size=8).map(b"".join),
    st.sampled_from([b"", b"data: cut", b"id: tail\n"]),
).map(b"".join)


def _decode_state(chunks: list[bytes]) -> tuple[Any, ...]:
    decoder = SSEDecoder()
    events = [e for chunk in chunks for e in decoder.feed(chunk)]
    events += decoder.flush()
    return (events, decoder.last_event_id, decoder.retry, decoder.comment_count,
            decoder.truncated)


@FUZZ
@given(raw=SSE_STREAM, cuts=st.lists(st.integers(0, 10_000), max_size=10))
def test_sse_any_split_leaves_the_same_events_and_state(raw: bytes, cuts: list[int]) -> None:
    counted("sse_split_state")
    whole = _decode_state([raw])
    assert _decode_state(split_at(raw, cuts)) == whole
    assert _decode_state([raw[i : i + 1] for i in range(len(raw))]) == whole


@FUZZ
@given(raw=st.binary(max_size=300), cuts=st.lists(st.integers(0, 10_000), max_size=8),
       limit=st.integers(1, 64))
def test_sse_arbitrary_bytes_raise_only_the_sdk_protocol_error(
    raw: bytes, cuts: list[int], limit: int
) -> None:
    counted("sse_arbitrary_bytes")
    decoder = SSEDecoder(max_size=limit)
    try:
        for chunk in split_at(raw, cuts):
            decoder.feed(chunk)
        decoder.flush()
    except errors.ProtocolError:
        pass


def _openai_stream(pieces: list[str], finish: bool, done: bool) -> bytes:
    import json

    out = [b'data: {"choices":[{"index":0,"delta":{"role":"assistant"}}]}\n\n']
    for piece in pieces:
        chunk = {"choices": [{"index": 0, "delta": {"content": piece}}]}
        out.append(b"data: " + json.dumps(chunk, ensure_ascii=False).encode() + b"\r\n\r\n")
        out.append(b": keep-alive\n\n")
    if finish:
        out.append(b'data: {"choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}\n\n')
    if done:
        out.append(b"data: [DONE]\n\n")
    return b"".join(out)


def _parse(chunks: list[bytes]) -> tuple[str, str | None, bool]:
    parser = ChunkParser(inline=False)
    deltas = [d for chunk in chunks for d in parser.feed(chunk)] + parser.flush()
    return "".join(d.content for d in deltas), parser.finish_reason, parser.done


@FUZZ
@given(
    pieces=st.lists(st.text(max_size=6), max_size=10),
    finish=st.booleans(),
    done=st.booleans(),
    cuts=st.lists(st.integers(0, 10_000), max_size=10),
)
def test_chat_stream_any_split_gives_the_same_reply(
    pieces: list[str], finish: bool, done: bool, cuts: list[int]
) -> None:
    counted("chat_stream_split")
    raw = _openai_stream(pieces, finish, done)
    expected = ("".join(pieces), "stop" if finish else None, done)
    assert _parse([raw]) == expected
    assert _parse(split_at(raw, cuts)) == expected


@FUZZ
@given(raw=st.one_of(st.binary(max_size=200), SSE_STREAM),
       cuts=st.lists(st.integers(0, 10_000), max_size=8))
def test_chat_stream_arbitrary_bytes_raise_only_sdk_errors(raw: bytes, cuts: list[int]) -> None:
    counted("chat_stream_arbitrary_bytes")
    parser = ChunkParser()
    try:
        for chunk in split_at(raw, cuts):
            parser.feed(chunk)
        parser.flush()
    except (errors.ProtocolError, errors.StreamErrorEvent):
        pass


# -- Digest -----------------------------------------------------------------------------------

CHALLENGE_TOKENS = st.sampled_from([
    "Digest ", "Basic ", "Bearer ", "realm=", "nonce=", "qop=", "algorithm=", "opaque=",
    "stale=", "userhash=", "domain=", '"r"', '"n"', '"auth"', '"auth-int"', '"auth,auth-int"',
    "MD5", "SHA-256", "SHA-512-256-sess", "MD6", "true", ", ", ",", " ", '"', "\\", "\r\n", "é",
])
CHALLENGE = st.one_of(st.text(max_size=80), st.lists(CHALLENGE_TOKENS, max_size=24).map("".join))


@FUZZ
@given(header=CHALLENGE, second=st.one_of(st.none(), CHALLENGE))
def test_digest_flow_on_any_challenge_raises_only_its_typed_error(
    header: str, second: str | None
) -> None:
    counted("digest_flow")
    auth = DigestAuth("user", "pass")
    request = Request("GET", "http://example.test/path?q=1")
    flow = auth.auth_flow(request)
    sent = next(flow)
    challenge = [("WWW-Authenticate", header)] + (
        [("WWW-Authenticate", second)] if second is not None else []
    )
    try:
        answer = flow.send(Response(401, headers=challenge, content=b""))
    except StopIteration:
        return  # no Digest challenge at all: the 401 goes back to the caller
    except (errors.DigestChallengeError, errors.InvalidHeader):
        return
    assert answer is sent
    value = answer.headers["authorization"]
    assert value.startswith("Digest ")
    assert not any(c in value for c in "\r\n\x00")


# -- retries through the real client loop -----------------------------------------------------


class ScriptedTransport(BaseTransport):
    """Answers from a script: an int status (with optional Retry-After) or an error kind."""

    ERRORS = {"connect": errors.ConnectError, "read": errors.ReadError,
              "timeout": errors.ReadTimeout, "protocol": errors.ProtocolError}

    def __init__(self, script: list[tuple[Any, str | None]]) -> None:
        self.script = script
        self.calls = 0

    def handle_request(self, request: Request) -> Response:
        step, retry_after = self.script[min(self.calls, len(self.script) - 1)]
        self.calls += 1
        if isinstance(step, str):
            raise self.ERRORS[step]("scripted", request=request)
        headers = [] if retry_after is None else [("Retry-After", retry_after)]
        return Response(step, headers=headers, content=b"")


STEP = st.tuples(
    st.one_of(st.sampled_from([200, 404, 408, 413, 429, 500, 503]),
              st.sampled_from(["connect", "read", "timeout", "protocol"])),
    st.one_of(st.none(), st.sampled_from(["0", "1", "2.5", "61", "-1", "nan", "1e309",
                                          "Fri, 01 Jan 100000 00:00:00 GMT", "soon"])),
)


@FUZZ
@given(
    script=st.lists(STEP, min_size=1, max_size=12),
    attempts=st.integers(1, 6),
    method=st.sampled_from(["GET", "POST", "PUT"]),
    keyed=st.booleans(),
    jitter=st.floats(0, 1),
    backoff_max=st.floats(0, 10),
    seed=st.integers(0, 2**16),
)
def test_the_client_loop_never_exceeds_the_policy_or_its_delay_bounds(
    script: list[tuple[Any, str | None]], attempts: int, method: str, keyed: bool,
    jitter: float, backoff_max: float, seed: int,
) -> None:
    counted("retry_client_loop")
    policy = RetryPolicy(attempts=attempts, jitter=jitter, backoff_max=backoff_max,
                         retry_after_max=60)
    transport = ScriptedTransport(script)
    clock = hookwire.FakeClock(seed=seed)
    client = hookwire.Client(transport=transport, retry=policy, clock=clock)
    headers = {"Idempotency-Key": "k"} if keyed else None
    with contextlib.suppress(errors.TransportError, errors.RetryError):
        client.request(method, "http://example.test/", headers=headers, content=b"x")
    assert 1 <= transport.calls <= attempts
    assert len(clock.sleeps) == transport.calls - 1
    for n, delay in enumerate(clock.sleeps, start=1):
        assert 0 <= delay <= max(backoff_max, policy.retry_after_max)
        retry_after = script[min(n - 1, len(script) - 1)][1]
        if retry_after not in ("1", "2.5"):  # not a usable hint: ordinary backoff was used
            ceiling = min(policy.backoff_base * 2 ** (n - 1), backoff_max)
            assert ceiling * (1 - jitter) - 1e-9 <= delay <= ceiling + 1e-9


# -- validation -------------------------------------------------------------------------------

NASTY = st.text(alphabet=st.sampled_from(list("aZ09:/?#@%.-_ \t\r\n\x00é[]")), max_size=30)


@FUZZ
@given(method=st.one_of(st.sampled_from(["GET", "POST"]), NASTY),
       url=st.one_of(NASTY.map(lambda s: "http://h.test/" + s), NASTY),
       name=st.one_of(st.just("X-Test"), NASTY), value=NASTY)
def test_method_url_and_headers_are_validated_before_sending(
    method: str, url: str, name: str, value: str
) -> None:
    counted("request_validation")
    client = hookwire.Client(transport=ScriptedTransport([(200, None)]))
    try:
        request = client.build_request(method, url, headers={name: value})
    except errors.InvalidRequest:
        return
    bad = ("\r", "\n", "\x00")
    assert not any(c in request.method + request.url for c in bad)
    for header_name, header_value in request.headers.multi_items():
        assert not any(c in header_name + header_value for c in bad)


@FUZZ
@given(location=st.one_of(NASTY, NASTY.map(lambda s: "https://other.test/" + s)),
       status=st.sampled_from([301, 302, 303, 307, 308]))
def test_any_redirect_location_is_followed_safely_or_rejected(location: str, status: int) -> None:
    counted("redirect_location")
    request = Request("POST", "http://h.test/a", headers={"Authorization": "x", "Cookie": "c"},
                      content=b"body")
    try:
        response = Response(status, headers={"Location": location}, content=b"")
        follow = next_request(request, response)
    except errors.InvalidRequest:
        return
    assert not any(c in follow.url for c in "\r\n\x00")
    assert follow.url.startswith(("http://", "https://"))
    if not follow.url.startswith("http://h.test/"):
        assert "authorization" not in follow.headers and "cookie" not in follow.headers


@FUZZ
@given(values=st.dictionaries(
    st.sampled_from(["retry-after", "Retry-After-Ms", "x-should-retry", "RETRY-AFTER"]),
    st.one_of(st.text(max_size=12), st.floats(allow_nan=True).map(str),
              st.integers(-10**400, 10**400).map(str)), max_size=4),
    status=st.integers(100, 599))
def test_retry_decisions_on_any_headers_never_raise(values: dict[str, str], status: int) -> None:
    counted("retry_after_headers")
    policy = RetryPolicy()
    decision = policy.decide(method="GET", status=status, headers=values, attempt=1,
                             now=1_700_000_000.0)
    assert not math.isnan(decision.delay)
    assert 0 <= decision.delay <= max(policy.backoff_max, policy.retry_after_max)


@pytest.fixture(autouse=True, scope="module")
def _hypothesis_seed_note() -> Any:
    yield
    _report.note("fuzz", "max_examples_per_test", FUZZ.max_examples)
