"""httpbin's API as starlette routes, for the hookwire mock server.

Exports:
- ``ROUTES``: ``list[starlette.routing.Route]`` covering every endpoint (static and parametrized);
- ``STATIC``: ``dict[str, endpoint]``, exact path -> ``async def endpoint(request) -> Response``
  for the paths without parameters, so the top-level app can dispatch them with a dict lookup
  before any router runs. Each endpoint checks the method itself (405 with ``Allow``, automatic
  ``HEAD``/``OPTIONS``), so it is safe to call for any method;
- ``FAST``: ``dict[str, FastView]``, exact path -> ``view(scope) -> (status, raw headers, body)``
  for the hottest ``GET``/``HEAD`` views (``/get``, ``/headers``...), which need neither a
  Request nor a Response object; the same paths are in ``STATIC`` for every other method;
- ``build_app()``: a standalone starlette app of just these routes.

Bodies match psf/httpbin's for the same request (see docs/mockserver-httpbin.md for the few
deliberate differences).
"""

from __future__ import annotations

from starlette.applications import Starlette

from . import (  # noqa: F401  (importing registers the endpoints)
    auth,
    caching,
    cookies,
    dynamic,
    formats,
    images,
    methods,
    redirects,
    status,
    streams,
)
from ._route import FAST, ROUTES, STATIC, Endpoint, FastView

__all__ = ["FAST", "ROUTES", "STATIC", "Endpoint", "FastView", "build_app"]


def build_app() -> Starlette:
    """A starlette app serving only the httpbin routes (the full server adds OpenAI etc.)."""
    return Starlette(routes=list(ROUTES))
