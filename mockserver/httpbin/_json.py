"""httpbin-compatible JSON rendering and the small response helpers every endpoint shares.

httpbin renders through Flask's ``jsonify`` with ``compact=False``: two-space indent, sorted keys,
ASCII-only output and a trailing newline. Clients that compare bodies textually (snapshot tests,
``curl | diff``) see the difference, so we reproduce that layout byte for byte.

``json.dumps(indent=2)`` falls back to the pure-Python encoder (CPython only uses the C encoder
when ``indent is None``), which would dominate ``/get``'s cost. ``pretty`` walks the value itself
and leans on the C string escaper, which is several times faster for the small dicts httpbin
returns; anything unusual (floats, big nesting) still goes through ``json.dumps``.
"""

from __future__ import annotations

import json
from json.encoder import encode_basestring_ascii as _quote
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Scope

__all__ = [
    "cors_headers",
    "json_headers",
    "json_response",
    "plain_response",
    "pretty",
    "render_echo",
    "text_response",
]


def _render(value: Any, indent: str, out: list[str]) -> None:
    if isinstance(value, str):
        out.append(_quote(value))
    elif isinstance(value, dict):
        if not value:
            out.append("{}")
            return
        inner = indent + "  "
        if all(type(item) is str for item in value.values()):
            # the common case (headers, args, form): one join, no recursion
            out.append("{\n")
            out.append(",\n".join(f"{inner}{_quote(k)}: {_quote(value[k])}" for k in sorted(value)))
            out.append("\n" + indent + "}")
            return
        out.append("{\n")
        first = True
        for key in sorted(value):
            if not first:
                out.append(",\n")
            first = False
            out.append(inner)
            out.append(_quote(str(key)))
            out.append(": ")
            _render(value[key], inner, out)
        out.append("\n" + indent + "}")
    elif isinstance(value, list | tuple):
        if not value:
            out.append("[]")
            return
        inner = indent + "  "
        out.append("[\n")
        for i, item in enumerate(value):
            if i:
                out.append(",\n")
            out.append(inner)
            _render(item, inner, out)
        out.append("\n" + indent + "]")
    elif value is None:
        out.append("null")
    elif value is True:
        out.append("true")
    elif value is False:
        out.append("false")
    elif isinstance(value, int):
        out.append(int.__repr__(value))
    else:
        # floats (NaN/Infinity spelling) and anything else: the stdlib decides, re-indented.
        text = json.dumps(value, indent=2, sort_keys=True)
        out.append(text.replace("\n", "\n" + indent))


def _shallow(value: dict[str, Any]) -> str | None:
    """Fast path for the usual echo shape: a dict of strings and of dicts of strings
    (``/get``: args, headers, origin, url). ``None`` when anything else is inside."""
    lines = []
    for key in sorted(value):
        item = value[key]
        if type(item) is str:
            lines.append(f"  {_quote(key)}: {_quote(item)}")
        elif type(item) is dict:
            if not item:
                lines.append(f"  {_quote(key)}: {{}}")
                continue
            for sub in item.values():
                if type(sub) is not str:
                    return None
            inner = ",\n".join(f"    {_quote(k)}: {_quote(item[k])}" for k in sorted(item))
            lines.append(f"  {_quote(key)}: {{\n{inner}\n  }}")
        else:
            return None
    return "{\n" + ",\n".join(lines) + "\n}\n"


def pretty(value: Any) -> bytes:
    """Serialize ``value`` exactly as Flask's non-compact ``jsonify`` does (newline included)."""
    if type(value) is dict and value:
        text = _shallow(value)
        if text is not None:
            return text.encode("ascii")
    out: list[str] = []
    _render(value, "", out)
    out.append("\n")
    return "".join(out).encode("ascii")


def _string_map(value: dict[str, Any], indent: str) -> str | None:
    """``value`` rendered at ``indent`` when every value is a string, else None."""
    if not value:
        return "{}"
    inner = indent + "    "
    lines = []
    for key in sorted(value):
        item = value[key]
        if type(item) is not str:
            return None
        lines.append(f"{inner}{_quote(key)}: {_quote(item)}")
    return "{\n" + ",\n".join(lines) + "\n" + indent + "  }"


def render_echo(args: dict[str, Any], headers: dict[str, str], origin: str, url: str) -> bytes:
    """``pretty({"args", "headers", "origin", "url"})`` by template: ``/get``'s body.

    The keys are already in sorted order; only the two maps need rendering, and a repeated
    query key (a list value) falls back to the general `pretty`.
    """
    rendered_args = _string_map(args, "")
    rendered_headers = _string_map(headers, "")
    if rendered_args is None or rendered_headers is None:
        return pretty({"args": args, "headers": headers, "origin": origin, "url": url})
    return (
        f'{{\n  "args": {rendered_args},\n  "headers": {rendered_headers},\n'
        f'  "origin": {_quote(origin)},\n  "url": {_quote(url)}\n}}\n'
    ).encode()


def cors_headers(scope: Scope) -> list[tuple[bytes, bytes]]:
    """httpbin's after-request CORS headers: echo ``Origin`` (or ``*``) and allow credentials."""
    origin = b"*"
    for name, value in scope["headers"]:
        if name == b"origin":
            origin = value
            break
    return [
        (b"access-control-allow-origin", origin),
        (b"access-control-allow-credentials", b"true"),
    ]


def json_headers(scope: Scope, body: bytes) -> list[tuple[bytes, bytes]]:
    """The raw header list of a 200 JSON reply, in the order starlette's ``Response`` sends."""
    return [
        (b"content-length", str(len(body)).encode()),
        (b"content-type", b"application/json"),
        *cors_headers(scope),
    ]


def json_response(
    request: Request,
    value: Any,
    status_code: int = 200,
    headers: list[tuple[bytes, bytes]] | None = None,
) -> Response:
    """A JSON response in httpbin's layout, with CORS headers and any extra raw headers."""
    body = pretty(value)
    response = Response(body, status_code=status_code, media_type="application/json")
    response.raw_headers.extend(cors_headers(request.scope))
    if headers:
        response.raw_headers.extend(headers)
    return response


def plain_response(
    request: Request, body: str | bytes, status_code: int, content_type: bytes | None
) -> Response:
    """A response with exactly this ``Content-Type`` (starlette would append a charset to
    ``text/*``; httpbin sends ``text/plain`` bare on some pages) or none at all."""
    response = Response(body, status_code=status_code)
    if content_type is not None:
        response.raw_headers.append((b"content-type", content_type))
    response.raw_headers.extend(cors_headers(request.scope))
    return response


def text_response(
    request: Request,
    body: str | bytes,
    status_code: int = 200,
    media_type: str | None = "text/html; charset=utf-8",
    headers: list[tuple[bytes, bytes]] | None = None,
) -> Response:
    """A non-JSON response (Flask's default content type is HTML) with CORS headers."""
    response = Response(body, status_code=status_code, media_type=media_type)
    response.raw_headers.extend(cors_headers(request.scope))
    if headers:
        response.raw_headers.extend(headers)
    return response
