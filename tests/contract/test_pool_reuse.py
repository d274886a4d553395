"""A burst of concurrent requests finds its connections again on every async transport.

The client keeps up to ``max_connections`` idle connections (``TransportOptions.max_keepalive``)
on every transport. Before, httpx and pyreqwest kept 20, so every burst wider than that
reconnected all but 20 of its connections: slower, and a trail of TIME_WAIT sockets. The server
here counts the connections it accepts and holds each wave's replies until the whole wave is in
flight, so the wave really needs ``WIDTH`` connections at once.
"""

from __future__ import annotations

import asyncio
import contextlib

import pytest

import hookwire
from tests._transport_cases import CASES, Case, ensure_transport

pytestmark = pytest.mark.network

WIDTH = 32
ASYNC_CASES = [c for c in CASES if c.values[0].is_async]  # type: ignore[union-attr]


class _CountingServer:
    """HTTP/1.1 keep-alive on loopback; each wave's replies wait until WIDTH heads arrived."""

    def __init__(self) -> None:
        self.connections = 0
        self._heads = 0
        self._wave = asyncio.Event()
        self._server: asyncio.Server | None = None

    async def start(self) -> str:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        port = self._server.sockets[0].getsockname()[1]
        return f"http://127.0.0.1:{port}"

    def next_wave(self) -> None:
        self._heads = 0
        self._wave = asyncio.Event()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            while True:
                try:
                    await reader.readuntil(b"\r\n\r\n")
                except (asyncio.IncompleteReadError, ConnectionError):
                    return
                wave = self._wave
                self._heads += 1
                if self._heads >= WIDTH:
                    wave.set()
                await asyncio.wait_for(wave.wait(), 10)
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
                await writer.drain()
        finally:
            writer.close()

    async def close(self) -> None:
        assert self._server is not None
        self._server.close()
        await self._server.wait_closed()


@pytest.mark.parametrize("case", ASYNC_CASES)
def test_a_second_burst_reuses_the_first_bursts_connections(case: Case) -> None:
    ensure_transport(case.transport)

    async def main() -> tuple[int, list[str]]:
        server = _CountingServer()
        url = await server.start()
        bodies: list[str] = []
        try:
            async with hookwire.AsyncClient(transport=case.transport) as client:
                for _ in range(2):
                    server.next_wave()
                    replies = await asyncio.gather(
                        *(client.get(f"{url}/x") for _ in range(WIDTH))
                    )
                    bodies += [r.text for r in replies]
                    # Let the pool take back every connection before the next burst.
                    await asyncio.sleep(0.05)
        finally:
            await server.close()
        return server.connections, bodies

    connections, bodies = asyncio.run(main())
    assert bodies == ["ok"] * (2 * WIDTH)
    assert connections == WIDTH  # not WIDTH + (WIDTH - 20): nothing reconnected


def test_the_client_hands_transports_its_connection_bound_as_the_keepalive_bound() -> None:
    seen: list[hookwire.TransportOptions] = []

    class Recording(hookwire.AsyncBaseTransport):
        def __init__(self, options: hookwire.TransportOptions, **_: object) -> None:
            seen.append(options)

    host = hookwire.PluginHost()

    class Plugin:
        @hookwire.hookimpl
        def hookwire_register_transports(self, register: object) -> None:
            register("recording", async_=Recording)  # type: ignore[operator]

    host.register(Plugin(), "recording")
    client = hookwire.AsyncClient(transport="recording", plugins=host, max_connections=7)
    client._make_transport()
    assert seen[0].max_connections == 7
    assert seen[0].max_keepalive == 7


@pytest.mark.parametrize("case", ASYNC_CASES)
def test_a_kept_connection_the_server_closed_while_idle_is_not_reused(case: Case) -> None:
    """The server answers (keep-alive, no ``Connection: close``) and then hangs up. The next
    request must see that the idle connection is gone and open a new one: sending on the dead
    one would fail with "the server closed the connection without a response"."""
    ensure_transport(case.transport)
    accepted: list[int] = []

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        accepted.append(1)
        with contextlib.suppress(asyncio.IncompleteReadError, ConnectionError):
            await reader.readuntil(b"\r\n\r\n")
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
            await writer.drain()
        writer.close()

    async def main() -> list[str]:
        server = await asyncio.start_server(serve, "127.0.0.1", 0)
        url = f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}/x"
        texts = []
        try:
            async with hookwire.AsyncClient(transport=case.transport) as client:
                for _ in range(3):
                    texts.append((await client.get(url)).text)
                    await asyncio.sleep(0.1)  # the FIN reaches the idle pooled connection
        finally:
            server.close()
            await server.wait_closed()
        return texts

    assert asyncio.run(main()) == ["ok", "ok", "ok"]
    assert len(accepted) == 3
