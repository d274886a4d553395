"""The transport matrix shared by the contract and reliability suites.

Each case is one (transport, face) pair: ``requests-sync``, ``httpx-sync``, ``httpx-async``,
``aiohttp-async``, ``pyreqwest-async``, ``native-sync`` and ``native-async`` (the last four
skipped when their library, aiohttp, pyreqwest or httptools, is not installed). Test bodies are
written once, against :class:`Harness`, which drives an ``hookwire.Client`` directly or an
``hookwire.AsyncClient`` on a private event loop, so one body proves the same observable
behaviour on all seven.

Usage from a ``conftest.py`` (pytest registers fixtures imported into a conftest's namespace;
the ``as`` spelling marks them as deliberate re-exports)::

    from tests._transport_cases import case as case
    from tests._transport_cases import make_client as make_client
    from tests._transport_cases import server as server

Then a test takes ``make_client`` and calls ``make_client(**Client kwargs) -> Harness``; every
harness it made is closed after the test. A test that builds its own matrix can parametrize
over ``CASES`` and construct ``Harness(case, **kwargs)`` itself (closing it with ``close()``).
"""

from __future__ import annotations

import asyncio
import importlib.util
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest

import hookwire
from hookwire import FakeClock


@dataclass(frozen=True)
class Case:
    """One matrix entry: a transport plugin name and whether to drive it through AsyncClient."""

    transport: str
    is_async: bool

    @property
    def id(self) -> str:
        return f"{self.transport}-{'async' if self.is_async else 'sync'}"


_HAS_AIOHTTP = importlib.util.find_spec("aiohttp") is not None
_HAS_PYREQWEST = importlib.util.find_spec("pyreqwest") is not None
_HAS_HTTPTOOLS = importlib.util.find_spec("httptools") is not None

CASES = [
    pytest.param(Case("requests", False), id="requests-sync"),
    pytest.param(Case("httpx", False), id="httpx-sync"),
    pytest.param(Case("httpx", True), id="httpx-async"),
    pytest.param(
        Case("aiohttp", True),
        id="aiohttp-async",
        marks=pytest.mark.skipif(not _HAS_AIOHTTP, reason="aiohttp is not installed"),
    ),
    pytest.param(
        Case("pyreqwest", True),
        id="pyreqwest-async",
        marks=pytest.mark.skipif(not _HAS_PYREQWEST, reason="pyreqwest is not installed"),
    ),
    pytest.param(
        Case("native", False),
        id="native-sync",
        marks=pytest.mark.skipif(not _HAS_HTTPTOOLS, reason="httptools is not installed"),
    ),
    pytest.param(
        Case("native", True),
        id="native-async",
        marks=pytest.mark.skipif(not _HAS_HTTPTOOLS, reason="httptools is not installed"),
    ),
]


def ensure_transport(name: str) -> None:
    """Register a built-in transport plugin that an older editable install does not list yet
    (its entry point is newer than the install's metadata); with a fresh install a no-op."""
    host = hookwire.get_plugin_host()
    if name == "pyreqwest" and name not in host.transports():
        from hookwire.plugins.transports import pyreqwest_transport

        host.register(pyreqwest_transport, "transport-pyreqwest")


class Harness:
    """One client of the case's kind, with sync-looking helpers for the test bodies."""

    def __init__(self, case: Case, **kwargs: Any) -> None:
        self.case = case
        kwargs.setdefault("clock", FakeClock())
        self.clock = kwargs["clock"]
        ensure_transport(case.transport)
        cls = hookwire.AsyncClient if case.is_async else hookwire.Client
        self.client: Any = cls(transport=case.transport, **kwargs)
        self._loop = asyncio.new_event_loop() if case.is_async else None
        self._closed = False

    def run(self, coro: Any) -> Any:
        assert self._loop is not None
        return self._loop.run_until_complete(coro)

    def request(self, method: str, url: str, **kwargs: Any) -> hookwire.Response:
        if self._loop is None:
            return self.client.request(method, url, **kwargs)  # type: ignore[no-any-return]
        return self.run(self.client.request(method, url, **kwargs))  # type: ignore[no-any-return]

    def get(self, url: str, **kwargs: Any) -> hookwire.Response:
        return self.request("GET", url, **kwargs)

    def post(self, url: str, **kwargs: Any) -> hookwire.Response:
        return self.request("POST", url, **kwargs)

    def stream(
        self, method: str, url: str, *, take: int | None = None, lines: bool = False, **kwargs: Any
    ) -> tuple[hookwire.Response, list[Any]]:
        """Open a stream, collect up to ``take`` chunks (or lines), close it (early if ``take``)."""
        if self._loop is None:
            with self.client.stream(method, url, **kwargs) as response:
                items = []
                source = response.iter_lines() if lines else response.iter_bytes()
                for item in source:
                    items.append(item)
                    if take is not None and len(items) >= take:
                        break
                return response, items

        async def collect() -> tuple[hookwire.Response, list[Any]]:
            async with self.client.stream(method, url, **kwargs) as response:
                items = []
                source = response.aiter_lines() if lines else response.aiter_bytes()
                async for item in source:
                    items.append(item)
                    if take is not None and len(items) >= take:
                        break
                return response, items

        return self.run(collect())  # type: ignore[no-any-return]

    def open_stream(self, method: str, url: str, **kwargs: Any) -> hookwire.Response:
        """Send with the body left unread (the caller must ``close_response``)."""
        request = self.client.build_request(method, url, **kwargs)
        if self._loop is None:
            return self.client.send(request, stream=True)  # type: ignore[no-any-return]
        return self.run(self.client.send(request, stream=True))  # type: ignore[no-any-return]

    def close_response(self, response: hookwire.Response) -> None:
        if self._loop is None:
            response.close()
        else:
            self.run(response.aclose())

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        if self._loop is None:
            self.client.close()
            return
        try:
            self.run(self.client.aclose())
            self.run(asyncio.sleep(0))  # let transports finish closing their sockets
            # Join the loop's resolver threads (getaddrinfo for a host name runs in its default
            # executor): loop.close() alone lets them end later, inside some other test.
            self.run(self._loop.shutdown_default_executor())
        finally:
            self._loop.close()


@pytest.fixture(params=CASES)
def case(request: pytest.FixtureRequest) -> Case:
    """The (transport, face) case this test instance runs on; ids as in ``CASES``."""
    return request.param  # type: ignore[no-any-return]


@pytest.fixture
def make_client(case: Case) -> Iterator[Callable[..., Harness]]:
    """``make_client(**Client kwargs) -> Harness`` on the case's transport; closed afterwards."""
    made: list[Harness] = []

    def factory(**kwargs: Any) -> Harness:
        harness = Harness(case, **kwargs)
        made.append(harness)
        return harness

    yield factory
    for harness in made:
        harness.close()


@pytest.fixture
def server(mock_server: Any) -> Any:
    """The shared live mock server with an empty journal."""
    mock_server.reset()
    return mock_server
