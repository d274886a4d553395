"""Pure redirect decisions: the next request for a 3xx, with the safety rules applied."""

from __future__ import annotations

from urllib.parse import urljoin, urlsplit

from hookwire._models import Request, Response
from hookwire._urls import origin, validate_url
from hookwire.errors import InvalidURL

#: Stripped when a redirect leaves the origin (scheme, host or port changes). requests and
#: httpx strip the first three; the API-key headers leak with both (see REFERENCE.md).
CROSS_ORIGIN_STRIP = ("authorization", "proxy-authorization", "cookie", "api-key", "x-api-key")
_BODY_HEADERS = ("content-type", "content-length", "content-encoding", "transfer-encoding")


def redirect_method(method: str, status: int) -> str:
    """RFC 9110 section 15.4 plus browser practice: 303 -> GET; 301/302 turn POST into GET."""
    if status == 303 and method != "HEAD":
        return "GET"
    if status in (301, 302) and method == "POST":
        return "GET"
    return method


def redirect_url(request: Request, response: Response) -> str:
    location = response.headers["location"]
    url = urljoin(request.url, location)
    parts = urlsplit(url)
    if not parts.fragment and urlsplit(request.url).fragment:
        url = f"{url}#{urlsplit(request.url).fragment}"
    try:
        validate_url(url)
    except InvalidURL as exc:
        raise InvalidURL(f"redirect to an invalid location: {exc}") from exc
    return url


def next_request(request: Request, response: Response) -> Request:
    """The request to send for ``response`` (a redirect), never sharing mutable state."""
    url = redirect_url(request, response)
    method = redirect_method(request.method, response.status_code)
    headers = request.headers.copy()
    if origin(url) != origin(request.url):
        for name in CROSS_ORIGIN_STRIP:
            headers.pop(name, None)
    headers.pop("host", None)
    if method != request.method or response.status_code == 303:
        for name in _BODY_HEADERS:
            headers.pop(name, None)
        return request.copy_with(method=method, url=url, headers=headers, content=None, stream=None)
    request.rewind()
    return request.copy_with(method=method, url=url, headers=headers)
