"""SSE faults through ``hookwire.LLM`` against the live mock server, every transport, sync/async.

Each case scripts one failure with ``X-Mock-Fault`` (or uses the hostile server of
``_hostile.py`` for tokens followed by nothing but keep-alives) and asserts the typed error, the
partial reply it carries, and what the journal says reached the server.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import pytest

from hookwire import FakeClock
from hookwire.errors import (
    DecodingError,
    ProtocolError,
    RateLimitError,
    ReadTimeout,
    StreamErrorEvent,
    StreamInterrupted,
    StreamTruncated,
)
from hookwire.llm import LLM, StreamTimeout

pytestmark = pytest.mark.network

FACES = [
    pytest.param(("requests", False), id="requests-sync"),
    pytest.param(("httpx", False), id="httpx-sync"),
    pytest.param(("httpx", True), id="httpx-async"),
    pytest.param(("aiohttp", True), id="aiohttp-async"),
]
HANG_GUARD = 10.0
TOKENS = "12"


@dataclass
class Outcome:
    deltas: list[Any] = field(default_factory=list)
    error: BaseException | None = None
    result: Any = None
    elapsed: float = 0.0

    @property
    def content(self) -> str:
        return "".join(d.content for d in self.deltas)


def run(
    face: tuple[str, bool],
    base_url: str,
    *,
    chat: bool = False,
    llm: dict[str, Any] | None = None,
    **options: Any,
) -> Outcome:
    """Stream (or chat) once with a fresh LLM on ``face``; every error is caught and returned."""
    transport, is_async = face
    kwargs = {"model": "mock-model", "transport": transport, **(llm or {})}
    out = Outcome()
    started = time.monotonic()
    if not is_async:
        with LLM("openai-compatible", base_url=base_url, **kwargs) as model:
            try:
                if chat:
                    out.result = model.chat("tell me", **options)
                else:
                    with model.stream("tell me", **options) as stream:
                        for delta in stream:
                            out.deltas.append(delta)
                        out.result = stream.result()
            except Exception as exc:
                out.error = exc
    else:

        async def main() -> None:
            async with LLM("openai-compatible", base_url=base_url, **kwargs) as model:
                try:
                    if chat:
                        out.result = await model.achat("tell me", **options)
                    else:
                        async with model.astream("tell me", **options) as stream:
                            async for delta in stream:
                                out.deltas.append(delta)
                            out.result = await stream.aresult()
                except Exception as exc:
                    out.error = exc

        loop = asyncio.new_event_loop()
        try:
            loop.run_until_complete(main())
        finally:
            loop.close()
    out.elapsed = time.monotonic() - started
    return out


@pytest.fixture(params=FACES)
def face(request: pytest.FixtureRequest) -> tuple[str, bool]:
    return request.param  # type: ignore[no-any-return]


@pytest.fixture
def server(mock_server: Any) -> Any:
    mock_server.reset()
    return mock_server


def headers(spec: str | None = None) -> tuple[str, dict[str, str]]:
    session = uuid.uuid4().hex
    out = {"X-Mock-Session": session, "X-Mock-Reply-Tokens": TOKENS}
    if spec:
        out["X-Mock-Fault"] = spec
    return session, out


def attempts(server: Any, session: str) -> int:
    return sum(1 for e in server.journal.entries(path="/v1/chat/completions")
               if e.headers.get("x-mock-session") == session)


def test_clean_stream_is_the_reference(face, server):
    session, extra = headers()
    out = run(face, server.openai_base_url, extra_headers=extra)
    assert out.error is None
    assert out.result.finish_reason == "stop" and out.result.content == out.content
    assert len(out.content.split()) >= 8
    assert attempts(server, session) == 1


def test_connection_closed_mid_stream_is_interrupted_with_the_partial_text(face, server):
    _, clean = headers()
    full = run(face, server.openai_base_url, extra_headers=clean).content
    session, extra = headers("close-after=5")
    out = run(face, server.openai_base_url, extra_headers=extra)
    assert isinstance(out.error, StreamInterrupted), repr(out.error)
    partial = out.error.partial.content
    assert partial and partial == out.content and full.startswith(partial) and partial != full
    assert attempts(server, session) == 1  # never retried once a chunk had arrived


def test_keepalive_comments_alone_still_hit_the_first_token_deadline(face, server):
    session, extra = headers("keepalive-only")
    out = run(face, server.openai_base_url, extra_headers=extra,
              timeout=StreamTimeout(first_token=0.4, idle=0.4))
    assert isinstance(out.error, ReadTimeout), repr(out.error)
    assert out.elapsed < HANG_GUARD
    assert attempts(server, session) == 1


def test_keepalive_comments_after_tokens_still_hit_the_idle_deadline(face, hostile_server):
    out = run(face, hostile_server.url + "/v1", timeout=StreamTimeout(first_token=5, idle=0.4))
    assert isinstance(out.error, StreamInterrupted), repr(out.error)
    assert isinstance(out.error.__cause__, ReadTimeout)
    assert "idle" in str(out.error.__cause__)
    assert out.error.partial.content == "Hello"
    assert out.elapsed < HANG_GUARD


def test_end_without_done_is_truncated_not_success(face, server):
    _session, extra = headers("no-done")
    out = run(face, server.openai_base_url, extra_headers=extra)
    assert isinstance(out.error, StreamTruncated), repr(out.error)
    assert out.error.partial.content == out.content and out.content
    assert out.error.partial.finish_reason is None


def test_error_event_mid_stream_is_typed_and_keeps_the_partial_output(face, server):
    session, extra = headers("error-at=4")
    out = run(face, server.openai_base_url, extra_headers=extra)
    assert isinstance(out.error, StreamErrorEvent), repr(out.error)
    assert out.error.partial.content == out.content and out.content
    assert "error" in out.error.body
    assert attempts(server, session) == 1


def test_invalid_json_event_is_a_protocol_error_naming_the_event(face, server):
    _session, extra = headers("malformed-at=3")
    out = run(face, server.openai_base_url, extra_headers=extra)
    assert isinstance(out.error, ProtocolError) and isinstance(out.error, DecodingError)
    assert "event 3" in str(out.error)
    assert out.error.partial.content == out.content and out.content  # events 0-2 kept


def test_rate_limit_with_retry_after_one_is_retried_once_after_a_second(face, server):
    clock = FakeClock()
    session, extra = headers("calls=1;status=429;retry-after=1")
    out = run(face, server.openai_base_url, chat=True, llm={"clock": clock}, extra_headers=extra)
    assert out.error is None, repr(out.error)
    assert out.result.finish_reason == "stop"
    assert clock.sleeps == [pytest.approx(1.0)]
    assert attempts(server, session) == 2


def test_rate_limit_above_the_cap_is_not_retried_and_exposes_retry_after(face, server):
    clock = FakeClock()
    session, extra = headers("status=429;retry-after=3600")
    out = run(face, server.openai_base_url, chat=True, llm={"clock": clock}, extra_headers=extra)
    assert isinstance(out.error, RateLimitError), repr(out.error)
    assert out.error.retry_after == 3600
    assert clock.sleeps == []
    assert attempts(server, session) == 1


def test_a_retry_policy_given_to_an_llm_retries_chat(face, server):
    # RetryPolicy() leaves POST out of its methods (right for plain HTTP); an LLM call is a POST,
    # so the LLM honours the attempts it was given
    from hookwire import RetryPolicy

    session, extra = headers("calls=1;status=503")
    policy = RetryPolicy(attempts=3, backoff_base=0.01, backoff_max=0.01)
    out = run(face, server.openai_base_url, chat=True, llm={"retry": policy}, extra_headers=extra)
    assert out.error is None, repr(out.error)
    assert out.result.content
    assert attempts(server, session) == 2
