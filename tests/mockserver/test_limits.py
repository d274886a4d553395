"""One test cannot knock the mock server over (issue 10, class 7).

Every request is bounded by a documented cap (docs/mockserver.md, "Limits"): past one, the
dialect's 400 names it. Deep JSON is a 400, not a 500; a CR/LF in a redirect target is a 400,
not a dropped connection; a large stream leaves the event loop to other requests; SIGTERM stops
a real server process in the middle of one. Each request here is just over its cap, so the same
request on a mock without the cap is answered (slowly, and big) instead, and the test fails.
"""

from __future__ import annotations

import contextlib
import json
import signal
import socket
import subprocess
import sys
import threading
from typing import Any

import httpx
import pytest

from hookwire.mockserver.limits import Limits
from tests._serve_process import free_port, wait_until_serving

CHAT = "/v1/chat/completions"
MSGS = [{"role": "user", "content": "hi"}]
GUARD = 60.0  # seconds: bounds a hang, never a measurement


@pytest.fixture(params=["openai", "vllm"])
def server(request: pytest.FixtureRequest, mock_server_factory: Any) -> Any:
    return mock_server_factory(dialect=request.param)


def post(server: Any, path: str, body: Any, headers: dict[str, str] | None = None) -> Any:
    return httpx.post(server.url + path, json=body, headers=headers, timeout=GUARD)


def assert_cap(server: Any, response: httpx.Response, cap: str, param: str | None = None) -> None:
    """A 400 in the dialect's error shape whose message names the cap."""
    assert response.status_code == 400, response.text[:300]
    error = response.json()["error"]
    assert set(error) == {"message", "type", "param", "code"}
    assert f"limit {cap}=" in error["message"], error["message"]
    assert error["param"] == param
    if server.config.dialect == "vllm":
        assert (error["type"], error["code"]) == ("BadRequestError", 400)
    else:
        assert (error["type"], error["code"]) == ("invalid_request_error", None)


def schema_format(schema: dict[str, Any]) -> dict[str, Any]:
    return {"type": "json_schema", "json_schema": {"name": "x", "schema": schema}}


def tool(parameters: dict[str, Any], name: str = "f") -> dict[str, Any]:
    return {"type": "function", "function": {"name": name, "parameters": parameters}}


def nested_arrays(levels: int) -> dict[str, Any]:
    """`levels` arrays of two: 2**levels leaves from a schema of a few hundred bytes."""
    schema: dict[str, Any] = {"type": "integer"}
    for _ in range(levels):
        schema = {"type": "array", "minItems": 2, "items": schema}
    return schema


def deep(levels: int) -> Any:
    value: Any = 1
    for _ in range(levels):
        value = [value]
    return value


CHAT_CAPS = [
    pytest.param({"n": 129}, {}, "n", "n", id="n"),
    pytest.param({"n": 3}, {"X-Mock-Reply-Tokens": "1000000"}, "generated_tokens", "n",
                 id="n-x-reply-tokens"),
    pytest.param({"n": 128, "messages": [{"role": "user", "content": "word " * 16_000}]}, {},
                 "generated_tokens", "n", id="n-x-echo"),
    pytest.param({}, {"X-Mock-Reply-Tokens": "1000001"}, "reply_tokens", None, id="reply-tokens"),
    pytest.param({"stop": [f"s{i}" for i in range(17)]}, {}, "stop", "stop", id="stop"),
    pytest.param({"tools": [tool({"type": "object"}, f"t{i}") for i in range(129)]}, {},
                 "tools", "tools", id="tools"),
    pytest.param({"metadata": deep(129)}, {}, "json_depth", None, id="json-depth"),
    pytest.param({"response_format": schema_format({"type": "string", "minLength": 1_000_001})},
                 {}, "schema_chars", "response_format", id="schema-minLength"),
    pytest.param({"tool_choice": "required", "tools": [tool({
        "type": "object", "required": ["a"],
        "properties": {"a": {"type": "array", "minItems": 100_001}}})]},
        {}, "schema_values", "tools", id="schema-minItems"),
    pytest.param({"response_format": schema_format(nested_arrays(17))}, {}, "schema_values",
                 "response_format", id="schema-values-doubling"),
    pytest.param({"response_format": schema_format({
        "$defs": {"n": {"type": "object", "required": ["a"],
                        "properties": {"a": {"$ref": "#/$defs/n"}}}},
        "$ref": "#/$defs/n"})}, {}, "schema_depth", "response_format", id="schema-depth"),
]  # fmt: skip


@pytest.mark.parametrize(("extra", "headers", "cap", "param"), CHAT_CAPS)
@pytest.mark.parametrize("stream", [False, True], ids=["json", "stream"])
def test_chat_caps_are_the_dialects_400(server, extra, headers, cap, param, stream):
    body = {"model": "mock-model", "messages": MSGS, "stream": stream, **extra}
    assert_cap(server, post(server, CHAT, body, headers), cap, param)


OTHER_CAPS = [
    pytest.param("/v1/embeddings", {"input": ["x"] * 2049}, "inputs", "input", id="inputs"),
    pytest.param("/v1/embeddings", {"input": ["x"] * 257, "dimensions": 8192},
                 "embedding_values", "input", id="embedding-values"),
    pytest.param("/v1/completions", {"prompt": ["p"] * 2049}, "inputs", "prompt", id="prompts"),
    pytest.param("/v1/completions", {"prompt": ["p"] * 17, "n": 128}, "choices", "n",
                 id="choices"),
    pytest.param("/v1/completions", {"prompt": "p", "n": 129}, "n", "n", id="completions-n"),
]  # fmt: skip


@pytest.mark.parametrize(("path", "extra", "cap", "param"), OTHER_CAPS)
def test_embeddings_and_completions_caps_are_the_dialects_400(server, path, extra, cap, param):
    assert_cap(server, post(server, path, {"model": "mock-model", **extra}), cap, param)


def test_a_cap_is_a_config_option(mock_server_factory):
    lower = mock_server_factory(limits=Limits(reply_tokens=10))
    r = post(lower, CHAT, {"model": "mock-model", "messages": MSGS}, {"X-Mock-Reply-Tokens": "11"})
    assert_cap(lower, r, "reply_tokens")
    higher = mock_server_factory(limits=Limits(n=256))
    r = post(higher, CHAT, {"model": "mock-model", "messages": MSGS, "n": 200})
    assert r.status_code == 200 and len(r.json()["choices"]) == 200


def test_a_cap_refuses_what_is_over_it_and_nothing_less(server):
    body = {"model": "mock-model", "messages": MSGS, "n": 3}
    at_cap = post(server, CHAT, body, {"X-Mock-Reply-Tokens": "666666"})  # 1,999,998 tokens
    assert at_cap.status_code == 200 and at_cap.json()["usage"]["completion_tokens"] == 1_999_998
    over = post(server, CHAT, body, {"X-Mock-Reply-Tokens": "666667"})  # 2,000,001
    assert_cap(server, over, "generated_tokens", "n")
    # a top-level array: itself and its items are the instance's values
    schema = {"type": "array", "minItems": 99_999, "items": {"type": "integer"}}
    body = {"model": "mock-model", "messages": MSGS, "response_format": schema_format(schema)}
    content = post(server, CHAT, body).json()["choices"][0]["message"]["content"]
    assert json.loads(content) == [0] * 99_999
    schema["minItems"] = 100_000
    assert_cap(server, post(server, CHAT, body), "schema_values", "response_format")


@pytest.mark.parametrize("path", [CHAT, "/v1/embeddings", "/tokenize"])
def test_json_nested_100k_deep_is_a_400_not_a_500(server, path):
    raw = b"[" * 100_000 + b"]" * 100_000
    headers = {"content-type": "application/json"}
    r = httpx.post(server.url + path, content=raw, headers=headers, timeout=GUARD)
    assert_cap(server, r, "json_depth")
    # the journal, which decodes what it recorded, still answers
    assert httpx.get(server.url + "/__mock__/journal", timeout=GUARD).status_code == 200


def test_httpbin_echo_of_deep_json_is_a_400(mock_server):
    raw = b'{"a":' * 100_000 + b"1" + b"}" * 100_000
    r = httpx.post(mock_server.url + "/post", content=raw, timeout=GUARD,
                   headers={"content-type": "application/json"})  # fmt: skip
    assert r.status_code == 400 and "json_depth" in r.text


@pytest.mark.parametrize(
    "path",
    [
        "/redirect-to?url=http://example.com/%0d%0aSet-Cookie:%20a=b",
        "/redirect-to?url=http://example.com/%0a",
        "/redirect-to?url=http://example.com/%00",
        "/redirect-to?url=/x%0d%0a&status_code=307",
        "/response-headers?X-Thing=a%01b",
        "/cookies/set?a%0d%0ab=c",
        "/etag/a%0d%0ab",
    ],
)
def test_a_control_character_bound_for_a_header_is_a_400_not_a_dropped_connection(
    mock_server, path
):
    r = httpx.get(mock_server.url + path, timeout=GUARD)
    assert r.status_code == 400 and "control character" in r.text
    assert httpx.get(mock_server.url + "/get", timeout=GUARD).status_code == 200


class FastReader:
    """Reads a response as fast as the kernel hands it over, in a thread: the server never has
    to wait for this client, so nothing but the server itself gives its loop to others."""

    def __init__(self, port: int, path: str, body: dict[str, Any], headers: dict[str, str]):
        content = json.dumps(body).encode()
        head = f"POST {path} HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\n"
        head += f"content-length: {len(content)}\r\n"
        head += "".join(f"{k}: {v}\r\n" for k, v in headers.items())
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=GUARD)
        self.sock.sendall(head.encode() + b"\r\n" + content)
        self.started = threading.Event()
        self.done = threading.Event()
        self.completed = False  # saw the stream's `data: [DONE]`
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self) -> None:
        tail = b""
        try:
            while data := self.sock.recv(1 << 20):
                self.started.set()
                tail = (tail + data)[-64:]
                if b"data: [DONE]" in tail:
                    self.completed = True
                    break
        except OSError:
            pass
        finally:
            self.done.set()

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.sock.shutdown(socket.SHUT_RDWR)
        self.sock.close()
        self.thread.join(GUARD)


BIG_STREAM = {"model": "mock-model", "messages": MSGS, "stream": True}
MILLION = {"X-Mock-Reply-Tokens": "1000000"}


def test_health_answers_while_a_large_allowed_stream_is_served(mock_server):
    reader = FastReader(mock_server.port, CHAT, BIG_STREAM, MILLION)
    try:
        assert reader.started.wait(GUARD), "the stream never started"
        assert httpx.get(mock_server.url + "/health", timeout=GUARD).status_code == 200
        assert not reader.done.is_set(), "/health waited for the whole stream"
    finally:
        reader.close()


def test_sigterm_stops_the_server_process_in_the_middle_of_a_stream():
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "hookwire.mockserver", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    reader = None
    try:
        wait_until_serving(proc, f"http://127.0.0.1:{port}/health")
        reader = FastReader(port, CHAT, {**BIG_STREAM, "n": 2}, MILLION)  # 2M tokens: long
        assert reader.started.wait(GUARD), "the stream never started"
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0  # a generous guard: it takes about 2 s
        assert reader.done.wait(GUARD) and not reader.completed  # stopped mid-stream
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        if reader is not None:
            reader.close()
        assert proc.stderr is not None
        proc.stderr.close()
