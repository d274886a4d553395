"""Brotli and layered decompression bombs are bounded like gzip and deflate (test_leaks.py).

``_hostile.BOMB_MB`` MiB of zeros as brotli (a few hundred bytes) and as brotli around the
hostile server's gzip bomb (``Content-Encoding: gzip, br``), served byte for byte by a raw
loopback server, against ``max_body_size=1 MiB`` on every transport: the same
``BodyTooLarge``, and the Python heap's peak growth (tracemalloc) a few MiB, not the bomb's
size. Every transport hands its raw reads to the core's ``ContentDecoder``, which yields at most
64 KiB per step however deep the layers go, so the limit check runs before anything balloons.
"""

from __future__ import annotations

import functools
import tracemalloc
from collections.abc import Iterator

import psutil
import pytest

from hookwire import errors
from tests._raw_server import RawServer, replying
from tests.reliability import _hostile, _report

pytestmark = pytest.mark.network

brotli = pytest.importorskip("brotli")

MIB = 1024 * 1024


@functools.lru_cache(maxsize=2)
def _bomb(coding: str) -> bytes:
    if coding == "br":
        return brotli.compress(bytes(_hostile.BOMB_MB * MIB), quality=5)  # type: ignore[no-any-return]
    return brotli.compress(_hostile.bomb("gzip"))  # type: ignore[no-any-return]


@pytest.fixture(scope="module", params=["br", "gzip, br"])
def bomb_server(request: pytest.FixtureRequest) -> Iterator[tuple[str, RawServer]]:
    coding = request.param
    body = _bomb(coding)
    head = (
        "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\n"
        f"Content-Encoding: {coding}\r\nContent-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    )
    server = RawServer(replying(head.encode() + body))
    yield coding, server
    server.close()


def test_a_brotli_or_layered_bomb_is_stopped_with_bounded_memory(make_client, bomb_server):
    coding, server = bomb_server
    client = make_client(max_body_size=MIB)
    rss = psutil.Process().memory_info().rss
    tracemalloc.start()
    try:
        with pytest.raises(errors.BodyTooLarge) as info:
            client.get(server.url + "/bomb")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    rss_growth = psutil.Process().memory_info().rss - rss
    assert type(info.value) is errors.BodyTooLarge
    assert str(info.value) == f"response body passed its size limit of {MIB} bytes"
    assert info.value.limit == MIB
    assert peak < 16 * MIB, f"peak Python heap {peak / MIB:.1f} MiB for a 1 MiB limit"
    assert rss_growth < 48 * MIB, f"RSS grew {rss_growth / MIB:.1f} MiB"
    _report.note(
        "bomb",
        f"{client.case.id}-{coding.replace(', ', '+')}",
        {
            "bomb_mib": _hostile.BOMB_MB,
            "wire_bytes": len(_bomb(coding)),
            "limit_mib": 1,
            "peak_heap_mib": round(peak / MIB, 2),
        },
    )
