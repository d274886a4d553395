"""One way to serve an ASGI app from a background thread: uvicorn (or granian) on loopback.

Every threaded server of the package is a `ThreadedServer`: the pytest-httpbin drop-ins use it
as is, `hookwire.mockserver.server.LiveServer` adds a `MockConfig`. What it guarantees:

- the socket is bound by us before uvicorn starts (127.0.0.1, port 0 by default), so the port
  is known without a race and two test sessions never collide;
- ``ssl_certfile``/``ssl_keyfile`` switch it to https (``protocol`` follows); ``ssl_ca_certs``
  with ``ssl_cert_reqs=ssl.CERT_REQUIRED`` makes it demand a client certificate (mutual TLS);
- ``start()`` returns only once uvicorn accepts connections, or raises `ServerStartError`
  naming the URL and the cause (bad TLS files, a crashed lifespan, the timeout);
- ``stop()`` may be called any number of times; it joins the thread, closes the socket, and a
  later ``start()`` binds afresh;
- ``server="granian"`` serves with granian instead (``hookwire.mockserver.granian_server``;
  optional, ``pip install 'hookwire[granian]'``): same surface, TLS and mutual TLS included.
  granian binds its own socket, so the port found as above is handed over: our socket closes
  just before granian binds the same address.

`ServerURL` is the address surface shared with the in-process stand-in
(`hookwire.mockserver.testing.InProcessServer`): ``join``, ``+``, ``openai_base_url``, ``journal``,
``reset()``. Extend it by providing ``url`` and ``app``.
"""

from __future__ import annotations

import contextlib
import os
import socket
import threading
import time
from types import TracebackType
from typing import Any, TypeVar
from urllib.parse import urljoin

import uvicorn

_S = TypeVar("_S", bound="ThreadedServer")
_CERT_REQUIRED = 2  # ssl.CERT_REQUIRED, without importing ssl for it

__all__ = [
    "SERVERS",
    "ServerStartError",
    "ServerURL",
    "ThreadedServer",
    "default_app",
    "uvicorn_kwargs",
]

SERVERS = ("uvicorn", "granian")


class ServerStartError(RuntimeError):
    """The background server did not come up (port taken, bad TLS files, crashed app...)."""


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


def default_app() -> Any:
    """The complete mock server (openai dialect): what the httpbin fixtures serve."""
    from hookwire.mockserver.app import create_app
    from hookwire.mockserver.config import MockConfig

    return create_app(MockConfig())


class ServerURL:
    """Address helpers over ``url`` (no trailing slash) and the served ``app``."""

    app: Any

    @property
    def url(self) -> str:
        raise NotImplementedError

    @property
    def openai_base_url(self) -> str:
        return self.url + "/v1"

    @property
    def journal(self) -> Any:
        """The mock app's `Journal` (requests it received)."""
        return self.app.journal

    def join(self, path: str) -> str:
        """``url + "/" + path`` with exactly one slash between them."""
        return self.url + "/" + path.lstrip("/")

    def __add__(self, other: str) -> str:
        return self.url + other

    def reset(self) -> None:
        """Forget the journal and the per-session call counters."""
        self.app.reset()


class ThreadedServer(ServerURL):
    """uvicorn serving ``app`` from a daemon thread, as pytest-httpbin's ``Server`` object.

    The socket is bound at construction (``port`` is known before ``start()``), and the
    ``HTTPBIN_HTTP_PORT``/``HTTPBIN_HTTPS_PORT`` variables pin the port as in pytest-httpbin.
    ``join`` is ``urljoin`` there too. Subclasses set ``bind_early = False`` and the port
    variables to ``None`` to bind only on ``start()``.
    """

    port_envvar: str | None = "HTTPBIN_HTTP_PORT"
    secure_port_envvar: str | None = "HTTPBIN_HTTPS_PORT"
    bind_early = True

    def __init__(
        self,
        app: Any = None,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        ssl_certfile: str | None = None,
        ssl_keyfile: str | None = None,
        ssl_ca_certs: str | None = None,
        ssl_cert_reqs: int | None = None,
        startup_timeout: float = 10.0,
        server: str = "uvicorn",
    ) -> None:
        if server not in SERVERS:
            raise ValueError(f"server must be one of {', '.join(SERVERS)}, not {server!r}")
        if server == "granian":
            from hookwire.mockserver.granian_server import _require

            _require()
        self.server_name = server
        self.app = app if app is not None else default_app()
        self.protocol = "https" if ssl_certfile else "http"
        envvar = self.secure_port_envvar if ssl_certfile else self.port_envvar
        if envvar is not None and envvar in os.environ:
            port = int(os.environ[envvar])
        self.host = host
        self.port = 0
        self._requested = (host, port)
        self._ssl: dict[str, Any] = {"ssl_certfile": ssl_certfile, "ssl_keyfile": ssl_keyfile}
        if ssl_ca_certs is not None:
            self._ssl["ssl_ca_certs"] = ssl_ca_certs
        if ssl_cert_reqs is not None:
            self._ssl["ssl_cert_reqs"] = ssl_cert_reqs
        self._startup_timeout = startup_timeout
        self._socket: socket.socket | None = None
        self._server: uvicorn.Server | None = None
        self._granian: Any = None
        self._thread: threading.Thread | None = None
        self._error: BaseException | None = None
        if self.bind_early:
            self._bind()

    @property
    def url(self) -> str:
        """``http(s)://HOST:PORT`` with no trailing slash."""
        return f"{self.protocol}://{self.host}:{self.port}"

    def join(self, url: str, allow_fragments: bool = True) -> str:
        """``urljoin(self.url, url)``, as pytest-httpbin."""
        return urljoin(self.url, url, allow_fragments=allow_fragments)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.url}>"

    def _bind(self) -> socket.socket:
        if self._socket is None:
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                sock.bind(self._requested)
            except OSError as exc:
                sock.close()
                host, port = self._requested
                raise ServerStartError(f"cannot bind {host}:{port}: {exc}") from exc
            self.host, self.port = sock.getsockname()[:2]
            self._socket = sock
        return self._socket

    def _run(self, server: uvicorn.Server, sock: socket.socket) -> None:
        try:
            server.run(sockets=[sock])
        except BaseException as exc:  # reported to the starting thread
            self._error = exc

    def start(self: _S, timeout: float | None = None) -> _S:
        """Start serving; returns ``self`` once the server accepts connections."""
        if self._thread is not None:
            raise RuntimeError(f"{type(self).__name__} already started")
        if self.server_name == "granian":
            return self._start_granian(timeout)
        sock = self._bind()
        # lifespan "auto": an app without lifespan support (a user's own) still starts.
        settings = {**uvicorn_kwargs(), "lifespan": "auto", "ws": "none", **self._ssl}
        config = uvicorn.Config(self.app, **settings)
        self._server = server = uvicorn.Server(config)
        self._error = None
        self._thread = threading.Thread(
            target=self._run, args=(server, sock), name=f"mockserver {self.url}", daemon=True
        )
        self._thread.start()
        limit = self._startup_timeout if timeout is None else timeout
        deadline = time.monotonic() + limit
        while not server.started:
            if not self._thread.is_alive():
                url, error = self.url, self._error
                self.stop()
                cause = f"failed: {error!r}" if error else "exited before it started (see its log)"
                raise ServerStartError(f"server for {url} {cause}")
            if time.monotonic() > deadline:
                url = self.url
                self.stop()
                raise ServerStartError(f"server for {url} not up within {limit}s")
            time.sleep(0.005)
        return self

    def _start_granian(self: _S, timeout: float | None) -> _S:
        from hookwire.mockserver.granian_server import GranianThread

        sock = self._bind()
        self._socket = None
        sock.close()  # granian binds the port itself (see the module docstring)
        ssl = self._ssl
        self._granian = runner = GranianThread(
            self.app,
            self.host,
            self.port,
            ssl_certfile=ssl["ssl_certfile"],
            ssl_keyfile=ssl["ssl_keyfile"],
            ssl_ca_certs=ssl.get("ssl_ca_certs"),
            client_verify=ssl.get("ssl_cert_reqs") == _CERT_REQUIRED,
        )
        self._thread = runner.start(f"mockserver granian {self.url}")
        limit = self._startup_timeout if timeout is None else timeout
        if not runner.wait_started(time.monotonic() + limit):
            url, error = self.url, runner.error
            self.stop()
            cause = f"failed: {error!r}" if error else f"not up within {limit}s"
            raise ServerStartError(f"granian server for {url} {cause}")
        return self

    def stop(self, timeout: float = 10.0) -> None:
        """Stop serving, join the thread and close the socket (idempotent)."""
        granian, self._granian = self._granian, None
        if granian is not None:
            self._thread = None
            granian.stop(timeout)
        server, thread, sock = self._server, self._thread, self._socket
        self._server = self._thread = self._socket = None
        if server is not None and thread is not None:
            server.should_exit = True
            thread.join(timeout)
            if thread.is_alive():  # pragma: no cover - uvicorn exits within its grace period
                server.force_exit = True
                thread.join(timeout)
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.close()

    def __enter__(self: _S) -> _S:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
