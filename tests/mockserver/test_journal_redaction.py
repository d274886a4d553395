"""One redaction rule for every view of the mock's journal (issue 10, class 2).

Secrets in headers, the query, JSON bodies at any depth, form and multipart bodies never show
in `/__mock__/journal`, `/__mock__/last`, the `Journal` object, nor anything a journal entry
keeps in memory; what is not secret still does, so tests can assert on traffic.
"""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hookwire.mockserver import redact
from hookwire.mockserver.journal import Journal, JournalEntry

# every value below is a fake secret planted for the scan  # pragma: allowlist secret
HEADERS = {
    "Authorization": "Bearer sk-plant-h1",
    "Proxy-Authorization": "Basic cGxhbnQtaDI=",
    "Cookie": "session=plant-h3",
    "X-Api-Key": "plant-h4",
    "api-key": "plant-h5",
    "X-Goog-Api-Key": "plant-h6",
    "Ocp-Apim-Subscription-Key": "plant-h7",
    "X-Auth-Token": "plant-h8",
    "X-Hub-Signature-256": "sha256=plant-h9",
    "X-Client-Secret": "plant-h10",
}
KEPT_HEADERS = {"X-Request-Id": "req-1", "Idempotency-Key": "idem-1", "X-Mock-Session": "s-1"}
QUERY = {
    "api_key": "plant-q1",
    "key": "plant-q2",
    "token": "plant-q3",
    "access_token": "plant-q4",
    "sig": "plant-q5",
    "signature": "plant-q6",
    "secret": "plant-q7",
    "password": "plant-q8",
    "client_secret": "plant-q9",
    "code": "plant-q10",
    "X-Amz-Credential": "plant-q11",
}
KEPT_QUERY = {"page": "2", "country_code": "fr"}
BODY = {
    "model": "mock-model",
    "messages": [{"role": "user", "content": "hello"}],
    "max_tokens": 5,
    "api_key": "plant-j1",
    "metadata": {
        "client_secret": "plant-j2",
        "deep": [{"accessToken": "plant-j3", "refresh_token": "plant-j4", "keep": "kept-j"}],
        "credentials": {"user": "u", "password": "plant-j5"},
    },
}
FORM = {"username": "alice", "password": "plant-f1", "api_key": "plant-f2"}
PLANTED = [
    *HEADERS.values(),
    *QUERY.values(),
    "plant-j1",
    "plant-j2",
    "plant-j3",
    "plant-j4",
    "plant-j5",
    "plant-f1",
    "plant-f2",
    "plant-m1",
    "plant-t1",
]


def leaks(text: str) -> list[str]:
    """The planted secrets (or their distinctive part) found in `text`."""
    return [s for s in PLANTED if s.split()[-1].rstrip("=").split("=", 1)[-1] in text]


@pytest.fixture
def server(mock_server_factory: Any) -> Any:
    srv = mock_server_factory(dialect="vllm")
    srv.reset()
    return srv


def drive(server: Any) -> None:
    """Every way a secret can reach the mock: headers, query, JSON, form, multipart, text."""
    headers = {**HEADERS, **KEPT_HEADERS}
    params = {**QUERY, **KEPT_QUERY}
    url = server.url
    assert httpx.post(url + "/v1/chat/completions", json=BODY, headers=headers,
                      params=params).status_code == 200  # fmt: skip
    assert httpx.post(url + "/post", data=FORM, headers=headers).status_code == 200
    files = {"upload": ("a.txt", b"file content")}
    data = {"api_key": "plant-m1", "note": "kept-m"}
    assert httpx.post(url + "/anything", data=data, files=files).status_code == 200
    text = "token=plant-t1&lang=en"
    r = httpx.put(url + "/anything", content=text, headers={"content-type": "text/plain"})
    assert r.status_code == 200


def test_no_view_of_the_journal_shows_a_secret(server):
    drive(server)
    over_http = httpx.get(server.url + "/__mock__/journal").text
    last = httpx.get(server.url + "/__mock__/last").text
    entries = server.journal.entries()
    in_process = json.dumps([e.to_dict() for e in entries]) + repr(entries)
    # what an entry holds in memory, raw bytes included, not only what it shows
    held = repr([[getattr(e, name, None) for name in JournalEntry.__slots__] for e in entries])
    for where, text in [("journal", over_http), ("last", last), ("entries", in_process),
                        ("memory", held)]:  # fmt: skip
        assert leaks(text) == [], where
    metrics = httpx.get(server.url + "/metrics").text
    assert leaks(metrics) == []


def test_what_is_not_secret_is_still_journaled(server):
    drive(server)
    chat, form, multipart, text = server.journal.entries()
    assert (chat.method, chat.path, chat.status) == ("POST", "/v1/chat/completions", 200)
    for name, value in KEPT_HEADERS.items():
        assert chat.headers[name.lower()] == value
    for name in HEADERS:
        assert chat.headers[name.lower()] == "[REDACTED]"
    assert "page=2" in chat.query and "country_code=fr" in chat.query
    assert "api_key=[REDACTED]" in chat.query
    body = chat.body
    assert (body["model"], body["max_tokens"], body["messages"]) == (
        "mock-model",
        5,
        BODY["messages"],
    )
    assert body["api_key"] == "[REDACTED]"
    assert body["metadata"]["deep"] == [
        {"accessToken": "[REDACTED]", "refresh_token": "[REDACTED]", "keep": "kept-j"}
    ]
    assert body["metadata"]["credentials"] == "[REDACTED]"
    assert form.body == "username=alice&password=[REDACTED]&api_key=[REDACTED]"
    assert "kept-m" in multipart.body and "file content" in multipart.body
    assert text.body == "token=[REDACTED]&lang=en"
    last = httpx.get(server.url + "/__mock__/last").json()
    assert last["model"] == "mock-model" and last["metadata"]["client_secret"] == "[REDACTED]"


def test_the_journal_object_redacts_when_it_records():
    journal = Journal()
    entry = journal.record(
        "POST",
        "/x",
        "a=1&api%5Fkey=plant-q1",
        [(b"x-goog-api-key", b"plant-h6"), (b"content-type", b"application/json")],
        b'{"nested": {"client_secret": "plant-j2"}, "n": 1}',
    )
    held = repr([getattr(entry, name, None) for name in JournalEntry.__slots__])
    assert leaks(held) == []
    assert entry.query == "a=1&api%5Fkey=[REDACTED]"
    assert entry.body == {"nested": {"client_secret": "[REDACTED]"}, "n": 1}
    assert entry.body_size == len(b'{"nested": {"client_secret": "plant-j2"}, "n": 1}')


@pytest.mark.parametrize(
    "name",
    [
        "Authorization", "Proxy-Authorization", "Cookie", "Set-Cookie", "api-key", "x-api-key",
        "X-Goog-Api-Key", "apiKey", "APIKey", "X-Custom-Key", "Private-Token", "x-csrf-token",
        "tokenId", "X-Hub-Signature-256", "x-sig", "mySig", "client_secret", "secretValue",
        "password", "passwd", "X-Amz-Credential", "bearer", "code", "session", "sid", "jwt",
        "oauth_token",
    ],
)  # fmt: skip
def test_secret_names(name):
    assert redact.is_secret(name)


@pytest.mark.parametrize(
    "name",
    [
        "max_tokens", "completion_tokens", "skip_special_tokens", "X-Mock-Reply-Tokens",
        "Idempotency-Key", "X-Mock-Session", "author", "keyword", "monkey", "design", "encode",
        "country_code", "content-type", "user-agent", "model", "messages", "top_k", "tokenizer",
    ],
)  # fmt: skip
def test_names_that_are_no_secret(name):
    assert not redact.is_secret(name)


NAME_PARTS = st.sampled_from(
    ["key", "Key", "KEY", "token", "Token", "tokens", "tokeniz", "auth", "Auth", "author", "or",
     "iz", "sig", "Sig", "SIG", "pass", "passw", "code", "session", "sid", "mon", "word", "api",
     "x", "s", "_", "-", ".", "2", "id"]
)  # fmt: skip
NAMES = st.lists(NAME_PARTS | st.text("abcXYZ_-0", min_size=1, max_size=4), min_size=1,
                 max_size=6).map("".join)  # fmt: skip


@settings(max_examples=400, deadline=None)
@given(NAMES, NAMES, st.sampled_from(["json", "form", "multipart"]))
def test_a_body_kept_undecoded_never_holds_a_secret_name(name, other, kind):
    """The journal keeps a body raw only when `may_hold_secret` says it cannot hold a secret
    name: for every name the rule calls secret, it must say so of any body carrying it."""
    body = {
        "json": json.dumps({other: [{name: "v"}]}).encode(),
        "form": f"{other}=1&{name}=v".encode(),
        "multipart": f'--b\r\nContent-Disposition: form-data; name="{name}"\r\n\r\nv\r\n--b--'
        .encode(),
    }[kind]  # fmt: skip
    if redact.is_secret(name):
        assert redact.may_hold_secret(body)
