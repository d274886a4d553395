"""Secrets hidden from what the CLI prints: header values, query parameters, URL credentials.

The rules are by name, so they also catch secrets the SDK never saw (a header the user typed):

| what                              | shown as                                    |
|-----------------------------------|---------------------------------------------|
| ``Authorization: Bearer abc``     | ``Authorization: Bearer [REDACTED]``        |
| ``Cookie: a=1; b=2``              | ``Cookie: a=[REDACTED]; b=[REDACTED]``      |
| ``Set-Cookie: s=1; Path=/``       | ``Set-Cookie: s=[REDACTED]; Path=/``        |
| ``X-Api-Key``, ``*-Token`` ...    | ``[REDACTED]``                              |
| ``?api_key=abc&q=1``              | ``?api_key=[REDACTED]&q=1``                 |
| ``http://u:p@host/``              | ``http://host/`` (:func:`public_url`)       |

Keeping the scheme and the cookie names shows what was sent without showing the secret.
"""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

REDACTED = "[REDACTED]"

_SCHEMED = frozenset({"authorization", "proxy-authorization"})
_SECRET_WORDS = ("key", "token", "secret", "passw", "signature", "x-auth")
# Query parameters also carry short names and signed-URL fields (X-Amz-Credential=...).
_SECRET_PARAMS = frozenset({"sig", "auth", "pwd", "code", "session", "sid"})
_SECRET_PARAM_WORDS = (*_SECRET_WORDS, "credential")


def is_secret_name(name: str) -> bool:
    lowered = name.strip().lower()
    return lowered in _SCHEMED or any(word in lowered for word in _SECRET_WORDS)


def _cookie_pairs(value: str) -> str:
    pairs = []
    for pair in value.split(";"):
        name, sep, _ = pair.strip().partition("=")
        pairs.append(f"{name}={REDACTED}" if sep else pair.strip())
    return "; ".join(pairs)


def header_value(name: str, value: str) -> str:
    """``value`` as it may be shown for header ``name``."""
    lowered = name.lower()
    if lowered in _SCHEMED:
        scheme, sep, _ = value.partition(" ")
        return f"{scheme} {REDACTED}" if sep else REDACTED
    if lowered == "cookie":
        return _cookie_pairs(value)
    if lowered == "set-cookie":
        first, sep, attributes = value.partition(";")
        return _cookie_pairs(first) + (sep + attributes if sep else "")
    return REDACTED if is_secret_name(name) else value


def headers(pairs: list[tuple[str, str]]) -> list[tuple[str, str]]:
    return [(name, header_value(name, value)) for name, value in pairs]


def is_secret_param(name: str) -> bool:
    lowered = name.lower()
    return lowered in _SECRET_PARAMS or any(word in lowered for word in _SECRET_PARAM_WORDS)


def query(text: str) -> str:
    """A raw query string with secret-looking parameters' values replaced (encoding kept)."""
    parts = []
    for part in text.split("&"):
        name, sep, _ = part.partition("=")
        parts.append(f"{name}={REDACTED}" if sep and is_secret_param(name) else part)
    return "&".join(parts)


def target(url: str) -> str:
    """The request target of a request line: path and redacted query (``/get?key=[...]``)."""
    parts = urlsplit(url)
    path = parts.path or "/"
    return f"{path}?{query(parts.query)}" if parts.query else path


def public_url(url: str | None) -> str | None:
    """``url`` without user:password, query or fragment: safe to print and to store."""
    if not url:
        return url
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        if ":" in host:
            host = f"[{host}]"
        if parts.port:
            host = f"{host}:{parts.port}"
    except ValueError:  # an unparseable URL: keep only what cannot hold a secret
        return url.split("?", 1)[0].rpartition("@")[2]
    return urlunsplit((parts.scheme, host, parts.path, "", ""))
