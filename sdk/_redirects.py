"""Pure redirect decisions: the next request for a 3xx, with the safety rules applied."""

from __future__ import annotations

from urllib.parse import urljoin, urlsplit

from hookwire._headers import SENSITIVE_HEADERS
from hookwire._models import Request, Response
from hookwire._urls import origin, strip_userinfo, validate_url
from hookwire.errors import InvalidURL

#: Stripped when a redirect leaves the origin (scheme, host or port changes): every header the
#: SDK knows to carry a credential (requests and httpx strip only Authorization, and the
#: API-key headers leak with both; see REFERENCE.md), plus whatever the auth flow set.
CROSS_ORIGIN_STRIP = tuple(sorted(SENSITIVE_HEADERS - {"set-cookie"}))
#: ``request.extensions`` key: the header names the auth flow set on this request (it owns
#: them, so they never follow the request to another origin, whatever their name).
AUTH_HEADERS = "auth_headers"
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
    # Credentials a server put in its Location are never used nor passed on: the caller's
    # own auth decides (a transport would otherwise turn them into basic auth over it).
    return strip_userinfo(url) if "@" in url else url


def next_request(request: Request, response: Response) -> Request:
    """The request to send for ``response`` (a redirect), never sharing mutable state."""
    url = redirect_url(request, response)
    method = redirect_method(request.method, response.status_code)
    headers = request.headers.copy()
    if origin(url) != origin(request.url):
        for name in (*CROSS_ORIGIN_STRIP, *request.extensions.get(AUTH_HEADERS, ())):
            headers.pop(name, None)
    headers.pop("host", None)
    if method != request.method or response.status_code == 303:
        for name in _BODY_HEADERS:
            headers.pop(name, None)
        return request.copy_with(method=method, url=url, headers=headers, content=None, stream=None)
    request.rewind()
    return request.copy_with(method=method, url=url, headers=headers)


def mark_auth_headers(before: list[tuple[str, str]], request: Request) -> None:
    """Record in ``request.extensions`` the headers an auth flow added or changed, given the
    header pairs ``before`` it ran: the flow owns them (see :data:`AUTH_HEADERS`)."""
    seen = {(k.lower(), v) for k, v in before}
    owned = {k.lower() for k, v in request.headers.multi_items() if (k.lower(), v) not in seen}
    if owned:
        request.extensions[AUTH_HEADERS] = frozenset(
            owned | request.extensions.get(AUTH_HEADERS, frozenset())
        )


def carry_auth_headers(previous: Request, request: Request, before: list[tuple[str, str]]) -> None:
    """After a flow answered a response with ``request``: it owns what it owned on
    ``previous`` and whatever it changed since ``before``."""
    owned = previous.extensions.get(AUTH_HEADERS)
    if owned and request is not previous:
        request.extensions[AUTH_HEADERS] = owned | request.extensions.get(AUTH_HEADERS, frozenset())
    mark_auth_headers(before, request)
