"""Bad requests get the dialect's error shape and status; keys are compared, never echoed."""

from __future__ import annotations

import httpx
import pytest

MSGS = [{"role": "user", "content": "x"}]


def post(server, body=None, content=None, headers=None, path="/v1/chat/completions"):
    return httpx.post(server.url + path, json=body, content=content, headers=headers, timeout=10)


@pytest.mark.parametrize(
    ("body", "content", "status", "param", "needle"),
    [
        (None, b"{not json", 400, None, "not valid JSON"),
        (None, b"[1, 2]", 400, None, "JSON object"),
        ({"model": "mock-model"}, None, 400, "messages", "messages"),
        (
            {"model": "mock-model", "messages": [{"role": "wizard", "content": "x"}]},
            None,
            400,
            "messages[0].role",
            "wizard",
        ),
        (
            {"model": "mock-model", "messages": MSGS, "temperature": 2.5},
            None,
            400,
            "temperature",
            "temperature",
        ),
        (
            {"model": "mock-model", "messages": MSGS, "temperature": -0.1},
            None,
            400,
            "temperature",
            "temperature",
        ),
        ({"model": "gpt-9", "messages": MSGS}, None, 404, "model", "gpt-9"),
    ],
)
def test_openai_error_shapes(mock_server, body, content, status, param, needle):
    r = post(mock_server, body, content)
    assert r.status_code == status
    err = r.json()["error"]
    assert set(err) == {"message", "type", "param", "code"}
    assert needle in err["message"] and err["param"] == param
    assert err["type"] == "invalid_request_error"
    assert err["code"] is None or isinstance(err["code"], str)


def test_temperature_bounds_are_inclusive(mock_server):
    for t in (0, 2):
        assert (
            post(
                mock_server, {"model": "mock-model", "messages": MSGS, "temperature": t}
            ).status_code
            == 200
        )


def test_vllm_error_shape_has_int_code(mock_server_factory):
    server = mock_server_factory(dialect="vllm")
    r = post(server, {"model": "mock-model", "messages": MSGS, "temperature": 9})
    assert r.status_code == 400
    assert r.json()["error"]["code"] == 400 and r.json()["error"]["type"] == "BadRequestError"
    r = post(server, {"model": "nope", "messages": MSGS})
    assert (r.status_code, r.json()["error"]["code"], r.json()["error"]["type"]) == (
        404,
        404,
        "NotFoundError",
    )


def test_api_key_enforced_and_never_echoed(mock_server_factory):
    server = mock_server_factory(api_key="sk-secret-123")
    body = {"model": "mock-model", "messages": MSGS}
    missing = post(server, body)
    wrong = post(server, body, headers={"Authorization": "Bearer sk-secret-124"})
    assert missing.status_code == wrong.status_code == 401
    assert wrong.json()["error"]["code"] == "invalid_api_key"
    assert "sk-secret" not in wrong.text and "sk-secret" not in repr(server.config)
    ok = post(server, body, headers={"Authorization": "Bearer sk-secret-123"})
    assert ok.status_code == 200
    assert httpx.get(server.url + "/health").status_code == 200  # only /v1/* is guarded


def test_body_cap_413(mock_server_factory):
    server = mock_server_factory(max_body=1024)
    r = post(server, content=b"{" + b" " * 2000 + b"}")
    assert r.status_code == 413 and r.json()["error"]["message"].startswith("Request body exceeds")


def test_wrong_method_and_unknown_v1_path(mock_server):
    assert httpx.get(mock_server.url + "/v1/chat/completions").status_code == 405
    r = httpx.get(mock_server.url + "/v1/nothing")
    assert r.status_code == 404 and "error" in r.json()
