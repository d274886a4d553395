"""Authentication as sans-IO generator flows, shared by every transport, sync and async.

To write an auth scheme, subclass :class:`Auth` and implement ``auth_flow``: yield the request
(modified), and receive the response through the generator's ``send``::

    class MyAuth(Auth):
        def auth_flow(self, request):
            request.headers["X-Sig"] = sign(request)
            response = yield request
            if response.status_code == 401:      # optional: react and yield again
                ...

Set ``requires_request_body = True`` if the flow hashes the body (the shell buffers it first),
and ``requires_response_body = True`` if it reads the response body before deciding. A pure
flow does no I/O, so the same class serves ``Client`` and ``AsyncClient`` on any transport.

The clients never call ``auth_flow`` themselves: ``Client`` drives ``sync_auth_flow`` (a
generator) and ``AsyncClient`` drives ``async_auth_flow`` (an async generator). By default both
are thin shells that buffer the bodies the flags ask for, then relay ``auth_flow``'s requests
and responses. Only a scheme that must do I/O of its own between exchanges (fetch a token from a
server, await a signer) overrides a shell::

    class VaultAuth(Auth):
        async def async_auth_flow(self, request):
            request.headers["Authorization"] = "Bearer " + await vault.token()
            response = yield request
            ...

and, for ``Client``, ``sync_auth_flow`` (or ``auth_flow``) with the blocking equivalent. A
scheme that overrides only ``async_auth_flow`` is refused by ``Client`` with
:class:`~hookwire.errors.InvalidRequest` rather than sent unauthenticated, and likewise the
other way round. :class:`BearerAuth` is the built-in example: its token source may be a plain
callable or an ``async def``. Register a scheme by name from a plugin with
``hookwire_register_auth(register)``.

Secrets are kept out of ``repr``, error messages and logs.
"""

from __future__ import annotations

import asyncio
import base64
import inspect
import threading
import weakref
from collections.abc import AsyncGenerator, Awaitable, Callable, Generator
from typing import TYPE_CHECKING, Any

from hookwire._models import Request, Response
from hookwire.errors import InvalidHeader, InvalidRequest

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
AsyncAuthFlow = AsyncGenerator[Request, Response]


async def _aread_request(request: Request) -> None:
    """``Request.read`` for the async side: an async iterator body is buffered too."""
    if request.content is None and request.stream is not None:
        request.content = b"".join([chunk async for chunk in request.aiter_body()])
        request.stream = None


class Auth:
    """Base class of every auth scheme (see the module docstring for how to extend it)."""

    requires_request_body = False
    requires_response_body = False

    def auth_flow(self, request: Request) -> AuthFlow:
        yield request

    def sync_auth_flow(self, request: Request) -> AuthFlow:
        """What ``Client`` drives: ``auth_flow`` with the bodies it asked for read."""
        self._refuse_if_only(Auth.async_auth_flow, "async_auth_flow", "AsyncClient")
        if self.requires_request_body:
            request.read()
        flow = self.auth_flow(request)
        try:
            request = next(flow)
            while True:
                response = yield request
                if self.requires_response_body:
                    response.read()
                try:
                    request = flow.send(response)
                except StopIteration:
                    return
        finally:
            flow.close()  # a flow abandoned mid-way (an error, a close) still runs its finally

    async def async_auth_flow(self, request: Request) -> AsyncAuthFlow:
        """What ``AsyncClient`` drives: the same relay, reading the bodies with ``await``."""
        self._refuse_if_only(Auth.sync_auth_flow, "sync_auth_flow", "Client")
        if self.requires_request_body:
            await _aread_request(request)
        flow = self.auth_flow(request)
        try:
            request = next(flow)
            while True:
                response = yield request
                if self.requires_response_body:
                    await response.aread()
                try:
                    request = flow.send(response)
                except StopIteration:
                    return
        finally:
            flow.close()

    def _refuse_if_only(self, shell: Callable[..., Any], name: str, client: str) -> None:
        # A scheme that wrote only the other shell would otherwise fall through to the default
        # auth_flow and send the request without credentials.
        cls = type(self)
        if cls.auth_flow is Auth.auth_flow and getattr(cls, name) is not shell:
            raise InvalidRequest(
                f"{cls.__name__} implements only {name}; use {client}, or implement auth_flow"
            )

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


TokenSource = Callable[..., str] | Callable[..., Awaitable[str]]


def _is_async_callable(func: object) -> bool:
    # An ``async def`` function or method, a partial of one, or an object whose __call__ is one.
    call = getattr(type(func), "__call__", None)  # noqa: B004  (inspected, not a callable test)
    return inspect.iscoroutinefunction(func) or inspect.iscoroutinefunction(call)


def _takes_refresh(func: Callable[..., object]) -> bool:
    # Decided once from the signature: calling with refresh= and retrying on TypeError would
    # call the source twice, and mistake a TypeError raised inside it for a signature mismatch.
    try:
        parameters = inspect.signature(func).parameters.values()
    except (TypeError, ValueError):  # some builtins and C callables have no signature
        return False
    return any(
        p.kind is p.VAR_KEYWORD
        or (p.name == "refresh" and p.kind in (p.KEYWORD_ONLY, p.POSITIONAL_OR_KEYWORD))
        for p in parameters
    )


def _async_source_refused() -> InvalidRequest:
    return InvalidRequest(
        "BearerAuth's token source is async (an async def or a callable returning an "
        "awaitable), and a sync Client cannot await it; use AsyncClient, or pass a sync callable"
    )


def _checked_token(value: object) -> str:
    if not isinstance(value, str):
        raise InvalidRequest(
            f"BearerAuth's token source returned {type(value).__name__}, not a str"
        )
    if "\r" in value or "\n" in value or "\x00" in value:
        # Checked here so the header check, which quotes the value, never sees the secret.
        raise InvalidHeader("BearerAuth's token contains a CR, LF or NUL character")
    return value


class BearerAuth(Auth):
    """``Authorization: Bearer <token>``; ``token`` may be a callable that returns a fresh one.

    The callable may be plain or ``async def`` (an async one needs ``AsyncClient``; a sync
    ``Client`` refuses it with :class:`~hookwire.errors.InvalidRequest`). With a callable, a 401
    triggers one refresh (``refresh=True`` is passed if the callable accepts it) and one retry.
    Concurrent requests that were all refused the same token share a single refresh: a lock
    (a threading lock, plus an asyncio lock per event loop for async sources) serializes the
    fetches, and a request refreshes only if nobody has replaced its token in the meantime.
    """

    def __init__(self, token: str | TokenSource, *, scheme: str = "Bearer") -> None:
        if isinstance(token, str):
            _checked_token(token)
        elif not callable(token):
            raise InvalidRequest(
                f"BearerAuth(token=) takes a str or a callable, not {type(token).__name__}"
            )
        self._token = token
        self._scheme = scheme
        self._is_async = not isinstance(token, str) and _is_async_callable(token)
        self._refresh_kw = not isinstance(token, str) and _takes_refresh(token)
        self._lock = threading.Lock()
        self._async_locks: weakref.WeakKeyDictionary[
            asyncio.AbstractEventLoop, asyncio.Lock
        ] = weakref.WeakKeyDictionary()
        self._cached: str | None = token if isinstance(token, str) else None
        self._generation = 0  # +1 per fetched token, so a 401 can tell if its token is current

    # -- the token source --------------------------------------------------------------------
    def _call(self, refresh: bool) -> object:
        assert not isinstance(self._token, str)
        return self._token(refresh=refresh) if self._refresh_kw else self._token()

    def _reusable(self, refused: int | None) -> tuple[str, int] | None:
        """Under ``_lock``: the cached token, unless there is none or it is the refused one."""
        if self._cached is not None and refused != self._generation:
            return self._cached, self._generation
        return None

    def _store(self, value: object) -> tuple[str, int]:
        """Under ``_lock``: keep a freshly fetched token."""
        self._cached = _checked_token(value)
        self._generation += 1
        return self._cached, self._generation

    def _sync_token(self, refused: int | None = None) -> tuple[str, int]:
        """The token and its generation; ``refused``: the generation a 401 turned down."""
        if isinstance(self._token, str):
            return self._token, 0
        if self._is_async:
            raise _async_source_refused()  # refused before calling: no coroutine is created
        with self._lock:
            reusable = self._reusable(refused)
            if reusable is not None:
                return reusable
            value = self._call(refresh=refused is not None)
            if inspect.isawaitable(value):
                if inspect.iscoroutine(value):
                    value.close()  # never awaited on purpose: no RuntimeWarning when collected
                raise _async_source_refused()
            return self._store(value)

    def _loop_lock(self) -> asyncio.Lock:
        # One asyncio lock per event loop: a lock is bound to the loop that first waits on it.
        loop = asyncio.get_running_loop()
        with self._lock:
            lock = self._async_locks.get(loop)
            if lock is None:
                lock = self._async_locks[loop] = asyncio.Lock()
            return lock

    async def _async_token(self, refused: int | None = None) -> tuple[str, int]:
        if isinstance(self._token, str):
            return self._token, 0
        async with self._loop_lock():
            with self._lock:  # a sync source is called under the thread lock, as in _sync_token
                reusable = self._reusable(refused)
                if reusable is not None:
                    return reusable
                value = self._call(refresh=refused is not None)
                if not inspect.isawaitable(value):
                    return self._store(value)
            # The thread lock is never held across an await (it would block the loop); the
            # loop lock alone makes the other tasks wait for this token.
            value = await value
            with self._lock:
                return self._store(value)

    # -- the flows ---------------------------------------------------------------------------
    def _authorize(self, request: Request, token: str) -> None:
        request.headers["Authorization"] = f"{self._scheme} {token}"

    def auth_flow(self, request: Request) -> AuthFlow:
        token, generation = self._sync_token()
        self._authorize(request, token)
        response = yield request
        if response.status_code == 401 and callable(self._token):
            request.rewind()  # before the refresh: an unreplayable body fails without one
            token, _ = self._sync_token(refused=generation)
            self._authorize(request, token)
            yield request

    async def async_auth_flow(self, request: Request) -> AsyncAuthFlow:
        # The same flow as auth_flow, with the token awaited (the I/O that needs this shell).
        token, generation = await self._async_token()
        self._authorize(request, token)
        response = yield request
        if response.status_code == 401 and callable(self._token):
            request.rewind()
            token, _ = await self._async_token(refused=generation)
            self._authorize(request, token)
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
