"""Connection-level faults: drop, stall and keep-alive-only, over a socket or in-process.

Over uvicorn the app reaches the connection's asyncio transport (the `send` callable is bound
to uvicorn's request cycle, which holds it) and closes it, so the client sees a real EOF
mid-response. In-process (httpx's ASGITransport, respx) there is no socket: the app raises
`ConnectionDropped` / `StreamStalled` and the in-process transport of `hookwire.mockserver.testing`
maps them onto httpx's RemoteProtocolError / ReadTimeout.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from hookwire.mockserver.sse import KEEPALIVE

MAX_STALL = 60.0
KEEPALIVE_EVERY = 0.05


class ConnectionDropped(Exception):
    """The mock dropped the connection on purpose (close-after, reset-after-body)."""


class StreamStalled(Exception):
    """In-process only: the mock would now keep a silent connection open (stall, keep-alive)."""


def socket_of(send: Any) -> Any:
    """uvicorn's asyncio transport behind `send`, or None when running in-process."""
    cycle = getattr(send, "__self__", None)
    return getattr(cycle, "transport", None)


async def wait_disconnect(receive: Any, limit: float) -> None:
    """Wait until the client goes away (or `limit` seconds pass)."""

    async def loop() -> None:
        while (await receive())["type"] != "http.disconnect":
            pass

    with contextlib.suppress(asyncio.TimeoutError):
        await asyncio.wait_for(loop(), limit)


async def drop(transport: Any, receive: Any) -> None:
    """Close the socket now; then let uvicorn notice, so it sends no 500 of its own."""
    if transport is None:
        raise ConnectionDropped("mock fault: connection dropped")
    transport.close()
    await wait_disconnect(receive, 5.0)
    if not transport.is_closing():  # pragma: no cover - close() always marks closing
        transport.abort()


async def stall(transport: Any, receive: Any) -> None:
    if transport is None:
        raise StreamStalled("mock fault: stream stalled")
    await wait_disconnect(receive, MAX_STALL)


async def keepalive_only(transport: Any, receive: Any, send: Any) -> None:
    """A 200 event stream of `: keep-alive` comments only, until the client leaves or 60 s."""
    if transport is None:
        raise StreamStalled("mock fault: keep-alive only")
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [(b"content-type", b"text/event-stream"), (b"cache-control", b"no-cache")],
        }
    )
    loop = asyncio.get_running_loop()
    deadline = loop.time() + MAX_STALL
    pending = asyncio.ensure_future(receive())
    try:
        while loop.time() < deadline:
            await send({"type": "http.response.body", "body": KEEPALIVE, "more_body": True})
            done, _ = await asyncio.wait({pending}, timeout=KEEPALIVE_EVERY)
            if done:
                if pending.result()["type"] == "http.disconnect":
                    return
                pending = asyncio.ensure_future(receive())
        await send({"type": "http.response.body", "body": b"", "more_body": False})
    finally:
        pending.cancel()
