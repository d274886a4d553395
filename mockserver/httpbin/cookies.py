"""Cookie endpoints: ``/cookies``, ``/cookies/set``, ``/cookies/set/{name}/{value}``,
``/cookies/delete``. Setting and deleting redirect back to ``/cookies`` like httpbin.
"""

from __future__ import annotations

import re

from starlette.requests import Request
from starlette.responses import Response

from ._json import json_response
from .redirects import redirect_response

__all__ = ["set_cookie_header"]

# Tracking cookies httpbin.org's own pages set; hidden unless ?show_env.
ENV_COOKIES = frozenset(
    (
        "_gauges_unique", "_gauges_unique_year", "_gauges_unique_month", "_gauges_unique_day",
        "_gauges_unique_hour", "__utmz", "__utma", "__utmb",
    )
)  # fmt: skip

_PLAIN_VALUE = re.compile(r"^[!#$%&'*+\-.^_`|~0-9A-Za-z:/?@\[\]<>{}=]*$")


def _quote_value(value: str) -> str:
    """RFC 6265 cookie-octets pass as is; anything else goes in a quoted string, escaped."""
    if _PLAIN_VALUE.match(value):
        return value
    escaped = "".join(
        f"\\{ord(ch):03o}" if ch in '"\\' or ord(ch) < 0x20 or ord(ch) > 0x7E or ch == ";" else ch
        for ch in value
    )
    return f'"{escaped}"'


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
    cookies = dict(request.cookies)
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
