"""The aiohttp transport drives aiohttp's connection layer, not ``ClientSession``.

These are the calls it relies on (``aiohttp_transport._exchange``), named one by one, so an
aiohttp release that renames or reshapes one fails here with its name rather than somewhere
in the contract suite. The behaviour itself (pooling, proxies, TLS, timeouts, bodies) is the
contract and reliability suites' business; the tests below check the layer's shape and that a
request really goes through it (a session is never made).
"""

from __future__ import annotations

import asyncio
import inspect
from typing import Any

import pytest

import hookwire

aiohttp = pytest.importorskip("aiohttp")
aiohttp_transport = pytest.importorskip("hookwire.plugins.transports.aiohttp_transport")


def _params(func: object) -> set[str]:
    return set(inspect.signature(func).parameters)  # type: ignore[arg-type]


def test_client_request_takes_the_arguments_the_transport_passes() -> None:
    wanted = {
        "headers",
        "skip_auto_headers",
        "data",
        "loop",
        "proxy",
        "timer",
        "ssl",
    }
    assert wanted <= _params(aiohttp.ClientRequest.__init__)
    assert inspect.iscoroutinefunction(aiohttp.ClientRequest.send)
    assert inspect.iscoroutinefunction(aiohttp.ClientResponse.start)


async def test_the_connector_connects_a_request_with_traces_and_a_timeout() -> None:
    assert {"req", "traces", "timeout"} <= _params(aiohttp.TCPConnector.connect)
    connector = aiohttp.TCPConnector()  # needs a running loop
    try:
        assert isinstance(connector._timeout_ceil_threshold, (int, float))
    finally:
        await connector.close()


def test_the_protocol_takes_the_parser_settings_the_transport_needs() -> None:
    accepted = aiohttp_transport._accepted_response_params()
    # Without these the transport could not decode bodies itself, bound read-ahead, or time
    # out reads: each is a behaviour the contract suite checks.
    assert {"auto_decompress", "read_timeout", "read_bufsize", "skip_payload"} <= accepted
    settings = aiohttp_transport._response_params(False, 7.0, 5.0)
    assert settings["auto_decompress"] is False
    assert settings["read_timeout"] == 7.0
    assert set(settings) <= accepted


@pytest.mark.network
def test_a_request_goes_through_the_connector_and_no_session_is_made(
    monkeypatch: pytest.MonkeyPatch, mock_server: Any
) -> None:
    made: list[object] = []
    real_init = aiohttp.ClientSession.__init__

    def spy_init(self: object, *args: object, **kwargs: object) -> None:
        made.append(self)
        real_init(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(aiohttp.ClientSession, "__init__", spy_init)
    connects: list[str] = []
    real_connect = aiohttp.TCPConnector.connect

    async def spy_connect(self: object, req: object, *args: object, **kwargs: object) -> object:
        connects.append(str(req.url))  # type: ignore[attr-defined]
        return await real_connect(self, req, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(aiohttp.TCPConnector, "connect", spy_connect)

    async def main() -> tuple[int, dict[str, object]]:
        async with hookwire.AsyncClient(transport="aiohttp") as client:
            response = await client.get(mock_server.join("/get"), params={"a": "1"})
            return response.status_code, response.json()

    status, body = asyncio.run(main())
    assert status == 200
    assert body["args"] == {"a": "1"}
    assert connects == [mock_server.join("/get?a=1")]
    assert made == []
