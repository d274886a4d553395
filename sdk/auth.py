"""Authentication as sans-IO generator flows, shared by every transport, sync and async.

To write an auth scheme, subclass :class:`Auth` and implement ``auth_flow``: yield the request
(modified), and receive the response through the generator's ``send``::

    class MyAuth(Auth):
        def auth_flow(self, request):
            request.headers["X-Sig"] = sign(request)
            response = yield request
            if response.status_code == 401:      # optional: react and yield again
                ...

Set ``requires_request_body = True`` if the flow hashes the body (the client then buffers it),
and ``requires_response_body = True`` if it reads the response body before deciding. The flow
does no I/O, so the same class serves ``Client`` and ``AsyncClient`` on any transport. Register
a scheme by name from a plugin with ``hookwire_register_auth(register)``.

Secrets are kept out of ``repr`` and never logged.
"""

from __future__ import annotations

import base64
import threading
from collections.abc import Callable, Generator
from typing import TYPE_CHECKING, Any

from hookwire._models import Request, Response

if TYPE_CHECKING:
    from hookwire._digest_auth import DigestAuth

__all__ = [
    "APIKeyAuth",
    "Auth",
    "BasicAuth",
    "BearerAuth",
    "DigestAuth",
    "FunctionAuth",
    "ProxyAuth",
]

AuthFlow = Generator[Request, Response, None]


class Auth:
    """Base class of every auth scheme (see the module docstring for how to extend it)."""

    requires_request_body = False
    requires_response_body = False

    def auth_flow(self, request: Request) -> AuthFlow:
        yield request

    def __repr__(self) -> str:
        return f"<{type(self).__name__}>"


def _basic_header(username: str | bytes, password: str | bytes) -> str:
    user = username.encode("latin-1") if isinstance(username, str) else username
    pwd = password.encode("latin-1") if isinstance(password, str) else password
    return "Basic " + base64.b64encode(user + b":" + pwd).decode("ascii")


class BasicAuth(Auth):
    """HTTP Basic (RFC 7617). Non-latin-1 credentials: pass bytes encoded as the server wants."""

    def __init__(self, username: str | bytes, password: str | bytes) -> None:
        self.username = username
        self._header = _basic_header(username, password)

    def auth_flow(self, request: Request) -> AuthFlow:
        request.headers["Authorization"] = self._header
        yield request

    def __repr__(self) -> str:
        return f"<BasicAuth username={self.username!r} password=[REDACTED]>"


class BearerAuth(Auth):
    """``Authorization: Bearer <token>``; ``token`` may be a callable that returns a fresh one.

    With a callable, a 401 triggers one refresh (``refresh=True`` is passed if the callable
    accepts it) and one retry; the lock keeps concurrent refreshes from stampeding.
    """

    def __init__(self, token: str | Callable[..., str], *, scheme: str = "Bearer") -> None:
        self._token = token
        self._scheme = scheme
        self._lock = threading.Lock()
        self._cached: str | None = token if isinstance(token, str) else None

    def _current(self, refresh: bool = False) -> str:
        if isinstance(self._token, str):
            return self._token
        with self._lock:
            if self._cached is None or refresh:
                try:
                    self._cached = self._token(refresh=refresh)
                except TypeError:
                    self._cached = self._token()
            return self._cached

    def auth_flow(self, request: Request) -> AuthFlow:
        request.headers["Authorization"] = f"{self._scheme} {self._current()}"
        response = yield request
        if response.status_code == 401 and callable(self._token):
            request.rewind()
            request.headers["Authorization"] = f"{self._scheme} {self._current(refresh=True)}"
            yield request

    def __repr__(self) -> str:
        return f"<BearerAuth scheme={self._scheme!r} token=[REDACTED]>"


class APIKeyAuth(Auth):
    """An API key in a named header (``X-API-Key``, ``api-key``, ...), optionally prefixed."""

    def __init__(self, key: str, *, header: str = "X-API-Key", prefix: str = "") -> None:
        self._key = key
        self.header = header
        self._prefix = prefix

    def auth_flow(self, request: Request) -> AuthFlow:
        request.headers[self.header] = f"{self._prefix}{self._key}"
        yield request

    def __repr__(self) -> str:
        return f"<APIKeyAuth header={self.header!r} key=[REDACTED]>"


class ProxyAuth(Auth):
    """Basic credentials for the proxy only: the client hands them to the transport, which
    sends ``Proxy-Authorization`` to the proxy (on CONNECT for https) and never to the origin.
    """

    def __init__(self, username: str, password: str) -> None:
        self.username = username
        self._password = password

    @property
    def credentials(self) -> tuple[str, str]:
        return self.username, self._password

    def __repr__(self) -> str:
        return f"<ProxyAuth username={self.username!r} password=[REDACTED]>"


class FunctionAuth(Auth):
    """Wrap a requests-style callable ``auth(request) -> request``."""

    def __init__(self, func: Callable[[Request], Request]) -> None:
        self._func = func

    def auth_flow(self, request: Request) -> AuthFlow:
        yield self._func(request)


# -- Digest -----------------------------------------------------------------------------------
# DigestAuth lives in sdk/_digest_auth.py (on the pure functions of sdk/_digest.py). It subclasses
# Auth, so it is loaded on first use (PEP 562) rather than imported here, which would be a cycle.
def __getattr__(name: str) -> Any:
    if name == "DigestAuth":
        from hookwire._digest_auth import DigestAuth

        return DigestAuth
    raise AttributeError(f"module 'hookwire.auth' has no attribute {name!r}")
