"""Cookie endpoints: ``/cookies``, ``/cookies/set``, ``/cookies/set/{name}/{value}``,
``/cookies/delete``. Setting and deleting redirect back to ``/cookies`` like httpbin.
"""

from __future__ import annotations

import re

from starlette.requests import Request
from starlette.responses import Response

from ._json import json_response
from .redirects import redirect_response

__all__ = ["parse_cookies", "set_cookie_header"]

# Tracking cookies httpbin.org's own pages set; hidden unless ?show_env.
ENV_COOKIES = frozenset(
    (
        "_gauges_unique", "_gauges_unique_year", "_gauges_unique_month", "_gauges_unique_day",
        "_gauges_unique_hour", "__utmz", "__utma", "__utmb",
    )
)  # fmt: skip

# What werkzeug (httpbin's server) sends unquoted; anything else goes in a quoted string.
_PLAIN_VALUE = re.compile(r"[\w!#$%&'()*+\-./:<=>?@\[\]^`{|}~]*", re.ASCII)
# In the quoted string, per UTF-8 byte: '"' and '\\' get a backslash; controls, ',', ';' and
# bytes from DEL up become a 3-digit octal escape. (werkzeug leaves 0x1a-0x1f raw, which no
# HTTP/1.1 server can send in a header: the mock escapes them as well.)
_SLASHED = re.compile(rb'[\x00-\x1f",;\\\x7f-\xff]')


def _slash(match: re.Match[bytes]) -> bytes:
    byte = match.group()
    return b"\\" + byte if byte in (b'"', b"\\") else b"\\%03o" % byte[0]


def _quote_value(value: str) -> str:
    """A cookie value as werkzeug's ``dump_cookie`` writes it, so clients read it back intact."""
    if _PLAIN_VALUE.fullmatch(value):
        return value
    quoted = _SLASHED.sub(_slash, value.encode("utf-8", "surrogatepass")).decode("ascii")
    return f'"{quoted}"'


# werkzeug's ``parse_cookie``: name, then a quoted string or anything up to ';'
_COOKIE = re.compile(r'([^=;]*)(?:\s*=\s*("(?:[^\\"]|\\.)*"|.*?))?\s*;\s*', re.ASCII)
_UNSLASH = re.compile(rb"\\([0-3][0-7]{2}|.)", re.DOTALL)


def parse_cookies(header: str) -> dict[str, str]:
    """The ``Cookie`` header as httpbin reads it: quoted values unescaped (octal escapes are
    UTF-8 bytes), the first value of a repeated name, nameless pairs left out."""
    cookies: dict[str, str] = {}
    for name, value in _COOKIE.findall(header + ";"):
        name, value = name.strip(), value.strip()
        if not name:
            continue
        if len(value) >= 2 and value[0] == value[-1] == '"':
            raw = _UNSLASH.sub(_unslash, value[1:-1].encode("latin-1", "replace"))
            value = raw.decode("utf-8", "replace")
        cookies.setdefault(name, value)
    return cookies


def _unslash(match: re.Match[bytes]) -> bytes:
    escaped = match.group(1)
    return escaped if len(escaped) == 1 else bytes([int(escaped, 8)])


def set_cookie_header(name: str, value: str, secure: bool = False) -> tuple[bytes, bytes]:
    """A ``Set-Cookie`` header with ``Path=/`` (plus ``Secure`` on https)."""
    text = f"{name}={_quote_value(value)}; Path=/"
    if secure:
        text += "; Secure"
    return (b"set-cookie", text.encode("latin-1", "replace"))


def _delete_cookie_header(name: str) -> tuple[bytes, bytes]:
    return (
        b"set-cookie",
        f"{name}=; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0; Path=/".encode(
            "latin-1", "replace"
        ),
    )


def _first_values(request: Request) -> dict[str, str]:
    """Query parameters, first value per name (Werkzeug's ``MultiDict.items()``)."""
    values: dict[str, str] = {}
    for name, value in request.query_params.multi_items():
        values.setdefault(name, value)
    return values


async def view_cookies(request: Request) -> Response:
    """The cookies the client sent (tracking cookies hidden unless ``?show_env``)."""
    cookies = parse_cookies("; ".join(request.headers.getlist("cookie")))
    if "show_env" not in request.query_params:
        for name in ENV_COOKIES.intersection(cookies):
            del cookies[name]
    return json_response(request, {"cookies": cookies})


async def view_set_cookies(request: Request) -> Response:
    """Set one cookie per query parameter, then redirect to ``/cookies``."""
    response = redirect_response(request, "/cookies")
    secure = request.url.scheme == "https"
    for name, value in _first_values(request).items():
        response.raw_headers.append(set_cookie_header(name, value, secure))
    return response


async def view_set_cookie(request: Request) -> Response:
    """Set cookie ``name`` to ``value``, then redirect to ``/cookies``."""
    response = redirect_response(request, "/cookies")
    params = request.path_params
    secure = request.url.scheme == "https"
    response.raw_headers.append(set_cookie_header(params["name"], params["value"], secure))
    return response


async def view_delete_cookies(request: Request) -> Response:
    """Expire each cookie named in the query string, then redirect to ``/cookies``."""
    response = redirect_response(request, "/cookies")
    for name in _first_values(request):
        response.raw_headers.append(_delete_cookie_header(name))
    return response
