"""`hookwire http -v`: the request exactly as the server received it, secrets redacted."""

from __future__ import annotations

import json
import uuid

import pytest

from tests.cli.conftest import Run

SECRET = "s3cr3t-" + "value"


def _transports() -> list[str]:
    from hookwire.registry import PluginHost

    return sorted(PluginHost().transports())


def _received(server, marker: str):
    [entry] = [e for e in server.journal.entries() if e.headers.get("x-test-id") == marker]
    return entry


def _request_part(stdout: str) -> tuple[str, list[tuple[str, str]], str]:
    """(request line, header pairs, body) of the first exchange printed by -v."""
    head, _, rest = stdout.partition("\n\n")
    line, *header_lines = head.splitlines()
    pairs = [tuple(h.split(": ", 1)) for h in header_lines]
    body = rest.partition("\n\n")[0] if not rest.startswith("HTTP/") else ""
    return line, pairs, body  # type: ignore[return-value]


@pytest.mark.parametrize("transport", ["requests", "httpx", "aiohttp", "native"])
def test_verbose_shows_every_header_the_server_received(
    hookwire: Run, mock_server, transport: str
) -> None:
    if transport not in _transports():
        pytest.skip(f"transport {transport!r} is not installed")
    marker = uuid.uuid4().hex
    r = hookwire(
        "http", "-v", "--transport", transport, mock_server.url + "/post", "q==1", "name=hw",
        "n:=3", f"X-Test-Id:{marker}", "X-Twice:a", "X-Twice:b",
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    line, pairs, body = _request_part(r.stdout)
    assert line == "POST /post?q=1 HTTP/1.1"
    received = _received(mock_server, marker)
    shown: dict[str, str] = {}
    for name, value in pairs:  # the server's journal joins repeated headers with ", "
        key = name.lower()
        shown[key] = f"{shown[key]}, {value}" if key in shown else value
    assert shown == received.headers  # every header, the same values...
    assert list(shown) == list(received.headers)  # ...in the order they went out
    assert {"host", "accept-encoding", "content-length", "user-agent"} <= set(shown)
    assert json.loads(body) == {"name": "hw", "n": 3} == received.body
    assert "HTTP/1.1 200 OK" in r.stdout.splitlines()  # then the response


def test_verbose_redacts_every_kind_of_secret(hookwire: Run, mock_server) -> None:
    r = hookwire(
        "http", "-v", mock_server.url + "/get", f"api_key=={SECRET}", "page==2",
        f"X-Api-Key:{SECRET}", f"Api-Key:{SECRET}", f"Cookie:session={SECRET}; theme=dark",
        f"Proxy-Authorization:Basic {SECRET}", f"X-Auth-Token:{SECRET}",
        "--auth", f"user:{SECRET}",
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    request = r.stdout.partition("\n\nHTTP/1.1 ")[0]
    assert SECRET not in request
    lines = request.splitlines()
    assert lines[0] == "GET /get?api_key=[REDACTED]&page=2 HTTP/1.1"
    for expected in [
        "Authorization: Basic [REDACTED]", "Proxy-Authorization: Basic [REDACTED]",
        "X-Api-Key: [REDACTED]", "Api-Key: [REDACTED]", "X-Auth-Token: [REDACTED]",
        "Cookie: session=[REDACTED]; theme=[REDACTED]",
    ]:
        assert expected in lines
    assert "Accept: */*" in lines  # what is no secret is shown as it is


def test_set_cookie_keeps_its_name_and_attributes(hookwire: Run, mock_server) -> None:
    r = hookwire("http", "-p", "h", mock_server.url + f"/cookies/set?token={SECRET}")
    assert r.returncode == 0, r.stderr
    assert SECRET not in r.stdout
    [cookie] = [line for line in r.stdout.splitlines() if line.lower().startswith("set-cookie")]
    assert cookie.split(": ", 1)[1].startswith("token=[REDACTED]")
