"""The request as it went on the wire, for ``hookwire http -v``.

``Request.headers`` holds what the client chose (defaults, auth, cookies, Content-Length);
the built-in transports then add their framing headers, all in one place
(``hookwire.plugins.transports._common.wire_headers``: ``Accept-Encoding`` when none was set,
``Content-Length`` for a sized file body), and the HTTP library writes ``Host`` first. The
request line and header list shown here are rebuilt from those same rules, so ``-v`` shows
every header the server receives, in order; a third-party transport that adds its own would
not be covered.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

_DEFAULT_PORTS = {"http": 80, "https": 443}


def host_header(url: str) -> str:
    """``Host`` as HTTP libraries write it: the port only when it is not the scheme's own."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    if parts.port is not None and parts.port != _DEFAULT_PORTS.get(parts.scheme):
        host = f"{host}:{parts.port}"
    return host


def _framing(request: Any) -> list[tuple[str, str]]:
    try:
        from hookwire.plugins.transports._common import wire_headers
    except ImportError:  # the built-in transports are not installed: show the request's own
        return list(request.headers.multi_items())
    return list(wire_headers(request))


def sent_headers(request: Any) -> list[tuple[str, str]]:
    """Every header of ``request`` as sent (unredacted: redact before printing)."""
    pairs = _framing(request)
    if not any(name.lower() == "host" for name, _ in pairs):
        pairs.insert(0, ("Host", host_header(str(request.url))))
    return pairs
