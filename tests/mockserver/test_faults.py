"""Scripted faults by header: grammar, call counting, and each fault over a real socket."""

from __future__ import annotations

import json
import uuid

import httpx
import pytest

from hookwire.mockserver.faults import FaultSyntaxError, parse_header, pick
from tests.mockserver._sse import data_lines

CHAT = {"model": "mock-model", "messages": [{"role": "user", "content": "alpha bravo charlie"}]}
STREAM = {**CHAT, "stream": True}


def fault(server, value, body=STREAM, path="/v1/chat/completions", timeout=5.0, **headers):
    h = {"X-Mock-Fault": value, "X-Mock-Session": uuid.uuid4().hex, **headers}
    return httpx.post(server.url + path, json=body, headers=h, timeout=timeout)


def test_grammar_groups_calls_and_flags():
    rules = parse_header(["calls=1-2;status=503;retry-after=0 | calls=3;status=429", "no-done"])
    assert [pick(rules, n).status for n in (1, 2, 3)] == [503, 503, 429]
    assert pick(rules, 4).no_done is True
    assert pick(parse_header(["calls=2;status=500"]), 1) is None


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("explode=1", "explode"),
        ("status=abc", "status"),
        ("status=99", "status"),
        ("calls=3-1", "calls"),
        ("delay=nan", "delay"),
        ("no-done=5", "no-done"),
    ],
)
def test_bad_directives_are_named(text, needle):
    with pytest.raises(FaultSyntaxError, match=needle):
        parse_header([text])


def test_unknown_directive_is_a_400_naming_it(mock_server):
    r = fault(mock_server, "frobnicate=2")
    assert r.status_code == 400 and "frobnicate" in r.json()["error"]["message"]


@pytest.mark.parametrize("raw", ["-1", "nan", "1e309", "Wed, 99 Foo 2000 00:00:00 GMT"])
def test_retry_after_sent_verbatim(mock_server, raw):
    r = fault(mock_server, f"status=429;retry-after={raw};retry-after-ms={raw}", body=CHAT)
    assert r.status_code == 429
    assert r.headers["retry-after"] == raw and r.headers["retry-after-ms"] == raw
    assert r.json()["error"]["type"] == "rate_limit_error"


def test_status_on_non_api_path_has_empty_body(mock_server):
    r = httpx.get(mock_server.url + "/anything/x", headers={"X-Mock-Fault": "status=418"})
    assert r.status_code == 418 and r.content == b""


def test_calls_are_counted_per_session_and_path(mock_server):
    session = uuid.uuid4().hex
    h = {"X-Mock-Fault": "calls=2;status=500", "X-Mock-Session": session}
    url = mock_server.url + "/v1/chat/completions"
    codes = [httpx.post(url, json=CHAT, headers=h).status_code for _ in range(3)]
    assert codes == [200, 500, 200]
    other = {**h, "X-Mock-Session": session + "-b"}
    assert httpx.post(url, json=CHAT, headers=other).status_code == 200


def test_close_after_n_chunks(mock_server):
    h = {"X-Mock-Fault": "close-after=3"}
    received = []
    with (
        pytest.raises(httpx.RemoteProtocolError),
        httpx.stream(
            "POST", mock_server.url + "/v1/chat/completions", json=STREAM, headers=h, timeout=5
        ) as r,
    ):
        for line in r.iter_lines():
            if line.startswith("data: "):
                received.append(line)
    assert len(received) == 3


def test_close_after_zero_and_reset_after_body_send_nothing(mock_server):
    for value in ("close-after=0", "reset-after-body"):
        with pytest.raises(httpx.RemoteProtocolError):
            fault(mock_server, value, body=CHAT)
    assert mock_server.journal.entries()[-1].fault == "reset-after-body"


def test_stall_after_keeps_connection_silent(mock_server):
    got = []
    with (
        pytest.raises(httpx.ReadTimeout),
        httpx.stream(
            "POST",
            mock_server.url + "/v1/chat/completions",
            json=STREAM,
            headers={"X-Mock-Fault": "stall-after=2"},
            timeout=httpx.Timeout(5, read=0.3),
        ) as r,
    ):
        for line in r.iter_lines():
            if line:
                got.append(line)
    assert len(got) == 2


def test_keepalive_only_sends_comments(mock_server):
    with httpx.stream(
        "POST",
        mock_server.url + "/v1/chat/completions",
        json=STREAM,
        headers={"X-Mock-Fault": "keepalive-only"},
        timeout=5,
    ) as r:
        lines = []
        for line in r.iter_lines():
            if line:
                lines.append(line)
            if len(lines) == 3:
                break
    assert lines == [": keep-alive"] * 3


def test_malformed_at(mock_server):
    lines = data_lines(fault(mock_server, "malformed-at=1").text)
    json.loads(lines[0])
    with pytest.raises(json.JSONDecodeError):
        json.loads(lines[1])
    assert lines[-1] == "[DONE]" and json.loads(lines[2])


def test_error_at_ends_without_done(mock_server_factory):
    for dialect, code in (("openai", None), ("vllm", 500)):
        server = mock_server_factory(dialect=dialect)
        lines = data_lines(fault(server, "error-at=2").text)
        assert len(lines) == 3 and "[DONE]" not in lines
        assert json.loads(lines[2])["error"]["code"] == code


def test_no_done_has_no_finish_reason(mock_server):
    r = fault(mock_server, "no-done", body={**STREAM, "stream_options": {"include_usage": True}})
    lines = data_lines(r.text)
    assert "[DONE]" not in lines
    chunks = [json.loads(x) for x in lines]
    assert all(c["choices"] and c["choices"][0]["finish_reason"] is None for c in chunks)


def test_delay_and_fault_recorded_in_journal(mock_server):
    r = fault(mock_server, "delay=0.01;status=502", body=CHAT)
    assert r.status_code == 502
    entry = mock_server.journal.entries()[-1]
    assert entry.status == 502 and entry.fault == "delay=0.01;status=502"


def test_close_after_on_non_stream_cuts_the_body(mock_server):
    with pytest.raises(httpx.RemoteProtocolError):
        fault(mock_server, "close-after=1", body=CHAT)
