"""Route kinds, and the lookups the app derives from one route table (`routes.ROUTES`).

starlette's idea, `Router(routes=[Route(...), ...])`, with the mock's three kinds of endpoint:

- `Control`: the mock's own `/metrics` and `/__mock__/*`; never journaled, counted, faulted or
  key-checked; a wrong method is the control 404.
- `Api`: OpenAI/vLLM endpoints; the app answers a wrong method with the dialect's 405.
- `Httpbin` / `JsonView`: the view answers every method itself, as Flask does (405 with
  ``Allow``, automatic ``HEAD`` and ``OPTIONS``); a `JsonView` is also a raw fast view.

`RouteTable` turns the list into what the hot path wants: exact-path dicts, the ``GET``/``HEAD``
fast views, and matchers for the parametrized paths (starlette `Route`s for httpbin), tried in
table order after the exact ones. They are caches of the list, built per `MockApp`; nothing
else registers a route.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Match, compile_path
from starlette.routing import Route as StarletteRoute
from starlette.types import Scope

from hookwire.mockserver.control import CONTROL_PREFIX, not_found
from hookwire.mockserver.httpbin._route import EVERY_METHOD, FastView, flask_methods, json_endpoints
from hookwire.mockserver.replies import json_reply

if TYPE_CHECKING:
    from hookwire.mockserver.app import MockApp

__all__ = [
    "Api",
    "Control",
    "Httpbin",
    "JsonView",
    "Route",
    "RouteError",
    "RouteTable",
    "Target",
    "method_not_allowed",
]

Asgi = Callable[[Scope, Any, Any], Awaitable[None]]
View = Callable[[Request], Awaitable[Response]]
ControlView = Callable[["MockApp", Scope, Any, Any], Awaitable[None]]


class Matcher(Protocol):
    """What the app needs of a parametrized route: starlette's `Route.matches` and `.handle`."""

    path: str

    def matches(self, scope: Scope) -> tuple[Match, Scope]: ...

    @property
    def handle(self) -> Asgi: ...


Param = tuple[Matcher, str]  # (matcher, metrics label)


class RouteError(ValueError):
    """A route or route table that cannot be served; the message names the path."""


def _methods(path: str, methods: Sequence[str] | None) -> tuple[str, ...] | None:
    if methods is None:
        return None
    if isinstance(methods, str) or not methods:
        raise RouteError(f"{path}: methods must be a non-empty tuple of names, or None")
    for method in methods:
        if not (isinstance(method, str) and method.isascii() and method.isalpha()):
            raise RouteError(f"{path}: {method!r} is not an HTTP method name")
        if not method.isupper():
            raise RouteError(f"{path}: method {method!r} must be upper case")
    return tuple(methods)


class Route:
    """One endpoint: a path in starlette syntax, the methods it answers (None: all), its view."""

    kind: ClassVar[str] = "route"
    __slots__ = ("fast", "label", "methods", "path", "view")

    def __init__(
        self,
        path: str,
        view: Callable[..., Any],
        methods: Sequence[str] | None,
        *,
        label: str | None = None,
        fast: FastView | None = None,
    ) -> None:
        if not isinstance(path, str) or not path.startswith("/"):
            raise RouteError(f"route path {path!r} must start with '/'")
        if not callable(view):
            raise RouteError(f"{path}: view {view!r} is not callable")
        self.path = path
        self.view = view
        self.methods = _methods(path, methods)
        self.label = label or path  # the metrics label: the route template, not the request path
        self.fast = fast

    @property
    def parametrized(self) -> bool:
        return "{" in self.path

    def __repr__(self) -> str:
        methods = "*" if self.methods is None else ",".join(self.methods)
        return f"{type(self).__name__}({self.path!r}, {methods})"


class Control(Route):
    """A mock-server endpoint (`/metrics`, `/__mock__/*`): view(app, scope, receive, send)."""

    kind = "control"
    __slots__ = ()

    def __init__(
        self, path: str, view: ControlView, methods: Sequence[str] | None = ("GET",)
    ) -> None:
        super().__init__(path, view, methods)


class Api(Route):
    """An OpenAI/vLLM endpoint: view(request) -> Response, with `request.scope["mock"]` set."""

    kind = "api"
    __slots__ = ()

    def __init__(
        self,
        path: str,
        view: View,
        methods: Sequence[str] | None = ("POST",),
        *,
        label: str | None = None,
    ) -> None:
        super().__init__(path, view, methods, label=label)


class Httpbin(Route):
    """An httpbin endpoint; `view` is wrapped so that it answers every method as Flask does."""

    kind = "httpbin"
    __slots__ = ("endpoint",)

    def __init__(self, path: str, view: View, methods: Sequence[str] = ("GET",)) -> None:
        checked = _methods(path, methods)
        if checked is None:
            raise RouteError(f"{path}: an httpbin route lists its methods")
        super().__init__(path, flask_methods(view, checked), checked)
        self.endpoint: Callable[..., Any] = view  # as written, before the Flask wrapping

    def starlette_route(self) -> StarletteRoute:
        # Every method reaches the view, which refuses the wrong ones itself (405 + Allow).
        return StarletteRoute(self.path, self.view, methods=EVERY_METHOD, name=self.view.__name__)


class JsonView(Httpbin):
    """An httpbin GET whose JSON body is `render(scope) -> bytes`: a view and a raw fast view."""

    __slots__ = ()

    def __init__(self, path: str, render: Callable[[Scope], bytes]) -> None:
        view, fast = json_endpoints(render)
        super().__init__(path, view)
        self.endpoint = render
        self.fast = fast


class Target:
    """The views of one path by method; `fallback` serves every other method (None: refuse).

    The app reads ``views.get(method, fallback)`` inline for exact paths: no call in between.
    """

    __slots__ = ("fallback", "views")

    def __init__(self, views: dict[str, Any], fallback: Any = None) -> None:
        self.views = views
        self.fallback = fallback


def _by_method(path: str, group: list[Route]) -> tuple[dict[str, Any], Any]:
    """(views by method, view for every method) of the routes of one path."""
    views: dict[str, Any] = {}
    for route in group:
        if route.methods is None:
            if len(group) > 1:
                raise RouteError(f"{path}: a route for every method must be alone on its path")
            return views, route.view
        for method in route.methods:
            if method in views:
                raise RouteError(f"{path}: two routes for {method}")
            views[method] = route.view
    return views, None


def method_not_allowed(scope: Scope) -> Response:
    """An API path's reply to a method it has no view for: the dialect's 405."""
    message = f"Method {scope['method']} not allowed on {scope['path']}."
    return json_reply(scope["mock"].dialect.error_body(405, message), 405)


class _ApiTarget(Target):
    """ASGI app of one parametrized API path: the view for the method, else the dialect's 405."""

    __slots__ = ()

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        view = self.views.get(scope["method"], self.fallback)
        if view is None:
            response = method_not_allowed(scope)
        else:
            response = await view(Request(scope, receive))
        await response(scope, receive, send)


class _ControlTarget(Target):
    """One control path: the view for the method, else the control 404."""

    __slots__ = ()

    async def __call__(self, app: MockApp, scope: Scope, receive: Any, send: Any) -> None:
        view = self.views.get(scope["method"], self.fallback)
        await (not_found if view is None else view)(app, scope, receive, send)


class _ApiPattern:
    """A parametrized API path, with the two methods of a starlette `Route` the app calls.

    Leaner than starlette's: every method matches (the target answers 405 itself), the regex is
    DOTALL so a percent-encoded newline belongs to the parameter (a model id), and a path that
    is a literal prefix plus one ``{name:path}`` is matched by `str.startswith`, ~10x cheaper.
    """

    __slots__ = ("convertors", "handle", "name", "path", "prefix", "regex")

    def __init__(self, path: str, target: _ApiTarget) -> None:
        self.path = path
        regex, _, self.convertors = compile_path(path)
        self.regex = re.compile(regex.pattern, re.DOTALL)
        self.handle: Asgi = target  # the target itself: no extra coroutine per request
        head, _, tail = path.partition("{")
        name, is_path, rest = tail.partition(":path}")
        self.prefix = head if is_path and not rest and name.isidentifier() else None
        self.name = name

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        path: str = scope["path"]
        if self.prefix is not None:
            if path.startswith(self.prefix):
                return Match.FULL, {"path_params": {self.name: path[len(self.prefix) :]}}
            return Match.NONE, {}
        found = self.regex.match(path)
        if found is None:
            return Match.NONE, {}
        params = {k: self.convertors[k].convert(v) for k, v in found.groupdict().items()}
        return Match.FULL, {"path_params": params}


class RouteTable:
    """Everything the app dispatches through, computed from `routes` alone.

    - `control`: exact path -> control target (before journal, faults and auth);
    - `exact`: exact path -> `Target`, for API and httpbin paths (an httpbin view is the
      fallback for every method: it refuses wrong ones itself);
    - `fast`: exact path -> raw `GET`/`HEAD` view (the `JsonView`s);
    - `params`: (matcher, metrics label) per parametrized path, in table order (httpbin ones are
      starlette `Route`s, as in `httpbin.build_app()`).

    Raises `RouteError` for a table that cannot be served: one path under several kinds, two
    routes for one method, a parametrized control or fast route, or an endpoint under
    `/__mock__/` that is not a control route.
    """

    def __init__(self, routes: Iterable[Route]) -> None:
        self.routes: tuple[Route, ...] = tuple(routes)
        by_path: dict[str, list[Route]] = {}
        for route in self.routes:
            if not isinstance(route, (Control, Api, Httpbin)):
                raise RouteError(f"{route!r} is not a Control, Api or Httpbin route")
            by_path.setdefault(route.path, []).append(route)
        self.control: dict[str, _ControlTarget] = {}
        self.exact: dict[str, Target] = {}
        self.fast: dict[str, FastView] = {}
        params: list[Param] = []
        for path, group in by_path.items():
            kinds = sorted({route.kind for route in group})
            if len(kinds) > 1:
                raise RouteError(f"{path}: routes of different kinds ({', '.join(kinds)})")
            first = group[0]
            if isinstance(first, Control):
                self._add_control(path, group)
                continue
            if path.startswith(CONTROL_PREFIX):
                raise RouteError(f"{path}: paths under {CONTROL_PREFIX} are control routes")
            if isinstance(first, Api):
                param = self._add_api(path, group)
            else:
                param = self._add_httpbin(group)
            if param is not None:
                params.append(param)
        self.params: tuple[Param, ...] = tuple(params)

    def _add_control(self, path: str, group: list[Route]) -> None:
        if group[0].parametrized:
            raise RouteError(f"{path}: control routes take exact paths")
        self.control[path] = _ControlTarget(*_by_method(path, group))

    def _add_api(self, path: str, group: list[Route]) -> Param | None:
        target = _ApiTarget(*_by_method(path, group))
        if not group[0].parametrized:
            self.exact[path] = target
            return None
        return _ApiPattern(path, target), group[0].label

    def _add_httpbin(self, group: list[Route]) -> Param | None:
        route = group[0]
        assert isinstance(route, Httpbin)  # the caller sorted the kinds out
        if len(group) > 1:
            raise RouteError(f"{route.path}: one httpbin route per path (list its methods)")
        if route.parametrized:
            if route.fast is not None:
                raise RouteError(f"{route.path}: a fast view needs an exact path")
            return route.starlette_route(), route.label
        self.exact[route.path] = Target({}, route.view)
        if route.fast is not None:
            self.fast[route.path] = route.fast
        return None
