"""Many workers, one truth: journal, call counters and scenario rules shared through SQLite.

One contract runs against both backends (the in-memory journal and scenario of a single
process, and the SQLite store of `--workers N`, two connections standing for two workers);
then two apps over one store answer a call-numbered fault exactly once; then a real
`--workers 2` server process does it over sockets.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from hookwire.mockserver.app import create_app
from hookwire.mockserver.config import MockConfig
from hookwire.mockserver.faults import FaultSyntaxError
from hookwire.mockserver.journal import Journal
from hookwire.mockserver.scenario import Scenario
from hookwire.mockserver.store import (
    ENV_STORE,
    SharedJournal,
    SharedScenario,
    SQLiteStore,
    shared_store,
)
from hookwire.mockserver.testing import InProcessHandler

HEADERS = [(b"content-type", b"application/json")]


@pytest.fixture(params=["memory", "sqlite"])
def pair(request, tmp_path):
    """(journal, scenario) as seen from two workers: the same objects in memory; two
    connections to one file for SQLite."""
    if request.param == "memory":
        journal, scenario = Journal(), Scenario()
        yield (journal, scenario), (journal, scenario)
        return
    path = tmp_path / "state.sqlite3"
    stores = [SQLiteStore(path), SQLiteStore(path)]
    yield tuple((SharedJournal(s), SharedScenario(s)) for s in stores)
    for store in stores:
        store.close()


def test_journal_contract(pair):
    (a, _), (b, _) = pair
    first = a.record("POST", "/v1/chat/completions", "", HEADERS, b'{"model": "m"}')
    second = b.record("GET", "/get", "x=1", [], b"")
    assert second.seq == first.seq + 1
    first.status, second.status = 200, 404
    for journal, entry in ((a, first), (b, second)):
        if journal.finish is not None:
            journal.finish(entry)
    for journal in (a, b):
        got = [e.to_dict() for e in journal.entries()]
        assert [(e["seq"], e["path"], e["status"]) for e in got] == [
            (first.seq, "/v1/chat/completions", 200),
            (second.seq, "/get", 404),
        ]
        assert got[0]["body"] == {"model": "m"} and got[0]["pid"] == os.getpid()
        assert journal.count() == 2 and journal.count("/get") == 1 and len(journal) == 2
        assert [e.path for e in journal.entries("/get")] == ["/get"]
    a.note_api_request(first)
    assert b.last_json == {"model": "m"}


def test_call_counters_contract(pair):
    (a, _), (b, _) = pair
    assert [a.next_call("s", "/p"), b.next_call("s", "/p"), a.next_call("s", "/p")] == [1, 2, 3]
    assert b.next_call("other", "/p") == 1 and a.next_call("s", "/q") == 1
    assert b.calls[("s", "/p")] == 3
    b.record("GET", "/get", "", [], b"")
    a.clear()
    assert b.count() == 0 and b.entries() == [] and b.next_call("s", "/p") == 1


def test_scenario_contract(pair):
    (_, a), (_, b) = pair
    assert not b and b.match("POST", "/v1/x", "", 1) is None
    a.add({"path": "/v1/*", "calls": "2-3", "status": 503, "retry-after": "1"})
    a.add({"path": "/v1/chat/completions", "content": "scripted"})
    assert b and len(b.rules) == 2
    assert b.match("POST", "/v1/chat/completions", "", 1).content == "scripted"
    rule = b.match("POST", "/v1/embeddings", "", 3)
    assert rule.status == 503 and rule.retry_after == "1" and rule.calls == (2, 3)
    assert b.match("POST", "/v1/embeddings", "", 4) is None
    with pytest.raises(FaultSyntaxError, match="unknown key 'bogus'"):
        b.add({"bogus": 1})
    b.clear()
    assert not a and a.rules == []


def _shared_apps(tmp_path, n=2):
    path = tmp_path / "state.sqlite3"
    apps = []
    for _ in range(n):
        app = create_app(MockConfig())
        store = SQLiteStore(path)
        app.use(SharedJournal(store), SharedScenario(store))
        apps.append(app)
    return apps


def test_two_apps_over_one_store_fail_exactly_the_kth_call(tmp_path):
    """Alternating between two apps: `calls=3` fails the 3rd call overall, not each app's."""
    apps = _shared_apps(tmp_path)
    handlers = [InProcessHandler(app) for app in apps]
    clients = [
        httpx.Client(transport=httpx.MockTransport(h), base_url="http://m") for h in handlers
    ]
    fault = {"X-Mock-Fault": "status=503;calls=3", "X-Mock-Session": "k"}
    with contextlib.ExitStack() as stack:
        for client, handler in zip(clients, handlers, strict=True):
            stack.enter_context(client)
            stack.callback(handler.close)
        statuses = [clients[i % 2].get("/get", headers=fault).status_code for i in range(8)]
        # a rule posted to one app applies on the other
        clients[0].post("/__mock__/scenario", json={"path": "/json", "status": 418})
        teapot = clients[1].get("/json").status_code
        journal = clients[1].get("/__mock__/journal").json()
        cleared = clients[0].delete("/__mock__/journal").status_code
        after = clients[1].get("/__mock__/journal").json()
    assert statuses == [200, 200, 503, 200, 200, 200, 200, 200]
    assert teapot == 418
    assert [e["status"] for e in journal] == [*statuses, 418]
    assert [e["seq"] for e in journal] == sorted(e["seq"] for e in journal)
    assert cleared == 204 and after == []


def test_shared_store_seeds_the_scenario_file_and_is_removed(tmp_path, monkeypatch):
    monkeypatch.delenv(ENV_STORE, raising=False)
    scenario = tmp_path / "s.toml"
    scenario.write_text('[[rule]]\npath = "/get"\ncalls = 2\nstatus = 500\n')
    with shared_store(MockConfig(scenario=str(scenario))) as store:
        path = Path(os.environ[ENV_STORE])
        assert path.exists()
        rules = SharedScenario(SQLiteStore(path)).rules
        assert [(r.path, r.calls, r.status) for r in rules] == [("/get", (2, 2), 500)]
        assert rules[0].source.endswith("s.toml: rule 1")
        assert store.path == str(path)
    assert ENV_STORE not in os.environ and not path.exists() and not path.parent.exists()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def _workers(n: int):
    port = _free_port()
    cmd = [sys.executable, "-m", "hookwire.mockserver", "--port", str(port), "--workers", str(n)]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            assert proc.poll() is None, proc.stderr.read().decode() if proc.stderr else ""
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(url + "/health", timeout=1).status_code == 200:
                    break
            assert time.monotonic() < deadline, "workers did not come up"
            time.sleep(0.05)
        yield url, proc
    finally:
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:  # pragma: no cover - the shutdown backstop ends it
            proc.kill()
            proc.wait()
        if proc.stderr:
            proc.stderr.close()


@pytest.mark.slow
def test_workers_share_journal_counters_and_scenario():
    """`--workers 2`: requests over many connections; the 7th call fails, only it; the journal
    (asked of any worker) holds every request, from both worker processes."""
    tmp = Path(tempfile.gettempdir())
    before = set(tmp.glob("hookwire-mock-store-*"))
    with _workers(2) as (url, proc):
        fault = {"X-Mock-Fault": "status=503;calls=7", "X-Mock-Session": "w"}

        def one(_: int) -> int:
            with httpx.Client(base_url=url, timeout=10) as client:  # a fresh connection each
                return client.get("/get", headers=fault).status_code

        sent: list[int] = []
        with ThreadPoolExecutor(8) as pool:
            # until both workers have answered (the kernel picks who accepts), at most 400
            while len(sent) < 400:
                sent += pool.map(one, range(40))
                pids = {e["pid"] for e in httpx.get(url + "/__mock__/journal").json()}
                if len(pids) == 2:
                    break
        journal = [e for e in httpx.get(url + "/__mock__/journal").json() if e["path"] == "/get"]
        store = set(tmp.glob("hookwire-mock-store-*")) - before
        proc.terminate()
        code = proc.wait(15)
    assert sent.count(503) == 1 and len(sent) >= 40
    assert len(journal) == len(sent)
    assert len({e["pid"] for e in journal}) == 2 and proc.pid not in {e["pid"] for e in journal}
    assert sorted(e["seq"] for e in journal) == [e["seq"] for e in journal]
    failed = [e for e in journal if e["status"] == 503]
    assert len(failed) == 1 and failed[0]["fault_kinds"] == ["status"]
    assert code == 0 and store  # it existed while serving...
    assert not any(p.exists() for p in store)  # ...and is gone
