"""pytest plugin (entry point `hookwire-mockserver`): live and in-process mock server fixtures.

| fixture               | scope    | gives                                                   |
|-----------------------|----------|---------------------------------------------------------|
| `mock_server`         | session  | `LiveServer`, openai dialect, on a free 127.0.0.1 port   |
| `mock_server_factory` | session  | `factory(dialect=, api_key=, **MockConfig)`, cached      |
| `mock_app`            | function | a fresh in-process `MockApp`                            |
| `respx_mock_server`   | function | `InProcessServer`: httpx reaches a fresh app, no socket |
|                       |          | (`.router` takes your own respx routes; they win)       |

The pytest-httpbin drop-ins (`httpbin`, `httpbin_secure`, `httpbin_both`, `httpbin_ca_bundle`)
arrive through this plugin too, from `hookwire.mockserver.pytest_httpbin`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from hookwire.mockserver.app import MockApp, create_app
from hookwire.mockserver.config import MockConfig
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
