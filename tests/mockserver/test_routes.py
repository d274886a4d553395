"""The mock server's one route table: everything it lists is served, every lookup the app uses
is derived from it, and an injected table is served instead (over a real uvicorn socket)."""

from __future__ import annotations

import re
from collections.abc import Iterator

import httpx
import pytest
from starlette.requests import Request
from starlette.responses import Response

from hookwire.mockserver import httpbin
from hookwire.mockserver.app import MockApp, create_app
from hookwire.mockserver.config import MockConfig
from hookwire.mockserver.openai.dialects import DIALECTS
from hookwire.mockserver.replies import json_reply
from hookwire.mockserver.routes import ROUTES
from hookwire.mockserver.routing import Api, Control, Httpbin, JsonView, RouteError, RouteTable
from hookwire.mockserver.runner import ThreadedServer

# A value per path parameter that the endpoint accepts, so that no legitimate 404 can hide a
# missing route; parameters not named here get "2".
SAMPLES = {"codes": "200", "model": "mock-model", "etag": "abc", "value": "aGk=", "delay": "0"}
SAMPLES |= {"user": "u", "passwd": "p"}  # with these credentials: /hidden-basic-auth 404s without
# Keeps the timed endpoints (/drip, /sse, /delay) instant; the others ignore it.
QUICK = {"duration": "0", "count": "1", "numbytes": "1"}
# Lookups of a stored object: for the sample id their 404 is the endpoint's own answer.
LOOKUPS = {"/v1/responses/{response_id}", "/v1/files/{file_id}", "/v1/files/{file_id}/content",
           "/v1/batches/{batch_id}", "/v1/batches/{batch_id}/cancel"}
PARAM = re.compile(r"\{(\w+)(?::\w+)?\}")


def concrete(path: str) -> str:
    return PARAM.sub(lambda m: SAMPLES.get(m.group(1), "2"), path)


def router_404(response: httpx.Response) -> bool:
    """Whether this is the app's own "no such route" reply, not an endpoint's 404."""
    text = response.text
    return response.status_code == 404 and ("No route for" in text or "no control endpoint" in text)


@pytest.fixture(scope="module")
def server() -> Iterator[ThreadedServer]:
    with ThreadedServer(create_app()) as srv:
        yield srv


@pytest.mark.parametrize("route", ROUTES, ids=repr)
def test_every_route_in_the_table_is_served(server: ThreadedServer, route) -> None:
    method = route.methods[0] if route.methods else "GET"
    url = server.url + concrete(route.path)
    response = httpx.request(method, url, params=QUICK, auth=("u", "p"), timeout=10)
    if route.path in LOOKUPS:
        assert response.status_code == 404 and "not found" in response.text, response.text[:200]
    else:
        assert response.status_code != 404, (route, response.text[:200])
    assert not router_404(response)


def test_the_table_lists_what_the_docs_promise() -> None:
    paths = {route.path for route in ROUTES}
    assert {"/v1/chat/completions", "/v1/models/{model:path}", "/get", "/status/{codes}"} <= paths
    assert {"/metrics", "/__mock__/journal", "/__mock__/scenario"} <= paths


def test_fast_views_are_derived_from_the_table_only() -> None:
    app = create_app()
    listed = {route.path: route for route in ROUTES}
    assert set(app.routes.fast) <= set(listed)
    assert {path: route.fast for path, route in listed.items() if route.fast} == app.routes.fast
    assert "/get" in app.routes.fast
    # every other lookup is the table's too
    assert set(app.routes.exact) | set(app.routes.control) <= set(listed)
    assert [m.path for m, _ in app.routes.params] == [p for p in listed if "{" in p]
    # the httpbin package's exports are rows of the same table
    assert {p: r.fast for p, r in listed.items() if isinstance(r, JsonView)} == httpbin.FAST
    assert [r.path for r in httpbin.ROUTES] == [r.path for r in ROUTES if isinstance(r, Httpbin)]


def test_a_table_without_the_fast_rows_has_no_fast_path() -> None:
    """No second registry: drop /get from the table and the app does not serve it at all."""
    table = [route for route in ROUTES if route.path != "/get"]
    app = MockApp(MockConfig(), routes=table)
    assert "/get" not in app.routes.fast and "/headers" in app.routes.fast
    with ThreadedServer(app) as srv:
        assert router_404(httpx.get(srv.url + "/get", timeout=10))
        assert httpx.head(srv.url + "/get", timeout=10).status_code == 404
        assert httpx.get(srv.url + "/headers", timeout=10).status_code == 200


async def hello(request: Request) -> Response:
    return json_reply({"hello": request.query_params.get("name", "world")})


async def retrieve_store(request: Request) -> Response:
    return json_reply({"id": request.path_params["store_id"], "object": "vector_store"})


def ping(scope) -> bytes:
    return b'{"pong": true}\n'


async def mock_version(app, scope, receive, send) -> None:
    await json_reply({"routes": len(app.routes.routes)})(scope, receive, send)


def test_a_route_added_to_a_copy_of_the_table_is_served() -> None:
    added = [
        Httpbin("/hello", hello, ("GET", "POST")),
        JsonView("/ping", ping),
        Api("/v1/vector_stores/{store_id}", retrieve_store, methods=("GET",)),
        Control("/__mock__/routes", mock_version),
    ]
    app = MockApp(MockConfig(dialect="vllm"), routes=[*ROUTES, *added])
    assert "/ping" in app.routes.fast
    with ThreadedServer(app) as srv:
        get = httpx.get(srv.url + "/hello", params={"name": "x"}, timeout=10)
        assert get.status_code == 200 and get.json() == {"hello": "x"}
        assert httpx.post(srv.url + "/hello", timeout=10).status_code == 200
        # an added httpbin route behaves as Flask's: 405 with Allow, OPTIONS answered
        refused = httpx.delete(srv.url + "/hello", timeout=10)
        assert refused.status_code == 405
        assert refused.headers["allow"] == "GET, HEAD, OPTIONS, POST"
        assert httpx.options(srv.url + "/hello", timeout=10).status_code == 200
        assert httpx.get(srv.url + "/ping", timeout=10).json() == {"pong": True}

        store = httpx.get(srv.url + "/v1/vector_stores/vs-1", timeout=10)
        assert store.status_code == 200 and store.json() == {"id": "vs-1", "object": "vector_store"}
        wrong = httpx.delete(srv.url + "/v1/vector_stores/vs-1", timeout=10)
        assert wrong.status_code == 405
        assert wrong.json()["error"]["code"] == 405  # the vllm dialect's shape

        routes = httpx.get(srv.url + "/__mock__/routes", timeout=10)
        assert routes.json() == {"routes": len(ROUTES) + len(added)}
        assert httpx.get(srv.url + "/get", timeout=10).status_code == 200  # the rest stays

        metrics = httpx.get(srv.url + "/metrics", timeout=10).text
    assert 'path="/v1/vector_stores/{store_id}",status="200"' in metrics
    paths = [entry.path for entry in app.journal.entries()]
    assert "/hello" in paths and "/v1/vector_stores/vs-1" in paths
    assert "/__mock__/routes" not in paths  # control routes are never journaled
    # the default table did not change
    assert "/hello" not in {route.path for route in ROUTES}
    assert "/hello" not in create_app().routes.exact


@pytest.mark.parametrize("dialect", sorted(DIALECTS))
def test_unknown_paths_404_in_the_dialects_shape(dialect: str) -> None:
    config, only = MockConfig(dialect=dialect), [Httpbin("/hello", hello)]
    for app in (create_app(config), MockApp(config, routes=only)):
        with ThreadedServer(app) as srv:
            api = httpx.post(srv.url + "/v1/nope", json={}, timeout=10)
            assert api.status_code == 404
            assert api.json() == DIALECTS[dialect].error_body(404, "No route for /v1/nope.")
            plain = httpx.get(srv.url + "/nope", timeout=10)
            assert plain.status_code == 404
            assert plain.json() == {"error": "No route for /nope."}
            control = httpx.get(srv.url + "/__mock__/nope", timeout=10)
            assert control.status_code == 404
            assert control.json() == {"error": "no control endpoint GET /__mock__/nope"}
    # the injected table lacks the API: its paths are unknown there, in the dialect's shape
    with ThreadedServer(MockApp(config, routes=only)) as srv:
        chat = httpx.post(srv.url + "/v1/chat/completions", json={}, timeout=10)
        assert chat.status_code == 404
        assert chat.json()["error"]["message"] == "No route for /v1/chat/completions."


def test_model_ids_may_hold_any_character(server: ThreadedServer) -> None:
    """A percent-encoded newline is part of the id, as in the prefix match the table replaced."""
    odd = httpx.get(server.url + "/v1/models/a%0Ab", timeout=10)
    assert odd.status_code == 404 and odd.json()["error"]["code"] == "model_not_found"
    nested = httpx.get(server.url + "/v1/models/mock-model", timeout=10)
    assert nested.status_code == 200 and nested.json()["id"] == "mock-model"
    empty = httpx.get(server.url + "/v1/models/", timeout=10)
    assert empty.status_code == 400


async def view(request: Request) -> Response:
    return Response(b"")


@pytest.mark.parametrize(
    ("table", "needle"),
    [
        ([Httpbin("/a", view), Api("/a", view)], "/a: routes of different kinds"),
        ([Api("/a", view), Api("/a", view)], "/a: two routes for POST"),
        ([Api("/a", view), Api("/a", view, methods=None)], "/a: a route for every method"),
        ([Httpbin("/a", view), Httpbin("/a", view, ("POST",))], "/a: one httpbin route per path"),
        ([Control("/__mock__/{x}", mock_version)], "/__mock__/{x}: control routes take exact"),
        ([Api("/__mock__/x", view)], "/__mock__/x: paths under /__mock__/ are control routes"),
        ([JsonView("/j/{x}", ping)], "/j/{x}: a fast view needs an exact path"),
        (["/get"], "'/get' is not a Control, Api or Httpbin route"),
    ],
)
def test_a_table_that_cannot_be_served_is_a_route_error(table, needle: str) -> None:
    with pytest.raises(RouteError, match=re.escape(needle)):
        MockApp(MockConfig(), routes=table)


@pytest.mark.parametrize(
    ("make", "needle"),
    [
        (lambda: Api("v1/x", view), "route path 'v1/x' must start with '/'"),
        (lambda: Api("/x", view, methods=("post",)), "/x: method 'post' must be upper case"),
        (lambda: Api("/x", view, methods="GET"), "/x: methods must be a non-empty tuple"),
        (lambda: Api("/x", view, methods=()), "/x: methods must be a non-empty tuple"),
        (lambda: Httpbin("/x", view, ("G T",)), "/x: 'G T' is not an HTTP method name"),
        (lambda: Httpbin("/x", view, None), "/x: an httpbin route lists its methods"),
        (lambda: Control("/x", "not a view"), "/x: view 'not a view' is not callable"),
    ],
)
def test_a_bad_route_is_a_route_error(make, needle: str) -> None:
    with pytest.raises(RouteError, match=re.escape(needle)):
        make()


def test_route_table_keeps_the_order_of_parametrized_routes() -> None:
    first = Api("/v1/x/{rest:path}", retrieve_store, methods=("GET",))
    table = RouteTable([first, Httpbin("/v1/x/{n:int}", view)])
    assert [label for _, label in table.params] == ["/v1/x/{rest:path}", "/v1/x/{n:int}"]
