"""The sans-IO pieces of the HTTP core: headers, URLs, bodies, timeouts, redirects, models."""

from __future__ import annotations

import io
import pickle

import pytest

from hookwire import _redirects, errors
from hookwire._content import encode_body
from hookwire._decoders import LineDecoder
from hookwire._headers import Headers
from hookwire._models import Request, Response
from hookwire._urls import build_url, proxy_from_env, redact_url, request_target
from hookwire.timeouts import Timeout


def test_headers_are_case_insensitive_and_keep_repeats() -> None:
    h = Headers([("Set-Cookie", "a=1"), ("set-cookie", "b=2"), ("X-One", "1")])
    assert h["SET-COOKIE"] == "a=1, b=2"
    assert h.get_list("set-cookie") == ["a=1", "b=2"]
    h["x-one"] = "2"
    assert h.multi_items()[-1] == ("x-one", "2") and len(h) == 2
    del h["Set-Cookie"]
    assert "set-cookie" not in h


@pytest.mark.parametrize("bad", ["a\r\nInjected: 1", "a\nb", "nul\x00"])
def test_crlf_in_header_value_is_rejected(bad: str) -> None:
    with pytest.raises(errors.InvalidHeader, match=r"contains (a CR|an LF|a NUL) at position"):
        Headers({"X-Test": bad})


def test_crlf_in_method_and_url_is_rejected() -> None:
    with pytest.raises(errors.InvalidHeader):
        Request("GET\r\nX: y", "http://h/")
    with pytest.raises(errors.InvalidHeader):
        Request("GET", "http://h/\r\nHost: evil")


def test_sensitive_headers_are_redacted_in_repr() -> None:
    h = Headers({"Authorization": "Bearer sk-hidden-1234", "X-Api-Key": "k-9876", "A": "b"})
    text = repr(h)
    assert "sk-hidden-1234" not in text and "k-9876" not in text and "'b'" in text


def test_build_url_merges_base_params_and_existing_query() -> None:
    url = build_url("http://h/api/v1", "items?x=1", {"q": ["a", "b"], "flag": True})
    assert url == "http://h/api/v1/items?x=1&q=a&q=b&flag=true"
    assert build_url("http://h/api/", "http://other/x") == "http://other/x"


@pytest.mark.parametrize("url", ["ftp://h/x", "http:///nohost", "http://h:99999/", "http://h/\x01"])
def test_invalid_urls_raise_typed_error(url: str) -> None:
    with pytest.raises(errors.InvalidURL):
        build_url("", url)


def test_redact_url_hides_credentials_and_request_target_quotes() -> None:
    assert "s3cret" not in redact_url("http://u:s3cret@h:8/p")  # pragma: allowlist secret
    assert request_target("http://h/a b?x=1") == "/a%20b?x=1"


def test_proxy_from_env_honours_no_proxy() -> None:
    env = {"HTTP_PROXY": "http://proxy:3128", "NO_PROXY": "internal.example,.corp,localhost:8000"}
    assert proxy_from_env("http://api.example/", env) == "http://proxy:3128"
    assert proxy_from_env("http://internal.example/", env) is None
    assert proxy_from_env("http://x.corp/", env) is None
    assert proxy_from_env("http://localhost:8000/", env) is None
    assert proxy_from_env("http://localhost:9000/", env) == "http://proxy:3128"
    assert proxy_from_env("https://api.example/", env) is None


def test_encode_body_forms() -> None:
    assert encode_body(json={"key": "value"})[0] == b'{"key": "value"}'
    content, _, ctype = encode_body(data=[("key", "value"), ("key", "v2")])
    assert content == b"key=value&key=v2" and ctype == "application/x-www-form-urlencoded"
    body, _, ctype = encode_body(data={"a": "1"}, files={"f": ("x.txt", b"hello", "text/plain")})
    assert ctype is not None and ctype.startswith("multipart/form-data; boundary=")
    boundary = ctype.split("=", 1)[1]
    assert body is not None and body.startswith(f"--{boundary}\r\n".encode())
    assert b'filename="x.txt"' in body and b"hello" in body
    with pytest.raises(errors.InvalidRequest, match="only one"):
        encode_body(json={}, content=b"x")
    with pytest.raises(errors.InvalidRequest, match="JSON"):
        encode_body(json={"x": object()})


def test_timeout_forms() -> None:
    assert Timeout.of((3.05, 5)).connect == 3.05 and Timeout.of((3.05, 5)).read == 5
    assert Timeout.of(1).pool == 1
    assert Timeout.of(None).read is None
    capped = Timeout(read=60, total=10).capped(2.5)
    assert capped.read == 2.5 and capped.connect == 2.5
    with pytest.raises(errors.InvalidRequest):
        Timeout(read=-1)
    with pytest.raises(errors.InvalidRequest):
        Timeout.of("soon")  # type: ignore[arg-type]


def test_file_body_rewinds_and_generator_body_is_one_shot() -> None:
    f = io.BytesIO(b"xxpayload")
    f.seek(2)
    req = Request("POST", "http://h/", stream=f)
    assert b"".join(req.iter_body()) == b"payload"
    assert b"".join(req.iter_body()) == b"payload"  # replayed byte-identical

    gen_req = Request("POST", "http://h/", stream=(c for c in [b"a", b"b"]))
    assert b"".join(gen_req.iter_body()) == b"ab"
    with pytest.raises(errors.UnreplayableBodyError, match="one-shot"):
        gen_req.rewind()


def _redirect(status: int, location: str, method: str = "POST") -> Request:
    req = Request(
        method,
        "http://a.example/start",
        headers={
            "Authorization": "Basic x",
            "Cookie": "c=1",
            "X-Api-Key": "k",
            "Api-Key": "k",
            "Content-Type": "application/json",
        },
        content=b"{}",
    )
    resp = Response(status, headers={"Location": location}, request=req)
    return _redirects.next_request(req, resp)


def test_cross_origin_redirect_strips_secrets_same_origin_keeps_them() -> None:
    other = _redirect(307, "http://b.example/next")
    for name in ("authorization", "cookie", "x-api-key", "api-key"):
        assert name not in other.headers
    assert other.content == b"{}" and other.method == "POST"
    same = _redirect(307, "/next")
    assert same.headers["authorization"] == "Basic x" and same.url == "http://a.example/next"
    port_change = _redirect(307, "http://a.example:8080/next")
    assert "authorization" not in port_change.headers
    scheme_change = _redirect(307, "https://a.example/next")
    assert "authorization" not in scheme_change.headers


def test_303_after_post_becomes_get_without_body() -> None:
    nxt = _redirect(303, "/done")
    assert nxt.method == "GET" and nxt.content is None and "content-type" not in nxt.headers
    assert _redirect(302, "/done").method == "GET"
    assert _redirect(308, "/done").method == "POST"


def test_response_basics() -> None:
    req = Request("GET", "http://h/")
    r = Response(
        404,
        headers={"Content-Type": "text/plain; charset=latin-1"},
        content=b"caf\xe9",
        request=req,
    )
    assert not r and not r.ok and r.text == "café"
    r.encoding = "utf-8"
    assert r.text == "caf\ufffd"
    with pytest.raises(errors.HTTPStatusError) as info:
        r.raise_for_status()
    assert info.value.response is r and "404" in str(info.value)
    with pytest.raises(errors.DecodingError):
        r.json()


def test_streamed_response_rules_and_size_limit() -> None:
    class Chunks:
        def __init__(self) -> None:
            self.closed = False

        def __iter__(self):  # type: ignore[no-untyped-def]
            yield from [b"line1\r", b"\nline2\n", b"tail"]

        def close(self) -> None:
            self.closed = True

    stream = Chunks()
    r = Response(200, stream=stream, request=Request("GET", "http://h/"))
    with pytest.raises(errors.ResponseNotRead):
        _ = r.content
    assert list(r.iter_lines()) == ["line1", "line2", "tail"]
    assert stream.closed
    with pytest.raises(errors.StreamConsumed):
        r.read()
    big = Response(200, stream=Chunks(), request=Request("GET", "http://h/"), max_body_size=8)
    with pytest.raises(errors.BodyTooLarge):
        big.read()


@pytest.mark.parametrize(
    "pieces",
    [["a\r", "\nb"], ["a\r\n", "b"], ["a", "\r", "\n", "b"], ["a\rb"], ["a\n\nb"]],
)
def test_line_decoder_any_split(pieces: list[str]) -> None:
    whole = "".join(pieces)
    d = LineDecoder()
    out = [line for p in pieces for line in d.feed(p)] + d.flush()
    one = LineDecoder()
    assert out == one.feed(whole) + one.flush()
    assert out == whole.splitlines()


def test_errors_pickle_with_context() -> None:
    req = Request("GET", "http://h/")
    err = errors.RateLimitError("slow down", request=req, retry_after=1.5)
    back = pickle.loads(pickle.dumps(err))
    assert isinstance(back, errors.RateLimitError) and back.retry_after == 1.5
    assert str(back) == "slow down"
    assert not issubclass(errors.StreamConsumed, errors.SDKError)
    assert issubclass(errors.StreamConsumed, RuntimeError)
