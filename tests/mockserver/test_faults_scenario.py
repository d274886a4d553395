"""Scenario rules from TOML files and from code."""

from __future__ import annotations

import json
import uuid

import httpx
import pytest

from hookwire.mockserver.config import MockConfig
from hookwire.mockserver.faults import FaultSyntaxError
from hookwire.mockserver.scenario import load_rules
from hookwire.mockserver.server import LiveServer
from tests.mockserver._sse import payloads

SCENARIO = """
[[rule]]
path = "/v1/chat/*"
session = "s1"
calls = "1-2"
status = 503
retry-after = "0"

[[rule]]
path = "/v1/chat/completions"
method = "POST"
session = "s1"
content = "scripted answer"
reasoning = "scripted thoughts"

[[rule]]
path = "/v1/chat/completions"
session = "tools"
tool_calls = [{ name = "lookup", arguments = { q = "paris" } }]
"""
BODY = {"model": "mock-model", "messages": [{"role": "user", "content": "x"}]}


def test_scenario_file_scripts_faults_and_replies(tmp_path):
    path = tmp_path / "s.toml"
    path.write_text(SCENARIO)
    with LiveServer(MockConfig(scenario=path)) as srv:
        url = srv.url + "/v1/chat/completions"
        h = {"X-Mock-Session": "s1"}
        r1, r2, r3 = (httpx.post(url, json=BODY, headers=h) for _ in range(3))
        assert (r1.status_code, r2.status_code, r1.headers["retry-after"]) == (503, 503, "0")
        msg = r3.json()["choices"][0]["message"]
        assert (msg["content"], msg["reasoning_content"]) == (
            "scripted answer",
            "scripted thoughts",
        )
        assert httpx.post(url, json=BODY).json()["choices"][0]["message"]["content"] == "Echo: x"
        chunks = payloads(
            httpx.post(url, json={**BODY, "stream": True}, headers={"X-Mock-Session": "tools"}).text
        )
        args = "".join(
            d["function"].get("arguments", "")
            for c in chunks
            for d in c["choices"][0]["delta"].get("tool_calls", [])
        )
        assert json.loads(args) == {"q": "paris"}
        assert chunks[-1]["choices"][0]["finish_reason"] == "tool_calls"


def test_programmatic_and_http_rules(mock_server):
    session = uuid.uuid4().hex
    mock_server.app.scenario.add({"path": "/v1/models", "session": session, "status": 500})
    h = {"X-Mock-Session": session}
    try:
        assert httpx.get(mock_server.url + "/v1/models", headers=h).status_code == 500
        # a header fault takes precedence over the scenario
        h2 = {**h, "X-Mock-Fault": "status=409"}
        assert httpx.get(mock_server.url + "/v1/models", headers=h2).status_code == 409
    finally:
        mock_server.app.scenario.clear()
    assert httpx.get(mock_server.url + "/v1/models", headers=h).status_code == 200
    rule = {"path": "/v1/models", "session": session, "status": 418}
    assert httpx.post(mock_server.url + "/__mock__/scenario", json=rule).status_code == 204
    assert httpx.get(mock_server.url + "/v1/models", headers=h).status_code == 418
    assert httpx.post(mock_server.url + "/__mock__/scenario", json={"bogus": 1}).status_code == 400
    assert httpx.delete(mock_server.url + "/__mock__/scenario").status_code == 204
    assert not mock_server.app.scenario


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("[[rule]]\nwat = 1\n", "wat"),
        ("[[rule]]\nstatus = 'x'\n", "status"),
        ("[other]\n", "other"),
        ("[[rule]\n", "TOML"),
        ("[[rule]]\ntool_calls = [{ arguments = {} }]\n", "name"),
    ],
)
def test_bad_scenario_files_name_the_problem(tmp_path, text, needle):
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(FaultSyntaxError, match=needle):
        load_rules(path)
