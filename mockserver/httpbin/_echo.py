"""What httpbin reports about a request: ``url``, ``args``, ``headers``, ``form``, ``files``...

The rules follow httpbin on Flask/Werkzeug 3 as observed, not as documented:
- header names are title-cased the WSGI way (``x-api-key`` -> ``X-Api-Key``), proxy headers such
  as ``X-Forwarded-For`` are hidden unless ``?show_env`` is given;
- repeated query/form keys become lists, single ones stay scalars;
- ``data`` is the raw body unless the body was a form (then it is ``""``), and bytes that are not
  UTF-8 come back as a ``data:application/octet-stream;base64,...`` URL;
- ``url`` is an IRI: percent escapes are decoded except those that would change the URL's
  meaning (space, ``%``, controls, and ``&=+#`` in the query), as ``werkzeug.urls.uri_to_iri``.
"""

from __future__ import annotations

import base64
import codecs
import re
from typing import Any
from urllib.parse import parse_qsl, quote, unquote

from starlette.requests import Request
from starlette.types import Scope

from hookwire.mockserver.limits import JSONTooDeep, Limits, loads

from ._multipart import Part, parse_multipart
from ._route import BadRequest

__all__ = ["RequestBody", "echo", "header_dict", "origin", "query_args", "request_url"]

ENV_HEADERS = frozenset(
    name.lower()
    for name in (
        "X-Varnish", "X-Request-Start", "X-Heroku-Queue-Depth", "X-Real-Ip",
        "X-Forwarded-Proto", "X-Forwarded-Protocol", "X-Forwarded-Ssl",
        "X-Heroku-Queue-Wait-Time", "X-Forwarded-For", "X-Heroku-Dynos-In-Use",
        "X-Forwarded-Port", "X-Request-Id", "Via", "Total-Route-Time", "Connect-Time",
    )
)  # fmt: skip


def _requote_invalid(exc: UnicodeError) -> tuple[str, int]:
    """Codec error handler: keep undecodable bytes percent-encoded instead of replacing them."""
    assert isinstance(exc, UnicodeDecodeError)
    return quote(exc.object[exc.start : exc.end], safe=""), exc.end


codecs.register_error("mockserver.url_quote", _requote_invalid)


# raw header name -> (WSGI-style key, hidden unless ?show_env); bounded, names repeat a lot
_NAMES: dict[bytes, tuple[str, bool]] = {}
_NAMES_MAX = 1024


def _name(raw: bytes) -> tuple[str, bool]:
    hit = _NAMES.get(raw)
    if hit is None:
        name = raw.decode("latin-1")
        hit = (name.replace("_", "-").title(), name.lower() in ENV_HEADERS)
        if len(_NAMES) < _NAMES_MAX:
            _NAMES[raw] = hit
    return hit


def header_dict(scope: Scope, hide_env: bool = True) -> dict[str, str]:
    """Request headers keyed the way a WSGI app sees them; repeated headers joined by commas."""
    result: dict[str, str] = {}
    for raw_name, raw_value in scope["headers"]:
        key, is_env = _name(raw_name)
        if is_env and hide_env:
            continue
        value = raw_value.decode("latin-1")
        result[key] = result[key] + "," + value if key in result else value
    return result


def _show_env(request: Request) -> bool:
    return b"show_env" in request.scope["query_string"] and "show_env" in request.query_params


def _make_partial_unquote(keep: str) -> Any:
    codes = "|".join(f"{ord(c):02X}" for c in sorted(keep))
    pattern = re.compile(f"((?:%(?:{codes}))+)", re.IGNORECASE)

    def unquote_partial(value: str) -> str:
        pieces = pattern.split(value)
        # even indexes may be decoded, odd ones are runs of escapes that must stay quoted
        return "".join(
            unquote(piece, "utf-8", "mockserver.url_quote") if i % 2 == 0 else piece
            for i, piece in enumerate(pieces)
        )

    return unquote_partial


_ALWAYS_QUOTED = bytes((*range(0x21), 0x25, 0x7F)).decode()
_unquote_query = _make_partial_unquote(_ALWAYS_QUOTED + "&=+#")
_unquote_path = _make_partial_unquote(_ALWAYS_QUOTED + "/?#")


_URL_HEADERS = frozenset(
    (b"host", b"x-forwarded-proto", b"x-forwarded-protocol", b"x-forwarded-ssl")
)


def request_url(scope: Scope) -> str:
    """The request URL as httpbin echoes it (scheme from ``X-Forwarded-Proto`` when present)."""
    # one pass over the raw headers: Headers.get() costs a scan per call on the hot path
    headers = {
        name: value.decode("latin-1") for name, value in scope["headers"] if name in _URL_HEADERS
    }
    scheme = headers.get(b"x-forwarded-proto") or headers.get(b"x-forwarded-protocol")
    if scheme is None:
        scheme = "https" if headers.get(b"x-forwarded-ssl") == "on" else scope["scheme"]
    host = headers.get(b"host")
    if host is None:
        server = scope.get("server") or ("", None)
        host = f"{server[0]}:{server[1]}" if server[1] else str(server[0])
    if (scope["scheme"] == "http" and host.endswith(":80")) or (
        scope["scheme"] == "https" and host.endswith(":443")
    ):
        host = host.rsplit(":", 1)[0]
    path: str = scope.get("root_path", "") + scope["path"]
    query: bytes = scope["query_string"]
    if path.isascii() and "%" not in path and not query:
        return f"{scheme}://{host}{path}"
    url_path = _unquote_path(quote(path, safe="!$&'()*+,/:;=@%"))
    if not query:
        return f"{scheme}://{host}{url_path}"
    url_query = _unquote_query(quote(query.decode("latin-1"), safe="!$&'()*+,/:;=?@%"))
    return f"{scheme}://{host}{url_path}?{url_query}"


def semiflatten(pairs: list[tuple[str, str]]) -> dict[str, Any]:
    """Multi-dict pairs -> dict; a key seen once maps to its value, else to the list of values."""
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            current = result[key]
            if isinstance(current, list):
                current.append(value)
            else:
                result[key] = [current, value]
        else:
            result[key] = value
    return result


def parse_pairs(text: str) -> list[tuple[str, str]]:
    """``a=1&b=2`` -> pairs; invalid UTF-8 escapes stay percent-encoded, blanks are kept."""
    return parse_qsl(text, keep_blank_values=True, errors="mockserver.url_quote")


def query_args(scope: Scope) -> dict[str, Any]:
    """The query string as httpbin's ``args``."""
    query: bytes = scope["query_string"]
    if not query:
        return {}
    return semiflatten(parse_pairs(query.decode("latin-1")))


def origin(scope: Scope) -> str:
    """``X-Forwarded-For`` when present (httpbin trusts it), else the peer address."""
    for name, value in scope["headers"]:
        if name == b"x-forwarded-for":
            return str(value.decode("latin-1"))
    client = scope.get("client")
    return str(client[0]) if client else ""


def json_safe(raw: bytes, content_type: str = "application/octet-stream") -> str:
    """UTF-8 text as is; anything else as an RFC 2397 ``data:`` URL with base64 content."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return f"data:{content_type};base64,{base64.b64encode(raw).decode('ascii')}"


class RequestBody:
    """The body split into httpbin's ``data``/``form``/``files``/``json`` views."""

    __slots__ = ("data", "files", "form", "json")

    def __init__(self, raw: bytes, content_type: str, max_depth: int = Limits.json_depth) -> None:
        mimetype = content_type.split(";", 1)[0].strip().lower()
        self.form: dict[str, Any] = {}
        self.files: dict[str, Any] = {}
        if mimetype == "application/x-www-form-urlencoded":
            self.form = semiflatten(parse_pairs(raw.decode("latin-1")))
            raw = b""
        elif mimetype == "multipart/form-data":
            self._take_multipart(raw, content_type)
            raw = b""
        self.data = json_safe(raw)
        try:
            self.json: Any = loads(raw.decode("utf-8"), max_depth) if raw else None
        except JSONTooDeep as exc:
            # httpbin's json module would fail with a 500; nothing this deep is echoed
            raise BadRequest(str(exc)) from None
        except (ValueError, UnicodeDecodeError):
            self.json = None

    def _take_multipart(self, raw: bytes, content_type: str) -> None:
        fields: list[tuple[str, str]] = []
        for part in parse_multipart(raw, content_type):
            if part.filename is None:
                fields.append((part.name, part.content.decode("utf-8", "replace")))
            elif part.name not in self.files:
                # httpbin iterates ``request.files.items()``, which yields only the first file
                # uploaded under each field name; later ones are silently dropped.
                self.files[part.name] = _file_value(part)
        self.form = semiflatten(fields)


def _file_value(part: Part) -> str:
    return json_safe(part.content, part.content_type or "application/octet-stream")


async def echo(request: Request, keys: tuple[str, ...], **extras: Any) -> dict[str, Any]:
    """httpbin's ``get_dict``: the requested views of the request, plus fixed extra members."""
    out: dict[str, Any] = {}
    body: RequestBody | None = None
    if {"form", "data", "files", "json"}.intersection(keys):
        ctx = request.scope.get("mock")
        depth = ctx.config.limits.json_depth if ctx is not None else Limits.json_depth
        body = RequestBody(await request.body(), request.headers.get("content-type", ""), depth)
    for key in keys:
        if key == "url":
            out[key] = request_url(request.scope)
        elif key == "args":
            out[key] = query_args(request.scope)
        elif key == "headers":
            out[key] = header_dict(request.scope, hide_env=not _show_env(request))
        elif key == "origin":
            out[key] = origin(request.scope)
        elif key == "method":
            out[key] = request.method
        elif body is not None:
            out[key] = getattr(body, key)
    out.update(extras)
    return out
