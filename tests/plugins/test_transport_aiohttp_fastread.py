"""The aiohttp transport's one-await body read (``aread_all``), against the live mock server.

The transport offers ``aread_all(limit)`` only for a body it knows is small enough: no
Content-Encoding (a compressed body can inflate without bound, so it streams in bounded
chunks) and a Content-Length within ``max_body_size``. A spy wraps the transport's real
``aread_all`` to see which way each body went; the bodies themselves are checked against
what the chunked path and the sync requests transport deliver.
"""

from __future__ import annotations

import inspect
from collections.abc import Iterator
from typing import Any

import pytest

import hookwire
from hookwire import errors
from hookwire.transports import TransportOptions
from tests._raw_server import RawServer, replying

pytest.importorskip("aiohttp")
aiohttp_transport = pytest.importorskip("hookwire.plugins.transports.aiohttp_transport")

pytestmark = pytest.mark.network

_POOL_2S = hookwire.Timeout(pool=2.0)


class _Spy:
    """What each ``aread_all`` call answered: "bytes", "none" or the exception's type."""

    def __init__(self) -> None:
        self.calls: list[tuple[int, str]] = []

    def outcomes(self) -> list[str]:
        return [outcome for _, outcome in self.calls]


def _stream_classes() -> list[type]:
    """The transport's body stream classes that offer ``aread_all`` (found, not named)."""
    return [
        cls
        for _, cls in inspect.getmembers(aiohttp_transport, inspect.isclass)
        if cls.__module__ == aiohttp_transport.__name__ and "aread_all" in vars(cls)
    ]


@pytest.fixture
def spy(monkeypatch: pytest.MonkeyPatch) -> Iterator[_Spy]:
    classes = _stream_classes()
    assert classes, "the aiohttp transport no longer offers aread_all on its body stream"
    record = _Spy()
    for cls in classes:
        real = cls.aread_all

        async def wrapped(self: Any, limit: int, _real: Any = real) -> bytes | None:
            try:
                whole = await _real(self, limit)
            except BaseException as exc:
                record.calls.append((limit, type(exc).__name__))
                raise
            record.calls.append((limit, "none" if whole is None else "bytes"))
            return whole  # type: ignore[no-any-return]

        monkeypatch.setattr(cls, "aread_all", wrapped)
    yield record


async def _get(server: Any, path: str, **client_kwargs: Any) -> hookwire.Response:
    async with hookwire.AsyncClient(transport="aiohttp", **client_kwargs) as client:
        return await client.get(server.join(path))


def _sync_body(server: Any, path: str) -> bytes:
    with hookwire.Client(transport="requests") as client:
        return client.get(server.join(path)).content


async def test_uncompressed_body_with_length_takes_the_one_shot_read(
    spy: _Spy, mock_server: Any
) -> None:
    r = await _get(mock_server, "/bytes/3000?seed=7", max_body_size=100_000)
    assert spy.calls == [(100_000, "bytes")]
    assert r.headers["content-length"] == "3000" and "content-encoding" not in r.headers
    assert r.content == _sync_body(mock_server, "/bytes/3000?seed=7")

    spy.calls.clear()
    r = await _get(mock_server, "/get?k=v")
    assert spy.outcomes() == ["bytes"]
    assert r.json()["args"] == {"k": "v"}


async def test_a_body_exactly_at_the_limit_still_takes_it(spy: _Spy, mock_server: Any) -> None:
    r = await _get(mock_server, "/bytes/1000?seed=3", max_body_size=1000)
    assert spy.calls == [(1000, "bytes")]
    assert len(r.content) == 1000


async def test_explicit_identity_encoding_takes_it(spy: _Spy, mock_server: Any) -> None:
    r = await _get(mock_server, "/response-headers?Content-Encoding=identity")
    assert r.headers["content-encoding"] == "identity"
    assert spy.outcomes() == ["bytes"]
    assert r.json()["Content-Encoding"] == "identity"


async def test_gzip_body_streams_in_bounded_chunks(spy: _Spy, mock_server: Any) -> None:
    r = await _get(mock_server, "/gzip")
    assert r.headers["content-encoding"] == "gzip"
    assert spy.outcomes() == ["none"]
    assert r.json()["gzipped"] is True


async def test_gzip_body_past_the_limit_after_inflating_is_stopped(
    spy: _Spy, mock_server: Any
) -> None:
    """Its Content-Length (compressed) fits; the inflated JSON does not: only the chunked
    path, which counts decoded bytes, can see that."""
    with hookwire.Client(transport="requests") as client:
        wire = client.get(mock_server.join("/gzip"), headers={"Accept-Encoding": "identity"})
        decoded = len(client.get(mock_server.join("/gzip")).content)
    compressed = int(wire.headers["content-length"])
    if not compressed < decoded:
        pytest.skip("the mock's /gzip body does not inflate past its compressed size")
    with pytest.raises(errors.BodyTooLarge):
        await _get(mock_server, "/gzip", max_body_size=compressed + (decoded - compressed) // 2)
    assert spy.outcomes() == ["none"]


async def test_chunked_body_without_length_streams(spy: _Spy, mock_server: Any) -> None:
    r = await _get(mock_server, "/stream-bytes/5000?seed=5&chunk_size=1000")
    assert "content-length" not in r.headers
    assert spy.outcomes() == ["none"]
    assert r.content == _sync_body(mock_server, "/stream-bytes/5000?seed=5&chunk_size=1000")


async def test_length_past_the_limit_streams_and_is_stopped(spy: _Spy, mock_server: Any) -> None:
    with pytest.raises(errors.BodyTooLarge):
        await _get(mock_server, "/bytes/1000", max_body_size=999)
    assert spy.calls == [(999, "none")]


async def test_head_with_a_length_reads_no_body(spy: _Spy, mock_server: Any) -> None:
    async with hookwire.AsyncClient(transport="aiohttp") as client:
        r = await client.head(mock_server.join("/bytes/1000"))
    assert r.headers["content-length"] == "1000"
    assert r.content == b""


async def test_the_pool_slot_is_free_after_each_kind_of_read(spy: _Spy, mock_server: Any) -> None:
    """With one connection slot, every later request needs the earlier one to give it back."""
    paths = ["/bytes/100", "/get", "/gzip", "/stream-bytes/100", "/bytes/200"]
    async with hookwire.AsyncClient(
        transport="aiohttp", max_connections=1, timeout=hookwire.Timeout(pool=2.0)
    ) as client:
        for path in paths * 2:
            assert (await client.get(mock_server.join(path))).status_code == 200
    assert spy.outcomes().count("bytes") == 6 and spy.outcomes().count("none") == 4


async def test_a_truncated_one_shot_body_fails_typed_and_frees_the_slot(
    spy: _Spy, mock_server: Any
) -> None:
    async with hookwire.AsyncClient(
        transport="aiohttp", max_connections=1, timeout=hookwire.Timeout(pool=2.0)
    ) as client:
        request = client.build_request(
            "GET", mock_server.join("/bytes/1000"), headers={"X-Mock-Fault": "close-after=2"}
        )
        with pytest.raises(errors.ReadError) as info:
            await client.send(request)
        assert info.value.request is request
        assert info.value.__cause__ is not None
        assert spy.outcomes() == ["ReadError"]
        # The single slot came back: the next request does not wait for the pool.
        assert (await client.get(mock_server.join("/bytes/10"))).content.__len__() == 10


async def test_aread_all_itself_frees_the_slot_without_aclose(mock_server: Any) -> None:
    """The ``AsyncByteStream.aread_all`` contract at the transport seam: once it has returned
    bytes, or raised, the connection is free, with no ``aclose()`` after it. (Through
    ``Response.aread()`` an ``aclose()`` always follows, which would hide a stream that
    broke the contract for any other caller.)"""
    transport = aiohttp_transport.AiohttpTransport(TransportOptions(max_connections=1))

    def request(path: str, **headers: str) -> hookwire.Request:
        return hookwire.Request(
            "GET", mock_server.join(path), headers=headers, extensions={"timeout": _POOL_2S}
        )

    try:
        first = await transport.handle_async_request(request("/bytes/100"))
        whole = await first._stream.aread_all(1000)  # the stream object the protocol names
        assert whole is not None and len(whole) == 100
        # One slot: this would wait out the pool timeout if aread_all had kept it.
        second = await transport.handle_async_request(request("/bytes/10"))
        assert len(await second.aread()) == 10

        broken = await transport.handle_async_request(
            request("/bytes/1000", **{"X-Mock-Fault": "close-after=2"})
        )
        with pytest.raises(errors.ReadError):
            await broken._stream.aread_all(10_000)
        third = await transport.handle_async_request(request("/bytes/10"))
        assert len(await third.aread()) == 10
    finally:
        await transport.aclose()


# -- the premise of Headers.from_wire: the parser never hands over CR, LF or NUL -------------


@pytest.mark.parametrize(
    ("raw_value", "expected"),
    [
        (b"a\x00b", None),  # NUL: refused
        (b"a\rb", None),  # bare CR: refused
        (b"a\r\n b", "a b"),  # obs-fold (RFC 9112 section 5.2): joined, no CR LF kept
    ],
    ids=["nul", "bare-cr", "obs-fold"],
)
async def test_response_headers_reach_from_wire_without_cr_lf_or_nul(
    raw_value: bytes, expected: str | None
) -> None:
    """``Headers.from_wire`` skips the CR/LF/NUL check because the backend's parser already
    refuses them; this pins that premise for the aiohttp transport."""
    reply = (
        b"HTTP/1.1 200 OK\r\nX-Odd: "
        + raw_value
        + b"\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok"
    )
    # bytes the mock server will not produce: a malformed header line
    with RawServer(replying(reply)) as server:
        url = server.url + "/"
        async with hookwire.AsyncClient(transport="aiohttp") as client:
            if expected is None:
                with pytest.raises(errors.ProtocolError):
                    await client.get(url)
                return
            r = await client.get(url)
        assert r.headers["x-odd"] == expected
        assert not any(c in v for _, v in r.headers.multi_items() for c in "\r\n\x00")
