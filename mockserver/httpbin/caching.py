"""Caching and header endpoints: ``/cache``, ``/cache/{n}``, ``/etag/{etag}``,
``/response-headers``."""

from __future__ import annotations

import re
import uuid
from email.utils import formatdate
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from ._json import json_response, pretty, text_response
from ._route import BadRequest, int_param
from .methods import get_view_dict
from .status import status_response

_ENTITY_TAG = re.compile(r'\s*(W/)?"?([^"]*)"?\s*')


def parse_etags(header: str | None) -> list[str]:
    """``W/"a", "b", *`` -> ``["a", "b", "*"]`` (weakness ignored, as httpbin)."""
    if not header:
        return []
    tags = []
    for part in header.split(","):
        match = _ENTITY_TAG.match(part)
        if match is not None:
            tags.append(match.group(2))
    return tags


async def view_cache(request: Request) -> Response:
    """304 for any conditional request, else ``/get``'s body with Last-Modified and an ETag."""
    headers = request.headers
    if headers.get("if-modified-since") or headers.get("if-none-match"):
        return status_response(request, 304)
    return json_response(
        request,
        get_view_dict(request),
        headers=[
            (b"last-modified", formatdate(usegmt=True).encode()),
            (b"etag", uuid.uuid4().hex.encode()),
        ],
    )


async def view_cache_control(request: Request) -> Response:
    """``/get``'s body with ``Cache-Control: public, max-age=n``."""
    max_age = int_param(request, "n")
    return json_response(
        request,
        get_view_dict(request),
        headers=[(b"cache-control", f"public, max-age={max_age}".encode())],
    )


async def view_etag(request: Request) -> Response:
    """Entity tag ``etag``: If-None-Match hits give 304, If-Match misses give 412."""
    etag = request.path_params["etag"]
    if_none_match = parse_etags(request.headers.get("if-none-match"))
    if_match = parse_etags(request.headers.get("if-match"))
    if if_none_match:
        if etag in if_none_match or "*" in if_none_match:
            response = status_response(request, 304)
            response.raw_headers.append((b"etag", etag.encode("latin-1", "replace")))
            return response
    elif if_match and etag not in if_match and "*" not in if_match:
        return status_response(request, 412)
    return json_response(
        request, get_view_dict(request), headers=[(b"etag", etag.encode("latin-1", "replace"))]
    )


def _headers_body(pairs: list[tuple[str, str]], length: int) -> dict[str, Any]:
    merged: dict[str, list[str]] = {"Content-Type": ["application/json"]}
    merged["Content-Length"] = [str(length)]
    for key, value in pairs:
        merged.setdefault(key, []).append(value)
    return {key: values[0] if len(values) == 1 else values for key, values in merged.items()}


_TOKEN = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")


def _header(name: str, value: str) -> tuple[bytes, bytes]:
    """A response header from user input; refuses names and values HTTP cannot carry
    (CR/LF would split the response, non-Latin-1 text has no wire form)."""
    if not _TOKEN.match(name):
        raise BadRequest(f"invalid header name {name!r}")
    if any(ch in value for ch in "\r\n\0"):
        raise BadRequest(f"header {name} has a control character in its value")
    try:
        return name.lower().encode("ascii"), value.encode("latin-1")
    except UnicodeEncodeError:
        raise BadRequest(f"header {name} value is not Latin-1 text") from None


async def view_response_headers(request: Request) -> Response:
    """Each query parameter becomes a response header; the body lists all response headers,
    its own ``Content-Length`` included (computed to a fixed point, as httpbin does)."""
    pairs = list(request.query_params.multi_items())
    extra = [_header(key, value) for key, value in pairs]
    length = 0
    body = pretty(_headers_body(pairs, length))
    while len(body) != length:
        length = len(body)
        body = pretty(_headers_body(pairs, length))
    return text_response(request, body, media_type="application/json", headers=extra)
