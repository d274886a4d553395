"""The plugin module named by the entry point: three hook implementations, nothing else."""

from __future__ import annotations

from hookwire.hookspecs import hookimpl
from hookwire_example.auth import HMACAuth
from hookwire_example.provider import ShoutProvider
from hookwire_example.transport import make_async, make_sync


@hookimpl
def hookwire_register_auth(register):
    register("hmac", HMACAuth)


@hookimpl
def hookwire_register_transports(register):
    register("logging", sync=make_sync, async_=make_async)


@hookimpl
def hookwire_register_providers(register):
    register("shout", ShoutProvider)
