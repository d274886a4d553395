"""JSON replies: one helper for every endpoint, without starlette's per-call header assembly.

`JSONReply(body)` sends exactly what `Response(body, status, headers,
media_type="application/json")` sends (same headers, same order: extra headers, then
``content-length`` unless the status forbids a body, then ``content-type``), but builds the
header list from constants when there are no extra headers, which is every hot-path reply.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from starlette.responses import Response

from hookwire.mockserver.sse import dumps

JSON_TYPE = (b"content-type", b"application/json")
_BODYLESS = frozenset({204, 304})


class JSONReply(Response):
    """A JSON response from already-encoded bytes."""

    media_type = "application/json"

    def __init__(
        self, body: bytes, status_code: int = 200, headers: Mapping[str, str] | None = None
    ) -> None:
        self.status_code = status_code
        self.background = None
        self.body = body
        if headers:
            self.init_headers(headers)  # rare (retry headers on a fault): starlette's own rules
        elif status_code < 200 or status_code in _BODYLESS:
            self.raw_headers = [JSON_TYPE]
        else:
            self.raw_headers = [(b"content-length", str(len(body)).encode()), JSON_TYPE]


def json_reply(
    data: Any, status_code: int = 200, headers: Mapping[str, str] | None = None
) -> JSONReply:
    """``data`` as compact UTF-8 JSON (`hookwire.mockserver.sse.dumps`)."""
    return JSONReply(dumps(data), status_code, headers)
