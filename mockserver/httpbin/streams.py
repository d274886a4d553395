"""Streaming endpoints: ``/stream/{n}``, ``/stream-bytes/{n}``, ``/drip`` and go-httpbin's ``/sse``.

These really stream: each piece is handed to the server as it is produced, with ``asyncio.sleep``
between pieces, so clients' read timeouts and incremental parsers meet real pacing. A client that
goes away just ends the generator; nothing blocks the event loop.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections.abc import AsyncIterator

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from ._json import cors_headers, plain_response
from ._route import BadRequest, float_param, int_param
from .dynamic import MAX_BYTES, random_bytes
from .methods import get_view_dict
from .status import PLAIN_UTF8

MAX_STREAM_LINES = 100
MAX_DRIP_BYTES = 10 * 1024 * 1024
MAX_DURATION = 10.0
SSE_MAX_COUNT = 1000


def _streaming(
    request: Request,
    body: AsyncIterator[bytes],
    media_type: str,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
) -> Response:
    response = StreamingResponse(body, status_code, headers=headers, media_type=media_type)
    response.raw_headers.extend(cors_headers(request.scope))
    return response


async def view_stream(request: Request) -> Response:
    """``min(n, 100)`` newline-delimited JSON copies of ``/get``'s body, each with an ``id``."""
    n = min(int_param(request, "n"), MAX_STREAM_LINES)
    base = get_view_dict(request)
    ordered = {key: base[key] for key in ("url", "args", "headers", "origin")}

    async def lines() -> AsyncIterator[bytes]:
        for i in range(n):
            yield (json.dumps({**ordered, "id": i}) + "\n").encode()

    return _streaming(request, lines(), "application/json")


async def view_stream_bytes(request: Request) -> Response:
    """``n`` random bytes (at most 100 KiB) in ``chunk_size`` pieces; ``seed`` as ``/bytes``."""
    n = min(int_param(request, "n"), MAX_BYTES)
    chunk_size = 10 * 1024
    if "chunk_size" in request.query_params:
        chunk_size = max(1, int_param(request, "chunk_size"))
    data = random_bytes(n, request.query_params.get("seed"))

    async def chunks() -> AsyncIterator[bytes]:
        for start in range(0, n, chunk_size):
            yield data[start : start + chunk_size]

    return _streaming(request, chunks(), "application/octet-stream")


async def view_drip(request: Request) -> Response:
    """``numbytes`` asterisks spread evenly over ``duration`` seconds after ``delay``, with
    status ``code``. Bytes due at the same moment go out together, so a 10 MB drip over two
    seconds does not cost ten million wake-ups."""
    duration = min(float_param(request, "duration", 2.0), MAX_DURATION)
    delay = min(float_param(request, "delay", 0.0), MAX_DURATION)
    numbytes = min(int(float_param(request, "numbytes", 10)), MAX_DRIP_BYTES)
    code = int(float_param(request, "code", 200))
    if numbytes <= 0:
        return plain_response(request, b"number of bytes must be positive", 400, PLAIN_UTF8)
    if duration < 0 or delay < 0:
        raise BadRequest("duration and delay must not be negative")
    if not 100 <= code <= 999:
        raise BadRequest(f"code must be an HTTP status code, got {code}")
    if delay > 0:
        await asyncio.sleep(delay)
    pause = duration / numbytes

    async def drip() -> AsyncIterator[bytes]:
        start = time.monotonic()
        sent = 0
        while sent < numbytes:
            due = min(numbytes, int((time.monotonic() - start) / pause) + 1 if pause else numbytes)
            count = max(1, due - sent)
            yield b"*" * count
            sent += count
            if pause:
                # sleep until the next byte is due (never less than 1 ms, to batch tiny pauses)
                await asyncio.sleep(max(0.001, start + sent * pause - time.monotonic()))

    return _streaming(
        request,
        drip(),
        "application/octet-stream",
        code,
        headers={"content-length": str(numbytes)},
    )


_GO_DURATION = re.compile(r"^(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)?$")
_UNITS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}


def parse_duration(raw: str, name: str) -> float:
    """go-httpbin durations: ``"5s"``, ``"250ms"``, or bare seconds ``"1.5"``."""
    match = _GO_DURATION.match(raw.strip())
    if match is None:
        raise BadRequest(f"invalid {name}: {raw!r}")
    return float(match.group(1)) * _UNITS[match.group(2) or "s"]


def sse_event(index: int, now_ms: int) -> bytes:
    """One ``ping`` event in go-httpbin's shape, plus an ``id:`` line for Last-Event-ID."""
    data = json.dumps({"id": index, "timestamp": now_ms}, separators=(",", ":"))
    return f"id: {index}\nevent: ping\ndata: {data}\n\n".encode()


async def view_sse(request: Request) -> Response:
    """``count`` events (default 10) spread over ``duration`` (default 5s) after ``delay``."""
    count = 10
    if "count" in request.query_params:
        count = int_param(request, "count")
        if not 1 <= count <= SSE_MAX_COUNT:
            raise BadRequest(f"invalid count: must in range [1, {SSE_MAX_COUNT}]")
    duration = parse_duration(request.query_params.get("duration", "5s"), "duration")
    delay = parse_duration(request.query_params.get("delay", "0s"), "delay")
    if duration + delay > MAX_DURATION:
        raise BadRequest("Too much time")
    if delay > 0:
        await asyncio.sleep(delay)
    pause = duration / (count - 1) if count > 1 else 0.0

    async def events() -> AsyncIterator[bytes]:
        for i in range(count):
            yield sse_event(i, int(time.time() * 1000))
            if i < count - 1 and pause:
                await asyncio.sleep(pause)

    return _streaming(request, events(), "text/event-stream", headers={"cache-control": "no-cache"})
