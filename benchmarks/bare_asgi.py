"""The ceiling: a bare ASGI app (no framework) served by the same uvicorn settings as the mock.

`/stream` sends 1,000 SSE-sized chunks so the mock's streaming has a ceiling too; any other
path answers a small JSON body (GET or POST, body read and ignored).
"""

from __future__ import annotations

from typing import Any

HELLO = b'{"hello":"world"}'
CHUNK = b'data: {"choices":[{"index":0,"delta":{"content":" word"},"finish_reason":null}]}\n\n'
START = {
    "type": "http.response.start",
    "status": 200,
    "headers": [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(HELLO)).encode()),
    ],
}
SSE_START = {
    "type": "http.response.start",
    "status": 200,
    "headers": [(b"content-type", b"text/event-stream")],
}


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] != "http":
        return
    more = True
    while more:
        message = await receive()
        more = message.get("more_body", False)
    if scope["path"] == "/stream":
        await send(SSE_START)
        for _ in range(1000):
            await send({"type": "http.response.body", "body": CHUNK, "more_body": True})
        await send({"type": "http.response.body", "body": b"data: [DONE]\n\n"})
        return
    await send(START)
    await send({"type": "http.response.body", "body": HELLO})
