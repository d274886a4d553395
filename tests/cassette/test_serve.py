"""The mock server serving a cassette: recorded answers for matching requests (streams chunk by
chunk), a JSON 404 naming the closest request otherwise, and its settings checked up front."""

from __future__ import annotations

import httpx
import pytest

from hookwire.mockserver.app import create_app
from hookwire.mockserver.cassette import (
    Interaction,
    RecordedRequest,
    RecordedResponse,
    write_file,
)
from hookwire.mockserver.cli import config_from_args
from hookwire.mockserver.config import ConfigError, MockConfig
from hookwire.mockserver.server import LiveServer

CHUNKS = [b'data: {"n": 1}\n\n', b'data: {"n": 2}\n\n', b"data: [DONE]\n\n"]


@pytest.fixture
def cassette_file(tmp_path):
    path = tmp_path / "served.json"
    write_file(path, [
        Interaction(
            RecordedRequest("GET", "http://cloud.example/v1/models?page=1"),
            RecordedResponse(200, "OK", [("Content-Type", "application/json"),
                                         ("Content-Length", "999"), ("X-Request-Id", "r1")],
                             b'{"data": []}'),
        ),
        Interaction(
            RecordedRequest("POST", "https://cloud.example:8443/v1/chat/completions",
                            [("content-type", "application/json")],
                            b'{"model": "m", "stream": true, "seed": 1}'),
            RecordedResponse(200, "OK", [("content-type", "text/event-stream")],
                             chunks=CHUNKS, offsets=[0.0, 0.001, 0.002]),
        ),
    ])
    return path


@pytest.mark.parametrize("timing", [False, True])
def test_recorded_answers_come_back_from_any_host(cassette_file, timing) -> None:
    with LiveServer(MockConfig(cassette=cassette_file, cassette_timing=timing)) as srv:
        r = httpx.get(srv.url + "/v1/models", params={"page": "1"})
        assert r.json() == {"data": []} and r.headers["x-request-id"] == "r1"
        assert r.headers["content-length"] == str(len(b'{"data": []}'))  # ours, not recorded
        body = {"stream": True, "model": "m", "seed": 99}  # key order and seed do not matter
        with httpx.stream("POST", srv.url + "/v1/chat/completions", json=body) as s:
            assert s.headers["content-type"] == "text/event-stream"
            assert "content-length" not in s.headers
            assert list(s.iter_raw()) == CHUNKS
        assert srv.journal.count() == 2


def test_an_unmatched_request_gets_json_naming_the_closest(cassette_file) -> None:
    with LiveServer(MockConfig(cassette=cassette_file)) as srv:
        r = httpx.get(srv.url + "/v1/models", params={"page": "2"})
    assert r.status_code == 404
    doc = r.json()
    assert doc["error"]["type"] == "cassette_mismatch"
    assert "Closest: interaction #0, GET http://cloud.example/v1/models?page=1" in (
        doc["error"]["message"]
    )
    assert doc["differences"] == ["query: recorded [('page', '1')], got [('page', '2')]"]
    assert doc["closest"] == {"method": "GET", "uri": "http://cloud.example/v1/models?page=1"}


def test_the_api_key_check_still_applies(cassette_file) -> None:
    key = "sk-served"  # pragma: allowlist secret
    with LiveServer(MockConfig(cassette=cassette_file, api_key=key)) as srv:
        url = srv.url + "/v1/models?page=1"
        assert httpx.get(url).status_code == 401
        assert httpx.get(url, headers={"Authorization": f"Bearer {key}"}).status_code == 200


def test_settings_are_checked_before_serving(tmp_path, cassette_file, capsys) -> None:
    with pytest.raises(ConfigError, match="cassette_timing needs a cassette"):
        MockConfig(cassette_timing=True)
    with pytest.raises(ConfigError, match=r"missing\.json does not exist"):
        create_app(MockConfig(cassette=tmp_path / "missing.json"))
    assert config_from_args(["--cassette", str(cassette_file)]).cassette == str(cassette_file)
    bad = tmp_path / "bad.json"
    bad.write_text('{"version": 2, "interactions": []}')
    with pytest.raises(SystemExit) as info:
        config_from_args(["--cassette", str(bad)])
    assert info.value.code == 2
    assert "format version 2 is not supported" in capsys.readouterr().err
