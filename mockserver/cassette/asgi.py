"""Serving a cassette over HTTP: any client (the ``openai`` client, curl) replays a recording.

``serve(cassette, scope, body, send)`` answers one ASGI request from the cassette: the recorded
status and headers, then the body as recorded, a streamed body chunk by chunk, one ASGI body
message per recorded chunk (so an SSE stream arrives as SSE, with its boundaries), optionally
keeping the recorded time between chunks. An unmatched request gets 404 with an OpenAI-shaped
JSON error whose message names the closest recorded request and how it differs.

Plain ASGI and the standard library: the mock app calls it, and nothing here needs starlette.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from hookwire.mockserver.cassette._cassette import Cassette, CassetteMismatch
from hookwire.mockserver.cassette._format import RecordedRequest, RecordedResponse

#: Headers a replay does not repeat: the framing is this server's own, and the body was stored
#: decoded.
HOP_HEADERS = frozenset(
    {"content-length", "transfer-encoding", "connection", "keep-alive", "content-encoding",
     "date", "server"}
)
MISMATCH_STATUS = 404


def request_of(scope: dict[str, Any], body: bytes) -> RecordedRequest:
    headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in scope.get("headers", [])]
    host = next((v for k, v in headers if k.lower() == "host"), None)
    if host is None:
        server = scope.get("server") or ("localhost", None)
        host = f"{server[0]}:{server[1]}" if server[1] else str(server[0])
    query = scope.get("query_string", b"").decode("latin-1")
    raw = scope.get("raw_path")
    path = raw.decode("latin-1") if raw else scope["path"]
    uri = f"{scope.get('scheme', 'http')}://{host}{path}" + (f"?{query}" if query else "")
    return RecordedRequest(scope["method"], uri, headers, body)


def mismatch_body(exc: CassetteMismatch) -> bytes:
    closest = None
    if exc.closest is not None:
        closest = {"method": exc.closest.request.method, "uri": exc.closest.request.uri}
    doc = {
        "error": {
            "message": exc.message,
            "type": "cassette_mismatch",
            "param": None,
            "code": "cassette_mismatch",
        },
        "closest": closest,
        "differences": exc.differences,
    }
    return json.dumps(doc, ensure_ascii=False).encode("utf-8")


def _head(response: RecordedResponse, length: int | None) -> list[tuple[bytes, bytes]]:
    headers = [
        (k.lower().encode("latin-1"), v.encode("latin-1", "replace"))
        for k, v in response.headers
        if k.lower() not in HOP_HEADERS
    ]
    if length is not None:
        headers.append((b"content-length", str(length).encode()))
    return headers


async def serve(
    cassette: Cassette, scope: dict[str, Any], body: bytes, send: Any, *, timing: bool = False
) -> str:
    """Answer one request from ``cassette``; returns a metrics label."""
    try:
        item = cassette.lookup(request_of(scope, body))
    except CassetteMismatch as exc:
        payload = mismatch_body(exc)
        await send({
            "type": "http.response.start",
            "status": MISMATCH_STATUS,
            "headers": [(b"content-type", b"application/json"),
                        (b"content-length", str(len(payload)).encode())],
        })
        await send({"type": "http.response.body", "body": payload})
        return "(cassette mismatch)"
    if item is None:  # a serving cassette never records; treat as a mismatch
        raise RuntimeError("a cassette served over HTTP must not be in a recording mode")
    response = item.response
    head_only = scope.get("method") == "HEAD"
    if response.chunks is None:
        await send({"type": "http.response.start", "status": response.status,
                    "headers": _head(response, len(response.body))})
        await send({"type": "http.response.body", "body": b"" if head_only else response.body})
        return "(cassette)"
    await send({"type": "http.response.start", "status": response.status,
                "headers": _head(response, None)})
    offsets = response.offsets if timing else None
    previous = 0.0
    for i, chunk in enumerate([] if head_only else response.chunks):
        if offsets is not None:
            await asyncio.sleep(max(0.0, offsets[i] - previous))
            previous = offsets[i]
        await send({"type": "http.response.body", "body": chunk, "more_body": True})
    await send({"type": "http.response.body", "body": b"", "more_body": False})
    return "(cassette)"
