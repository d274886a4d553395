"""Run examples/http_tutorial.py against the bundled mock server, once per transport.

The example returns what it observed; these tests check those values against what the server's
journal recorded and against values computed here independently (the Basic header, the JSON
body bytes), so a transport that silently drops a header, a body or a retry fails.
"""

from __future__ import annotations

import asyncio
import base64
import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

import hookwire

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "http_tutorial.py"


def _load_example() -> ModuleType:
    spec = importlib.util.spec_from_file_location("http_tutorial", EXAMPLE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


tutorial = _load_example()


def _statuses(server: Any, path: str, **where: str) -> list[int | None]:
    return [
        e.status
        for e in server.journal.entries(path)
        if all(e.headers.get(k) == v for k, v in where.items())
    ]


@pytest.fixture
def server(mock_server: Any) -> Any:
    mock_server.reset()
    return mock_server


@pytest.mark.network
@pytest.mark.parametrize("transport", ["requests", "httpx", "native"])
def test_tutorial_sync(server: Any, transport: str, capsys: pytest.CaptureFixture[str]) -> None:
    seen = tutorial.main(server.url, transport=transport, async_transport=None)

    # 1. status code, truthiness, raise_for_status over a good and a bad URL
    assert seen["status"] == 200 and seen["truthy"] is True and seen["falsy_404"] is False
    assert seen["raise_for_status"] == {"/get": "success", "/status/404": "HTTPStatusError 404"}
    # the body three ways; the encoding setter really changes how .text decodes
    assert seen["content_is_bytes"] and seen["text_matches_content"]
    assert seen["latin1_text_differs"] is True and seen["header_encoding"] == "utf-8"
    assert seen["json_type"] == "dict"
    assert seen["content_type"] == seen["content_type_any_case"] == "application/json"

    # 2. params are percent-encoded into the URL, and the server decoded them back
    assert seen["params_url"] == f"{server.url}/get?q=%22real+python%22"
    assert seen["params_echo"] == {"q": '"real python"'}
    assert seen["accept_echo"] == "application/vnd.github.text-match+json"

    # 3. all seven methods plus request("GET"), each as the server recorded it
    assert set(seen["methods"].values()) == {200}
    assert seen["sent_methods"]["request(GET)"] == "GET"
    journal_methods = {e.method for e in server.journal.entries()}
    assert {"GET", "POST", "PUT", "DELETE", "HEAD", "PATCH", "OPTIONS"} <= journal_methods
    assert seen["head_body"] == b""
    assert "OPTIONS" in seen["options_allow"]
    assert seen["put_form_echo"] == {"key": "value"}

    # 4. form bodies (dict, list of pairs with a repeated key) and a JSON body
    assert seen["form_dict"] == {"key": "value"}
    assert seen["form_pairs"] == {"key": ["value", "other"]}
    assert seen["form_body"] == b"key=value&key=other"
    assert seen["form_content_type"] == "application/x-www-form-urlencoded"
    assert json.loads(seen["json_data_echo"]) == {"key": "value"} == seen["json_echo"]
    assert seen["json_content_type_echo"] == "application/json"

    # 5. the prepared request: the tutorial's exact outputs (requests' PreparedRequest)
    assert seen["prepared_content_type"] == "application/json"
    assert seen["prepared_url"] == f"{server.url}/post"
    assert seen["prepared_body"] == b'{"key": "value"}'
    assert seen["server_saw_body"].encode() == seen["prepared_body"]

    # 6. Basic: the SDK's header equals the tutorial's and an independent encoding
    assert seen["basic_status"] == 200 and seen["basic_wrong_status"] == 401
    assert seen["basic_header"] == "Basic dXNlcjpwYXNzd2Q="
    assert seen["basic_header"] == "Basic " + base64.b64encode(b"user:passwd").decode()
    assert seen["basic_body"] == {"authenticated": True, "user": "user"}
    # Digest: challenge then answer (401, 200); a wrong password answers and is refused again
    assert seen["digest_status"] == 200 and seen["digest_sha256_status"] == 200
    assert seen["digest_body"] == {"authenticated": True, "user": "user"}
    assert seen["digest_header_scheme"] == "Digest"
    assert seen["digest_wrong"] == "AuthenticationError"
    assert _statuses(server, "/digest-auth/auth/user/passwd") == [401, 200, 401, 401]
    assert _statuses(server, "/digest-auth/auth/user/passwd/SHA-256") == [401, 200]

    # 7. timeouts: the two forms reached the transport as given; /delay raised a read timeout
    assert seen["timeout_ok"] == [200, 200]
    assert seen["timeout_sent"] == [[1.0, 1.0], [3.05, 5.0]]
    assert seen["timeout_raised"] == "ReadTimeout"
    assert issubclass(getattr(hookwire, seen["timeout_raised"]), hookwire.TimeoutException)

    # 8. the session sent the token on both calls over one connection
    assert seen["session_statuses"] == [200, 200]
    assert seen["session_token_echo"] == ["tutorial-token", "tutorial-token"]
    if seen["session_connections"] is not None:  # psutil is optional
        assert seen["session_connections"] == 1

    # 9. retries: the journal shows 503, 503, 200 for that session, and the SDK counted 3
    statuses = _statuses(server, "/get", **{"x-mock-session": seen["retry_session"]})
    assert statuses == [503, 503, 200]
    assert seen["retry_status"] == 200 and seen["retry_attempts"] == len(statuses)

    out = capsys.readouterr().out
    assert "Success!" in out and "The request timed out" in out


ASYNC_TRANSPORTS = [
    "httpx",
    pytest.param(
        "aiohttp",
        marks=pytest.mark.skipif(
            importlib.util.find_spec("aiohttp") is None, reason="aiohttp extra not installed"
        ),
    ),
    pytest.param(
        "native",
        marks=pytest.mark.skipif(
            importlib.util.find_spec("httptools") is None, reason="native extra not installed"
        ),
    ),
]


@pytest.mark.network
@pytest.mark.parametrize("transport", ASYNC_TRANSPORTS)
def test_tutorial_async(server: Any, transport: str) -> None:
    seen = asyncio.run(tutorial.async_requests(server.url, transport))
    assert seen["async_statuses"] == [200] * 5
    assert seen["async_args"] == ["0", "1", "2", "3", "4"]
    queries = sorted(e.query for e in server.journal.entries("/get"))
    assert queries == [f"n={i}" for i in range(5)]
    assert seen["async_json_echo"] == {"key": "value"}
    assert seen["async_basic_status"] == 200
    assert seen["async_digest_status"] == 200
    assert _statuses(server, "/digest-auth/auth/user/passwd") == [401, 200]


@pytest.mark.network
def test_tutorial_cli_reads_httpbin_url(server: Any) -> None:
    """The script runs as documented: URL from HTTPBIN_URL, output on stdout."""
    env = dict(os.environ, HTTPBIN_URL=server.url)
    proc = subprocess.run(
        [sys.executable, str(EXAMPLE), "--transport", "httpx", "--async-transport", "httpx"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    assert "Basic dXNlcjpwYXNzd2Q=" in proc.stdout
    assert "retried: 200 after 3 attempts" in proc.stdout
    assert f"{server.url}/post" in proc.stdout


def test_tutorial_cli_needs_a_url() -> None:
    env = {k: v for k, v in os.environ.items() if k != "HTTPBIN_URL"}
    proc = subprocess.run(
        [sys.executable, str(EXAMPLE)], env=env, capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 2
    assert "HTTPBIN_URL" in proc.stderr
