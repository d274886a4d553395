"""Running the app: `serve(config)` in the foreground, `LiveServer` in a background thread.

`LiveServer` binds its own socket on 127.0.0.1 port 0 before uvicorn starts, so the port is
known without a race and two test sessions never collide.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import threading
import time
from dataclasses import asdict
from types import TracebackType
from typing import Any

import uvicorn

from mockserver.app import MockApp, create_app
from mockserver.config import MockConfig
from mockserver.journal import Journal

ENV_CONFIG = "MOCKSERVER_CONFIG_JSON"


def _loop() -> str:
    try:
        import uvloop  # noqa: F401
    except ImportError:  # pragma: no cover - uvloop is absent on Windows
        return "asyncio"
    return "uvloop"


def uvicorn_kwargs() -> dict[str, Any]:
    """The settings every mock server (and the benchmark's peers) runs with."""
    return {
        "loop": _loop(),
        "http": "httptools",
        "lifespan": "on",
        "access_log": False,
        "log_level": "warning",
        "timeout_graceful_shutdown": 2,
    }


def app_from_env() -> MockApp:
    """Factory for uvicorn worker processes: the config travels as JSON in the environment."""
    data = json.loads(os.environ[ENV_CONFIG])
    data["models"] = tuple(data.get("models", ()))
    return create_app(MockConfig(**data))


def serve(config: MockConfig) -> None:
    """Serve in the foreground until SIGINT/SIGTERM (uvicorn shuts down cleanly on both)."""
    if config.workers > 1:
        os.environ[ENV_CONFIG] = json.dumps({**asdict(config), "scenario": _str(config.scenario)})
        uvicorn.run(
            "mockserver.server:app_from_env",
            factory=True,
            host=config.host,
            port=config.port,
            workers=config.workers,
            **uvicorn_kwargs(),
        )
    else:
        uvicorn.run(create_app(config), host=config.host, port=config.port, **uvicorn_kwargs())


def _str(value: Any) -> str | None:
    return None if value is None else str(value)


class LiveServer:
    """A mock server on a free loopback port, in a background thread.

    >>> with LiveServer(MockConfig(dialect="vllm")) as srv:
    ...     httpx.get(srv.url + "/v1/models")
    """

    def __init__(self, config: MockConfig | None = None, app: MockApp | None = None) -> None:
        self.config = config or MockConfig()
        self.app = app or create_app(self.config)
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self.host = self.config.host
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def openai_base_url(self) -> str:
        return self.url + "/v1"

    @property
    def journal(self) -> Journal:
        return self.app.journal

    def join(self, path: str) -> str:
        return self.url + "/" + path.lstrip("/")

    def __add__(self, other: str) -> str:
        return self.url + other

    def __str__(self) -> str:
        return self.url

    def __repr__(self) -> str:
        return f"<LiveServer {self.url} dialect={self.config.dialect}>"

    def reset(self) -> None:
        self.app.reset()

    def start(self, timeout: float = 10.0) -> LiveServer:
        if self._thread is not None:
            raise RuntimeError("LiveServer already started")
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self.config.host, self.config.port))
        self.port = sock.getsockname()[1]
        cfg = uvicorn.Config(self.app, **uvicorn_kwargs())
        self._server = uvicorn.Server(cfg)
        self._thread = threading.Thread(
            target=self._server.run,
            kwargs={"sockets": [sock]},
            name=f"mockserver-{self.port}",
            daemon=True,
        )
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                sock.close()
                raise RuntimeError(f"mock server did not start on {self.url}")
            time.sleep(0.005)
        self._sock = sock
        return self

    def stop(self, timeout: float = 10.0) -> None:
        if self._server is None or self._thread is None:
            return
        self._server.should_exit = True
        self._thread.join(timeout)
        with contextlib.suppress(OSError):
            self._sock.close()
        if self._thread.is_alive():  # pragma: no cover - uvicorn exits within its grace period
            self._server.force_exit = True
            self._thread.join(timeout)
        self._server = self._thread = None

    def __enter__(self) -> LiveServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
