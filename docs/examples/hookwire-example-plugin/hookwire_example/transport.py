"""``logging``: a transport that wraps another registered transport by name.

It adds an ``X-Example-Plugin`` header to every request and logs one line per exchange, then
hands the bytes to the inner transport (``requests`` by default; choose another with
``transport_options={"inner": "httpx"}``). It never retries or authenticates: the client does.
"""

from __future__ import annotations

import logging

from hookwire.registry import get_plugin_host
from hookwire.transports import AsyncBaseTransport, BaseTransport

log = logging.getLogger("hookwire_example")
HEADER = "X-Example-Plugin"


def _inner_factory(options, face: str):
    name = options.extra.get("inner", "requests" if face == "sync" else "httpx")
    factory = get_plugin_host().lookup("transport", name).options.get(face)
    if factory is None:
        raise ValueError(f"transport {name!r} has no {face} face to wrap")
    return name, factory(options=options)


class LoggingTransport(BaseTransport):
    def __init__(self, options) -> None:
        self.inner_name, self.inner = _inner_factory(options, "sync")

    def handle_request(self, request):
        request.headers[HEADER] = f"logging+{self.inner_name}"
        response = self.inner.handle_request(request)
        log.info("%s %s -> %s", request.method, request.url, response.status_code)
        return response

    def close(self) -> None:
        self.inner.close()


class AsyncLoggingTransport(AsyncBaseTransport):
    def __init__(self, options) -> None:
        self.inner_name, self.inner = _inner_factory(options, "async_")

    async def handle_async_request(self, request):
        request.headers[HEADER] = f"logging+{self.inner_name}"
        response = await self.inner.handle_async_request(request)
        log.info("%s %s -> %s", request.method, request.url, response.status_code)
        return response

    async def aclose(self) -> None:
        await self.inner.aclose()


def make_sync(*, options):
    return LoggingTransport(options)


def make_async(*, options):
    return AsyncLoggingTransport(options)
