"""httpbin's API as starlette views, for the hookwire mock server.

The paths are rows of the mock server's one route table (`hookwire.mockserver.routes`); what
this package exports is derived from those rows on first use, never registered separately:

- ``ROUTES``: ``list[starlette.routing.Route]`` covering every endpoint (static and parametrized);
- ``STATIC``: ``dict[str, endpoint]``, exact path -> ``async def endpoint(request) -> Response``
  for the paths without parameters. Each endpoint checks the method itself (405 with ``Allow``,
  automatic ``HEAD``/``OPTIONS``), so it is safe to call for any method;
- ``FAST``: ``dict[str, FastView]``, exact path -> ``view(scope) -> (status, raw headers, body)``
  for the hottest ``GET``/``HEAD`` views (``/get``, ``/headers``...), which need neither a
  Request nor a Response object; the same paths are in ``STATIC`` for every other method;
- ``build_app()``: a standalone starlette app of just these routes (its 404 is httpbin's, with
  the CORS headers httpbin sends on every response).

Bodies match psf/httpbin's for the same request (see docs/mockserver-httpbin.md for the few
deliberate differences).
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any

from ._route import Endpoint, FastView

if TYPE_CHECKING:
    from starlette.applications import Starlette

    from hookwire.mockserver.routing import Httpbin

__all__ = ["FAST", "ROUTES", "STATIC", "Endpoint", "FastView", "build_app"]


@functools.cache
def _rows() -> tuple[Httpbin, ...]:
    # imported here: the table imports this package's view modules
    from hookwire.mockserver.routes import ROUTES as TABLE
    from hookwire.mockserver.routing import Httpbin

    return tuple(route for route in TABLE if isinstance(route, Httpbin))


@functools.cache
def _derived(name: str) -> Any:
    rows = _rows()
    if name == "ROUTES":
        return [route.starlette_route() for route in rows]
    if name == "STATIC":
        return {route.path: route.view for route in rows if not route.parametrized}
    return {route.path: route.fast for route in rows if route.fast is not None}


def __getattr__(name: str) -> Any:
    if name in ("FAST", "ROUTES", "STATIC"):
        return _derived(name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def build_app() -> Starlette:
    """A starlette app serving only the httpbin routes (the full server adds OpenAI etc.)."""
    from starlette.applications import Starlette

    from ._route import not_found

    return Starlette(routes=list(_derived("ROUTES")), exception_handlers={404: not_found})
