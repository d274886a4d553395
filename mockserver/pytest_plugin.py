"""pytest plugin (entry point `hookwire-mockserver`): live and in-process mock server fixtures.

| fixture               | scope    | gives                                                   |
|-----------------------|----------|---------------------------------------------------------|
| `mock_server`         | session  | `LiveServer`, openai dialect, on a free 127.0.0.1 port   |
| `mock_server_factory` | session  | `factory(dialect=, api_key=, **MockConfig)`, cached      |
| `mock_app`            | function | a fresh in-process `MockApp`                            |
| `respx_mock_server`   | function | `InProcessServer`: httpx reaches a fresh app, no socket |
|                       |          | (`.router` takes your own respx routes; they win)       |
| `requests_mock_server`| function | `InProcessServer`: requests reaches the same app, no     |
|                       |          | socket (`.adapter`, `.transport_options` for hookwire)  |

The pytest-httpbin drop-ins (`httpbin`, `httpbin_secure`, `httpbin_both`, `httpbin_ca_bundle`)
arrive through this plugin too, from `hookwire.mockserver.pytest_httpbin`, and the option
`--hookwire-contract-report[=PATH]` from `hookwire.mockserver.pytest_contract`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest

from hookwire.mockserver.app import MockApp, create_app
from hookwire.mockserver.config import MockConfig
from hookwire.mockserver.pytest_contract import *  # noqa: F403  (--hookwire-contract-report)
from hookwire.mockserver.pytest_httpbin import *  # noqa: F403  (the httpbin drop-in fixtures)
from hookwire.mockserver.server import LiveServer
from hookwire.mockserver.testing import InProcessHandler, InProcessServer, mock_router


@pytest.fixture(scope="session")
def mock_server_factory() -> Iterator[Callable[..., LiveServer]]:
    """Start extra live servers; one per distinct config, all stopped at session end."""
    servers: dict[MockConfig, LiveServer] = {}

    def factory(dialect: str = "openai", api_key: str | None = None, **kwargs: Any) -> LiveServer:
        config = MockConfig(dialect=dialect, api_key=api_key, **kwargs)
        if config not in servers:
            servers[config] = LiveServer(config).start()
        return servers[config]

    try:
        yield factory
    finally:
        for server in servers.values():
            server.stop()


@pytest.fixture(scope="session")
def mock_server(mock_server_factory: Callable[..., LiveServer]) -> LiveServer:
    """The shared openai-dialect live server (call `.reset()` for a clean journal)."""
    return mock_server_factory()


@pytest.fixture
def mock_app() -> MockApp:
    """A fresh in-process app (openai dialect)."""
    return create_app(MockConfig())


@pytest.fixture
def respx_mock_server(mock_app: MockApp) -> Iterator[InProcessServer]:
    """httpx calls to `.url` run `mock_app` in-process; routes added to `.router` win over
    the mock's; loopback hosts pass through; any other host fails as not mocked."""
    handler = InProcessHandler(mock_app)
    server = InProcessServer(mock_app)
    with mock_router(handler, server.host) as router:
        server.router = router
        try:
            yield server
        finally:
            handler.close()


@pytest.fixture
def requests_mock_server(
    mock_app: MockApp, monkeypatch: pytest.MonkeyPatch
) -> Iterator[InProcessServer]:
    """requests calls to `.url` run `mock_app` in-process (the same app as `respx_mock_server`
    in the same test): every `requests.Session` (so plain `requests.get`) gets the
    `ASGIAdapter` for that host; hookwire's requests transport takes `.transport_options`."""
    import requests

    from hookwire.mockserver.asgi_requests import ASGIAdapter

    adapter = ASGIAdapter(mock_app)
    server = InProcessServer(mock_app, adapter=adapter)
    original = requests.Session.get_adapter

    def get_adapter(session: requests.Session, url: str) -> Any:
        if urlsplit(url).hostname == server.host:
            return adapter
        return original(session, url)

    monkeypatch.setattr(requests.Session, "get_adapter", get_adapter)
    try:
        yield server
    finally:
        adapter.close()
