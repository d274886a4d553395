"""HTTP method and request-inspection endpoints: ``/get``, ``/post``, ``/anything``...

``/get`` is the benchmark path: it is a `JsonView` route, so the mock server answers ``GET /get``
straight from the ASGI scope (no Request or Response object, no body read) and renders it with
a template of httpbin's layout.
"""

from __future__ import annotations

import uuid

from starlette.datastructures import QueryParams
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Scope

from ._echo import echo, header_dict, origin, query_args, request_url
from ._json import json_response, pretty, render_echo

BODY_KEYS = ("url", "args", "form", "data", "origin", "headers", "files", "json")
ANYTHING_KEYS = (*BODY_KEYS, "method")
ALL_METHODS = ("GET", "POST", "PUT", "DELETE", "PATCH", "TRACE")


def _headers(scope: Scope) -> dict[str, str]:
    query: bytes = scope["query_string"]
    show_env = b"show_env" in query and "show_env" in QueryParams(query)
    return header_dict(scope, hide_env=not show_env)


def get_dict(scope: Scope) -> dict[str, object]:
    """``/get``'s body as a dict; ``/cache``, ``/etag`` and ``/stream`` reuse it as httpbin does."""
    return {
        "args": query_args(scope),
        "headers": _headers(scope),
        "origin": origin(scope),
        "url": request_url(scope),
    }


def get_view_dict(request: Request) -> dict[str, object]:
    """`get_dict` of a starlette request."""
    return get_dict(request.scope)


def view_get(scope: Scope) -> bytes:
    """The request's URL, query args, headers and origin."""
    return render_echo(query_args(scope), _headers(scope), origin(scope), request_url(scope))


async def view_post(request: Request) -> Response:
    """Echo of a POST: args, form, data, files, json, headers, origin, url."""
    return json_response(request, await echo(request, BODY_KEYS))


async def view_put(request: Request) -> Response:
    """Echo of a PUT."""
    return json_response(request, await echo(request, BODY_KEYS))


async def view_patch(request: Request) -> Response:
    """Echo of a PATCH."""
    return json_response(request, await echo(request, BODY_KEYS))


async def view_delete(request: Request) -> Response:
    """Echo of a DELETE (bodies are read and echoed too)."""
    return json_response(request, await echo(request, BODY_KEYS))


async def view_anything(request: Request) -> Response:
    """Echo of any method, with ``method`` added."""
    return json_response(request, await echo(request, ANYTHING_KEYS))


def view_headers(scope: Scope) -> bytes:
    """The request headers."""
    return pretty({"headers": _headers(scope)})


def view_user_agent(scope: Scope) -> bytes:
    """The ``User-Agent`` header (``null`` when absent, as httpbin)."""
    agent = None
    for name, value in scope["headers"]:
        if name == b"user-agent":
            agent = value.decode("latin-1")
            break
    return pretty({"user-agent": agent})


def view_ip(scope: Scope) -> bytes:
    """The caller's address (``X-Forwarded-For`` wins)."""
    return pretty({"origin": origin(scope)})


def view_uuid(scope: Scope) -> bytes:
    """A fresh UUID4."""
    return pretty({"uuid": str(uuid.uuid4())})
