"""URL building, validation and the origin rules used for redirects and proxies."""

from __future__ import annotations

import functools
import ipaddress
import os
import re
from collections.abc import Mapping, Sequence
from urllib.parse import parse_qsl, quote, urlencode, urljoin, urlsplit, urlunsplit

from hookwire.errors import InvalidURL

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
    try:
        relative = bool(base_url) and not urlsplit(url).scheme
    except ValueError as exc:
        raise InvalidURL(f"invalid URL {redact_url(url)[:80]!r}: {exc}") from exc
    if relative:
        base = base_url if base_url.endswith("/") else base_url + "/"
        url = urljoin(base, url.lstrip("/")) if url else base_url
    validate_url(url)
    extra = encode_params(params)
    if not extra:
        return url
    parts = urlsplit(url)
    query = parts.query + "&" + urlencode(extra) if parts.query else urlencode(extra)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, parts.fragment))


#: URLs that passed ``validate_url``: the check is a pure function of the string, and a client
#: sends the same few URLs over and over (the check's two URL parses cost ~1.2 us a request).
_valid_urls: set[str] = set()
_VALID_URLS_MAX = 256


def validate_url(url: str) -> None:
    """Reject what cannot be sent: no scheme or host, or control characters anywhere."""
    if url in _valid_urls:
        return
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
    if len(_valid_urls) >= _VALID_URLS_MAX:
        _valid_urls.clear()  # bounded: many distinct URLs just start the set over
    _valid_urls.add(url)


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


#: Query parameters whose values are credentials (compared lower-cased): an API key in the
#: URL (``?key=`` for Google, ``?api_key=``), OAuth tokens and codes, signed-URL signatures.
SECRET_PARAMS = frozenset(
    {
        "api_key", "apikey", "api-key", "key", "token", "access_token", "refresh_token",
        "id_token", "auth", "authorization", "sig", "signature", "secret", "client_secret",
        "password", "passwd", "pwd", "code", "session", "sessionid", "x-amz-signature",
        "x-amz-security-token", "x-amz-credential", "x-goog-signature", "x-goog-credential",
    }
)
_SECRET_QUERY = re.compile(
    r"(?:^|(?<=[&;]))(" + "|".join(re.escape(p) for p in sorted(SECRET_PARAMS)) + r")=[^&;#]*",
    re.IGNORECASE,
)
_HIDDEN = r"\1=[REDACTED]"


def redact_url(url: str) -> str:
    """The URL with user:password@ credentials and secret query values (:data:`SECRET_PARAMS`)
    hidden; never raises (it builds messages, reprs and log lines)."""
    if "@" not in url and "?" not in url:
        return url
    try:
        parts = urlsplit(url)
        query = _SECRET_QUERY.sub(_HIDDEN, parts.query) if parts.query else ""
        if parts.password is None and parts.username is None:
            if query == parts.query:
                return url
            netloc = parts.netloc
        else:
            host = parts.hostname or ""
            if parts.port:
                host = f"{host}:{parts.port}"
            netloc = f"[REDACTED]@{host}"
    except ValueError:
        # Unparseable (a bad IPv6 literal or port): hide anything that could be userinfo.
        scheme, sep, rest = url.partition("//")
        if "@" in rest:
            rest = f"[REDACTED]@{rest.rpartition('@')[2]}"
        head, mark, tail = rest.partition("?")
        return f"{scheme}{sep}{head}{mark}{_SECRET_QUERY.sub(_HIDDEN, tail)}"
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


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


#: (what ``os.environ._data`` was: a dict copy, or an ordered snapshot; the lowered view)
_env_cache: tuple[object, dict[str, str]] | None = None


def _lowered_environ() -> dict[str, str]:
    """``os.environ`` with lower-cased names, rebuilt only when the environment changed.

    Decoding and lower-casing every variable cost ~30 us per request, so the result is cached
    against a copy of CPython's underlying ``os.environ._data``; any ``os.environ`` assignment
    or deletion changes that dict. Comparing two dicts (~0.3 us) ignores order, which is safe
    unless two names differ only in case (``HTTP_PROXY`` and ``http_proxy``): then the later
    one wins, so only for such an environment is the ordered snapshot compared (~1.5 us).
    """
    global _env_cache
    data = getattr(os.environ, "_data", None)
    if not isinstance(data, dict):  # not CPython's _Environ: no cheap snapshot
        return {k.lower(): v for k, v in os.environ.items()}
    cached = _env_cache
    if cached is not None:
        seen = cached[0]
        if (seen == data) if isinstance(seen, dict) else (seen == tuple(data.items())):
            return cached[1]
    lowered = {k.lower(): v for k, v in os.environ.items()}
    clash = len(lowered) != len(data)
    _env_cache = (tuple(data.items()) if clash else dict(data), lowered)
    return lowered


#: One NO_PROXY entry: every host ("*"), an IP network ("10.0.0.0/8", "::1", "[fd00::1]:8080",
#: "10.1.2.3:443"), or a host name and its subdomains (".example.com", "example.com:8080");
#: the last field is the port it is limited to, "" for any.
_NoProxyRule = tuple[str, ipaddress.IPv4Network | ipaddress.IPv6Network | str | None, str]


def _network(text: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network | None:
    try:
        return ipaddress.ip_network(text, strict=False)
    except ValueError:
        return None


@functools.lru_cache(maxsize=16)
def _no_proxy_rules(no_proxy: str) -> tuple[_NoProxyRule, ...]:
    """NO_PROXY parsed once per distinct value (it is read for every proxied request)."""
    rules: list[_NoProxyRule] = []
    for entry in (e.strip().lower() for e in no_proxy.split(",")):
        if not entry:
            continue
        if entry == "*":
            return (("*", None, ""),)
        net = _network(entry)  # CIDR ranges and bare addresses, IPv4 and IPv6 (requests' habit)
        if net is not None:
            rules.append(("net", net, ""))
            continue
        if entry.startswith("["):  # "[::1]" or "[::1]:8080"
            address, _, rest = entry[1:].partition("]")
            net = _network(address)
            if net is not None:
                rules.append(("net", net, rest[1:] if rest.startswith(":") else ""))
                continue
        name, _, port = entry.partition(":")
        net = _network(name)
        if net is not None:  # "10.1.2.3:443"
            rules.append(("net", net, port))
        else:
            rules.append(("host", name.lstrip("."), port))
    return tuple(rules)


def _bypasses_proxy(no_proxy: str, host: str, port: int) -> bool:
    rules = _no_proxy_rules(no_proxy)
    if not rules:
        return False
    address: ipaddress.IPv4Address | ipaddress.IPv6Address | bool | None = False  # not parsed
    for kind, value, rule_port in rules:
        if kind == "*":
            return True
        if rule_port and rule_port != str(port):
            continue
        if isinstance(value, str):  # a host name
            if host == value or host.endswith("." + value):
                return True
            continue
        if address is False:
            try:
                address = ipaddress.ip_address(host)
            except ValueError:
                address = None  # a host name: only name rules can match it (no DNS lookups)
        if address is not None and value is not None and address in value:
            return True
    return False


def proxy_from_env(url: str, environ: Mapping[str, str] | None = None) -> str | None:
    """The proxy for ``url`` from HTTP(S)_PROXY / ALL_PROXY, honouring NO_PROXY: host names
    (with their subdomains), ``*``, and, as requests does, IP addresses and CIDR ranges
    (``10.0.0.0/8``, ``fd00::/8``), each optionally limited to a port."""
    env = _lowered_environ() if environ is None else {k.lower(): v for k, v in environ.items()}
    scheme, host, port = origin(url)
    if _bypasses_proxy(env.get("no_proxy", ""), host, port):
        return None
    return env.get(f"{scheme}_proxy") or env.get("all_proxy") or None
