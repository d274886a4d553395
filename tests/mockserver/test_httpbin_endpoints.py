"""Behaviour of the httpbin routes that the differential test cannot pin down (streaming,
go-httpbin additions, our own images, input errors), over a real uvicorn socket."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from urllib.parse import quote

import httpx
import pytest

from hookwire.mockserver.httpbin import ROUTES, STATIC, build_app
from hookwire.mockserver.routes import ROUTES as TABLE
from hookwire.mockserver.routing import Httpbin
from hookwire.mockserver.runner import ThreadedServer, default_app


@pytest.fixture(scope="module")
def server() -> Iterator[ThreadedServer]:
    with ThreadedServer(build_app()) as srv:
        yield srv


@pytest.fixture
def client(server: ThreadedServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, timeout=10) as c:
        yield c


def test_static_table_covers_exactly_the_parameterless_routes() -> None:
    paths = {route.path for route in ROUTES}
    assert set(STATIC) == {path for path in paths if "{" not in path}
    assert {"/get", "/post", "/anything", "/json", "/sse", "/unstable"} <= set(STATIC)


async def test_static_endpoints_check_methods_themselves() -> None:
    """The top-level app calls STATIC endpoints for any method, so they must refuse wrong ones."""
    from starlette.requests import Request

    scope = {"type": "http", "method": "DELETE", "path": "/get", "headers": [], "query_string": b""}
    response = await STATIC["/get"](Request(scope))
    assert response.status_code == 405
    assert dict(response.headers)["allow"] == "GET, HEAD, OPTIONS"


def test_head_has_headers_but_no_body(client: httpx.Client) -> None:
    response = client.head("/get")
    assert response.status_code == 200
    assert int(response.headers["content-length"]) > 0
    assert response.content == b""


def test_drip_sends_bytes_in_separate_pieces(client: httpx.Client) -> None:
    with client.stream("GET", "/drip?numbytes=4&duration=0.2&code=202") as response:
        pieces = list(response.iter_raw())
    assert response.status_code == 202
    assert response.headers["content-length"] == "4"
    assert b"".join(pieces) == b"****"
    assert len(pieces) > 1  # a buffered body would arrive as one piece


@pytest.mark.parametrize(
    ("query", "needle"),
    [("duration=abc", "duration"), ("numbytes=0", "positive"), ("code=42", "code")],
)
def test_drip_rejects_bad_input(client: httpx.Client, query: str, needle: str) -> None:
    response = client.get(f"/drip?{query}")
    assert response.status_code == 400
    assert needle in response.text


def _events(text: str) -> list[dict[str, str]]:
    events = []
    for block in text.strip().split("\n\n"):
        fields = dict(line.split(": ", 1) for line in block.splitlines())
        events.append(fields)
    return events


def test_sse_streams_go_httpbin_events(client: httpx.Client) -> None:
    with client.stream("GET", "/sse?count=3&duration=100ms") as response:
        assert response.headers["content-type"].startswith("text/event-stream")
        body = response.read().decode()
    events = _events(body)
    assert [e["id"] for e in events] == ["0", "1", "2"]
    assert {e["event"] for e in events} == {"ping"}
    data = [json.loads(e["data"]) for e in events]
    assert [d["id"] for d in data] == [0, 1, 2]
    assert data[0]["timestamp"] <= data[2]["timestamp"]


@pytest.mark.parametrize(
    "query", ["count=0", "count=x", "duration=5parsecs", "duration=9s&delay=2s"]
)
def test_sse_rejects_bad_input(client: httpx.Client, query: str) -> None:
    assert client.get(f"/sse?{query}").status_code == 400


def test_stream_bytes_chunks_and_seed(client: httpx.Client) -> None:
    with client.stream("GET", "/stream-bytes/100?seed=3&chunk_size=30") as response:
        pieces = list(response.iter_raw())
    assert sum(map(len, pieces)) == 100
    assert b"".join(pieces) == client.get("/bytes/100?seed=3").content
    assert client.get("/bytes/100?seed=4").content != b"".join(pieces)


def test_unstable_is_deterministic_with_seed(client: httpx.Client) -> None:
    codes = {client.get("/unstable?seed=1234&failure_rate=0.5").status_code for _ in range(5)}
    assert len(codes) == 1
    seeds = {client.get(f"/unstable?seed={s}&failure_rate=0.5").status_code for s in range(40)}
    assert seeds == {200, 500}
    assert client.get("/unstable?failure_rate=0").status_code == 200
    assert client.get("/unstable?failure_rate=1").status_code == 500
    assert client.get("/unstable?failure_rate=2").status_code == 400


def test_status_weighted_draws_from_both(client: httpx.Client) -> None:
    seen = {client.get("/status/200:1,201:1").status_code for _ in range(40)}
    assert seen == {200, 201}


@pytest.mark.parametrize(
    ("path", "accept", "media_type", "magic"),
    [
        ("/image/png", None, "image/png", b"\x89PNG\r\n\x1a\n"),
        ("/image/jpeg", None, "image/jpeg", b"\xff\xd8\xff"),
        ("/image/webp", None, "image/webp", b"RIFF"),
        ("/image/svg", None, "image/svg+xml", b"<?xml"),
        ("/image", "image/webp,*/*", "image/webp", b"RIFF"),
        ("/image", "image/svg+xml", "image/svg+xml", b"<?xml"),
        ("/image", "image/jpeg", "image/jpeg", b"\xff\xd8\xff"),
        ("/image", "image/*", "image/png", b"\x89PNG"),
    ],
)
def test_images(
    client: httpx.Client, path: str, accept: str | None, media_type: str, magic: bytes
) -> None:
    headers = {"Accept": accept} if accept else {}
    response = client.get(path, headers=headers)
    assert response.headers["content-type"] == media_type
    assert response.content.startswith(magic)


@pytest.mark.parametrize("path", ["/image/png", "/image/jpeg", "/image/webp"])
def test_images_decode(client: httpx.Client, path: str) -> None:
    image_module = pytest.importorskip("PIL.Image")
    import io

    image = image_module.open(io.BytesIO(client.get(path).content))
    image.load()
    assert image.size[0] >= 8 and image.format.lower() in path


def test_svg_is_xml(client: httpx.Client) -> None:
    import xml.dom.minidom

    root = xml.dom.minidom.parseString(client.get("/image/svg").content).documentElement
    assert root.tagName == "svg"


def test_compressed_bodies_are_really_encoded(client: httpx.Client) -> None:
    import gzip
    import zlib

    brotli = pytest.importorskip("brotli")
    decoders = {"gzip": gzip.decompress, "deflate": zlib.decompress, "brotli": brotli.decompress}
    for path, decode in decoders.items():
        with client.stream("GET", "/" + path) as response:
            raw = b"".join(response.iter_raw())
        payload = json.loads(decode(raw))
        assert payload[{"gzip": "gzipped", "deflate": "deflated", "brotli": "brotli"}[path]] is True


@pytest.mark.parametrize(
    "query", ["X-Bad%0D%0AInjected=1", "Bad%0AName=1", "X-Euro=%E2%82%AC", "X-Ok=a%0Db"]
)
def test_response_headers_refuses_unsendable_headers(client: httpx.Client, query: str) -> None:
    response = client.get(f"/response-headers?{query}")
    assert response.status_code == 400
    assert "injected" not in response.headers


def test_response_headers_sets_headers(client: httpx.Client) -> None:
    response = client.post("/response-headers?X-A=1&X-A=2&Cache-Control=no-store")
    assert response.headers.get_list("x-a") == ["1", "2"]
    assert response.headers["cache-control"] == "no-store"
    assert int(response.json()["Content-Length"]) == len(response.content)


@pytest.mark.parametrize(
    ("path", "needle"),
    [("/delay/abc", "delay"), ("/delay/-1", "delay"), ("/bytes/5?seed=x", "seed")],
)
def test_bad_numbers_are_400_naming_the_parameter(
    client: httpx.Client, path: str, needle: str
) -> None:
    response = client.get(path)
    assert response.status_code == 400
    assert needle in response.text


def test_delay_echoes_after_waiting(client: httpx.Client) -> None:
    response = client.put("/delay/0.01?x=1", data={"f": "v"})
    assert response.json()["form"] == {"f": "v"}
    assert response.json()["args"] == {"x": "1"}


def test_broken_multipart_is_a_400(client: httpx.Client) -> None:
    response = client.post(
        "/post",
        content=b"no boundary here",
        headers={"Content-Type": "multipart/form-data; boundary=abc"},
    )
    assert response.status_code == 400
    assert "boundary" in response.text


def test_redirect_chain_is_followed_to_get(client: httpx.Client) -> None:
    response = client.get("/redirect/4", follow_redirects=True)
    assert response.status_code == 200
    assert len(response.history) == 4
    assert response.json()["url"].endswith("/get")


def test_cookie_round_trip(client: httpx.Client) -> None:
    response = client.get("/cookies/set?flavour=ginger", follow_redirects=True)
    assert response.json() == {"cookies": {"flavour": "ginger"}}
    response = client.get("/cookies/delete?flavour", follow_redirects=True)
    assert response.json() == {"cookies": {}}


def test_links_page(client: httpx.Client) -> None:
    text = client.get("/links/3/1").text
    assert "<a href='/links/3/0'>0</a> 1 <a href='/links/3/2'>2</a>" in text


def test_default_app_is_the_full_mock_server_when_available() -> None:
    pytest.importorskip("hookwire.mockserver.app")
    app = default_app()
    assert type(app).__name__ != "Starlette"  # the assembled server, not the routes-only app
    with ThreadedServer(app) as srv, httpx.Client(base_url=srv.url) as c:
        assert c.get("/get").json()["url"] == srv.url + "/get"


# Values a cookie jar must get back exactly from /cookies/set (quoted by the server as
# werkzeug quotes them). requests drops a value's inner double quotes on its side (so does it
# with the real httpbin), so those are httpx-only.
ROUND_TRIP = ["bar:baz", "a b", "a,b", "a;b", "x y, z; w", "été 日本", "a\\b", "(x)", "\tt"]


@pytest.mark.parametrize("value", [*ROUND_TRIP, 'say "hi"'])
@pytest.mark.parametrize("form", ["query", "path"])
def test_cookie_values_come_back_exactly_to_httpx(server, value: str, form: str) -> None:
    path = f"/cookies/set?k={quote(value)}" if form == "query" else f"/cookies/set/k/{quote(value)}"
    with httpx.Client(base_url=server.url, timeout=10) as c:
        assert c.get(path, follow_redirects=True).json() == {"cookies": {"k": value}}
        assert c.cookies["k"].startswith('"') == (value != "bar:baz" and value != "(x)")


@pytest.mark.parametrize("value", ROUND_TRIP)
def test_cookie_values_come_back_exactly_to_requests(server, value: str) -> None:
    requests = pytest.importorskip("requests")
    with requests.Session() as s:
        got = s.get(f"{server.url}/cookies/set?k={quote(value)}", timeout=10).json()
        assert got == {"cookies": {"k": value}}
        got = s.get(f"{server.url}/cookies/set/k2/{quote(value)}", timeout=10).json()
        assert got["cookies"]["k2"] == value


def test_multipart_with_bare_lf_line_breaks_parses(client: httpx.Client) -> None:
    body = (
        b'--lf\nContent-Disposition: form-data; name="a"\n\nvalue\n'
        b'--lf\nContent-Disposition: form-data; name="f"; filename="x.txt"\n\nfile\n--lf--\n'
    )
    headers = {"Content-Type": "multipart/form-data; boundary=lf"}
    echoed = client.post("/post", content=body, headers=headers).json()
    assert (echoed["form"], echoed["files"]) == ({"a": "value"}, {"f": "file"})
    cut = client.post("/post", content=body[: body.index(b"--lf--")], headers=headers)
    assert cut.status_code == 400 and "close delimiter" in cut.text


def test_unknown_paths_get_httpbins_404_with_cors(client: httpx.Client) -> None:
    r = client.get("/no/such", headers={"Origin": "https://a.example"})
    assert r.status_code == 404 and "<title>404 Not Found</title>" in r.text
    assert r.headers["access-control-allow-origin"] == "https://a.example"
    assert r.headers["access-control-allow-credentials"] == "true"
    pre = client.options("/no/such", headers={"Access-Control-Request-Headers": "X-A"})
    assert pre.status_code == 404 and pre.headers["access-control-allow-headers"] == "X-A"
    assert pre.headers["access-control-allow-origin"] == "*"


def test_dump_request_is_the_request_as_go_writes_it(client: httpx.Client) -> None:
    headers = {"X-Custom-thing": "1", "x-multi": "a", "User-Agent": "t/1"}
    r = client.post("/dump/request?a=1&b=%20", content=b"hello", headers=headers)
    assert r.status_code == 200 and r.headers["content-type"] == "text/plain; charset=utf-8"
    head, _, body = r.content.partition(b"\r\n\r\n")
    lines = head.decode().split("\r\n")
    assert lines[0] == "POST /dump/request?a=1&b=%20 HTTP/1.1"
    assert lines[1] == "Host: " + client.base_url.netloc.decode()
    names = [line.split(":", 1)[0] for line in lines[2:]]
    assert names == sorted(names) and "X-Custom-Thing" in names  # Go's canonical case
    assert "Content-Length: 5" in lines and "User-Agent: t/1" in lines
    assert body == b"hello"
    chunked = client.put("/dump/request", content=iter([b"ab", b"cd"])).content
    assert b"\r\nTransfer-Encoding: chunked\r\n" in chunked
    assert chunked.endswith(b"\r\n\r\n4\r\nabcd\r\n0\r\n\r\n")


def test_hostname_is_fixed(client: httpx.Client) -> None:
    assert client.get("/hostname").json() == {"hostname": "hookwire-mock"}


def test_trailers_over_http11_come_as_headers(client: httpx.Client) -> None:
    r = client.get("/trailers?x-check=abc&Server-Timing=db;dur=5")
    assert r.status_code == 200
    assert r.headers["X-Check"] == "abc" and r.headers["server-timing"] == "db;dur=5"
    assert "trailer" not in r.headers  # nothing is announced that cannot come
    assert r.json()["args"] == {"x-check": "abc", "Server-Timing": "db;dur=5"}
    bad = client.get("/trailers?Content-Length=1")
    assert bad.status_code == 400 and "forbidden trailer: Content-Length" in bad.text
    assert client.get("/trailers?x=a%0Db").status_code == 400


async def test_trailers_are_sent_where_the_server_can() -> None:
    """An ASGI server with the ``http.response.trailers`` extension gets real trailers."""
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "2",
        "method": "GET",
        "scheme": "http",
        "path": "/trailers",
        "raw_path": b"/trailers",
        "query_string": b"x-check=abc",
        "root_path": "",
        "headers": [(b"host", b"mock")],
        "server": ("mock", 80),
        "client": ("127.0.0.1", 1),
        "extensions": {"http.response.trailers": {}},
    }
    sent: list[dict] = []

    async def receive() -> dict:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict) -> None:
        sent.append(message)

    await build_app()(scope, receive, send)
    assert [m["type"] for m in sent] == [
        "http.response.start",
        "http.response.body",
        "http.response.trailers",
    ]
    assert sent[0]["trailers"] is True and (b"trailer", b"X-Check") in sent[0]["headers"]
    assert json.loads(sent[1]["body"])["args"] == {"x-check": "abc"}
    assert sent[2]["headers"] == [(b"X-Check", b"abc")]


def test_every_httpbin_response_carries_cors_headers(client: httpx.Client) -> None:
    """Each route, with its own method, as a preflight and with a method it refuses (405)."""
    samples = {"codes": "200", "etag": "abc", "value": "aGk=", "delay": "0", "qop": "auth"}
    quick = {"duration": "0", "count": "1", "numbytes": "1"}
    missing = []
    for route in (row for row in TABLE if isinstance(row, Httpbin)):
        path = re.sub(r"\{(\w+)(?::\w+)?\}", lambda m: samples.get(m.group(1), "2"), route.path)
        refused = [m for m in ("PATCH", "GET") if m not in route.methods][:1]  # /anything: none
        for method in (route.methods[0], "OPTIONS", *refused):
            r = client.request(method, path, params=quick, headers={"Origin": "https://o.example"})
            if r.headers.get("access-control-allow-origin") != "https://o.example":
                missing.append((method, path, r.status_code))
    assert not missing


def test_the_full_servers_404_carries_cors_headers_too(mock_server) -> None:
    import httpx

    response = httpx.get(mock_server.url + "/no/such/path", headers={"Origin": "https://a.example"})
    assert response.status_code == 404
    assert response.headers["access-control-allow-origin"] == "https://a.example"
    assert response.headers["access-control-allow-credentials"] == "true"
    api = httpx.get(mock_server.url + "/v1/no-such-endpoint")
    assert api.status_code == 404 and "access-control-allow-origin" not in api.headers
