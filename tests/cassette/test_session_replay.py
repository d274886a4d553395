"""Issue 13's "done when": a session recorded against a live stand-in for the cloud (the mock
with a key and a thinking model) is replayed, with the server stopped, through the SDK, through
the official openai client against ``hookwire mock serve --cassette``, and through the pytest
marker, with identical results, and the key appears nowhere in the file.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest

from hookwire.mockserver.cassette import read_file
from hookwire.mockserver.config import MockConfig
from hookwire.mockserver.server import LiveServer
from hookwire.plugins.transports.cassette import use_cassette
from tests._serve_process import free_port, wait_until_serving
from tests.cassette._session import (
    CHAT_PROMPT,
    MODEL,
    RAW_BODY,
    STREAM_PROMPT,
    pieces,
    run_session,
)
from tests.cassette.conftest import KEY

pytest_plugins = ["pytester"]
WRONG_KEY = "sk-not-the-recorded-one"  # pragma: allowlist secret


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any], str]:
    """(cassette path, what the live session returned, the stopped server's URL)."""
    import hookwire
    from hookwire.plugins.transports import cassette as cassette_plugin

    host = hookwire.get_plugin_host()  # (module scope: the autouse fixture has not run yet)
    if "cassette" not in host.transports():
        host.register(cassette_plugin, "transport-cassette")
    path = tmp_path_factory.mktemp("session") / "session.json"
    server = LiveServer(MockConfig(api_key=KEY)).start()
    try:
        with pytest.MonkeyPatch.context() as env:
            env.setenv("OPENAI_API_KEY", KEY)
            with use_cassette(path, mode="once") as cassette:
                live = run_session(server.url, server.openai_base_url)
            assert len(cassette.interactions) == 5 and cassette.play_count == 0
    finally:
        server.stop()
    return path, live, server.url


def test_the_live_session_is_what_we_think(recorded: tuple[Path, dict[str, Any], str]) -> None:
    _, live, _ = recorded
    assert live["get"]["args"] == {"probe": "cassette"}
    assert live["chat"] == [f"Echo: {CHAT_PROMPT}", f"Thinking about: {CHAT_PROMPT}"]
    got = pieces(live["deltas"])
    assert "".join(c for c, _ in got) == f"Echo: {STREAM_PROMPT}"
    assert "".join(r for _, r in got) == f"Thinking about: {STREAM_PROMPT}"
    assert len(live["sse"]) > 5 and live["sse"][-1] == "data: [DONE]\n\n"


def test_the_file_keeps_chunks_and_no_key(recorded: tuple[Path, dict[str, Any], str]) -> None:
    path, live, _ = recorded
    text = path.read_text()
    assert KEY not in text
    assert text.count('"Authorization": "Bearer <redacted>"') == 3  # raw stream, chat, stream
    raw = next(i for i in read_file(path) if b"Stream raw chunks" in i.request.body)
    assert raw.response.chunks is not None
    assert [c.decode() for c in raw.response.chunks] == live["sse"]  # boundaries as they came
    doc = json.loads(text)
    assert doc["version"] == 1
    body = doc["interactions"][3]["request"]["body"]
    assert body["json"]["messages"] == [{"role": "user", "content": CHAT_PROMPT}]


def test_replay_through_the_sdk(recorded: tuple[Path, dict[str, Any], str], monkeypatch) -> None:
    path, live, url = recorded
    monkeypatch.setenv("OPENAI_API_KEY", WRONG_KEY)  # a replay needs no key
    with use_cassette(path, mode="none") as cassette:
        again = run_session(url, url + "/v1")
    assert again == live
    assert cassette.play_count == 5 and cassette.all_played


def test_replay_through_the_openai_client_against_mock_serve(
    recorded: tuple[Path, dict[str, Any], str],
) -> None:
    path, live, _ = recorded
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "hookwire.cli", "mock", "serve", "--port", str(port),
         "--cassette", str(path)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_serving(proc, base + "/__mock__/health")
        client = openai.OpenAI(base_url=base + "/v1", api_key=WRONG_KEY, max_retries=0)
        messages: Any = [{"role": "user", "content": CHAT_PROMPT}]
        reply = client.chat.completions.create(model=MODEL, messages=messages)
        message = reply.choices[0].message
        assert [message.content, message.reasoning_content] == live["chat"]  # type: ignore[attr-defined]

        stream = client.chat.completions.create(
            model=MODEL,
            messages=[{"role": "user", "content": STREAM_PROMPT}],
            stream=True,
            stream_options={"include_usage": True},
        )
        deltas = [
            [c.choices[0].delta.content, getattr(c.choices[0].delta, "reasoning_content", None)]
            for c in stream
            if c.choices
        ]
        assert pieces(deltas) == pieces(live["deltas"])

        with client.chat.completions.with_streaming_response.create(
            model=MODEL, messages=RAW_BODY["messages"], stream=True,
            stream_options={"include_usage": True},
        ) as response:
            assert response.headers["content-type"].startswith("text/event-stream")
            sse = [chunk.decode() for chunk in response.iter_bytes()]
        assert sse == live["sse"]  # one chunk on the wire per recorded chunk

        assert httpx.get(base + "/get", params={"probe": "cassette"}).json() == live["get"]
        lines = httpx.get(base + "/stream/3").text
        assert lines == "".join(live["ndjson"])
    finally:
        proc.terminate()
        proc.communicate(timeout=10)
    assert proc.returncode == 0


def test_replay_through_the_pytest_marker(
    recorded: tuple[Path, dict[str, Any], str], pytester: pytest.Pytester
) -> None:
    path, live, url = recorded
    pytester.makepyfile(
        test_inner=f"""
        import json
        import pytest
        from tests.cassette._session import run_session

        EXPECTED = json.loads({json.dumps(json.dumps(live))})

        @pytest.mark.hookwire_cassette({str(path)!r})
        def test_replays(hookwire_cassette, monkeypatch):
            monkeypatch.setenv("OPENAI_API_KEY", "sk-anything")
            assert run_session({url!r}, {url + "/v1"!r}) == EXPECTED
            assert hookwire_cassette.mode == "none" and hookwire_cassette.play_count == 5

        @pytest.mark.hookwire_cassette({str(path)!r})
        def test_an_unrecorded_call_fails_by_name(monkeypatch):
            import hookwire
            monkeypatch.setenv("OPENAI_API_KEY", "sk-anything")
            with hookwire.LLM("openai", base_url={url + "/v1"!r}, model="mock-thinking") as llm:
                with pytest.raises(hookwire.CassetteError, match="got 'Not recorded'"):
                    llm.chat("Not recorded")
        """
    )
    result = pytester.runpytest(
        "-q", "-p", "no:cacheprovider", "-p", "no:asyncio", "-p", "no:benchmark", "-p", "no:xdist"
    )
    result.assert_outcomes(passed=2)
