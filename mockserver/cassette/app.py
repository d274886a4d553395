"""The mock app in cassette mode: every request (but the mock's own control paths) is answered
from a cassette instead of the route table.

``create_app(MockConfig(cassette="f.json"))`` builds one (``hookwire mock serve --cassette f``
on the command line). Everything around the endpoints stays: the journal, metrics, the API key
check (``api_key=``), fault headers and scenario rules; only what answers changes. The cassette
replays only (mode ``none``), matches on method, path, query and body (the server answers on
its own host and port, not the recorded ones) and lets an interaction play again, since any
number of clients may replay one recording against one server.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from hookwire.mockserver.app import MockApp
from hookwire.mockserver.cassette import asgi
from hookwire.mockserver.cassette._cassette import Cassette
from hookwire.mockserver.cassette._format import CassetteFormatError
from hookwire.mockserver.cassette._match import SERVER_MATCH_ON
from hookwire.mockserver.config import ConfigError, MockConfig
from hookwire.mockserver.routing import Route


def load_for_serving(path: Any) -> Cassette:
    """The cassette a server replays; a ConfigError naming the file when it cannot."""
    try:
        cassette = Cassette(path, mode="none", match_on=SERVER_MATCH_ON,
                            allow_playback_repeats=True)
    except CassetteFormatError as exc:
        raise ConfigError(f"cassette: {exc}") from None
    if not cassette.loaded:
        raise ConfigError(f"cassette: {path} does not exist")
    return cassette


class CassetteApp(MockApp):
    """A `MockApp` whose endpoints are one cassette (see the module docstring)."""

    def __init__(self, config: MockConfig, routes: Iterable[Route] | None = None) -> None:
        super().__init__(config, routes)
        self.cassette = load_for_serving(config.cassette)
        self._fast = {}  # no fast path: every request goes through _dispatch

    async def _dispatch(self, scope: dict[str, Any], receive: Any, send: Any) -> str:
        body = b""
        more = True
        while more:
            message = await receive()
            if message["type"] != "http.request":
                return "(cassette)"
            body += message.get("body", b"")
            more = message.get("more_body", False)
        timing = bool(self.config.cassette_timing)
        return await asgi.serve(self.cassette, scope, body, send, timing=timing)
