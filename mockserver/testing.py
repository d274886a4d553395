"""In-process access to the mock app for httpx clients: no socket, same behaviour.

`InProcessHandler` is a respx side effect (or call it yourself) that runs the ASGI app through
httpx's `ASGITransport`, for sync and async httpx clients alike, and maps the mock's deliberate
connection faults onto the httpx errors a real socket would produce:

| fault over a socket                    | in-process                 |
|----------------------------------------|----------------------------|
| close-after / reset-after-body: EOF    | `httpx.RemoteProtocolError` |
| stall-after / keepalive-only: silence  | `httpx.ReadTimeout`        |

`InProcessServer` has the `LiveServer` surface (url, openai_base_url, journal, app, reset,
join, +), so one test body can run against either.

`mock_router(handler, host)` is the respx router of the `respx_mock_server` fixture. Routes a
user adds to it are tried first, in the order added; the mock's own routes come last: the
in-process host goes to the app, loopback hosts (a live mock server in the same test) pass
through to the network, and any other request matches nothing and fails with respx's
``AllMockedAssertionError`` ("RESPX: <Request(...)> not mocked!") instead of leaving the machine.
"""

from __future__ import annotations

import asyncio
import contextlib
import http
import threading
from collections.abc import AsyncIterator, Coroutine, Iterator
from typing import Any, TypeVar

import httpx

from hookwire.mockserver.app import MockApp
from hookwire.mockserver.faultio import ConnectionDropped, StreamStalled
from hookwire.mockserver.runner import ServerURL

T = TypeVar("T")
IN_PROCESS_HOST = "mockserver.invalid"  # RFC 2606: can never resolve to a real host
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")
_READ_SIZE = 64 * 1024


class _LoopThread:
    """One private event loop on a daemon thread, for running the app from sync clients."""

    def __init__(self) -> None:
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        with self._lock:
            if self._loop is None:
                self._loop = asyncio.new_event_loop()
                self._thread = threading.Thread(
                    target=self._loop.run_forever, name="mockserver-inprocess", daemon=True
                )
                self._thread.start()
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result()

    def close(self) -> None:
        with self._lock:
            if self._loop is not None and self._thread is not None:
                self._loop.call_soon_threadsafe(self._loop.stop)
                self._thread.join(5)
                self._loop.run_until_complete(self._loop.shutdown_asyncgens())
                self._loop.close()
                self._loop = self._thread = None


class _Parts(httpx.SyncByteStream, httpx.AsyncByteStream):
    """A finished body, handed out in the pieces the app sent (sync and async alike)."""

    def __init__(self, parts: list[bytes]) -> None:
        # at most what httpcore reads from a socket at once (64 KiB)
        self._parts = [p[i : i + _READ_SIZE] for p in parts for i in range(0, len(p), _READ_SIZE)]

    def __iter__(self) -> Iterator[bytes]:
        yield from self._parts

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for part in self._parts:
            yield part


class InProcessHandler:
    """Route an httpx request into the app; returns a Response (sync) or a coroutine (async)."""

    def __init__(self, app: MockApp) -> None:
        self.app = app
        self._loop = _LoopThread()

    async def _send(self, request: httpx.Request) -> httpx.Response:
        timeout = request.extensions.get("timeout", {}).get("read")
        started: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        parts: list[bytes] = []
        head_only = request.method == "HEAD"

        async def app(scope: Any, receive: Any, send: Any) -> None:
            async def recording_send(message: Any) -> None:
                if message["type"] == "http.response.start" and not started.done():
                    started.set_result(None)
                elif message["type"] == "http.response.body" and not head_only:
                    parts.append(bytes(message.get("body", b"")))
                await send(message)

            await self.app(scope, receive, recording_send)

        transport = httpx.ASGITransport(app=app)
        task = asyncio.ensure_future(transport.handle_async_request(request))
        try:
            # The read timeout bounds the wait for the head, as on a socket (delay=, a slow app).
            waiters: set[asyncio.Future[Any]] = {task, started}
            done, _ = await asyncio.wait(waiters, timeout=timeout, return_when="FIRST_COMPLETED")
            if not done:
                task.cancel()
                with contextlib.suppress(BaseException):
                    await task
                raise httpx.ReadTimeout(
                    "The mock server sent no response in time.", request=request
                )
            response = await task
        except ConnectionDropped as exc:
            raise httpx.RemoteProtocolError(
                "Server disconnected without sending a complete response.", request=request
            ) from exc
        except StreamStalled as exc:
            raise httpx.ReadTimeout("The mock server stopped sending.", request=request) from exc
        status = response.status_code
        try:
            reason = http.HTTPStatus(status).phrase.encode("ascii")
        except ValueError:
            reason = b""
        # The body in the pieces the app sent them (as bytes on the wire: a gzip body stays gzip).
        return httpx.Response(
            status,
            headers=response.headers,
            stream=_Parts(parts),
            request=request,
            extensions={"http_version": b"HTTP/1.1", "reason_phrase": reason},
        )

    def __call__(self, request: httpx.Request) -> Any:
        if isinstance(request.stream, httpx.AsyncByteStream) and not isinstance(
            request.stream, httpx.SyncByteStream
        ):
            return self._send(request)
        request.read()  # ByteStream: iterable both ways, so the ASGI transport can read it
        return self._loop.run(self._send(request))

    def close(self) -> None:
        self._loop.close()


class InProcessServer(ServerURL):
    """The `LiveServer` surface for an app reached through respx, not a socket."""

    def __init__(
        self, app: MockApp, router: Any = None, host: str = IN_PROCESS_HOST, adapter: Any = None
    ) -> None:
        self.app = app
        self.router = router
        self.adapter = adapter  # a hookwire.mockserver.asgi_requests.ASGIAdapter, for requests
        self.host = host
        self.port = 80

    @property
    def url(self) -> str:
        return f"http://{self.host}"

    @property
    def transport_options(self) -> dict[str, Any]:
        """``hookwire.Client(transport="requests", transport_options=...)`` for this app."""
        if self.adapter is None:
            raise RuntimeError("no requests adapter here: use the requests_mock_server fixture")
        return {"mounts": {self.url: self.adapter}}


def mock_router(handler: InProcessHandler, host: str = IN_PROCESS_HOST) -> Any:
    """A started-on-enter ``respx.MockRouter`` (``assert_all_mocked=True``) whose own routes
    (``host`` -> ``handler``, loopback -> pass through) stay behind every route a user adds."""
    import respx
    from respx.models import RouteList

    class TailRouteList(RouteList):
        """The user's routes, then ``tail``: iteration (what respx matches on) sees both,
        while adding, naming, snapshots and rollback only ever touch the user's routes."""

        tail: list[respx.Route]

        def __iter__(self) -> Any:
            yield from self._routes
            yield from self.tail

    router = respx.mock(assert_all_called=False, assert_all_mocked=True)
    routes = TailRouteList()
    routes.tail = [respx.Route(host=host).mock(side_effect=handler)]
    routes.tail += [respx.Route(host=name).pass_through() for name in LOOPBACK_HOSTS]
    router.routes = routes  # start() snapshots the user's (empty) list; the tail stays
    return router
