"""The public plugin API: everything a plugin needs, and nothing it must reach behind.

A plugin (built-in or third-party) imports from here, from :mod:`hookwire.errors`,
:mod:`hookwire.auth`, :mod:`hookwire.llm` and the other public modules, never from a
``hookwire._private`` module::

    from hookwire.plugin import BaseTransport, TransportRegister, hookimpl

    @hookimpl
    def hookwire_register_transports(register: TransportRegister) -> None:
        register("mine", sync=MyTransport)

The hook specifications themselves are in :mod:`hookwire.hookspecs`; docs/plugins.md is the
guide. Names here are loaded on first use, so importing this module stays cheap.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

_EXPORTS: dict[str, str] = {
    # hooks and the host
    "hookimpl": "hookwire.hookspecs",
    "hookspec": "hookwire.hookspecs",
    "PluginHost": "hookwire.registry",
    "get_plugin_host": "hookwire.registry",
    "set_plugin_host": "hookwire.registry",
    "Entry": "hookwire.registry",
    "TransportEntry": "hookwire.registry",
    "PluginInfo": "hookwire.registry",
    "AuthRegister": "hookwire.registry",
    "TransportRegister": "hookwire.registry",
    "ProviderRegister": "hookwire.registry",
    "TransportFactory": "hookwire.transports",
    "AsyncTransportFactory": "hookwire.transports",
    # the request/response model
    "Request": "hookwire._models",
    "Response": "hookwire._models",
    "SyncByteStream": "hookwire._models",
    "AsyncByteStream": "hookwire._models",
    "CHUNK_SIZE": "hookwire._models",
    "Headers": "hookwire._headers",
    "SENSITIVE_HEADERS": "hookwire._headers",
    "wire_value": "hookwire._headers",
    "redact_url": "hookwire._urls",
    "proxy_from_env": "hookwire._urls",
    "origin": "hookwire._urls",
    # transports
    "BaseTransport": "hookwire.transports",
    "AsyncBaseTransport": "hookwire.transports",
    "TransportOptions": "hookwire.transports",
    "ContentDecoder": "hookwire._decoders",
    "Timeout": "hookwire.timeouts",
    # time
    "Clock": "hookwire._clock",
    "FakeClock": "hookwire._clock",
    # streams (for providers)
    "StreamDeadlines": "hookwire.llm._stream",
    "ChatStream": "hookwire.llm._stream",
    "AsyncChatStream": "hookwire.llm._stream",
}

__all__ = sorted(_EXPORTS)

_ALIASES = {"StreamDeadlines": "StreamDeadlines"}


def __getattr__(name: str) -> Any:
    module_name = _EXPORTS.get(name)
    if module_name is None:
        raise AttributeError(f"module 'hookwire.plugin' has no attribute {name!r}")
    value = getattr(importlib.import_module(module_name), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__


if TYPE_CHECKING:
    from hookwire._clock import Clock as Clock
    from hookwire._clock import FakeClock as FakeClock
    from hookwire._decoders import ContentDecoder as ContentDecoder
    from hookwire._headers import SENSITIVE_HEADERS as SENSITIVE_HEADERS
    from hookwire._headers import Headers as Headers
    from hookwire._headers import wire_value as wire_value
    from hookwire._models import CHUNK_SIZE as CHUNK_SIZE
    from hookwire._models import AsyncByteStream as AsyncByteStream
    from hookwire._models import Request as Request
    from hookwire._models import Response as Response
    from hookwire._models import SyncByteStream as SyncByteStream
    from hookwire._urls import origin as origin
    from hookwire._urls import proxy_from_env as proxy_from_env
    from hookwire._urls import redact_url as redact_url
    from hookwire.hookspecs import hookimpl as hookimpl
    from hookwire.hookspecs import hookspec as hookspec
    from hookwire.llm._stream import AsyncChatStream as AsyncChatStream
    from hookwire.llm._stream import ChatStream as ChatStream
    from hookwire.llm._stream import StreamDeadlines as StreamDeadlines
    from hookwire.registry import AuthRegister as AuthRegister
    from hookwire.registry import Entry as Entry
    from hookwire.registry import PluginHost as PluginHost
    from hookwire.registry import PluginInfo as PluginInfo
    from hookwire.registry import ProviderRegister as ProviderRegister
    from hookwire.registry import TransportEntry as TransportEntry
    from hookwire.registry import TransportRegister as TransportRegister
    from hookwire.registry import get_plugin_host as get_plugin_host
    from hookwire.registry import set_plugin_host as set_plugin_host
    from hookwire.timeouts import Timeout as Timeout
    from hookwire.transports import AsyncBaseTransport as AsyncBaseTransport
    from hookwire.transports import AsyncTransportFactory as AsyncTransportFactory
    from hookwire.transports import BaseTransport as BaseTransport
    from hookwire.transports import TransportFactory as TransportFactory
    from hookwire.transports import TransportOptions as TransportOptions
