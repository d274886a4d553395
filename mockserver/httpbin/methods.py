"""HTTP method and request-inspection endpoints: ``/get``, ``/post``, ``/anything``...

``/get`` is the benchmark path: it builds its dict straight from the scope (no body read, no
``get_dict`` key loop) and renders with the fast pretty-printer.
"""

from __future__ import annotations

import uuid

from starlette.requests import Request
from starlette.responses import Response

from ._echo import echo, header_dict, origin, query_args, request_url
from ._json import json_response
from ._route import endpoint

BODY_KEYS = ("url", "args", "form", "data", "origin", "headers", "files", "json")
ANYTHING_KEYS = (*BODY_KEYS, "method")
ALL_METHODS = ("GET", "POST", "PUT", "DELETE", "PATCH", "TRACE")


def _headers(request: Request) -> dict[str, str]:
    query: bytes = request.scope["query_string"]
    show_env = b"show_env" in query and "show_env" in request.query_params
    return header_dict(request, hide_env=not show_env)


def get_view_dict(request: Request) -> dict[str, object]:
    """``/get``'s body; ``/cache`` and ``/etag`` reuse it as httpbin does."""
    return {
        "args": query_args(request),
        "headers": _headers(request),
        "origin": origin(request),
        "url": request_url(request),
    }


@endpoint("/get")
async def view_get(request: Request) -> Response:
    """The request's URL, query args, headers and origin."""
    return json_response(request, get_view_dict(request))


@endpoint("/post", methods=("POST",))
async def view_post(request: Request) -> Response:
    """Echo of a POST: args, form, data, files, json, headers, origin, url."""
    return json_response(request, await echo(request, BODY_KEYS))


@endpoint("/put", methods=("PUT",))
async def view_put(request: Request) -> Response:
    """Echo of a PUT."""
    return json_response(request, await echo(request, BODY_KEYS))


@endpoint("/patch", methods=("PATCH",))
async def view_patch(request: Request) -> Response:
    """Echo of a PATCH."""
    return json_response(request, await echo(request, BODY_KEYS))


@endpoint("/delete", methods=("DELETE",))
async def view_delete(request: Request) -> Response:
    """Echo of a DELETE (bodies are read and echoed too)."""
    return json_response(request, await echo(request, BODY_KEYS))


@endpoint("/anything", "/anything/{anything:path}", methods=ALL_METHODS)
async def view_anything(request: Request) -> Response:
    """Echo of any method, with ``method`` added."""
    return json_response(request, await echo(request, ANYTHING_KEYS))


@endpoint("/headers")
async def view_headers(request: Request) -> Response:
    """The request headers."""
    return json_response(request, {"headers": _headers(request)})


@endpoint("/user-agent")
async def view_user_agent(request: Request) -> Response:
    """The ``User-Agent`` header (``null`` when absent, as httpbin)."""
    return json_response(request, {"user-agent": request.headers.get("user-agent")})


@endpoint("/ip")
async def view_ip(request: Request) -> Response:
    """The caller's address (``X-Forwarded-For`` wins)."""
    return json_response(request, {"origin": origin(request)})


@endpoint("/uuid")
async def view_uuid(request: Request) -> Response:
    """A fresh UUID4."""
    return json_response(request, {"uuid": str(uuid.uuid4())})
