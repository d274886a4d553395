"""A suite written the way pytest-httpbin users write theirs: it must run unchanged on the
mock server's drop-in fixtures (they arrive through hookwire's pytest11 plugin)."""

from __future__ import annotations

import socket
import ssl
import unittest
import urllib.request

import pytest
import requests
import urllib3

from hookwire.mockserver import pytest_httpbin


def test_httpbin_gets_injected(httpbin):
    assert httpbin.url.startswith("http://127.0.0.1:")


def test_httpbin_accepts_get_requests(httpbin):
    assert requests.get(httpbin.url + "/get").status_code == 200


def test_httpbin_secure_accepts_get_requests(httpbin_secure, httpbin_ca_bundle):
    assert requests.get(httpbin_secure.url + "/get").status_code == 200


def test_httpbin_secure_rejects_unknown_ca_without_bundle(httpbin_secure, monkeypatch):
    monkeypatch.delenv("REQUESTS_CA_BUNDLE", raising=False)
    monkeypatch.delenv("CURL_CA_BUNDLE", raising=False)
    with pytest.raises(requests.exceptions.SSLError):
        requests.get(httpbin_secure.url + "/get")


def test_lots_of_requests_in_one_session(httpbin):
    with requests.Session() as session:
        for _ in range(10):
            assert session.get(httpbin.url + "/get").status_code == 200


def test_httpbin_both(httpbin_both, httpbin_ca_bundle):
    assert httpbin_both.protocol in ("http", "https")
    assert requests.get(httpbin_both.url + "/get").status_code == 200


def test_httpbin_join_and_add(httpbin):
    assert httpbin.join("foo") == httpbin.url + "/foo"
    assert httpbin.join("/a/b?c=1") == httpbin.url + "/a/b?c=1"
    assert httpbin + "/foo" == httpbin.url + "/foo"
    assert (httpbin.host, httpbin.port) == ("127.0.0.1", int(httpbin.url.rsplit(":", 1)[1]))


def test_chunked_encoding(httpbin_both, httpbin_ca_bundle):
    response = requests.get(httpbin_both.url + "/stream/20")
    assert response.status_code == 200
    assert [
        line["id"] for line in map(__import__("json").loads, response.text.splitlines())
    ] == list(range(20))


def test_post_form_and_unicode(httpbin):
    response = requests.post(
        httpbin + "/post",
        data="оживлённым".encode(),
        headers={"content-type": "text/html; charset=utf-8"},
    )
    assert response.json()["data"] == "оживлённым"


def test_no_content_type_invented(httpbin):
    assert "Content-Type" not in requests.get(httpbin + "/headers").json()["headers"]


def test_server_speaks_http_1_1(httpbin):
    with socket.create_connection((httpbin.host, httpbin.port)) as sock:
        sock.sendall(b"GET /get HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        assert sock.recv(8).startswith(b"HTTP/1.1")


def test_with_urllib(httpbin_secure):
    context = ssl.create_default_context(cafile=pytest_httpbin.where())
    with urllib.request.urlopen(httpbin_secure.url + "/get", context=context) as response:
        assert response.getcode() == 200


def test_with_urllib3(httpbin_secure):
    with urllib3.PoolManager(cert_reqs="CERT_REQUIRED", ca_certs=pytest_httpbin.where()) as pool:
        response = pool.request("POST", httpbin_secure.url + "/post", fields={"k": "v"})
        assert response.status == 200


def test_redirect_location_stays_relative_on_https(httpbin_secure, httpbin_ca_bundle):
    response = requests.get(httpbin_secure + "/redirect-to?url=/html", allow_redirects=False)
    assert (response.status_code, response.headers["Location"]) == (302, "/html")


def test_secure_cookies_carry_secure_flag(httpbin_secure, httpbin_ca_bundle):
    response = requests.get(httpbin_secure + "/cookies/set?a=1", allow_redirects=False)
    assert response.headers["Set-Cookie"] == "a=1; Path=/; Secure"


def test_ca_bundle_fixture_sets_requests_variable(httpbin_ca_bundle):
    import os

    assert os.environ["REQUESTS_CA_BUNDLE"] == httpbin_ca_bundle == pytest_httpbin.where()


@pytest_httpbin.use_class_based_httpbin
@pytest_httpbin.use_class_based_httpbin_secure
class TestClassBasedTests(unittest.TestCase):
    def test_http(self):
        assert requests.get(self.httpbin.url + "/get").status_code == 200

    def test_http_secure(self):
        assert requests.get(self.httpbin_secure.url + "/get", verify=pytest_httpbin.where()).ok
