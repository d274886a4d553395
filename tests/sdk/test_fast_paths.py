"""Behaviour the per-request fast paths must keep (their speed is benchmarks/bench_http.py's job).

Each fast path skips work the general path does; every test here pins what the skipped work
would have produced, so a shortcut that drifts from the general rule fails:

- ``Response.aread()`` takes a stream's optional ``aread_all(limit)`` (one await) and falls back
  to chunked reading when it answers None; the size limit and the close-on-error still hold.
- ``Headers.from_wire`` trusts a parser's pairs; what is copied from them into a request is
  still checked when the request is built. ``Headers.get`` keeps ``Mapping.get``'s meaning.
- The proxy shortcut (no ``*_proxy`` variable, no proxy lookup) sees environment changes
  between two requests of the same client.
- The observation hooks are not called while nobody implements them, and are once a plugin
  that does is registered on the same host, even after the client has sent requests.
- ``send`` without auth, deadline or retries skips the retry loop; it answers and fails
  exactly as the loop does (parametrized: fast path vs the full loop that retries nothing).
"""

from __future__ import annotations

import asyncio
import importlib.util
import os
import socket
import uuid
from collections.abc import AsyncIterator, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

import hookwire
from hookwire import errors
from hookwire._headers import Headers
from hookwire._models import Response
from hookwire.hookspecs import hookimpl
from hookwire.registry import PluginHost

_HAS_AIOHTTP = importlib.util.find_spec("aiohttp") is not None


# =============================================================================================
# Response.aread() and the optional AsyncByteStream.aread_all(limit)
# =============================================================================================


class _OneShotStream:
    """An AsyncByteStream that also offers ``aread_all``, recording how it was used.

    ``answer`` is what ``aread_all`` returns (bytes, or None for "cannot tell"); ``fail`` is
    raised from it instead when set. Iteration yields ``chunks``.
    """

    def __init__(
        self,
        answer: bytes | None,
        chunks: tuple[bytes, ...] = (),
        fail: BaseException | None = None,
    ) -> None:
        self.answer = answer
        self.chunks = chunks
        self.fail = fail
        self.limits: list[int] = []
        self.iterated = 0
        self.closed = 0

    async def aread_all(self, limit: int) -> bytes | None:
        self.limits.append(limit)
        if self.fail is not None:
            raise self.fail
        return self.answer

    async def __aiter__(self) -> AsyncIterator[bytes]:
        self.iterated += 1
        for chunk in self.chunks:
            yield chunk

    async def aclose(self) -> None:
        self.closed += 1


async def test_aread_uses_aread_all_when_the_stream_offers_it() -> None:
    stream = _OneShotStream(b"whole body", chunks=(b"never", b"iterated"))
    response = Response(200, stream=stream, max_body_size=1234)
    assert await response.aread() == b"whole body"
    assert stream.limits == [1234]  # asked with the response's own limit
    assert stream.iterated == 0
    assert stream.closed == 1
    assert response.is_stream_consumed
    assert response.content == b"whole body"
    # Read once: a second aread and a later iteration serve the stored bytes.
    assert await response.aread() == b"whole body"
    assert [c async for c in response.aiter_bytes()] == [b"whole body"]
    assert stream.limits == [1234] and stream.iterated == 0


async def test_aread_all_answering_none_falls_back_to_chunked_reading() -> None:
    stream = _OneShotStream(None, chunks=(b"ab", b"cd", b"ef"))
    response = Response(200, stream=stream)
    assert await response.aread() == b"abcdef"
    assert len(stream.limits) == 1
    assert stream.iterated == 1
    assert stream.closed == 1


async def test_chunked_fallback_still_enforces_the_size_limit() -> None:
    stream = _OneShotStream(None, chunks=(b"x" * 6, b"x" * 6))
    response = Response(200, stream=stream, max_body_size=10)
    with pytest.raises(errors.BodyTooLarge):
        await response.aread()
    assert stream.closed == 1


async def test_aread_all_result_is_checked_against_the_limit_again() -> None:
    """A stream that gets the limit wrong still cannot hand back more than max_body_size."""
    stream = _OneShotStream(b"y" * 11, chunks=(b"unused",))
    response = Response(200, stream=stream, max_body_size=10)
    with pytest.raises(errors.BodyTooLarge) as info:
        await response.aread()
    assert info.value.limit == 10
    assert stream.closed == 1
    assert stream.iterated == 0  # no second attempt through iteration
    with pytest.raises(errors.ResponseNotRead):
        response.content  # noqa: B018 - nothing was stored


async def test_a_body_exactly_at_the_limit_is_accepted() -> None:
    stream = _OneShotStream(b"z" * 10)
    assert await Response(200, stream=stream, max_body_size=10).aread() == b"z" * 10


@pytest.mark.parametrize(
    "fail",
    [errors.ReadError("broke mid-body"), asyncio.CancelledError()],
    ids=["transport-error", "cancelled"],
)
async def test_an_error_in_aread_all_closes_the_stream(fail: BaseException) -> None:
    stream = _OneShotStream(b"unused", chunks=(b"unused",), fail=fail)
    response = Response(200, stream=stream)
    with pytest.raises(type(fail)):
        await response.aread()
    assert stream.closed == 1
    assert stream.iterated == 0
    # The stream was handed over once; it cannot be read again as if nothing happened.
    with pytest.raises(errors.StreamConsumed):
        await response.aread()


async def test_a_stream_already_iterated_is_not_read_again_through_aread_all() -> None:
    stream = _OneShotStream(b"second helping", chunks=(b"first", b"second"))
    response = Response(200, stream=stream)
    chunks = response.aiter_raw()
    assert await chunks.__anext__() == b"first"
    with pytest.raises(errors.StreamConsumed):
        await response.aread()
    assert stream.limits == []
    await chunks.aclose()
    assert stream.closed == 1


async def test_a_plain_async_stream_without_aread_all_is_iterated() -> None:
    class Plain:
        closed = False

        async def __aiter__(self) -> AsyncIterator[bytes]:
            yield b"plain"

        async def aclose(self) -> None:
            Plain.closed = True

    assert await Response(200, stream=Plain()).aread() == b"plain"
    assert Plain.closed


# =============================================================================================
# Headers.from_wire and Headers.get
# =============================================================================================

_WIRE = [
    ("Content-Type", "application/json"),
    ("Set-Cookie", "a=1"),
    ("x-lower", "v"),
    ("SET-COOKIE", "b=2"),
    ("Set-Cookie", "c=3"),
]


def test_from_wire_keeps_order_spelling_and_repeats() -> None:
    headers = Headers.from_wire(iter(_WIRE))  # any iterable, consumed once
    assert headers.multi_items() == _WIRE
    assert list(headers) == ["Content-Type", "Set-Cookie", "x-lower"]
    assert headers.get_list("set-cookie") == ["a=1", "b=2", "c=3"]
    assert headers["Set-Cookie"] == "a=1, b=2, c=3"
    assert len(headers) == 3
    # Same meaning as headers built through add(), pair for pair.
    assert headers == Headers(_WIRE)
    assert headers.multi_items() == Headers(_WIRE).multi_items()


def test_from_wire_copies_the_pairs() -> None:
    pairs = list(_WIRE)
    headers = Headers.from_wire(pairs)
    pairs.append(("X-Late", "1"))
    headers.add("X-Own", "2")
    assert "x-late" not in headers
    assert ("X-Own", "2") not in pairs


def test_from_wire_takes_parser_output_without_checking_it_again() -> None:
    """The documented trade: received pairs are trusted (a parser already cut them at CR LF),
    whereas anything built for sending is checked."""
    bad = [("X-Echo", "a\r\nInjected: 1")]
    assert Headers.from_wire(bad).multi_items() == bad
    with pytest.raises(errors.InvalidHeader):
        Headers(bad)


def _response_with_wire_headers(pairs: list[tuple[str, str]]) -> Response:
    return Response(200, headers=Headers.from_wire(pairs), content=b"")


@pytest.mark.parametrize(
    "value",
    ["a\r\nInjected: 1", "a\nInjected: 1", "a\rb", "a\x00b"],
    ids=["crlf", "lf", "cr", "nul"],
)
def test_a_wire_value_copied_into_a_request_is_still_checked(value: str) -> None:
    response = _response_with_wire_headers([("X-Echo", value), ("X-Fine", "ok")])
    client = hookwire.Client(transport="requests")
    try:
        # The whole response header set as per-call headers ...
        with pytest.raises(errors.InvalidHeader):
            client.build_request("GET", "http://127.0.0.1:9/", headers=response.headers)
        # ... or one value taken out of it.
        with pytest.raises(errors.InvalidHeader):
            client.build_request(
                "GET", "http://127.0.0.1:9/", headers={"X-Echo": response.headers["x-echo"]}
            )
        # ... or into the client's defaults.
        with pytest.raises(errors.InvalidHeader):
            client.headers.update(response.headers)
        # A clean value copied the same way goes through.
        request = client.build_request(
            "GET", "http://127.0.0.1:9/", headers={"X-Fine": response.headers["x-fine"]}
        )
        assert request.headers["x-fine"] == "ok"
    finally:
        client.close()


def test_get_default_semantics() -> None:
    headers = Headers.from_wire([("X-Empty", ""), ("X-Dup", "1"), ("x-dup", "2")])
    assert headers.get("x-missing") is None
    assert headers.get("x-missing", "fallback") == "fallback"
    sentinel = object()
    assert headers.get("x-missing", sentinel) is sentinel
    assert headers.get("x-missing", None) is None
    # Present but empty is a value, not a miss.
    assert headers.get("x-empty", "fallback") == ""
    assert headers.get("x-dup", "fallback") == "1, 2"


@pytest.mark.parametrize(
    "spelling", ["content-type", "CONTENT-TYPE", "Content-Type", "cOnTeNt-TyPe"]
)
def test_get_ignores_case(spelling: str) -> None:
    for headers in (Headers({"Content-Type": "text/plain"}), Headers.from_wire(_WIRE)):
        assert headers.get(spelling) == headers["content-type"]
        assert spelling in headers


_names = st.sampled_from(["A", "a", "B", "b", "Content-Type", "content-type", "X-Y"])
_values = st.sampled_from(["", "1", "two", "a, b"])


@given(
    pairs=st.lists(st.tuples(_names, _values), max_size=6),
    name=_names,
    default=st.sampled_from([None, "", "d"]),
)
def test_get_matches_the_generic_mapping_get(
    pairs: list[tuple[str, str]], name: str, default: str | None
) -> None:
    for headers in (Headers(pairs), Headers.from_wire(pairs)):
        assert headers.get(name, default) == Mapping.get(headers, name, default)
        assert headers.get(name) == Mapping.get(headers, name)


# =============================================================================================
# Live-server harness: one client per (transport, face), sync-looking calls
# =============================================================================================


@dataclass(frozen=True)
class Face:
    transport: str
    is_async: bool


FACES = [
    pytest.param(Face("requests", False), id="requests-sync"),
    pytest.param(
        Face("aiohttp", True),
        id="aiohttp-async",
        marks=pytest.mark.skipif(not _HAS_AIOHTTP, reason="aiohttp is not installed"),
    ),
    pytest.param(Face("httpx", True), id="httpx-async"),
]


class Harness:
    """An ``hookwire.Client`` or an ``hookwire.AsyncClient`` on a private loop, driven the same
    way."""

    def __init__(self, face: Face, **kwargs: Any) -> None:
        kwargs.setdefault("clock", hookwire.FakeClock())
        cls = hookwire.AsyncClient if face.is_async else hookwire.Client
        self.client: Any = cls(transport=face.transport, **kwargs)
        self._loop = asyncio.new_event_loop() if face.is_async else None

    def _run(self, value: Any) -> Any:
        return value if self._loop is None else self._loop.run_until_complete(value)

    def send(self, request: hookwire.Request, **kwargs: Any) -> hookwire.Response:
        return self._run(self.client.send(request, **kwargs))  # type: ignore[no-any-return]

    def get(self, url: str, **kwargs: Any) -> hookwire.Response:
        return self._run(self.client.get(url, **kwargs))  # type: ignore[no-any-return]

    def read(self, response: hookwire.Response) -> bytes:
        if self._loop is None:
            return response.read()
        return self._run(response.aread())  # type: ignore[no-any-return]

    def close(self) -> None:
        if self._loop is None:
            self.client.close()
            return
        self._loop.run_until_complete(self.client.aclose())
        self._loop.close()


@pytest.fixture
def harness() -> Iterator[Any]:
    made: list[Harness] = []

    def make(face: Face, **kwargs: Any) -> Harness:
        made.append(Harness(face, **kwargs))
        return made[-1]

    yield make
    for h in made:
        h.close()


def _tag() -> dict[str, str]:
    """A header that marks one test's requests in the mock server's journal."""
    return {"X-Fast-Path-Test": uuid.uuid4().hex}


def _wire_paths(server: Any, tag: dict[str, str]) -> list[str]:
    """The paths that reached the server carrying ``tag``, in order."""
    ((name, value),) = tag.items()
    return [e.path for e in server.journal.entries() if e.headers.get(name.lower()) == value]


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# =============================================================================================
# The proxy-variable shortcut sees environment changes between requests
# =============================================================================================

_PROXY_VARS = ("HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy")


@pytest.fixture
def clean_proxy_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in (*_PROXY_VARS, "NO_PROXY", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


@pytest.mark.network
@pytest.mark.parametrize("variable", ["HTTP_PROXY", "http_proxy", "ALL_PROXY"])
def test_a_proxy_variable_set_after_a_request_is_used_by_the_next(
    clean_proxy_env: pytest.MonkeyPatch, mock_server: Any, variable: str
) -> None:
    client = hookwire.Client(transport="requests")
    try:
        direct = client.get(mock_server.join("/headers"))
        assert direct.request.extensions["proxy"] is None
        assert direct.json()["headers"]["Host"] == f"127.0.0.1:{mock_server.port}"

        # The mock server answers absolute-form requests, so it can stand in as the proxy:
        # a host that does not resolve is only reachable through it.
        clean_proxy_env.setenv(variable, mock_server.url)
        proxied = client.get("http://proxied.invalid/headers")
        assert proxied.request.extensions["proxy"] == mock_server.url
        assert proxied.json()["headers"]["Host"] == "proxied.invalid"

        clean_proxy_env.delenv(variable)
        again = client.get(mock_server.join("/headers"))
        assert again.request.extensions["proxy"] is None
    finally:
        client.close()


@pytest.mark.network
def test_no_proxy_alone_names_no_proxy_and_no_proxy_still_excludes(
    clean_proxy_env: pytest.MonkeyPatch, mock_server: Any
) -> None:
    client = hookwire.Client(transport="requests")
    try:
        clean_proxy_env.setenv("NO_PROXY", "example.invalid")
        assert client.get(mock_server.join("/get")).request.extensions["proxy"] is None
        # A proxy variable arrives, with NO_PROXY naming the loopback host: still no proxy.
        clean_proxy_env.setenv("HTTP_PROXY", f"http://127.0.0.1:{_closed_port()}")
        clean_proxy_env.setenv("NO_PROXY", "127.0.0.1")
        assert client.get(mock_server.join("/get")).request.extensions["proxy"] is None
        clean_proxy_env.setenv("NO_PROXY", "example.invalid")
        request = client.build_request("GET", mock_server.join("/get"))
        with pytest.raises(errors.ProxyError):  # now it goes to the (closed) proxy
            client.send(request)
        assert request.extensions["proxy"] == os.environ["HTTP_PROXY"]
    finally:
        client.close()


# =============================================================================================
# Observation hooks: skipped with no implementation, called once a plugin registers
# =============================================================================================

_OBSERVERS = (
    "hookwire_request_prepared",
    "hookwire_response_received",
    "hookwire_retry_scheduled",
    "hookwire_request_failed",
)


class _Observer:
    """Implements the four observation hooks; ``hookwire_request_prepared`` also adds a header."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []

    @hookimpl
    def hookwire_request_prepared(self, request: hookwire.Request) -> None:
        self.calls.append(("hookwire_request_prepared", {"request": request}))
        request.headers["X-Observed"] = "yes"

    @hookimpl
    def hookwire_response_received(
        self, request: hookwire.Request, response: hookwire.Response
    ) -> None:
        self.calls.append(
            ("hookwire_response_received", {"request": request, "response": response})
        )

    @hookimpl
    def hookwire_retry_scheduled(
        self, request: hookwire.Request, attempt: int, delay: float, reason: str
    ) -> None:
        self.calls.append(("hookwire_retry_scheduled", {"request": request, "attempt": attempt}))

    @hookimpl
    def hookwire_request_failed(self, request: hookwire.Request, error: BaseException) -> None:
        self.calls.append(("hookwire_request_failed", {"request": request, "error": error}))

    def names(self) -> list[str]:
        return [name for name, _ in self.calls]


@pytest.fixture
def hook_calls(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Names of the observation hooks actually invoked through pluggy (any host)."""
    import pluggy

    caller_type = pluggy.HookCaller
    real_call = caller_type.__call__
    seen: list[str] = []

    def spy(self: Any, **kwargs: Any) -> Any:
        if self.name in _OBSERVERS:
            seen.append(self.name)
        return real_call(self, **kwargs)

    monkeypatch.setattr(caller_type, "__call__", spy)
    return seen


@pytest.mark.network
@pytest.mark.parametrize("face", FACES)
def test_observers_are_skipped_until_a_plugin_implements_them(
    face: Face, harness: Any, mock_server: Any, hook_calls: list[str]
) -> None:
    host = PluginHost()
    assert not any(getattr(host.hook, name).get_hookimpls() for name in _OBSERVERS)
    h = harness(face, plugins=host)
    r = h.get(mock_server.join("/headers"))
    assert r.status_code == 200 and "X-Observed" not in r.json()["headers"]
    assert hook_calls == []  # nobody listens: pluggy is not even entered

    observer = _Observer()
    assert host.register(observer, "late-observer")
    r = h.get(mock_server.join("/headers"))
    # Prepared ran before the transport (its header reached the server), then received.
    assert r.json()["headers"]["X-Observed"] == "yes"
    assert observer.names() == ["hookwire_request_prepared", "hookwire_response_received"]
    assert observer.calls[0][1]["request"] is r.request
    assert observer.calls[1][1]["response"] is r
    assert hook_calls == ["hookwire_request_prepared", "hookwire_response_received"]


@pytest.mark.network
@pytest.mark.parametrize("face", FACES)
def test_late_observer_sees_retries_and_failures(
    face: Face, harness: Any, mock_server: Any
) -> None:
    host = PluginHost()
    # Statuses are retried; body (protocol) errors are not, so one ends in a plain failure.
    policy = hookwire.RetryPolicy(attempts=2, retry_on_read_errors=False)
    h = harness(face, plugins=host, retry=policy)
    session = {"X-Mock-Session": uuid.uuid4().hex}
    assert h.get(mock_server.join("/get"), headers=session).status_code == 200  # warm, unobserved

    observer = _Observer()
    host.register(observer, "late-observer")
    # Retry scheduled: the first call gets 503, the second succeeds.
    fault = {**session, "X-Mock-Fault": "calls=1;status=503"}
    r = h.get(mock_server.join("/status/200"), headers=fault)
    assert (r.status_code, r.attempts) == (200, 2)
    assert observer.names() == [
        "hookwire_request_prepared",
        "hookwire_response_received",
        "hookwire_retry_scheduled",
        "hookwire_request_prepared",
        "hookwire_response_received",
    ]
    assert observer.calls[2][1]["attempt"] == 2

    # Failure: retries run out on a status (RetryError) ...
    observer.calls.clear()
    with pytest.raises(errors.RetryError) as info:
        h.get(mock_server.join("/status/503"))
    assert observer.names()[-1] == "hookwire_request_failed"
    assert observer.calls[-1][1]["error"] is info.value
    # ... and a transport error that is not retried.
    observer.calls.clear()
    h.client.max_body_size = 10
    with pytest.raises(errors.BodyTooLarge) as too_large:
        h.get(mock_server.join("/bytes/1000"))
    assert observer.names() == [
        "hookwire_request_prepared",
        "hookwire_response_received",
        "hookwire_request_failed",
    ]
    assert observer.calls[-1][1]["error"] is too_large.value


# =============================================================================================
# send(): the one-attempt fast path behaves like the full loop
# =============================================================================================


class _CountingPolicy(hookwire.RetryPolicy):
    """A RetryPolicy that counts how often the client asks it for a decision."""

    decisions: list[int] = []

    def decide(self, **kwargs: Any) -> Any:
        _CountingPolicy.decisions.append(kwargs["attempt"])
        return super().decide(**kwargs)


#: "fast": the default one-attempt policy; "full": two attempts allowed but nothing retryable,
#: so the general loop runs and must end after one attempt, as the fast path does.
PATHS = {
    "fast": lambda: None,
    "full": lambda: hookwire.RetryPolicy(
        attempts=2,
        statuses=set(),
        retry_on_connect_errors=False,
        retry_on_timeouts=False,
        retry_on_read_errors=False,
    ),
}


@pytest.fixture(params=list(PATHS))
def path(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.mark.network
@pytest.mark.parametrize("face", FACES)
def test_the_fast_path_skips_the_retry_loop_and_the_full_one_does_not(
    face: Face, harness: Any, mock_server: Any
) -> None:
    """The fast configuration never consults the policy; two attempts always do."""
    for attempts, expected in ((1, []), (2, [1])):
        _CountingPolicy.decisions = []
        h = harness(face, retry=_CountingPolicy(attempts=attempts, statuses=set()))
        assert h.get(mock_server.join("/get")).status_code == 200
        assert _CountingPolicy.decisions == expected, f"attempts={attempts}"


@pytest.mark.network
@pytest.mark.parametrize("face", FACES)
def test_same_response_on_both_paths(face: Face, path: str, harness: Any, mock_server: Any) -> None:
    h = harness(face, retry=PATHS[path]())
    tag = _tag()
    r = h.get(mock_server.join("/anything/x"), params={"q": "1"}, headers={"X-A": "b", **tag})
    assert _wire_paths(mock_server, tag) == ["/anything/x"]
    body = r.json()
    assert (r.status_code, r.attempts, r.history) == (200, 1, [])
    assert body["args"] == {"q": "1"} and body["headers"]["X-A"] == "b"
    assert r.request.url == mock_server.join("/anything/x?q=1")
    # A status the full loop could retry but is told not to: returned as is, one attempt.
    r = h.get(mock_server.join("/status/503"))
    assert (r.status_code, r.attempts) == (503, 1)
    # stream=True leaves the body unread on both paths.
    request = h.client.build_request("GET", mock_server.join("/bytes/100"))
    streamed = h.send(request, stream=True)
    with pytest.raises(errors.ResponseNotRead):
        streamed.content  # noqa: B018
    assert len(h.read(streamed)) == 100


@pytest.mark.network
@pytest.mark.parametrize("face", FACES)
def test_transport_errors_carry_one_attempt_and_the_request(
    face: Face, path: str, harness: Any
) -> None:
    host = PluginHost()
    observer = _Observer()
    host.register(observer, "observer")
    h = harness(face, retry=PATHS[path](), plugins=host)
    request = h.client.build_request("GET", f"http://127.0.0.1:{_closed_port()}/get")
    with pytest.raises(errors.ConnectError) as info:
        h.send(request)
    error = info.value
    assert error.attempts == 1
    assert error.request is request
    assert "attempts)" not in str(error)
    assert error.__cause__ is not None  # the backend's exception stays chained
    assert observer.names() == ["hookwire_request_prepared", "hookwire_request_failed"]
    assert observer.calls[-1][1]["error"] is error


@pytest.mark.network
@pytest.mark.parametrize("face", FACES)
def test_body_errors_carry_one_attempt_on_both_paths(
    face: Face, path: str, harness: Any, mock_server: Any
) -> None:
    host = PluginHost()
    observer = _Observer()
    host.register(observer, "observer")
    h = harness(face, retry=PATHS[path](), plugins=host, max_body_size=500)
    request = h.client.build_request("GET", mock_server.join("/bytes/1000"))
    with pytest.raises(errors.BodyTooLarge) as info:
        h.send(request)
    assert (info.value.attempts, info.value.request) == (1, request)
    assert observer.names()[-1] == "hookwire_request_failed"


@pytest.mark.network
@pytest.mark.parametrize("face", FACES)
def test_redirects_on_both_paths(face: Face, path: str, harness: Any, mock_server: Any) -> None:
    h = harness(face, retry=PATHS[path](), max_redirects=3)
    tag = _tag()
    r = h.get(mock_server.join("/relative-redirect/2"), headers=tag)
    assert r.status_code == 200
    assert r.url == mock_server.join("/get")
    assert [x.status_code for x in r.history] == [302, 302]
    # Each hop went out exactly once (no exchange sent twice, none skipped).
    assert _wire_paths(mock_server, tag) == ["/relative-redirect/2", "/relative-redirect/1", "/get"]

    tag = _tag()
    not_followed = h.get(
        mock_server.join("/relative-redirect/2"), headers=tag, follow_redirects=False
    )
    assert not_followed.status_code == 302 and not_followed.history == []
    assert not_followed.headers["location"].endswith("/relative-redirect/1")
    assert _wire_paths(mock_server, tag) == ["/relative-redirect/2"]

    with pytest.raises(errors.TooManyRedirects) as info:
        h.get(mock_server.join("/relative-redirect/5"))
    assert len(info.value.history) == 3


@pytest.mark.network
@pytest.mark.parametrize("face", FACES)
def test_cookies_kept_on_both_paths(face: Face, path: str, harness: Any, mock_server: Any) -> None:
    h = harness(face, retry=PATHS[path]())
    # /cookies/set answers Set-Cookie with a redirect to /cookies, which echoes what it got.
    r = h.get(mock_server.join("/cookies/set"), params={"flavour": "oat"})
    assert r.json()["cookies"] == {"flavour": "oat"}
    assert h.client.cookies.get("flavour") == "oat"
    assert h.get(mock_server.join("/cookies")).json()["cookies"] == {"flavour": "oat"}
