"""hookwire's SDK: one library for HTTP with pluggable auth, transports and retries, and LLMs.

``import hookwire`` is cheap: names are loaded on first use (PEP 562), so neither pluggy, nor
any HTTP library, nor torch is imported until something needs it. Every name of ``__all__`` is
also in the ``TYPE_CHECKING`` block below, and tests/sdk/test_exports.py checks that each one
resolves at runtime. The plugin API is :mod:`hookwire.plugin`.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from hookwire import errors as _errors  # stdlib only, a few classes: cheap

__version__ = "0.1.0"

_EXPORTS: dict[str, str] = {
    "Client": "hookwire._client",
    "AsyncClient": "hookwire._client",
    "Request": "hookwire._models",
    "Response": "hookwire._models",
    "Headers": "hookwire._headers",
    "Cookies": "hookwire._cookies",
    "Timeout": "hookwire.timeouts",
    "RetryPolicy": "hookwire.retry",
    "Auth": "hookwire.auth",
    "BasicAuth": "hookwire.auth",
    "BearerAuth": "hookwire.auth",
    "APIKeyAuth": "hookwire.auth",
    "ProxyAuth": "hookwire.auth",
    "FunctionAuth": "hookwire.auth",
    "DigestAuth": "hookwire.auth",
    "make_auth": "hookwire._plugin_api",
    "PluginHost": "hookwire.registry",
    "get_plugin_host": "hookwire.registry",
    "hookimpl": "hookwire.hookspecs",
    "BaseTransport": "hookwire.transports",
    "AsyncBaseTransport": "hookwire.transports",
    "TransportOptions": "hookwire.transports",
    "FakeClock": "hookwire._clock",
    "errors": "hookwire.errors",
    "LLM": "hookwire.llm",
    "Router": "hookwire.llm",
    "Conversation": "hookwire.llm",
}
# Every error class is reachable as ``hookwire.X``: the list is errors.__all__, written once.
_EXPORTS.update({name: "hookwire.errors" for name in _errors.__all__})

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module_name = _EXPORTS.get(name)
    if module_name is None:
        raise AttributeError(f"module 'hookwire' has no attribute {name!r}")
    module = importlib.import_module(module_name)
    value = module if name == "errors" else getattr(module, name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__


if TYPE_CHECKING:
    from hookwire import errors as errors
    from hookwire._client import AsyncClient as AsyncClient
    from hookwire._client import Client as Client
    from hookwire._clock import FakeClock as FakeClock
    from hookwire._cookies import Cookies as Cookies
    from hookwire._headers import Headers as Headers
    from hookwire._models import Request as Request
    from hookwire._models import Response as Response
    from hookwire._plugin_api import make_auth as make_auth
    from hookwire.auth import APIKeyAuth as APIKeyAuth
    from hookwire.auth import Auth as Auth
    from hookwire.auth import BasicAuth as BasicAuth
    from hookwire.auth import BearerAuth as BearerAuth
    from hookwire.auth import DigestAuth as DigestAuth
    from hookwire.auth import FunctionAuth as FunctionAuth
    from hookwire.auth import ProxyAuth as ProxyAuth
    from hookwire.errors import *  # noqa: F403
    from hookwire.hookspecs import hookimpl as hookimpl
    from hookwire.llm import LLM as LLM
    from hookwire.llm import Conversation as Conversation
    from hookwire.llm import Router as Router
    from hookwire.registry import PluginHost as PluginHost
    from hookwire.registry import get_plugin_host as get_plugin_host
    from hookwire.retry import RetryPolicy as RetryPolicy
    from hookwire.timeouts import Timeout as Timeout
    from hookwire.transports import AsyncBaseTransport as AsyncBaseTransport
    from hookwire.transports import BaseTransport as BaseTransport
    from hookwire.transports import TransportOptions as TransportOptions
