"""The journal: every request recorded, secrets redacted everywhere it is returned."""

from __future__ import annotations

import httpx

from hookwire.mockserver.journal import Journal

SECRETS = {
    "Authorization": "Bearer sk-live-1",
    "X-Api-Key": "k-2",
    "api-key": "k-3",
    "Cookie": "session=s-4",
    "Proxy-Authorization": "Basic cC01",
}


def test_in_process_and_http_views_redact(mock_server_factory):
    server = mock_server_factory(dialect="siliconflow")
    server.reset()
    body = {
        "model": "mock-model",
        "messages": [{"role": "user", "content": "hi"}],
        "api_key": "sk-in-body",
    }
    httpx.post(server.url + "/v1/chat/completions?x=1", json=body, headers=SECRETS)
    httpx.put(server.url + "/anything", content=b"plain text", headers={"X-Api-Key": "k-2"})
    (first, second) = server.journal.entries()
    assert (first.seq + 1, first.method, first.path, first.query, first.status) == (
        second.seq,
        "POST",
        "/v1/chat/completions",
        "x=1",
        200,
    )
    assert first.body["messages"][0]["content"] == "hi" and first.body_size > 0
    assert second.body == "plain text"
    over_http = httpx.get(server.url + "/__mock__/journal").json()
    for view in (first.to_dict(), over_http[0]):
        for name in SECRETS:
            assert view["headers"][name.lower()] == "[REDACTED]"
    text = httpx.get(server.url + "/__mock__/journal").text + repr(server.journal.entries())
    assert not any(v.split()[-1].split("=")[-1] in text for v in SECRETS.values())
    last = httpx.get(server.url + "/__mock__/last").json()
    assert last["api_key"] == "[REDACTED]" and last["model"] == "mock-model"
    # control endpoints are not journaled themselves
    assert server.journal.count() == 2
    assert httpx.delete(server.url + "/__mock__/journal").status_code == 204
    assert server.journal.count() == 0 and httpx.get(server.url + "/__mock__/journal").json() == []


def test_journal_is_bounded_and_counts_by_path():
    journal = Journal(maxlen=3)
    for i in range(5):
        journal.record("GET", f"/p{i % 2}", "", [(b"authorization", b"x")], b"")
    assert len(journal) == 3 and journal.count("/p0") == 2
    assert [e.seq for e in journal.entries()] == [3, 4, 5]
    assert journal.entries()[0].headers == {"authorization": "[REDACTED]"}


def test_finished_entries_reach_a_tap_and_nothing_else_pays(respx_mock_server):
    """`start_tap` hands every finished entry (status, fault kinds, stream) to the collector;
    off, a journal has no finish callable at all (the app then makes no call)."""
    from hookwire.mockserver import journal as journal_mod

    app = respx_mock_server.app
    assert app.journal.finish is None
    seen: list[dict] = []

    def collect(entry):
        seen.append(entry.to_dict())

    journal_mod.start_tap(collect)
    try:
        assert app.journal.finish is not None and Journal().finish is not None
        body = {"model": "mock-model", "messages": [{"role": "user", "content": "x"}]}
        url = respx_mock_server.url + "/v1/chat/completions"
        httpx.post(url, json=body, headers={"X-Mock-Fault": "status=503;retry-after=2"})
        httpx.post(url, json={**body, "stream": True, "stream_options": {"include_usage": True}})
    finally:
        journal_mod.stop_tap(collect)
    assert app.journal.finish is None
    httpx.get(respx_mock_server.url + "/get")
    assert [(e["status"], e["fault_kinds"]) for e in seen] == [
        (503, ["status", "retry-after"]),
        (200, []),
    ]
    assert seen[0]["stream"] is None
    assert set(seen[1]["stream"]) == {"role", "content", "usage", "done"}
