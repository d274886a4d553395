"""Cassettes: recorded HTTP and LLM traffic, replayed with no network.

Standard library only (no starlette, no SDK), so three users share it without crossing a
boundary: the mock server serving a cassette (``hookwire mock serve --cassette f``), hookwire's
cassette transport plugin (``hookwire.plugins.transports.cassette``, which records through a
real transport and replays in-process) and the pytest marker (``pytest_plugin``).

| module        | holds                                                                 |
|---------------|-----------------------------------------------------------------------|
| ``_format``   | the file: interactions as JSON (bodies as JSON, text or base64; chunks) |
| ``_scrub``    | secrets out before anything is written (headers, query, JSON fields)  |
| ``_match``    | the matching rules, each able to say how two requests differ          |
| ``_cassette`` | a cassette in use: record modes, playback, the active cassette        |
| ``asgi``      | answering one HTTP request from a cassette (the mock server's mode)   |

docs/cassettes.md is the guide.
"""

from __future__ import annotations

from hookwire.mockserver.cassette._cassette import (
    RECORD_MODES,
    Cassette,
    CassetteMismatch,
    active,
    use,
)
from hookwire.mockserver.cassette._format import (
    FORMAT_VERSION,
    CassetteFormatError,
    Interaction,
    RecordedRequest,
    RecordedResponse,
    dumps,
    loads,
    read_file,
    write_file,
)
from hookwire.mockserver.cassette._match import (
    DEFAULT_IGNORE_FIELDS,
    DEFAULT_MATCH_ON,
    SERVER_MATCH_ON,
)
from hookwire.mockserver.cassette._scrub import PLACEHOLDER, Scrubber

__all__ = [
    "DEFAULT_IGNORE_FIELDS",
    "DEFAULT_MATCH_ON",
    "FORMAT_VERSION",
    "PLACEHOLDER",
    "RECORD_MODES",
    "SERVER_MATCH_ON",
    "Cassette",
    "CassetteFormatError",
    "CassetteMismatch",
    "Interaction",
    "RecordedRequest",
    "RecordedResponse",
    "Scrubber",
    "active",
    "dumps",
    "loads",
    "read_file",
    "use",
    "write_file",
]
