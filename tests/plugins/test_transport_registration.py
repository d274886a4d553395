"""The transport plugins register by entry point, choose defaults, and load without extras."""

from __future__ import annotations

import importlib
import sys

import pytest

import hookwire
from hookwire.errors import PluginError
from hookwire.plugins.transports import aiohttp_transport, httpx_transport, requests_transport
from hookwire.registry import PluginHost


def test_entry_points_register_every_transport_with_its_faces():
    host = PluginHost(environ={})
    table = host.transports()
    assert table["requests"].sync is requests_transport.RequestsTransport
    assert table["requests"].async_ is None
    assert table["httpx"].sync is httpx_transport.HTTPXTransport
    assert table["httpx"].async_ is httpx_transport.AsyncHTTPXTransport
    assert table["aiohttp"].async_ is aiohttp_transport.AiohttpTransport
    assert table["aiohttp"].sync is None


def test_default_transports():
    host = PluginHost(environ={})
    assert host.default_transport(is_async=False) == "httpx"
    assert host.default_transport(is_async=True) == "aiohttp"


def test_async_default_falls_back_to_httpx_without_aiohttp(monkeypatch):
    monkeypatch.setattr(httpx_transport.importlib.util, "find_spec", lambda name: None)
    assert httpx_transport.hookwire_default_transport(is_async=True) == "httpx"
    assert httpx_transport.hookwire_default_transport(is_async=False) == "httpx"


def test_a_plugin_can_override_the_default(monkeypatch):
    class Mine:
        @hookwire.hookimpl
        def hookwire_default_transport(self, is_async):
            return "requests" if not is_async else None

    host = PluginHost(environ={}, plugins=[("mine", Mine())])
    assert host.default_transport(is_async=False) == "requests"
    assert host.default_transport(is_async=True) == "aiohttp"


def test_aiohttp_plugin_loads_without_aiohttp_and_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "aiohttp", None)  # makes "import aiohttp" fail
    module = importlib.reload(aiohttp_transport)
    try:
        names: dict[str, object] = {}
        module.hookwire_register_transports(register=lambda name, **kw: names.update({name: kw}))
        assert "aiohttp" in names
        with pytest.raises(PluginError, match=r"hookwire\[aiohttp\]"):
            module.AiohttpTransport()
    finally:
        monkeypatch.delitem(sys.modules, "aiohttp")
        importlib.reload(aiohttp_transport)


def test_importing_the_plugins_does_not_import_backends():
    code = (
        "import sys, hookwire.plugins.transports.requests_transport, "
        "hookwire.plugins.transports.httpx_transport, "
        "hookwire.plugins.transports.aiohttp_transport; "
        "print(sorted(m for m in ('requests', 'httpx', 'aiohttp', 'urllib3') if m in sys.modules))"
    )
    import subprocess

    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_sync_only_transport_refuses_async_client():
    client = hookwire.AsyncClient(transport="requests")
    with pytest.raises(hookwire.InvalidRequest, match="no async implementation"):
        client._make_transport()
