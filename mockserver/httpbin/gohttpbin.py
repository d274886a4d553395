"""go-httpbin's extras that clients reach for: ``/dump/request``, ``/hostname``, ``/trailers``.

(``/sse`` and ``/unstable``, also go-httpbin's, live with the streams and dynamic endpoints.)

- ``/dump/request`` answers with the request as HTTP/1.x text, as Go's
  ``httputil.DumpRequest`` writes it: the request line, ``Host`` first, then the other headers
  sorted by name in Go's canonical case (``X-Custom-Header``), a blank line and the body.
  Header order and case as sent are lost, as in go-httpbin.
- ``/hostname`` is ``{"hostname": "hookwire-mock"}``: a fixed name, as go-httpbin's default
  (``go-httpbin``); the machine's real name is never shown.
- ``/trailers?k=v`` sends the ``/anything`` echo in a chunked body and ``k: v`` as HTTP
  trailers, when the server offers the ASGI ``http.response.trailers`` extension. uvicorn offers
  it over HTTP/2 only, and its HTTP/1.1 servers (h11, httptools) cannot send trailers at all:
  there the values come as ordinary response headers after the same checks (httpx and requests
  do not surface trailers either, so a client sees them at all this way).
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Scope

from ._echo import echo
from ._json import cors_headers, json_response, pretty, text_response
from ._route import BadRequest, unsendable_header
from .methods import ANYTHING_KEYS

__all__ = ["view_dump_request", "view_hostname", "view_trailers"]

HOSTNAME = "hookwire-mock"
TRAILERS_EXTENSION = "http.response.trailers"

# Fields a trailer may not carry (RFC 9110 section 6.5.1; go-httpbin's list)
FORBIDDEN_TRAILERS = frozenset(
    {
        "authorization",
        "cache-control",
        "content-encoding",
        "content-length",
        "content-range",
        "content-type",
        "host",
        "max-forwards",
        "set-cookie",
        "te",
        "trailer",
        "transfer-encoding",
    }
)
# What Go's DumpRequest leaves out of the header block (Host is written first on its own)
_NOT_DUMPED = frozenset({b"host", b"transfer-encoding", b"trailer"})


def canonical(name: str) -> str:
    """Go's ``CanonicalMIMEHeaderKey``: each dash-separated word capitalised."""
    return "-".join(word[:1].upper() + word[1:].lower() for word in name.split("-"))


def dump_request(scope: Scope, body: bytes) -> bytes:
    """The request as ``httputil.DumpRequest(r, true)`` prints it."""
    target = scope.get("raw_path") or scope["path"].encode("utf-8")
    if scope["query_string"]:
        target += b"?" + scope["query_string"]
    version = scope.get("http_version", "1.1")
    major, _, minor = version.partition(".")
    lines = [
        b"%s %s HTTP/%s.%s"
        % (scope["method"].encode(), target, major.encode(), (minor or "0").encode())
    ]
    by_name: dict[str, list[bytes]] = {}
    host = None
    for name, value in scope["headers"]:
        if name == b"host":
            host = host or value
        if name in _NOT_DUMPED:
            continue
        by_name.setdefault(canonical(name.decode("latin-1")), []).append(value)
    if host:
        lines.append(b"Host: " + host)
    chunked = any(
        n == b"transfer-encoding" and b"chunked" in v.lower() for n, v in scope["headers"]
    )
    if chunked:
        lines.append(b"Transfer-Encoding: chunked")
        # DumpRequest writes the body chunk-encoded again: here one chunk and the last one
        body = (b"%x\r\n%s\r\n" % (len(body), body) if body else b"") + b"0\r\n\r\n"
    for name in sorted(by_name):
        lines.extend(name.encode("latin-1") + b": " + value for value in by_name[name])
    return b"\r\n".join(lines) + b"\r\n\r\n" + body


async def view_dump_request(request: Request) -> Response:
    """The request as HTTP/1.x text (``text/plain``), body included."""
    body = dump_request(request.scope, await request.body())
    return text_response(request, body, media_type="text/plain; charset=utf-8")


async def view_hostname(request: Request) -> Response:
    """``{"hostname": ...}``: the mock's fixed name."""
    return json_response(request, {"hostname": HOSTNAME})


def _trailer_fields(request: Request) -> list[tuple[bytes, bytes]]:
    fields = []
    for name, value in request.query_params.multi_items():
        if name.lower() in FORBIDDEN_TRAILERS:
            raise BadRequest(f"forbidden trailer: {name}")
        fields.append(
            (canonical(name).encode("latin-1", "replace"), value.encode("latin-1", "replace"))
        )
    bad = unsendable_header(fields)
    if bad is not None:
        raise BadRequest(bad)
    return fields


class _TrailerResponse(Response):
    """A chunked body followed by an ``http.response.trailers`` message."""

    def __init__(
        self, body: bytes, headers: list[tuple[bytes, bytes]], trailers: list[tuple[bytes, bytes]]
    ) -> None:
        super().__init__(media_type="application/json")
        self.raw_headers = [(b"content-type", b"application/json"), *headers]
        self._body = body
        self._trailers = trailers

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        start = {"type": "http.response.start", "status": 200, "headers": self.raw_headers}
        await send({**start, "trailers": True})
        await send({"type": "http.response.body", "body": self._body, "more_body": False})
        await send(
            {"type": "http.response.trailers", "headers": self._trailers, "more_trailers": False}
        )


async def view_trailers(request: Request) -> Response:
    """The ``/anything`` echo, with each query parameter as a trailer (see the module doc)."""
    fields = _trailer_fields(request)
    body = pretty(await echo(request, ANYTHING_KEYS))
    names = [(b"trailer", name) for name, _ in fields]
    if TRAILERS_EXTENSION in request.scope.get("extensions", {}):
        return _TrailerResponse(body, [*names, *cors_headers(request.scope)], fields)
    response = Response(body, media_type="application/json")
    response.raw_headers.extend([*cors_headers(request.scope), *fields])
    return response
