"""The cassette transport: records through a real transport, replays with none, sync and async
alike; the ways in (transport name, instance, use_cassette); typed errors."""

from __future__ import annotations

import json
import pickle

import pytest

import hookwire
from hookwire.mockserver.cassette import read_file
from hookwire.mockserver.config import MockConfig
from hookwire.mockserver.server import LiveServer
from hookwire.plugins.transports.cassette import (
    AsyncCassetteTransport,
    CassetteTransport,
    open_cassette,
    use_cassette,
)
from tests.cassette.conftest import KEY


@pytest.fixture
def server():
    srv = LiveServer(MockConfig()).start()
    try:
        yield srv
    finally:
        srv.stop()


def _sse_body(prompt: str) -> dict:
    return {"model": "mock-thinking", "messages": [{"role": "user", "content": prompt}],
            "stream": True}


@pytest.mark.parametrize("inner", ["httpx", "requests"])
def test_record_then_replay_by_transport_name(server, tmp_path, inner) -> None:
    path = tmp_path / "c.json"
    options = {"cassette": str(path), "mode": "once", "inner": inner, "record_timing": True}
    with hookwire.Client(base_url=server.url, transport="cassette",
                         transport_options=options) as http:
        live = http.get("/gzip").json()  # the inner transport decodes: the file holds JSON
        with http.stream("POST", "/v1/chat/completions", json=_sse_body("hi")) as r:
            chunks = list(r.iter_raw())
    (gz, sse) = read_file(path)
    assert gz.response.header("content-encoding") is None and json.loads(gz.response.body) == live
    assert sse.response.chunks == chunks and len(chunks) > 3
    offsets = sse.response.offsets
    assert offsets is not None and offsets == sorted(offsets) and len(offsets) == len(chunks)
    server.stop()  # from here on, nothing may reach the network
    options["mode"] = "none"
    with hookwire.Client(base_url=server.url, transport="cassette",
                         transport_options=options) as http:
        assert http.get("/gzip").json() == live
        with http.stream("POST", "/v1/chat/completions", json=_sse_body("hi")) as r:
            assert r.headers["content-type"].startswith("text/event-stream")
            assert list(r.iter_raw()) == chunks


async def test_async_records_and_replays_the_same(server, tmp_path) -> None:
    path = tmp_path / "a.json"
    transport = AsyncCassetteTransport(path, mode="once")
    async with hookwire.AsyncClient(base_url=server.url, transport=transport) as http:
        live = (await http.get("/get", params={"a": "1"})).json()
        async with http.stream("POST", "/v1/chat/completions", json=_sse_body("yo")) as r:
            chunks = [c async for c in r.aiter_raw()]
    server.stop()
    replay = AsyncCassetteTransport(path, mode="none")
    async with hookwire.AsyncClient(base_url=server.url, transport=replay) as http:
        assert (await http.get("/get", params={"a": "1"})).json() == live
        async with http.stream("POST", "/v1/chat/completions", json=_sse_body("yo")) as r:
            assert [c async for c in r.aiter_raw()] == chunks
    assert replay.cassette.play_count == 2


async def test_an_llm_records_its_sync_and_async_faces_into_one_file(server, tmp_path) -> None:
    path = tmp_path / "llm.json"
    with use_cassette(path, mode="once"):
        llm = hookwire.LLM("openai", base_url=server.openai_base_url, model="mock-thinking",
                           api_key=KEY)
        sync = llm.chat("one")
        other = await llm.achat("two")
        await llm.aclose()
    assert len(read_file(path)) == 2
    server.stop()
    with use_cassette(path, mode="none") as cassette:
        llm = hookwire.LLM("openai", base_url=server.openai_base_url, model="mock-thinking",
                           api_key="other")
        assert llm.chat("one").content == sync.content
        assert (await llm.achat("two")).reasoning == other.reasoning
        await llm.aclose()
    assert cassette.all_played


def test_an_unmatched_request_is_a_typed_error_naming_the_closest(server, tmp_path) -> None:
    path = tmp_path / "e.json"
    with hookwire.Client(base_url=server.url, transport=CassetteTransport(path)) as http:
        http.get("/get", params={"page": "1"})
    replay = CassetteTransport(path, mode="none")
    with hookwire.Client(base_url=server.url, transport=replay) as http, pytest.raises(
        hookwire.CassetteError
    ) as info:
        http.get("/get", params={"page": "2"})
    error = info.value
    assert isinstance(error, hookwire.TransportError) and error.request is not None
    assert "Closest: interaction #0, GET http://127.0.0.1:" in str(error)
    assert error.differences == ["query: recorded [('page', '1')], got [('page', '2')]"]
    assert error.closest["method"] == "GET" and "page=1" in error.closest["uri"]
    again = pickle.loads(pickle.dumps(error))
    assert again.differences == error.differences and str(again) == str(error)


def test_a_body_broken_mid_stream_is_not_recorded(server, tmp_path) -> None:
    path = tmp_path / "broken.json"
    with hookwire.Client(base_url=server.url, transport=CassetteTransport(path)) as http:
        cut = {"X-Mock-Fault": "close-after=2"}
        with pytest.raises(hookwire.TransportError), http.stream(
            "POST", "/v1/chat/completions", json=_sse_body("cut"), headers=cut
        ) as r:
            list(r.iter_raw())
        http.get("/get")
    assert [i.request.method for i in read_file(path)] == ["GET"]


def test_a_sized_body_closed_unread_is_recorded_whole(server, tmp_path) -> None:
    path = tmp_path / "unread.json"
    with hookwire.Client(base_url=server.url, transport=CassetteTransport(path)) as http:
        with http.stream("GET", "/bytes/2000", params={"seed": "1"}) as r:
            assert r.status_code == 200  # the body is never read
        whole = http.get("/bytes/2000", params={"seed": "1"}).content
    assert read_file(path)[0].response.body == whole and len(whole) == 2000


def test_the_options_are_checked(tmp_path) -> None:
    with pytest.raises(hookwire.ConfigError, match="record mode must be one of"):
        CassetteTransport(tmp_path / "x.json", mode="record")
    with pytest.raises(hookwire.ConfigError, match="needs a cassette"):
        hookwire.Client(transport="cassette").get("http://127.0.0.1:9/")
    bad = tmp_path / "bad.json"
    bad.write_text("{}")
    with pytest.raises(hookwire.ConfigError, match=r"bad\.json"):
        CassetteTransport(bad)
    loop = CassetteTransport(tmp_path / "y.json", inner="cassette")
    http = hookwire.Client(transport=loop)
    with pytest.raises(hookwire.ConfigError, match="cannot record through another"):
        http.get("http://127.0.0.1:9/")
    http.close()


def test_one_cassette_object_per_file_while_in_use(server, tmp_path) -> None:
    path = tmp_path / "s.json"
    sync, other = CassetteTransport(path), AsyncCassetteTransport(str(path))
    assert sync.cassette is other.cassette  # one list of interactions, one writer
    assert CassetteTransport(path, mode="none").cassette is not sync.cassette
    with hookwire.Client(base_url=server.url, transport=sync) as http:
        http.get("/get")
    sync.close()  # twice: still one release
    with use_cassette(path) as block:
        assert block is other.cassette
    assert open_cassette(path) is not block
    # every holder gone: the next one reads the file, and mode once now only replays
    import asyncio

    asyncio.run(other.aclose())
    again = CassetteTransport(path)
    assert again.cassette is not sync.cassette and not again.cassette.can_record


def test_a_client_with_its_own_transport_is_not_captured(server, tmp_path) -> None:
    with use_cassette(tmp_path / "u.json", mode="all") as cassette:
        with hookwire.Client(transport="httpx") as http:
            http.get(server.url + "/get")
        with hookwire.Client() as http:
            http.get(server.url + "/get")
    assert len(cassette.interactions) == 1


async def test_use_cassette_captures_async_clients_too(server, tmp_path) -> None:
    path = tmp_path / "async-block.json"
    with use_cassette(path, mode="once"):
        async with hookwire.AsyncClient(base_url=server.url) as http:
            live = (await http.get("/get", params={"via": "block"})).json()
    server.stop()
    with use_cassette(path, mode="none") as cassette:
        async with hookwire.AsyncClient(base_url=server.url) as http:
            assert (await http.get("/get", params={"via": "block"})).json() == live
    assert cassette.play_count == 1


def test_a_scrubbed_body_replays_with_its_own_length(server, tmp_path) -> None:
    path = tmp_path / "echo.json"
    secret = "sk-echoed-back-0123456789"  # pragma: allowlist secret
    with hookwire.Client(base_url=server.url, transport=CassetteTransport(path)) as http:
        http.get("/headers", headers={"X-Api-Key": secret})
    assert secret not in path.read_text()
    with hookwire.Client(base_url=server.url,
                         transport=CassetteTransport(path, mode="none")) as http:
        r = http.get("/headers", headers={"X-Api-Key": secret})
    assert r.json()["headers"]["X-Api-Key"] == "<redacted>"
    assert r.headers["content-length"] == str(len(r.content))


def test_the_plugin_costs_a_program_without_cassettes_nothing() -> None:
    import subprocess
    import sys

    code = (
        "import sys\n"
        "from hookwire.plugins.transports import cassette\n"
        "print(cassette.hookwire_default_transport(is_async=False),\n"
        "      sorted(m for m in sys.modules if m.startswith('hookwire.mockserver')))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "None []"
