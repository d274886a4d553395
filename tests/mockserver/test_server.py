"""LiveServer: free port, URL helpers, clean stop that frees the port and its thread."""

from __future__ import annotations

import socket
import threading

import httpx
import pytest

from hookwire.mockserver.app import create_app
from hookwire.mockserver.config import ConfigError, MockConfig
from hookwire.mockserver.runner import ServerStartError, ThreadedServer
from hookwire.mockserver.server import LiveServer


def test_live_server_lifecycle():
    # The threads alive before, not their count: one that an earlier test left winding down
    # may end meanwhile, which says nothing about this server's own thread.
    before = set(threading.enumerate())
    with LiveServer(MockConfig(dialect="vllm", api_key="sk-x")) as srv:
        assert srv.url == f"http://127.0.0.1:{srv.port}" and srv.port > 0
        assert srv.join("/health") == srv + "/health" == srv.url + "/health"
        assert srv.openai_base_url == srv.url + "/v1"
        assert httpx.get(srv.join("health")).status_code == 200
        assert "sk-x" not in repr(srv) + repr(srv.config)
        port = srv.port
    assert set(threading.enumerate()) - before == set()
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


def _slow_startup_app(seconds):
    """An ASGI app whose lifespan startup takes `seconds` (to outlast a start timeout)."""

    async def app(scope, receive, send):
        import asyncio

        if scope["type"] == "lifespan":
            await receive()
            await asyncio.sleep(seconds)
            await send({"type": "lifespan.startup.complete"})
            await receive()
            await send({"type": "lifespan.shutdown.complete"})

    return app


def test_start_timeout_is_a_clear_error_and_leaves_no_thread():
    before = set(threading.enumerate())
    server = ThreadedServer(_slow_startup_app(0.5), startup_timeout=0.05)
    with pytest.raises(ServerStartError, match=r"not up within 0\.05s") as info:
        server.start()
    assert f"127.0.0.1:{server.port}" in str(info.value)
    assert set(threading.enumerate()) - before == set()
    server.stop()  # idempotent after a failed start


def test_bad_tls_files_name_the_cause():
    before = set(threading.enumerate())
    server = LiveServer(app=create_app())
    server._ssl = {"ssl_certfile": "/nonexistent/cert.pem", "ssl_keyfile": None}
    with pytest.raises(ServerStartError, match="FileNotFoundError"):
        server.start()
    assert set(threading.enumerate()) - before == set()


def test_stop_is_idempotent_and_start_binds_afresh():
    early = ThreadedServer(create_app())
    assert early.port > 0  # pytest-httpbin's objects know their port before start()
    early.stop()
    server = LiveServer(MockConfig())
    assert server.port == 0  # a LiveServer binds on start()
    server.stop()  # never started: nothing to do
    with server:
        assert httpx.get(server.join("/health")).status_code == 200
    server.stop()
    server.stop()
    with server, pytest.raises(RuntimeError, match="already started"):
        server.start()


def test_threaded_server_honours_the_port_variable_and_refuses_a_taken_port(monkeypatch):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        free = probe.getsockname()[1]
    monkeypatch.setenv("HTTPBIN_HTTP_PORT", str(free))
    with ThreadedServer(create_app()) as server:
        assert server.port == free and server.url == f"http://127.0.0.1:{free}"
        # a listening socket holds the port even against SO_REUSEADDR
        with pytest.raises(ServerStartError, match=f"cannot bind 127.0.0.1:{free}"):
            ThreadedServer(create_app())
