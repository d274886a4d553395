"""The mock under granian behaves as under uvicorn: one test body per behaviour, both servers.

The one documented difference (``hookwire.mockserver.granian_server``): a fault that closes the
connection before any response is a 501 naming the fault under granian, never a silent 500.
"""

from __future__ import annotations

import json
import signal
import socket
import ssl
import subprocess
import sys
import time

import httpx
import pytest
import requests

from hookwire.mockserver.config import ConfigError, MockConfig
from hookwire.mockserver.granian_server import available
from hookwire.mockserver.pytest_httpbin import server_name, tls_files
from hookwire.mockserver.runner import ThreadedServer
from hookwire.mockserver.server import LiveServer
from tests.mockserver._sse import data_lines

needs_granian = pytest.mark.skipif(not available(), reason="granian is not installed")
SERVERS = ["uvicorn", pytest.param("granian", marks=needs_granian)]
CHAT = {"model": "mock-model", "messages": [{"role": "user", "content": "alpha"}], "stream": True}


@pytest.fixture(scope="module", params=SERVERS)
def live(request):
    with LiveServer(MockConfig(server=request.param)) as server:
        yield server


@pytest.fixture
def srv(live):
    live.reset()
    return live


def _content(text):
    out = []
    for line in data_lines(text):
        if line != "[DONE]":
            out.append(json.loads(line)["choices"][0]["delta"].get("content") or "")
    return "".join(out)


def _statuses(srv, count):
    """The journal's statuses once ``count`` entries are final (a drop is noted as 0 after the
    client has already seen it; an entry still in flight has no status yet)."""
    deadline = time.monotonic() + 10
    while True:
        statuses = [e.status for e in srv.journal.entries()]
        settled = 200 not in statuses and None not in statuses
        if (len(statuses) == count and settled) or time.monotonic() > deadline:
            return statuses
        time.sleep(0.01)


# -- httpbin and openai endpoints -----------------------------------------------------------


def test_httpbin_endpoints(srv):
    with httpx.Client(base_url=srv.url, timeout=5) as c:
        r = c.get("/get", params={"q": "1"}, headers={"X-Custom": "v"})
        assert r.json()["args"] == {"q": "1"} and r.json()["headers"]["X-Custom"] == "v"
        assert c.post("/post", json={"k": [1]}).json()["json"] == {"k": [1]}
        assert c.get("/gzip").json()["gzipped"] is True
        assert c.get("/status/418").status_code == 418
        r = c.get("/redirect/3", follow_redirects=True)
        assert (r.status_code, len(r.history)) == (200, 3)
        assert len(c.get("/bytes/100000").content) == 100_000
        lines = c.get("/stream/5").text.splitlines()
        assert [json.loads(line)["id"] for line in lines] == [0, 1, 2, 3, 4]
        assert c.head("/get").content == b""
    with requests.Session() as s:
        s.get(srv.join("/cookies/set"), params={"a": "1"}, timeout=5)
        assert s.get(srv.join("/cookies"), timeout=5).json() == {"cookies": {"a": "1"}}
    assert srv.journal.count(path="/get") == 3  # the redirects end at /get


def test_sse_chat_stream(srv):
    with (
        httpx.Client(timeout=5) as c,
        c.stream("POST", srv.openai_base_url + "/chat/completions", json=CHAT) as r,
    ):
        assert r.headers["content-type"].startswith("text/event-stream")
        chunks = list(r.iter_text())
    text = "".join(chunks)
    assert _content(text) == "Echo: alpha"
    assert text.rstrip().endswith("data: [DONE]")


def test_the_openai_client(srv):
    openai = pytest.importorskip("openai")
    client = openai.OpenAI(
        base_url=srv.openai_base_url, api_key="k", max_retries=0
    )  # pragma: allowlist secret
    reply = client.chat.completions.create(model="mock-model", messages=CHAT["messages"])
    assert reply.choices[0].message.content == "Echo: alpha"


# -- faults ---------------------------------------------------------------------------------


def test_status_fault_with_retry_after(srv):
    r = httpx.get(srv.join("/get"), headers={"X-Mock-Fault": "status=503;retry-after=7"})
    assert (r.status_code, r.headers["retry-after"]) == (503, "7")


def test_close_after_mid_stream_is_an_eof_inside_the_body(srv):
    headers = {"X-Mock-Fault": "close-after=2"}
    with pytest.raises(httpx.RemoteProtocolError):
        httpx.post(srv.openai_base_url + "/chat/completions", json=CHAT, headers=headers)
    with pytest.raises(requests.exceptions.ChunkedEncodingError):
        requests.get(srv.join("/stream/20"), headers=headers, timeout=5)
    with pytest.raises(requests.exceptions.ChunkedEncodingError):  # a fixed-length body
        requests.get(srv.join("/bytes/50000"), headers={"X-Mock-Fault": "close-after=1"}, timeout=5)
    assert _statuses(srv, 3) == [0, 0, 0]  # each journaled as a drop


def test_stall_after_is_silence_until_the_read_timeout(srv):
    headers = {"X-Mock-Fault": "stall-after=2"}
    with (
        pytest.raises(httpx.ReadTimeout),
        httpx.stream("GET", srv.join("/stream/20"), headers=headers, timeout=0.3) as r,
    ):
        for _ in r.iter_lines():
            pass
    with pytest.raises(httpx.ReadTimeout):
        httpx.get(srv.join("/get"), headers={"X-Mock-Fault": "delay=1"}, timeout=0.2)


def test_keepalive_only_and_malformed_chunks(srv):
    url = srv.openai_base_url + "/chat/completions"
    with httpx.stream(
        "POST", url, json=CHAT, headers={"X-Mock-Fault": "keepalive-only"}, timeout=5
    ) as r:
        lines = r.iter_lines()
        assert [next(lines) for _ in range(3)] == [": keep-alive", "", ": keep-alive"]
    r = httpx.post(url, json=CHAT, headers={"X-Mock-Fault": "malformed-at=1"}, timeout=5)
    payloads = [line for line in data_lines(r.text) if line != "[DONE]"]
    assert any(not p.startswith("{") or not p.endswith("}") for p in payloads)


def test_a_drop_before_any_response_is_an_eof_or_a_501_that_says_why(srv):
    for fault in ("reset-after-body", "close-after=0"):
        headers = {"X-Mock-Fault": fault}
        if srv.config.server == "uvicorn":
            with pytest.raises(httpx.RemoteProtocolError):
                httpx.get(srv.join("/get"), headers=headers, timeout=5)
            continue
        r = httpx.get(srv.join("/get"), headers=headers, timeout=5)
        assert (r.status_code, r.headers["x-mock-unsupported"]) == (501, "granian")
        assert fault in r.json()["error"] and "uvicorn" in r.json()["error"]
    assert _statuses(srv, 2) == [0, 0]  # journaled as drops


# -- TLS (the pytest-httpbin drop-ins) ------------------------------------------------------


@pytest.mark.parametrize("server", SERVERS)
def test_tls_verifies_with_the_ca_and_fails_without(server):
    ca, chain, key = tls_files()
    with ThreadedServer(ssl_certfile=chain, ssl_keyfile=key, server=server) as srv:
        assert srv.url.startswith("https://")
        assert requests.get(srv.join("/get"), verify=ca, timeout=5).status_code == 200
        assert httpx.get(srv.join("/get"), verify=ssl.create_default_context(cafile=ca)).is_success
        with pytest.raises(requests.exceptions.SSLError):
            requests.get(srv.join("/get"), timeout=5)


@needs_granian
def test_mutual_tls_lets_a_client_with_a_certificate_in_and_no_other(tmp_path):
    # (uvicorn's half is tests/contract/test_transport_mtls.py, on every transport)
    trustme = pytest.importorskip("trustme")
    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1")
    client = ca.issue_cert("client.hookwire.test")
    paths = {name: str(tmp_path / f"{name}.pem") for name in ("ca", "chain", "key", "client")}
    ca.cert_pem.write_to_path(paths["ca"])
    cert.private_key_pem.write_to_path(paths["key"])
    with open(paths["chain"], "wb") as chain:
        for blob in cert.cert_chain_pems:
            chain.write(blob.bytes())
    client.private_key_and_cert_chain_pem.write_to_path(paths["client"])
    with ThreadedServer(
        ssl_certfile=paths["chain"],
        ssl_keyfile=paths["key"],
        ssl_ca_certs=paths["ca"],
        ssl_cert_reqs=ssl.CERT_REQUIRED,
        server="granian",
    ) as srv:
        r = requests.get(srv.join("/get"), verify=paths["ca"], cert=paths["client"], timeout=5)
        assert r.status_code == 200
        with pytest.raises(requests.exceptions.RequestException):
            requests.get(srv.join("/get"), verify=paths["ca"], timeout=5)


def test_the_drop_ins_take_the_server_from_the_environment(monkeypatch):
    monkeypatch.delenv("HOOKWIRE_MOCK_SERVER", raising=False)
    assert server_name() == "uvicorn"
    monkeypatch.setenv("HOOKWIRE_MOCK_SERVER", "granian")
    assert server_name() == "granian"


def test_without_granian_the_error_names_the_extra():
    code = (
        "import sys; sys.modules['granian'] = None\n"
        "from hookwire.mockserver.server import LiveServer\n"
        "from hookwire.mockserver.config import MockConfig\n"
        "try:\n"
        "    LiveServer(MockConfig(server='granian'))\n"
        "except ImportError as exc:\n"
        "    print(exc)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert "pip install 'hookwire[granian]'" in out.stdout


def test_the_command_line_refuses_an_unknown_server():
    from hookwire.mockserver.cli import config_from_args

    assert config_from_args(["--server", "granian"]).server == "granian"
    with pytest.raises(SystemExit) as info:
        config_from_args(["--server", "hypercorn"])
    assert info.value.code == 2


def test_an_unknown_server_is_refused_by_name():
    with pytest.raises(
        ConfigError, match="server must be one of uvicorn, granian, not 'hypercorn'"
    ):
        MockConfig(server="hypercorn")
    with pytest.raises(ValueError, match="server must be one of"):
        ThreadedServer(server="hypercorn")


# -- shutdown and leaks ---------------------------------------------------------------------


LEAK_PROBE = """
import os, threading, httpx
from hookwire.mockserver.config import MockConfig
from hookwire.mockserver.server import LiveServer

def threads():
    return len(os.listdir("/proc/self/task"))

before = threads()
server = LiveServer(MockConfig(server="granian")).start()
streaming, outcome = threading.Event(), []

def hold():
    try:
        with httpx.stream("GET", server.join("/stream/20"), timeout=30,
                          headers={"X-Mock-Fault": "stall-after=2"}) as r:
            for _ in r.iter_bytes():
                streaming.set()
    except httpx.HTTPError as exc:
        outcome.append(type(exc).__name__)
    streaming.set()

holder = threading.Thread(target=hold)
holder.start()
assert streaming.wait(10)
server.stop()
holder.join(10)
try:
    httpx.get(server.join("/get"), timeout=2)
except httpx.ConnectError:
    outcome.append("refused")
server.stop()
print(outcome, threads() - before, sorted(t.name for t in threading.enumerate()))
left = LiveServer(MockConfig(server="granian")).start()  # never stopped: atexit stops it
assert httpx.get(left.join("/get"), timeout=5).status_code == 200
"""


@pytest.mark.slow
@needs_granian
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="counts threads in /proc")
def test_stop_ends_open_streams_leaves_no_thread_and_the_process_exits_cleanly():
    # In a fresh process: nothing else's threads, and an exit that a live Rust thread would abort.
    out = subprocess.run(
        [sys.executable, "-c", LEAK_PROBE], capture_output=True, text=True, timeout=60, check=False
    )
    # 134 (abort) if granian's runtime outlived stop(), or a server left running outlived exit
    assert out.returncode == 0, out.stderr
    # the open stream ended (after the 2 s grace, as uvicorn's), the port closed, no thread left
    assert out.stdout.split("\n")[0] == "['RemoteProtocolError', 'refused'] 0 ['MainThread']"
    assert "Traceback" not in out.stderr


@needs_granian
def test_a_port_in_use_is_a_start_error_naming_it():
    from hookwire.mockserver.runner import ServerStartError

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(ServerStartError, match=str(port)):
            LiveServer(MockConfig(server="granian", port=port)).start()


@pytest.mark.slow
@needs_granian
def test_python_m_mockserver_granian_serves_and_exits_0_on_sigterm():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    proc = subprocess.Popen(
        [sys.executable, "-m", "hookwire.mockserver", "--server", "granian", "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                r = httpx.post(
                    f"http://127.0.0.1:{port}/v1/chat/completions",
                    json={**CHAT, "stream": False},
                    timeout=2,
                )
                break
            except httpx.TransportError:
                assert proc.poll() is None and time.monotonic() < deadline
                time.sleep(0.1)
        assert r.json()["choices"][0]["message"]["content"] == "Echo: alpha"
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=15)
        assert proc.returncode == 0, err
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate(timeout=5)
    assert b"server=granian" in err
