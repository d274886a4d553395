"""The plugin module named by the entry point: three hook implementations, nothing else."""

from __future__ import annotations

from hookwire.plugin import AuthRegister, ProviderRegister, TransportRegister, hookimpl
from hookwire_example.auth import HMACAuth
from hookwire_example.provider import ShoutProvider
from hookwire_example.transport import AsyncLoggingTransport, LoggingTransport


@hookimpl
def hookwire_register_auth(register: AuthRegister) -> None:
    register("hmac", HMACAuth)


@hookimpl
def hookwire_register_transports(register: TransportRegister) -> None:
    register("logging", sync=LoggingTransport, async_=AsyncLoggingTransport)


@hookimpl
def hookwire_register_providers(register: ProviderRegister) -> None:
    register("shout", ShoutProvider)
