"""Habits users carry over from requests and httpx (issue 10, class 5), on every transport.

- ``NO_PROXY`` entries written as IP addresses or CIDR ranges (``127.0.0.0/8``, ``::1/128``)
  bypass the proxy, as in requests; a range that does not match leaves the proxy in use.
- With ``trust_env`` and ``verify`` left True, the CA bundle named by ``REQUESTS_CA_BUNDLE``,
  then ``CURL_CA_BUNDLE``, then ``SSL_CERT_FILE``, then ``SSL_CERT_DIR`` verifies the server;
  an explicit ``verify=`` or ``trust_env=False`` ignores them.
- ``verify=``/``cert=`` per request (``requests.get(url, verify=False)``), with connections
  kept apart per TLS setting: a verified request never rides an unverified connection.
- ``verify=ssl.SSLContext`` is used as given, on the client and per request; with ``cert=``
  beside it, or a ``verify=`` of the wrong type, the call is refused with ``InvalidRequest``.
- ``auth=ProxyAuth(...)`` (requests' ``HTTPProxyAuth``) is refused with ``InvalidRequest``
  naming ``proxy_auth=``, instead of sending nothing and meeting a 407.

The TLS server is the mock's ``httpbin_secure`` (a throw-away trustme CA); the proxy is the mock
server itself, which answers absolute-form requests and journals the ``Host`` they named.
"""

from __future__ import annotations

import http.server
import shutil
import socket
import ssl
import subprocess
import threading
from collections.abc import Iterator

import pytest

import hookwire
from hookwire import errors
from hookwire._urls import proxy_from_env
from hookwire.mockserver import pytest_httpbin
from tests.contract.test_transport_mtls import Pki
from tests.contract.test_transport_mtls import mtls_server as mtls_server
from tests.contract.test_transport_mtls import pki as pki

pytestmark = pytest.mark.network
trustme = pytest.importorskip("trustme")

PROXY_VARS = ("HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy")
NO_PROXY_VARS = ("NO_PROXY", "no_proxy")
CA_VARS = ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE", "SSL_CERT_FILE", "SSL_CERT_DIR")


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """No proxy and no CA bundle from the machine's environment leaks into a case."""
    for name in (*PROXY_VARS, *NO_PROXY_VARS, *CA_VARS):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


# -- NO_PROXY as IP addresses and CIDR ranges -------------------------------------------------


@pytest.mark.parametrize("entry", ["127.0.0.0/8", "127.0.0.1/32", "10.0.0.0/8,127.0.0.0/24"])
def test_no_proxy_cidr_range_bypasses_the_proxy(make_client, server, clean_env, entry):
    # The proxy is a closed port: any request sent to it fails with ProxyError.
    clean_env.setenv("HTTP_PROXY", f"http://127.0.0.1:{_closed_port()}")
    clean_env.setenv("NO_PROXY", entry)
    r = make_client().get(server.join("/get"), params={"via": "direct"})
    assert r.status_code == 200
    assert r.json()["args"] == {"via": "direct"}


def test_no_proxy_cidr_ranges_bypass_only_what_they_cover(make_client, server, clean_env):
    clean_env.setenv("HTTP_PROXY", server.url)  # the mock server answers as the proxy
    clean_env.setenv("NO_PROXY", "10.0.0.0/8,192.168.0.0/16,::1/128")
    target = f"127.0.0.1:{_closed_port()}"  # nothing listens there: only the proxy can answer
    assert make_client().get(f"http://{target}/get").status_code == 200
    (entry,) = server.journal.entries(path="/get")
    assert entry.headers["host"] == target
    clean_env.setenv("NO_PROXY", "10.0.0.0/8,127.0.0.0/8")
    with pytest.raises(errors.ConnectError):  # now direct, to the closed port
        make_client().get(f"http://{target}/get")
    assert len(server.journal.entries(path="/get")) == 1


class _IPv6Server(http.server.ThreadingHTTPServer):
    address_family = socket.AF_INET6


class _Ok(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def ipv6_server() -> Iterator[str]:
    try:
        httpd = _IPv6Server(("::1", 0), _Ok)
    except OSError:
        pytest.skip("no IPv6 loopback here")
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://[::1]:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()
    thread.join(2)


@pytest.mark.parametrize("entry", ["::1/128", "::/0", "::1", "[::1]"])
def test_no_proxy_ipv6_entry_bypasses_the_proxy(make_client, ipv6_server, clean_env, entry):
    clean_env.setenv("HTTP_PROXY", f"http://127.0.0.1:{_closed_port()}")
    clean_env.setenv("NO_PROXY", entry)
    assert make_client().get(ipv6_server + "/").text == "ok"


NO_PROXY_RULES = {
    "http://10.1.2.3/": True,
    "http://11.0.0.1/": False,
    "http://[fd00::7]:8080/": True,
    "http://[fe00::7]/": False,
    "http://192.168.1.5:443/": True,
    "http://192.168.1.5/": False,  # the entry names port 443 only
    "http://10.example.com/": False,  # a host name never matches a range (no DNS lookups)
    "http://api.internal/": True,
}


def test_no_proxy_rules():
    env = {
        "HTTP_PROXY": "http://proxy.test:3128",
        "NO_PROXY": " 10.0.0.0/8 , fd00::/8, 192.168.1.5:443, .internal",
    }
    bypassed = {url: proxy_from_env(url, env) is None for url in NO_PROXY_RULES}
    assert bypassed == NO_PROXY_RULES


# -- CA bundles named by the environment ------------------------------------------------------


@pytest.fixture(scope="module")
def mock_ca() -> str:
    """The CA file that verifies ``httpbin_secure``."""
    return pytest_httpbin.where()


@pytest.fixture(scope="module")
def foreign_ca(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A real CA bundle that does not verify ``httpbin_secure``."""
    path = tmp_path_factory.mktemp("foreign-ca") / "ca.pem"
    trustme.CA().cert_pem.write_to_path(str(path))
    return str(path)


@pytest.fixture(scope="module")
def mock_ca_dir(tmp_path_factory: pytest.TempPathFactory, mock_ca: str) -> str:
    """A hashed CA directory (what SSL_CERT_DIR names) holding the mock CA."""
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("openssl is needed to name a hashed CA directory")
    out = subprocess.run(
        [openssl, "x509", "-hash", "-noout", "-in", mock_ca],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    directory = tmp_path_factory.mktemp("ca-dir")
    shutil.copy(mock_ca, directory / f"{out.stdout.strip()}.0")
    return str(directory)


@pytest.mark.parametrize("variable", CA_VARS)
def test_a_ca_bundle_named_by_the_environment_verifies_the_server(
    make_client, httpbin_secure, clean_env, mock_ca, variable, request
):
    bundle = request.getfixturevalue("mock_ca_dir") if variable == "SSL_CERT_DIR" else mock_ca
    clean_env.setenv(variable, bundle)
    r = make_client().get(httpbin_secure.join("/get"), params={"ca": variable})
    assert r.status_code == 200
    assert r.json()["args"] == {"ca": variable}


@pytest.mark.parametrize(
    ("first", "then"),
    [("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"), ("CURL_CA_BUNDLE", "SSL_CERT_FILE")],
)
def test_the_environment_ca_bundles_go_in_requests_order(
    make_client, httpbin_secure, clean_env, mock_ca, foreign_ca, first, then
):
    clean_env.setenv(first, mock_ca)
    clean_env.setenv(then, foreign_ca)  # would fail the handshake if it were the one used
    assert make_client().get(httpbin_secure.join("/get")).status_code == 200
    clean_env.setenv(first, foreign_ca)
    clean_env.setenv(then, mock_ca)
    with pytest.raises(errors.TLSError):
        make_client().get(httpbin_secure.join("/get"))


def test_an_explicit_verify_or_trust_env_false_ignores_the_environment_bundle(
    make_client, httpbin_secure, clean_env, mock_ca, foreign_ca
):
    clean_env.setenv("REQUESTS_CA_BUNDLE", mock_ca)
    assert make_client().get(httpbin_secure.join("/get")).status_code == 200
    with pytest.raises(errors.TLSError):
        make_client(verify=foreign_ca).get(httpbin_secure.join("/get"))
    with pytest.raises(errors.TLSError):
        make_client(trust_env=False).get(httpbin_secure.join("/get"))


def test_an_environment_bundle_that_does_not_exist_is_a_config_error(
    make_client, clean_env, tmp_path
):
    missing = str(tmp_path / "nowhere.pem")
    clean_env.setenv("SSL_CERT_FILE", missing)
    with pytest.raises(errors.ConfigError) as info:
        make_client()
    assert "SSL_CERT_FILE" in str(info.value) and missing in str(info.value)
    make_client(verify=False)  # not read unless verify is left True
    make_client(trust_env=False)


# -- verify= and cert= per request ------------------------------------------------------------


def test_verify_false_per_request_never_shares_a_connection_with_verified_requests(
    make_client, httpbin_secure, clean_env
):
    client = make_client(max_connections=1)  # certifi: the mock CA is unknown to it
    url = httpbin_secure.join("/get")
    assert client.get(url, verify=False).status_code == 200
    # The unverified connection is pooled, idle; a verified request must not ride it.
    with pytest.raises(errors.TLSError):
        client.get(url)
    assert client.get(url, verify=False).status_code == 200


def test_a_ca_bundle_per_request_verifies_while_the_client_default_does_not(
    make_client, httpbin_secure, clean_env, mock_ca
):
    client = make_client()
    assert client.get(httpbin_secure.join("/get"), verify=mock_ca).status_code == 200
    with pytest.raises(errors.TLSError):
        client.get(httpbin_secure.join("/get"))


def test_verify_true_per_request_on_an_unverified_client_verifies(
    make_client, httpbin_secure, clean_env, mock_ca
):
    clean_env.setenv("REQUESTS_CA_BUNDLE", mock_ca)  # what verify=True means here
    client = make_client(verify=False)
    assert client.get(httpbin_secure.join("/get")).status_code == 200
    assert client.get(httpbin_secure.join("/get"), verify=True).status_code == 200
    client = make_client(verify=False, trust_env=False)
    with pytest.raises(errors.TLSError):
        client.get(httpbin_secure.join("/get"), verify=True)


def test_a_client_certificate_per_request_is_sent_only_with_that_request(
    make_client, mtls_server, pki: Pki
):
    mtls_server.reset()
    client = make_client(verify=pki.ca_bundle, max_connections=1)
    pair = (pki.client_cert, pki.client_key)
    assert client.get(mtls_server.join("/get"), cert=pair).status_code == 200
    with pytest.raises(errors.ReadError):  # refused without a certificate (see test_transport_mtls)
        client.get(mtls_server.join("/get"))
    assert client.get(mtls_server.join("/get"), cert=pki.client_combined).status_code == 200


@pytest.mark.parametrize("bad", [{"verify": 1}, {"verify": ""}, {"cert": ("a.pem",)}])
def test_a_wrong_verify_or_cert_per_request_is_refused(make_client, server, bad):
    with pytest.raises(errors.InvalidRequest) as info:
        make_client().get(server.join("/get"), **bad)
    assert next(iter(bad)) + "=" in str(info.value)
    assert not server.journal.entries(path="/get")


def test_a_missing_ca_bundle_per_request_is_refused_before_sending(make_client, server, tmp_path):
    missing = str(tmp_path / "none.pem")
    with pytest.raises(errors.InvalidRequest, match="does not exist") as info:
        make_client().get(server.join("/get"), verify=missing)
    assert missing in str(info.value)


# -- ssl.SSLContext ---------------------------------------------------------------------------


def test_an_ssl_context_on_the_client_is_used_as_given(
    make_client, httpbin_secure, clean_env, mock_ca
):
    context = ssl.create_default_context(cafile=mock_ca)
    r = make_client(verify=context).get(httpbin_secure.join("/get"), params={"via": "context"})
    assert r.json()["args"] == {"via": "context"}
    assert context.verify_mode == ssl.CERT_REQUIRED and context.check_hostname  # not altered
    with pytest.raises(errors.TLSError):  # the context's trust, not certifi's or the env's
        make_client(verify=ssl.create_default_context()).get(httpbin_secure.join("/get"))


def test_an_ssl_context_per_request(make_client, httpbin_secure, clean_env, mock_ca):
    context = ssl.create_default_context(cafile=mock_ca)
    client = make_client()
    assert client.get(httpbin_secure.join("/get"), verify=context).status_code == 200
    with pytest.raises(errors.TLSError):
        client.get(httpbin_secure.join("/get"))


def test_an_unverifying_ssl_context_connects_without_a_warning(
    make_client, httpbin_secure, clean_env
):
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    # Warnings are errors in this suite: urllib3's InsecureRequestWarning would fail it.
    assert make_client(verify=context).get(httpbin_secure.join("/get")).status_code == 200


def test_an_ssl_context_with_cert_is_refused(make_client, server, pki: Pki):
    context = ssl.create_default_context()
    pair = (pki.client_cert, pki.client_key)
    with pytest.raises(errors.InvalidRequest, match="load_cert_chain"):
        make_client(verify=context, cert=pair)
    with pytest.raises(errors.InvalidRequest, match="load_cert_chain"):
        make_client(cert=pair).get(server.join("/get"), verify=context)


# -- ProxyAuth belongs in proxy_auth= ---------------------------------------------------------


def test_proxy_auth_as_auth_is_refused_naming_proxy_auth(make_client, server):
    secret = "proxy-pass-9f1c"  # pragma: allowlist secret
    with pytest.raises(errors.InvalidRequest) as info:
        make_client(auth=hookwire.ProxyAuth("pu", secret))
    assert "proxy_auth=" in str(info.value) and secret not in str(info.value)
    with pytest.raises(errors.InvalidRequest, match="proxy_auth="):
        make_client().get(server.join("/get"), auth=hookwire.ProxyAuth("pu", secret))
    # requests' own HTTPProxyAuth is a callable: run as auth= it would hand the server the
    # proxy's credentials
    from requests.auth import HTTPProxyAuth

    with pytest.raises(errors.InvalidRequest, match="proxy_auth="):
        make_client().get(server.join("/get"), auth=HTTPProxyAuth("pu", secret))
    assert not server.journal.entries(path="/get")
    # where it belongs, it reaches the proxy
    client = make_client(proxy=server.url, proxy_auth=hookwire.ProxyAuth("pu", secret))
    assert client.get("http://proxied.invalid/get").status_code == 200
    (entry,) = server.journal.entries(path="/get")
    assert "proxy-authorization" in entry.headers  # (the journal shows it redacted)
    assert "authorization" not in entry.headers
