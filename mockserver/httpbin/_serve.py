"""Run an ASGI app under uvicorn in a background thread on a loopback port, optionally TLS.

This is the engine behind the pytest-httpbin compatible fixtures. The object mirrors
pytest-httpbin's ``Server`` (``url``, ``host``, ``port``, ``protocol``, ``join``, ``+``, ``app``,
``start``/``stop``, context manager, ``HTTPBIN_HTTP_PORT``/``HTTPBIN_HTTPS_PORT`` to pin the port)
but serves with uvicorn, so one server handles keep-alive, concurrency and streaming properly.
"""

from __future__ import annotations

import asyncio
import os
import socket
import threading
import time
from types import TracebackType
from typing import Any
from urllib.parse import urljoin

import uvicorn

__all__ = ["ServerStartError", "ThreadedServer", "default_app"]


class ServerStartError(RuntimeError):
    """The background server did not come up (port taken, bad TLS files, crashed app...)."""


def default_app() -> Any:
    """The complete mock server when it is importable, else the httpbin routes alone."""
    try:
        from mockserver.app import create_app
        from mockserver.config import MockConfig
    except ImportError:
        from mockserver.httpbin import build_app

        return build_app()
    return create_app(MockConfig())


class ThreadedServer:
    """uvicorn serving ``app`` from a daemon thread. ``ssl_certfile``/``ssl_keyfile`` -> https."""

    port_envvar = "HTTPBIN_HTTP_PORT"

    def __init__(
        self,
        app: Any = None,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        ssl_certfile: str | None = None,
        ssl_keyfile: str | None = None,
        startup_timeout: float = 10.0,
    ) -> None:
        self.app = app if app is not None else default_app()
        self.protocol = "https" if ssl_certfile else "http"
        envvar = "HTTPBIN_HTTPS_PORT" if ssl_certfile else self.port_envvar
        if envvar in os.environ:
            port = int(os.environ[envvar])
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            self._socket.bind((host, port))
        except OSError as exc:
            self._socket.close()
            raise ServerStartError(f"cannot bind {host}:{port}: {exc}") from exc
        self.host, self.port = self._socket.getsockname()[:2]
        self._config = uvicorn.Config(
            self.app,
            log_level="warning",
            access_log=False,
            lifespan="auto",
            ws="none",
            ssl_certfile=ssl_certfile,
            ssl_keyfile=ssl_keyfile,
            timeout_graceful_shutdown=1,
        )
        self._server = uvicorn.Server(self._config)
        self._thread: threading.Thread | None = None
        self._startup_timeout = startup_timeout
        self._error: BaseException | None = None

    @property
    def url(self) -> str:
        """``http(s)://127.0.0.1:PORT`` with no trailing slash."""
        return f"{self.protocol}://{self.host}:{self.port}"

    def join(self, url: str, allow_fragments: bool = True) -> str:
        """``urljoin(self.url, url)``, as pytest-httpbin."""
        return urljoin(self.url, url, allow_fragments=allow_fragments)

    def __add__(self, other: str) -> str:
        return self.url + other

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.url}>"

    def _run(self) -> None:
        try:
            asyncio.run(self._server.serve(sockets=[self._socket]))
        except BaseException as exc:  # reported to the starting thread
            self._error = exc

    def start(self) -> None:
        """Start serving; returns once the server accepts connections."""
        if self._thread is not None:
            raise RuntimeError("server already started")
        self._thread = threading.Thread(
            target=self._run, name=f"mockserver {self.url}", daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + self._startup_timeout
        while not self._server.started:
            if self._error is not None or not self._thread.is_alive():
                self._socket.close()
                raise ServerStartError(f"server for {self.url} failed: {self._error!r}")
            if time.monotonic() > deadline:
                self.stop()
                raise ServerStartError(f"server for {self.url} not up in {self._startup_timeout}s")
            time.sleep(0.005)

    def stop(self) -> None:
        """Stop serving and join the thread (idempotent)."""
        self._server.should_exit = True
        if self._thread is not None and self._thread.is_alive():
            self._thread.join(timeout=5)
        self._socket.close()

    def __enter__(self) -> ThreadedServer:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
