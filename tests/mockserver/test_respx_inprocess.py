"""respx routes httpx to the app in-process; one scenario behaves the same on both paths."""

from __future__ import annotations

import json
import time

import httpx
import pytest

from tests.mockserver._sse import data_lines

BODY = {"model": "mock-model", "messages": [{"role": "user", "content": "alpha"}], "stream": True}


RULES = [
    {
        "path": "/v1/chat/completions",
        "session": "same",
        "calls": 1,
        "status": 503,
        "retry-after": "0",
    },
    {
        "path": "/v1/chat/completions",
        "session": "same",
        "calls": 2,
        "malformed-at": 1,
        "content": "scripted",
    },
]


def _normalise(text):
    out = []
    for line in data_lines(text):
        try:
            obj = json.loads(line)
        except json.JSONDecodeError:
            out.append("<malformed>")
            continue
        if isinstance(obj, dict):
            obj.pop("id", None)
            obj.pop("created", None)
        out.append(obj)
    return out


def _run(srv):
    h = {"X-Mock-Session": "same"}
    with httpx.Client(base_url=srv.url, timeout=5) as c:
        first = c.post("/v1/chat/completions", json=BODY, headers=h)
        second = c.post("/v1/chat/completions", json=BODY, headers=h)
        third = c.post("/v1/chat/completions", json=BODY, headers=h)
        with pytest.raises(httpx.RemoteProtocolError):
            c.post("/v1/chat/completions", json=BODY, headers={"X-Mock-Fault": "close-after=2"})
    # over a socket the client can see the connection go before the server has journaled the
    # drop: wait (boundedly) for the entry to settle rather than race it
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and [e.status for e in srv.journal.entries()][-1:] != [0]:
        time.sleep(0.01)
    return (
        (first.status_code, first.headers["retry-after"], first.json()),
        _normalise(second.text),
        _normalise(third.text),
        [e.status for e in srv.journal.entries()],
    )


def test_same_scenario_same_result_on_both_paths(mock_server, respx_mock_server):
    results = []
    for srv in (mock_server, respx_mock_server):
        srv.reset()
        for rule in RULES:
            srv.app.scenario.add(rule)
        try:
            results.append(_run(srv))
        finally:
            srv.app.scenario.clear()
    over_socket, in_process = results
    assert over_socket[0][0] == 503 and "<malformed>" in over_socket[1]
    content = "".join(c["choices"][0]["delta"].get("content", "") for c in over_socket[2][:-1])
    assert content == "Echo: alpha"
    assert over_socket[3] == [503, 200, 200, 0]
    assert in_process == over_socket


async def test_async_client_in_process(respx_mock_server):
    async with httpx.AsyncClient(base_url=respx_mock_server.url) as c:
        r = await c.post("/v1/chat/completions", json={**BODY, "stream": False})
        assert r.json()["choices"][0]["message"]["content"] == "Echo: alpha"
        with pytest.raises(httpx.ReadTimeout):
            await c.post(
                "/v1/chat/completions", json=BODY, headers={"X-Mock-Fault": "stall-after=1"}
            )
    assert respx_mock_server.journal.count("/v1/chat/completions") == 2


# -- composing with the user's own routes ------------------------------------------------------


def test_a_user_route_wins_over_the_mocks_own(respx_mock_server):
    router = respx_mock_server.router
    api = router.get("https://api.example.com/x").respond(200, json={"from": "user"})
    override = router.get(respx_mock_server.join("/uuid")).respond(418)
    with httpx.Client(timeout=5) as c:
        assert c.get("https://api.example.com/x").json() == {"from": "user"}
        assert c.get(respx_mock_server.join("/uuid")).status_code == 418
        assert c.get(respx_mock_server.join("/get")).json()["url"].endswith("/get")
    assert api.call_count == 1 and override.call_count == 1
    # only the request the user did not route reached the app
    assert [e.path for e in respx_mock_server.journal.entries()] == ["/get"]


async def test_a_user_route_wins_for_async_clients_too(respx_mock_server):
    respx_mock_server.router.post("https://api.example.com/y").respond(201, text="made")
    async with httpx.AsyncClient(timeout=5) as c:
        r = await c.post("https://api.example.com/y", json={})
        assert (r.status_code, r.text) == (201, "made")
        r = await c.get(respx_mock_server.join("/status/204"))
        assert r.status_code == 204


def test_an_unrouted_host_fails_as_not_mocked_instead_of_reaching_the_network(respx_mock_server):
    import respx

    respx_mock_server.router.get("https://api.example.com/x").respond(200)
    with httpx.Client(timeout=5) as c:
        with pytest.raises(respx.models.AllMockedAssertionError, match="not mocked"):
            c.get("https://elsewhere.example.com/x")
        with pytest.raises(respx.models.AllMockedAssertionError, match="not mocked"):
            c.get("https://api.example.com/other-path")
    assert respx_mock_server.journal.entries() == []


def test_user_routes_are_gone_in_the_next_test(respx_mock_server):
    # the previous tests' routes were rolled back with their router
    assert len(respx_mock_server.router.routes) == 0
    with httpx.Client(timeout=5) as c:
        assert c.get(respx_mock_server.join("/status/200")).status_code == 200


def test_through_hookwire_an_unrouted_host_is_a_transport_error_naming_it(respx_mock_server):
    import hookwire

    with hookwire.Client(transport="httpx", timeout=5) as client:
        assert client.get(respx_mock_server.join("/get")).status_code == 200
        with pytest.raises(hookwire.errors.TransportError, match="AllMockedAssertionError"):
            client.get("https://elsewhere.example.com/x")
    assert respx_mock_server.journal.count() == 1
