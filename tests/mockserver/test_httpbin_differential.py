"""Differential test: the same requests go to psf/httpbin (in-process WSGI) and to our routes
(in-process ASGI); the JSON bodies, status codes and the headers that matter must agree.

Both sides see the same Host (one base URL) and origin (127.0.0.1), so only truly volatile
values are masked: ``uuid``, ``Date``/``Last-Modified``, cache ETags and digest nonces.
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import httpx
import pytest

from hookwire.mockserver.httpbin import build_app

brotli = pytest.importorskip("brotli")

BASE = "http://127.0.0.1:5000"
COMPARED_HEADERS = (
    "content-type",
    "location",
    "www-authenticate",
    "x-more-info",
    "content-encoding",
    "etag",
    "accept-ranges",
    "content-range",
    "cache-control",
    "access-control-allow-origin",
    "access-control-allow-credentials",
    "access-control-allow-methods",
    "access-control-max-age",
    "access-control-allow-headers",
    "allow",
)


@pytest.fixture(scope="module")
def reference() -> Iterator[httpx.Client]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import httpbin  # flask app; its import logs and warns about missing flasgger

    transport = httpx.WSGITransport(app=httpbin.app)
    with httpx.Client(transport=transport, base_url=BASE) as client:
        yield client


@pytest.fixture(scope="module")
def ours() -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=build_app()), base_url=BASE)


def _pinned_headers(extra: dict[str, str] | None = None) -> dict[str, str]:
    headers = {"User-Agent": "differential/1.0", "Accept-Encoding": "identity"}
    headers.update(extra or {})
    return headers


# httpx draws a random boundary per request; pin it so both servers see the same headers
MULTIPART = {"Content-Type": "multipart/form-data; boundary=d1ff3r3nt1al"}
_PART = b'--d1ff3r3nt1al\r\nContent-Disposition: form-data; name="a"\r\n\r\nvalue\r\n'
_FILE = (
    b'--d1ff3r3nt1al\r\nContent-Disposition: form-data; name="f"; filename="x.txt"\r\n'
    b"Content-Type: text/plain\r\n\r\nfile\r\n"
)
# multipart bodies that break RFC 7578's CRLF rule the ways real clients do (werkzeug reads a
# bare LF or CR as a line break); each is sent raw with the pinned boundary
RAW_MULTIPART = {
    "lf-after-close": _PART + b"--d1ff3r3nt1al--\n",
    "lf-before-close": _PART[:-2] + b"\n--d1ff3r3nt1al--\n",
    "all-lf": _PART.replace(b"\r\n", b"\n") + b"--d1ff3r3nt1al--\n",
    "cr-only": _PART.replace(b"\r\n", b"\r") + b"--d1ff3r3nt1al--\r",
    "file-lf-close": _PART + _FILE + b"--d1ff3r3nt1al--\n",
    "mixed-parts": _PART + _FILE.replace(b"\r\n", b"\n", 1) + b"--d1ff3r3nt1al--",
    "empty-part": b'--d1ff3r3nt1al\r\nContent-Disposition: form-data; name="e"\r\n\r\n'
    b"--d1ff3r3nt1al--\r\n",
    "spaces-after-delimiter": _PART.replace(b"al\r\n", b"al  \r\n", 1) + b"--d1ff3r3nt1al--  \n",
    "folded-header": _PART.replace(b"form-data; ", b"form-data;\r\n ") + b"--d1ff3r3nt1al--\n",
    "lookalike-delimiter": _PART[:-2] + b"\r\n--d1ff3r3nt1alX\r\n--d1ff3r3nt1al--\r\n",
    "epilogue": _PART + b"--d1ff3r3nt1al--\nignored epilogue\r\n",
}
# cookie values that need quoting: werkzeug's Set-Cookie must be ours byte for byte
COOKIE_VALUES = {
    "colon": "bar:baz",
    "space": "a b",
    "comma": "a,b",
    "semicolon": "a;b",
    "quote": 'say "hi"',
    "backslash": "a\\b",
    "non-ascii": "\u00e9t\u00e9 \u65e5\u672c",
    "parens": "(x)",
    "tab": "\tt",
    "mixed": "x y, z; w",
}

# (id, method, path, request kwargs)
CASES: list[tuple[str, str, str, dict[str, Any]]] = [
    ("get", "GET", "/get", {}),
    ("get-args", "GET", "/get?a=1&a=2&b=&c=%C3%A9t%C3%A9&d=x%20y&e=a%2Fb&f=1%2B1", {}),
    ("get-show-env", "GET", "/get?show_env=1", {"headers": {"X-Forwarded-For": "10.1.2.3"}}),
    ("get-hidden-env", "GET", "/get", {"headers": {"X-Request-Id": "abc", "Via": "1.1 p"}}),
    ("get-odd-headers", "GET", "/get", {"headers": {"x-b3-traceid": "1", "X-MiXeD": "v"}}),
    ("get-forwarded-proto", "GET", "/get", {"headers": {"X-Forwarded-Proto": "https"}}),
    ("post-json", "POST", "/post", {"json": {"k": [1, 2.5, None, True], "u": "ünï"}}),
    ("post-form", "POST", "/post", {"data": {"a": "1", "b": ["x", "y"]}}),
    (
        "post-text",
        "POST",
        "/post",
        {"content": "plain text", "headers": {"Content-Type": "text/plain"}},
    ),
    ("post-binary", "POST", "/post", {"content": bytes(range(256))}),
    ("post-empty", "POST", "/post", {}),
    (
        "post-bad-json",
        "POST",
        "/post",
        {"content": b"{nope", "headers": {"Content-Type": "application/json"}},
    ),
    (
        "post-multipart",
        "POST",
        "/post?q=1",
        {
            "headers": MULTIPART,
            "data": {"field": "value", "many": ["1", "2"]},
            "files": {
                "up": ("a.txt", b"hello\r\nworld", "text/plain"),
                "bin": ("b.bin", b"\xff\x00\xfe"),
            },
        },
    ),
    (
        "post-multipart-untyped",
        "POST",
        "/post",
        {"headers": MULTIPART, "files": {"f": ("x.dat", b"data", None)}},
    ),
    ("put-json", "PUT", "/put", {"json": [1, 2, 3]}),
    ("patch-form", "PATCH", "/patch", {"data": {"p": "q"}}),
    ("delete", "DELETE", "/delete?x=1", {}),
    (
        "delete-body",
        "DELETE",
        "/delete",
        {"content": b"gone", "headers": {"Content-Type": "text/plain"}},
    ),
    ("anything-get", "GET", "/anything", {}),
    ("anything-path", "POST", "/anything/some/deep/path?x=1", {"json": {"a": 1}}),
    ("anything-put", "PUT", "/anything/x", {"data": {"a": "b"}}),
    ("anything-trace", "TRACE", "/anything", {}),
    ("post-on-get", "POST", "/get", {}),
    ("get-on-post", "GET", "/post", {}),
    ("options-get", "OPTIONS", "/get", {"headers": {"Access-Control-Request-Headers": "X-Foo"}}),
    ("origin-cors", "GET", "/get", {"headers": {"Origin": "https://example.org"}}),
    ("headers", "GET", "/headers", {"headers": {"X-Custom": "1"}}),
    ("user-agent", "GET", "/user-agent", {}),
    ("ip", "GET", "/ip", {}),
    ("ip-forwarded", "GET", "/ip", {"headers": {"X-Forwarded-For": "1.2.3.4, 5.6.7.8"}}),
    ("uuid", "GET", "/uuid", {}),
    ("status-200", "GET", "/status/200", {}),
    ("status-204", "GET", "/status/204", {}),
    ("status-302", "GET", "/status/302", {}),
    ("status-304", "GET", "/status/304", {}),
    ("status-401", "GET", "/status/401", {}),
    ("status-402", "GET", "/status/402", {}),
    ("status-406", "POST", "/status/406", {}),
    ("status-407", "GET", "/status/407", {}),
    ("status-418", "PUT", "/status/418", {}),
    ("status-500", "DELETE", "/status/500", {}),
    ("status-weighted-one", "GET", "/status/503:1,503:2", {}),
    ("status-invalid", "GET", "/status/abc", {}),
    ("status-invalid-weight", "GET", "/status/200:x,500", {}),
    ("redirect-1", "GET", "/redirect/1", {}),
    ("redirect-3", "GET", "/redirect/3", {}),
    ("redirect-absolute", "GET", "/redirect/3?absolute=true", {}),
    ("relative-redirect", "GET", "/relative-redirect/2", {}),
    ("relative-redirect-1", "GET", "/relative-redirect/1", {}),
    ("absolute-redirect", "GET", "/absolute-redirect/2", {}),
    ("absolute-redirect-1", "GET", "/absolute-redirect/1", {}),
    ("redirect-to", "GET", "/redirect-to?url=/html", {}),
    ("redirect-to-307", "POST", "/redirect-to?url=http://example.com/&status_code=307", {}),
    ("redirect-to-bad-code", "PATCH", "/redirect-to?URL=/get&status_code=200", {}),
    ("cookies", "GET", "/cookies", {"headers": {"Cookie": "a=1; b=two; __utma=x"}}),
    ("cookies-show-env", "GET", "/cookies?show_env", {"headers": {"Cookie": "a=1; __utma=x"}}),
    ("cookies-set", "GET", "/cookies/set?k=v&k2=v2", {}),
    ("cookies-set-path", "GET", "/cookies/set/name/value", {}),
    ("cookies-delete", "GET", "/cookies/delete?k&k2", {}),
    *[
        (f"cookies-set-{name}", "GET", "/cookies/set", {"params": {"k": value}})
        for name, value in COOKIE_VALUES.items()
    ],
    *[
        (f"cookies-set-path-{name}", "GET", "/cookies/set/k/" + quote(value, safe=""), {})
        for name, value in COOKIE_VALUES.items()
        if value.isascii()  # httpx's WSGITransport cannot pass a non-Latin-1 path to werkzeug
    ],
    (
        "cookies-quoted",
        "GET",
        "/cookies",
        {
            "headers": {
                "Cookie": 'c="a\\054b"; e="\\303\\251"; q="\\"x\\""; s="a b"; c=dup; =anon; '
                "p=plain; b=\\x"
            }
        },
    ),
    ("basic-auth-ok", "GET", "/basic-auth/user/pass", {"auth": ("user", "pass")}),
    ("basic-auth-bad", "GET", "/basic-auth/user/pass", {"auth": ("user", "nope")}),
    ("basic-auth-none", "GET", "/basic-auth/user/pass", {}),
    ("hidden-basic-auth-ok", "GET", "/hidden-basic-auth/u/p", {"auth": ("u", "p")}),
    ("hidden-basic-auth-bad", "GET", "/hidden-basic-auth/u/p", {"auth": ("u", "x")}),
    ("bearer-ok", "GET", "/bearer", {"headers": {"Authorization": "Bearer tok.en"}}),
    ("bearer-none", "GET", "/bearer", {}),
    ("bearer-basic", "GET", "/bearer", {"auth": ("a", "b")}),
    ("gzip", "GET", "/gzip", {}),
    ("deflate", "GET", "/deflate", {}),
    ("brotli", "GET", "/brotli", {}),
    ("response-headers", "GET", "/response-headers?X-One=1&X-Two=a&X-Two=b&freeform=", {}),
    ("response-headers-post", "POST", "/response-headers?Server=mock", {}),
    ("base64", "GET", "/base64/SFRUUEJJTiBpcyBhd2Vzb21l", {}),  # pragma: allowlist secret
    ("base64-bad", "GET", "/base64/%%%", {}),
    ("json", "GET", "/json", {}),
    ("robots", "GET", "/robots.txt", {}),
    ("cache", "GET", "/cache", {}),
    (
        "cache-ims",
        "GET",
        "/cache",
        {"headers": {"If-Modified-Since": "Sat, 01 Jan 2000 00:00:00 GMT"}},
    ),
    ("cache-inm", "GET", "/cache", {"headers": {"If-None-Match": "x"}}),
    ("cache-n", "GET", "/cache/60", {}),
    ("etag", "GET", "/etag/abc", {}),
    ("etag-inm-hit", "GET", "/etag/abc", {"headers": {"If-None-Match": 'W/"x", "abc"'}}),
    ("etag-inm-star", "GET", "/etag/abc", {"headers": {"If-None-Match": "*"}}),
    ("etag-inm-miss", "GET", "/etag/abc", {"headers": {"If-None-Match": '"zzz"'}}),
    ("etag-im-miss", "GET", "/etag/abc", {"headers": {"If-Match": '"zzz"'}}),
    ("etag-im-hit", "GET", "/etag/abc", {"headers": {"If-Match": '"abc"'}}),
    ("bytes-seeded", "GET", "/bytes/64?seed=42", {}),
    ("stream-bytes-seeded", "GET", "/stream-bytes/300?seed=7&chunk_size=64", {}),
    ("range-full", "GET", "/range/40", {}),
    ("range-part", "GET", "/range/40", {"headers": {"Range": "bytes=10-19"}}),
    ("range-open", "GET", "/range/40", {"headers": {"Range": "bytes=30-"}}),
    ("range-suffix", "GET", "/range/40", {"headers": {"Range": "bytes=-5"}}),
    ("range-unsatisfiable", "GET", "/range/40", {"headers": {"Range": "bytes=50-60"}}),
    ("range-too-big", "GET", "/range/200000", {}),
    ("stream", "GET", "/stream/3?x=1", {}),
    ("delay-0", "POST", "/delay/0?d=1", {"data": {"f": "v"}}),
    ("drip", "GET", "/drip?numbytes=4&duration=0&code=201", {}),
    ("links", "GET", "/links/5/2", {}),
    ("links-redirect", "GET", "/links/3", {}),
    ("image-png-accept", "GET", "/image", {"headers": {"Accept": "image/png"}}),
    ("image-none", "GET", "/image", {"headers": {"Accept": "text/plain"}}),
    ("html", "GET", "/html", {}),
    *[
        (f"multipart-{name}", "POST", "/post", {"headers": MULTIPART, "content": body})
        for name, body in RAW_MULTIPART.items()
    ],
    ("not-found", "GET", "/no/such/path", {"headers": {"Origin": "https://example.org"}}),
    ("not-found-post", "POST", "/nope", {"json": {}}),
    (
        "not-found-preflight",
        "OPTIONS",
        "/nope",
        {"headers": {"Origin": "https://x.org", "Access-Control-Request-Headers": "X-A, X-B"}},
    ),
    ("preflight-post", "OPTIONS", "/post", {"headers": {"Access-Control-Request-Method": "POST"}}),
    ("xml", "GET", "/xml", {}),
]

# Bodies we deliberately write ourselves (templates and images are not copied): compare the
# status and headers only.
OWN_TEXT = {"html", "xml", "image-png-accept"}


def _decode(response: httpx.Response) -> Any:
    raw = response.content  # httpx has undone gzip/deflate/br (Content-Encoding is compared)
    content_type = response.headers.get("content-type", "")
    if content_type.startswith("application/json"):
        text = raw.decode()
        try:
            return json.loads(text)
        except ValueError:  # /stream: one document per line
            return [json.loads(line) for line in text.splitlines()]
    return raw


def _mask(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: "<uuid>" if key == "uuid" else _mask(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_mask(item) for item in value]
    return value


def _headers(response: httpx.Response, case_id: str) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for name in COMPARED_HEADERS:
        values = response.headers.get_list(name)
        if name == "allow":  # Flask lists methods in set order
            values = sorted(", ".join(sorted(v.split(", "))) for v in values)
        if name == "etag" and case_id == "cache":
            values = ["<random>"] * len(values)
        if values:
            out[name] = values
    cookies = sorted(response.headers.get_list("set-cookie"))
    if cookies:
        out["set-cookie"] = cookies
    return out


@pytest.mark.parametrize(("case_id", "method", "path", "kwargs"), CASES, ids=[c[0] for c in CASES])
async def test_same_as_httpbin(
    reference: httpx.Client,
    ours: httpx.AsyncClient,
    case_id: str,
    method: str,
    path: str,
    kwargs: dict[str, Any],
) -> None:
    kwargs = dict(kwargs)
    reference.cookies.clear()  # earlier cases set cookies; each case starts from a clean jar
    ours.cookies.clear()
    headers = _pinned_headers(kwargs.pop("headers", None))
    auth = kwargs.pop("auth", None)
    expected = reference.request(method, path, headers=headers, auth=auth, **kwargs)
    actual = await ours.request(method, path, headers=headers, auth=auth, **kwargs)
    assert actual.status_code == expected.status_code
    assert _headers(actual, case_id) == _headers(expected, case_id)
    if case_id not in OWN_TEXT:
        assert _mask(_decode(actual)) == _mask(_decode(expected))


@pytest.mark.parametrize("path", ["/get?a=1&b=%C3%A9", "/json", "/headers", "/cookies"])
async def test_body_is_byte_identical(
    reference: httpx.Client, ours: httpx.AsyncClient, path: str
) -> None:
    """Not just equal JSON: the same indentation, key order, escaping and trailing newline."""
    reference.cookies.clear()
    ours.cookies.clear()
    headers = _pinned_headers({"X-Quote": 'say "hi" \\ <b>&</b>'})
    expected = reference.get(path, headers=headers).content
    assert (await ours.get(path, headers=headers)).content == expected


@pytest.mark.parametrize("algorithm", ["MD5", "SHA-256", "SHA-512"])
async def test_digest_success_body_matches(
    reference: httpx.Client, ours: httpx.AsyncClient, algorithm: str
) -> None:
    """httpx's DigestAuth only speaks qop=auth; auth-int is covered in test_httpbin_digest."""
    path = f"/digest-auth/auth/user/pass/{algorithm}"
    auth = httpx.DigestAuth("user", "pass")
    reference.cookies.clear()
    ours.cookies.clear()
    expected = reference.get(path, auth=auth)
    actual = await ours.get(path, auth=auth)
    assert (actual.status_code, actual.json()) == (expected.status_code, expected.json())
