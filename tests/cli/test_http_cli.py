"""`hookwire http` through the real console script against the live mock server."""

from __future__ import annotations

import json
import socket

import pytest

from tests.cli.conftest import Run, split_http


def _transports() -> list[str]:
    from hookwire.registry import PluginHost

    return sorted(PluginHost().transports())


@pytest.mark.parametrize("transport", ["requests", "httpx", "aiohttp", "native"])
def test_get_with_query_and_header_on_every_transport(
    hookwire: Run, mock_server, transport: str
) -> None:
    if transport not in _transports():
        pytest.skip(f"transport {transport!r} is not installed")
    r = hookwire(
        "http", "GET", mock_server.url + "/get", "q==hook wire", "X-Trace:abc",
        "--transport", transport, "-p", "hb",
    )
    assert r.returncode == 0, r.stderr
    status, headers, body = split_http(r.stdout)
    assert status.endswith("200 OK")
    assert headers["content-type"] == "application/json"
    echoed = json.loads(body)
    assert echoed["args"] == {"q": "hook wire"}
    assert echoed["headers"]["X-Trace"] == "abc"


def test_fields_make_a_json_body(hookwire: Run, mock_server) -> None:
    r = hookwire("http", "POST", mock_server.url + "/post", "name=hw", "n:=3", "tags:=[1,2]", "-b")
    assert r.returncode == 0, r.stderr
    echoed = json.loads(r.stdout)
    assert echoed["json"] == {"name": "hw", "n": 3, "tags": [1, 2]}
    assert echoed["headers"]["Content-Type"] == "application/json"


def test_method_defaults_to_post_with_fields_and_form_sends_a_form(
    hookwire: Run, mock_server
) -> None:
    r = hookwire("http", mock_server.url + "/post", "city=Paris", "--form", "-b")
    assert r.returncode == 0, r.stderr
    echoed = json.loads(r.stdout)
    assert echoed["form"] == {"city": "Paris"}
    assert echoed["headers"]["Content-Type"] == "application/x-www-form-urlencoded"


def test_form_refuses_raw_json(hookwire: Run, mock_server) -> None:
    r = hookwire("http", mock_server.url + "/post", "n:=3", "--form")
    assert r.returncode == 1
    assert r.stderr.strip() == "error: raw JSON fields (name:=json) cannot go in a --form body"


@pytest.mark.parametrize("auth_type", ["basic", "digest"])
def test_auth_types(hookwire: Run, mock_server, auth_type: str) -> None:
    path = "/basic-auth/u/p" if auth_type == "basic" else "/digest-auth/auth/u/p"
    ok = hookwire("http", mock_server.url + path, "--auth", "u:p", "--auth-type", auth_type, "-b")
    assert ok.returncode == 0, ok.stderr
    assert json.loads(ok.stdout) == {"authenticated": True, "user": "u"}
    bad = hookwire(
        "http", mock_server.url + path, "--auth", "u:wrong", "-A", auth_type, "--check-status",
        "-p", "hb",
    )
    if auth_type == "basic":  # a plain 401 response, which --check-status turns into 4
        assert bad.returncode == 4
        assert split_http(bad.stdout)[0].split()[1] == "401"
    else:  # digest answered the challenge and was refused again: AuthenticationError
        assert bad.returncode == 1
        assert bad.stderr.startswith("error: the server refused the credentials")
        assert "wrong" not in bad.stderr


def test_bearer_token(hookwire: Run, mock_server) -> None:
    r = hookwire("http", mock_server.url + "/bearer", "--auth", "tok123", "-A", "bearer", "-b")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout) == {"authenticated": True, "token": "tok123"}


def test_redirects_are_shown_unless_followed(hookwire: Run, mock_server) -> None:
    shown = hookwire("http", mock_server.url + "/redirect/1", "-p", "hb")
    assert split_http(shown.stdout)[0].split()[1] == "302"
    followed = hookwire("http", mock_server.url + "/redirect/1", "--follow", "-v")
    lines = followed.stdout.splitlines()
    # -v shows every exchange, as httpie's --all: the redirect, then the final one
    assert lines[0] == "GET /redirect/1 HTTP/1.1"
    assert [line for line in lines if line.startswith("HTTP/1.1 ")] == [
        "HTTP/1.1 302 Found", "HTTP/1.1 200 OK",
    ]
    assert "GET /get HTTP/1.1" in lines
    final_only = hookwire("http", mock_server.url + "/redirect/1", "--follow", "-p", "Hh")
    assert [line for line in final_only.stdout.splitlines() if " HTTP/1.1" in line] == [
        "GET /get HTTP/1.1",
    ]


def test_unreadable_item_is_one_error_line(hookwire: Run, mock_server) -> None:
    r = hookwire("http", mock_server.url + "/get", "oops")
    assert r.returncode == 1
    assert r.stderr.count("\n") == 1 and r.stderr.startswith("error: cannot read request item")


def test_connection_refused_then_debug_shows_the_traceback(hookwire: Run) -> None:
    with socket.socket() as s:  # a port nobody listens on: bound, never listening
        s.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{s.getsockname()[1]}/get"
        r = hookwire("http", url, "--timeout", "5")
        d = hookwire("http", url, "--timeout", "5", "--debug")
    assert r.returncode == 1
    assert r.stderr.startswith("error: ") and r.stderr.count("\n") == 1
    assert "Traceback" not in r.stderr
    assert d.returncode == 1 and "Traceback (most recent call last)" in d.stderr


def test_unknown_transport_names_the_available_ones(hookwire: Run, mock_server) -> None:
    r = hookwire("http", mock_server.url + "/get", "--transport", "carrier-pigeon")
    assert r.returncode == 1
    assert "no transport named 'carrier-pigeon'" in r.stderr and "requests" in r.stderr
