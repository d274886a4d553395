"""What a transport is: the one interface every HTTP backend plugin implements.

A transport only moves bytes. It sends one :class:`~hookwire._models.Request` and returns a
:class:`~hookwire._models.Response` whose body is a stream; it never follows redirects, never
retries
and never authenticates (the client does all three, the same way on every transport). It maps
its library's exceptions onto :mod:`hookwire.errors` at its boundary, ``raise ... from exc``, also
for errors raised later while the body stream is read.

To write one, subclass :class:`BaseTransport` (or :class:`AsyncBaseTransport`) and register a
factory from a plugin::

    from hookwire.plugin import TransportRegister, hookimpl

    @hookimpl
    def hookwire_register_transports(register: TransportRegister) -> None:
        register("mine", sync=MyTransport, async_=MyAsyncTransport)

A factory is called as ``factory(options=TransportOptions(...), host=PluginHost)``: the
client's connection settings, and the plugin host the transport was looked up on. A transport
that wraps another builds its inner one with ``host.transport_factory(name, is_async=...)``.

What the client decides for each exchange travels in ``request.extensions``:

- ``"timeout"``: a :class:`~hookwire.timeouts.Timeout` already cut down to the total deadline;
  its ``total`` is then what is left of the deadline, and together with ``first_byte`` it
  bounds the whole wait for the response head (``hookwire.plugins.transports._common``
  shows the rule), however slowly its bytes drip;
- ``"proxy"``: the proxy URL (credentials inside) or None;
- ``"tls"``: a :class:`TLSSettings` when this request's ``verify=``/``cert=`` differ from the
  options'. A transport keeps its pooled connections per TLS setting, so a verified and an
  unverified request never share a connection.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from types import TracebackType
from typing import TYPE_CHECKING, Any, NamedTuple, Protocol, Union

if TYPE_CHECKING:
    import ssl

    from hookwire._models import Request, Response
    from hookwire.registry import PluginHost
    from hookwire.retry import RetryPolicy


#: ``verify=``: check certificates (True), do not (False), against a CA bundle file or
#: directory (a path), or exactly as an ``ssl.SSLContext`` says.
VerifyTypes = Union[bool, str, "ssl.SSLContext"]
#: ``cert=``: a client certificate for mutual TLS, one PEM file or a (cert, key) pair.
CertTypes = str | tuple[str, str] | None


class TLSSettings(NamedTuple):
    """The TLS an exchange needs: hashable, so a transport can key its pools and contexts on it
    (an ``ssl.SSLContext`` hashes by identity). With a context, ``cert`` is None: the context
    holds any client certificate itself."""

    verify: VerifyTypes
    cert: CertTypes


@dataclass(frozen=True)
class TransportOptions:
    """Connection-level settings handed to a transport factory.

    ``verify`` is a bool, a CA bundle path or an ``ssl.SSLContext`` (with ``trust_env`` and
    ``verify=True`` the client has already put the CA bundle named by ``REQUESTS_CA_BUNDLE``,
    ``CURL_CA_BUNDLE``, ``SSL_CERT_FILE`` or ``SSL_CERT_DIR`` here); ``cert`` a client
    certificate path or a (cert, key) pair for mutual TLS; ``proxy`` a proxy URL (``None``: read
    from the environment when ``trust_env``); ``max_connections`` bounds the pool;
    ``max_keepalive`` bounds the idle connections kept for reuse (the client passes
    ``max_connections``, so a burst of concurrent requests finds its connections again on
    every transport instead of reconnecting all but a few); ``retry`` is the client's policy,
    for transports that can use it at the connection level.
    """

    verify: VerifyTypes = True
    cert: CertTypes = None
    proxy: str | None = None
    trust_env: bool = True
    max_connections: int = 100
    max_keepalive: int = 100
    retry: RetryPolicy | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def tls(self) -> TLSSettings:
        """``(verify, cert)`` as one key: what a request without its own ``"tls"`` uses."""
        return TLSSettings(self.verify, self.cert)


class BaseTransport:
    """A sync transport: ``handle_request`` sends one request and returns the response."""

    def handle_request(self, request: Request) -> Response:
        raise NotImplementedError

    def close(self) -> None:
        """Close pooled connections."""

    def __enter__(self) -> BaseTransport:
        return self

    def __exit__(
        self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


class AsyncBaseTransport:
    """An async transport: ``handle_async_request`` sends one request."""

    async def handle_async_request(self, request: Request) -> Response:
        raise NotImplementedError

    async def aclose(self) -> None:
        """Close pooled connections."""

    async def __aenter__(self) -> AsyncBaseTransport:
        return self

    async def __aexit__(
        self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()


class TransportFactory(Protocol):
    """Builds a sync transport: a :class:`BaseTransport` subclass itself is one."""

    def __call__(self, *, options: TransportOptions, host: PluginHost) -> BaseTransport: ...


class AsyncTransportFactory(Protocol):
    """Builds an async transport: an :class:`AsyncBaseTransport` subclass itself is one."""

    def __call__(self, *, options: TransportOptions, host: PluginHost) -> AsyncBaseTransport: ...
