"""``Client`` and ``AsyncClient``: the loops that drive auth flows, redirects and retries.

The decisions live in ``_client_base`` (retry), ``_redirects`` (redirects) and the auth flows;
these loops only send, sleep and read. The two classes differ only in colour.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Iterator
from types import TracebackType
from typing import Any

from hookwire import _redirects
from hookwire._client_base import _UNSET, AuthTypes, BaseClient
from hookwire._models import Request, Response
from hookwire.auth import AsyncAuthFlow, AuthFlow
from hookwire.errors import AuthenticationError, ClientClosed, TooManyRedirects, TransportError


class Client(BaseClient):
    """A blocking HTTP client with pooled connections, pluggable auth, transport and retries.

    ::

        retry = hookwire.RetryPolicy()
        with hookwire.Client(base_url="https://api.example.com", retry=retry) as client:
            r = client.get("/items", params={"q": "x"}, timeout=(3.05, 27))
            r.raise_for_status()
            items = r.json()

    Arguments: ``base_url``, ``headers``, ``params``, ``cookies``, ``auth`` (an ``Auth``, a
    ``(user, password)`` tuple for Basic, or a callable), ``timeout`` (see ``Timeout``),
    ``follow_redirects``, ``max_redirects``, ``retry`` (a ``RetryPolicy`` or a number of retries),
    ``transport`` (a registered name such as ``"requests"``/``"httpx"``, or an instance),
    ``verify`` (bool, CA bundle path or ``ssl.SSLContext``), ``cert`` (client certificate for
    mutual TLS), ``proxy``, ``proxy_auth``, ``trust_env`` (read proxies and the CA bundle
    variables from the environment), ``max_connections``, ``max_body_size``. Every request
    method also takes ``verify=`` and ``cert=`` for that request alone, as requests does.
    """

    def request(
        self,
        method: str,
        url: str,
        *,
        auth: AuthTypes | object | None = _UNSET,
        follow_redirects: bool | object = _UNSET,
        **kwargs: Any,
    ) -> Response:
        request = self.build_request(method, url, **kwargs)
        return self.send(request, auth=auth, follow_redirects=follow_redirects)

    @contextlib.contextmanager
    def stream(
        self,
        method: str,
        url: str,
        *,
        auth: AuthTypes | object | None = _UNSET,
        follow_redirects: bool | object = _UNSET,
        **kwargs: Any,
    ) -> Iterator[Response]:
        """Send and hand back the response with its body unread; closed on exit."""
        request = self.build_request(method, url, **kwargs)
        response = self.send(request, stream=True, auth=auth, follow_redirects=follow_redirects)
        try:
            yield response
        finally:
            response.close()

    def get(self, url: str, **kwargs: Any) -> Response:
        return self.request("GET", url, **kwargs)

    def head(self, url: str, **kwargs: Any) -> Response:
        kwargs.setdefault("follow_redirects", False)
        return self.request("HEAD", url, **kwargs)

    def options(self, url: str, **kwargs: Any) -> Response:
        return self.request("OPTIONS", url, **kwargs)

    def post(self, url: str, **kwargs: Any) -> Response:
        return self.request("POST", url, **kwargs)

    def put(self, url: str, **kwargs: Any) -> Response:
        return self.request("PUT", url, **kwargs)

    def patch(self, url: str, **kwargs: Any) -> Response:
        return self.request("PATCH", url, **kwargs)

    def delete(self, url: str, **kwargs: Any) -> Response:
        return self.request("DELETE", url, **kwargs)

    # -- the loops ------------------------------------------------------------------------
    def send(
        self,
        request: Request,
        *,
        stream: bool = False,
        auth: AuthTypes | object | None = _UNSET,
        follow_redirects: bool | object = _UNSET,
    ) -> Response:
        """Send a built request: retries around auth around redirects around the transport."""
        if self._closed:
            raise ClientClosed("the client was closed")
        follow = self.follow_redirects if follow_redirects is _UNSET else bool(follow_redirects)
        flow_auth = self._auth_for(request, auth)
        deadline = self._deadline(request)
        if flow_auth is None and deadline is None and self.retry.attempts <= 1:
            return self._send_once(request, stream, follow)
        attempt = 1
        while True:
            self._apply_deadline(request, deadline)
            try:
                response = self._send_handling_auth(request, flow_auth, follow)
                if not stream:
                    # Checked against the deadline per chunk by the response itself (see
                    # Response.set_deadline): a drip that never trips the read timeout ends.
                    response.read()
            except TransportError as exc:
                decision = self._decide(request, attempt, deadline, error=exc)
                if not decision.retry:
                    raise self._fail(request, exc, attempt) from exc.__cause__
                self._schedule(request, attempt, decision)
                self.clock.sleep(decision.delay)
                attempt += 1
                continue
            decision = self._decide(request, attempt, deadline, response=response)
            if not decision.retry:
                return self._final_response(request, response, attempt, decision)
            response.close()
            self._schedule(request, attempt, decision)
            self.clock.sleep(decision.delay)
            attempt += 1

    def _send_once(self, request: Request, stream: bool, follow: bool) -> Response:
        """``send`` with no auth, no total deadline and a one-attempt policy: the loop above
        would make exactly these calls (nothing to retry, cap or authenticate), minus the
        bookkeeping, which cost ~3 us a request."""
        try:
            # As in AsyncClient: the first exchange here, the redirect loop only for a redirect.
            response = self._send_single(request)
            if follow and response.is_redirect:
                response = self._send_handling_redirects(request, follow, response)
            else:
                response.history = []
            if not stream:
                response.read()
        except TransportError as exc:
            raise self._fail(request, exc, 1) from exc.__cause__
        return response

    def _send_handling_auth(self, request: Request, auth: Any, follow: bool) -> Response:
        if auth is None:
            return self._send_handling_redirects(request, follow)
        # The shell reads the bodies the scheme's flags ask for (see hookwire.auth).
        flow: AuthFlow = auth.sync_auth_flow(request)
        try:
            before = request.headers.multi_items()
            current = next(flow)
            _redirects.mark_auth_headers(before, current)
            sent = 1
            while True:
                response = self._send_handling_redirects(current, follow)
                try:
                    before = current.headers.multi_items()
                    next_request = flow.send(response)
                    _redirects.carry_auth_headers(current, next_request, before)
                except StopIteration:
                    try:
                        self._auth_refused(response, sent)
                    except AuthenticationError:
                        # Free the connection; the 401's body stays readable on the error.
                        with contextlib.suppress(TransportError):
                            response.read()
                        response.close()
                        raise
                    return response
                except BaseException:
                    response.close()
                    raise
                response.read()
                response.close()
                next_request.rewind()
                current = next_request
                sent += 1
        finally:
            flow.close()  # an abandoned flow (a transport error) still runs its cleanup

    def _send_handling_redirects(
        self, request: Request, follow: bool, first: Response | None = None
    ) -> Response:
        """Send and follow redirects; ``first`` is the first exchange's response, when the
        caller already has it."""
        history: list[Response] = []
        response = first if first is not None else self._send_single(request)
        while True:
            if not (follow and response.is_redirect):
                response.history = history
                return response
            if len(history) >= self.max_redirects:
                response.close()
                raise TooManyRedirects(
                    f"exceeded {self.max_redirects} redirects", request=request, history=history
                )
            response.read()
            response.close()
            history.append(response)
            request = _redirects.next_request(request, response)
            response = self._send_single(request)

    def _send_single(self, request: Request) -> Response:
        transport = self._transport or self._make_transport()
        self._prepare_single(request)
        started = self.clock.monotonic()
        response: Response = transport.handle_request(request)
        self._after_single(request, response, started)
        return response

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            if self._transport is not None:
                self._transport.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(
        self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


class AsyncClient(BaseClient):
    """The ``async`` twin of :class:`Client`: same arguments, same behaviour, awaited."""

    _is_async = True

    async def request(
        self,
        method: str,
        url: str,
        *,
        auth: AuthTypes | object | None = _UNSET,
        follow_redirects: bool | object = _UNSET,
        **kwargs: Any,
    ) -> Response:
        request = self.build_request(method, url, **kwargs)
        return await self.send(request, auth=auth, follow_redirects=follow_redirects)

    @contextlib.asynccontextmanager
    async def stream(
        self,
        method: str,
        url: str,
        *,
        auth: AuthTypes | object | None = _UNSET,
        follow_redirects: bool | object = _UNSET,
        **kwargs: Any,
    ) -> AsyncIterator[Response]:
        request = self.build_request(method, url, **kwargs)
        response = await self.send(
            request, stream=True, auth=auth, follow_redirects=follow_redirects
        )
        try:
            yield response
        finally:
            await response.aclose()

    async def get(self, url: str, **kwargs: Any) -> Response:
        return await self.request("GET", url, **kwargs)

    async def head(self, url: str, **kwargs: Any) -> Response:
        kwargs.setdefault("follow_redirects", False)
        return await self.request("HEAD", url, **kwargs)

    async def options(self, url: str, **kwargs: Any) -> Response:
        return await self.request("OPTIONS", url, **kwargs)

    async def post(self, url: str, **kwargs: Any) -> Response:
        return await self.request("POST", url, **kwargs)

    async def put(self, url: str, **kwargs: Any) -> Response:
        return await self.request("PUT", url, **kwargs)

    async def patch(self, url: str, **kwargs: Any) -> Response:
        return await self.request("PATCH", url, **kwargs)

    async def delete(self, url: str, **kwargs: Any) -> Response:
        return await self.request("DELETE", url, **kwargs)

    async def send(
        self,
        request: Request,
        *,
        stream: bool = False,
        auth: AuthTypes | object | None = _UNSET,
        follow_redirects: bool | object = _UNSET,
    ) -> Response:
        if self._closed:
            raise ClientClosed("the client was closed")
        follow = self.follow_redirects if follow_redirects is _UNSET else bool(follow_redirects)
        flow_auth = self._auth_for(request, auth)
        deadline = self._deadline(request)
        if flow_auth is None and deadline is None and self.retry.attempts <= 1:
            return await self._send_once(request, stream, follow)
        attempt = 1
        while True:
            self._apply_deadline(request, deadline)
            try:
                response = await self._send_handling_auth(request, flow_auth, follow)
                if not stream:
                    await response.aread()  # deadline checked per chunk, as in Client.send
            except TransportError as exc:
                decision = self._decide(request, attempt, deadline, error=exc)
                if not decision.retry:
                    raise self._fail(request, exc, attempt) from exc.__cause__
                self._schedule(request, attempt, decision)
                await self.clock.asleep(decision.delay)
                attempt += 1
                continue
            decision = self._decide(request, attempt, deadline, response=response)
            if not decision.retry:
                return self._final_response(request, response, attempt, decision)
            await response.aclose()
            self._schedule(request, attempt, decision)
            await self.clock.asleep(decision.delay)
            attempt += 1

    async def _send_once(self, request: Request, stream: bool, follow: bool) -> Response:
        """``send`` with no auth, no total deadline and a one-attempt policy: the loop above
        would make exactly these calls (nothing to retry, cap or authenticate), minus the
        bookkeeping, which cost ~3 us a request."""
        try:
            # The first exchange is sent here, not inside the redirect loop: one coroutine
            # frame fewer for the usual answer that is not a redirect to follow.
            response = await self._send_single(request)
            if follow and response.is_redirect:
                response = await self._send_handling_redirects(request, follow, response)
            else:
                response.history = []
            if not stream:
                await response.aread()
        except TransportError as exc:
            raise self._fail(request, exc, 1) from exc.__cause__
        return response

    async def _send_handling_auth(self, request: Request, auth: Any, follow: bool) -> Response:
        if auth is None:
            return await self._send_handling_redirects(request, follow)
        flow: AsyncAuthFlow = auth.async_auth_flow(request)
        try:
            before = request.headers.multi_items()
            current = await flow.__anext__()
            _redirects.mark_auth_headers(before, current)
            sent = 1
            while True:
                response = await self._send_handling_redirects(current, follow)
                try:
                    before = current.headers.multi_items()
                    next_request = await flow.asend(response)
                    _redirects.carry_auth_headers(current, next_request, before)
                except StopAsyncIteration:
                    try:
                        self._auth_refused(response, sent)
                    except AuthenticationError:
                        with contextlib.suppress(TransportError):
                            await response.aread()
                        await response.aclose()
                        raise
                    return response
                except BaseException:
                    await response.aclose()
                    raise
                await response.aread()
                await response.aclose()
                next_request.rewind()
                current = next_request
                sent += 1
        finally:
            # Closed here, not left to the loop's async-generator finalizer, which would run
            # the flow's cleanup later, outside this task.
            await flow.aclose()

    async def _send_handling_redirects(
        self, request: Request, follow: bool, first: Response | None = None
    ) -> Response:
        """Send and follow redirects; ``first`` is the first exchange's response, when the
        caller already has it."""
        history: list[Response] = []
        response = first if first is not None else await self._send_single(request)
        while True:
            if not (follow and response.is_redirect):
                response.history = history
                return response
            if len(history) >= self.max_redirects:
                await response.aclose()
                raise TooManyRedirects(
                    f"exceeded {self.max_redirects} redirects", request=request, history=history
                )
            await response.aread()
            await response.aclose()
            history.append(response)
            request = _redirects.next_request(request, response)
            response = await self._send_single(request)

    async def _send_single(self, request: Request) -> Response:
        transport = self._transport or self._make_transport()
        self._prepare_single(request)
        started = self.clock.monotonic()
        response: Response = await transport.handle_async_request(request)
        self._after_single(request, response, started)
        return response

    async def aclose(self) -> None:
        if not self._closed:
            self._closed = True
            if self._transport is not None:
                await self._transport.aclose()

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(
        self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()
