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
"""

from __future__ import annotations

from dataclasses import dataclass, field
from types import TracebackType
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from hookwire._models import Request, Response
    from hookwire.registry import PluginHost
    from hookwire.retry import RetryPolicy


@dataclass(frozen=True)
class TransportOptions:
    """Connection-level settings handed to a transport factory.

    ``verify`` is a bool or a CA bundle path; ``cert`` a client certificate path or a
    (cert, key) pair for mutual TLS; ``proxy`` a proxy URL (``None``: read from the environment
    when ``trust_env``); ``max_connections`` bounds the pool; ``retry`` is the client's policy,
    for transports that can use it at the connection level.
    """

    verify: bool | str = True
    cert: str | tuple[str, str] | None = None
    proxy: str | None = None
    trust_env: bool = True
    max_connections: int = 100
    max_keepalive: int = 20
    retry: RetryPolicy | None = None
    extra: dict[str, Any] = field(default_factory=dict)


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
