"""``logging``: a transport that wraps another registered transport by name.

It adds an ``X-Example-Plugin`` header to every request and logs one line per exchange, then
hands the bytes to the inner transport (``requests`` by default, ``httpx`` for async; choose
another with ``transport_options={"inner": "httpx"}``). It never retries or authenticates: the
client does. The inner transport is looked up on the host this one was built from, so a client
with its own ``PluginHost`` gets the inner transport of that host.
"""

from __future__ import annotations

import logging

from hookwire.plugin import (
    AsyncBaseTransport,
    BaseTransport,
    PluginHost,
    Request,
    Response,
    TransportOptions,
)

log = logging.getLogger("hookwire_example")
HEADER = "X-Example-Plugin"


def _inner_name(options: TransportOptions, *, is_async: bool) -> str:
    return str(options.extra.get("inner", "httpx" if is_async else "requests"))


class LoggingTransport(BaseTransport):
    def __init__(self, *, options: TransportOptions, host: PluginHost) -> None:
        self.inner_name = _inner_name(options, is_async=False)
        self.inner = host.transport_factory(self.inner_name, is_async=False)(options)

    def handle_request(self, request: Request) -> Response:
        request.headers[HEADER] = f"logging+{self.inner_name}"
        response = self.inner.handle_request(request)
        log.info("%s %s -> %s", request.method, request.url, response.status_code)
        return response

    def close(self) -> None:
        self.inner.close()


class AsyncLoggingTransport(AsyncBaseTransport):
    def __init__(self, *, options: TransportOptions, host: PluginHost) -> None:
        self.inner_name = _inner_name(options, is_async=True)
        self.inner = host.transport_factory(self.inner_name, is_async=True)(options)

    async def handle_async_request(self, request: Request) -> Response:
        request.headers[HEADER] = f"logging+{self.inner_name}"
        response = await self.inner.handle_async_request(request)
        log.info("%s %s -> %s", request.method, request.url, response.status_code)
        return response

    async def aclose(self) -> None:
        await self.inner.aclose()
