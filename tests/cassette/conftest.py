"""Fixtures for the cassette tests.

The cassette transport arrives by entry point (``transport-cassette`` in pyproject.toml). An
editable install made before that entry point existed does not list it, so the process-wide
host gets the plugin module registered here when (and only when) it lacks the transport; with a
fresh install this does nothing.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

import hookwire
from hookwire.mockserver import cassette as cassettes
from hookwire.mockserver.config import MockConfig
from hookwire.mockserver.server import LiveServer
from hookwire.plugins.transports import cassette as cassette_plugin

KEY = "sk-cassette-test-4f9b2c7d1e8a"  # pragma: allowlist secret


@pytest.fixture(autouse=True)
def cassette_transport_registered() -> None:
    host = hookwire.get_plugin_host()
    if "cassette" not in host.transports():
        host.register(cassette_plugin, "transport-cassette")
    assert "cassette" in host.transports()
    assert cassettes.active() is None  # no test leaves a cassette active


@pytest.fixture
def cloud() -> Iterator[LiveServer]:
    """A mock standing in for the cloud: a key required, a thinking model served."""
    server = LiveServer(MockConfig(api_key=KEY)).start()
    try:
        yield server
    finally:
        server.stop()
