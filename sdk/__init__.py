"""hookwire's SDK: one library for HTTP with pluggable auth, transports and retries, and LLMs.

``import sdk`` is cheap: names are loaded on first use (PEP 562), so neither pluggy, nor any HTTP
library, nor torch is imported until something needs it.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_EXPORTS: dict[str, str] = {
    "Client": "sdk._client",
    "AsyncClient": "sdk._client",
    "Request": "sdk._models",
    "Response": "sdk._models",
    "Headers": "sdk._headers",
    "Cookies": "sdk._cookies",
    "Timeout": "sdk.timeouts",
    "RetryPolicy": "sdk.retry",
    "Auth": "sdk.auth",
    "BasicAuth": "sdk.auth",
    "BearerAuth": "sdk.auth",
    "APIKeyAuth": "sdk.auth",
    "ProxyAuth": "sdk.auth",
    "FunctionAuth": "sdk.auth",
    "DigestAuth": "sdk.auth",
    "make_auth": "sdk._plugin_api",
    "PluginHost": "sdk.registry",
    "get_plugin_host": "sdk.registry",
    "hookimpl": "sdk.hookspecs",
    "BaseTransport": "sdk.transports",
    "AsyncBaseTransport": "sdk.transports",
    "TransportOptions": "sdk.transports",
    "FakeClock": "sdk._clock",
    "errors": "sdk.errors",
    "LLM": "sdk.llm",
    "Conversation": "sdk.llm",
}
_ERROR_NAMES = {
    "SDKError", "RequestError", "TransportError", "TimeoutException", "ConnectTimeout",
    "ReadTimeout", "WriteTimeout", "PoolTimeout", "DeadlineExceeded", "NetworkError",
    "ConnectError", "ReadError", "WriteError", "ProtocolError", "DecodingError", "BodyTooLarge",
    "TooManyRedirects", "HTTPStatusError", "APIStatusError", "RateLimitError",
    "AuthenticationError", "RetryError", "StreamError", "StreamInterrupted", "StreamTruncated",
    "StreamErrorEvent", "PluginError", "ConfigError", "MissingAPIKeyError", "InvalidRequest",
    "InvalidURL", "InvalidHeader", "UnreplayableBodyError",
}
_EXPORTS.update({name: "sdk.errors" for name in _ERROR_NAMES})

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module_name = _EXPORTS.get(name)
    if module_name is None:
        raise AttributeError(f"module 'sdk' has no attribute {name!r}")
    module = importlib.import_module(module_name)
    value = module if name == "errors" else getattr(module, name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__


if TYPE_CHECKING:
    from sdk import errors as errors
    from sdk._client import AsyncClient as AsyncClient
    from sdk._client import Client as Client
    from sdk._clock import FakeClock as FakeClock
    from sdk._cookies import Cookies as Cookies
    from sdk._headers import Headers as Headers
    from sdk._models import Request as Request
    from sdk._models import Response as Response
    from sdk.auth import APIKeyAuth as APIKeyAuth
    from sdk.auth import Auth as Auth
    from sdk.auth import BasicAuth as BasicAuth
    from sdk.auth import BearerAuth as BearerAuth
    from sdk.auth import ProxyAuth as ProxyAuth
    from sdk.errors import *  # noqa: F403
    from sdk.registry import PluginHost as PluginHost
    from sdk.retry import RetryPolicy as RetryPolicy
    from sdk.timeouts import Timeout as Timeout
    from sdk.transports import AsyncBaseTransport as AsyncBaseTransport
    from sdk.transports import BaseTransport as BaseTransport
