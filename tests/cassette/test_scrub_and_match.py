"""Scrubbing (secrets never reach a file), matching rules with their explanations, and the
record modes, all without a client or a server."""

from __future__ import annotations

import base64
import json

import pytest

from hookwire.mockserver.cassette import (
    Cassette,
    CassetteMismatch,
    Interaction,
    RecordedRequest,
    RecordedResponse,
    Scrubber,
    dumps,
)
from hookwire.mockserver.cassette._match import body_difference, difference

SECRET = "sk-live-0123456789abcdef"  # pragma: allowlist secret
PASSWORD = "hunter2-hunter2"  # pragma: allowlist secret


def _req(
    uri: str = "http://h:8000/v1/chat", body: object = None, **headers: str
) -> RecordedRequest:
    raw = json.dumps(body).encode() if body is not None else b""
    pairs = [(k.replace("_", "-"), v) for k, v in headers.items()]
    if body is not None:
        pairs.append(("Content-Type", "application/json"))
    return RecordedRequest("POST" if body is not None else "GET", uri, pairs, raw)


def _ok(body: bytes = b'{"ok": true}') -> RecordedResponse:
    return RecordedResponse(200, "OK", [("content-type", "application/json")], body)


# -- scrubbing --------------------------------------------------------------------------------


def test_every_default_place_a_secret_hides_is_scrubbed() -> None:
    basic = base64.b64encode(f"user:{PASSWORD}".encode()).decode()
    request = RecordedRequest(
        "POST",
        f"https://user:{PASSWORD}@api.example/v1?key={SECRET}&q=1&Access_Token={SECRET}x",
        [
            ("Authorization", f"Bearer {SECRET}"),
            ("Proxy-Authorization", f"Basic {basic}"),
            ("X-Api-Key", SECRET + "2"),
            ("Cookie", f"session={SECRET}3; theme=dark"),
            ("Content-Type", "application/json"),
        ],
        json.dumps({"model": "m", "apiKey": SECRET, "nested": [{"password": PASSWORD}]}).encode(),
    )
    response = RecordedResponse(
        200,
        "OK",
        [("Set-Cookie", f"sid={SECRET}4; Path=/; HttpOnly"), ("content-type", "application/json")],
        # an echo server writes the request back: the values found above are swept from it
        json.dumps({"headers": {"Authorization": f"Bearer {SECRET}"}, "echo": SECRET}).encode(),
        chunks=None,
    )
    text = dumps([Scrubber().interaction(Interaction(request, response))])
    for leaked in (SECRET, PASSWORD, basic):
        assert leaked not in text
    doc = json.loads(text)["interactions"][0]
    assert doc["request"]["headers"]["Authorization"] == "Bearer <redacted>"
    assert doc["request"]["headers"]["Cookie"] == "session=<redacted>; theme=<redacted>"
    assert doc["response"]["headers"]["Set-Cookie"] == "sid=<redacted>; Path=/; HttpOnly"
    assert doc["request"]["uri"] == (
        "https://user:<redacted>@api.example/v1?key=<redacted>&q=1&Access_Token=<redacted>"
    )
    assert doc["request"]["body"]["json"]["model"] == "m"  # the rest stays readable


def test_a_secret_split_across_stream_chunks_is_swept_and_boundaries_elsewhere_kept() -> None:
    half = len(SECRET) // 2
    response = RecordedResponse(
        200, "OK", [], chunks=[b"a", f"x{SECRET[:half]}".encode(), f"{SECRET[half:]}y".encode(),
                               b"z"], offsets=[0.1, 0.2, 0.3, 0.4],
    )
    clean = Scrubber(secrets=(SECRET,)).interaction(Interaction(_req(), response)).response
    assert clean.chunks == [b"a", b"x<redacted>y", b"z"]
    assert clean.offsets == [0.1, 0.3, 0.4]


def test_scrubbing_is_configurable() -> None:
    request = _req("http://h/p?mine=s3cr3t-value&key=k", {"token": "t"}, X_Mine="hidden-value")
    scrubber = Scrubber(headers={"x-mine"}, query={"mine"}, json_fields={"token"},
                        placeholder="***")
    clean = scrubber.request(request)
    assert clean.uri == "http://h/p?mine=***&key=k"  # key is not in this query list
    assert clean.header("x-mine") == "***" and json.loads(clean.body) == {"token": "***"}
    assert Scrubber.off().request(request) == request
    with pytest.raises(TypeError, match="collection of names"):
        Scrubber(headers="authorization")  # type: ignore[arg-type]


def test_logprob_tokens_are_content_not_secrets() -> None:
    body = json.dumps({"logprobs": {"content": [{"token": "Hello", "logprob": -0.1}]}}).encode()
    clean = Scrubber().interaction(Interaction(_req(), _ok(body)))
    assert clean.response.body == body


# -- matching ---------------------------------------------------------------------------------


def test_each_rule_names_its_difference() -> None:
    a = _req("http://h:8000/v1/chat?x=1&y=2", {"model": "m", "seed": 1})
    assert difference("query", a, _req("http://h:8000/v1/chat?y=2&x=1", {})) is None
    assert difference("port", a, _req("http://h/v1/chat")) == "port: recorded 8000, got 80"
    assert difference("host", a, _req("http://H:8000/")) is None
    assert difference("path", a, _req("http://h:8000/v1/x")) == (
        "path: recorded '/v1/chat', got '/v1/x'"
    )
    assert difference("method", a, _req()) == "method: recorded 'POST', got 'GET'"
    assert difference(("header", "x-a"), _req(X_A="1"), _req(X_A="2")) == (
        "header x-a: recorded '1', got '2'"
    )


def test_the_body_rule_is_llm_aware() -> None:
    chat = {"model": "m", "messages": [{"role": "user", "content": "hi"}], "seed": 7, "user": "u1"}
    same = {"user": "u2", "messages": [{"content": "hi", "role": "user"}], "model": "m"}
    assert body_difference(_req(body=chat), _req(body=same), ["seed", "user"]) is None
    assert body_difference(_req(body=chat), _req(body=same), []) == (
        "body.seed: recorded 7, missing now; body.user: recorded 'u1', got 'u2'"
    )
    other = {**chat, "messages": [{"role": "user", "content": "hello"}]}
    assert body_difference(_req(body=chat), _req(body=other), ["seed", "user"]) == (
        "body.messages[0].content: recorded 'hi', got 'hello'"
    )
    nested = {"metadata": {"trace": "a", "keep": 1}}
    assert body_difference(
        _req(body=nested), _req(body={"metadata": {"trace": "b", "keep": 1}}), ["metadata.trace"]
    ) is None


def test_non_json_bodies_compare_as_forms_or_bytes() -> None:
    form = [("Content-Type", "application/x-www-form-urlencoded")]
    a = RecordedRequest("POST", "http://h/", form, b"a=1&b=2")
    assert body_difference(a, RecordedRequest("POST", "http://h/", form, b"b=2&a=1")) is None
    raw = RecordedRequest("POST", "http://h/", [], b"abcdef")
    diff = body_difference(raw, RecordedRequest("POST", "http://h/", [], b"abcXef"))
    assert diff is not None and "first different at byte 3" in diff


def test_unknown_rules_fail_when_the_cassette_is_made() -> None:
    with pytest.raises(ValueError, match="unknown match rule 'bodyy'"):
        Cassette(match_on=["method", "bodyy"])
    with pytest.raises(ValueError, match="not the string"):
        Cassette(match_on="method")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="record mode must be one of none, once"):
        Cassette(mode="sometimes")


def test_a_custom_rule_is_a_callable() -> None:
    def same_model(recorded: RecordedRequest, live: RecordedRequest) -> str | None:
        a, b = json.loads(recorded.body)["model"], json.loads(live.body)["model"]
        return None if a == b else f"{a} vs {b}"

    cassette = Cassette(mode="none", match_on=[same_model],
                        interactions=[Interaction(_req(body={"model": "a"}), _ok())])
    with pytest.raises(CassetteMismatch, match="same_model: a vs b"):
        cassette.lookup(_req(body={"model": "b"}))
    assert cassette.lookup(_req(body={"model": "a", "other": 1})) is not None


# -- modes and playback ----------------------------------------------------------------------


def _file(tmp_path, *bodies: str):
    path = tmp_path / "c.json"
    Cassette(path, mode="all").record(Interaction(_req(body={"q": bodies[0]}), _ok()))
    if len(bodies) > 1:
        cassette = Cassette(path, mode="new_episodes")
        for body in bodies[1:]:
            cassette.record(Interaction(_req(body={"q": body}), _ok()))
    return path


def test_none_replays_and_refuses_the_rest(tmp_path) -> None:
    cassette = Cassette(_file(tmp_path, "a", "b"), mode="none")
    assert cassette.lookup(_req(body={"q": "b"})) is cassette.interactions[1]
    with pytest.raises(CassetteMismatch) as info:
        cassette.lookup(_req(body={"q": "c"}))
    assert "Closest: interaction #0" in str(info.value)
    assert info.value.differences == ["body.q: recorded 'a', got 'c'"]
    assert info.value.closest is cassette.interactions[0]


def test_each_interaction_plays_once_in_order_unless_repeats_are_allowed(tmp_path) -> None:
    path = _file(tmp_path, "same", "same")
    cassette = Cassette(path, mode="none")
    first, second = (cassette.lookup(_req(body={"q": "same"})) for _ in range(2))
    assert first is cassette.interactions[0] and second is cassette.interactions[1]
    with pytest.raises(CassetteMismatch, match="already played"):
        cassette.lookup(_req(body={"q": "same"}))
    repeats = Cassette(path, mode="none", allow_playback_repeats=True)
    assert [repeats.lookup(_req(body={"q": "same"})) for _ in range(3)][2] is not None


def test_once_records_a_new_file_and_then_only_replays(tmp_path) -> None:
    path = tmp_path / "once.json"
    first = Cassette(path, mode="once")
    assert first.lookup(_req(body={"q": 1})) is None  # to be recorded
    first.record(Interaction(_req(body={"q": 1}), _ok()))
    again = Cassette(path, mode="once")
    assert again.lookup(_req(body={"q": 1})) is not None
    with pytest.raises(CassetteMismatch, match="use 'new_episodes' to add"):
        again.lookup(_req(body={"q": 2}))


def test_new_episodes_appends_and_all_overwrites(tmp_path) -> None:
    path = _file(tmp_path, "a")
    grow = Cassette(path, mode="new_episodes")
    assert grow.lookup(_req(body={"q": "a"})) is not None
    assert grow.lookup(_req(body={"q": "b"})) is None
    grow.record(Interaction(_req(body={"q": "b"}), _ok()))
    assert len(Cassette(path, mode="none").interactions) == 2
    redo = Cassette(path, mode="all")
    assert redo.lookup(_req(body={"q": "a"})) is None  # never replays
    redo.record(Interaction(_req(body={"q": "z"}), _ok()))
    assert [json.loads(i.request.body) for i in Cassette(path).interactions] == [{"q": "z"}]


def test_none_with_no_file_says_so(tmp_path) -> None:
    with pytest.raises(CassetteMismatch, match=r"the file does not exist \(record it with mode"):
        Cassette(tmp_path / "missing.json", mode="none").lookup(_req())


def test_a_live_request_is_scrubbed_before_matching(tmp_path) -> None:
    path = tmp_path / "k.json"
    Cassette(path, mode="all").record(Interaction(_req(f"http://h/x?api_key={SECRET}"), _ok()))
    assert SECRET not in path.read_text()
    assert Cassette(path, mode="none").lookup(_req(f"http://h/x?api_key={SECRET}")) is not None


def test_a_plain_word_taken_out_is_not_swept_from_everything() -> None:
    request = RecordedRequest("GET", "http://h/", [("Cookie", "theme=darkmode")])
    body = b'{"mode": "darkmode"}'
    clean = Scrubber().interaction(Interaction(request, _ok(body)))
    assert clean.request.header("cookie") == "theme=<redacted>" and clean.response.body == body
