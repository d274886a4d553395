"""Running the app: `serve(config)` in the foreground, `LiveServer` in a background thread.

`LiveServer` is `hookwire.mockserver.runner.ThreadedServer` built from a `MockConfig`: its socket is
bound on 127.0.0.1 (port 0 by default) before uvicorn starts, so the port is known without a
race and two test sessions never collide.
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
from dataclasses import asdict
from typing import Any

import uvicorn

from hookwire.mockserver import shutdown
from hookwire.mockserver.app import MockApp, create_app
from hookwire.mockserver.config import MockConfig
from hookwire.mockserver.runner import ServerURL, ThreadedServer, uvicorn_kwargs

__all__ = ["LiveServer", "app_from_env", "serve", "uvicorn_kwargs"]

ENV_CONFIG = "MOCKSERVER_CONFIG_JSON"


def app_from_env() -> MockApp:
    """Factory for uvicorn worker processes: the config travels as JSON in the environment,
    and the workers share one journal, call counters and scenario (`hookwire.mockserver.store`)."""
    from hookwire.mockserver.store import attach_from_env

    data = json.loads(os.environ[ENV_CONFIG])
    data["models"] = tuple(data.get("models", ()))
    app = _serving_app(MockConfig(**data))
    attach_from_env(app)
    return app


def _serving_app(config: MockConfig) -> MockApp:
    """The app of a serving process, called by uvicorn once its signal handlers are in place
    (that is why both ways of serving go through a factory): arm the shutdown backstop."""
    shutdown.arm()
    return create_app(config)


def serve(config: MockConfig) -> None:
    """Serve in the foreground until SIGINT/SIGTERM (uvicorn shuts down cleanly on both;
    `hookwire.mockserver.shutdown` ends the process if that takes more than a few seconds).
    ``config.server == "granian"``: `hookwire.mockserver.granian_server.serve` instead."""
    if config.server == "granian":
        from hookwire.mockserver.granian_server import serve as serve_granian

        with _shared(config):
            serve_granian(config)
    elif config.workers > 1:
        os.environ[ENV_CONFIG] = json.dumps({**asdict(config), "scenario": _str(config.scenario)})
        with _shared(config):  # removed when uvicorn returns
            uvicorn.run(
                "hookwire.mockserver.server:app_from_env",
                factory=True,
                host=config.host,
                port=config.port,
                workers=config.workers,
                **uvicorn_kwargs(),
            )
    else:
        factory = functools.partial(_serving_app, config)
        uvicorn.run(factory, factory=True, host=config.host, port=config.port, **uvicorn_kwargs())


def _shared(config: MockConfig) -> contextlib.AbstractContextManager[Any]:
    """Many workers, one truth: the store they share (`hookwire.mockserver.store`)."""
    if config.workers < 2:
        return contextlib.nullcontext()
    from hookwire.mockserver.store import shared_store

    return shared_store(config)


def _str(value: Any) -> str | None:
    return None if value is None else str(value)


class LiveServer(ThreadedServer):
    """A mock server for `config` on a free loopback port, in a background thread.

    >>> with LiveServer(MockConfig(dialect="vllm")) as srv:
    ...     httpx.get(srv.url + "/v1/models")

    The port is bound on `start()` (and ``config.port`` is honoured, no environment override);
    ``MockConfig(server="granian")`` serves it with granian.
    """

    port_envvar = secure_port_envvar = None
    bind_early = False

    def __init__(self, config: MockConfig | None = None, app: MockApp | None = None) -> None:
        self.config = config or MockConfig()
        app = app or create_app(self.config)
        config = self.config
        super().__init__(app, config.host, config.port, server=config.server)

    def join(self, path: str) -> str:  # type: ignore[override]
        return ServerURL.join(self, path)

    def __str__(self) -> str:
        return self.url

    def __repr__(self) -> str:
        return f"<LiveServer {self.url} dialect={self.config.dialect}>"
