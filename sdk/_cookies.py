"""A cookie jar for the clients, on the standard library's ``http.cookiejar``."""

from __future__ import annotations

import copy
import email.message
import http.cookiejar
import urllib.request
from collections.abc import Iterator, Mapping

from hookwire._models import Request, Response


class _UrllibRequest(urllib.request.Request):
    """Adapts our Request to the interface CookieJar expects."""

    def __init__(self, request: Request) -> None:
        super().__init__(request.url, method=request.method)
        self._sdk_request = request

    def add_unredirected_header(self, key: str, header: str) -> None:
        super().add_unredirected_header(key, header)
        self._sdk_request.headers[key] = header


class _UrllibResponse:
    def __init__(self, response: Response) -> None:
        self._headers = email.message.Message()
        for name, value in response.headers.multi_items():
            self._headers[name] = value

    def info(self) -> email.message.Message:
        return self._headers


class Cookies:
    """Cookies kept across requests (per domain and path), like a browser session.

    A cookie given without a domain (``Client(cookies={"a": "1"})``, ``cookies.set("a", "1")``)
    is bound to one origin's host: the client's ``base_url``, else the first request it goes
    with. requests and httpx send such cookies to every host, a redirect target included; here
    they stay with the origin they were meant for, as a cookie the server set does.
    """

    def __init__(self, cookies: Mapping[str, str] | Cookies | None = None) -> None:
        self.jar = http.cookiejar.CookieJar()
        self._unbound = False
        if isinstance(cookies, Cookies):
            self._unbound = cookies._unbound
            for cookie in cookies.jar:
                self.jar.set_cookie(copy.copy(cookie))
        elif cookies:
            for name, value in cookies.items():
                self.set(name, value)

    def set(self, name: str, value: str, domain: str = "", path: str = "/") -> None:
        cookie = http.cookiejar.Cookie(
            0, name, value, None, False, domain, bool(domain), domain.startswith("."),
            path, True, False, None, False, None, None, {},
        )
        self.jar.set_cookie(cookie)
        self._unbound = self._unbound or not domain

    def bind(self, url: str) -> None:
        """Bind the cookies that have no domain to ``url``'s host (host-only, any port)."""
        if not self._unbound:
            return
        try:
            # only parsed for its host, never opened
            probe = urllib.request.Request(url)  # noqa: S310  # nosec B310
            _, host = http.cookiejar.eff_request_host(probe)  # type: ignore[attr-defined]
        except ValueError:
            return  # not an absolute URL: bind on the first request instead
        for cookie in [c for c in self.jar if not c.domain]:
            self.jar.clear(cookie.domain, cookie.path, cookie.name)
            bound = copy.copy(cookie)
            bound.domain = host  # as http.cookiejar stores a cookie the host set itself
            self.jar.set_cookie(bound)
        self._unbound = False

    def get(self, name: str, default: str | None = None) -> str | None:
        for cookie in self.jar:
            if cookie.name == name:
                return cookie.value
        return default

    def add_to(self, request: Request) -> None:
        """Set the Cookie header from the jar, unless the caller set one."""
        if "cookie" not in request.headers:
            if self._unbound:
                self.bind(request.url)
            self.jar.add_cookie_header(_UrllibRequest(request))

    def extract(self, response: Response) -> None:
        if "set-cookie" in response.headers:
            self.jar.extract_cookies(_UrllibResponse(response), _UrllibRequest(response.request))  # type: ignore[arg-type]

    def __iter__(self) -> Iterator[str]:
        return (cookie.name for cookie in self.jar)

    def __len__(self) -> int:
        return len(self.jar)

    def may_have_cookies(self) -> bool:
        """False only when the jar holds no cookie: a cheap test for the per-request path.

        ``len()`` walks every cookie in the jar (~0.3 us even when empty); this looks at the
        jar's top-level domain table instead. It may say True for a jar emptied by
        ``clear(domain)`` (empty tables stay behind), which only costs the full path.
        """
        table = getattr(self.jar, "_cookies", None)  # CPython's CookieJar keeps its cookies here
        return bool(table) if isinstance(table, dict) else len(self.jar) > 0

    def clear(self) -> None:
        self.jar.clear()

    def __repr__(self) -> str:
        return f"<Cookies {sorted(self)} values=[REDACTED]>"
