"""Generated data: ``/delay``, ``/bytes``, ``/range``, ``/base64``, ``/links``, ``/unstable``."""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import os
import random

from starlette.requests import Request
from starlette.responses import Response

from ._echo import echo
from ._json import json_response, text_response
from ._route import BadRequest, float_param, int_param
from .redirects import redirect_response
from .status import status_response

MAX_DELAY = 10.0
MAX_BYTES = 100 * 1024
DELAY_KEYS = ("url", "args", "form", "data", "origin", "headers", "files")


def random_bytes(n: int, seed: str | None) -> bytes:
    """``n`` random bytes; with a seed, the very bytes httpbin returns for that seed
    (httpbin seeds Python's Mersenne Twister and draws ``randint(0, 255)`` per byte)."""
    if seed is None:
        return os.urandom(n)
    try:
        rng = random.Random(int(seed))  # nosec B311
    except ValueError:
        raise BadRequest(f"seed must be an integer, got {seed!r}") from None
    return bytes(rng.randint(0, 255) for _ in range(n))


async def view_delay(request: Request) -> Response:
    """Wait ``delay`` seconds (capped at 10) without blocking other requests, then echo."""
    raw = request.path_params["delay"]
    try:
        delay = float(raw)
    except ValueError:
        raise BadRequest(f"delay must be a number, got {raw!r}") from None
    if not delay >= 0:
        raise BadRequest("delay must be a non-negative number")
    await asyncio.sleep(min(delay, MAX_DELAY))
    return json_response(request, await echo(request, DELAY_KEYS))


async def view_bytes(request: Request) -> Response:
    """``n`` random bytes (at most 100 KiB); ``?seed=`` makes them reproducible."""
    n = min(int_param(request, "n"), MAX_BYTES)
    data = random_bytes(n, request.query_params.get("seed"))
    return text_response(request, data, media_type="application/octet-stream")


def parse_range(header: str | None, size: int) -> tuple[int, int]:
    """First and last byte of ``Range: bytes=a-b`` within ``size`` (httpbin's lenient reading:
    anything unparsable means the whole entity; only the first range of a list is used)."""
    first: int | None = None
    last: int | None = None
    text = (header or "").strip()
    if text.startswith("bytes") and text.count("=") == 1:
        pieces = text.split("=")[1].split("-")
        with contextlib.suppress(ValueError):
            first = int(pieces[0])
        with contextlib.suppress(IndexError, ValueError):
            last = int(pieces[1])
    if first is None and last is None:
        return 0, size - 1
    if first is None:
        assert last is not None
        return max(0, size - last), size - 1
    return first, size - 1 if last is None else last


async def view_range(request: Request) -> Response:
    """``n`` bytes of ``abc...z`` honouring ``Range`` (206/416), with ETag and Accept-Ranges.

    ``?duration=`` spreads the body over that many seconds, ``?chunk_size=`` sets the pieces.
    """
    n = int_param(request, "n")
    etag = f"range{n}".encode()
    if n <= 0 or n > MAX_BYTES:
        return text_response(
            request,
            "number of bytes must be in the range (0, 102400]",
            404,
            "text/plain; charset=utf-8",
            headers=[(b"etag", etag), (b"accept-ranges", b"bytes")],
        )
    first, last = parse_range(request.headers.get("range"), n)
    if first > last or not 0 <= first < n or not 0 <= last < n:
        response = text_response(request, b"", 416, "text/plain; charset=utf-8")
        response.raw_headers += [
            (b"etag", etag),
            (b"accept-ranges", b"bytes"),
            (b"content-range", f"bytes */{n}".encode()),
        ]
        return response
    duration = float_param(request, "duration", 0.0)
    if duration > 0:
        await asyncio.sleep(min(duration, MAX_DELAY) * (last + 1 - first) / n)
    body = bytes(ord("a") + i % 26 for i in range(first, last + 1))
    status = 200 if (first, last) == (0, n - 1) else 206
    return text_response(
        request,
        body,
        status,
        media_type="application/octet-stream",
        headers=[
            (b"etag", etag),
            (b"accept-ranges", b"bytes"),
            (b"content-range", f"bytes {first}-{last}/{n}".encode()),
        ],
    )


async def view_base64(request: Request) -> Response:
    """The URL-safe base64 ``value`` decoded as UTF-8 text."""
    value = request.path_params["value"]
    try:
        text = base64.urlsafe_b64decode(value.encode()).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        text = "Incorrect Base64 data try: SFRUUEJJTiBpcyBhd2Vzb21l"
    return text_response(request, text)


async def view_links(request: Request) -> Response:
    """A page of ``n`` links (1..200) to its siblings; ``offset`` is the current one."""
    n = min(max(1, int_param(request, "n")), 200)
    offset = int_param(request, "offset")
    pieces = ["<html><head><title>Links</title></head><body>"]
    for i in range(n):
        pieces.append(f"{i} " if i == offset else f"<a href='/links/{n}/{i}'>{i}</a> ")
    pieces.append("</body></html>")
    return text_response(request, "".join(pieces))


async def view_links_start(request: Request) -> Response:
    """Redirect to the first page of ``/links/{n}/0``."""
    return redirect_response(request, f"/links/{int_param(request, 'n')}/0")


async def view_unstable(request: Request) -> Response:
    """go-httpbin's flaky endpoint: 500 with probability ``failure_rate`` (default 0.5), else 200.

    With ``?seed=`` the draw is made from a generator seeded per request, so one URL always gives
    the same answer (as go-httpbin), which is what a retry test needs to be reproducible.
    """
    rate = float_param(request, "failure_rate", 0.5)
    if not 0.0 <= rate <= 1.0:
        raise BadRequest("failure_rate must be between 0 and 1")
    seed = request.query_params.get("seed")
    if seed is None:
        draw = random.random()  # nosec B311
    else:
        try:
            draw = random.Random(int(seed)).random()  # nosec B311
        except ValueError:
            raise BadRequest(f"seed must be an integer, got {seed!r}") from None
    return status_response(request, 500 if draw < rate else 200)
