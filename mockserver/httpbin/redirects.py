"""Redirect endpoints: ``/redirect/{n}``, ``/relative-redirect/{n}``, ``/absolute-redirect/{n}``,
``/redirect-to``.

Location headers stay as written (relative ones are not made absolute), because httpbin turns off
Werkzeug's location autocorrection; client redirect-following code is tested against exactly that.
"""

from __future__ import annotations

import html

from starlette.requests import Request
from starlette.responses import Response

from ._echo import parse_pairs, request_url
from ._json import text_response
from ._route import BadRequest, int_param

__all__ = ["redirect_response"]


def redirect_response(request: Request, location: str, status_code: int = 302) -> Response:
    """A redirect with the small HTML body Werkzeug's ``redirect()`` produces."""
    shown = html.escape(location)
    body = (
        "<!doctype html>\n<html lang=en>\n<title>Redirecting...</title>\n"
        "<h1>Redirecting...</h1>\n<p>You should be redirected automatically to the target URL: "
        f'<a href="{shown}">{shown}</a>. If not, click the link.\n'
    )
    return text_response(
        request, body, status_code, headers=[(b"location", location.encode("utf-8"))]
    )


def _empty_redirect(request: Request, location: str, status_code: int = 302) -> Response:
    return text_response(
        request, b"", status_code, headers=[(b"location", location.encode("utf-8"))]
    )


def _origin_url(request: Request) -> str:
    """``scheme://host`` of this request, for absolute redirects (``url_for(_external=True)``)."""
    url = request_url(request.scope)
    scheme, _, rest = url.partition("://")
    return f"{scheme}://{rest.split('/', 1)[0]}"


def _positive(request: Request) -> int:
    n = int_param(request, "n")
    if n <= 0:
        raise BadRequest("n must be a positive integer")
    return n


async def view_redirect(request: Request) -> Response:
    """Redirect ``n`` times, relatively unless ``?absolute=true``; the last hop goes to ``/get``."""
    n = _positive(request)
    absolute = request.query_params.get("absolute", "false").lower() == "true"
    prefix = _origin_url(request) if absolute else ""
    if n == 1:
        return redirect_response(request, f"{prefix}/get")
    kind = "absolute" if absolute else "relative"
    return redirect_response(request, f"{prefix}/{kind}-redirect/{n - 1}")


async def view_relative_redirect(request: Request) -> Response:
    """Redirect ``n`` times with relative ``Location`` headers and empty bodies."""
    n = _positive(request)
    return _empty_redirect(request, "/get" if n == 1 else f"/relative-redirect/{n - 1}")


async def view_absolute_redirect(request: Request) -> Response:
    """Redirect ``n`` times with absolute ``Location`` headers."""
    n = _positive(request)
    prefix = _origin_url(request)
    if n == 1:
        return redirect_response(request, f"{prefix}/get")
    return redirect_response(request, f"{prefix}/absolute-redirect/{n - 1}")


async def view_redirect_to(request: Request) -> Response:
    """Redirect to ``?url=`` with ``?status_code=`` (any 3xx; otherwise 302), for every method.

    Parameters are looked up case-insensitively like httpbin; POSTed form fields are accepted as
    well, since httpbin documents them (it only reads the query string, a bug we do not copy).
    """
    params = {key.lower(): value for key, value in request.query_params.multi_items()}
    if "url" not in params and request.method != "GET" and _is_form(request):
        body = (await request.body()).decode("latin-1")
        params.update({key.lower(): value for key, value in parse_pairs(body)})
    if "url" not in params:
        raise BadRequest("redirect-to needs a url parameter")
    status_code = 302
    if "status_code" in params:
        try:
            wanted = int(params["status_code"])
        except ValueError:
            raise BadRequest("status_code must be an integer") from None
        if 300 <= wanted < 400:
            status_code = wanted
    return _empty_redirect(request, params["url"], status_code)


def _is_form(request: Request) -> bool:
    content_type = request.headers.get("content-type", "")
    return content_type.startswith("application/x-www-form-urlencoded")
