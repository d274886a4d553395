"""The Flask method handling every httpbin view gets, and the fast twin of a JSON view.

Flask answers ``OPTIONS`` and ``HEAD`` for every route by itself and replies 405 with an ``Allow``
header to other methods; httpbin adds its CORS headers to all of it. The mock server's app calls
a parameterless httpbin view for every method with no router in between, so `flask_methods`
gives each view that behaviour itself instead of relying on starlette's ``Route(methods=...)``.
Which path serves which view is listed in one place only: `hookwire.mockserver.routes`.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Sequence

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Scope

from ._json import cors_headers, json_headers, text_response
from ._multipart import MultipartError

__all__ = [
    "EVERY_METHOD",
    "BadRequest",
    "Endpoint",
    "FastView",
    "flask_methods",
    "json_endpoints",
    "not_found",
]

Endpoint = Callable[[Request], Awaitable[Response]]
# (status, raw headers, body) from the scope alone: no Request, no Response, no await
FastView = Callable[[Scope], tuple[int, list[tuple[bytes, bytes]], bytes]]

_METHOD_NOT_ALLOWED = (
    "<!doctype html>\n<html lang=en>\n<title>405 Method Not Allowed</title>\n"
    "<h1>Method Not Allowed</h1>\n<p>The method is not allowed for the requested URL.</p>\n"
)


# Starlette's Route defaults function endpoints to GET; the view does its own method check.
EVERY_METHOD = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE")


class BadRequest(ValueError):
    """Raised by a view for unusable input; becomes a 400 whose body is the message."""


# What HTTP/1.1 cannot carry in a header (RFC 9110 token and field-value rules), as uvicorn's
# own checks: a name is a token; a value has no control character but HTAB.
_BAD_NAME = re.compile(b'[\x00-\x1f\x7f()<>@,;:\\[\\]={} \t\\\\"]')
_BAD_VALUE = re.compile(b"[\x00-\x08\x0a-\x1f\x7f]")


def unsendable_header(headers: Sequence[tuple[bytes, bytes]]) -> str | None:
    """Why one of `headers` cannot be sent (a message for a 400), or None when all can."""
    for name, value in headers:
        if not name or _BAD_NAME.search(name):
            return f"invalid header name {name.decode('latin-1')!r}"
        if _BAD_VALUE.search(value):
            shown = name.decode("latin-1").title()
            return f"the {shown} header would carry a control character (CR, LF, NUL...)"
    return None


_NOT_FOUND = (
    "<!doctype html>\n<html lang=en>\n<title>404 Not Found</title>\n<h1>Not Found</h1>\n"
    "<p>The requested URL was not found on the server. If you entered the URL manually please "
    "check your spelling and try again.</p>\n"
)


def _preflight_headers(request: Request, response: Response) -> None:
    response.raw_headers.extend(cors_headers(request.scope))
    response.raw_headers.append(
        (b"access-control-allow-methods", b"GET, POST, PUT, DELETE, PATCH, OPTIONS")
    )
    response.raw_headers.append((b"access-control-max-age", b"3600"))
    requested = request.headers.get("access-control-request-headers")
    if requested is not None:
        response.raw_headers.append((b"access-control-allow-headers", requested.encode("latin-1")))


def _preflight(request: Request, allow: str) -> Response:
    response = Response(b"", media_type="text/html; charset=utf-8")
    response.raw_headers.append((b"allow", allow.encode()))
    _preflight_headers(request, response)
    return response


async def not_found(request: Request, exc: Exception) -> Response:
    """httpbin's 404 for a path it does not serve: Flask's page, and the CORS headers (those of
    a preflight too, for ``OPTIONS``), as httpbin adds them to every response."""
    response = Response(_NOT_FOUND, 404, media_type="text/html; charset=utf-8")
    if request.method == "OPTIONS":
        _preflight_headers(request, response)
    else:
        response.raw_headers.extend(cors_headers(request.scope))
    return response


def flask_methods(view: Endpoint, methods: Sequence[str]) -> Endpoint:
    """`view` answering only ``methods``, as Flask would: ``HEAD`` follows ``GET``, ``OPTIONS``
    is always answered, anything else is a 405 with ``Allow``; `BadRequest` becomes a 400."""
    allowed = set(methods) | {"OPTIONS"}
    if "GET" in allowed:
        allowed.add("HEAD")
    allow_header = ", ".join(sorted(allowed))

    async def handle(request: Request) -> Response:
        method = request.method
        if method not in allowed:
            response = text_response(request, _METHOD_NOT_ALLOWED, 405)
            response.raw_headers.append((b"allow", allow_header.encode()))
            return response
        if method == "OPTIONS":
            return _preflight(request, allow_header)
        try:
            response = await view(request)
        except (BadRequest, MultipartError) as exc:
            return text_response(request, str(exc), 400, "text/plain; charset=utf-8")
        bad = unsendable_header(response.raw_headers)
        if bad is not None:
            # a CR/LF from ?url= or a cookie would end in a dropped connection (the server
            # refuses the header mid-response): answer what the client asked for was bad
            return text_response(request, bad, 400, "text/plain; charset=utf-8")
        return response

    handle.__name__ = handle.__qualname__ = view.__name__
    handle.__doc__ = view.__doc__
    return handle


def json_endpoints(render: Callable[[Scope], bytes]) -> tuple[Endpoint, FastView]:
    """An ordinary view and a raw `FastView` for a GET whose JSON body depends on the scope alone.

    The view goes through `flask_methods` like any other (so ``OPTIONS``, 405 and the standalone
    starlette app behave as for any view); the fast view is what the mock server's app calls for
    ``GET``/``HEAD``, with no Request or Response object at all.
    """

    async def view(request: Request) -> Response:
        body = render(request.scope)
        response = Response(body, media_type="application/json")
        response.raw_headers.extend(cors_headers(request.scope))
        return response

    def fast(scope: Scope) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
        body = render(scope)
        return 200, json_headers(scope, body), body

    view.__name__ = fast.__name__ = render.__name__
    view.__doc__ = fast.__doc__ = render.__doc__
    return view, fast


def int_param(request: Request, name: str) -> int:
    """An integer path/query value, or :class:`BadRequest` naming the parameter."""
    raw = request.path_params.get(name)
    if raw is None:
        raw = request.query_params.get(name)
    try:
        return int(raw)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise BadRequest(f"{name} must be an integer, got {raw!r}") from None


def float_param(request: Request, name: str, default: float) -> float:
    """A float query value with a default, or :class:`BadRequest` naming the parameter."""
    raw = request.query_params.get(name)
    if raw is None:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise BadRequest(f"{name} must be a number, got {raw!r}") from None
    if value != value or value in (float("inf"), float("-inf")):
        raise BadRequest(f"{name} must be finite, got {raw!r}")
    return value
