"""What ``Client`` and ``AsyncClient`` share: configuration, request building, retry decisions.

Everything here is sans-IO; the two clients in ``_client.py`` only add the loops that send,
sleep and read, one blocking and one awaiting.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping
from typing import Any

from hookwire import _tls
from hookwire._clock import Clock
from hookwire._content import ContentInput, DataInput, FilesInput, encode_body
from hookwire._cookies import Cookies
from hookwire._headers import HeaderInput, Headers
from hookwire._models import DEFAULT_MAX_BODY, Request, Response
from hookwire._urls import (
    QueryParams,
    _lowered_environ,
    build_url,
    proxy_from_env,
    redact_url,
    strip_userinfo,
    userinfo,
)
from hookwire.auth import Auth, BasicAuth, FunctionAuth, ProxyAuth
from hookwire.errors import (
    AuthenticationError,
    BodyTooLarge,
    ConnectError,
    ConnectTimeout,
    DeadlineExceeded,
    DecodingError,
    InvalidRequest,
    NetworkError,
    PoolTimeout,
    ProtocolError,
    ReadError,
    RetryError,
    TimeoutException,
    TransportError,
)
from hookwire.registry import PluginHost, get_plugin_host
from hookwire.retry import RetryDecision, RetryPolicy, parse_retry_after
from hookwire.timeouts import Timeout, TimeoutTypes
from hookwire.transports import (
    AsyncBaseTransport,
    BaseTransport,
    CertTypes,
    TLSSettings,
    TransportOptions,
    VerifyTypes,
)

log = logging.getLogger("hookwire.http")

USER_AGENT = "hookwire/0.1"
AuthTypes = Auth | tuple[str, str] | tuple[bytes, bytes] | Any
_UNSET: Any = object()


def error_kind(exc: TransportError) -> str:
    """The retry policy's name for a transport failure ("other" is never retried)."""
    if isinstance(exc, (BodyTooLarge, DecodingError)):
        # Our own limit or a body that is not what it claims: the same answer every time.
        return "other"
    if isinstance(exc, (ConnectTimeout, PoolTimeout)):
        return "connect"
    if isinstance(exc, TimeoutException):
        return "timeout"
    if isinstance(exc, ConnectError):
        return "connect"
    if isinstance(exc, (ReadError, NetworkError)):
        return "read"
    if isinstance(exc, ProtocolError):
        return "protocol"
    return "other"


_proxy_env_seen: tuple[dict[str, str], bool] | None = None


def _env_names_a_proxy() -> bool:
    """Whether any ``*_proxy`` variable other than ``no_proxy`` is set (else no proxy applies).

    ``proxy_from_env`` parses the URL's origin and walks NO_PROXY on every request (~3 us);
    with no proxy variable at all (the usual case) its answer is None for every URL. The
    lower-cased environment is one cached dict until ``os.environ`` changes, so the answer
    is cached on that dict's identity.
    """
    global _proxy_env_seen
    env = _lowered_environ()
    seen = _proxy_env_seen
    if seen is not None and seen[0] is env:
        return seen[1]
    named = any(k.endswith("_proxy") and k != "no_proxy" for k in env)
    _proxy_env_seen = (env, named)
    return named


def _is_proxy_auth(auth: object) -> bool:
    """ProxyAuth, or requests' own ``HTTPProxyAuth`` (a callable that would otherwise run as a
    FunctionAuth and send the proxy's credentials to the server), told by name: the core
    imports no HTTP library."""
    cls = type(auth)
    return isinstance(auth, ProxyAuth) or (
        cls.__name__ == "HTTPProxyAuth" and cls.__module__.startswith("requests")
    )


def coerce_auth(auth: AuthTypes | None) -> Auth | None:
    if _is_proxy_auth(auth):
        # requests' HTTPProxyAuth habit: as auth= the credentials reach nobody and the proxy
        # answers 407. Proxy credentials have their own argument.
        raise InvalidRequest(
            "auth=ProxyAuth(...) authenticates to a proxy, not to the server: pass it as "
            "proxy_auth= (Client(proxy=..., proxy_auth=ProxyAuth(user, password)))"
        )
    if auth is None or isinstance(auth, Auth):
        return auth
    if isinstance(auth, tuple) and len(auth) == 2:
        return BasicAuth(*auth)
    if callable(auth):
        return FunctionAuth(auth)
    raise InvalidRequest(
        "auth= takes an Auth, a (username, password) tuple or a callable, "
        f"not {type(auth).__name__}"
    )


class BaseClient:
    """Shared configuration and request building (see ``Client`` for the arguments)."""

    _is_async = False

    def __init__(
        self,
        *,
        base_url: str = "",
        headers: HeaderInput = None,
        params: QueryParams = None,
        cookies: Mapping[str, str] | Cookies | None = None,
        auth: AuthTypes | None = None,
        timeout: TimeoutTypes = Timeout(),
        follow_redirects: bool = True,
        max_redirects: int = 20,
        retry: RetryPolicy | int | None = None,
        transport: str | BaseTransport | AsyncBaseTransport | None = None,
        verify: VerifyTypes = True,
        cert: CertTypes = None,
        proxy: str | None = None,
        proxy_auth: ProxyAuth | tuple[str, str] | None = None,
        trust_env: bool = True,
        max_connections: int = 100,
        max_body_size: int = DEFAULT_MAX_BODY,
        plugins: PluginHost | None = None,
        clock: Clock | None = None,
        transport_options: Mapping[str, Any] | None = None,
    ) -> None:
        self.base_url = base_url
        self.headers = Headers({"User-Agent": USER_AGENT, "Accept": "*/*"})
        self.headers.update(Headers(headers))
        self.params = params
        self.cookies = Cookies(cookies)
        if base_url:
            self.cookies.bind(base_url)  # the client's own cookies belong to its origin
        self.auth = coerce_auth(auth)
        self.timeout = Timeout.of(timeout)
        self.follow_redirects = follow_redirects
        self.max_redirects = max_redirects
        self.retry = self._coerce_retry(retry)
        self.proxy = proxy
        if isinstance(proxy_auth, tuple):
            proxy_auth = ProxyAuth(*proxy_auth)
        self.proxy_auth = proxy_auth
        self.trust_env = trust_env
        self.max_body_size = max_body_size
        self.clock = clock or Clock()
        self._host = plugins
        tls = _tls.settings(verify, cert)
        # verify=True means "the CA bundle the environment names, else certifi", as in requests
        # and httpx; read once, here, so every transport and every request agree (for a client
        # that does not verify by default, on the first request that asks to).
        self._verify_true: VerifyTypes | None = None
        if tls.verify is True:
            tls = tls._replace(verify=self._verify_when_true())
        self._tls = tls
        self._options = TransportOptions(
            verify=tls.verify,
            cert=tls.cert,
            proxy=proxy,
            trust_env=trust_env,
            max_connections=max_connections,
            max_keepalive=max_connections,
            retry=self.retry,
            extra=dict(transport_options or {}),
        )
        self._transport_spec = transport
        self._transport: Any = transport if not isinstance(transport, (str, type(None))) else None
        self._transport_lock = threading.Lock()
        self._closed = False

    @staticmethod
    def _coerce_retry(retry: RetryPolicy | int | None) -> RetryPolicy:
        if retry is None:
            return RetryPolicy.none()
        if isinstance(retry, RetryPolicy):
            return retry
        if isinstance(retry, int) and not isinstance(retry, bool) and retry >= 0:
            return RetryPolicy(attempts=retry + 1)
        raise InvalidRequest(f"retry= takes a RetryPolicy or a number of retries, not {retry!r}")

    @property
    def plugins(self) -> PluginHost:
        if self._host is None:
            self._host = get_plugin_host()
        return self._host

    @property
    def transport_name(self) -> str:
        spec = self._transport_spec
        if isinstance(spec, str):
            return spec
        if spec is None:
            return self.plugins.default_transport(is_async=self._is_async)
        return type(spec).__name__

    def _make_transport(self) -> Any:
        with self._transport_lock:
            if self._transport is None:
                make = self.plugins.transport_factory(
                    self.transport_name, is_async=self._is_async
                )
                self._transport = make(self._options)
            return self._transport

    # -- building requests ----------------------------------------------------------------
    def build_request(
        self,
        method: str,
        url: str,
        *,
        params: QueryParams = None,
        headers: HeaderInput = None,
        cookies: Mapping[str, str] | None = None,
        content: ContentInput = None,
        data: DataInput = None,
        files: FilesInput | None = None,
        json: Any = None,
        timeout: TimeoutTypes | object = _UNSET,
        verify: VerifyTypes | object = _UNSET,
        cert: CertTypes | object = _UNSET,
    ) -> Request:
        """A Request with the client's defaults merged in; nothing is sent.

        ``verify=``/``cert=`` override the client's TLS settings for this request only (as in
        ``requests.get(url, verify=False)``); the transport keeps its connections apart per
        setting."""
        merged_url = build_url(self.base_url, url, self.params)
        if params is not None:  # build_url already validated merged_url
            merged_url = build_url("", merged_url, params)
        body, stream, content_type = encode_body(content=content, data=data, files=files, json=json)
        request_headers = self.headers.copy()
        if content_type:
            request_headers["Content-Type"] = content_type
        if headers is not None:
            # Per-call headers replace the defaults of the same name but keep their own repeats.
            call_headers = Headers(headers)
            for name in call_headers:
                request_headers.pop(name, None)
            for name, value in call_headers.multi_items():
                request_headers.add(name, value)
        if body is not None:
            request_headers["Content-Length"] = str(len(body))
        elif stream is None and method.upper() in ("POST", "PUT", "PATCH"):
            request_headers["Content-Length"] = "0"
        # Without an "@" there is no user:password@ to take out (skips two URL parses).
        has_userinfo = "@" in merged_url
        request = Request(
            method,
            strip_userinfo(merged_url) if has_userinfo else merged_url,
            content=body,
            stream=stream,
            extensions={
                "timeout": self.timeout if timeout is _UNSET else Timeout.of(timeout),
                "userinfo": userinfo(merged_url) if has_userinfo else None,
            },
        )
        # request_headers is this call's own, already checked copy (the defaults' copy() and
        # add() both validate): hand it over rather than have Request copy it a second time.
        request.headers = request_headers
        if verify is not _UNSET or cert is not _UNSET:
            tls = self._request_tls(verify, cert)
            if tls != self._tls:
                request.extensions["tls"] = tls
        if cookies:
            jar = Cookies(self.cookies)
            for name, value in cookies.items():
                jar.set(name, value)
            jar.add_to(request)
        return request

    def _verify_when_true(self) -> VerifyTypes:
        if self._verify_true is None:
            env_ca = _tls.ca_bundle_from_env() if self.trust_env else None
            self._verify_true = env_ca or True
        return self._verify_true

    def _request_tls(self, verify: object, cert: object) -> TLSSettings:
        """A request's own TLS settings: what it names, the client's for what it leaves out;
        ``verify=True`` is the environment's CA bundle (when trusted) or certifi."""
        if verify is _UNSET:
            verify = self._tls.verify
        elif verify is True:
            verify = self._verify_when_true()
        tls = _tls.settings(verify, self._tls.cert if cert is _UNSET else cert)
        _tls.check_files(tls)
        return tls

    def _auth_for(self, request: Request, auth: AuthTypes | object | None) -> Auth | None:
        if auth is not _UNSET:
            return coerce_auth(auth)
        if self.auth is not None:
            return self.auth
        creds = request.extensions.get("userinfo")
        return BasicAuth(*creds) if creds else None

    def _prepare_single(self, request: Request) -> None:
        """Per-exchange work before the transport: deadline, cookies, proxy choice, observers."""
        deadline = request.extensions.get("deadline")
        if deadline is not None:
            # Again for each exchange (a redirect hop, an auth round trip): the transport
            # bounds the response head by what is left now, not at the attempt's start.
            self._apply_deadline(request, deadline)
        if self.cookies.may_have_cookies():  # an empty jar adds nothing: skip urllib's adapter
            self.cookies.add_to(request)
        proxy = self.proxy
        if proxy is None and self.trust_env and _env_names_a_proxy():
            proxy = proxy_from_env(request.url)
        if proxy and self.proxy_auth is not None:
            user, password = self.proxy_auth.credentials
            from urllib.parse import quote, urlsplit, urlunsplit

            parts = urlsplit(proxy)
            netloc = f"{quote(user, safe='')}:{quote(password, safe='')}@{parts.netloc}"
            proxy = urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))
        request.extensions["proxy"] = proxy
        hook = self.plugins.hook.hookwire_request_prepared
        if hook.get_hookimpls():  # no observer registered: skip pluggy's call machinery
            hook(request=request)

    def _after_single(self, request: Request, response: Response, started: float) -> None:
        response.request = request
        response.max_body_size = self.max_body_size
        deadline = request.extensions.get("deadline")
        if deadline is not None:  # the body is read against the same total deadline
            response.set_deadline(deadline, self.clock)
        response._elapsed = self.clock.monotonic() - started  # seconds; see Response.elapsed
        self.cookies.extract(response)
        if log.isEnabledFor(logging.DEBUG):
            log.debug(
                "%s %s -> %s", request.method, redact_url(request.url), response.status_code
            )
        hook = self.plugins.hook.hookwire_response_received
        if hook.get_hookimpls():
            hook(request=request, response=response)

    # -- retry decisions ------------------------------------------------------------------
    def _remaining(self, deadline: float | None) -> float | None:
        return None if deadline is None else deadline - self.clock.monotonic()

    def _deadline(self, request: Request) -> float | None:
        """The call's deadline on ``self.clock`` (None without ``total``), also kept in
        ``request.extensions["deadline"]`` for every exchange and response body of the call."""
        timeout = request.extensions.setdefault("timeout", self.timeout)
        total = timeout.total
        deadline = None if total is None else self.clock.monotonic() + total
        request.extensions["deadline"] = deadline
        return deadline

    def _apply_deadline(self, request: Request, deadline: float | None) -> None:
        remaining = self._remaining(deadline)
        if remaining is not None and remaining <= 0:
            raise DeadlineExceeded(
                "the total deadline passed before the request could be sent", request=request
            )
        request.extensions["timeout"] = request.extensions["timeout"].capped(remaining)

    def _decide(
        self,
        request: Request,
        attempt: int,
        deadline: float | None,
        *,
        response: Response | None = None,
        error: TransportError | None = None,
    ) -> RetryDecision:
        kind = None if error is None else error_kind(error)
        if kind == "other":
            return RetryDecision(False, 0.0, f"{type(error).__name__} is not retried")
        decision = self.retry.decide(
            method=request.method,
            status=None if response is None else response.status_code,
            error_kind=kind,  # type: ignore[arg-type]
            headers=None if response is None else response.headers,
            attempt=attempt,
            # Only read when another attempt is possible (the policy answers "exhausted" first).
            has_idempotency_key=(
                attempt < self.retry.attempts and "idempotency-key" in request.headers
            ),
            remaining=self._remaining(deadline),
            now=self.clock.now(),
            rng=self.clock,
        )
        if decision.retry and not request.is_replayable:
            return RetryDecision(False, 0.0, "the body is a one-shot stream")
        return decision

    def _schedule(self, request: Request, attempt: int, decision: RetryDecision) -> None:
        log.info(
            "retrying %s %s in %.2fs (attempt %d): %s",
            request.method,
            redact_url(request.url),
            decision.delay,
            attempt + 1,
            decision.reason,
        )
        self.plugins.hook.hookwire_retry_scheduled(
            request=request, attempt=attempt + 1, delay=decision.delay, reason=decision.reason
        )
        request.rewind()

    def _final_response(
        self, request: Request, response: Response, attempt: int, decision: RetryDecision
    ) -> Response:
        """Return the response, or raise when retries ran out on a retryable status."""
        response.attempts = attempt
        retryable = (
            response.status_code in self.retry.statuses
            and self.retry.attempts > 1
            and self.retry.method_allowed(
                request.method, has_idempotency_key="idempotency-key" in request.headers
            )
        )
        if not retryable:  # the common case: skip parsing Retry-After, nothing below can raise
            return response
        retry_after = parse_retry_after(response.headers, self.clock.now())
        exhausted = attempt > 1
        refused = retry_after is not None and retry_after > self.retry.retry_after_max
        if exhausted or refused:
            what = (
                f"gave up after {attempt} attempts"
                if exhausted
                else f"not retried: server asked to wait {retry_after:g}s ({decision.reason})"
            )
            error = RetryError(
                f"{request.method} {redact_url(request.url)}: {what}; "
                f"last status {response.status_code}",
                request=request,
                attempts=attempt,
                last_response=response,
                retry_after=retry_after,
            )
            self.plugins.hook.hookwire_request_failed(request=request, error=error)
            raise error
        return response

    def _fail(self, request: Request, error: TransportError, attempt: int) -> TransportError:
        error.request = request
        error.attempts = attempt
        if attempt > 1:
            error.message = f"{error.message} (after {attempt} attempts)"
            error.args = (error.message,)
        self.plugins.hook.hookwire_request_failed(request=request, error=error)
        return error

    @staticmethod
    def _auth_refused(response: Response, requests_sent: int) -> None:
        if response.status_code == 401 and requests_sent > 1:
            raise AuthenticationError(
                "the server refused the credentials (401 after authenticating)",
                request=response.request,
                response=response,
            )

    def __repr__(self) -> str:
        base = f" base_url={redact_url(self.base_url)!r}" if self.base_url else ""
        return f"<{type(self).__name__}{base} auth={self.auth!r}>"
