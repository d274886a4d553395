"""Endpoint registration: one decorator gives every httpbin view the same method handling.

Flask answers ``OPTIONS`` and ``HEAD`` for every route by itself and replies 405 with an ``Allow``
header to other methods; httpbin adds its CORS headers to all of it. The mock server's top-level
app dispatches ``STATIC`` paths by a dict lookup with no router in between, so each endpoint has
to carry that behaviour itself instead of relying on starlette's ``Route(methods=...)``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import Scope

from ._json import cors_headers, json_headers, text_response
from ._multipart import MultipartError

__all__ = [
    "FAST",
    "ROUTES",
    "STATIC",
    "BadRequest",
    "Endpoint",
    "FastView",
    "endpoint",
    "json_view",
]

Endpoint = Callable[[Request], Awaitable[Response]]
# (status, raw headers, body) from the scope alone: no Request, no Response, no await
FastView = Callable[[Scope], tuple[int, list[tuple[bytes, bytes]], bytes]]

ROUTES: list[Route] = []
STATIC: dict[str, Endpoint] = {}
FAST: dict[str, FastView] = {}  # GET and HEAD only; every other method goes through STATIC

_METHOD_NOT_ALLOWED = (
    "<!doctype html>\n<html lang=en>\n<title>405 Method Not Allowed</title>\n"
    "<h1>Method Not Allowed</h1>\n<p>The method is not allowed for the requested URL.</p>\n"
)


# Starlette's Route defaults function endpoints to GET; the view does its own method check.
_EVERY_METHOD = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE"]


class BadRequest(ValueError):
    """Raised by a view for unusable input; becomes a 400 whose body is the message."""


def _preflight(request: Request, allow: str) -> Response:
    response = Response(b"", media_type="text/html; charset=utf-8")
    response.raw_headers.append((b"allow", allow.encode()))
    response.raw_headers.extend(cors_headers(request.scope))
    response.raw_headers.append(
        (b"access-control-allow-methods", b"GET, POST, PUT, DELETE, PATCH, OPTIONS")
    )
    response.raw_headers.append((b"access-control-max-age", b"3600"))
    requested = request.headers.get("access-control-request-headers")
    if requested is not None:
        response.raw_headers.append((b"access-control-allow-headers", requested.encode("latin-1")))
    return response


def endpoint(*paths: str, methods: tuple[str, ...] = ("GET",)) -> Callable[[Endpoint], Endpoint]:
    """Register a view under ``paths`` (starlette syntax), answering only ``methods``.

    Paths without ``{`` are also entered in ``STATIC``. ``HEAD`` follows ``GET`` and ``OPTIONS``
    is always answered, as Flask does.
    """
    allowed = set(methods) | {"OPTIONS"}
    if "GET" in allowed:
        allowed.add("HEAD")
    allow_header = ", ".join(sorted(allowed))

    def register(view: Endpoint) -> Endpoint:
        async def handle(request: Request) -> Response:
            method = request.method
            if method not in allowed:
                response = text_response(request, _METHOD_NOT_ALLOWED, 405)
                response.raw_headers.append((b"allow", allow_header.encode()))
                return response
            if method == "OPTIONS":
                return _preflight(request, allow_header)
            try:
                return await view(request)
            except (BadRequest, MultipartError) as exc:
                return text_response(request, str(exc), 400, "text/plain; charset=utf-8")

        handle.__name__ = handle.__qualname__ = view.__name__
        handle.__doc__ = view.__doc__
        for path in paths:
            ROUTES.append(Route(path, handle, methods=_EVERY_METHOD, name=view.__name__))
            if "{" not in path:
                STATIC[path] = handle
        return view

    return register


def json_view(path: str) -> Callable[[Callable[[Scope], bytes]], Callable[[Scope], bytes]]:
    """Register a GET view whose JSON body depends on the scope alone, twice over.

    ``render(scope) -> bytes`` becomes an ordinary `endpoint` (so ``OPTIONS``, 405 and the
    standalone starlette app behave as for any view) and a `FAST` raw view, which the mock
    server's app calls for ``GET``/``HEAD`` with no Request or Response object at all.
    """

    def register(render: Callable[[Scope], bytes]) -> Callable[[Scope], bytes]:
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
        endpoint(path)(view)
        FAST[path] = fast
        return render

    return register


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
