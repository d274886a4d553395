"""Credentials stay with their origin (issue 10, class 3), on every transport.

Two live mock servers on different ports are two origins. ``/redirect-to?url=`` on the first
sends the client to the second, whose ``/headers`` echoes what arrived.
"""

from __future__ import annotations

from urllib.parse import quote

import pytest

import hookwire

pytestmark = pytest.mark.network


class SigningAuth(hookwire.Auth):
    """A scheme with a header name no list knows: the flow owns it."""

    def auth_flow(self, request):  # type: ignore[no-untyped-def]
        request.headers["X-Acme-Signature"] = "sig-for-" + request.method
        yield request


@pytest.fixture
def other(mock_server_factory):
    return mock_server_factory(dialect="vllm")  # another port: another origin


def _hop(server, target: str, path: str = "/headers") -> str:
    return server.join("/redirect-to?url=" + quote(target + path, safe=""))


@pytest.mark.parametrize(
    ("auth", "header"),
    [
        (hookwire.APIKeyAuth("g-key-1", header="X-Goog-Api-Key"), "X-Goog-Api-Key"),
        (hookwire.APIKeyAuth("k-1", header="X-Custom-Key"), "X-Custom-Key"),
        (SigningAuth(), "X-Acme-Signature"),
        (hookwire.BearerAuth("tok-1"), "Authorization"),
    ],
    ids=["goog-key", "custom-key-header", "custom-scheme", "bearer"],
)
def test_headers_an_auth_flow_set_never_follow_a_redirect_to_another_origin(
    make_client, server, other, auth, header
):
    client = make_client(auth=auth)
    same = client.get(_hop(server, server.url)).json()["headers"]
    assert header in same  # same origin: the credential stays
    away = client.get(_hop(server, other.url)).json()["headers"]
    assert header not in away, away


@pytest.mark.parametrize(
    "header", ["X-Goog-Api-Key", "Ocp-Apim-Subscription-Key", "Private-Token", "X-Auth-Token"]
)
def test_common_key_headers_set_by_hand_are_stripped_too(make_client, server, other, header):
    client = make_client()
    away = client.get(_hop(server, other.url), headers={header: "secret-1"}).json()["headers"]
    assert header not in away
    same = client.get(_hop(server, server.url), headers={header: "secret-1"}).json()["headers"]
    assert same[header] == "secret-1"


def _other_host(other) -> str:
    # cookies are scoped by host, not port (RFC 6265 section 8.5): another host name it is
    return other.url.replace("127.0.0.1", "localhost")


def test_client_cookies_are_scoped_to_the_client_origin(make_client, server, other):
    client = make_client(base_url=server.url, cookies={"session": "s-1"})
    assert client.get("/cookies").json() == {"cookies": {"session": "s-1"}}
    assert client.get(_other_host(other) + "/cookies").json() == {"cookies": {}}
    assert client.get(_hop(server, _other_host(other), "/cookies")).json() == {"cookies": {}}


def test_cookies_without_a_base_url_bind_to_the_first_origin_they_go_to(
    make_client, server, other
):
    client = make_client(cookies={"session": "s-2"})
    assert client.get(server.url + "/cookies").json() == {"cookies": {"session": "s-2"}}
    assert client.get(_other_host(other) + "/cookies").json() == {"cookies": {}}
