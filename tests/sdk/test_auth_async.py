"""``Auth.sync_auth_flow`` / ``Auth.async_auth_flow`` and async token sources for BearerAuth.

First the shells by hand (fabricated responses go in through ``send``/``asend``, no client),
then real calls against the live mock server: ``AsyncClient`` on the async transports and
``Client`` on the sync ones.
"""

from __future__ import annotations

import asyncio
import gc
import importlib.util
import threading
import uuid
import warnings
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import pytest

import hookwire
from hookwire._models import Request, Response
from hookwire.auth import AsyncAuthFlow, Auth, AuthFlow, BasicAuth, BearerAuth, DigestAuth
from hookwire.errors import AuthenticationError, InvalidHeader, InvalidRequest

URL = "http://api.example:8080/items"
STALE = "hw-stale-token-0a1b"  # pragma: allowlist secret
FRESH = "hw-fresh-token-9f8e"  # pragma: allowlist secret
SYNC_TRANSPORTS = ["requests", "httpx"]
ASYNC_TRANSPORTS = [
    "httpx",
    pytest.param(
        "aiohttp",
        marks=pytest.mark.skipif(
            importlib.util.find_spec("aiohttp") is None, reason="aiohttp is not installed"
        ),
    ),
]


def status(code: int, request: Request, **kwargs: Any) -> Response:
    kwargs.setdefault("content", b"")
    return Response(code, request=request, **kwargs)


def relay(flow: AuthFlow, response: Response) -> Request | None:
    try:
        return flow.send(response)
    except StopIteration:
        return None


async def arelay(flow: AsyncAuthFlow, response: Response) -> Request | None:
    try:
        return await flow.asend(response)
    except StopAsyncIteration:
        return None


class Source:
    """A token source that counts its calls: stale first, fresh once asked to refresh."""

    def __init__(self) -> None:
        self.calls: list[bool] = []

    def sync(self, *, refresh: bool = False) -> str:
        self.calls.append(refresh)
        return FRESH if refresh else STALE

    async def async_(self, *, refresh: bool = False) -> str:
        self.calls.append(refresh)
        await asyncio.sleep(0)  # a real suspension, so concurrent tasks interleave here
        return FRESH if refresh else STALE


@pytest.fixture
def no_warnings() -> Iterator[list[warnings.WarningMessage]]:
    """Record warnings (a "never awaited" RuntimeWarning appears when a coroutine is collected)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        yield caught
        gc.collect()
    assert [str(w.message) for w in caught] == []


# -- the default shells, by hand -------------------------------------------------------------
def test_sync_shell_relays_a_multi_step_flow() -> None:
    auth = DigestAuth("u", "p")
    flow = auth.sync_auth_flow(Request("GET", URL))
    first = next(flow)
    assert "Authorization" not in first.headers
    www = 'Digest realm="r", nonce="n1", qop="auth", algorithm=MD5'
    second = relay(flow, status(401, first, headers={"WWW-Authenticate": www}))
    assert second is not None and second.headers["Authorization"].startswith("Digest ")
    assert relay(flow, status(200, second)) is None


async def test_async_shell_relays_the_same_flow() -> None:
    auth = DigestAuth("u", "p")
    flow = auth.async_auth_flow(Request("GET", URL))
    first = await flow.__anext__()
    assert "Authorization" not in first.headers
    www = 'Digest realm="r", nonce="n1", qop="auth", algorithm=MD5'
    second = await arelay(flow, status(401, first, headers={"WWW-Authenticate": www}))
    assert second is not None and 'nonce="n1"' in second.headers["Authorization"]
    assert await arelay(flow, status(200, second)) is None


class SeesBodies(Auth):
    """Records the bodies its flow saw, as they stood when the flow looked."""

    requires_request_body = True
    requires_response_body = True

    def __init__(self) -> None:
        self.seen: list[bytes | None] = []

    def auth_flow(self, request: Request) -> AuthFlow:
        self.seen.append(request.content)
        response = yield request
        self.seen.append(response._content)


class Chunks:
    """A response body stream, sync and async."""

    def __init__(self, *chunks: bytes) -> None:
        self._chunks = chunks

    def __iter__(self) -> Iterator[bytes]:
        return iter(self._chunks)

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for chunk in self._chunks:
            yield chunk

    def close(self) -> None:
        pass

    async def aclose(self) -> None:
        pass


def test_sync_shell_reads_the_bodies_the_flags_ask_for() -> None:
    auth = SeesBodies()
    flow = auth.sync_auth_flow(Request("POST", URL, stream=iter([b"a", b"b"])))
    sent = next(flow)
    assert relay(flow, status(200, sent, content=None, stream=Chunks(b"o", b"k"))) is None
    assert auth.seen == [b"ab", b"ok"]


async def test_async_shell_reads_an_async_body_with_await() -> None:
    async def body() -> AsyncIterator[bytes]:
        yield b"a"
        yield b"b"

    auth = SeesBodies()
    flow = auth.async_auth_flow(Request("POST", URL, stream=body()))
    sent = await flow.__anext__()
    assert sent.content == b"ab" and sent.is_replayable
    assert await arelay(flow, status(200, sent, content=None, stream=Chunks(b"o", b"k"))) is None
    assert auth.seen == [b"ab", b"ok"]


async def test_closing_a_shell_mid_flow_closes_the_flow_inside() -> None:
    closed: list[str] = []

    class Cleans(Auth):
        def auth_flow(self, request: Request) -> AuthFlow:
            try:
                yield request
                yield request
            finally:
                closed.append("closed")

    sync_flow = Cleans().sync_auth_flow(Request("GET", URL))
    next(sync_flow)
    sync_flow.close()
    async_flow = Cleans().async_auth_flow(Request("GET", URL))
    await async_flow.__anext__()
    await async_flow.aclose()
    assert closed == ["closed", "closed"]


class OnlyAsync(Auth):
    async def async_auth_flow(self, request: Request) -> AsyncAuthFlow:
        request.headers["X-Only"] = "async"
        yield request


class OnlySync(Auth):
    def sync_auth_flow(self, request: Request) -> AuthFlow:
        request.headers["X-Only"] = "sync"
        yield request


async def test_a_scheme_with_only_one_shell_is_refused_by_the_other_not_sent_bare() -> None:
    with pytest.raises(InvalidRequest, match="only async_auth_flow; use AsyncClient"):
        next(OnlyAsync().sync_auth_flow(Request("GET", URL)))
    with pytest.raises(InvalidRequest, match="only sync_auth_flow; use Client"):
        await OnlySync().async_auth_flow(Request("GET", URL)).__anext__()


async def test_basic_auth_is_the_same_on_both_shells() -> None:
    sync_sent = next(BasicAuth("u", "p").sync_auth_flow(Request("GET", URL)))
    async_sent = await BasicAuth("u", "p").async_auth_flow(Request("GET", URL)).__anext__()
    assert sync_sent.headers["Authorization"] == async_sent.headers["Authorization"]


# -- BearerAuth's token sources, by hand -----------------------------------------------------
async def test_an_async_source_is_awaited_and_refreshed_after_a_401() -> None:
    source = Source()
    flow = BearerAuth(source.async_).async_auth_flow(Request("GET", URL))
    first = await flow.__anext__()
    assert first.headers["Authorization"] == f"Bearer {STALE}"
    second = await arelay(flow, status(401, first))
    assert second is not None and second.headers["Authorization"] == f"Bearer {FRESH}"
    assert await arelay(flow, status(200, second)) is None
    assert source.calls == [False, True]


async def test_an_async_source_without_refresh_is_called_without_it() -> None:
    tokens = iter(["one", "two"])

    async def plain() -> str:
        return next(tokens)

    flow = BearerAuth(plain, scheme="Token").async_auth_flow(Request("GET", URL))
    first = await flow.__anext__()
    assert first.headers["Authorization"] == "Token one"
    second = await arelay(flow, status(401, first))
    assert second is not None and second.headers["Authorization"] == "Token two"


async def test_an_async_callable_object_and_a_sync_source_work_on_the_async_shell() -> None:
    class Vault:
        async def __call__(self) -> str:
            return "from-vault"

    for source, expected in [(Vault(), "from-vault"), (lambda: "from-lambda", "from-lambda")]:
        sent = await BearerAuth(source).async_auth_flow(Request("GET", URL)).__anext__()
        assert sent.headers["Authorization"] == f"Bearer {expected}"


async def test_concurrent_401s_share_one_async_refresh() -> None:
    source = Source()
    auth = BearerAuth(source.async_)

    async def one() -> str:
        flow = auth.async_auth_flow(Request("GET", URL))
        sent = await flow.__anext__()
        await asyncio.sleep(0)  # let every task send its stale token before any sees a 401
        again = await arelay(flow, status(401, sent))
        assert again is not None
        await flow.aclose()
        return again.headers["Authorization"]

    headers = await asyncio.gather(*(one() for _ in range(10)))
    assert headers == [f"Bearer {FRESH}"] * 10
    assert source.calls == [False, True]


def test_concurrent_401s_share_one_sync_refresh() -> None:
    source = Source()
    auth = BearerAuth(source.sync)
    barrier = threading.Barrier(8)
    results: list[str] = []

    def one() -> None:
        flow = auth.sync_auth_flow(Request("GET", URL))
        sent = next(flow)
        barrier.wait()  # every thread has sent the stale token before any sees a 401
        again = relay(flow, status(401, sent))
        assert again is not None
        results.append(again.headers["Authorization"])

    threads = [threading.Thread(target=one) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == [f"Bearer {FRESH}"] * 8
    assert source.calls == [False, True]


def test_the_sync_shell_refuses_an_async_def_without_calling_it(no_warnings: list[Any]) -> None:
    source = Source()
    with pytest.raises(InvalidRequest, match="use AsyncClient, or pass a sync callable"):
        next(BearerAuth(source.async_).sync_auth_flow(Request("GET", URL)))
    assert source.calls == []


def test_a_sync_callable_returning_a_coroutine_is_refused_and_closed(
    no_warnings: list[Any],
) -> None:
    source = Source()
    auth = BearerAuth(lambda: source.async_())  # not detectable up front: found on the call
    with pytest.raises(InvalidRequest, match="use AsyncClient, or pass a sync callable") as info:
        next(auth.sync_auth_flow(Request("GET", URL)))
    assert "coroutine" not in str(info.value)
    assert source.calls == []  # the coroutine was created, closed, and its body never ran


@pytest.mark.parametrize("bad", [None, b"bytes-token", 42])
def test_a_token_that_is_neither_str_nor_callable_is_refused(bad: object) -> None:
    with pytest.raises(InvalidRequest, match=type(bad).__name__):
        BearerAuth(bad)  # type: ignore[arg-type]


async def test_a_source_returning_a_non_str_is_refused_by_type() -> None:
    async def broken() -> Any:
        return None

    with pytest.raises(InvalidRequest, match="returned NoneType, not a str"):
        await BearerAuth(broken).async_auth_flow(Request("GET", URL)).__anext__()


async def test_a_token_with_a_newline_is_refused_without_echoing_it() -> None:
    secret = "hw-split-secret-77"  # pragma: allowlist secret

    async def injecting() -> str:
        return secret + "\r\nX-Evil: 1"

    with pytest.raises(InvalidHeader) as info:
        await BearerAuth(injecting).async_auth_flow(Request("GET", URL)).__anext__()
    assert secret not in str(info.value)
    with pytest.raises(InvalidHeader) as info:
        BearerAuth(secret + "\n")
    assert secret not in str(info.value)
    assert secret not in repr(BearerAuth(injecting))


# -- real calls against the live mock server -------------------------------------------------
@pytest.fixture(scope="module")
def keyed_server(mock_server_factory: Callable[..., Any]) -> Any:
    """A mock server whose /v1/* endpoints answer 401 to anything but ``Bearer FRESH``."""
    return mock_server_factory(api_key=FRESH)


@pytest.mark.parametrize("transport", ASYNC_TRANSPORTS)
async def test_async_client_sends_an_awaited_token(mock_server: Any, transport: str) -> None:
    async def token() -> str:
        await asyncio.sleep(0)
        return "hw-awaited-token"

    async with hookwire.AsyncClient(base_url=mock_server.url, transport=transport) as client:
        r = await client.get("/bearer", auth=BearerAuth(token))
    assert r.json() == {"authenticated": True, "token": "hw-awaited-token"}


@pytest.mark.parametrize("transport", ASYNC_TRANSPORTS)
async def test_async_refresh_after_401_happens_once_for_10_concurrent_calls(
    keyed_server: Any, transport: str
) -> None:
    source = Source()
    auth = BearerAuth(source.async_)
    async with hookwire.AsyncClient(
        base_url=keyed_server.url, transport=transport, auth=auth
    ) as client:
        responses = await asyncio.gather(*(client.get("/v1/models") for _ in range(10)))
    assert [r.status_code for r in responses] == [200] * 10
    assert all(r.request.headers["Authorization"] == f"Bearer {FRESH}" for r in responses)
    assert source.calls == [False, True]


@pytest.mark.parametrize("transport", ASYNC_TRANSPORTS)
async def test_async_refresh_that_is_refused_again_raises(mock_server: Any, transport: str) -> None:
    source = Source()
    async with hookwire.AsyncClient(base_url=mock_server.url, transport=transport) as client:
        with pytest.raises(AuthenticationError) as info:
            await client.get("/status/401", auth=BearerAuth(source.async_))
    assert info.value.response.status_code == 401
    assert source.calls == [False, True]
    assert FRESH not in str(info.value) and FRESH not in repr(info.value)


@pytest.mark.parametrize("transport", SYNC_TRANSPORTS)
def test_sync_client_refreshes_once_for_concurrent_threads(
    keyed_server: Any, transport: str
) -> None:
    source = Source()
    with hookwire.Client(
        base_url=keyed_server.url, transport=transport, auth=BearerAuth(source.sync)
    ) as client:
        # /bearer takes any token: the stale one is fetched and cached, and every thread below
        # starts out with it and is refused by /v1/*; they must share one refresh.
        assert client.get("/bearer").json()["token"] == STALE
        barrier = threading.Barrier(6)
        codes: list[int] = []

        def call() -> None:
            barrier.wait()
            codes.append(client.get("/v1/models").status_code)

        threads = [threading.Thread(target=call) for _ in range(6)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert codes == [200] * 6
    assert source.calls == [False, True]


@pytest.mark.parametrize("transport", SYNC_TRANSPORTS)
def test_sync_client_refuses_an_async_source_before_sending(
    mock_server: Any, transport: str, no_warnings: list[Any]
) -> None:
    source = Source()
    path = f"/anything/{uuid.uuid4().hex}"
    with hookwire.Client(base_url=mock_server.url, transport=transport) as client:
        for auth in (BearerAuth(source.async_), BearerAuth(lambda: source.async_())):
            with pytest.raises(InvalidRequest, match="use AsyncClient, or pass a sync callable"):
                client.get(path, auth=auth)
        assert client.get("/get").status_code == 200  # the client is still usable
    assert source.calls == []
    assert mock_server.journal.count(path) == 0  # nothing was sent, no coroutine repr either


class IssuedToken(Auth):
    """Does real I/O in its async shell: asks the server for a fresh id to use as the token."""

    def __init__(self, issuer: hookwire.AsyncClient) -> None:
        self._issuer = issuer
        self.issued: list[str] = []

    async def async_auth_flow(self, request: Request) -> AsyncAuthFlow:
        token = (await self._issuer.get("/uuid")).json()["uuid"]
        self.issued.append(token)
        request.headers["Authorization"] = f"Bearer {token}"
        yield request


@pytest.mark.parametrize("transport", ASYNC_TRANSPORTS)
async def test_a_custom_async_auth_flow_performs_an_awaited_call(
    mock_server: Any, transport: str
) -> None:
    async with (
        hookwire.AsyncClient(base_url=mock_server.url, transport=transport) as issuer,
        hookwire.AsyncClient(base_url=mock_server.url, transport=transport) as client,
    ):
        auth = IssuedToken(issuer)
        first = await client.get("/bearer", auth=auth)
        second = await client.get("/bearer", auth=auth)
    assert len(set(auth.issued)) == 2
    assert [first.json()["token"], second.json()["token"]] == auth.issued


def test_a_scheme_with_only_an_async_shell_is_refused_by_client(mock_server: Any) -> None:
    path = f"/anything/{uuid.uuid4().hex}"
    with (
        hookwire.Client(base_url=mock_server.url) as client,
        pytest.raises(InvalidRequest, match="use AsyncClient"),
    ):
        client.get(path, auth=OnlyAsync())
    assert mock_server.journal.count(path) == 0


@pytest.mark.parametrize("transport", SYNC_TRANSPORTS)
def test_sync_client_with_a_sync_source_is_unchanged(mock_server: Any, transport: str) -> None:
    with hookwire.Client(base_url=mock_server.url, transport=transport) as client:
        r = client.get("/bearer", auth=BearerAuth(lambda: "hw-plain-token"))
        assert r.json() == {"authenticated": True, "token": "hw-plain-token"}
        source = Source()
        with pytest.raises(AuthenticationError) as info:
            client.post("/status/401", content=b"body", auth=BearerAuth(source.sync))
        assert source.calls == [False, True]
        assert info.value.request.content == b"body"  # the retry carried the body again
