"""requests reaches the mock app in-process (``ASGIAdapter``): no socket, same behaviour.

Three parts: plain ``requests`` through the ``requests_mock_server`` fixture, compared fault by
fault with the same calls over a socket to the live server; hookwire's requests transport with
the adapter mounted through ``transport_options``; and a part of the transport contract suite
(``tests/contract/test_transport_contract.py``, the same test bodies) run in-process over
requests (this adapter) and over httpx (respx, the ``respx_mock_server`` fixture).
"""

from __future__ import annotations

import json
import threading

import pytest
import requests

import hookwire
from hookwire import errors
from hookwire.mockserver.app import create_app
from hookwire.mockserver.asgi_requests import ASGIAdapter
from tests._transport_cases import Case, Harness

# The contract bodies below run here again, on the in-process cases of this module's fixtures.
from tests.contract.test_transport_contract import (  # noqa: F401
    test_303_turns_post_into_get_without_body,
    test_basic_and_bearer_auth,
    test_body_size_limit_stops_a_large_body,
    test_broken_stream_raises_a_mapped_error_while_iterating,
    test_compressed_bodies_are_decoded,
    test_control_characters_are_rejected_before_sending,
    test_cookies_persist_across_calls,
    test_digest_auth,
    test_dropped_connection_is_a_read_error_and_retried,
    test_file_body_goes_with_content_length_and_generator_body_chunked,
    test_first_byte_bounds_the_wait_for_headers,
    test_get_returns_status_reason_version_headers_and_body,
    test_head_has_no_body,
    test_json_form_and_multipart_bodies,
    test_only_the_requests_own_headers_reach_the_wire,
    test_post_is_not_retried_without_opt_in,
    test_redirects_are_followed_with_history,
    test_repeated_request_headers_are_sent_as_separate_lines,
    test_repeated_response_headers_are_all_kept,
    test_retries_exhausted_raise_retry_error_with_last_response,
    test_retry_on_status_then_success_counts_attempts,
    test_slow_headers_raise_read_timeout,
    test_stalled_stream_raises_read_timeout,
    test_streamed_lines_and_bytes,
    test_too_many_redirects,
)

CHAT = {"model": "mock-model", "messages": [{"role": "user", "content": "alpha"}], "stream": True}

IN_PROCESS = [
    pytest.param(Case("requests", False), id="requests-inprocess"),
    pytest.param(Case("httpx", False), id="httpx-sync-inprocess"),
    pytest.param(Case("httpx", True), id="httpx-async-inprocess"),
]


@pytest.fixture(params=IN_PROCESS)
def case(request):
    return request.param


@pytest.fixture
def server(case, request):
    """The in-process server of the case: the requests adapter, or respx for httpx."""
    name = "requests_mock_server" if case.transport == "requests" else "respx_mock_server"
    return request.getfixturevalue(name)


@pytest.fixture
def make_client(case, server):
    made = []

    def factory(**kwargs):
        if case.transport == "requests":
            kwargs.setdefault("transport_options", server.transport_options)
        harness = Harness(case, **kwargs)
        made.append(harness)
        return harness

    yield factory
    for harness in made:
        harness.close()


def _content(lines):
    out = []
    for line in lines:
        if line.startswith("data: ") and line != "data: [DONE]":
            delta = json.loads(line[6:])["choices"][0]["delta"]
            out.append(delta.get("content") or "")
    return "".join(out)


# -- the contract suite's habits, in-process -------------------------------------------------


def test_an_sse_chat_stream_arrives_line_by_line(make_client, server):
    _, lines = make_client().stream(
        "POST", server.join("/v1/chat/completions"), json=CHAT, lines=True
    )
    assert _content(lines) == "Echo: alpha"
    assert [line for line in lines if line][-1] == "data: [DONE]"
    assert server.journal.count(path="/v1/chat/completions") == 1


def test_an_sse_chat_through_hookwire_llm(requests_mock_server):
    server = requests_mock_server
    llm = hookwire.LLM(
        "openai",
        base_url=server.openai_base_url,
        model="mock-model",
        api_key="k",  # pragma: allowlist secret
        transport="requests",
        transport_options=server.transport_options,
    )
    try:
        pieces = [d.content for d in llm.stream("alpha") if d.content]
    finally:
        llm.close()
    assert "".join(pieces) == "Echo: alpha"


# -- plain requests: the same as over a socket -----------------------------------------------


def _outcome(session, base, method, path, **kwargs):
    """What a plain requests call ends in: (status, body) or the exception's type name."""
    try:
        r = session.request(method, base + path, timeout=kwargs.pop("timeout", 5), **kwargs)
    except requests.RequestException as exc:
        return type(exc).__name__
    return r.status_code, r.content


FAULTS = [
    ("GET", "/get", {"X-Mock-Fault": "status=503;retry-after=7"}),
    ("GET", "/get", {"X-Mock-Fault": "close-after=0"}),
    ("GET", "/get", {"X-Mock-Fault": "reset-after-body"}),
    ("GET", "/stream/20", {"X-Mock-Fault": "close-after=2"}),
    ("GET", "/bytes/50000?seed=1", {"X-Mock-Fault": "close-after=1"}),
    ("GET", "/stream/20", {"X-Mock-Fault": "stall-after=2"}),
    ("GET", "/get", {"X-Mock-Fault": "delay=1"}),
    ("POST", "/v1/chat/completions", {"X-Mock-Fault": "malformed-at=1"}),
    ("POST", "/v1/chat/completions", {"X-Mock-Fault": "stall-after=1"}),
    ("POST", "/v1/chat/completions", {"X-Mock-Fault": "close-after=3"}),
]


@pytest.mark.parametrize(("method", "path", "headers"), FAULTS, ids=lambda v: str(v))
def test_a_fault_ends_as_it_does_over_a_socket(
    mock_server, requests_mock_server, method, path, headers
):
    kwargs = {"headers": headers, "timeout": 0.3}
    if method == "POST":
        kwargs["json"] = CHAT
    with requests.Session() as session:
        over_socket = _outcome(session, mock_server.url, method, path, **dict(kwargs))
        in_process = _outcome(session, requests_mock_server.url, method, path, **dict(kwargs))
    if isinstance(over_socket, tuple):  # bodies carry ids and times: compare the shape
        assert isinstance(in_process, tuple) and in_process[0] == over_socket[0]
        assert len(in_process[1]) == len(over_socket[1]) or path.startswith("/v1/")
    else:
        assert in_process == over_socket
    assert requests_mock_server.journal.count() == 1


def test_plain_requests_functions_reach_the_app(requests_mock_server):
    r = requests.get(requests_mock_server.join("/get"), params={"q": "1"}, timeout=5)
    assert r.json()["args"] == {"q": "1"}
    assert r.json()["url"] == requests_mock_server.url + "/get?q=1"
    r = requests.post(requests_mock_server.join("/post"), json={"k": [1]}, timeout=5)
    assert r.json()["json"] == {"k": [1]}
    with requests.Session() as s:
        s.get(requests_mock_server.join("/cookies/set"), params={"a": "1"}, timeout=5)
        assert s.get(requests_mock_server.join("/cookies"), timeout=5).json() == {
            "cookies": {"a": "1"}
        }
    assert requests_mock_server.journal.count() == 5  # the redirect of cookies/set included


def test_an_endless_stream_is_read_as_it_is_made(requests_mock_server):
    # keepalive-only never ends: only a body read as it is produced can show its first lines
    url = requests_mock_server.join("/v1/chat/completions")
    headers = {"X-Mock-Fault": "keepalive-only"}
    with requests.post(url, json=CHAT, headers=headers, stream=True, timeout=5) as r:
        lines = r.iter_lines()
        assert [next(lines) for _ in range(3)] == [b": keep-alive", b"", b": keep-alive"]
    (entry,) = requests_mock_server.journal.entries()
    assert entry.fault == "keepalive-only"


def test_both_fixtures_share_one_app(requests_mock_server, respx_mock_server):
    import httpx

    assert requests_mock_server.app is respx_mock_server.app
    requests.get(requests_mock_server.join("/get"), timeout=5)
    httpx.get(respx_mock_server.join("/get"), timeout=5)
    assert requests_mock_server.journal.count(path="/get") == 2


def test_the_adapter_alone_and_its_thread_ends_on_close():
    before = {t.name for t in threading.enumerate()}
    adapter = ASGIAdapter(create_app())
    with requests.Session() as s:
        s.mount("http://app.invalid", adapter)
        assert s.get("http://app.invalid/status/201", timeout=5).status_code == 201
        assert "mockserver-asgi-requests" in {t.name for t in threading.enumerate()}
        # a stream left open when the adapter closes is dropped, not leaked
        r = s.get("http://app.invalid/drip?duration=30&numbytes=30", stream=True, timeout=5)
        adapter.close()
        with pytest.raises(requests.exceptions.ChunkedEncodingError):
            r.content  # noqa: B018
        with pytest.raises(requests.exceptions.ConnectionError, match="closed"):
            s.get("http://app.invalid/get", timeout=5)
    assert {t.name for t in threading.enumerate()} <= before


def test_the_adapter_refuses_what_is_not_http():
    adapter = ASGIAdapter(create_app())
    try:
        with requests.Session() as s:
            s.mount("ftp://", adapter)
            with pytest.raises(requests.exceptions.InvalidURL, match="not an http"):
                s.get("ftp://app.invalid/x", timeout=5)
    finally:
        adapter.close()


# -- hookwire's requests transport: transport_options["mounts"] ------------------------------


def test_mounts_send_the_prefix_through_the_adapter_and_the_rest_to_the_pool(
    requests_mock_server, mock_server
):
    with hookwire.Client(
        transport="requests", transport_options=requests_mock_server.transport_options
    ) as client:
        assert client.get(requests_mock_server.join("/get")).status_code == 200
        mock_server.reset()
        assert client.get(mock_server.join("/get")).status_code == 200  # over the socket
    assert requests_mock_server.journal.count(path="/get") == 1
    assert mock_server.journal.count(path="/get") == 1


@pytest.mark.parametrize(
    ("mounts", "message"),
    [
        (["http://x"], "must be a dict"),
        ({"http://x": object()}, r"\['http://x'\] must be a requests adapter"),
        ({b"http://x": None}, "a prefix must be a str"),
    ],
)
def test_bad_mounts_are_a_type_error_naming_the_option(mounts, message):
    client = hookwire.Client(transport="requests", transport_options={"mounts": mounts})
    with client, pytest.raises(TypeError, match=message):
        client.get("http://x/get")


def test_a_mounted_adapter_error_is_mapped_like_any_other(requests_mock_server):
    options = requests_mock_server.transport_options
    client = hookwire.Client(transport="requests", transport_options=options)
    with client, pytest.raises(errors.ReadError):
        client.get(requests_mock_server.join("/get"), headers={"X-Mock-Fault": "close-after=0"})
