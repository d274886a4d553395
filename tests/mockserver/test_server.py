"""LiveServer: free port, URL helpers, clean stop that frees the port and its thread."""

from __future__ import annotations

import socket
import threading

import httpx
import pytest

from mockserver.config import ConfigError, MockConfig
from mockserver.server import LiveServer


def test_live_server_lifecycle():
    before = threading.active_count()
    with LiveServer(MockConfig(dialect="vllm", api_key="sk-x")) as srv:
        assert srv.url == f"http://127.0.0.1:{srv.port}" and srv.port > 0
        assert srv.join("/health") == srv + "/health" == srv.url + "/health"
        assert srv.openai_base_url == srv.url + "/v1"
        assert httpx.get(srv.join("health")).status_code == 200
        assert "sk-x" not in repr(srv) + repr(srv.config)
        port = srv.port
    assert threading.active_count() == before
    with socket.socket() as s, pytest.raises(ConnectionRefusedError):
        s.connect(("127.0.0.1", port))


def test_reset_clears_journal_and_call_counters(mock_server):
    h = {"X-Mock-Fault": "calls=1;status=500", "X-Mock-Session": "reset-test"}
    assert httpx.get(mock_server.url + "/v1/models", headers=h).status_code == 500
    assert httpx.get(mock_server.url + "/v1/models", headers=h).status_code == 200
    mock_server.reset()
    assert mock_server.journal.count() == 0
    assert httpx.get(mock_server.url + "/v1/models", headers=h).status_code == 500


@pytest.mark.parametrize(
    "kwargs", [{"dialect": "x"}, {"port": 70000}, {"workers": 0}, {"ttft": -1}]
)
def test_config_validation(kwargs):
    with pytest.raises(ConfigError):
        MockConfig(**kwargs)
