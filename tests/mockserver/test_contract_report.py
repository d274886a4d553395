"""Contract coverage: journal entries say what was hit; the report, its CLI, the pytest option."""

from __future__ import annotations

import json
import time

import httpx
import pytest

from hookwire.mockserver import coverage_report as cr
from hookwire.mockserver.cli import main as mock_main
from hookwire.mockserver.config import MockConfig
from hookwire.mockserver.server import LiveServer

pytest_plugins = ["pytester"]
INI = "[pytest]\nasyncio_default_fixture_loop_scope = function\naddopts = -p no:benchmark\n"

CHAT = "/v1/chat/completions"
MESSAGES = [{"role": "user", "content": "hi"}]


def entry(path=CHAT, status=200, kinds=(), sent=None, **body):
    return {
        "method": "GET" if path.startswith(("/v1/models", "/status")) else "POST",
        "path": path,
        "status": status,
        "fault_kinds": list(kinds),
        "stream": sent,
        "body": body or None,
    }


@pytest.mark.parametrize(
    ("e", "row", "hit"),
    [
        (entry(model="m"), ("POST /v1/chat/completions", "m", False), {"status-2xx"}),
        (
            entry(status=429, kinds=["status", "retry-after"], model="m"),
            ("POST /v1/chat/completions", "m", False),
            {"status-429", "status-429-retry-after"},
        ),
        (entry(status=429, kinds=["status"], model="m"), None, {"status-429"}),
        (entry(status=503, kinds=["status", "delay"]), None, {"status-5xx", "fault-delay"}),
        (entry(status=0, kinds=["reset"]), None, {"fault-reset"}),
        (entry(status=0, kinds=["cut"], model="m"), None, {"fault-cut"}),
        (
            entry(status=0, kinds=["cut"], sent=["role"], model="m", stream=True),
            ("POST /v1/chat/completions", "m", True),
            {"fault-cut-mid-stream"},
        ),
        (
            entry(kinds=["stall", "no-done"], sent=["role", "reasoning"], stream=True),
            ("POST /v1/chat/completions", "-", True),
            {"status-2xx", "fault-stall-mid-stream", "fault-no-done", "stream-reasoning"},
        ),
        (
            entry(kinds=["error-event"], sent=["tool-calls", "usage", "error-event", "done"]),
            None,
            {"status-2xx"},  # not a streaming request: stream features do not apply
        ),
        (entry(path="/status/404", status=404), ("GET /status/*", "-", False), {"status-404"}),
        (entry(path="/v1/models/abc", status=401), ("GET /v1/models/{model}", "-", False), None),
    ],
)
def test_behaviours_of_one_entry(e, row, hit):
    got_row, got = cr.behaviours(e)
    if row is not None:
        assert got_row == row
    assert got == (hit if hit is not None else {"status-401"})


def test_catalogue_scopes():
    plain = cr.applicable(("POST /v1/embeddings", "m", False))
    chat_stream = cr.applicable(("POST /v1/chat/completions", "m", True))
    text_stream = cr.applicable(("POST /v1/completions", "m", True))
    httpbin = cr.applicable(("GET /get", "-", False))
    assert "status-401" in plain and "status-401" not in httpbin
    assert "fault-cut" in plain and "fault-cut-mid-stream" not in plain
    assert {"stream-usage", "stream-done", "fault-cut-mid-stream"} <= set(chat_stream)
    assert "stream-usage" not in text_stream and "fault-no-done" in text_stream
    assert "fault-cut" not in chat_stream


def test_report_lists_never_hit_per_row_and_endpoint():
    tally = cr.Tally().add_all(
        [
            entry(model="a"),
            entry(status=429, kinds=["status", "retry-after"], model="b"),
            entry(path="/v1/embeddings", model="a"),
        ]
    )
    data = cr.report(tally)
    rows = {(r["endpoint"], r["model"]): r for r in data["rows"]}
    assert rows[("POST /v1/chat/completions", "a")]["hit"] == {"status-2xx": 1}
    assert "status-429" in rows[("POST /v1/chat/completions", "a")]["never"]
    by_endpoint = {e["endpoint"]: e["never"] for e in data["never_by_endpoint"]}
    chat_never = by_endpoint["POST /v1/chat/completions"]
    assert "status-429" not in chat_never and "status-2xx" not in chat_never
    assert "status-5xx" in chat_never and "status-401" in chat_never
    uncalled = {(e["endpoint"], e["stream"]) for e in data["endpoints_never_called"]}
    assert ("POST /v1/chat/completions", True) in uncalled
    assert ("POST /v1/embeddings", False) not in uncalled
    text = cr.render_text(data)
    assert "POST /v1/chat/completions: " in text and "status-5xx" in text


def test_tally_round_trips_and_merges():
    a = cr.Tally().add_all([entry(model="m"), entry(status=500, kinds=["status"], model="m")])
    b = cr.Tally.from_json(json.loads(json.dumps(a.to_json())))
    b.merge(a)
    row = ("POST /v1/chat/completions", "m", False)
    assert b.requests[row] == 4 and b.hits[row]["status-5xx"] == 2


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{not json\n{nor this", "line 1: not JSON"),
        ('{"rows": [{"endpoint": 1}]}', "not a contract tally"),
        ("[1, 2]", "expected a journal"),
    ],
)
def test_bad_files_are_typed_errors_naming_the_file(tmp_path, text, message):
    path = tmp_path / "j.json"
    path.write_text(text)
    with pytest.raises(cr.ReportError, match=message) as info:
        cr.load(path)
    assert str(path) in str(info.value)
    with pytest.raises(cr.ReportError, match="cannot read"):
        cr.load(tmp_path / "missing.json")


@pytest.fixture(scope="module")
def live():
    with LiveServer(MockConfig()) as server:
        yield server


def _stream(client, headers=None, **extra):
    body = {"model": "mock-model", "messages": MESSAGES, "stream": True, **extra}
    with client.stream("POST", CHAT, json=body, headers=headers or {}) as r:
        return r.status_code, b"".join(r.iter_bytes())


def test_live_traffic_journal_and_report(live, tmp_path, capsys):
    """Real traffic over a socket: each entry carries its fault kinds and what its stream sent,
    and the report over the exported journal (a file, as the CLI reads it) says so."""
    live.reset()
    live.app.scenario.add(
        {
            "path": CHAT,
            "session": "features",
            "reasoning": "thinking it over",
            "content": "done",
            "tool_calls": [{"name": "get_weather", "arguments": {"city": "Paris"}}],
        }
    )
    try:
        with httpx.Client(base_url=live.url, timeout=5) as client:
            ok = client.post(CHAT, json={"model": "mock-model", "messages": MESSAGES})
            busy = client.post(
                CHAT,
                json={"model": "mock-model", "messages": MESSAGES},
                headers={"X-Mock-Fault": "status=429;retry-after=0"},
            )
            features = _stream(
                client,
                {"X-Mock-Session": "features"},
                stream_options={"include_usage": True},
            )
            broken = _stream(client, {"X-Mock-Fault": "error-at=1"})
            with pytest.raises(httpx.RemoteProtocolError):
                _stream(client, {"X-Mock-Fault": "close-after=2"})
            # the mock journals the cut as status 0 once it sees the client go: wait for that
            deadline = time.monotonic() + 10
            while (journal := client.get("/__mock__/journal").json())[-1]["status"] != 0:
                assert time.monotonic() < deadline, journal[-1]
                time.sleep(0.01)
    finally:
        live.app.scenario.clear()
    assert ok.status_code == 200 and busy.status_code == 429
    assert b"data: [DONE]" in features[1] and b'"error"' in broken[1]
    assert [e["fault_kinds"] for e in journal] == [
        [],
        ["status", "retry-after"],
        [],
        ["error-event"],
        ["cut"],
    ]
    assert journal[0]["stream"] is None
    sent = {"role", "reasoning", "content", "tool-calls", "usage", "done"}
    assert set(journal[2]["stream"]) == sent
    assert "error-event" in journal[3]["stream"] and "done" not in journal[3]["stream"]
    assert "done" not in (journal[4]["stream"] or [])

    path = tmp_path / "journal.json"
    path.write_text(json.dumps(journal))
    data = cr.report(cr.load(path))
    rows = {(r["endpoint"], r["stream"]): r for r in data["rows"]}
    plain, stream = rows[("POST /v1/chat/completions", False)], rows[(CHAT_ROW, True)]
    assert plain["hit"] == {"status-2xx": 1, "status-429": 1, "status-429-retry-after": 1}
    assert stream["hit"] == {
        "status-2xx": 2,
        "fault-cut-mid-stream": 1,
        "stream-reasoning": 1,
        "stream-tool-calls": 1,
        "stream-usage": 1,
        "stream-error-event": 1,
        "stream-done": 1,
    }
    assert "fault-stall-mid-stream" in stream["never"] and "stream-usage" not in stream["never"]

    # the same through the command line, text and JSON (JSON lines in, this time)
    lines = tmp_path / "journal.jsonl"
    lines.write_text("".join(json.dumps(e) + "\n" for e in journal))
    assert mock_main(["report", str(lines)]) == 0
    out = capsys.readouterr().out
    assert "never exercised" in out and "fault-stall-mid-stream" in out
    assert mock_main(["report", str(lines), "--json", "-"]) == 0
    assert json.loads(capsys.readouterr().out) == data


CHAT_ROW = "POST /v1/chat/completions"


def test_cli_bad_file_is_a_usage_error(tmp_path, capsys):
    with pytest.raises(SystemExit) as info:
        mock_main(["report", str(tmp_path / "nope.json")])
    assert info.value.code == 2 and "cannot read" in capsys.readouterr().err


def test_pytest_option_reports_the_sessions_traffic(pytester):
    """The option collects every mock app of the run, in-process and live, and writes JSON."""
    pytester.makeini(INI)
    pytester.makepyfile(
        """

        import httpx

        def chat(url, model, fault):
            body = {"model": model, "messages": [{"role": "user", "content": "x"}]}
            headers = {"X-Mock-Fault": fault}
            return httpx.post(url + "/v1/chat/completions", headers=headers, json=body)

        def test_live(mock_server):
            assert chat(mock_server.url, "probe-live", "status=503").status_code == 503

        def test_in_process(respx_mock_server):
            fault = "status=429;retry-after=0"
            assert chat(respx_mock_server.url, "probe-inproc", fault).status_code == 429
        """
    )
    out = pytester.path / "contract.json"
    result = pytester.runpytest("-q", "-p", "no:cacheprovider", f"--hookwire-contract-report={out}")
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(["*hookwire contract coverage*", "*never exercised*"])
    data = json.loads(out.read_text())
    # (keyed by model: a server of the outer run may still journal a late request meanwhile)
    rows = {r["model"]: r for r in data["rows"]}
    assert rows["probe-live"]["hit"] == {"status-5xx": 1}
    assert rows["probe-inproc"]["hit"] == {"status-429": 1, "status-429-retry-after": 1}


def test_pytest_option_off_reports_nothing(pytester):
    pytester.makeini(INI)
    pytester.makepyfile("def test_x(mock_app):\n    assert mock_app.journal is not None\n")
    result = pytester.runpytest("-q", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)
    assert "contract coverage" not in result.stdout.str()


@pytest.mark.slow
def test_pytest_option_merges_xdist_workers(pytester):
    pytester.makeini(INI)
    pytester.makepyfile(
        test_a="""
        import httpx
        def test_a(mock_server):
            assert httpx.get(mock_server + "/v1/models").status_code == 200
        """,
        test_b="""
        import httpx
        def test_b(mock_server):
            r = httpx.get(mock_server + "/v1/models", headers={"X-Mock-Fault": "status=404"})
            assert r.status_code == 404
        """,
    )
    out = pytester.path / "contract.json"
    result = pytester.runpytest_subprocess(
        "-q", "-p", "no:cacheprovider", "-n", "2", f"--hookwire-contract-report={out}"
    )
    result.assert_outcomes(passed=2)
    rows = {r["endpoint"]: r for r in json.loads(out.read_text())["rows"]}
    assert rows["GET /v1/models"]["hit"] == {"status-2xx": 1, "status-404": 1}


# What the report said hookwire's own suite never exercised on the core API endpoints (text
# completions, streamed or not, embeddings; 404 on a chat stream; a stall on a plain chat):
# every failure mode of the catalogue, once per endpoint, with what the mock must answer.
KEY = "sk-contract"  # pragma: allowlist secret
API = {
    "chat": ("/v1/chat/completions", {"messages": MESSAGES}),
    "chat-stream": ("/v1/chat/completions", {"messages": MESSAGES, "stream": True}),
    "completions": ("/v1/completions", {"prompt": "hi"}),
    "completions-stream": ("/v1/completions", {"prompt": "hi", "stream": True}),
    "embeddings": ("/v1/embeddings", {"input": "hi"}),
}
STREAM_FAULTS = {"close-after=2": "eof", "stall-after=1": "timeout", "keepalive-only": "timeout"}
PLAIN_FAULTS = {"close-after=1": "eof", "stall-after=0": "timeout"}  # a plain body: one piece


@pytest.fixture(scope="module")
def guarded():
    with LiveServer(MockConfig(api_key=KEY, max_body=2048)) as server:
        yield server


def _call(server, name, fault=None, key=KEY, model="mock-model", **extra):
    path, body = API[name]
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    if fault:
        headers["X-Mock-Fault"] = fault
    payload = {"model": model, **body, **extra}
    with httpx.Client(base_url=server.url, timeout=httpx.Timeout(5, read=0.3)) as client:
        try:
            with client.stream("POST", path, json=payload, headers=headers) as r:
                pieces, end = [], time.monotonic() + 0.5
                for piece in r.iter_bytes():  # a keep-alive-only stream never ends: give up
                    pieces.append(piece)
                    if time.monotonic() > end:
                        return "timeout", r.headers, b"".join(pieces)
                return r.status_code, r.headers, b"".join(pieces)
        except httpx.RemoteProtocolError:
            return "eof", None, b""
        except httpx.ReadTimeout:
            return "timeout", None, b""


def _error(raw):
    return json.loads(raw)["error"]


@pytest.mark.parametrize("name", list(API))
def test_every_failure_mode_on_every_api_endpoint(guarded, name):
    guarded.reset()
    streaming = name.endswith("-stream")
    status, headers, raw = _call(guarded, name, "status=429;retry-after=2")
    assert (status, headers["retry-after"]) == (429, "2") and _error(raw)["message"]
    status, _, raw = _call(guarded, name, "status=503")
    assert status == 503 and _error(raw)["type"] == "server_error"
    for key in ("sk-wrong", None):  # pragma: allowlist secret
        status, _, raw = _call(guarded, name, key=key)
        assert status == 401 and "API key" in _error(raw)["message"]
    status, _, raw = _call(guarded, name, model="no-such-model")
    assert status == 404 and _error(raw)["code"] == "model_not_found"
    status, _, raw = _call(guarded, name, model="")
    assert status == 400 and _error(raw)["param"] == "model"
    if not streaming:
        status, _, raw = _call(guarded, name, padding="x" * 4096)
        assert status == 413 and "exceeds 2048 bytes" in _error(raw)["message"]
    status, _, raw = _call(guarded, name, "delay=0.01")
    assert status == 200 and raw
    assert _call(guarded, name, "reset-after-body")[0] == "eof"
    for fault, outcome in (STREAM_FAULTS if streaming else PLAIN_FAULTS).items():
        assert _call(guarded, name, fault)[0] == outcome, fault
    if streaming:
        status, _, raw = _call(guarded, name, "malformed-at=1")
        events = [line[6:] for line in raw.split(b"\n") if line.startswith(b"data: ")]
        with pytest.raises(ValueError):
            json.loads(events[1])
        status, _, raw = _call(guarded, name, "no-done")
        assert status == 200 and b"[DONE]" not in raw and raw.count(b"data: ") >= 1
    # the journal then says so: nothing of the catalogue left unexercised on this endpoint
    deadline = time.monotonic() + 10
    while any(e.status in (None, 200) and e.fault_kinds for e in _dropped(guarded)):
        assert time.monotonic() < deadline  # dropped ones turn to status 0 once seen closed
        time.sleep(0.01)
    report = cr.report(cr.Tally().add_all(guarded.journal.entries()))
    never = {(e["endpoint"], e["stream"]): e["never"] for e in report["never_by_endpoint"]}
    path = API[name][0]
    expected = [] if not name.startswith("chat-stream") else _CHAT_STREAM_FEATURES
    assert never[(f"POST {path}", streaming)] == expected


# features of a streamed chat come from what it sends, not from faults: tested above, live
_CHAT_STREAM_FEATURES = [
    "stream-reasoning",
    "stream-tool-calls",
    "stream-usage",
    "stream-error-event",
]


def _dropped(server):
    kinds = {"reset", "cut", "stall"}  # (keep-alive-only ends as the 200 it began as)
    return [e for e in server.journal.entries() if kinds & set(e.fault_kinds)]


def test_hookwire_mock_report_command(tmp_path, capsys):
    from hookwire.cli import main as hookwire_main

    journal = tmp_path / "journal.json"
    journal.write_text(json.dumps([entry(status=503, kinds=["status"], model="m")]))
    assert hookwire_main(["mock", "report", str(journal), "--json", str(tmp_path / "r.json")]) == 0
    out = capsys.readouterr().out
    assert "status-5xx=1" in out and "API endpoints never called" in out
    rows = json.loads((tmp_path / "r.json").read_text())["rows"]
    assert [(r["model"], r["hit"]) for r in rows] == [("m", {"status-5xx": 1})]
    assert hookwire_main(["mock", "report", str(tmp_path / "missing.json")]) == 1
    assert "cannot read" in capsys.readouterr().err
