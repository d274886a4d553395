"""The contract suite's fixtures: the transport matrix, and a raw server for a gzip bomb.

Every contract test takes ``make_client`` and runs once per (transport, face) pair:
``requests-sync``, ``httpx-sync``, ``httpx-async`` and ``aiohttp-async`` (skipped when aiohttp
is not installed); the cases and the :class:`~tests._transport_cases.Harness` the test bodies
drive live in ``tests/_transport_cases.py``, shared with the reliability suite.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests._raw_server import RawServer, replying
from tests._transport_cases import case as case
from tests._transport_cases import make_client as make_client
from tests._transport_cases import server as server


@pytest.fixture(scope="module")
def gzip_bomb() -> Iterator[RawServer]:
    """Serves 32 MiB of zeros as ~32 KiB of gzip."""
    import gzip

    body = gzip.compress(b"\0" * (32 * 1024 * 1024), compresslevel=9)
    head = (
        "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\n"
        f"Content-Encoding: gzip\r\nContent-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    )
    server = RawServer(replying(head.encode() + body))
    yield server
    server.close()
