"""The pytest plugin arrives by entry point and its fixtures behave as documented."""

from __future__ import annotations

import httpx

pytest_plugins = ["pytester"]


def test_factory_caches_per_config(mock_server_factory, mock_server):
    a = mock_server_factory(dialect="vllm")
    assert mock_server_factory(dialect="vllm") is a
    assert mock_server_factory() is mock_server
    assert mock_server_factory(dialect="vllm", api_key="k") is not a
    assert a.config.dialect == "vllm" and a.url != mock_server.url


def test_mock_server_surface(mock_server):
    assert mock_server.url.startswith("http://127.0.0.1:") and not mock_server.url.endswith("/")
    assert mock_server.openai_base_url == mock_server.url + "/v1"
    assert mock_server.journal is mock_server.app.journal is mock_server.app.state.journal


def test_mock_app_is_fresh_each_time(mock_app, respx_mock_server):
    assert respx_mock_server.app is mock_app and mock_app.journal.count() == 0
    r = httpx.get(respx_mock_server.join("/v1/models"))
    assert r.status_code == 200 and mock_app.journal.count() == 1


def test_plugin_loads_by_entry_point(pytester):
    pytester.makepyfile(
        """
        import httpx
        def test_it(mock_server, respx_mock_server):
            assert httpx.get(mock_server + "/health").status_code == 200
            assert httpx.get(respx_mock_server + "/health").status_code == 200
        """
    )
    result = pytester.runpytest_subprocess("-q", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)
