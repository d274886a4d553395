"""Response formats: ``/json /xml /html /robots.txt /deny /encoding/utf8 /forms/post`` and the
compressed echoes ``/gzip /deflate /brotli``.

``/json`` is byte-identical to httpbin. The HTML/XML/text pages are our own texts of the same
kind (httpbin's templates are not copied): an XML slideshow, a public-domain Melville passage,
a multi-script UTF-8 sample, a form that posts to ``/post``.
"""

from __future__ import annotations

import gzip
import zlib

from starlette.requests import Request
from starlette.responses import Response

from . import _pages
from ._echo import header_dict, origin
from ._json import json_response, plain_response, pretty, text_response

try:  # the brotli extra; /brotli answers 501 without it
    import brotli as _brotli
except ImportError:  # pragma: no cover - depends on the environment
    _brotli = None

__all__ = ["SLIDESHOW"]

SLIDESHOW = {
    "slideshow": {
        "author": "Yours Truly",
        "date": "date of publication",
        "slides": [
            {"title": "Wake up to WonderWidgets!", "type": "all"},
            {
                "items": [
                    "Why <em>WonderWidgets</em> are great",
                    "Who <em>buys</em> WonderWidgets",
                ],
                "title": "Overview",
                "type": "all",
            },
        ],
        "title": "Sample Slide Show",
    }
}
_SLIDESHOW_BODY = pretty(SLIDESHOW)


async def view_json(request: Request) -> Response:
    """A fixed JSON document (httpbin's slideshow)."""
    return text_response(request, _SLIDESHOW_BODY, media_type="application/json")


async def view_xml(request: Request) -> Response:
    """A fixed XML document."""
    return text_response(request, _pages.XML, media_type="application/xml")


async def view_html(request: Request) -> Response:
    """A fixed HTML page."""
    return text_response(request, _pages.HTML)


async def view_robots(request: Request) -> Response:
    """A robots.txt that disallows ``/deny``."""
    return plain_response(request, "User-agent: *\nDisallow: /deny\n", 200, b"text/plain")


async def view_deny(request: Request) -> Response:
    """The page robots.txt forbids."""
    return plain_response(request, _pages.DENIED, 200, b"text/plain")


async def view_utf8(request: Request) -> Response:
    """A UTF-8 sample in many scripts."""
    return text_response(request, _pages.UTF8_DEMO)


async def view_forms_post(request: Request) -> Response:
    """An HTML form that submits to ``/post``."""
    return text_response(request, _pages.FORM)


async def view_index(request: Request) -> Response:
    """A landing page listing the endpoints."""
    return text_response(request, _pages.INDEX)


def _encoded(request: Request, marker: str) -> dict[str, object]:
    return {
        "headers": header_dict(request.scope, hide_env="show_env" not in request.query_params),
        "method": request.method,
        "origin": origin(request.scope),
        marker: True,
    }


def _compressed(request: Request, body: bytes, encoding: str) -> Response:
    return text_response(
        request,
        body,
        media_type="application/json",
        headers=[(b"content-encoding", encoding.encode())],
    )


async def view_gzip(request: Request) -> Response:
    """httpbin's echo, gzip-encoded."""
    body = pretty(_encoded(request, "gzipped"))
    return _compressed(request, gzip.compress(body, compresslevel=4), "gzip")


async def view_deflate(request: Request) -> Response:
    """httpbin's echo, deflate-encoded (a zlib stream, as httpbin and most servers send)."""
    return _compressed(request, zlib.compress(pretty(_encoded(request, "deflated"))), "deflate")


async def view_brotli(request: Request) -> Response:
    """httpbin's echo, brotli-encoded."""
    if _brotli is None:
        return json_response(request, {"error": "brotli is not installed on the server"}, 501)
    body = pretty(_encoded(request, "brotli"))
    return _compressed(request, _brotli.compress(body), "br")
