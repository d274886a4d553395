"""URL building, validation and the origin rules used for redirects and proxies."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping, Sequence
from urllib.parse import parse_qsl, quote, urlencode, urljoin, urlsplit, urlunsplit

from sdk.errors import InvalidURL

ParamValue = str | int | float | bool | None
QueryParams = (
    Mapping[str, ParamValue | Sequence[ParamValue]] | Sequence[tuple[str, ParamValue]] | str | None
)

_DEFAULT_PORTS = {"http": 80, "https": 443}
_CONTROL_CHARS = re.compile(r"[\x00-\x1f\x7f]")
_SAFE_PATH = "/:@!$&'()*+,;=-._~%"


def _param_text(value: ParamValue) -> str:
    if value is True:
        return "true"
    if value is False:
        return "false"
    return "" if value is None else str(value)


def encode_params(params: QueryParams) -> list[tuple[str, str]]:
    """Flatten any accepted ``params=`` form into (name, value) pairs; lists repeat the name."""
    if params is None:
        return []
    if isinstance(params, str):
        return parse_qsl(params.lstrip("?"), keep_blank_values=True)
    pairs: list[tuple[str, str]] = []
    items = params.items() if isinstance(params, Mapping) else params
    for key, value in items:
        if isinstance(value, (list, tuple)):
            pairs.extend((str(key), _param_text(v)) for v in value)
        else:
            pairs.append((str(key), _param_text(value)))  # type: ignore[arg-type]
    return pairs


def build_url(base_url: str, url: str, params: QueryParams = None) -> str:
    """Join ``url`` onto ``base_url`` and append ``params`` to any query it already has."""
    if base_url and not urlsplit(url).scheme:
        base = base_url if base_url.endswith("/") else base_url + "/"
        url = urljoin(base, url.lstrip("/")) if url else base_url
    validate_url(url)
    extra = encode_params(params)
    if not extra:
        return url
    parts = urlsplit(url)
    query = parts.query + "&" + urlencode(extra) if parts.query else urlencode(extra)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, parts.fragment))


def validate_url(url: str) -> None:
    """Reject what cannot be sent: no scheme or host, or control characters anywhere."""
    if _CONTROL_CHARS.search(url):
        raise InvalidURL(f"URL contains control characters: {redact_url(url)[:80]!r}")
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError as exc:
        raise InvalidURL(f"invalid URL {redact_url(url)[:80]!r}: {exc}") from exc
    if parts.scheme not in ("http", "https"):
        raise InvalidURL(f"URL scheme must be http or https: {redact_url(url)[:80]!r}")
    if not parts.hostname:
        raise InvalidURL(f"URL has no host: {redact_url(url)[:80]!r}")


def origin(url: str) -> tuple[str, str, int]:
    """(scheme, host, port) with the default port filled in, for same-origin checks."""
    parts = urlsplit(url)
    port = parts.port or _DEFAULT_PORTS.get(parts.scheme, 0)
    return parts.scheme, (parts.hostname or "").lower(), port


def request_target(url: str) -> str:
    """The path and query as sent on the request line (what digest hashes as ``uri``)."""
    parts = urlsplit(url)
    path = quote(parts.path or "/", safe=_SAFE_PATH)
    return f"{path}?{parts.query}" if parts.query else path


def redact_url(url: str) -> str:
    """The URL with any user:password@ credentials hidden."""
    parts = urlsplit(url)
    if parts.password is None and parts.username is None:
        return url
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return urlunsplit((parts.scheme, f"[REDACTED]@{host}", parts.path, parts.query, parts.fragment))


def userinfo(url: str) -> tuple[str, str] | None:
    """Credentials embedded in the URL, if any (used for basic auth, then removed)."""
    parts = urlsplit(url)
    if parts.username is None:
        return None
    from urllib.parse import unquote

    return unquote(parts.username), unquote(parts.password or "")


def strip_userinfo(url: str) -> str:
    parts = urlsplit(url)
    if parts.username is None:
        return url
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return urlunsplit((parts.scheme, host, parts.path, parts.query, parts.fragment))


_env_cache: tuple[object, dict[str, str]] | None = None


def _lowered_environ() -> dict[str, str]:
    """``os.environ`` with lower-cased names, rebuilt only when the environment changed.

    Decoding and lower-casing every variable cost ~30 us per request; comparing a snapshot of
    CPython's underlying ``os.environ._data`` (ordered, so the same spelling wins on a clash) is
    ~1 us. Any ``os.environ`` assignment or deletion changes the snapshot.
    """
    global _env_cache
    data = getattr(os.environ, "_data", None)
    if not isinstance(data, dict):  # not CPython's _Environ: no cheap snapshot
        return {k.lower(): v for k, v in os.environ.items()}
    snapshot = tuple(data.items())
    cached = _env_cache
    if cached is not None and cached[0] == snapshot:
        return cached[1]
    lowered = {k.lower(): v for k, v in os.environ.items()}
    _env_cache = (snapshot, lowered)
    return lowered


def proxy_from_env(url: str, environ: Mapping[str, str] | None = None) -> str | None:
    """The proxy for ``url`` from HTTP(S)_PROXY / ALL_PROXY, honouring NO_PROXY."""
    env = _lowered_environ() if environ is None else {k.lower(): v for k, v in environ.items()}
    scheme, host, port = origin(url)
    no_proxy = env.get("no_proxy", "")
    for entry in (e.strip().lower() for e in no_proxy.split(",")):
        if not entry:
            continue
        if entry == "*":
            return None
        name, _, entry_port = entry.partition(":")
        if entry_port and entry_port != str(port):
            continue
        name = name.lstrip(".")
        if host == name or host.endswith("." + name):
            return None
    return env.get(f"{scheme}_proxy") or env.get("all_proxy") or None
